//! `edgerec evaluate`: the offline protocol (split A warm users, split B cold sessions),
//! scored through the edge engine, with the popularity baseline side by side.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use edgerec_trainer::config::{EmbeddingKind, TrainConfig};
use edgerec_trainer::evaluate::given::{evaluate_model, write_split_a};
use edgerec_trainer::evaluate::protocol::IdRule;
use edgerec_trainer::evaluate::run::{EvalOptions, EvalReport, evaluate_with};
use edgerec_trainer::progress::Progress as _;

use super::eval_html;
use super::import::DatasetArgs;
use super::out::UnlessClosed;
use super::progress::Bars;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec evaluate --interactions $EDGEREC_DATA/ml-100k
  edgerec evaluate --interactions $EDGEREC_DATA/ml-latest-small --json ml-small.json --html ml-small.html
  edgerec evaluate --interactions data/demo/interactions.csv --items data/demo/items.csv --config data/demo/edgerec.toml
  edgerec evaluate --interactions $EDGEREC_DATA/ml-100k --validation   # tune on the validation split only
  edgerec evaluate --interactions $EDGEREC_DATA/ml-100k --exploration-cost   # NDCG@10 cost of explorationWeight
  edgerec evaluate --interactions synth/interactions.csv --items synth/items.csv --context-from-test   # lift of the request's context
  edgerec evaluate --interactions $EDGEREC_DATA/ml-latest-small --embedding-gap   # int8 against f32, user by user
  edgerec evaluate --interactions $EDGEREC_DATA/ml-100k --write-split a split-a/   # split A's training interactions, for an outside engine
  edgerec evaluate --interactions $EDGEREC_DATA/ml-100k --model packed.erm   # score a model trained on them (split A)")]
pub struct EvaluateArgs {
    #[command(flatten)]
    data: DatasetArgs,
    /// The training config (TOML); without it every recipe is evaluated with its defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the numbers as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write an HTML report with charts.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Score the validation splits (for tuning) instead of the test splits.
    #[arg(long)]
    validation: bool,
    /// With --validation: pool split B over this many cold-user folds (buckets 1..K held out
    /// in turn, each trained on the other buckets; the test users never take part). More cold
    /// users than the protocol's single validation bucket, for steadier tuning.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=9), requires = "validation")]
    cold_folds: u8,
    /// Store embeddings as int8 (default) or f32.
    #[arg(long, value_parser = ["int8", "f32"])]
    embedding: Option<String>,
    /// Exit with status 1 if this recommender's NDCG@10 falls below the popularity baseline
    /// on split A or on split B at any session length.
    #[arg(long, value_name = "RECOMMENDER")]
    check_baseline: Option<String>,
    /// Also measure training mode UPDATE: train a base model on this oldest fraction of the
    /// split-A train interactions (e.g. 0.9), update it with all of them, and compare with a
    /// full retrain (split-A NDCG@10 and training time).
    #[arg(long, value_name = "FRACTION")]
    update_check: Option<f64>,
    /// Also hold this share of the items (e.g. 0.05) out of training, add them with putItems and
    /// their metadata, and score their related items and rankings.
    #[arg(long, value_name = "FRACTION")]
    new_items: Option<f64>,
    /// Also score split A with exploration on (each user-personalization recommender's
    /// configured explorationWeight, else 0.3) and report the NDCG@10 cost and the coverage@10
    /// gain. The main numbers are always scored with exploration off.
    #[arg(long)]
    exploration_cost: bool,
    /// Also score split A for user-personalization recommenders with the held-out event's
    /// context (e.g. DEVICE) in each request, and with a wrong one, next to no context.
    #[arg(long)]
    context_from_test: bool,
    /// The profile scored: `public` scores the public projection of each trained model through
    /// the engine as a browser would get it (split A then replays each test user's own recent
    /// events into a session, as the public model knows no user).
    #[arg(long, value_parser = ["private", "public"], default_value = "private")]
    profile: String,
    /// Also train split A with the other embedding storage (f32 next to int8) and compare the
    /// two user by user: NDCG@10 of each, the paired difference with its standard error, and
    /// the held-out items that left or entered the top 10.
    #[arg(long)]
    embedding_gap: bool,
    /// How the splits order and hash raw ids: `numeric` (integer ids by value, the protocol's
    /// rule for MovieLens), `text` (each id's rank among the column's ids in code-point order,
    /// the peer benchmark's rule for interactions CSVs) or `auto` (numeric for MovieLens, text
    /// for everything else).
    #[arg(long, value_enum, default_value_t = IdsArg::Auto)]
    ids: IdsArg,
    /// Score this model file instead of training one: a model trained elsewhere on split A's
    /// training interactions (see --write-split; e.g. made by `edgerec pack`). Each of its
    /// recommenders is scored on split A's test users through the engine, with the protocol's
    /// serving rules (the user's own items excluded, no exploration); split B is not scored.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "config", "update_check", "new_items", "exploration_cost", "context_from_test",
        "embedding_gap", "embedding"
    ])]
    model: Option<PathBuf>,
    /// Write split A's training interactions (SPLIT `a`; with --validation, those of its
    /// validation split) to DIR/interactions.csv as Personalize columns, and exit: an outside
    /// engine trains on exactly them, and --model scores what it made.
    #[arg(long, num_args = 2, value_names = ["SPLIT", "DIR"], conflicts_with = "model")]
    write_split: Option<Vec<String>>,
}

