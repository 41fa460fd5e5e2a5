//! `edgerec inspect`: a model file's header, sections and contents.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use edgerec_core::{Engine, RecommenderModel, format};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  edgerec inspect store.erm")]
pub struct InspectArgs {
    /// The .erm model file.
    model: PathBuf,
}

pub fn run(args: &InspectArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let info = format::read_header(&bytes)
        .with_context(|| format!("reading the header of {}", args.model.display()))?;
    let engine =
        Engine::from_bytes(&bytes).with_context(|| format!("decoding {}", args.model.display()))?;
    let m = engine.model();
    writeln!(
        out,
        "{}: {} bytes, format {}.{}, capabilities {:#x}",
        args.model.display(),
        info.file_length,
        info.version.0,
        info.version.1,
        info.capabilities
    )?;
    writeln!(
        out,
        "profile {}{}",
        info.profile.name(),
        if m.meta.min_users > 1 {
            format!(
                ", every stored aggregate backed by at least {} users",
                m.meta.min_users
            )
        } else {
            String::new()
        }
    )?;
    writeln!(out, "{}", super::signing::describe(&bytes))?;
    writeln!(
        out,
        "model version {}, dataset {:?}, produced by {:?}, data up to {}",
        m.meta.version, m.meta.dataset, m.meta.producer, m.meta.data_time
    )?;
    writeln!(
        out,
        "catalogue: {} items, {} metadata columns [{}], event types [{}]",
        m.catalog.len(),
        m.catalog.columns.len(),
        m.catalog
            .columns
            .iter()
            .map(|c| format!("{} ({:?})", c.name, c.kind))
            .collect::<Vec<_>>()
            .join(", "),
        m.catalog.event_types.join(", ")
    )?;
    writeln!(
        out,
        "users: {} known, {} history entries",
        m.users.user_ids.len(),
        m.histories.items.len()
    )?;
    writeln!(out, "\nsections:")?;
    for s in &info.sections {
        let name = if s.code == format::signature::SIGNATURE_SECTION_KIND {
            "signature"
        } else {
            &s.name
        };
        writeln!(
            out,
            "  {:<28} {:>10} bytes at {:>10}",
            name, s.length, s.offset
        )?;
    }
    writeln!(out, "\nrecommenders:")?;
    for (i, r) in m.recommenders.iter().enumerate() {
        let what = match &r.model {
            RecommenderModel::Factors(_)
                if let Some(first) = (info.capabilities & format::CAP_SHARED_MODELS != 0)
                    .then(|| format::shared_factors(&m.recommenders, i))
                    .flatten()
                    .and_then(|j| m.recommenders.get(j)) =>
            {
                format!("the factors of {} (stored once)", first.name)
            }
            RecommenderModel::Popularity(p) => format!("{} ranked items", p.ranked.len()),
            RecommenderModel::Neighbors(n) => match n.transitions.as_deref() {
                _ if n.session_pairs.is_some() => format!(
                    "{} neighbour pairs, {} transition pairs, {} session-pair cells",
                    n.neighbors.len(),
                    n.transitions.as_deref().map_or(0, |t| t.neighbors.len()),
                    n.session_pairs.as_deref().map_or(0, |p| p.neighbors.len())
                ),
                Some(t) => format!(
                    "{} neighbour pairs, {} transition pairs",
                    n.neighbors.len(),
                    t.neighbors.len()
                ),
                None => format!("{} neighbour pairs", n.neighbors.len()),
            },
            RecommenderModel::Factors(f) => format!(
                "{} item × {} user factors of dim {} ({} bytes of item embeddings), regularization {}, alpha {}",
                f.item_factors.rows(),
                f.user_factors.rows(),
                f.dim(),
                f.item_factors.byte_size(),
                f.regularization,
                f.alpha
            ),
            RecommenderModel::Blend(b) => blend_lines(m, b),
        };
        writeln!(
            out,
            "  {:<36} {:<22} {}{}",
            r.name,
            r.recipe.name(),
            what,
            r.event_type
                .as_ref()
                .map_or(String::new(), |t| format!(" (event type {t})"))
        )?;
    }
    if !m.meta.filters.is_empty() {
        writeln!(out, "\nnamed filters:")?;
        for f in &m.meta.filters {
            writeln!(out, "  {:<28} {}", f.name, f.expression)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A blend's parts and weights: known users, then sessions by length.
fn blend_lines(m: &edgerec_core::Model, b: &edgerec_core::model::BlendModel) -> String {
    let mut s = format!(
        "blend of {} parts, {} items each; weights:",
        b.parts.len(),
        b.depth
    );
    let lengths = b.lengths();
    for (i, (&p, known)) in b.parts.iter().zip(&b.known).enumerate() {
        let name = m
            .recommenders
            .get(p as usize)
            .map_or("?", |r| r.name.as_str());
        let session: Vec<String> = (1..=lengths)
            .map(|n| format!("{:.3}", b.session_weight(i, n)))
            .collect();
        s.push_str(&format!(
            "\n      {name:<34} known users {known:.3}, sessions of 1..{lengths}{} events {}",
            if lengths > 1 { "+" } else { "" },
            session.join(" / ")
        ));
    }
    s
}
