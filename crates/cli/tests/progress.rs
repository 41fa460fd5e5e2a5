#![allow(clippy::unwrap_used)]
//! Progress on the command line: the `edgerec` binary writes no control characters when its
//! output is not a terminal (and draws bars when it is). The library's own progress reports are
//! tested in crates/trainer/tests/progress.rs.

use std::path::{Path, PathBuf};

mod common;
use common::{edgerec, run};

use edgerec_trainer::progress::SILENT;
use edgerec_trainer::synth::{self, RetailCatalog, SynthConfig};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo")
}

/// A throwaway folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgerec-progress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Storefront data of 60 generated shoppers (a few thousand interactions), written to `dir`.
fn small_data(dir: &Path) -> PathBuf {
    let catalog = RetailCatalog::load(&demo().join("../retail")).unwrap();
    let cfg = SynthConfig {
        users: 60,
        ..SynthConfig::default()
    };
    let out = synth::generate_with(&catalog, &cfg, SILENT);
    synth::write_dir(&out, dir).unwrap();
    dir.join("interactions.csv")
}

fn assert_clean(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n' && c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: control characters {bad:?} in piped output:\n{text}"
    );
}

#[test]
fn piped_output_of_every_long_command_has_no_control_characters() {
    let tmp = scratch("cli");
    let config = tmp.join("small.toml");
    std::fs::write(
        &config,
        "[recommenders]\nviewed = \"sims (eventType=View, window=10)\"\npopular = \"popularity-count\"\n",
    )
    .unwrap();
    let gen_dir = tmp.join("gen");
    let catalog = demo().join("../retail");
    let data = small_data(&tmp.join("small"));
    let model = tmp.join("m.erm");
    let runs: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "generate",
            vec![
                "generate".into(),
                "--catalog".into(),
                catalog.into(),
                "--users".into(),
                "40".into(),
                "--out".into(),
                gen_dir.into(),
            ],
        ),
        (
            "import",
            vec![
                "import".into(),
                "--interactions".into(),
                data.clone().into(),
            ],
        ),
        (
            "train --hpo",
            vec![
                "train".into(),
                "--interactions".into(),
                data.clone().into(),
                "--config".into(),
                config.clone().into(),
                "--hpo".into(),
                "--hpo-trials".into(),
                "2".into(),
                "--output".into(),
                model.clone().into(),
            ],
        ),
        (
            "evaluate",
            vec![
                "evaluate".into(),
                "--interactions".into(),
                data.clone().into(),
                "--config".into(),
                config.into(),
            ],
        ),
    ];
    for (what, args) in &runs {
        assert_clean(what, &run(edgerec().args(args)));
    }
    // batch and segment over a few lines of Personalize's JSON lines.
    let input = tmp.join("in.jsonl");
    std::fs::write(
        &input,
        "{\"itemId\": \"nope\"}\n\n{\"itemId\": \"also-missing\"}\n",
    )
    .unwrap();
    for job in ["batch", "segment"] {
        let mut cmd = edgerec();
        cmd.args([job, "--model"]).arg(&model);
        if job == "segment" {
            cmd.args(["--recommender", "viewed"]);
        }
        let out = cmd
            .arg("--input")
            .arg(&input)
            .arg("--output")
            .arg(tmp.join(format!("{job}.jsonl")))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("lines answered"), "{job}: {text}");
        assert_clean(job, &text);
    }
    // --quiet is accepted before and after the subcommand.
    let text = run(edgerec()
        .args(["--quiet", "import", "--interactions"])
        .arg(&data));
    assert_clean("--quiet import", &text);
    let text = run(edgerec()
        .args(["import", "--interactions"])
        .arg(&data)
        .arg("--quiet"));
    assert_clean("import --quiet", &text);
    let _ = std::fs::remove_dir_all(&tmp);
}
