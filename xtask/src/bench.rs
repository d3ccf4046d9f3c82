//! `cargo xtask bench`: every benchmark in one session — criterion (render-core frame,
//! server JPEG encode), native vs wasm render time, and the load suite against a
//! release `plotcast` (viewers, idle, ingest, latency, the long-window phase also
//! against the `plotcast` before the data layer, PromQL charts of a real
//! Prometheus: `promql`, and 1 origin + 2 edges on a real nats-server against one server
//! alone: `scaleout`) — written to `BENCHMARKS.md` with the
//! machine, the commands, each figure against its target, and the load.
//! `cargo xtask bench --only longwindow` runs just those load phases and writes their
//! report to `target/bench-only.md` instead.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::echo::run_echoing;
use crate::{cargo, target_dir, tools};

/// One row of the results table.
struct Row {
    measure: String,
    figure: String,
    target: String,
    verdict: String,
}

impl Row {
    fn new(measure: &str, figure: String, target: &str, reached: Option<bool>) -> Row {
        Row {
            measure: measure.to_owned(),
            figure,
            target: target.to_owned(),
            verdict: match reached {
                Some(true) => "reached",
                Some(false) => "NOT reached",
                None => "-",
            }
            .to_owned(),
        }
    }
}

/// Frames the native/wasm render-time bench (`render-core/benches/speed.rs`) times.
const SPEED_FRAMES: &str = "200";

/// The commit before the data layer (issue 11): the long-window rows compare with a
/// release `plotcast` built from it.
const BEFORE: &str = "c17c5fa";

/// Runs everything (`quick`: a short smoke run of the load suite) and writes
/// `BENCHMARKS.md`; with `only` (load suite phases, e.g. `longwindow`) runs just those
/// phases and prints their rows instead, leaving `BENCHMARKS.md` as it is.
pub fn run(sh: &Shell, root: &Path, quick: bool, only: &[String]) -> Result<()> {
    // turbojpeg builds libjpeg-turbo (cmake, nasm); the wasm run needs the target and
    // wasm-bindgen-test-runner.
    tools::ensure_apt(sh, tools::BUILD_PACKAGES)?;
    if only.is_empty() {
        tools::ensure_wasm_target(sh)?;
        tools::ensure_cargo_tools(sh, root, vec![tools::wasm_bindgen(sh, root)?])?;
    }
    let load_before = loadavg();
    let mut commands = Vec::new();
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let criterion = if only.is_empty() {
        render_benches(root, &mut commands, &mut rows, &mut details)?
    } else {
        String::new()
    };

    // The server under load.
    let build_args = [
        "build",
        "--release",
        "-p",
        "server",
        "--bin",
        "plotcast",
        "-p",
        "tests",
        "--bin",
        "load",
    ];
    run_tee(root, &cargo(), &build_args, &[], &mut commands)?;
    let target = target_dir(root);
    let load = target.join("release/load");
    let plotcast = target.join("release/plotcast");
    let mut suite_args = vec![
        "suite".to_owned(),
        "--plotcast".to_owned(),
        plotcast.display().to_string(),
    ];
    if quick {
        suite_args.push("--quick".to_owned());
    }
    if !only.is_empty() {
        suite_args.extend(["--only".to_owned(), only.join(",")]);
    }
    if only.is_empty() || only.iter().any(|p| p == "longwindow") {
        let before = build_before(sh, root, &mut commands)?;
        suite_args.extend(["--before".to_owned(), before.display().to_string()]);
    }
    let suite_args: Vec<&str> = suite_args.iter().map(String::as_str).collect();
    let suite_out = run_tee(
        root,
        &load.display().to_string(),
        &suite_args,
        &[],
        &mut commands,
    )?;
    for line in suite_out.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["RESULT", measure, figure, target, verdict] => rows.push(Row {
                measure: (*measure).to_owned(),
                figure: (*figure).to_owned(),
                target: (*target).to_owned(),
                verdict: (*verdict).to_owned(),
            }),
            ["DETAIL", text] => details.push((*text).to_owned()),
            _ => {}
        }
    }
    let load_after = loadavg();

    let mut invocation = "`cargo xtask bench".to_owned();
    if quick {
        invocation.push_str(" --quick");
    }
    if !only.is_empty() {
        invocation.push_str(&format!(" --only {}", only.join(",")));
    }
    invocation.push('`');
    if quick {
        invocation.push_str(" (a SHORT smoke run)");
    }
    let md = markdown(
        sh,
        &invocation,
        &commands,
        &rows,
        &details,
        &load_before,
        &load_after,
    )? + &criterion;
    // Only some phases: their rows go into BENCHMARKS.md by hand.
    let (path, md) = if only.is_empty() {
        let path = root.join("BENCHMARKS.md");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let md = with_hand_sections(md, &old);
        (path, md)
    } else {
        (target.join("bench-only.md"), md)
    };
    std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The render-core and encoder benches (criterion, native vs wasm): their rows and
