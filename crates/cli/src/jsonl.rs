//! The JSON-lines job loop shared by `edgerec batch` and `edgerec segment`: one output line
//! per input line, `{"input", "output", "error"}`; a bad line gets its error and the job goes on.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use edgerec_trainer::progress::{Progress, Unit};
use serde_json::{Value, json};

/// What one line gave: `(input, output)`, or `(input, error message)`.
pub type LineResult = Result<(Value, Value), (Value, String)>;

/// Runs `answer` on every non-empty line of `input`, writes the records to `output`, and reports
/// the counts as `job`; `progress` follows the input's bytes. Exit status 3 when some line
/// failed.
pub fn run(
    job: &str,
    input: &Path,
    output: &Path,
    progress: &dyn Progress,
    answer: impl FnMut(&str) -> LineResult,
) -> Result<ExitCode> {
    let result = lines(job, input, output, progress, answer);
    progress.finish();
    let (ok, failed) = result?;
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

/// The job loop; the counts of answered and failed lines.
fn lines(
    job: &str,
    input: &Path,
    output: &Path,
    progress: &dyn Progress,
    mut answer: impl FnMut(&str) -> LineResult,
) -> Result<(usize, usize)> {
    let reader =
        std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let size = reader.metadata().ok().map(|m| m.len());
    let writer =
        std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let mut out = BufWriter::new(writer);
    let (mut ok, mut failed) = (0usize, 0usize);
    progress.start(&format!("{job} {}", input.display()), size, Unit::Bytes);
    let mut reader = BufReader::new(reader);
    let (mut line, mut read) = (String::new(), 0u64);
    for n in 0u64.. {
        line.clear();
        let bytes = reader
            .read_line(&mut line)
            .with_context(|| format!("{}:{}: reading", input.display(), n + 1))?;
        if bytes == 0 {
            break;
        }
        read += bytes as u64;
        progress.set_done(read);
        if n.is_multiple_of(64) {
            progress.note(&format!("{ok} lines answered, {failed} with errors"));
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let record = match answer(line) {
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
    Ok((ok, failed))
}
