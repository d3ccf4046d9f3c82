//! Encoding rendered pixels as PNG or JPEG (4:4:4, so thin coloured lines stay sharp).
//!
//! JPEG goes through libjpeg-turbo (the `turbojpeg` crate, built from its vendored
//! sources with cmake and nasm): about 3× faster than the pure-Rust `jpeg-encoder` for
//! the reference frame (`cargo bench -p server --bench encode`, BENCHMARKS.md).

use render_core::Frame;

/// An encoder failure.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The PNG encoder failed.
    #[error("PNG: {0}")]
    Png(#[from] png::EncodingError),
    /// The JPEG encoder failed.
    #[error("JPEG: {0}")]
    Jpeg(#[from] turbojpeg::Error),
    /// JPEG sides are limited to 65535 pixels.
    #[error("{0}×{1} is too large for JPEG")]
    TooLarge(u32, u32),
}

/// The frame as a PNG file.
pub fn png(frame: &Frame) -> Result<Vec<u8>, EncodeError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, frame.width(), frame.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&frame.rgb())?;
    writer.finish()?;
    Ok(bytes)
}

/// Which Huffman tables a JPEG is coded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Huffman {
    /// The standard tables: what the server sends.
    Default,
    /// Tables optimised per image: a few per cent smaller, about 3× the encode time
    /// (measured by `benches/encode.rs`; not used, see ARCHITECTURE.md "Decisions").
    Optimised,
}

/// The frame as a baseline JPEG at `quality` (1..=100) with 4:4:4 sampling, encoded
/// straight from the frame's RGBA pixels (no RGB copy).
pub fn jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, EncodeError> {
    jpeg_with(frame, quality, Huffman::Default)
}

/// [`jpeg`] with the given Huffman tables.
pub fn jpeg_with(frame: &Frame, quality: u8, huffman: Huffman) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (frame.width(), frame.height());
    if width > 65_535 || height > 65_535 {
        return Err(EncodeError::TooLarge(width, height));
    }
    let (width, height) = (width as usize, height as usize);
    let image = turbojpeg::Image {
        pixels: frame.rgba(),
        width,
        pitch: width * 4,
        height,
        format: turbojpeg::PixelFormat::RGBX,
    };
    let mut compressor = turbojpeg::Compressor::new()?;
    compressor.set_quality(i32::from(quality))?;
    compressor.set_subsamp(turbojpeg::Subsamp::None)?;
    compressor.set_optimize(huffman == Huffman::Optimised)?;
    Ok(compressor.compress_to_vec(image)?)
}