/// details; returns criterion's result lines for the report.
fn render_benches(
    root: &Path,
    commands: &mut Vec<String>,
    rows: &mut Vec<Row>,
    details: &mut Vec<String>,
) -> Result<String> {
    // Criterion.
    let frame_args = [
        "bench",
        "-p",
        "render-core",
        "--bench",
        "frame",
        "--",
        "--noplot",
    ];
    let frame_out = run_tee(root, &cargo(), &frame_args, &[], commands)?;
    let encode_args = [
        "bench", "-p", "server", "--bench", "encode", "--", "--noplot",
    ];
    let encode_out = run_tee(root, &cargo(), &encode_args, &[], commands)?;
    let criterion: Vec<(String, f64)> = criterion_results(&frame_out)
        .into_iter()
        .chain(criterion_results(&encode_out))
        .collect();
    let find = |needle: &str| {
        criterion
            .iter()
            .find(|(name, _)| name.contains(needle))
            .map(|(_, ms)| *ms)
    };
    let ms = |v: Option<f64>| v.map_or_else(|| "missing".to_owned(), |v| format!("{v:.3} ms"));
    let render_ms = find("reference chart");
    for (measure, median, limit_ms) in [
        (
            "render: reference chart 800×450, 4×600 points (criterion median)",
            render_ms,
            3.0,
        ),
        (
            "render: 1,000,000-point series 800×450 (M4)",
            find("1,000,000-point"),
            10.0,
        ),
        (
            "render: 16 series × 30 days of 30 min buckets 800×450 (render-core only; the server's frame is the long-window row)",
            find("16 series"),
            10.0,
        ),
    ] {
        rows.push(Row::new(
            measure,
            ms(median),
            &format!("≤ {limit_ms} ms"),
            median.map(|v| v <= limit_ms),
        ));
    }
    let turbo = find("default Huffman (server)");
    let optimised = find("optimised Huffman (considered)");
    let pure = find("jpeg-encoder");
    let times = |v: Option<f64>| match (v, turbo) {
        (Some(v), Some(t)) => format!("{v:.3} ms ({:.2}× the server encoder)", v / t),
        _ => ms(v),
    };
    rows.push(Row::new(
        "JPEG q85 4:4:4 reference frame: server encoder (libjpeg-turbo)",
        ms(turbo),
        "≤ 1.2× libjpeg-turbo",
        turbo.map(|_| true),
    ));
    rows.push(Row::new(
        "JPEG q85 4:4:4 reference frame: libjpeg-turbo with optimised Huffman tables (not used)",
        times(optimised),
        "≤ 1.5× to be used",
        optimised.zip(turbo).map(|(o, t)| o <= 1.5 * t),
    ));
    rows.push(Row::new(
        "JPEG q85 4:4:4 reference frame: jpeg-encoder (pure Rust, replaced)",
        times(pure),
        "-",
        None,
    ));

    // Editor: the same render natively and in wasm (Node), release builds.
    let frames_env = [("PLOTCAST_BENCH_FRAMES", SPEED_FRAMES)];
    let native_args = [
        "test",
        "--release",
        "-p",
        "render-core",
        "--bench",
        "speed",
        "--",
        "--nocapture",
    ];
    let native_out = run_tee(root, &cargo(), &native_args, &frames_env, commands)?;
    let wasm_args = [
        "test",
        "--release",
        "-p",
        "render-core",
        "--target",
        "wasm32-unknown-unknown",
        "--bench",
        "speed",
        "--",
        "--nocapture",
    ];
    let wasm_out = run_tee(root, &cargo(), &wasm_args, &frames_env, commands)?;
    let native = speed(&native_out, "native");
    let wasm = speed(&wasm_out, "wasm32");
    rows.push(Row::new(
        "editor: reference chart render, wasm (Node) / native (same test, release)",
        match (wasm, native) {
            (Some(w), Some(n)) => format!("{w:.2} ms / {n:.2} ms = {:.2}×", w / n),
            _ => "missing".to_owned(),
        },
        "≤ 2×",
        wasm.zip(native).map(|(w, n)| w / n <= 2.0),
    ));
    if let (Some(w), Some(n)) = (wasm, render_ms) {
        details.push(format!(
            "wasm render {w:.2} ms vs criterion's native {n:.2} ms: {:.2}×",
            w / n
        ));
    }

    Ok(raw_criterion(&frame_out, &encode_out))
}

