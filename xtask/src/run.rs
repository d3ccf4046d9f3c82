//! `cargo xtask run`: build the editor (if present) and run the server.

use std::path::Path;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::{cargo, tools};

/// Builds the editor, then runs `plotcast serve` with `args` appended.
pub fn run(sh: &Shell, root: &Path, args: &[String]) -> Result<()> {
    tools::ensure_apt(sh, tools::BUILD_PACKAGES)?;
    build_editor(sh, root)?;
    let cargo = cargo();
    cmd!(sh, "{cargo} run --release -p server -- serve {args...}")
        .run()
        .context("running the server")?;
    Ok(())
}

/// Builds the wasm editor into `web/dist` with trunk, installing the tools first
/// (skipped when already present).
pub fn build_editor(sh: &Shell, root: &Path) -> Result<()> {
    let web = root.join("web");
    tools::ensure_wasm_target(sh)?;
    tools::ensure_wasm_bindgen(sh, root)?;
    tools::ensure_trunk(sh)?;
    let _dir = sh.push_dir(&web);
    cmd!(sh, "trunk build --release --offline")
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .run()
        .context("building the editor with trunk")?;
    Ok(())
}
