//! `cargo xtask fuzz [--seconds N] [--target NAME]`: runs every cargo-fuzz target in
//! `fuzz/` (nightly toolchain) for N seconds each against a temporary copy of its
//! corpus in `fuzz/corpus/<target>/`, so the committed seed corpus stays small. Installs
//! cargo-fuzz when it is missing. Prints runs and crashes per target; fails on a crash.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::cargo;

/// One target's result.
struct Outcome {
    target: String,
    runs: Option<u64>,
    crashed: bool,
}

/// Runs the fuzz targets.
pub fn run(sh: &Shell, root: &Path, seconds: u64, only: Option<&str>) -> Result<()> {
    ensure_cargo_fuzz(sh)?;
    let fuzz_dir = root.join("fuzz");
    let _in_fuzz_dir = sh.push_dir(&fuzz_dir);
    // `rustup run nightly`: `$CARGO` is the stable toolchain's cargo itself, which does
    // not understand `+nightly`.
    let listed = cmd!(sh, "rustup run nightly cargo fuzz list")
        .read()
        .context("cargo +nightly fuzz list")?;
    let targets: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty() && only.is_none_or(|o| o == *t))
        .collect();
    if targets.is_empty() {
        bail!("no fuzz target matches {only:?}; targets: {listed}");
    }
    let mut outcomes = Vec::new();
    for target in targets {
        let corpus = temp_corpus(&fuzz_dir, target)?;
        println!(
            "==> fuzzing {target} for {seconds}s (corpus copy in {})",
            corpus.display()
        );
        let corpus_arg = corpus.display().to_string();
        let max_time = format!("-max_total_time={seconds}");
        let output = cmd!(
            sh,
            "rustup run nightly cargo fuzz run {target} {corpus_arg} -- {max_time} -print_final_stats=1"
        )
        .ignore_status()
        .output()
        .with_context(|| format!("cargo +nightly fuzz run {target}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let runs = log
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|n| n.trim().parse().ok());
        let crashed = !output.status.success();
        if crashed {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
            eprintln!("(the crashing input is under fuzz/artifacts/{target}/)");
        }
        let _ = std::fs::remove_dir_all(&corpus);
        outcomes.push(Outcome {
            target: target.to_string(),
            runs,
            crashed,
        });
    }
    println!("\ntarget            runs        crashes");
    for o in &outcomes {
        let runs = o.runs.map_or("?".to_string(), |r| r.to_string());
        println!("{:<17} {:<11} {}", o.target, runs, u8::from(o.crashed));
    }
    let crashed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.crashed)
        .map(|o| o.target.as_str())
        .collect();
    if !crashed.is_empty() {
        bail!("crashes in: {}", crashed.join(", "));
    }
    Ok(())
}

/// A fresh temporary copy of `fuzz/corpus/<target>/` (empty if there is none).
fn temp_corpus(fuzz_dir: &Path, target: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("plotcast-fuzz-{target}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let seeds = fuzz_dir.join("corpus").join(target);
    if let Ok(entries) = std::fs::read_dir(&seeds) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(entry.file_name()))
                    .with_context(|| format!("copying {}", path.display()))?;
            }
        }
    }
    Ok(dir)
}

/// Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when it is not on PATH.
fn ensure_cargo_fuzz(sh: &Shell) -> Result<()> {
    let cargo = cargo();
    if cmd!(sh, "rustup run nightly cargo fuzz --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
    {
        return Ok(());
    }
    println!("installing cargo-fuzz (cargo install; this takes a few minutes)");
    cmd!(sh, "{cargo} install cargo-fuzz --locked")
        .run()
        .context("cargo install cargo-fuzz --locked")?;
    Ok(())
}