/// `--ids` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IdsArg {
    Auto,
    Numeric,
    Text,
}

impl IdsArg {
    /// The rule for a dataset imported as `format` (the import report's format name).
    fn rule(self, format: &str) -> IdRule {
        match self {
            IdsArg::Numeric => IdRule::Numeric,
            IdsArg::Text => IdRule::TextRank,
            IdsArg::Auto if format.starts_with("movielens") => IdRule::Numeric,
            IdsArg::Auto => IdRule::TextRank,
        }
    }
}

pub fn run(args: &EvaluateArgs, bars: &Bars, out: &mut dyn Write) -> Result<ExitCode> {
    // The files and the baseline verdict asked for come whether or not anybody reads the text.
    let out = &mut UnlessClosed(out);
    let input = super::lake::Input::resolve(&args.data)?;
    let loaded = edgerec_trainer::import::load_with(&input.spec, bars);
    bars.finish();
    let (ds, import) = loaded?;
    eprintln!("{import}");
    let cfg = match &args.config {
        Some(p) => TrainConfig::parse(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("in {}", p.display()))?,
        None => TrainConfig::default_for(&ds.event_types),
    };
    let opts = EvalOptions {
        min_event_value: None,
        validation: args.validation,
        update_base_fraction: args.update_check,
        new_items_fraction: args.new_items,
        exploration_cost: args.exploration_cost,
        context_from_test: args.context_from_test,
        embedding_gap: args.embedding_gap,
        cold_folds: args.cold_folds,
        ids: args.ids.rule(&import.format),
        profile: edgerec_core::Profile::parse(&args.profile).unwrap_or_default(),
        embedding: args.embedding.as_deref().map(|e| {
            if e == "f32" {
                EmbeddingKind::F32
            } else {
                EmbeddingKind::Int8
            }
        }),
    };
    if let Some(w) = &args.write_split {
        return write_split(&ds, &opts, w, out);
    }
    let evaluated = match &args.model {
        Some(p) => {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading model {}", p.display()))?;
            let model = edgerec_core::format::decode(&bytes)
                .with_context(|| format!("decoding model {}", p.display()))?;
            evaluate_model(&ds, &model, &opts, bars)
        }
        None => evaluate_with(&ds, &cfg, &opts, bars),
    };
    bars.finish();
    let report = evaluated?;
    write!(out, "{}", text(&report))?;
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", p.display()))?;
        writeln!(out, "wrote {}", p.display())?;
    }
    if let Some(p) = &args.html {
        std::fs::write(p, eval_html::render(&html_report(&report)))
            .with_context(|| format!("writing {}", p.display()))?;
        writeln!(out, "wrote {}", p.display())?;
    }
    if let Some(name) = &args.check_baseline {
        return check_baseline(&report, name, out);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--write-split a DIR`.
fn write_split(
    ds: &edgerec_trainer::dataset::Dataset,
    opts: &EvalOptions,
    args: &[String],
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let [split, dir] = args else {
        anyhow::bail!("--write-split takes a split and a folder: --write-split a DIR");
    };
    if !split.eq_ignore_ascii_case("a") {
        anyhow::bail!(
            "--write-split: split {split:?} cannot be written; only `a` (split B needs a model per cold-user split)"
        );
    }
    let w = write_split_a(ds, opts, std::path::Path::new(dir))?;
    writeln!(
        out,
        "wrote {}: split A{} training interactions, {} rows of {} users ({} test users held out)",
        w.path.display(),
        if opts.validation { " validation" } else { "" },
        w.interactions,
        w.users,
        w.test_users
    )?;
    Ok(ExitCode::SUCCESS)
}

fn check_baseline(r: &EvalReport, name: &str, out: &mut dyn Write) -> Result<ExitCode> {
    let find = |n: &str| r.results.iter().find(|x| x.name == n);
    let rec =
        find(name).with_context(|| format!("--check-baseline: no recommender named {name:?}"))?;
    let base = find(&r.baseline).context("the report has no baseline")?;
    let mut failures = Vec::new();
    if rec.split_a.ndcg_at_10 < base.split_a.ndcg_at_10 {
        failures.push(format!(
            "split A NDCG@10 {:.4} < baseline {:.4}",
            rec.split_a.ndcg_at_10, base.split_a.ndcg_at_10
        ));
    }
    for (a, b) in rec.split_b.iter().zip(&base.split_b) {
        if a.ndcg_at_10 < b.ndcg_at_10 {
            failures.push(format!(
                "split B N={} NDCG@10 {:.4} < baseline {:.4}",
                a.session_length, a.ndcg_at_10, b.ndcg_at_10
            ));
        }
    }
    if failures.is_empty() {
        writeln!(
            out,
            "baseline check: {name} beats {} on split A and split B (N = 1, 3, 5)",
            r.baseline
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            out,
            "baseline check FAILED for {name}:\n  {}",
            failures.join("\n  ")
        )?;
        Ok(ExitCode::FAILURE)
    }
}

/// What the HTML report shows, in plain numbers.
fn html_report(r: &EvalReport) -> eval_html::Report {
    let estimate = |mean, se| eval_html::Estimate { mean, se };
    eval_html::Report {
        dataset: r.dataset.clone(),
        split: if r.validation { "validation" } else { "test" }.to_owned(),
        test_users: r.split_a.test_users,
        cold_users: r.split_b.cold_users,
        catalogue: r.split_a.catalogue_size,
        model_bytes: r.model_bytes,
        seconds: r.seconds,
        baseline: r.baseline.clone(),
        recommenders: r
            .results
            .iter()
            .map(|x| eval_html::Recommender {
                name: x.name.clone(),
                recipe: x.recipe.clone(),
                ndcg_at_10: estimate(x.split_a.ndcg_at_10, x.split_a.ndcg_at_10_se),
                hr_at_10: x.split_a.hr_at_10,
                mrr_at_25: x.split_a.mrr_at_25,
                recall_at_20: x.split_a.recall_at_20,
                coverage: x.split_a.personalize.coverage,
                cold_ndcg_at_10: x
                    .split_b
                    .iter()
                    .map(|c| (c.session_length, estimate(c.ndcg_at_10, c.ndcg_at_10_se)))
                    .collect(),
                train_seconds: x.train_seconds,
                model_bytes: x.model_bytes,
            })
            .collect(),
        text: text(r),
    }
}

/// `(x / base − 1)` in percent (0 when the base is 0).
fn pct(x: f64, base: f64) -> f64 {
    if base > 0.0 {
        (x / base - 1.0) * 100.0
    } else {
        0.0
    }
}

/// The human-readable report.
#[must_use]
pub fn text(r: &EvalReport) -> String {
    let mut s = String::new();
    header(&mut s, r);
    split_a(&mut s, r);
    new_items(&mut s, r);
    cold_items(&mut s, r);
    split_b(&mut s, r);
    personalize(&mut s, r);
    segments(&mut s, r);
    exploration(&mut s, r);
    context(&mut s, r);
    embedding_gap(&mut s, r);
    update(&mut s, r);
    choices_and_size(&mut s, r);
    s
}

/// Dataset, split and protocol check values (docs/protocol.md).
fn header(s: &mut String, r: &EvalReport) {
    let a = &r.split_a;
    let b = &r.split_b;
    let _ = writeln!(
        s,
        "\nDataset {} — {} split{}; exploration off (explorationWeight 0: relevance only{})",
        r.dataset,
        if r.validation { "VALIDATION" } else { "test" },
        if r.validation { " (for tuning)" } else { "" },
        if r.exploration.is_empty() {
            "; --exploration-cost measures it"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "Protocol check values (docs/protocol.md; ids {}):",
        match r.ids {
            IdRule::Numeric => "numeric",
            IdRule::TextRank => "ranked as text",
        }
    );
    let _ = writeln!(
        s,
        "  split A: train interactions {} / test users {} / catalogue {}; test items outside catalogue {}",
        a.train_interactions, a.test_users, a.catalogue_size, a.test_outside_catalogue
    );
    if r.cold_folds == 0 {
        let _ = writeln!(
            s,
            "  split B: not scored (the model was trained elsewhere, on split A's training interactions)"
        );
    } else {
        let _ = writeln!(
            s,
            "  split B: train users {} / train interactions {} / catalogue {}; cold users (>= 15 interactions) {}",
            b.train_users, b.train_interactions, b.catalogue_size, b.cold_users
        );
    }
    if r.cold_folds > 1 {
        let _ = writeln!(
            s,
            "  split B pooled over {} cold-user folds (buckets 1-{} held out in turn; training counts above are the first fold's)",
            r.cold_folds, r.cold_folds
        );
    }
    if let Some(base) = r.results.iter().find(|x| x.name == r.baseline)
        && r.cold_folds > 0
    {
        let n5 = base.split_b.iter().find(|c| c.session_length == 5);
        let _ = writeln!(
            s,
            "  Popularity: split A HR@10 {:.4} / NDCG@10 {:.4}; split B N=5 Recall@10 {:.4} / NDCG@10 {:.4}",
            base.split_a.hr_at_10,
            base.split_a.ndcg_at_10,
            n5.map_or(0.0, |c| c.recall_at_10),
            n5.map_or(0.0, |c| c.ndcg_at_10)
        );
    }
}

/// Split A: each recommender's accuracy for warm users.
fn split_a(s: &mut String, r: &EvalReport) {
    let _ = writeln!(s, "\nSplit A — warm users (leave last out)");
    let _ = writeln!(
        s,
        "  {:<28} {:>7} {:>16} {:>7} {:>9} {:>7} {:>8}",
        "recommender", "HR@10", "NDCG@10 (±se)", "MRR@25", "Recall@20", "Cov@10", "train s"
    );
    for x in &r.results {
        let w = &x.split_a;
        let _ = writeln!(
            s,
            "  {:<28} {:>7.4} {:>8.4} ±{:.4} {:>7.4} {:>9.4} {:>7.3} {:>8.2}",
            x.name,
            w.hr_at_10,
            w.ndcg_at_10,
            w.ndcg_at_10_se,
            w.mrr_at_25,
            w.recall_at_20,
            w.coverage_at_10,
            x.train_seconds
        );
    }
}

/// New items added with putItems, when the run held some out.
fn new_items(s: &mut String, r: &EvalReport) {
    if let Some(n) = &r.new_items {
        let _ = writeln!(
            s,
            "\nNew items — {} items ({:.0} %) held out of training and added with putItems; {} (user, item) pairs ranked",
            n.items,
            n.fraction * 100.0,
            n.ranking_pairs
        );
        let _ = writeln!(
            s,
            "  {:<28} {:>16} {:>16} {:>12}",
            "recommender", "related P@10", "P@10 (cosine)", "ranking AUC"
        );
        for x in &n.results {
            let auc = x.ranking_auc.map_or("-".to_owned(), |a| format!("{a:.4}"));
            let _ = writeln!(
                s,
                "  {:<28} {:>16.4} {:>16.4} {:>12}",
                x.name, x.related_precision_at_10, x.related_cosine_precision_at_10, auc
            );
        }
    }
}

/// Split A restricted to test users whose held-out item was cold.
fn cold_items(s: &mut String, r: &EvalReport) {
    let cold_users = r.results.first().map_or(0, |x| x.cold_items.users);
    let _ = writeln!(
        s,
        "\nSplit A, cold items — the {cold_users} test users whose held-out item had fewer than {} training users",
        edgerec_trainer::evaluate::run::COLD_ITEM_USERS
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>7} {:>16} {:>7} {:>9}",
        "recommender", "HR@10", "NDCG@10 (±se)", "MRR@25", "Recall@20"
    );
    for x in &r.results {
        let w = &x.cold_items;
        let _ = writeln!(
            s,
            "  {:<28} {:>7.4} {:>8.4} ±{:.4} {:>7.4} {:>9.4}",
            x.name, w.hr_at_10, w.ndcg_at_10, w.ndcg_at_10_se, w.mrr_at_25, w.recall_at_20
        );
    }
}

/// Split B: sessions of 1, 3 and 5 events through putEvents.
fn split_b(s: &mut String, r: &EvalReport) {
    if r.cold_folds == 0 {
        return;
    }
    let _ = writeln!(
        s,
        "\nSplit B — cold users, session of N events through putEvents, no retraining"
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>16}",
        "recommender", "N=1 R@10", "N=1 NDCG", "N=3 R@10", "N=3 NDCG", "N=5 R@10", "N=5 NDCG (±se)"
    );
    for x in &r.results {
        let mut line = format!("  {:<28}", x.name);
        for c in &x.split_b {
            if c.session_length == 5 {
                let _ = write!(
                    line,
                    " {:>9.4} {:>8.4} ±{:.4}",
                    c.recall_at_10, c.ndcg_at_10, c.ndcg_at_10_se
                );
            } else {
                let _ = write!(line, " {:>9.4} {:>9.4}", c.recall_at_10, c.ndcg_at_10);
            }
        }
        let _ = writeln!(s, "{line}");
    }
}

/// Personalize's own metric names, for split A.
fn personalize(s: &mut String, r: &EvalReport) {
    let _ = writeln!(s, "\nPersonalize metrics (split A)");
    let _ = writeln!(
        s,
        "  {:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "recommender",
        "coverage",
        "mrr@25",
        "ndcg@5",
        "ndcg@10",
        "ndcg@25",
        "prec@5",
        "prec@10",
        "prec@25"
    );
    for x in &r.results {
        let p = &x.split_a.personalize;
        let _ = writeln!(
            s,
            "  {:<28} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
            x.name,
            p.coverage,
            p.mean_reciprocal_rank_at_25,
            p.normalized_discounted_cumulative_gain_at_5,
            p.normalized_discounted_cumulative_gain_at_10,
            p.normalized_discounted_cumulative_gain_at_25,
            p.precision_at_5,
            p.precision_at_10,
            p.precision_at_25
        );
    }
}

/// Item-affinity segments, when scored.
fn segments(s: &mut String, r: &EvalReport) {
    let segments: Vec<_> = r
        .results
        .iter()
        .filter_map(|x| x.segments.map(|s| (&x.name, s)))
        .collect();
    if let Some((_, first)) = segments.first() {
        let _ = writeln!(
            s,
            "\nItem-affinity segments (split A; segment = top 1 % = {} users, {} held-out items)",
            first.segment_size, first.items
        );
        for (name, seg) in &segments {
            let _ = writeln!(
                s,
                "  {name:<28} hits_at_1_percent {:.4}  recall_at_1_percent {:.4}",
                seg.hits_at_1_percent, seg.recall_at_1_percent
            );
        }
    }
}

/// What exploration costs, when measured.
fn exploration(s: &mut String, r: &EvalReport) {
    if !r.exploration.is_empty() {
        let _ = writeln!(
            s,
            "\nExploration (split A; the numbers above are scored with exploration off)"
        );
        for x in &r.exploration {
            let _ = writeln!(
                s,
                "  {:<28} explorationWeight {:.2}, cut-off {} days: NDCG@10 {:.4} -> {:.4} ({:+.1}%), coverage@10 {:.4} -> {:.4}, explored share of top-10 {:.3}",
                x.name,
                x.weight,
                x.item_age_cut_off_days,
                x.ndcg_at_10_off,
                x.ndcg_at_10_on,
                if x.ndcg_at_10_off > 0.0 {
                    (x.ndcg_at_10_on / x.ndcg_at_10_off - 1.0) * 100.0
                } else {
                    0.0
                },
                x.coverage_at_10_off,
                x.coverage_at_10_on,
                x.explored_share_at_10
            );
        }
    }
}

/// NDCG@10 by the request's context, when the data has one.
fn context(s: &mut String, r: &EvalReport) {
    if !r.context.is_empty() {
        let _ = writeln!(
            s,
            "\nContext (split A NDCG@10 by the request's context; {} of {} held-out events have one)",
            r.context[0].cases_with_context, r.split_a.test_users
        );
        for x in &r.context {
            let _ = writeln!(
                s,
                "  {:<28} no context {:.4} / held-out event's context {:.4} ({:+.1}%) / wrong context {:.4} ({:+.1}%)",
                x.name,
                x.ndcg_at_10_no_context,
                x.ndcg_at_10_test_context,
                pct(x.ndcg_at_10_test_context, x.ndcg_at_10_no_context),
                x.ndcg_at_10_wrong_context,
                pct(x.ndcg_at_10_wrong_context, x.ndcg_at_10_no_context)
            );
            for (n, none, ctx) in &x.cold_ndcg_at_10 {
                let _ = writeln!(
                    s,
                    "  {:<28} split B N={n}: no context {none:.4} / next event's context {ctx:.4} ({:+.1}%)",
                    "",
                    pct(*ctx, *none)
                );
            }
        }
    }
}

/// Int8 against f32 embeddings, when compared.
fn embedding_gap(s: &mut String, r: &EvalReport) {
    if !r.embedding_gap.is_empty() {
        let _ = writeln!(
            s,
            "\nInt8 vs f32 embeddings (split A, same trained factors, paired per test user; one held-out item crossing rank 10 moves NDCG@10 by {:.5})",
            1.0 / 11f64.log2() / r.embedding_gap[0].users.max(1) as f64
        );
        for g in &r.embedding_gap {
            let _ = writeln!(
                s,
                "  {:<28} NDCG@10 int8 {:.5} / f32 {:.5} ({:+.2}%); difference {:+.5} ±{:.5} se; held-out items left top 10: {}, entered: {}, moved within: {}; top 10s agree {:.1}%",
                g.name,
                g.ndcg_at_10_int8,
                g.ndcg_at_10_f32,
                pct(g.ndcg_at_10_int8, g.ndcg_at_10_f32),
                g.difference,
                g.difference_se,
                g.left_top_10,
                g.entered_top_10,
                g.moved_in_top_10,
                g.top_10_overlap * 100.0
            );
        }
    }
}

/// UPDATE training against FULL, when compared.
fn update(s: &mut String, r: &EvalReport) {
    if let Some(u) = &r.update {
        let _ = writeln!(
            s,
            "\nTraining mode UPDATE (base model on the oldest {:.0}% = {} train interactions, updated with all) vs FULL",
            u.base_fraction * 100.0,
            u.base_interactions
        );
        let _ = writeln!(
            s,
            "  training time: full {:.2}s, update {:.2}s ({:.1}x faster)",
            u.full_train_seconds,
            u.update_train_seconds,
            u.full_train_seconds / u.update_train_seconds.max(1e-9)
        );
        for g in &u.ndcg_at_10 {
            let _ = writeln!(
                s,
                "  {:<28} split A NDCG@10 full {:.4} / update {:.4} ({:+.1}%); difference {:+.5} ±{:.5} se (paired per test user)",
                g.name,
                g.full,
                g.update,
                pct(g.update, g.full),
                g.difference,
                g.difference_se
            );
        }
    }
}

/// What the validation pass chose, and the model file's size.
fn choices_and_size(s: &mut String, r: &EvalReport) {
    if let Some(a) = &r.auto {
        let _ = write!(
            s,
            "\nChosen on split A's own validation split (its training data only):\n{}",
            super::train::auto_text(a)
        );
    }
    let _ = writeln!(
        s,
        "\nModel file (split A, all recommenders): {} bytes; evaluation took {:.1}s",
        r.model_bytes, r.seconds
    );
}