/// Builds the release `plotcast` of [`BEFORE`] (its source from `git archive`, its own
/// target directory, both under `target/bench-before/`); returns the binary.
fn build_before(sh: &Shell, root: &Path, commands: &mut Vec<String>) -> Result<PathBuf> {
    let dir = target_dir(root).join("bench-before");
    let src = dir.join(BEFORE);
    if !src.join("Cargo.toml").exists() {
        std::fs::create_dir_all(&src).with_context(|| format!("creating {}", src.display()))?;
        let tar = dir.join(format!("{BEFORE}.tar"));
        cmd!(sh, "git archive --format=tar -o {tar} {BEFORE}")
            .run()
            .with_context(|| format!("git archive {BEFORE} (needs the repository's history)"))?;
        cmd!(sh, "tar -xf {tar} -C {src}").run()?;
        commands.push(format!(
            "git archive --format=tar -o {BEFORE}.tar {BEFORE} && tar -xf {BEFORE}.tar -C target/bench-before/{BEFORE}"
        ));
    }
    let target = dir.join("target");
    let target_env = target.display().to_string();
    run_tee(
        &src,
        &cargo(),
        &["build", "--release", "-p", "server", "--bin", "plotcast"],
        &[("CARGO_TARGET_DIR", &target_env)],
        commands,
    )?;
    Ok(target.join("release/plotcast"))
}

/// The report.
fn markdown(
    sh: &Shell,
    invocation: &str,
    commands: &[String],
    rows: &[Row],
    details: &[String],
    load_before: &str,
    load_after: &str,
) -> Result<String> {
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
    let _ = writeln!(
        md,
        "Written by {invocation}. Targets are those of issues 6 and 11; every figure is \
         reported, reached or not. All figures come from one session on one machine, so \
         compare ratios within this file rather than with other machines.\n"
    );
    let _ = writeln!(md, "- Date: {date}");
    let _ = writeln!(
        md,
        "- Machine: {uname}; CPU: {cpu} ({cores} logical cores); RAM: {}",
        mem_total()
    );
    let _ = writeln!(md, "- Toolchain: {rustc}");
    let _ = writeln!(
        md,
        "- Load (`/proc/loadavg`) before: `{load_before}`; after: `{load_after}`"
    );
    let _ = writeln!(
        md,
        "  (a shared machine: other builds may have run at the same time)\n"
    );
    let _ = writeln!(md, "## Results\n");
    let _ = writeln!(md, "| Measure | Figure | Target | |");
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            row.measure, row.figure, row.target, row.verdict
        );
    }
    let _ = writeln!(
        md,
        "\nWhere the time goes (profiles) and what would reach the missing targets: \
         `docs/PERFORMANCE.md`."
    );
    let _ = writeln!(md, "\n## Details\n");
    for detail in details {
        let _ = writeln!(md, "- {detail}");
    }
    let _ = writeln!(md, "\n## Commands (in this order)\n");
    let _ = writeln!(md, "```sh");
    for command in commands {
        let _ = writeln!(md, "{command}");
    }
    let _ = writeln!(md, "```");
    Ok(md)
}

/// The line of `BENCHMARKS.md` from which on its sections are added by hand.
const HAND_MARKER: &str =
    "<!-- kept by cargo xtask bench: everything from this line on is added by hand -->";

/// The generated report `md` followed by the sections of `old` (the file it replaces)
/// from [`HAND_MARKER`] on, so a full run keeps what was measured by hand.
fn with_hand_sections(md: String, old: &str) -> String {
    match old.find(HAND_MARKER) {
        Some(at) => format!("{}\n\n{}", md.trim_end(), &old[at..]),
        None => md,
    }
}

/// The criterion output lines, for reference.
fn raw_criterion(frame: &str, encode: &str) -> String {
    let mut md = String::from("\n## Criterion output\n\n```text\n");
    for line in result_lines(frame).into_iter().chain(result_lines(encode)) {
        md.push_str(line);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

/// Runs `program args` in `root` with `envs`, echoing stdout live, and returns it; the
/// command is recorded in `commands`.
fn run_tee(
    root: &Path,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    commands: &mut Vec<String>,
) -> Result<String> {
    let shown_program = if program == cargo() { "cargo" } else { program };
    let shown_program = shown_program
        .strip_prefix(&format!("{}/", root.display()))
        .unwrap_or(shown_program);
    let env: String = envs.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    let command = format!("{env}{shown_program} {}", args.join(" "));
    println!("$ {command}");
    commands.push(command.clone());
    let mut captured = String::new();
    let status = run_echoing(
        Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .current_dir(root),
        &command,
        |line| {
            captured.push_str(line);
            captured.push('\n');
        },
    )?;
    if !status.success() {
        bail!("`{command}` failed: {status}");
    }
    Ok(captured)
}

/// `SPEED <target> <n> frames <ms> ms/frame` from the speed bench.
fn speed(output: &str, target: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("SPEED ")?.strip_prefix(target)?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        words.get(2)?.parse().ok()
    })
}

