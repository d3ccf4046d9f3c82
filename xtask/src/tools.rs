//! Installing missing tools: apt packages, the wasm target, and wasm-bindgen-cli and
//! trunk (built by `cargo install` at the same time), with numbered, timed steps.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::{cargo, target_dir};

/// The wasm target used for the editor and the wasm identity tests.
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The pinned trunk version.
const TRUNK_VERSION: &str = "0.21.14";

/// System packages the build itself needs: cmake and nasm build the vendored
/// libjpeg-turbo the server encodes frames with.
pub const BUILD_PACKAGES: &[&str] = &["cmake", "nasm"];

/// Ensures the binaries of the given Debian packages are on `PATH`.
///
/// Missing packages are installed with `apt-get` when running as root;
/// otherwise this fails with the exact command to run.
pub fn ensure_apt(sh: &Shell, packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|pkg| !is_installed(sh, pkg))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root(sh)? {
        bail!(
            "missing system packages: {list}\n\
             install them with:\n    sudo apt-get install -y {list}"
        );
    }
    println!("installing system packages: {list}");
    let pkgs = &missing;
    let install = || {
        cmd!(sh, "apt-get install -y {pkgs...}")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()
    };
    if install().is_err() {
        // Typically a stale or empty package index on a fresh machine.
        cmd!(sh, "apt-get update")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()
            .context("apt-get update")?;
        install().with_context(|| format!("apt-get install -y {list}"))?;
    }
    let still_missing: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|pkg| !is_installed(sh, pkg))
        .collect();
    if !still_missing.is_empty() {
        bail!(
            "installed {list}, but still not on PATH: {}",
            still_missing.join(" ")
        );
    }
    Ok(())
}

/// Whether `package` is installed: its binary is on `PATH`, for data packages (fonts)
/// the file tests use exists, for GStreamer plugins the elements tests use are found.
fn is_installed(sh: &Shell, package: &str) -> bool {
    match package {
        "chromium-driver" => has_binary(sh, "chromedriver"),
        "gstreamer1.0-tools" => has_binary(sh, "gst-launch-1.0"),
        "gstreamer1.0-plugins-good" => has_gstreamer_elements(sh, GSTREAMER_ELEMENTS),
        // Debian's python3 lacks `ensurepip` (so `python3 -m venv` fails) without it.
        "python3-venv" => cmd!(sh, "python3 -c 'import ensurepip'")
            .quiet()
            .ignore_stderr()
            .run()
            .is_ok(),
        "fonts-wqy-microhei" => {
            Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists()
        }
        binary => has_binary(sh, binary),
    }
}

