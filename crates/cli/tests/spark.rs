//! The Spark path end to end on MovieLens 100K: `edgerec evaluate --write-split a` writes split
//! A's training interactions, the PySpark job of `examples/spark/` computes ALS factors,
//! neighbours and popularity from them (Spark in local mode), `edgerec pack` makes the model
//! file, and `edgerec evaluate --model` scores it on split A. Its user-personalization must reach
//! 0.9 × the NDCG@10 of edgerec's own (`edgerec evaluate`, default config, same data).
//!
//! Needs `$EDGEREC_PYTHON` (else `target/pyenv/bin/python`) with pyspark, Java, and ml-100k in
//! `$EDGEREC_DATA` (else `<repo root>/../shared/data`). When one is missing the test says what
//! it skipped and passes; under `EDGEREC_CI_STRICT=1` (`cargo xtask test`) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn strict() -> bool {
    std::env::var("EDGEREC_CI_STRICT").is_ok_and(|v| v == "1")
}

/// Skips (prints why) or, under CI, fails.
fn missing(what: &str) {
    assert!(!strict(), "EDGEREC_CI_STRICT=1 and {what}");
    println!("skipped: {what}");
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("EDGEREC_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(repo().join("target/pyenv/bin/python")).filter(|p| p.is_file()));
    let Some(p) = p else {
        missing(
            "no Python with pyspark: set EDGEREC_PYTHON or run `cargo xtask test` once (it installs target/pyenv)",
        );
        return None;
    };
    let ok = Command::new(&p)
        .args(["-c", "import pyspark, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing(&format!(
            "{} cannot import pyspark and numpy (tests/python-requirements.txt)",
            p.display()
        ));
        return None;
    }
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !java {
        missing(
            "no java on PATH (Spark needs Java 17; Debian: apt-get install -y openjdk-17-jre-headless)",
        );
        return None;
    }
    Some(p)
}

fn ml_100k() -> Option<PathBuf> {
    let root = match std::env::var_os("EDGEREC_DATA") {
        Some(d) => PathBuf::from(d),
        None => repo().join("../shared/data"),
    };
    let dir = root.join("ml-100k");
    if dir.join("u.data").is_file() {
        Some(dir)
    } else {
        missing(&format!("ml-100k not found at {}", dir.display()));
        None
    }
}

/// Runs `cmd`, failing with its output when it fails; its stdout.
fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn edgerec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgerec"))
}

/// Split A NDCG@10 of `recommender` in an `edgerec evaluate --json` file.
fn ndcg(json: &Path, recommender: &str) -> f64 {
    let text = std::fs::read_to_string(json).expect("report");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["results"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["name"] == recommender))
        .and_then(|x| x["split_a"]["NDCG@10"].as_f64())
        .unwrap_or_else(|| panic!("no {recommender} in {}", json.display()))
}

#[test]
fn spark_artefacts_pack_into_a_model_as_good_as_edgerecs_own() {
    let (Some(python), Some(data)) = (python(), ml_100k()) else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spark-ml-100k");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let split = dir.join("split-a");
    run(
        "edgerec evaluate --write-split a",
        edgerec()
            .arg("evaluate")
            .arg("--interactions")
            .arg(&data)
            .args(["--write-split", "a"])
            .arg(&split),
    );
    let csv = split.join("interactions.csv");
    let out = dir.join("artefacts");
    // The job's defaults (rank 64, 10 iterations, regParam 0.1, alpha 20: on split A's
    // validation split they scored NDCG@10 0.057, rank 32 with 6 iterations 0.051); its
    // neighbour pairs are cut to each user's 50 latest items to keep the self-join short.
    let t = Instant::now();
    let log = run(
        "the Spark job",
        Command::new(&python)
            .arg(repo().join("examples/spark/edgerec_artefacts.py"))
            .arg("--interactions")
            .arg(&csv)
            .arg("--output")
            .arg(&out)
            .args(["--partitions", "2", "--max-user-history", "50"])
            .env(
                "PYSPARK_SUBMIT_ARGS",
                "--master local[2] --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false pyspark-shell",
            ),
    );
    let job_seconds = t.elapsed().as_secs_f64();
    let model = dir.join("packed.erm");
    let t = Instant::now();
    let packed = run(
        "edgerec pack",
        edgerec()
            .arg("pack")
            .arg("--item-factors")
            .arg(out.join("item_factors"))
            .arg("--user-factors")
            .arg(out.join("user_factors"))
            .arg("--neighbors")
            .arg(out.join("neighbors"))
            .arg("--popularity")
            .arg(out.join("popularity"))
            .arg("--interactions")
            .arg(&csv)
            .arg("--output")
            .arg(&model)
            .arg("--json"),
    );
    let pack_seconds = t.elapsed().as_secs_f64();
    let packed: serde_json::Value = serde_json::from_str(&packed).expect("pack json");
    assert_eq!(
        packed["report"]["recommenders"],
        serde_json::json!([
            "user-personalization",
            "personalized-ranking",
            "sims",
            "popularity-count"
        ])
    );
    assert_eq!(packed["report"]["users_without_factors"], 0);
    let theirs = dir.join("packed.json");
    run(
        "edgerec evaluate --model",
        edgerec()
            .arg("evaluate")
            .arg("--interactions")
            .arg(&data)
            .arg("--model")
            .arg(&model)
            .arg("--json")
            .arg(&theirs),
    );
    let ours = dir.join("own.json");
    run(
        "edgerec evaluate",
        edgerec()
            .arg("evaluate")
            .arg("--interactions")
            .arg(&data)
            .arg("--json")
            .arg(&ours),
    );
    let (packed_ndcg, own_ndcg) = (
        ndcg(&theirs, "user-personalization"),
        ndcg(&ours, "user-personalization"),
    );
    println!(
        "split A NDCG@10 of user-personalization: packed from Spark {packed_ndcg:.4}, edgerec's own {own_ndcg:.4} ({:+.1}%); sims {:.4}; Spark job {job_seconds:.1}s; edgerec pack {pack_seconds:.2}s, {} bytes",
        (packed_ndcg / own_ndcg - 1.0) * 100.0,
        ndcg(&theirs, "sims"),
        packed["bytes"]
    );
    println!(
        "{}",
        log.lines()
            .filter(|l| l.starts_with("edgerec artefacts"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        packed_ndcg >= 0.9 * own_ndcg,
        "the packed model's NDCG@10 {packed_ndcg:.4} < 0.9 × edgerec's own {own_ndcg:.4}"
    );
}