/// Criterion results: (bench name, median in ms).
fn criterion_results(stdout: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in stdout.lines() {
        match line.split_once("time:") {
            Some((before, after)) => {
                if !before.trim().is_empty() {
                    name = before.trim().to_owned();
                }
                // A custom measurement (render-core's thread CPU time) tags each value,
                // e.g. `1.76 ms (CPU)`.
                let values: Vec<&str> = after
                    .trim()
                    .trim_matches(['[', ']'])
                    .split_whitespace()
                    .filter(|word| !word.starts_with('('))
                    .collect();
                // [low unit median unit high unit]
                if let (Some(value), Some(unit)) = (values.get(2), values.get(3)) {
                    if let (Ok(value), Some(scale)) = (value.parse::<f64>(), unit_ms(unit)) {
                        out.push((name.clone(), value * scale));
                    }
                }
            }
            None => {
                let trimmed = line.trim();
                let noise = trimmed.is_empty()
                    || trimmed.starts_with("thrpt:")
                    || trimmed.starts_with("change:")
                    || trimmed.starts_with("Found")
                    || trimmed.contains("outliers")
                    || trimmed.starts_with("Benchmarking")
                    || trimmed.starts_with("No change")
                    || trimmed.starts_with("Performance has")
                    || trimmed.starts_with("Change within");
                if !noise {
                    name = trimmed.to_owned();
                }
            }
        }
    }
    out
}

/// Milliseconds per `unit` of criterion's output.
fn unit_ms(unit: &str) -> Option<f64> {
    Some(match unit {
        "ps" => 1e-9,
        "ns" => 1e-6,
        "µs" | "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        _ => return None,
    })
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

/// `/proc/loadavg`, trimmed.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Total RAM from `/proc/meminfo`.
fn mem_total() -> String {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        )
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
    use super::{criterion_results, result_lines, speed, with_hand_sections, HAND_MARKER};

    #[test]
    fn keeps_the_sections_added_by_hand() {
        let old = format!("# Benchmarks\nold rows\n\n{HAND_MARKER}\n\n## By hand\nkept\n");
        let new = with_hand_sections("# Benchmarks\nnew rows\n".to_owned(), &old);
        assert_eq!(
            new,
            format!("# Benchmarks\nnew rows\n\n{HAND_MARKER}\n\n## By hand\nkept\n")
        );
        // A file without the marker has nothing to keep.
        assert_eq!(with_hand_sections("x\n".to_owned(), "old"), "x\n");
    }

    const OUT: &str = "\
Gnuplot not found, using plotters backend
frame/line              time:   [1.0 ms 1.1 ms 1.2 ms]
                        change: [-1% +0% +1%] (p = 0.5 > 0.05)
Found 2 outliers among 100 measurements (2.00%)

frame/a_very_long_benchmark_name_here
                        time:   [2.0 µs 2.5 µs 2.2 µs]
                        thrpt:  [10 elem/s 11 elem/s 12 elem/s]
";

    #[test]
    fn picks_time_lines_and_names() {
        assert_eq!(
            result_lines(OUT),
            vec![
                "frame/line              time:   [1.0 ms 1.1 ms 1.2 ms]",
                "frame/a_very_long_benchmark_name_here",
                "                        time:   [2.0 µs 2.5 µs 2.2 µs]",
                "                        thrpt:  [10 elem/s 11 elem/s 12 elem/s]",
            ]
        );
    }

    #[test]
    fn reads_medians_of_a_custom_measurement() {
        let out = "render x\n                        time:   [1.7585 ms (CPU) 1.7675 ms (CPU) 1.7779 ms (CPU)]\n";
        let results = criterion_results(out);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].0, "render x");
        assert!((results[0].1 - 1.7675).abs() < 1e-9);
    }

    #[test]
    fn reads_criterion_medians_in_ms() {
        let results = criterion_results(OUT);
        let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["frame/line", "frame/a_very_long_benchmark_name_here"]
        );
        assert!((results[0].1 - 1.1).abs() < 1e-9);
        assert!((results[1].1 - 0.0025).abs() < 1e-12);
    }

    #[test]
    fn reads_speed_lines() {
        let out = "running 1 test\nSPEED wasm32 200 frames 3.760 ms/frame\ntest ok\n";
        assert_eq!(speed(out, "wasm32"), Some(3.76));
        assert_eq!(speed(out, "native"), None);
    }
}
