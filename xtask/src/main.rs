//! `cargo xtask`: project automation for plotcast (matklad's xtask convention).
//!
//! Run `cargo xtask --help` for the list of commands.

mod bench;
mod cycles;
mod dist;
mod echo;
mod fuzz;
mod opencv;
mod run;
mod test;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use xshell::Shell;

/// Command line of `cargo xtask`.
#[derive(Parser)]
#[command(name = "cargo xtask", about = "plotcast project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The xtask commands.
#[derive(Subcommand)]
enum Command {
    /// Run every check (fmt, clippy, native tests, wasm tests); THE test command.
    Test,
    /// Build the editor (if present) and run the server; extra args go to `plotcast serve`.
    Run {
        /// Arguments passed through to `plotcast serve`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check that no module of a crate uses itself through others (import cycles).
    Cycles,
    /// Build a release bundle into `dist/`.
    Dist,
    /// Run every benchmark (criterion, wasm vs native, server load) and write
    /// `BENCHMARKS.md`.
    Bench {
        /// A short smoke run of the server load suite (smaller numbers).
        #[arg(long)]
        quick: bool,
        /// Only these load suite phases (comma-separated, e.g. `longwindow`), no
        /// criterion; the report goes to `target/bench-only.md`, not `BENCHMARKS.md`.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Run every cargo-fuzz target (nightly) for a while against a copy of its corpus.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
    },
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let root = project_root()?;
    let sh = Shell::new().context("creating shell")?;
    sh.change_dir(&root);
    match cli.command {
        Command::Test => {
            let all_passed = test::run(&sh, &root)?;
            return Ok(if all_passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Run { args } => run::run(&sh, &root, &args)?,
        Command::Cycles => cycles::run(&sh, &root)?,
        Command::Dist => dist::run(&sh, &root)?,
        Command::Bench { quick, only } => bench::run(&sh, &root, quick, &only)?,
        Command::Fuzz { seconds, target } => fuzz::run(&sh, &root, seconds, target.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The workspace root: the parent of this crate's manifest directory.
fn project_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask manifest directory has no parent")
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, relative to the root, or `target/`).
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The `cargo` to use for nested invocations (the one running us, if known).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