/// Whether `bin` is found on `PATH`.
fn has_binary(sh: &Shell, bin: &str) -> bool {
    cmd!(sh, "which {bin}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// The GStreamer elements the e2e tests use (`souphttpsrc`, `multipartdemux`, `jpegdec`
/// and `pngenc` are in gstreamer1.0-plugins-good).
const GSTREAMER_ELEMENTS: &[&str] = &["souphttpsrc", "multipartdemux", "jpegdec", "pngenc"];

/// Whether `gst-inspect-1.0` finds each of `elements`.
fn has_gstreamer_elements(sh: &Shell, elements: &[&str]) -> bool {
    elements.iter().all(|element| {
        cmd!(sh, "gst-inspect-1.0 {element}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_ok()
    })
}

/// Whether we run as root (`id -u` == 0).
fn is_root(sh: &Shell) -> Result<bool> {
    let uid = cmd!(sh, "id -u")
        .quiet()
        .read()
        .context("running `id -u`")?;
    Ok(uid.trim() == "0")
}

/// Ensures what building the editor takes: the wasm target, wasm-bindgen-cli and trunk
/// (both `cargo install`s at once).
pub fn ensure_editor_tools(sh: &Shell, root: &Path) -> Result<()> {
    ensure_wasm_target(sh)?;
    ensure_cargo_tools(sh, root, vec![wasm_bindgen(sh, root)?, trunk()])
}

/// Ensures the `wasm32-unknown-unknown` rustup target is installed.
pub fn ensure_wasm_target(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed")
        .quiet()
        .read()
        .context("listing installed rustup targets")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    cmd!(sh, "rustup target add {WASM_TARGET}")
        .run()
        .with_context(|| format!("rustup target add {WASM_TARGET}"))?;
    Ok(())
}

/// A tool `cargo install` builds, at an exact version.
pub struct CargoTool {
    /// The crate.
    krate: &'static str,
    /// Its binary, whose `--version` prints the version.
    bin: &'static str,
    version: String,
    /// Further `cargo install` arguments.
    args: &'static [&'static str],
    /// How long the install takes on a 2-core machine (measured: README.md).
    estimate: Duration,
}

/// `wasm-bindgen-cli` (and so `wasm-bindgen-test-runner`) at the version of the
/// `wasm-bindgen` crate in `Cargo.lock`.
pub fn wasm_bindgen(sh: &Shell, root: &Path) -> Result<CargoTool> {
    Ok(CargoTool {
        krate: "wasm-bindgen-cli",
        bin: "wasm-bindgen",
        version: locked_version(sh, root, "wasm-bindgen")?,
        // No --locked: the crate's own lockfile names a version the registry lacks.
        args: &[],
        estimate: Duration::from_secs(4 * 60),
    })
}

/// trunk at the pinned version, without its default features: no TLS (it never
/// downloads anything for us: wasm-bindgen is installed, wasm-opt is off in
/// `web/index.html`, and it runs `--offline`) and no update check.
pub fn trunk() -> CargoTool {
    CargoTool {
        krate: "trunk",
        bin: "trunk",
        version: TRUNK_VERSION.to_owned(),
        args: &["--locked", "--no-default-features"],
        estimate: Duration::from_secs(6 * 60),
    }
}

impl CargoTool {
    /// Whether `bin --version` reports the wanted version.
    fn is_installed(&self, sh: &Shell) -> bool {
        installed_version(sh, self.bin).as_deref() == Some(self.version.as_str())
    }

    /// The progress step installing it, number `number` of `total`.
    pub fn step(&self, number: usize, total: usize) -> Step {
        Step::new(
            number,
            total,
            format!("installing {} {}", self.krate, self.version),
            self.estimate,
        )
    }

    /// Starts `cargo install` in a thread, niced, with its own target directory (so it
    /// waits for no other build's lock) under `target/tools/`, its output logged there.
    pub fn install_in_background(self, root: &Path, step: Step) -> Result<Install> {
        let dir = target_dir(root).join("tools");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let log_path = dir.join(format!("{}.log", self.krate));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        // At a lower priority: builds that run meanwhile (the server) come first.
        let mut command = Command::new("nice");
        command
            .args([
                "-n",
                "10",
                &cargo(),
                "install",
                self.krate,
                "--version",
                &self.version,
            ])
            .args(self.args)
            .arg("--target-dir")
            .arg(dir.join(self.krate))
            .stdout(log.try_clone().context("opening the install log")?)
            .stderr(log);
        let what = format!("cargo install {} --version {}", self.krate, self.version);
        println!("{step}: in the background, log in {}", log_path.display());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let status = command
                .status()
                .with_context(|| format!("starting `{what}`"))?;
            if !status.success() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "`{what}` failed ({status}); the end of {}:\n{}",
                    log_path.display(),
                    tail.join("\n")
                );
            }
            step.done(start);
            Ok(())
        });
        Ok(Install { tool: self, thread })
    }
}

