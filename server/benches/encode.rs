//! JPEG encoding of the reference frame (800×450, quality 85, 4:4:4), measured in one
//! run: the server's encoder (libjpeg-turbo through `turbojpeg`, default Huffman
//! tables) against libjpeg-turbo with Huffman tables optimised per image (considered,
//! see ARCHITECTURE.md "Decisions") and the pure-Rust `jpeg-encoder` it replaced, all
//! from the frame's RGBA pixels; prints the two libjpeg-turbo sizes.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use render_core::{Data, Frame, Renderer, Spec};

fn reference_frame() -> Frame {
    let spec = Spec::from_json(include_str!("../../examples/reference.json")).expect("spec parses");
    let data =
        Data::from_json(include_str!("../../examples/reference.data.json")).expect("data parses");
    let spec = render_core::validate(spec).expect("valid");
    let mut frame = Frame::default();
    Renderer::default().render(
        &spec,
        &data,
        data.latest_timestamp().unwrap_or_default(),
        &mut frame,
    );
    frame
}

/// libjpeg-turbo as the server calls it, plus Huffman tables optimised for the image.
fn optimised_tables(frame: &Frame) -> Result<Vec<u8>, server::image_files::EncodeError> {
    server::image_files::jpeg_with(frame, 85, server::image_files::Huffman::Optimised)
}

fn encoders(c: &mut Criterion) {
    let frame = reference_frame();
    let (width, height) = (frame.width(), frame.height());
    let default = server::image_files::jpeg(&frame, 85).map_or(0, |j| j.len());
    let optimised = optimised_tables(&frame).map_or(0, |j| j.len());
    println!(
        "reference frame: {optimised} bytes Huffman-optimised, {default} bytes with default tables"
    );
    c.bench_function(
        "jpeg q85 444 800x450: libjpeg-turbo, default Huffman (server)",
        |b| b.iter(|| server::image_files::jpeg(&frame, 85).map(|j| j.len())),
    );
    c.bench_function(
        "jpeg q85 444 800x450: libjpeg-turbo, optimised Huffman (considered)",
        |b| b.iter(|| optimised_tables(&frame).map(|j| j.len())),
    );
    c.bench_function("jpeg q85 444 800x450: jpeg-encoder (pure Rust)", |b| {
        b.iter(|| {
            let mut bytes = Vec::new();
            let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 85);
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
            encoder
                .encode(
                    frame.rgba(),
                    width as u16,
                    height as u16,
                    jpeg_encoder::ColorType::Rgba,
                )
                .map(|()| bytes.len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(40);
    targets = encoders
}
criterion_main!(benches);
