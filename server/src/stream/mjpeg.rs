//! The MJPEG wire format: boundary, part header blocks, JPEG padding, and [`Part`] —
//! one frame's wire state, shared by every viewer.
//!
//! Chromium shows part N only once the header block of part N+1 has arrived
//! (crbug 527446). So right after each JPEG we send the boundary and the header block
//! of the *next* part, announcing a length budget (`Content-Length`) a little larger
//! than the recent frames (`stream/budget.rs`). The next frame is padded to exactly that budget with JPEG
//! comment (`COM`) segments, which every decoder skips. When it does not fit (or a
//! slow viewer skipped frames), the announced part is filled with a padded repeat of
//! the frame the viewer already shows, followed by a complete fresh part. See
//! `docs/STREAMING.md`.

use bytes::Bytes;

/// The multipart boundary (no leading dashes: several clients break on them).
pub const BOUNDARY: &str = "plotcastframe";

/// The response `Content-Type` of a stream.
pub fn content_type() -> String {
    format!("multipart/x-mixed-replace; boundary={BOUNDARY}")
}

/// The first boundary of a response body.
pub const FIRST_BOUNDARY: &[u8] = b"--plotcastframe\r\n";
/// The boundary between two parts (after a part's body).
pub const NEXT_BOUNDARY: &[u8] = b"\r\n--plotcastframe\r\n";
/// The closing boundary of a body that ends.
pub const CLOSING_BOUNDARY: &[u8] = b"\r\n--plotcastframe--\r\n";

/// The header block of one part, ending in the blank line.
pub fn part_header(content_length: usize, timestamp_ms: i64) -> Bytes {
    let secs = timestamp_ms.div_euclid(1000);
    let millis = timestamp_ms.rem_euclid(1000);
    Bytes::from(format!(
        "Content-Type: image/jpeg\r\nContent-Length: {content_length}\r\nX-Timestamp: {secs}.{millis:03}\r\n\r\n"
    ))
}

/// Smallest JPEG COM segment: marker (2) + length (2).
const MIN_SEGMENT: usize = 4;
/// Largest JPEG COM segment: marker (2) + length field value 65535.
const MAX_SEGMENT: usize = 2 + 65_535;

/// `jpeg` padded to exactly `target` bytes with COM segments placed after the JFIF
/// header (or after SOI), or `None` if it cannot be (too big, or the padding would be
/// 1..=3 bytes, or this is not a JPEG).
pub fn pad_jpeg(jpeg: &[u8], target: usize) -> Option<Vec<u8>> {
    if jpeg.len() < 4 || jpeg[0..2] != [0xFF, 0xD8] {
        return None;
    }
    let padding = target.checked_sub(jpeg.len())?;
    if padding > 0 && padding < MIN_SEGMENT {
        return None;
    }
    let mut insert_at = 2;
    if jpeg[2..4] == [0xFF, 0xE0] && jpeg.len() >= 6 {
        let app0 = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        if 4 + app0 <= jpeg.len() {
            insert_at = 4 + app0;
        }
    }
    let mut out = Vec::with_capacity(target);
    out.extend_from_slice(&jpeg[..insert_at]);
    let mut rest = padding;
    while rest > 0 {
        let mut segment = rest.min(MAX_SEGMENT);
        if rest > segment && rest - segment < MIN_SEGMENT {
            segment -= MIN_SEGMENT;
        }
        let length = u16::try_from(segment - 2).ok()?;
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&length.to_be_bytes());
        out.resize(out.len() + segment - MIN_SEGMENT, b' ');
        rest -= segment;
    }
    out.extend_from_slice(&jpeg[insert_at..]);
    Some(out)
}

/// One encoded frame, ready for the wire. Every field is shared by all viewers.
#[derive(Debug)]
pub struct Part {
    /// Frame number, increasing per chart.
    pub seq: u64,
    /// When the frame was drawn, ms since the epoch.
    pub time_ms: i64,
    /// The JPEG as encoded.
    pub jpeg: Bytes,
    /// Header block with the JPEG's exact length (for a part that starts fresh).
    pub header: Bytes,
    /// The JPEG padded to the budget announced after frame `seq - 1`, if it fits.
    pub cont: Option<Bytes>,
    /// The JPEG padded to [`Part::budget`]: fills an announced part with this frame again.
    pub repeat: Bytes,
    /// Header block announcing a part of [`Part::budget`] bytes (sent right after this frame).
    pub advance: Bytes,
    /// Length announced by `advance`.
    pub budget: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_jpeg() -> Vec<u8> {
        let mut bytes = Vec::new();
        let rgb = vec![200u8; 16 * 16 * 3];
        let encoder = jpeg_encoder::Encoder::new(&mut bytes, 85);
        encoder
            .encode(&rgb, 16, 16, jpeg_encoder::ColorType::Rgb)
            .unwrap_or_default();
        bytes
    }

    #[test]
    fn padded_jpeg_has_exact_length_and_same_pixels() {
        let jpeg = tiny_jpeg();
        assert!(jpeg.len() > 100);
        for extra in [0, 4, 5, 1000, 65_537, 65_538, 65_540, 65_541, 200_000] {
            let padded = pad_jpeg(&jpeg, jpeg.len() + extra).unwrap_or_default();
            assert_eq!(padded.len(), jpeg.len() + extra, "extra {extra}");
            assert_eq!(padded[..2], [0xFF, 0xD8]);
            assert_eq!(padded[padded.len() - 2..], [0xFF, 0xD9]);
            // The padded file is still a valid JPEG with unchanged pixels.
            let check = |bytes: &[u8]| {
                let mut decoder = jpeg_decoder::Decoder::new(bytes);
                decoder.decode().unwrap_or_default()
            };
            assert_eq!(check(&padded), check(&jpeg), "extra {extra}");
        }
    }

    #[test]
    fn padding_of_one_to_three_bytes_or_shrinking_is_refused() {
        let jpeg = tiny_jpeg();
        for extra in 1..=3 {
            assert!(pad_jpeg(&jpeg, jpeg.len() + extra).is_none());
        }
        assert!(pad_jpeg(&jpeg, jpeg.len() - 1).is_none());
        assert!(pad_jpeg(b"not a jpeg", 100).is_none());
    }
}
