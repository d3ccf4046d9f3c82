//! Encoding rendered pixels as PNG or JPEG (4:4:4, so thin coloured lines stay sharp).

use render_core::Frame;

/// An encoder failure.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The PNG encoder failed.
    #[error("PNG: {0}")]
    Png(#[from] png::EncodingError),
    /// The JPEG encoder failed.
    #[error("JPEG: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
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

/// The frame as a baseline JPEG at `quality` (1..=100) with 4:4:4 sampling.
pub fn jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, EncodeError> {
    jpeg_rgb(&frame.rgb(), frame.width(), frame.height(), quality)
}

/// RGB pixels (`width × height × 3` bytes) as a baseline 4:4:4 JPEG.
pub fn jpeg_rgb(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(EncodeError::TooLarge(width, height));
    };
    encoder.encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)?;
    Ok(bytes)
}
