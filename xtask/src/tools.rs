//! Installing missing tools: apt packages, the wasm target, wasm-bindgen-cli and trunk.

use std::path::Path;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::cargo;

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

/// Whether `package` is installed: its binary is on `PATH`, or for data packages
/// (fonts) the file tests use exists.
fn is_installed(sh: &Shell, package: &str) -> bool {
    match package {
        "chromium-driver" => has_binary(sh, "chromedriver"),
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

/// Whether we run as root (`id -u` == 0).
fn is_root(sh: &Shell) -> Result<bool> {
    let uid = cmd!(sh, "id -u")
        .quiet()
        .read()
        .context("running `id -u`")?;
    Ok(uid.trim() == "0")
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

/// Ensures `wasm-bindgen-cli` (and so `wasm-bindgen-test-runner`) matches the
/// `wasm-bindgen` crate version in `Cargo.lock`.
pub fn ensure_wasm_bindgen(sh: &Shell, root: &Path) -> Result<()> {
    let wanted = locked_version(sh, root, "wasm-bindgen")?;
    if installed_version(sh, "wasm-bindgen").as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {wanted} (cargo install; this takes a few minutes)");
    let cargo = cargo();
    // No --locked: the crate's own lockfile names a version the registry lacks.
    cmd!(sh, "{cargo} install wasm-bindgen-cli --version {wanted}")
        .run()
        .with_context(|| format!("cargo install wasm-bindgen-cli --version {wanted}"))?;
    check_installed(sh, "wasm-bindgen", &wanted)
}

/// Ensures `trunk` is installed at the pinned version.
pub fn ensure_trunk(sh: &Shell) -> Result<()> {
    if installed_version(sh, "trunk").as_deref() == Some(TRUNK_VERSION) {
        return Ok(());
    }
    println!("installing trunk {TRUNK_VERSION} (cargo install; this takes ~10 minutes)");
    let cargo = cargo();
    cmd!(
        sh,
        "{cargo} install trunk --version {TRUNK_VERSION} --locked"
    )
    .run()
    .with_context(|| format!("cargo install trunk --version {TRUNK_VERSION} --locked"))?;
    check_installed(sh, "trunk", TRUNK_VERSION)
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
