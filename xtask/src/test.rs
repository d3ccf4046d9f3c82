//! `cargo xtask test`: THE test command — every check, in order, ending in one line
//! `N passed, N failed` that counts every test (each check step counts as one).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::echo::run_echoing;
use crate::{cargo, cycles, fuzz, opencv, tools};

/// Seconds each fuzz target runs in `cargo xtask test` (longer runs: `cargo xtask fuzz`).
const FUZZ_SECONDS: u64 = 15;

/// What a step found: tests passed and failed.
#[derive(Default, Clone, Copy)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// A named step: a check (counts as one test) or a test run (counts its tests).
type Step<'a> = (&'static str, Box<dyn Fn() -> Result<Tally> + 'a>);

/// A check that passes or fails as a whole.
fn check(result: Result<()>) -> Result<Tally> {
    result.map(|()| Tally {
        passed: 1,
        failed: 0,
    })
}

/// A shell command that passes when it exits with success.
fn succeeds(command: xshell::Cmd<'_>) -> Result<Tally> {
    check(command.run().map_err(Into::into))
}

/// Runs `cargo ARGS`, showing its output, and adds up its `test result:` lines.
fn cargo_test(args: &[&str]) -> Result<Tally> {
    let cargo = cargo();
    let shown = format!("{cargo} {}", args.join(" "));
    println!("$ {shown}");
    let mut tally = Tally::default();
    let status = run_echoing(Command::new(&cargo).args(args), &shown, |line| {
        if let Some(rest) = line.trim_start().strip_prefix("test result:") {
            let count = |word: &str| {
                rest.split(';')
                    .find_map(|part| {
                        part.trim()
                            .strip_suffix(word)?
                            .trim()
                            .rsplit(' ')
                            .next()?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0)
            };
            tally.passed += count("passed");
            tally.failed += count("failed");
        }
    })?;
    if !status.success() {
        // A failure that no test reported (a build error, a crash) still counts.
        tally.failed = tally.failed.max(1);
    }
    Ok(tally)
}

/// Crates render-core must not depend on, directly or not (it does no I/O).
const NOT_IN_RENDER_CORE: &[&str] = &["tokio", "axum", "hyper"];
/// Crates render-core must not depend on directly (plotters brings web-sys on wasm32;
/// render-core itself never touches the browser).
const NOT_DIRECTLY_IN_RENDER_CORE: &[&str] = &["web-sys"];

/// Fails when render-core's normal dependencies (every target) include a crate of
/// `NOT_IN_RENDER_CORE`, or its direct ones one of `NOT_DIRECTLY_IN_RENDER_CORE`, or
/// when `cargo tree` fails.
fn render_core_is_platform_free(sh: &Shell) -> Result<()> {
    let cargo = cargo();
    let tree = |extra: &[&str]| {
        cmd!(
            sh,
            "{cargo} tree -p render-core -e normal --target all --prefix none {extra...}"
        )
        .read()
        .context("running `cargo tree` for render-core")
    };
    let mut found = packages_among(&tree(&[])?, NOT_IN_RENDER_CORE);
    found.extend(
        packages_among(&tree(&["--depth", "1"])?, NOT_DIRECTLY_IN_RENDER_CORE)
            .into_iter()
            .map(|name| format!("{name} (directly)")),
    );
    if !found.is_empty() {
        bail!("render-core depends on {}", found.join(", "));
    }
    Ok(())
}

/// The packages of `cargo tree --prefix none` output (`NAME vVERSION …` a line) that
/// are in `names`, once each.
fn packages_among(tree: &str, names: &[&str]) -> Vec<String> {
    let present: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    names
        .iter()
        .filter(|name| present.contains(*name))
        .map(|name| (*name).to_owned())
        .collect()
}

/// Runs all test steps; returns whether every test passed.
///
/// Tool setup errors abort with `Err`; a failing step is recorded and the remaining
/// steps still run.
pub fn run(sh: &Shell, root: &Path) -> Result<bool> {
    // Everything the steps need, installed up front; never silently skip a test.
    // (ffmpeg, GStreamer, OpenCV and chromium are real clients of the stream,
    // Prometheus remote_writes to the server, nats-server carries frames to edges, the CJK font is for render-core's font
    // fallback test, trunk builds the editor for the browser test.)
    tools::ensure_apt(sh, tools::BUILD_PACKAGES)?;
    tools::ensure_apt(
        sh,
        &[
            "ffmpeg",
            "gstreamer1.0-tools",
            "gstreamer1.0-plugins-good",
            "chromium",
            "chromium-driver",
            "fonts-wqy-microhei",
            "prometheus",
            "nats-server",
        ],
    )?;
    opencv::ensure(sh, root)?;
    tools::ensure_editor_tools(sh, root)?;

    let cargo = cargo();
    let steps: Vec<Step<'_>> = vec![
        (
            "fmt",
            Box::new(|| succeeds(cmd!(sh, "{cargo} fmt --all --check"))),
        ),
        (
            "clippy",
            Box::new(|| {
                succeeds(cmd!(
                    sh,
                    "{cargo} clippy --workspace --all-targets -- -D warnings"
                ))
            }),
        ),
        (
            "no import cycles between the modules of a crate",
            Box::new(|| check(cycles::run(sh, root))),
        ),
        (
            "render-core depends on no tokio, axum, hyper, and not directly on web-sys",
            Box::new(|| check(render_core_is_platform_free(sh))),
        ),
        (
            "web builds for wasm32",
            Box::new(|| {
                succeeds(cmd!(
                    sh,
                    "{cargo} build -p web --target wasm32-unknown-unknown"
                ))
            }),
        ),
        (
            "test (native, server and browser end to end)",
            Box::new(|| cargo_test(&["test", "--workspace"])),
        ),
        (
            "test (wasm: render-core identity, editor state)",
            Box::new(|| {
                let render_core = cargo_test(&[
                    "test",
                    "-p",
                    "render-core",
                    "--target",
                    "wasm32-unknown-unknown",
                ])?;
                let web = cargo_test(&[
                    "test",
                    "-p",
                    "web",
                    "--lib",
                    "--target",
                    "wasm32-unknown-unknown",
                ])?;
                Ok(Tally {
                    passed: render_core.passed + web.passed,
                    failed: render_core.failed + web.failed,
                })
            }),
        ),
        (
            "fuzz targets build and run briefly",
            Box::new(|| check(fuzz::run(sh, root, FUZZ_SECONDS, None))),
        ),
    ];

    let total = steps.len();
    let mut failed_steps = Vec::new();
    let mut tally = Tally::default();
    for (i, (name, step)) in steps.iter().enumerate() {
        println!("\n==> [{}/{total}] {name}", i + 1);
        let start = Instant::now();
        let result = step();
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(step_tally) => {
                let verdict = if step_tally.failed == 0 {
                    "ok"
                } else {
                    "FAILED"
                };
                println!(
                    "==> [{}/{total}] {name}: {verdict}, {} passed, {} failed ({secs:.1}s)",
                    i + 1,
                    step_tally.passed,
                    step_tally.failed
                );
                tally.passed += step_tally.passed;
                tally.failed += step_tally.failed;
                if step_tally.failed > 0 {
                    failed_steps.push(*name);
                }
            }
            Err(e) => {
                println!("==> [{}/{total}] {name}: FAILED ({secs:.1}s): {e:#}", i + 1);
                tally.failed += 1;
                failed_steps.push(*name);
            }
        }
    }

    println!();
    if !failed_steps.is_empty() {
        println!("failed steps: {}", failed_steps.join(", "));
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(failed_steps.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "render-core v0.1.0 (/w/render-core)\nplotters v0.3.7\n\
                        web-sys v0.3.107\ntokio-util v0.7.0\nhyper v1.0.0\nhyper v1.0.0 (*)\n";

    #[test]
    fn finds_forbidden_packages_by_exact_name() {
        assert_eq!(
            packages_among(TREE, &["tokio", "axum", "hyper", "web-sys"]),
            ["hyper", "web-sys"]
        );
        assert!(packages_among(TREE, &["tokio", "axum"]).is_empty());
    }
}
