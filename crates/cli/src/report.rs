//! `edgerec report`: metric attribution and A/B comparison from a sync server's store.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use edgerec_server::{db, report, store};

use super::serve::parse_duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec report --data-dir ./edgerec-data --since 24h --window 1h
  edgerec report --data-dir ./edgerec-data --since 7d --window 1d --json report.json
  edgerec report --data-dir ./edgerec-data --event-ids > ids.txt   # every stored event id

Reads the database directly (read-only); safe while `edgerec serve` runs.")]
pub struct ReportArgs {
    /// The server's data folder (holding edgerec.db).
    #[arg(long, default_value = "edgerec-data")]
    data_dir: PathBuf,
    /// How far back to look (e.g. 15m, 24h, 7d).
    #[arg(long, value_parser = parse_duration, default_value = "24h")]
    since: Duration,
    /// Time window for the per-window table (Personalize aggregates per 15 minutes).
    #[arg(long, value_parser = parse_duration, default_value = "15m")]
    window: Duration,
    /// Event type counted as a click for CTR.
    #[arg(long, default_value = "click")]
    click_event_type: String,
    /// Write the report as JSON to FILE (`-` for stdout) instead of the text table.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Print every stored event id (one per line, in arrival order) and the counts, then exit.
    #[arg(long)]
    event_ids: bool,
}

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let db = store::db_path(&args.data_dir);
    if !db.is_file() {
        anyhow::bail!(
            "{} not found (is --data-dir the folder `edgerec serve` uses?)",
            db.display()
        );
    }
    let c = store::open_read_only(&args.data_dir)
        .with_context(|| format!("opening {}", db.display()))?;
    if args.event_ids {
        let mut ids = std::io::BufWriter::new(out);
        let n = db::events::for_each_id(&c, |id| -> anyhow::Result<()> {
            writeln!(ids, "{id}")?;
            Ok(())
        })?;
        ids.flush()?;
        eprintln!("{n} events");
        return Ok(ExitCode::SUCCESS);
    }
    let to = store::now_ms() + 1;
    let from = to - i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX / 2);
    let window = i64::try_from(args.window.as_secs()).unwrap_or(900).max(1);
    let r = report::build(&c, from, to, window, &args.click_event_type)?;
    match &args.json {
        Some(p) if p.as_os_str() == "-" => writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?,
        Some(p) => {
            std::fs::write(p, serde_json::to_string_pretty(&r)?)
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("report written to {}", p.display());
        }
        None => write!(out, "{}", r.render())?,
    }
    Ok(ExitCode::SUCCESS)
}
