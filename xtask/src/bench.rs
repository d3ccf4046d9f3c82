//! `cargo xtask bench`: run the criterion benchmarks and write `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::cargo;

/// The benchmark command, as recorded in `BENCHMARKS.md`.
const BENCH_ARGS: &[&str] = &[
    "bench",
    "-p",
    "render-core",
    "--bench",
    "frame",
    "--",
    "--noplot",
];

/// Runs the benchmarks (echoing their output) and writes `BENCHMARKS.md`.
pub fn run(sh: &Shell, root: &Path) -> Result<()> {
    let command = format!("cargo {}", BENCH_ARGS.join(" "));
    println!("$ {command}");
    let stdout = run_tee(root)?;
    let results = result_lines(&stdout);
    if results.is_empty() {
        bail!("no criterion result lines (`time:`) in the output of `{command}`");
    }

    let date = cmd!(sh, "date -u")
        .quiet()
        .read()
        .context("running `date -u`")?;
    let uname = cmd!(sh, "uname -srm")
        .quiet()
        .read()
        .context("running `uname -srm`")?;
    let rustc = cmd!(sh, "rustc -V")
        .quiet()
        .read()
        .context("running `rustc -V`")?;
    let (cpu, cores) = cpu_info();

    let mut md = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Written by `cargo xtask bench`.\n");
    let _ = writeln!(md, "- Date: {date}");
    let _ = writeln!(md, "- Machine: {uname}");
    let _ = writeln!(md, "- CPU: {cpu} ({cores} logical cores)");
    let _ = writeln!(md, "- Toolchain: {rustc}");
    let _ = writeln!(md, "- Command: `{command}`\n");
    let _ = writeln!(md, "```text");
    for line in results {
        let _ = writeln!(md, "{line}");
    }
    let _ = writeln!(md, "```");

    let path = root.join("BENCHMARKS.md");
    std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Runs the bench command in `root`, echoing stdout live, and returns it.
fn run_tee(root: &Path) -> Result<String> {
    let mut child = Command::new(cargo())
        .args(BENCH_ARGS)
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting cargo bench")?;
    let mut captured = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.context("reading cargo bench output")?;
            println!("{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child.wait().context("waiting for cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed: {status}");
    }
    Ok(captured)
}

/// Criterion result lines: each `time:` (and `thrpt:`) line, preceded by the
/// bench name line when criterion put the name on its own line.
fn result_lines(stdout: &str) -> Vec<&str> {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("time:") {
            let name = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            if let Some(name) = name {
                if !name.contains("time:") && out.last() != Some(name) {
                    out.push(*name);
                }
            }
            out.push(*line);
        } else if line.contains("time:") || trimmed.starts_with("thrpt:") {
            out.push(*line);
        }
    }
    out
}

/// CPU model name and logical core count from `/proc/cpuinfo`.
fn cpu_info() -> (String, usize) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    let cores = if cores > 0 {
        cores
    } else {
        std::thread::available_parallelism().map_or(0, usize::from)
    };
    (model, cores)
}

#[cfg(test)]
mod tests {
    use super::result_lines;

    #[test]
    fn picks_time_lines_and_names() {
        let out = "\
Gnuplot not found, using plotters backend
frame/line              time:   [1.0 ms 1.1 ms 1.2 ms]
                        change: [-1% +0% +1%] (p = 0.5 > 0.05)
Found 2 outliers among 100 measurements (2.00%)

frame/a_very_long_benchmark_name_here
                        time:   [2.0 ms 2.1 ms 2.2 ms]
                        thrpt:  [10 elem/s 11 elem/s 12 elem/s]
";
        assert_eq!(
            result_lines(out),
            vec![
                "frame/line              time:   [1.0 ms 1.1 ms 1.2 ms]",
                "frame/a_very_long_benchmark_name_here",
                "                        time:   [2.0 ms 2.1 ms 2.2 ms]",
                "                        thrpt:  [10 elem/s 11 elem/s 12 elem/s]",
            ]
        );
    }
}
