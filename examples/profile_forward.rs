//! Where the time of a CPU forward pass goes: every layer kind timed over several passes of the
//! model's own forward (through its timing hooks), largest first.
//!
//! `cargo run --release --example profile_forward -- [--preset seed] [--batch-size 8] [--iters 3]
//! [--fast]` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::profile_forward`].

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::profile_forward::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
