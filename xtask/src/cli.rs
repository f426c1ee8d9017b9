//! Running a `deepfake` command (the command-line library) inside xtask's process.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

/// `deepfake NAME ARGS`, in this process; an error if it fails (it has printed why).
pub fn run_command<S: Into<OsString> + Clone>(name: &str, args: &[S]) -> Result<()> {
    let command_line = [OsString::from("deepfake"), OsString::from(name)]
        .into_iter()
        .chain(args.iter().cloned().map(Into::into));
    let cli = deepfake_cli::Cli::try_parse_from(command_line)
        .with_context(|| format!("xtask's arguments of `deepfake {name}`"))?;
    if cli.command.run() != ExitCode::SUCCESS {
        bail!("`deepfake {name}` failed (its error is above)");
    }
    Ok(())
}
