//! The `deepfake` binary itself: its command list and its exit status.

use crate::{deepfake, stderr_of_failure, stdout_of};

#[test]
fn help_lists_every_command() {
    let help = stdout_of(&deepfake(&[&"--help"]));
    for command in [
        "train",
        "eval",
        "predict",
        "export",
        "data-info",
        "synth",
        "model-info",
        "serve",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "`deepfake --help` lacks {command}:\n{help}"
        );
    }
}

/// A command that fails exits with status 1 and prints its error with the causes
/// (`error: context: cause`), naming the file.
#[test]
fn a_failing_command_exits_1_with_its_error_and_cause() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let missing = dir.path().join("no-such-data");
    let stderr = stderr_of_failure(&deepfake(&[&"data-info", &missing]), 1);
    let context = format!("error: opening {}: ", missing.display());
    assert!(stderr.starts_with(&context), "{stderr}");
    assert!(
        stderr.trim_end().len() > context.len(),
        "no cause after the context: {stderr}"
    );
}
