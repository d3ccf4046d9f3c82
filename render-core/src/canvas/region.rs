//! Rectangles of whole pixels copied out of RGBA pixel rows and back: how a plot's
//! lines are redrawn only where they changed (`crate::redraw`). Used by the canvas only;
//! uses nothing of it.

use std::ops::Range;

/// Bytes per pixel of the canvas (opaque RGBA).
const PIXEL: usize = 4;

/// A rectangle of whole pixels inside the canvas: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelRect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl PixelRect {
    /// Columns in it.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    /// Bytes of one row of it.
    fn row_bytes(&self) -> usize {
        self.width() * PIXEL
    }

    /// Bytes of a copy of it.
    fn bytes(&self) -> usize {
        self.row_bytes() * (self.y1 - self.y0)
    }
}

/// Brings `copy` (of `rect`'s pixels in `data`, RGBA rows `width` pixels wide, row by
/// row, as an earlier call left it) up to date, and returns the columns (first to last)
/// where it changed; all of them when `copy` was not one of `rect`.
pub(super) fn refresh_copy(
    data: &[u8],
    width: usize,
    rect: PixelRect,
    copy: &mut Vec<u8>,
) -> Option<(usize, usize)> {
    if copy.len() != rect.bytes() {
        copy.clear();
        for row in row_ranges(width, rect) {
            copy.extend_from_slice(&data[row]);
        }
        return (rect.width() > 0).then(|| (rect.x0, rect.x1 - 1));
    }
    let mut changed: Option<(usize, usize)> = None;
    for (row, old) in row_ranges(width, rect).zip(copy.chunks_exact_mut(rect.row_bytes())) {
        let new = &data[row];
        let Some((first, last)) = differing_bytes(new, old) else {
            continue;
        };
        let (first, last) = (rect.x0 + first / PIXEL, rect.x0 + last / PIXEL);
        changed = Some(changed.map_or((first, last), |(lo, hi)| (lo.min(first), hi.max(last))));
        old.copy_from_slice(new);
    }
    changed
}

/// Writes `from` (a copy of `rect`'s pixels, row by row) back into `data` (RGBA rows
/// `width` pixels wide), but for the columns `keep`.
pub(super) fn copy_in_except(
    data: &mut [u8],
    width: usize,
    rect: PixelRect,
    from: &[u8],
    keep: Range<usize>,
) {
    let keep = keep.start.clamp(rect.x0, rect.x1)..keep.end.clamp(rect.x0, rect.x1);
    let (left, right) = ((keep.start - rect.x0) * PIXEL, (keep.end - rect.x0) * PIXEL);
    for (row, source) in row_ranges(width, rect).zip(from.chunks_exact(rect.row_bytes())) {
        let target = &mut data[row];
        target[..left].copy_from_slice(&source[..left]);
        target[right..].copy_from_slice(&source[right..]);
    }
}

/// Copies the pixels of `data` (RGBA rows `width` pixels wide) in the columns `columns`
/// of `rect` into `copy` (of `rect`'s pixels, row by row); all of them when `copy` is
/// not one of `rect`.
pub(super) fn copy_columns_out(
    data: &[u8],
    width: usize,
    rect: PixelRect,
    columns: Range<usize>,
    copy: &mut Vec<u8>,
) {
    let columns = if copy.len() == rect.bytes() {
        columns.start.clamp(rect.x0, rect.x1)..columns.end.clamp(rect.x0, rect.x1)
    } else {
        copy.resize(rect.bytes(), 0);
        rect.x0..rect.x1
    };
    let (left, right) = (
        (columns.start - rect.x0) * PIXEL,
        (columns.end - rect.x0) * PIXEL,
    );
    for (row, target) in row_ranges(width, rect).zip(copy.chunks_exact_mut(rect.row_bytes())) {
        target[left..right].copy_from_slice(&data[row][left..right]);
    }
}

/// The byte ranges of `rect`'s rows in RGBA rows `width` pixels wide.
fn row_ranges(width: usize, rect: PixelRect) -> impl Iterator<Item = Range<usize>> {
    let stride = width * PIXEL;
    (rect.y0..rect.y1).map(move |y| {
        let start = y * stride + rect.x0 * PIXEL;
        start..start + rect.row_bytes()
    })
}

/// The first and the last index at which `a` and `b` (of one length) differ: equal
/// 64-byte blocks are skipped a `memcmp` at a time.
fn differing_bytes(a: &[u8], b: &[u8]) -> Option<(usize, usize)> {
    const BLOCK: usize = 64;
    let blocks = || a.chunks(BLOCK).zip(b.chunks(BLOCK));
    let first_block = blocks().position(|(x, y)| x != y)?;
    let last_block = blocks().rposition(|(x, y)| x != y).unwrap_or(first_block);
    let block = |i: usize| {
        let range = i * BLOCK..(i * BLOCK + BLOCK).min(a.len());
        (range.start, a[range.clone()].iter().zip(&b[range]))
    };
    let (start, mut bytes) = block(first_block);
    let first = start + bytes.position(|(x, y)| x != y).unwrap_or(0);
    let (start, mut bytes) = block(last_block);
    let last = start + bytes.rposition(|(x, y)| x != y).unwrap_or(0);
    Some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blockwise search finds what a byte-by-byte one finds: differences at the
    /// first and the last byte, inside and across 64-byte blocks, rows of any length.
    #[test]
    fn differing_bytes_are_those_a_plain_search_finds() {
        let plain = |a: &[u8], b: &[u8]| {
            let first = a.iter().zip(b).position(|(x, y)| x != y)?;
            let last = a.iter().zip(b).rposition(|(x, y)| x != y)?;
            Some((first, last))
        };
        for len in [0usize, 1, 63, 64, 65, 130, 2_960] {
            let a: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(differing_bytes(&a, &a), None, "{len}");
            let changes: Vec<Vec<usize>> = vec![
                vec![0],
                vec![len.saturating_sub(1)],
                vec![len / 2],
                vec![0, len.saturating_sub(1)],
                vec![len / 3, len / 3 + 1, (2 * len) / 3],
            ];
            for at in changes.iter().filter(|_| len > 0) {
                let mut b = a.clone();
                for &i in at.iter().filter(|&&i| i < len) {
                    b[i] ^= 0x5a;
                }
                assert_eq!(differing_bytes(&a, &b), plain(&a, &b), "{len} {at:?}");
            }
        }
    }
}
