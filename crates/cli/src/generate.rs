//! `edgerec generate`: synthetic storefront data over the retail catalogue, or (with
//! `--interactions N`) bulk interactions for scale measurements.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use edgerec_trainer::progress::{Progress as _, Unit};
use edgerec_trainer::synth::{self, BulkConfig, Device, EventType, RetailCatalog, SynthConfig};

use super::progress::Bars;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Catalogue directory (products.yaml, categories.yaml, users.json.gz).
    #[arg(long, default_value = "data/retail")]
    pub catalog: PathBuf,
    /// Output directory for the CSVs and schema files (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of users.
    #[arg(long, default_value_t = SynthConfig::default().users)]
    pub users: usize,
    /// Length of the simulated period in days.
    #[arg(long, default_value_t = SynthConfig::default().days)]
    pub days: u32,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = SynthConfig::default().seed)]
    pub seed: u64,
    /// First second of the period, epoch seconds (1748736000 is 2025-06-01T00:00:00Z).
    #[arg(long, default_value_t = SynthConfig::default().start)]
    pub start: i64,
    /// Strength of the device-dependent preferences: the device's category and price
    /// multipliers are raised to this power (1 = the shipped demo data, 0 = none).
    #[arg(long, default_value_t = SynthConfig::default().device_effect)]
    pub device_effect: u32,
    /// Bulk mode: write this many interactions (Zipf item popularity, log-normal user
    /// activity, taste clusters) to OUT/interactions.csv instead of simulating the storefront.
    /// For scale measurements; streamed, so any size fits in memory.
    #[arg(long, value_name = "N", conflicts_with_all = ["users", "device_effect"])]
    pub interactions: Option<u64>,
    /// Bulk mode: catalogue size.
    #[arg(long, default_value_t = BulkConfig::default().items, requires = "interactions")]
    pub items: u32,
    /// Bulk mode: mean interactions per user (the number of users follows).
    #[arg(long, default_value_t = BulkConfig::default().mean_activity, requires = "interactions")]
    pub mean_activity: f64,
    /// Bulk mode: Zipf exponent of item popularity.
    #[arg(long, default_value_t = BulkConfig::default().zipf, requires = "interactions")]
    pub zipf: f64,
}

pub fn run(args: &GenerateArgs, bars: &Bars, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.interactions {
        return bulk(args, n, bars, out);
    }
    let cfg = SynthConfig {
        users: args.users,
        days: args.days,
        seed: args.seed,
        start: args.start,
        device_effect: args.device_effect,
        ..SynthConfig::default()
    };
    cfg.validate()?;
    let catalog = RetailCatalog::load(&args.catalog)
        .with_context(|| format!("loading the catalogue from {}", args.catalog.display()))?;
    let output = synth::generate_with(&catalog, &cfg, bars);
    bars.start(
        &format!("writing {}", args.out.display()),
        None,
        Unit::Count("files"),
    );
    let written = synth::write_dir(&output, &args.out);
    bars.finish();
    let files = written?;
    let s = output.summary();

    let web = catalog.products.iter().filter(|p| p.in_web_store()).count();
    writeln!(
        out,
        "generated synthetic storefront data (seed {})",
        cfg.seed
    )?;
    writeln!(
        out,
        "  catalogue     {}: {} products ({web} in the web store), {} categories, {} user profiles",
        args.catalog.display(),
        catalog.products.len(),
        catalog.categories.len(),
        catalog.users.len()
    )?;
    writeln!(
        out,
        "  users         {} ({} with interactions)",
        s.users, s.active_users
    )?;
    writeln!(
        out,
        "  items         {} ({} with interactions; {} new, {} trending)",
        s.items, s.items_with_interactions, s.new_items, s.trending_items
    )?;
    let per_type: Vec<String> = EventType::ALL
        .iter()
        .zip(s.per_event_type)
        .map(|(t, n)| format!("{} {n}", t.as_str()))
        .collect();
    writeln!(
        out,
        "  interactions  {} in {} sessions: {}",
        s.interactions,
        s.sessions,
        per_type.join(", ")
    )?;
    let [views, carts, purchases] = s.per_event_type;
    writeln!(
        out,
        "  funnel        AddToCart/View {:.1}%, Purchase/AddToCart {:.1}%",
        percent(carts, views),
        percent(purchases, carts)
    )?;
    let per_device: Vec<String> = Device::ALL
        .iter()
        .zip(s.per_device)
        .map(|(d, n)| format!("{} {n}", d.as_str()))
        .collect();
    writeln!(out, "  devices       {}", per_device.join(", "))?;
    writeln!(
        out,
        "  time span     {} .. {} ({} days; events {} .. {})",
        utc(output.start),
        utc(output.end - 1),
        cfg.days,
        s.first_timestamp.map_or_else(|| "-".into(), utc),
        s.last_timestamp.map_or_else(|| "-".into(), utc)
    )?;
    writeln!(out, "  files")?;
    for f in &files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        writeln!(out, "    {} ({})", f.display(), human(size))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--interactions N`: the bulk generator, streamed to OUT/interactions.csv.
fn bulk(args: &GenerateArgs, n: u64, bars: &Bars, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let cfg = BulkConfig {
        interactions: n,
        items: args.items,
        mean_activity: args.mean_activity,
        zipf: args.zipf,
        days: args.days,
        start: args.start,
        seed: args.seed,
        ..BulkConfig::default()
    };
    cfg.validate()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let path = args.out.join(synth::INTERACTIONS_CSV);
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    bars.start(
        &format!("writing {}", path.display()),
        Some(n),
        Unit::Count("interactions"),
    );
    let summary = synth::write_bulk(&cfg, &mut writer, &path, |done| bars.set_done(done));
    bars.finish();
    let s = summary?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    writeln!(
        out,
        "generated {} interactions of {} users over {} items ({} drawn), seed {}: {} ({})",
        s.interactions,
        s.users,
        cfg.items,
        s.items_seen,
        cfg.seed,
        path.display(),
        human(size)
    )?;
    Ok(ExitCode::SUCCESS)
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds (proleptic Gregorian calendar).
fn utc(t: i64) -> String {
    edgerec_core::calendar::utc_text(t)
}
