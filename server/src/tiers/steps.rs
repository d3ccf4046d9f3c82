//! The ladder of tiers: their steps, which one a resolution reads ([`choose`]), and
//! how long each is kept ([`TierConfig`]); the reasons are in the module docs of
//! `tiers`.

/// Number of tiers.
pub const TIERS: usize = 5;

/// Index into the ladder: 0 is the finest tier.
pub type Tier = usize;

/// Bucket width of each tier, ms, finest first; each divides the next.
pub const STEPS_MS: [i64; TIERS] = [10_000, 60_000, 300_000, 1_800_000, 10_800_000];

const DAY_MS: i64 = 86_400_000;

/// The coarsest tier whose step is at most `resolution_ms` (time per pixel column);
/// `None` means raw points.
pub fn choose(resolution_ms: i64) -> Option<Tier> {
    STEPS_MS.iter().rposition(|&step| step <= resolution_ms)
}

/// How long tiers are kept, in SQLite and in memory. [`Default`] is the documented
/// ladder (module docs); every field can be overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierConfig {
    /// How long the store keeps raw points, ms (the server's `retention`): buckets whose
    /// raw points may have been pruned are never recomputed from them.
    pub raw_retention_ms: i64,
    /// How long SQLite keeps each tier's buckets, ms. Keep it non-decreasing from tier
    /// to tier, and tier 0 at least as long as raw points: a bucket is recomputed
    /// exactly only while its source (raw points, the tier below) still holds its range.
    pub retention_ms: [i64; TIERS],
    /// How far back [`SeriesTiers`] holds each tier's buckets, ms (0: none).
    pub memory_ms: [i64; TIERS],
}

impl Default for TierConfig {
    fn default() -> TierConfig {
        TierConfig {
            raw_retention_ms: 7 * DAY_MS,
            retention_ms: [
                7 * DAY_MS,
                7 * DAY_MS,
                42 * DAY_MS,
                250 * DAY_MS,
                400 * DAY_MS,
            ],
            // The window a tier serves at most on a 1,000-px plot: the next step × 1,000;
            // for the coarsest, the renderer's window cap (366 days).
            memory_ms: [
                STEPS_MS[1] * 1_000,
                STEPS_MS[2] * 1_000,
                STEPS_MS[3] * 1_000,
                STEPS_MS[4] * 1_000,
                366 * DAY_MS,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_picks_the_coarsest_step_within_the_resolution() {
        assert_eq!(choose(9_999), None);
        assert_eq!(choose(10_000), Some(0));
        assert_eq!(choose(59_999), Some(0));
        assert_eq!(choose(30 * DAY_MS / 800), Some(3));
        assert_eq!(choose(400 * DAY_MS / 800), Some(4));
        // Every resolution the ladder covers is within 6× of its tier's step.
        for resolution in (10_000..18 * 3_600_000).step_by(7_919) {
            let tier = choose(resolution).expect("a tier");
            assert!(resolution < 6 * STEPS_MS[tier], "{resolution}");
        }
        assert!(STEPS_MS.windows(2).all(|w| w[1] % w[0] == 0));
    }

    #[test]
    fn default_retention_keeps_coarser_tiers_longer_and_outlives_raw_points() {
        let config = TierConfig::default();
        assert!(config.retention_ms.windows(2).all(|w| w[0] <= w[1]));
        assert!(config.retention_ms[0] >= config.raw_retention_ms);
        assert!(config.retention_ms[TIERS - 1] >= 400 * DAY_MS);
        let buckets: i64 = (0..TIERS)
            .map(|t| config.memory_ms[t] / STEPS_MS[t] + 1)
            .sum();
        assert_eq!(buckets, 6_001 + 5_001 + 6_001 + 6_001 + 2_929);
    }
}
