#![allow(clippy::unwrap_used)]
//! `edgerec import` / `train` on an event lake written by pyarrow (tests/lake/write_lake.py):
//! a folder partitioned by day, and the same folder on a local S3-compatible server (moto) read
//! through `s3://bucket/prefix`. The report's counts are exact, `--since` reads only the newer
//! days, and the model equals the one trained from the same rows as a CSV.
//!
//! The Python tools come from `EDGEREC_PYTHON` (default `<repo>/target/pyenv/bin/python`, the
//! venv `cargo xtask test` installs from tests/python-requirements.txt). Without them each test
//! says what it skipped and passes, unless `EDGEREC_CI_STRICT=1`: then it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python when it has `modules`; otherwise `None` after saying why (or a failure
/// under `EDGEREC_CI_STRICT=1`).
fn python(test: &str, modules: &str) -> Option<PathBuf> {
    let python = std::env::var_os("EDGEREC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/pyenv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let why = format!(
        "{test}: skipped: {} cannot import {modules} (set EDGEREC_PYTHON to a Python with \
         tests/python-requirements.txt installed; `cargo xtask test` makes target/pyenv)",
        python.display()
    );
    assert!(
        std::env::var("EDGEREC_CI_STRICT").as_deref() != Ok("1"),
        "{why} — EDGEREC_CI_STRICT=1 makes this a failure"
    );
    println!("{why}");
    None
}

/// A throwaway folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("edgerec-lake-{name}-{}", std::process::id()));
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

fn edgerec() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgerec"));
    cmd.env("RUST_BACKTRACE", "1")
        .env("SOURCE_DATE_EPOCH", "1714521600");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes the lake and the expected CSVs into `dir`.
