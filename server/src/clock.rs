//! The server's one clock: every "now" (render times, default timestamps of writes,
//! signatures, retention) comes from a [`Clock`] the state was opened with.
//!
//! Production uses the system's wall clock. Tests can pass [`Clock::tokio`], which
//! starts at the wall clock and then follows tokio's clock, so a test on paused time
//! (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) moves the server's
//! "now" and its timers together, without waiting.

/// A source of "now".
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// The wall-clock time at `origin`, plus tokio's time elapsed since then.
    Tokio {
        /// Milliseconds since the epoch at `origin`.
        origin_ms: i64,
        /// tokio's instant it was created.
        origin: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that follows tokio's time (paused or not) from now on.
    pub fn tokio() -> Clock {
        Clock::Tokio {
            origin_ms: wall_ms(),
            origin: tokio::time::Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch, now.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => wall_ms(),
            Clock::Tokio { origin_ms, origin } => {
                let elapsed = i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX);
                origin_ms.saturating_add(elapsed)
            }
        }
    }
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_moves_with_paused_time() {
        let clock = Clock::tokio();
        let start = clock.now_ms();
        tokio::time::advance(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now_ms() - start, 3_600_000);
    }
}
