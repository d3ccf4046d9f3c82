//! Tiers (rollups) for long windows: per series, buckets of first/min/max/last (and
//! count/sum for averages) at five coarser steps, persisted in SQLite next to the raw
//! points and held in memory for the charts, so a "last 90 days" chart neither reads
//! 90 days of raw points nor needs them kept.
//!
//! # The ladder
//!
//! | tier | step   | SQLite retention | memory horizon |
//! |------|--------|------------------|----------------|
//! | 0    | 10 s   | 7 d              | 16 h 40 min    |
//! | 1    | 1 min  | 7 d              | 3 d 11 h 20 min|
//! | 2    | 5 min  | 42 d             | 20 d 20 h      |
//! | 3    | 30 min | 250 d            | 125 d          |
//! | 4    | 3 h    | 400 d            | 366 d          |
//!
//! (raw points: 7 d, the server's `retention`, pruned by the store.)
//!
//! *Steps*: a panel with `R` ms per pixel column reads the coarsest tier whose step is
//! at most `R` ([`choose`]; raw points below 10 s) for the part of its window no finer
//! panel of the same metric draws (render-core's `ValidSpec::read_plan`). Neighbouring steps differ by at most 6×,
//! so every resolution from 10 s up to 18 h finds a tier within a factor 6 of it: a
//! 30-day window on 800 px (54 min per column) reads 30 min buckets (1.8×), 400 days on
//! 800 px (12 h per column) reads 3 h buckets (4×). Each step divides the next, so a
//! coarse bucket is exactly a run of finer ones, and a frame reads fewer than 6
//! buckets per pixel column per series (never more than the 2,929 3-hour buckets of
//! the 366-day window cap), whatever the window.
//!
//! *SQLite retention* of a tier is the longest window it serves on a 2,000-px plot
//! (`next step × 2,000`: 1.4 d, 6.9 d, 42 d, 250 d), but the finest tiers are kept at
//! least as long as raw points (so that within raw retention every tier is recomputed
//! exactly, see [`sql::apply`]), and the coarsest at least 400 d (longer than the
//! 366-day window cap). No finer tier is kept longer than a coarser one.
//!
//! *Memory horizon* of a tier is the longest window it serves on a 1,000-px plot
//! (`next step × 1,000`; the 3 h tier: the 366-day window cap). [`SeriesTiers`] holds
//! at most `horizon / step + 1` buckets per tier — 6,001, 5,001, 6,001, 6,001 and
//! 2,929 — of 72 bytes: at most 1.9 MB per series with a point every 10 s or more
//! often, fewer for sparser series (a bucket holds at least one point). Memory is
//! bounded by series × these sizes, never by the longest window. Tiers no chart reads
//! can be given a horizon of 0 (nothing held): e.g. 1,000 series on one 30-day chart
//! need only tier 3 for 32 days, 1,537 buckets = 111 KB per series.
//!
//! # Gaps
//!
//! A non-finite point is a gap (the store keeps it as NULL). A bucket counts its gaps;
//! its first and last points keep their value, NaN included, so a gap at a bucket's edge
//! stays where it was, and a bucket of gaps only draws as a gap ([`Bucket`]).
//!
//! # Accuracy: a frame from tiers is the frame from raw points, ±1 pixel column
//!
//! [`points_for_drawing`] emits per bucket its first point, its min and max (in the
//! order that makes the line shortest, at a third and two thirds of the way between
//! first and last, since where they were is not kept) and its last point. With a step at
//! most the time of a pixel column, a bucket spans less than one column, so the line
//! through these points covers the same rows as the line through the raw points, each
//! at most one column to the side: the first and last points and every line between
//! buckets are the raw ones, and inside a bucket both lines run through every value
//! from the bucket's min to its max. M4 in the renderer then keeps per column the same
//! first, min, max and last. Every in-window min and max is drawn, so the value axis,
//! its labels and the grid are the same.
//!
//! *Whole columns, not pixels*: M4 draws a column as the line through its first, min,
//! max and last points, so a value between a column's extremes is inked anywhere across
//! that column, not where its point was — in both frames. A value is thus inked in
//! columns at most one apart, but the two lines' centres may be up to (less than) two
//! pixels apart: e.g. two spikes in one raw column, the shallower one dropped by M4 and
//! crossed by the column's min-to-max line 0.7 px before it, while the tier frame draws
//! it as its bucket's min in the next column, 1.1 px from the raw frame's line. The
//! anti-aliased edge of a 2 px line then reaches a column further in one frame than in
//! the other (`draw::tests::spike_moved_into_the_next_column_stays_within_the_bound`).
//!
//! *The bound*, checked by `draw::tests::frame_from_tiers_matches_frame_from_raw_points`
//! (random walks with spikes and jumps, 0.05 to 200 points per pixel column, windows of
//! 2,000 s to 366 days, black lines on white so a pixel's darkness is its ink): the
//! value axes are equal, and no pixel of either frame is darker by more than 2 grey
//! levels than every pixel of the other frame within ±2 columns and ±1 row — nothing
//! drawn in one frame is missing from the other: its column is at most one to the
//! side, and the second column of slack is the edge of a line whose centre moved by
//! up to 2 px (above). The row of slack is for anti-aliasing: a line's round cap or
//! join that moved sideways by a fraction of a pixel reaches up to ~0.2 px less far up
//! or down (measured in the same row only: up to 49 of 255 levels). Lighter pixels
//! inside solid ink are allowed: two zig-zags through the same points in another order
//! leave different pinholes.
//!
//! Where this bound does not hold, by construction (the test keeps out of these):
//! - a gap strictly inside a bucket ([`Bucket::inner_gaps`]) breaks the line between the
//!   bucket's extremes and its last point, not where it was (within the bucket's columns);
//! - a window start that cuts a bucket: the bucket's min and max are drawn at the first
//!   column even if they were before the window start (at most one step, < 1 column);
//! - pauses without points: the renderer breaks a line at pauses longer than 5× the
//!   median spacing of the points it draws, and four points per bucket are spaced
//!   differently from raw points, so a pause of up to ~2 columns may be a gap in one
//!   frame and not in the other. Longer pauses (≥ 10 steps) are gaps in both, as are
//!   runs of gaps covering whole buckets.
//!
//! # Files
//! - `bucket.rs` — [`Bucket`], [`rollup`], [`merge`], [`coarsen`], [`ladder`].
//! - `draw.rs` — [`points_for_drawing`], [`last_points`] and the frame property test.
//! - `steps.rs` — the ladder: [`STEPS_MS`], [`choose`], [`TierConfig`] (retentions).
//! - `memory.rs` — [`SeriesTiers`], one series' buckets in memory; `split.rs` — each
//!   tier of it as two deques, last points apart (what a values-only read streams).
//! - `sql.rs` — persistence: [`sql::SCHEMA`] (keyed time first), [`sql::migrate`],
//!   [`sql::apply`] / [`sql::apply_batch`], [`sql::load`], [`sql::prune`]; its tests
//!   (and the cost printout of `apply_batch`) in `sql/tests.rs`.

mod bucket;
mod draw;
mod memory;
mod split;
pub mod sql;
mod steps;

pub use bucket::{start_of, Bucket};
#[cfg(test)]
pub(crate) use draw::tests::{ink_missing_nearby, NEARBY};
pub use draw::{last_points, points_for_drawing};
pub use memory::SeriesTiers;
pub use steps::{choose, Tier, TierConfig, STEPS_MS, TIERS};