fn write_lake(python: &Path, dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lake/write_lake.py");
    run(Command::new(python).arg(script).arg(dir));
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

/// `edgerec import --json` of `args`: the report.
fn import(
    dir: &Path,
    tag: &str,
    args: &[&str],
    envs: &[(&str, String)],
) -> (serde_json::Value, String) {
    let json = dir.join(format!("{tag}.json"));
    let out = run(edgerec()
        .arg("import")
        .args(args)
        .arg("--json")
        .arg(&json)
        .envs(envs.iter().map(|(k, v)| (k, v))));
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (report, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn train(args: &[&str], output: &Path, envs: &[(&str, String)]) -> Vec<u8> {
    run(edgerec()
        .arg("--quiet")
        .arg("train")
        .args(args)
        .args(["--dataset-name", "lake", "--output"])
        .arg(output)
        .envs(envs.iter().map(|(k, v)| (k, v))));
    std::fs::read(output).unwrap()
}

/// The counts of an import report against the script's bookkeeping.
fn check_counts(report: &serde_json::Value, want: &serde_json::Value, files: u64) {
    let f = &report["files"][0];
    assert_eq!(report["format"], "parquet");
    assert_eq!(f["rows_read"], want["rows"], "{f:#}");
    assert_eq!(f["rows_kept"], want["kept"], "{f:#}");
    assert_eq!(report["interactions"], want["kept"]);
    let dropped = |reason: &str| {
        f["dropped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["reason"] == reason)
            .map_or(0, |d| d["count"].as_u64().unwrap())
    };
    assert_eq!(
        dropped("duplicate_event"),
        want["duplicates"].as_u64().unwrap()
    );
    assert_eq!(dropped("no_item"), want["no_item"].as_u64().unwrap());
    assert_eq!(f["parquet"]["files_read"], files);
    assert_eq!(f["parquet"]["anonymous_attributed"], want["attributed"]);
    assert_eq!(f["parquet"]["anonymous_sessions"], want["anonymous"]);
    assert_eq!(report["malformed_rows"], 0);
}

#[test]
fn a_pyarrow_lake_imports_and_trains_like_its_csv() {
    let Some(python) = python("a_pyarrow_lake_imports_and_trains_like_its_csv", "pyarrow") else {
        return;
    };
    let scratch = Scratch::new("folder");
    let dir = &scratch.0;
    let want = write_lake(&python, dir);
    let lake = dir.join("lake");
    let lake_arg = lake.to_str().unwrap();

    let (report, _) = import(dir, "all", &["--interactions", lake_arg], &[]);
    check_counts(&report, &want["all"], 3);
    // The exact figures of write_lake.py (its own bookkeeping is checked above).
    assert_eq!(report["interactions"], 425);
    assert_eq!(report["users"], 41); // 40 users and one session that never showed one
    let (since, _) = import(
        dir,
        "since",
        &["--interactions", lake_arg, "--since", "2024-05-02"],
        &[],
    );
    check_counts(&since, &want["since"], 2);
    assert_eq!(since["files"][0]["parquet"]["files_skipped"], 1);
    assert_eq!(since["interactions"], 282);

    let csv = dir.join("expected.csv");
    let a = train(&["--interactions", lake_arg], &dir.join("lake.erm"), &[]);
    let b = train(
        &["--interactions", csv.to_str().unwrap()],
        &dir.join("csv.erm"),
        &[],
    );
    assert!(a == b, "the lake's model differs from the CSV's");
    let csv = dir.join("expected-since.csv");
    let a = train(
        &["--interactions", lake_arg, "--since", "2024-05-02"],
        &dir.join("lake-since.erm"),
        &[],
    );
    let b = train(
        &["--interactions", csv.to_str().unwrap()],
        &dir.join("csv-since.erm"),
        &[],
    );
    assert!(a == b, "the lake's model (--since) differs from the CSV's");

    // A bad date is one clear error.
    let out = edgerec()
        .args([
            "import",
            "--interactions",
            lake_arg,
            "--since",
            "2024-13-01",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"2024-13-01\" is not a date: expected YYYY-MM-DD"),
        "{err}"
    );
}

/// A moto S3 server on a free port, killed when dropped (also when the test fails).
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start(python: &Path, log: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const UPLOAD: &str = r#"
import os, sys, boto3
endpoint, bucket, prefix, folder = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket=bucket)
for root, _, files in os.walk(folder):
    for f in sorted(files):
        path = os.path.join(root, f)
        key = prefix + "/" + os.path.relpath(path, folder).replace(os.sep, "/")
        s3.upload_file(path, bucket, key)
s3.put_object(Bucket=bucket, Key="elsewhere/notes.txt", Body=b"not a lake")
"#;

#[test]
fn an_s3_lake_reads_like_the_folder() {
    let Some(python) = python("an_s3_lake_reads_like_the_folder", "pyarrow, moto, boto3") else {
        return;
    };
    let scratch = Scratch::new("s3");
    let dir = &scratch.0;
    let want = write_lake(&python, dir);
    let moto = Moto::start(&python, &dir.join("moto.log"));
    let env = moto.env();
    run(Command::new(&python)
        .args([
            "-c",
            UPLOAD,
            &moto.endpoint,
            "shop-events",
            "lake/interactions",
        ])
        .arg(dir.join("lake")));

    let url = "s3://shop-events/lake/interactions";
    let (report, stderr) = import(
        dir,
        "s3-since",
        &["--interactions", url, "--since", "2024-05-02"],
        &env,
    );
    check_counts(&report, &want["since"], 2);
    assert!(
        stderr.contains("fetching 1/2 dt=2024-05-02/part-0.parquet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fetching 2/2 dt=2024-05-03/part-0.parquet"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "3 Parquet object(s) listed, 1 in partitions before dt=2024-05-02 left out; 2 fetched"
        ),
        "{stderr}"
    );

    // The model trained from the bucket equals the one trained from the folder.
    let folder = dir.join("lake");
    let a = train(
        &["--interactions", url, "--since", "2024-05-02"],
        &dir.join("s3.erm"),
        &env,
    );
    let b = train(
        &[
            "--interactions",
            folder.to_str().unwrap(),
            "--since",
            "2024-05-02",
        ],
        &dir.join("folder.erm"),
        &[],
    );
    assert!(a == b, "the bucket's model differs from the folder's");

    // A kept cache fetches only what it lacks.
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();
    let (_, first) = import(
        dir,
        "c1",
        &["--interactions", url, "--cache", cache_arg],
        &env,
    );
    assert!(first.contains("3 fetched"), "{first}");
    let (again, second) = import(
        dir,
        "c2",
        &["--interactions", url, "--cache", cache_arg],
        &env,
    );
    assert!(second.contains("0 fetched (0 B), 3 already in"), "{second}");
    check_counts(&again, &want["all"], 3);

    // Failures are one line each.
    let fail = |args: &[&str], envs: &[(&str, String)]| {
        let out = edgerec()
            .arg("import")
            .args(args)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let err = fail(&["--interactions", "s3://no-such-bucket/lake"], &env);
    assert!(
        err.starts_with("error: s3://no-such-bucket/lake: "),
        "{err}"
    );
    assert!(
        err.contains("no such bucket") || err.contains("not found"),
        "{err}"
    );
    let err = fail(&["--interactions", "s3://shop-events/elsewhere"], &env);
    assert_eq!(
        err,
        "error: s3://shop-events/elsewhere: no .parquet objects under this prefix"
    );
    let err = fail(&["--interactions", url, "--since", "2030-01-01"], &env);
    assert!(err.contains("no .parquet objects under this prefix in the partitions asked for (3 older object(s) left out)"), "{err}");
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut unreachable = env.clone();
    unreachable[0].1 = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let err = fail(&["--interactions", url], &unreachable);
    assert!(err.contains("the endpoint does not answer"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    drop(moto);
}
