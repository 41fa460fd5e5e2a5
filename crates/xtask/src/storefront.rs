//! The storefront's model, trained the same way for the demo and for the Worker's tests.

use std::path::Path;
use std::process::Command;

/// `edgerec train` on a storefront data folder (interactions, items and users CSVs).
pub(crate) fn train(bin: &Path, data: &Path, config: &Path, model: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args(["train", "--interactions"])
        .arg(data.join("interactions.csv"))
        .arg("--items")
        .arg(data.join("items.csv"))
        .arg("--users")
        .arg(data.join("users.csv"))
        .arg("--config")
        .arg(config)
        .arg("--output")
        .arg(model);
    c
}
