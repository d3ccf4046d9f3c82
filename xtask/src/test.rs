//! `cargo xtask test`: THE test command — every check, in order, with a pass/fail summary.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use xshell::{cmd, Shell};

use crate::{cargo, tools};

/// A named test step.
type Step<'a> = (&'static str, Box<dyn Fn() -> Result<()> + 'a>);

/// Runs all test steps; returns whether every step passed.
///
/// System/tool setup errors abort with `Err`; a failing step is recorded and the
/// remaining steps still run. The last line printed is `N passed, N failed`.
pub fn run(sh: &Shell, root: &Path) -> Result<bool> {
    // Later server/browser tests need these; never silently skip.
    // (the CJK font is for render-core's font fallback test).
    tools::ensure_apt(
        sh,
        &[
            "ffmpeg",
            "chromium",
            "chromium-driver",
            "fonts-wqy-microhei",
        ],
    )?;

    let cargo = cargo();
    let steps: Vec<Step<'_>> = vec![
        (
            "fmt",
            Box::new(|| Ok(cmd!(sh, "{cargo} fmt --all --check").run()?)),
        ),
        (
            "clippy",
            Box::new(|| {
                Ok(cmd!(
                    sh,
                    "{cargo} clippy --workspace --all-targets -- -D warnings"
                )
                .run()?)
            }),
        ),
        (
            "render-core has no tokio, and web builds for wasm32",
            Box::new(|| {
                let tree = cmd!(sh, "{cargo} tree -p render-core -e normal -i tokio")
                    .ignore_stderr()
                    .read()
                    .unwrap_or_default();
                if !tree.trim().is_empty() {
                    anyhow::bail!("render-core depends on tokio:\n{tree}");
                }
                tools::ensure_wasm_target(sh)?;
                Ok(cmd!(sh, "{cargo} build -p web --target wasm32-unknown-unknown").run()?)
            }),
        ),
        (
            "test (native)",
            Box::new(|| Ok(cmd!(sh, "{cargo} test --workspace").run()?)),
        ),
        (
            "test (wasm, render-core identity)",
            Box::new(|| {
                tools::ensure_wasm_target(sh)?;
                tools::ensure_wasm_bindgen(sh, root)?;
                Ok(cmd!(
                    sh,
                    "{cargo} test -p render-core --target wasm32-unknown-unknown"
                )
                .run()?)
            }),
        ),
    ];

    let total = steps.len();
    let mut failed = Vec::new();
    for (i, (name, step)) in steps.iter().enumerate() {
        println!("\n==> [{}/{total}] {name}", i + 1);
        let start = Instant::now();
        let result = step();
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!("==> [{}/{total}] {name}: passed ({secs:.1}s)", i + 1),
            Err(e) => {
                println!("==> [{}/{total}] {name}: FAILED ({secs:.1}s): {e:#}", i + 1);
                failed.push(*name);
            }
        }
    }

    println!();
    if !failed.is_empty() {
        println!("failed steps: {}", failed.join(", "));
    }
    println!("{} passed, {} failed", total - failed.len(), failed.len());
    Ok(failed.is_empty())
}
