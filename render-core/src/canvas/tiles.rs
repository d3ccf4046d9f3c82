//! Coverage tiles: [`TILE`]×[`TILE`] alpha bytes of one cache line, and the plain
//! integer and float steps between a pixel's distance from a line and its blended
//! colour (the alpha of a coverage, turning a tile's columns into rows and back, the
//! blend of a tile's row). Used by the canvas only; uses nothing of it.

use crate::color::Rgba;

/// Side of a coverage tile in pixels: 8×8 one-byte coverages are one 64-byte cache line.
pub(super) const TILE: usize = 8;

/// The alpha `Canvas::blend_pixel` gives an opaque colour at the coverage of a pixel whose
/// centre is `distance` from a line reaching `reach`: `min(reach − distance, 1) × 255`,
/// rounded (0 outside the reach). The `min` as a comparison: the same value (also for
/// NaN, which it makes 1), without `f32::min`'s NaN handling.
///
/// The value `v` to truncate is in 0..=255.5, and it is truncated without `as`, whose
/// saturation keeps the compiler from turning a loop of these into vector code: `v +
/// 2²³` is exact and holds `v` rounded to the nearest integer in its low bits, one too
/// many where that rounded up. The same bytes as `(v as u8)` (test
/// `coverage_alpha_truncates_as_a_cast_would`).
pub(super) fn coverage_alpha(reach: f32, distance: f32) -> u8 {
    const TWO_TO_23: f32 = 8_388_608.0;
    let coverage = reach - distance;
    let coverage = if coverage < 1.0 { coverage } else { 1.0 };
    let v = coverage * 255.0 + 0.5;
    let v = if v > 0.0 { v } else { 0.0 };
    let shifted = v + TWO_TO_23;
    let nearest = shifted.to_bits().wrapping_sub(TWO_TO_23.to_bits());
    let rounded_up = if shifted - TWO_TO_23 > v { u32::MAX } else { 0 };
    nearest.wrapping_add(rounded_up) as u8
}

/// The rows of a coverage tile from its columns: byte `r` of `columns[c]` (row `r` of
/// column `c`) becomes byte `c` of row `r`. Three rounds of swapping blocks of half the
/// size (4×4, 2×2, single bytes) between words, as plain integer operations.
pub(super) fn transpose_tile(mut words: [u64; TILE]) -> [u64; TILE] {
    for (shift, mask) in [
        (32, 0x0000_0000_FFFF_FFFFu64),
        (16, 0x0000_FFFF_0000_FFFF),
        (8, 0x00FF_00FF_00FF_00FF),
    ] {
        let distance = shift / 8;
        for i in (0..TILE).filter(|i| i & distance == 0) {
            let swapped = ((words[i] >> shift) ^ words[i + distance]) & mask;
            words[i] ^= swapped << shift;
            words[i + distance] ^= swapped;
        }
    }
    words
}

/// The columns of a 4 × 4 block of bytes from its rows (byte `c` of `rows[r]` becomes
/// byte `r` of column `c`), as [`transpose_tile`] does for a tile.
pub(super) fn transpose_block(mut words: [u32; 4]) -> [u32; 4] {
    for (shift, mask) in [(16, 0x0000_FFFFu32), (8, 0x00FF_00FF)] {
        let distance = shift / 8;
        for i in (0..4).filter(|i| i & distance == 0) {
            let swapped = ((words[i] >> shift) ^ words[i + distance]) & mask;
            words[i] ^= swapped << shift;
            words[i + distance] ^= swapped;
        }
    }
    words
}

/// The colour of [`blend_row`] per channel of a tile's row of RGBA pixels, opaque
/// (the pixmap is: its alpha channel blends 255 with 255).
pub(super) fn row_sources(color: Rgba) -> [u16; TILE * 4] {
    let source = [color.r, color.g, color.b, 255];
    std::array::from_fn(|i| u16::from(source[i % 4]))
}

/// Blends the colour of `sources` ([`row_sources`]) into the eight RGBA pixels of a
/// tile's row, each at its alpha, as `Canvas::blend_alpha` does pixel by pixel (its
/// formula keeps a pixel at alpha 0 and replaces it at 255) but with no branch per
/// pixel: which pixels a line covers, and which fully, is data the branch predictor
/// cannot guess. The alphas by reference: from memory the compiler spreads them over
/// the channels with a few shuffles (from a register, byte by byte).
pub(super) fn blend_row(
    pixels: &mut [u8; TILE * 4],
    alphas: &[u8; TILE],
    sources: &[u16; TILE * 4],
) {
    // Per channel, so the loop below is the same operation on every byte.
    let channel_alphas: [u8; TILE * 4] = std::array::from_fn(|i| alphas[i / 4]);
    for i in 0..TILE * 4 {
        let alpha = u16::from(channel_alphas[i]);
        let mixed = sources[i] * alpha + u16::from(pixels[i]) * (255 - alpha);
        pixels[i] = ((mixed + 127) / 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_alpha_truncates_as_a_cast_would() {
        let cast = |reach: f32, distance: f32| {
            let coverage = reach - distance;
            let coverage = if coverage < 1.0 { coverage } else { 1.0 };
            (coverage * 255.0 + 0.5) as u8
        };
        // Every 97th bit pattern (all signs, NaNs and infinities among them), and every
        // distance near the reach's edge, where the alpha changes.
        let sampled = (0..=u32::MAX).step_by(97).map(f32::from_bits);
        let near = (0..1 << 22).map(|i| 0.5 + i as f32 / (1 << 20) as f32);
        for distance in sampled.chain(near) {
            for reach in [1.0, 1.5, 2.25, 5.5] {
                assert_eq!(
                    coverage_alpha(reach, distance),
                    cast(reach, distance),
                    "reach {reach}, distance {distance:e}"
                );
            }
        }
    }

    #[test]
    fn transpose_block_turns_rows_into_columns() {
        let rows: [u32; 4] =
            std::array::from_fn(|r| u32::from_le_bytes(std::array::from_fn(|c| (4 * r + c) as u8)));
        for (c, column) in transpose_block(rows).iter().enumerate() {
            let expected: [u8; 4] = std::array::from_fn(|r| (4 * r + c) as u8);
            assert_eq!(column.to_le_bytes(), expected, "column {c}");
        }
    }

    #[test]
    fn transpose_tile_turns_columns_into_rows() {
        // Every byte distinct: byte r of column c is 8c + r + 1.
        let columns: [u64; TILE] = std::array::from_fn(|c| {
            u64::from_le_bytes(std::array::from_fn(|r| (8 * c + r + 1) as u8))
        });
        let rows = transpose_tile(columns);
        for (r, row) in rows.iter().enumerate() {
            let expected: [u8; TILE] = std::array::from_fn(|c| (8 * c + r + 1) as u8);
            assert_eq!(row.to_le_bytes(), expected, "row {r}");
        }
    }
}
