//! `cargo xtask dist`: build a release bundle into `dist/`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::{cargo, run::build_editor, target_dir, tools};

/// systemd unit installed alongside the binary.
const SERVICE_UNIT: &str = "\
[Unit]
Description=plotcast: live charts streamed as MJPEG
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/plotcast serve --config /etc/plotcast/plotcast.toml --data-dir /var/lib/plotcast
DynamicUser=yes
StateDirectory=plotcast
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
";

/// Builds the editor and the server, then assembles `dist/`.
pub fn run(sh: &Shell, root: &Path) -> Result<()> {
    tools::ensure_apt(sh, tools::BUILD_PACKAGES)?;
    build_editor(sh, root)?;
    let cargo = cargo();
    cmd!(
        sh,
        "{cargo} build --profile dist -p server --features embed-editor"
    )
    .run()
    .context("building the server")?;

    let dist = root.join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("removing {}", dist.display()))?;
    }
    fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;

    let binary = target_dir(root).join("dist").join("plotcast");
    copy(&binary, &dist.join("plotcast"))?;

    let example_config = root.join("server").join("plotcast.example.toml");
    if example_config.exists() {
        copy(&example_config, &dist.join("plotcast.toml"))?;
    } else {
        println!("note: server/plotcast.example.toml not found; no dist/plotcast.toml");
    }

    let unit = dist.join("plotcast.service");
    fs::write(&unit, SERVICE_UNIT).with_context(|| format!("writing {}", unit.display()))?;

    let licenses = root.join("licenses");
    if licenses.is_dir() {
        copy_tree(&licenses, &dist.join("licenses"))?;
    } else {
        println!("note: licenses/ not found; no dist/licenses");
    }

    println!("dist ready in {}", dist.display());
    Ok(())
}

/// Copies one file, with context.
fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Recursively copies every file under `from` into `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let entries = fs::read_dir(from).with_context(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            copy(&path, &dest)?;
        }
    }
    Ok(())
}
