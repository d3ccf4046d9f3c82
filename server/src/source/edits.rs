//! [`Edits`]: the recent changes of one series held in memory, so that a reader who
//! read it before can read again only what changed: each change is numbered, with the
//! earliest time it touched. A reader keeps the [`EditMark`] of what it read; the
//! series tells it how far back anything changed since.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use render_core::Timestamp;

/// How many changes a series remembers: a reader more changes behind reads it whole.
const KEPT: usize = 8;

/// Numbers no two series' edit logs share, so a mark of one series (or of a series
/// replaced by a reload) never passes for another's.
static NEXT_LOG: AtomicU64 = AtomicU64::new(1);

/// A series' change log.
#[derive(Debug)]
pub struct Edits {
    log: u64,
    /// Changes so far.
    count: u64,
    /// The latest changes: (number, earliest time touched), oldest first.
    recent: VecDeque<(u64, Timestamp)>,
}

/// Where a reader is in a series' change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditMark {
    log: u64,
    count: u64,
}

impl EditMark {
    /// The change log this is a mark of.
    pub fn log(&self) -> u64 {
        self.log
    }
}

impl Default for Edits {
    fn default() -> Edits {
        Edits {
            log: NEXT_LOG.fetch_add(1, Ordering::Relaxed),
            count: 0,
            recent: VecDeque::with_capacity(KEPT),
        }
    }
}

impl Edits {
    /// Records a change that touched nothing before `earliest`.
    pub fn record(&mut self, earliest: Timestamp) {
        self.count += 1;
        if self.recent.len() == KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back((self.count, earliest));
    }

    /// Where the log is now.
    pub fn mark(&self) -> EditMark {
        EditMark {
            log: self.log,
            count: self.count,
        }
    }

    /// The earliest time changed since `mark` (`Timestamp::MAX` when nothing was), or
    /// `None` when that is not known: a mark of another log, or more changes ago than
    /// are remembered.
    pub fn changed_since(&self, mark: &EditMark) -> Option<Timestamp> {
        if mark.log != self.log || mark.count > self.count {
            return None;
        }
        let behind = usize::try_from(self.count - mark.count).ok()?;
        if behind > self.recent.len() {
            return None;
        }
        Some(
            self.recent
                .iter()
                .rev()
                .take(behind)
                .map(|(_, t)| *t)
                .min()
                .unwrap_or(Timestamp::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_tells_the_earliest_change_since_while_it_is_remembered() {
        let mut edits = Edits::default();
        let start = edits.mark();
        assert_eq!(edits.changed_since(&start), Some(Timestamp::MAX));
        edits.record(50);
        edits.record(20);
        let after_two = edits.mark();
        edits.record(70);
        assert_eq!(edits.changed_since(&start), Some(20));
        assert_eq!(edits.changed_since(&after_two), Some(70));
        assert_eq!(edits.changed_since(&edits.mark()), Some(Timestamp::MAX));
        for t in 0..KEPT as i64 {
            edits.record(100 + t);
        }
        // More changes than remembered since the start: unknown.
        assert_eq!(edits.changed_since(&start), None);
        assert_eq!(edits.changed_since(&after_two), None);
        // Another series' mark.
        assert_eq!(Edits::default().changed_since(&edits.mark()), None);
    }
}
