//! What the CLI's test binaries share: the `edgerec` binary under test, and running it.

use std::process::Command;

/// The `edgerec` binary of this build.
pub fn edgerec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgerec"))
}

/// Runs `cmd` with piped output and returns both streams; fails the test when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("edgerec runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}
