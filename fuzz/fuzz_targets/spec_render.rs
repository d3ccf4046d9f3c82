//! Fuzz target: any bytes as spec JSON -> parse -> validate -> render (shrunk to at most
//! 256×256 so runs stay fast) with a small fixed data set. Must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use render_core::{Data, Frame, Point, Renderer, Series, Spec};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(mut spec) = Spec::from_json(text) else { return };
    spec.width = spec.width.min(256);
    spec.height = spec.height.min(256);
    let Ok(valid) = render_core::validate(spec) else { return };
    let points = (0..50).map(|i| Point { t: i * 1000, v: if i % 7 == 0 { f64::NAN } else { (i as f64).sin() * 1e3 } });
    let data = Data {
        series: ["cpu", "mem", "m"]
            .iter()
            .map(|m| Series { metric: m.to_string(), tags: Default::default(), points: points.clone().collect(), source: None })
            .collect(),
        notes: Vec::new(),
    };
    let mut frame = Frame::default();
    Renderer::default().render(&valid, &data, 50_000, &mut frame);
});
