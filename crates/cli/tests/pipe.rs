#![allow(clippy::unwrap_used)]
//! Standard output that goes away: `edgerec inspect store.erm | head -2` stops quietly with
//! status 0 (no panic message, no backtrace) once the reader has closed the pipe; any other
//! failure to write stdout is a plain error.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Linux pipes hold 64 KiB; the outputs here are more than twice as large, so the command is
/// still writing (blocked on the full pipe) when the reader closes its end.
const PIPE_BUFFER: usize = 64 * 1024;

fn edgerec() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgerec"));
    // A panic would print its backtrace too.
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

/// A throwaway folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("edgerec-pipe-{name}-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains a model in `dir` over interactions with 600 items of long ids, each viewed by 6
/// users (so that `recommend --num-results 500` prints a lot), with thousands of named filters
/// (one line each in `inspect`).
fn model(dir: &Path) -> PathBuf {
    let mut csv = String::from("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n");
    let long = "x".repeat(240);
    for item in 0..600 {
        for user in item..item + 6 {
            let t = 1_700_000_000 + item * 10 + user;
            csv.push_str(&format!("u{},item-{item:04}-{long},{t},View\n", user % 30));
        }
    }
    let interactions = dir.join("interactions.csv");
    std::fs::write(&interactions, csv).unwrap();
    let mut config = String::from("[recommenders]\npopular = \"popularity-count\"\n[filters]\n");
    let filter = r#"'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")'"#;
    for n in 0..4000 {
        config.push_str(&format!("no-purchases-{n:04} = {filter}\n"));
    }
    let config_path = dir.join("many-filters.toml");
    std::fs::write(&config_path, config).unwrap();
    let model = dir.join("long.erm");
    let out = edgerec()
        .arg("--quiet")
        .arg("train")
        .arg("--interactions")
        .arg(&interactions)
        .arg("--config")
        .arg(&config_path)
        .arg("--output")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "train failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

/// Runs `edgerec args` with stdout a pipe, reads the first bytes and closes the pipe; checks
/// that the command ended with status 0 and wrote nothing to stderr. `args` must print much
/// more than a pipe holds (checked on a complete run first).
fn stops_quietly_when_the_reader_goes(args: &[OsString]) {
    let full = edgerec().args(args).output().unwrap();
    assert!(
        full.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&full.stderr)
    );
    assert!(
        full.stdout.len() > 2 * PIPE_BUFFER,
        "{args:?} prints only {} bytes: too few to fill the pipe",
        full.stdout.len()
    );

    let mut child = edgerec()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 16];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        head[..],
        full.stdout[..head.len()],
        "{args:?}: the output starts"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{args:?} panicked on the closed pipe:\n{stderr}"
    );
    assert!(
        out.status.success(),
        "{args:?} ended with {} on the closed pipe:\n{stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "{args:?} wrote to stderr:\n{stderr}");
}

#[test]
fn inspect_stops_quietly_when_the_reader_goes() {
    let dir = Scratch::new("inspect");
    stops_quietly_when_the_reader_goes(&["inspect".into(), model(&dir.0).into()]);
}

#[test]
fn recommend_stops_quietly_when_the_reader_goes() {
    let dir = Scratch::new("recommend");
    let args: Vec<OsString> = ["recommend", "--num-results", "500", "--model"]
        .into_iter()
        .map(OsString::from)
        .chain([model(&dir.0).into()])
        .collect();
    stops_quietly_when_the_reader_goes(&args);
}

/// A write that fails for another reason (a full disk) is an error, reported as the command
/// line's other errors are.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden/model-v1.erm");
    let out = edgerec()
        .arg("inspect")
        .arg(model)
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "inspect > /dev/full succeeded");
    assert!(
        !stderr.contains("panicked"),
        "inspect > /dev/full panicked:\n{stderr}"
    );
    assert_eq!(
        stderr,
        "error: writing to standard output: No space left on device (os error 28)\n"
    );
}
