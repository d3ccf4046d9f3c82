//! Native == wasm: every case's RGB bytes hash to the value committed in
//! `identity-hashes.txt`. The same test runs natively and in wasm32 (by
//! wasm-bindgen-test in Node), so passing on both means the bytes are identical.
//! `MAKE_REF=1` (native) rewrites the file, and the test then fails: rerun without it.

use crate::cases::{fnv1a, render, CASES};
use render_core::Renderer;

const COMMITTED: &str = include_str!("identity-hashes.txt");

fn hashes() -> String {
    let renderer = Renderer::default();
    CASES
        .iter()
        .map(|case| {
            format!(
                "{} {:016x}\n",
                case.name,
                fnv1a(&render(case, &renderer).rgb())
            )
        })
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn frames_hash_to_the_committed_values() {
    let actual = hashes();
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("MAKE_REF").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/render/identity-hashes.txt"
        );
        std::fs::write(path, &actual).expect("write identity-hashes.txt");
        panic!("{path}: reference rewritten: rerun without MAKE_REF");
    }
    println!("{actual}");
    assert_eq!(
        actual,
        COMMITTED,
        "frame bytes differ from the committed hashes (target {})",
        std::env::consts::ARCH
    );
}