/// A `cargo install` under way.
pub struct Install {
    tool: CargoTool,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Install {
    /// Waits for it; fails unless the tool now runs at its version.
    pub fn wait(self, sh: &Shell) -> Result<()> {
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the thread installing {} panicked", self.tool.krate))??;
        check_installed(sh, self.tool.bin, &self.tool.version)
    }
}

/// Those of `tools` that are not installed at their version.
pub fn missing(sh: &Shell, tools: Vec<CargoTool>) -> Vec<CargoTool> {
    tools.into_iter().filter(|t| !t.is_installed(sh)).collect()
}

/// Installs those of `tools` that are missing, all at once, and waits for them.
pub fn ensure_cargo_tools(sh: &Shell, root: &Path, tools: Vec<CargoTool>) -> Result<()> {
    let missing = missing(sh, tools);
    let total = missing.len();
    let installs = missing
        .into_iter()
        .enumerate()
        .map(|(i, tool)| {
            let step = tool.step(i + 1, total);
            tool.install_in_background(root, step)
        })
        .collect::<Result<Vec<_>>>()?;
    installs
        .into_iter()
        .try_for_each(|install| install.wait(sh))
}

/// One numbered step of a long run: announced with how long it takes, timed when done.
pub struct Step {
    number: usize,
    total: usize,
    what: String,
    estimate: Duration,
}

impl Step {
    /// Step `number` of `total`: `what` takes about `estimate` (on a 2-core machine).
    pub fn new(number: usize, total: usize, what: String, estimate: Duration) -> Step {
        Step {
            number,
            total,
            what,
            estimate,
        }
    }

    /// How long it takes, roughly.
    pub fn estimate(&self) -> Duration {
        self.estimate
    }

    /// Prints that it ended, with the time since `start`.
    pub fn done(&self, start: Instant) {
        println!(
            "[{}/{}] {}: done in {}",
            self.number,
            self.total,
            self.what,
            minutes(start.elapsed())
        );
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{}] {} (about {} from scratch)",
            self.number,
            self.total,
            self.what,
            roughly(self.estimate)
        )
    }
}

/// `6 min`, `30 s`: an estimate.
pub fn roughly(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 90 {
        format!("{secs} s")
    } else {
        format!("{} min", (secs + 30) / 60)
    }
}

/// `5m12s`, `48s`: a measured time.
pub fn minutes(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// Fails unless `<bin> --version` now reports `version` (e.g. `~/.cargo/bin` not on PATH).
fn check_installed(sh: &Shell, bin: &str, version: &str) -> Result<()> {
    match installed_version(sh, bin) {
        Some(v) if v == version => Ok(()),
        Some(v) => {
            bail!("installed {bin} {version}, but `{bin} --version` reports {v} (PATH order?)")
        }
        None => bail!("installed {bin} {version}, but `{bin}` is not on PATH (add ~/.cargo/bin)"),
    }
}

/// The version from `<bin> --version` (second word, e.g. `wasm-bindgen 0.2.130`), if it runs.
fn installed_version(sh: &Shell, bin: &str) -> Option<String> {
    let out = cmd!(sh, "{bin} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    out.split_whitespace()
        .nth(1)
        .map(|v| v.trim_start_matches('v').to_owned())
}

/// The version of `package` recorded in the workspace `Cargo.lock` (created if absent).
fn locked_version(sh: &Shell, root: &Path, package: &str) -> Result<String> {
    let lock_path = root.join("Cargo.lock");
    if !lock_path.exists() {
        let cargo = cargo();
        cmd!(sh, "{cargo} metadata --format-version 1")
            .quiet()
            .ignore_stdout()
            .run()
            .context("creating Cargo.lock (cargo metadata)")?;
    }
    let lock = sh
        .read_file(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == name_line {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    bail!("no `{package}` package in {}", lock_path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_say_how_long() {
        let step = Step::new(
            2,
            4,
            "installing trunk".to_owned(),
            Duration::from_secs(360),
        );
        assert_eq!(
            step.to_string(),
            "[2/4] installing trunk (about 6 min from scratch)"
        );
        assert_eq!(roughly(Duration::from_secs(30)), "30 s");
        assert_eq!(minutes(Duration::from_secs(312)), "5m12s");
        assert_eq!(minutes(Duration::from_secs(48)), "48s");
    }
}
