//! Runs a command with its output shown live while the caller reads it too: the bench
//! keeps criterion's lines, the test command counts `test result:` lines.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result};

/// Runs `command` (shown as `shown` in errors), printing each line of its stdout and
/// handing it to `on_line`; returns how it exited.
pub fn run_echoing(
    command: &mut Command,
    shown: &str,
    mut on_line: impl FnMut(&str),
) -> Result<ExitStatus> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{shown}`"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.with_context(|| format!("reading the output of `{shown}`"))?;
            println!("{line}");
            on_line(&line);
        }
    }
    child
        .wait()
        .with_context(|| format!("waiting for `{shown}`"))
}
