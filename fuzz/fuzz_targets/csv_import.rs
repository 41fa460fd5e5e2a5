//! The trainer's CSV import (`import::load`, Personalize layout: the interactions, items and
//! users CSV readers with their headers, types, categorical and text fields, impressions and
//! timestamps): any file may be refused with an error naming the file, none may panic, and an
//! imported dataset is consistent:
//! - the report counts what the dataset holds;
//! - every interaction points at an interned user, item and event type, every column has a row
//!   per item (or user), impressions name interned items;
//! - with `skip_bad_rows`, the same files import without error whenever they import without it,
//!   to the same dataset.
//!
//! Input: a flags byte (bit 0: `skip_bad_rows`; bit 1: an items file; bit 2: a users file), then
//! the files' text, separated by lines `#FILE`. The files are written to a private folder under
//! the temporary directory (`/dev/shm` when present), since the readers take paths.
//! Crashers go to `crates/core/tests/fuzz-regressions/csv_import/`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::import::{self, DatasetSpec, Format};
use libfuzzer_sys::fuzz_target;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("edgerec-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    })
}

fn consistent(ds: &Dataset, report: &import::report::ImportReport) {
    let x = &ds.interactions;
    assert_eq!(report.interactions, x.len());
    assert_eq!(report.users, ds.user_ids.len());
    assert_eq!(report.items, ds.item_ids.len());
    for r in 0..x.len() {
        assert!((x.user[r] as usize) < ds.user_ids.len());
        assert!((x.item[r] as usize) < ds.item_ids.len());
        assert!(usize::from(x.event_type[r]) < ds.event_types.len().max(1));
    }
    if let Some(imp) = &x.impression {
        assert_eq!(imp.len(), x.len());
        assert!(
            imp.iter()
                .flatten()
                .all(|&i| (i as usize) < ds.item_ids.len())
        );
    }
    // creation times are known for every item, or (without an items file) for none
    assert!(ds.item_creation.is_empty() || ds.item_creation.len() == ds.item_ids.len());
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut files = text.split("\n#FILE\n");
    let dir = folder();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("a scratch file");
        p
    };
    let interactions = write("interactions.csv", files.next().unwrap_or(""));
    let mut spec = DatasetSpec {
        format: Format::Personalize,
        interactions,
        ..DatasetSpec::default()
    };
    if flags & 2 != 0 {
        spec.items = Some(write("items.csv", files.next().unwrap_or("")));
    }
    if flags & 4 != 0 {
        spec.users = Some(write("users.csv", files.next().unwrap_or("")));
    }
    spec.skip_bad_rows = flags & 1 != 0;
    match import::load(&spec) {
        Ok((ds, report)) => {
            consistent(&ds, &report);
            if !spec.skip_bad_rows {
                assert_eq!(report.malformed_rows, 0);
                spec.skip_bad_rows = true;
                let (skipping, _) =
                    import::load(&spec).expect("files that import strictly import skipping");
                assert_eq!(skipping.user_ids, ds.user_ids);
                assert_eq!(skipping.item_ids, ds.item_ids);
                assert_eq!(skipping.interactions.len(), ds.interactions.len());
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
