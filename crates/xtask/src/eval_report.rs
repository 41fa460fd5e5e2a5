//! The HTML evaluation report (`edgerec evaluate --html` on the demo data) in headless Chromium:
//! its plots are checked against the JSON report, and a full-page screenshot is kept under
//! `target/test-artefacts/eval-report` (CI's artefact).
//!
//! `cargo xtask test` runs it; `cargo xtask eval-report` runs it alone.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::{run, setup};

pub fn test(root: &Path) -> Result<()> {
    crate::build_edgerec()?;
    setup::ensure(
        root,
        setup::Needs {
            node_tools: true,
            chromium: true,
            ..setup::Needs::default()
        },
    )?;
    let tools = setup::ensure_node_tools(root)?;
    let artefacts = root.join("target/test-artefacts/eval-report");
    run(
        "evaluation report: headless Chromium (the plots hold the JSON numbers, nothing fetched, a screenshot)",
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .arg(root.join("crates/cli/tests/html"))
            .current_dir(root)
            .env("EDGEREC_BIN", crate::edgerec_bin(root))
            .env("EDGEREC_TOOLS", &tools)
            .env("EDGEREC_ARTEFACTS", &artefacts),
    )?;
    println!(
        "=== evaluation report: {} (screenshot {})",
        artefacts.join("report.html").display(),
        artefacts.join("report.png").display()
    );
    Ok(())
}
