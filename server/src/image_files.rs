//! Encoding a rendered frame as PNG or JPEG (4:4:4, so thin coloured lines stay sharp).

use anyhow::Context;
use render_core::Frame;

/// The frame as a PNG file.
pub fn png(frame: &Frame) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, frame.width(), frame.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("writing PNG header")?;
    writer.write_image_data(&frame.rgb()).context("writing PNG data")?;
    writer.finish().context("finishing PNG")?;
    Ok(bytes)
}

/// The frame as a baseline JPEG at `quality` (1..=100) with 4:4:4 sampling.
pub fn jpeg(frame: &Frame, quality: u8) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    let (width, height) = (u16::try_from(frame.width())?, u16::try_from(frame.height())?);
    encoder.encode(&frame.rgb(), width, height, jpeg_encoder::ColorType::Rgb).context("encoding JPEG")?;
    Ok(bytes)
}
