//! OpenCV for Python, the last of the MJPEG clients the end-to-end tests run: a
//! virtual environment under `target/tools/opencv` with `opencv-python-headless`
//! (PyPI's wheel, which reads HTTP streams through its bundled FFmpeg) at a pinned
//! version. Debian's `python3-opencv` would pull in over a hundred packages.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::{target_dir, tools};

/// The pinned wheel.
const OPENCV: &str = "opencv-python-headless==5.0.0.93";

/// The environment's directory; the e2e tests find its `bin/python` the same way
/// (`tests::opencv_python`).
fn venv(root: &Path) -> PathBuf {
    target_dir(root).join("tools").join("opencv")
}

/// Ensures the environment exists and imports `cv2`.
pub fn ensure(sh: &Shell, root: &Path) -> Result<()> {
    let venv = venv(root);
    let python = venv.join("bin").join("python");
    let imports = || {
        cmd!(sh, "{python} -c 'import cv2'")
            .quiet()
            .ignore_stderr()
            .run()
            .is_ok()
    };
    if python.exists() && imports() {
        return Ok(());
    }
    println!(
        "installing {OPENCV} from PyPI into {} (about a minute)",
        venv.display()
    );
    tools::ensure_apt(sh, &["python3-venv"])?;
    cmd!(sh, "python3 -m venv --clear {venv}")
        .run()
        .context("python3 -m venv")?;
    cmd!(
        sh,
        "{python} -m pip install --quiet --disable-pip-version-check {OPENCV}"
    )
    .run()
    .with_context(|| format!("pip install {OPENCV}"))?;
    anyhow::ensure!(imports(), "{OPENCV} installed, but `import cv2` fails");
    Ok(())
}
