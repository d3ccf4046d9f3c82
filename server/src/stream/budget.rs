//! The length budget announced after each frame (see `docs/STREAMING.md`): the frame's
//! size plus twice the largest growth from one frame to the next among the chart's
//! recent frames, so the next frame almost always fits with little padding. A frame
//! that does not fit costs a repeat and a fresh part (`stream/viewer.rs`), so the
//! margin follows how much the sizes actually grow.

use std::collections::VecDeque;

/// How many recent frame sizes the budget looks at.
const RECENT: usize = 16;
/// Least margin in bytes (room for a few more changed blocks, and always enough for a
/// COM segment).
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
        let largest_growth = self
            .sizes
            .iter()
            .zip(self.sizes.iter().skip(1))
            .map(|(a, b)| b.saturating_sub(*a))
            .max();
        // A first frame has no history: allow it an eighth to grow.
        let margin = largest_growth.map_or(len / 8, |growth| 2 * growth);
        len + margin.max(MIN_MARGIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_sizes_get_a_tight_budget_and_growth_widens_it() {
        let mut budget = Budget::default();
        assert_eq!(budget.after(80_000), 90_000, "no history: an eighth");
        assert_eq!(budget.after(80_100), 80_100 + 200);
        // Shrinking frames do not widen the margin.
        assert_eq!(budget.after(79_000), 79_000 + 200);
        // Unchanged sizes: the least margin once the growth left the window.
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
