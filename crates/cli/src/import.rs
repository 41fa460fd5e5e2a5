//! `edgerec import` and `edgerec validate`, and [`DatasetArgs`], the dataset options other
//! subcommands flatten into theirs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use edgerec_trainer::import::{
    self, DatasetSpec, Format, ImportError, MapSpec, PartitionDate, TimeFormat,
};
use edgerec_trainer::progress::{Progress as _, Unit};

use super::out::UnlessClosed;
use super::progress::Bars;

const EXAMPLES: &str = "\
Examples:
  # A folder with interactions.csv (+ items.csv, users.csv, *.schema.json)
  edgerec import --interactions data/demo

  # Personalize CSVs with explicit schema files
  edgerec import --interactions ev.csv --items items.csv --schema-dir schemas/

  # MovieLens (100K folder with u.data, or latest with ratings.csv), keep ratings >= 4
  edgerec import --interactions $EDGEREC_DATA/ml-100k --min-event-value 4

  # Any delimited file: name (or number) the columns
  edgerec import --interactions Groceries_dataset.csv \\
      --map user=transaction_number,item=items,time=date,event_name=purchase --time-format DD-MM-YYYY
  edgerec import --interactions sample_train-item-views.csv --delimiter ';' \\
      --map user=session_id,item=item_id,time=eventdate,event_name=view

  # Convert anything to canonical Personalize CSVs + schemas, and write the report as JSON
  edgerec import --interactions $EDGEREC_DATA/ml-latest-small --out normalised/ --json report.json

  # Parquet: a file, a folder partitioned by day (dt=YYYY-MM-DD/), or an event lake on S3
  edgerec import --interactions events.parquet
  edgerec import --interactions lake/ --since 2024-05-01
  AWS_ENDPOINT_URL=http://localhost:9000 AWS_ALLOW_HTTP=true \\
      edgerec import --interactions s3://shop-events/lake --since 2024-05-01

  # Check files without writing anything (exit code 1 when a row is malformed)
  edgerec validate --interactions interactions.csv --items items.csv";

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FormatArg {
    /// Detect from the path (MovieLens folder, folder with interactions.csv, or a CSV file).
    #[default]
    Auto,
    /// Personalize CSVs (USER_ID, ITEM_ID, TIMESTAMP, ...).
    Personalize,
    /// MovieLens 100K or latest.
    Movielens,
    /// Any delimited file with --map.
    Mapped,
    /// Parquet interactions: a file or a folder of them (at any depth), or s3://bucket/prefix.
    Parquet,
}

