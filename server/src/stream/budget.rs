//! The length budget announced after each frame (see `docs/STREAMING.md`): the largest
//! of the chart's recent frame sizes plus a margin as large as twice their largest
//! frame-to-frame change, so the next frame almost always fits with little padding.
//! A frame that does not fit costs a repeat and a fresh part (`stream/viewer.rs`), so
//! the margin follows how much the sizes actually move.

use std::collections::VecDeque;

/// How many recent frame sizes the budget looks at.
const RECENT: usize = 16;
/// Least margin in bytes (room for a few more changed blocks).
const MIN_MARGIN: usize = 128;

/// Recent frame sizes of one chart's stream.
#[derive(Debug, Default)]
pub struct Budget {
    sizes: VecDeque<usize>,
}

impl Budget {
    /// Records a frame of `len` bytes and returns the length to announce for the next.
    pub fn after(&mut self, len: usize) -> usize {
        if self.sizes.len() == RECENT {
            self.sizes.pop_front();
        }
        self.sizes.push_back(len);
        let largest = self.sizes.iter().copied().max().unwrap_or(len);
        let largest_change = self
            .sizes
            .iter()
            .zip(self.sizes.iter().skip(1))
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        // A first frame has no history: allow it an eighth to grow.
        let margin = if self.sizes.len() == 1 {
            len / 8
        } else {
            2 * largest_change
        };
        largest + margin.max(MIN_MARGIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_sizes_get_a_tight_budget_and_a_jump_widens_it() {
        let mut budget = Budget::default();
        assert_eq!(budget.after(80_000), 90_000, "no history: an eighth");
        assert_eq!(budget.after(80_100), 80_100 + 200);
        assert_eq!(budget.after(80_050), 80_100 + 200);
        // Unchanged sizes: the least margin once the changes left the window.
        for _ in 0..RECENT {
            budget.after(80_000);
        }
        assert_eq!(budget.after(80_000), 80_000 + MIN_MARGIN);
        // A jump of 4 KB: the budget covers it and another like it.
        assert_eq!(budget.after(84_000), 84_000 + 8_000);
    }

    #[test]
    fn the_budget_always_leaves_room_for_padding() {
        let mut budget = Budget::default();
        for len in [10, 5_000, 4_990, 4_990, 70_000, 100, 100] {
            let announced = budget.after(len);
            assert!(announced >= len + MIN_MARGIN, "{announced} after {len}");
        }
    }
}
