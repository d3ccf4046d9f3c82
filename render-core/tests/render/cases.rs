//! The fixed render cases shared by the golden and identity tests: every example spec
//! with its data (compiled in, so wasm needs no file system), at a small size.

use render_core::{Data, Frame, Renderer, Spec, Timestamp};

/// One case: name, spec JSON, data JSON.
pub struct Case {
    pub name: &'static str,
    pub spec: &'static str,
    pub data: &'static str,
}

macro_rules! example {
    ($name:literal) => {
        Case {
            name: $name,
            spec: include_str!(concat!("../../../examples/", $name, ".json")),
            data: include_str!(concat!("../../../examples/", $name, ".data.json")),
        }
    };
}

/// Every example (the Chinese one draws boxes here: no CJK font is registered).
pub const CASES: [Case; 8] = [
    example!("reference"),
    example!("network"),
    example!("memory"),
    example!("temperature"),
    example!("latency"),
    example!("requests"),
    example!("dashboard"),
    example!("chinese"),
];

/// Small enough for golden PNGs of a few KiB, big enough to show every part.
pub const SIZE: (u32, u32) = (400, 240);

/// Renders `case` at [`SIZE`] as of its data's latest point.
pub fn render(case: &Case, renderer: &Renderer) -> Frame {
    let mut spec = Spec::from_json(case.spec).expect("example spec parses");
    (spec.width, spec.height) = SIZE;
    let spec = render_core::validate(spec).expect("example spec is valid");
    let data = Data::from_json(case.data).expect("example data parses");
    let now: Timestamp = data.latest_timestamp().expect("example data has points");
    let mut frame = Frame::default();
    renderer.render(&spec, &data, now, &mut frame);
    frame
}

/// FNV-1a, 64 bit: a stable hash with no dependency.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