/// Where a dataset comes from and how to read it (flatten into any subcommand that needs one).
#[derive(Debug, Clone, clap::Args)]
pub struct DatasetArgs {
    /// Interactions file, or a folder (MovieLens, or one holding interactions.csv, items.csv,
    /// users.csv, or .parquet files at any depth), or s3://bucket/prefix (the .parquet objects
    /// under it: an event lake; endpoint and credentials from AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and AWS_ALLOW_HTTP=true for an http:// endpoint).
    #[arg(long, value_name = "PATH")]
    pub interactions: PathBuf,
    /// Items metadata CSV (Personalize layout).
    #[arg(long, value_name = "PATH")]
    pub items: Option<PathBuf>,
    /// Users metadata CSV (Personalize layout).
    #[arg(long, value_name = "PATH")]
    pub users: Option<PathBuf>,
    /// Folder with interactions.schema.json, items.schema.json, users.schema.json (those present are used).
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// Avro schema of the interactions file.
    #[arg(long, value_name = "FILE")]
    pub interactions_schema: Option<PathBuf>,
    /// Avro schema of the items file.
    #[arg(long, value_name = "FILE")]
    pub items_schema: Option<PathBuf>,
    /// Avro schema of the users file.
    #[arg(long, value_name = "FILE")]
    pub users_schema: Option<PathBuf>,
    /// Input format.
    #[arg(long = "format", value_enum, default_value_t = FormatArg::Auto)]
    pub dataset_format: FormatArg,
    /// Column mapping for delimited files: user=COL,item=COL,time=COL[,event=COL][,value=COL][,event_name=NAME].
    /// COL is a header name or a 1-based column number. Implies --format mapped.
    #[arg(long, value_name = "MAP")]
    pub map: Option<String>,
    /// Field delimiter of a mapped file (one character; `tab` or `\t` for TAB). Default `,`.
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,
    /// The mapped file has no header row (use column numbers in --map).
    #[arg(long)]
    pub no_header: bool,
    /// Timestamps of a mapped file: auto, epoch, epoch-ms, iso8601, DD-MM-YYYY, or a pattern like %d/%m/%Y %H:%M.
    #[arg(long, value_name = "F")]
    pub time_format: Option<String>,
    /// Drop interactions whose EVENT_VALUE is below X (Personalize's eventValueThreshold).
    #[arg(long, value_name = "X")]
    pub min_event_value: Option<f32>,
    /// Drop malformed rows (counted in the report) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Dataset name (default: the folder or file name, or the last part of an s3:// prefix).
    #[arg(long, value_name = "NAME")]
    pub dataset_name: Option<String>,
    /// Parquet folders and s3:// lakes: read only the day partitions (`dt=YYYY-MM-DD/`
    /// folders, at any depth) from this day on, as an update training does. Files outside any
    /// dt= partition are always read.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_since)]
    pub since: Option<PartitionDate>,
    /// With --interactions s3://...: the folder the objects are fetched into, kept between runs
    /// (objects already there with the same size are not fetched again). Default: a temporary
    /// folder, removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

fn parse_since(s: &str) -> Result<PartitionDate, String> {
    s.parse()
}

fn parse_delimiter(s: &str) -> Result<u8, ImportError> {
    match s {
        "tab" | "TAB" | "\\t" | "\t" => Ok(b'\t'),
        _ => match s.as_bytes() {
            [b] if *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
            _ => Err(ImportError::Spec(format!(
                "--delimiter {s:?}: expected one ASCII character (or tab)"
            ))),
        },
    }
}

impl DatasetArgs {
    /// The import specification these options describe.
    ///
    /// # Errors
    /// [`ImportError::Spec`] for inconsistent options (mapping options without a mapping, a bad
    /// `--map`, `--delimiter` or `--time-format`).
    pub fn to_spec(&self) -> Result<DatasetSpec, ImportError> {
        let mapped = self.map.is_some() || self.dataset_format == FormatArg::Mapped;
        if !mapped && (self.delimiter.is_some() || self.no_header || self.time_format.is_some()) {
            return Err(ImportError::Spec(
                "--delimiter, --no-header and --time-format apply to mapped files: add --map user=COL,item=COL,time=COL".into(),
            ));
        }
        let format = if mapped {
            if !matches!(self.dataset_format, FormatArg::Auto | FormatArg::Mapped) {
                return Err(ImportError::Spec(
                    "--map cannot be combined with --format personalize/movielens/parquet".into(),
                ));
            }
            let map = self.map.as_deref().ok_or_else(|| {
                ImportError::Spec("--format mapped needs --map user=COL,item=COL,time=COL".into())
            })?;
            let mut spec = MapSpec::parse(map)?;
            if let Some(d) = &self.delimiter {
                spec.delimiter = parse_delimiter(d)?;
            }
            spec.has_header = !self.no_header;
            if let Some(f) = &self.time_format {
                spec.time_format = f
                    .parse::<TimeFormat>()
                    .map_err(|m| ImportError::Spec(format!("--time-format: {m}")))?;
            }
            Format::Mapped(spec)
        } else {
            match self.dataset_format {
                FormatArg::Auto | FormatArg::Mapped => Format::Auto,
                FormatArg::Personalize => Format::Personalize,
                FormatArg::Movielens => Format::MovieLens,
                FormatArg::Parquet => Format::Parquet,
            }
        };
        let from_dir = |given: &Option<PathBuf>, name: &str| -> Option<PathBuf> {
            given.clone().or_else(|| {
                self.schema_dir
                    .as_ref()
                    .map(|d| d.join(name))
                    .filter(|p| p.is_file())
            })
        };
        if let Some(d) = &self.schema_dir
            && !d.is_dir()
        {
            return Err(ImportError::Spec(format!(
                "--schema-dir {}: not a folder",
                d.display()
            )));
        }
        Ok(DatasetSpec {
            name: self.dataset_name.clone().unwrap_or_default(),
            format,
            interactions: self.interactions.clone(),
            items: self.items.clone(),
            users: self.users.clone(),
            interactions_schema: from_dir(
                &self.interactions_schema,
                import::export::INTERACTIONS_SCHEMA,
            ),
            items_schema: from_dir(&self.items_schema, import::export::ITEMS_SCHEMA),
            users_schema: from_dir(&self.users_schema, import::export::USERS_SCHEMA),
            min_event_value: self.min_event_value,
            skip_bad_rows: self.skip_bad_rows,
            since: self.since,
        })
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ImportArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write normalised Personalize CSVs and schema files (interactions.csv, items.csv, users.csv) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serialising the report")?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn run_import(args: &ImportArgs, bars: &Bars, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    // The files asked for are written even when nobody reads the report.
    let out = &mut UnlessClosed(out);
    let input = super::lake::Input::resolve(&args.dataset)?;
    let start = std::time::Instant::now();
    let loaded = import::load_with(&input.spec, bars);
    bars.finish();
    let (ds, report) = loaded?;
    write!(out, "{report}")?;
    writeln!(out, "\nImported in {:.2} s.", start.elapsed().as_secs_f64())?;
    if let Some(dir) = &args.out {
        bars.start(
            &format!("writing Personalize CSVs to {}", dir.display()),
            None,
            Unit::Count("files"),
        );
        let written = import::write_personalize(&ds, dir);
        bars.finish();
        let written = written?;
        writeln!(out, "Wrote:")?;
        for p in written {
            writeln!(out, "  {}", p.display())?;
        }
    }
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct ValidateJson<'a> {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a import::ImportReport>,
}

#[derive(serde::Serialize)]
struct ErrorJson<'a> {
    code: &'a str,
    message: String,
}

pub fn run_validate(
    args: &ValidateArgs,
    bars: &Bars,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    // The exit status is the verdict, whether or not anybody reads the report.
    let out = &mut UnlessClosed(out);
    let mut input = super::lake::Input::resolve(&args.dataset)?;
    // Read everything so that every malformed row is counted; fail afterwards.
    input.spec.skip_bad_rows = true;
    let loaded = import::load_with(&input.spec, bars);
    bars.finish();
    match loaded {
        Ok((_, report)) => {
            write!(out, "{report}")?;
            let valid = report.malformed_rows == 0;
            if valid {
                writeln!(out, "\nValid: no malformed rows.")?;
            } else {
                writeln!(
                    out,
                    "\nInvalid: {} malformed row(s) (see the examples above).",
                    report.malformed_rows
                )?;
            }
            if let Some(path) = &args.json {
                write_json(
                    path,
                    &ValidateJson {
                        valid,
                        error: None,
                        report: Some(&report),
                    },
                )?;
            }
            Ok(if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(path) = &args.json {
                let error = ErrorJson {
                    code: e.code(),
                    message: e.to_string(),
                };
                write_json(
                    path,
                    &ValidateJson {
                        valid: false,
                        error: Some(error),
                        report: None,
                    },
                )?;
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
