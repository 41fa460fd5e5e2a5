//! Every code block of the user-facing READMEs (README.md, packages/edgerec/README.md,
//! worker/README.md, www/README.md) run on the demo data by `tests/docs/blocks.test.mjs`: shell
//! blocks against the `edgerec` binary, JS blocks in Node against the package the README installs,
//! Worker blocks in workerd (Miniflare). A block that cannot run in CI says why in its info
//! string (`bash no-run: <reason>`), and the test fails on a block that neither runs nor says why.
//!
//! `cargo xtask test` runs it after the package and Worker steps; `cargo xtask docs` runs it alone.
//! The blocks build the package and the Worker themselves, as a reader would.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::{run, setup};

pub fn test(root: &Path) -> Result<()> {
    crate::build_edgerec()?;
    setup::ensure(root, setup::Needs::BUILD)?;
    let tools = setup::ensure_node_tools(root)?;
    run(
        "docs: every README code block runs on the demo data (or says why not)",
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .arg(root.join("tests/docs"))
            .current_dir(root)
            .env("EDGEREC_BIN", crate::edgerec_bin(root))
            .env("EDGEREC_TOOLS", &tools)
            .env("EDGEREC_WORKER_BUILD", crate::worker::build_dir(root)),
    )
}
