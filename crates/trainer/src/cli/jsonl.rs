//! The JSON-lines job loop shared by `edgerec batch` and `edgerec segment`: one output line
//! per input line, `{"input", "output", "error"}`; a bad line gets its error and the job goes on.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// What one line gave: `(input, output)`, or `(input, error message)`.
pub type LineResult = Result<(Value, Value), (Value, String)>;

/// Runs `answer` on every non-empty line of `input`, writes the records to `output`, and reports
/// the counts as `job`. Exit status 3 when some line failed.
pub fn run(
    job: &str,
    input: &Path,
    output: &Path,
    mut answer: impl FnMut(&str) -> LineResult,
) -> Result<ExitCode> {
    let reader =
        std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let writer =
        std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let mut out = BufWriter::new(writer);
    let (mut ok, mut failed) = (0usize, 0usize);
    for (n, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: reading", input.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = match answer(&line) {
            Ok((input, output)) => {
                ok += 1;
                json!({"input": input, "output": output, "error": null})
            }
            Err((input, e)) => {
                failed += 1;
                json!({"input": input, "output": null, "error": format!("line {}: {e}", n + 1)})
            }
        };
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "{job}: {ok} lines answered, {failed} with errors → {}",
        output.display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
