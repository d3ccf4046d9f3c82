//! `cargo xtask run`: build and serve. On a first run the tools install while the
//! server builds; the server starts as soon as it is built (demo and API), and the
//! editor appears at `/` once trunk has built it (till then `/` says it is being built).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::tools::{self, Step};
use crate::{cargo, target_dir};

/// How long the release build of the server takes from scratch on 2 cores.
const SERVER_BUILD: Duration = Duration::from_secs(4 * 60);
/// How long trunk's release build of the editor takes from scratch on 2 cores.
const EDITOR_BUILD: Duration = Duration::from_secs(2 * 60);

/// Installs what is missing, builds the server and starts `plotcast serve` with `args`
/// appended, then builds the editor while it serves.
pub fn run(sh: &Shell, root: &Path, args: &[String]) -> Result<()> {
    tools::ensure_apt(sh, tools::BUILD_PACKAGES)?;
    tools::ensure_wasm_target(sh)?;
    let installs = tools::missing(sh, vec![tools::wasm_bindgen(sh, root)?, tools::trunk()]);
    let total = installs.len() + 2;
    let install_steps: Vec<Step> = (1..)
        .zip(&installs)
        .map(|(number, tool)| tool.step(number, total))
        .collect();
    let server = Step::new(
        total - 1,
        total,
        "building the server (cargo build --release)".to_owned(),
        SERVER_BUILD,
    );
    let editor = Step::new(
        total,
        total,
        "building the editor (trunk build --release)".to_owned(),
        EDITOR_BUILD,
    );
    if !installs.is_empty() {
        // The installs yield to the server build; all of them share the cores.
        let editor_ready: Duration = install_steps
            .iter()
            .chain([&server, &editor])
            .map(Step::estimate)
            .sum();
        println!(
            "first run: {total} steps, the tools install while the server builds (2 cores; \
             later runs take seconds). The demo and the API answer in about {}, the editor \
             within about {}:",
            tools::roughly(server.estimate()),
            tools::roughly(editor_ready)
        );
        for step in install_steps.iter().chain([&server, &editor]) {
            println!("  {step}");
        }
    }
    let installs = installs
        .into_iter()
        .zip(install_steps)
        .map(|(tool, step)| tool.install_in_background(root, step))
        .collect::<Result<Vec<_>>>()?;

    let cargo = cargo();
    timed(&server, || {
        cmd!(sh, "{cargo} build --release -p server --bin plotcast")
            .run()
            .context("building the server")
    })?;
    // An editor directory without `index.html` makes `/` say the editor is being built.
    let dist = root.join("web/dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    let binary = target_dir(root).join("release/plotcast");
    let mut plotcast = Command::new(&binary)
        .arg("serve")
        .args(args)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;

    let built = installs
        .into_iter()
        .try_for_each(|install| install.wait(sh))
        .and_then(|()| timed(&editor, || trunk_build(sh, root)));
    if let Err(e) = built {
        // Stop the server, and leave no empty directory saying a build is under way.
        let _ = plotcast.kill();
        let _ = plotcast.wait();
        if !dist.join("index.html").exists() {
            let _ = std::fs::remove_dir_all(&dist);
        }
        return Err(e);
    }
    println!("the editor is ready: reload the server's page at /");
    let status = plotcast.wait().context("waiting for the server")?;
    if !status.success() {
        bail!("the server stopped: {status}");
    }
    Ok(())
}

/// Runs `step`, printing when it starts and how long it took.
fn timed(step: &Step, work: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("{step}…");
    let start = Instant::now();
    work()?;
    step.done(start);
    Ok(())
}

/// Builds the wasm editor into `web/dist` with trunk, installing the tools first
/// (skipped when already present).
pub fn build_editor(sh: &Shell, root: &Path) -> Result<()> {
    tools::ensure_editor_tools(sh, root)?;
    trunk_build(sh, root)
}

/// `trunk build --release` in `web/`.
fn trunk_build(sh: &Shell, root: &Path) -> Result<()> {
    let _dir = sh.push_dir(root.join("web"));
    cmd!(sh, "trunk build --release --offline")
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .run()
        .context("building the editor with trunk")?;
    Ok(())
}
