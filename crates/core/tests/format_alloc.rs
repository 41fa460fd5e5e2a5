//! Allocation bounds of `format::decode`, measured with a counting allocator:
//! - the embedding matrix is copied once (total bytes allocated while decoding an
//!   embedding-dominated model stay close to the matrix size, not twice it);
//! - length fields cannot make the decoder allocate far beyond the input: hostile files whose
//!   every count and length claims the maximum allocate a few KiB.
//!
//! One test function, so that no other test allocates concurrently.

#![cfg(feature = "write")]
#![allow(unsafe_code, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use edgerec_core::format;
use edgerec_core::model::ServingOptions;
use edgerec_core::{
    Catalog, Embedding, FactorModel, Model, PopularityModel, Recipe, Recommender, RecommenderModel,
};

struct Counting;

static TOTAL: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn note_alloc(n: usize) {
    TOTAL.fetch_add(n, Relaxed);
    let live = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note_alloc(l.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        note_alloc(new);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// (total bytes allocated, peak live bytes above the starting level) while running `f`.
fn measure<T>(f: impl FnOnce() -> T) -> (usize, usize, T) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let t0 = TOTAL.load(Relaxed);
    let out = f();
    (TOTAL.load(Relaxed) - t0, PEAK.load(Relaxed) - base, out)
}

fn embedding_model(items: usize, dim: usize) -> Model {
    let data: Vec<f32> = (0..items * dim)
        .map(|i| ((i % 251) as f32 / 125.0) - 1.0)
        .collect();
    Model {
        catalog: Catalog {
            item_ids: (0..items).map(|i| format!("{i}")).collect(),
            ..Catalog::default()
        },
        popularity: PopularityModel {
            counts: vec![0; items],
            ranked: vec![],
        },
        recommenders: vec![Recommender {
            name: "mf".into(),
            recipe: Recipe::UserPersonalization,
            event_type: None,
            serving: ServingOptions::default(),
            model: RecommenderModel::Factors(FactorModel {
                item_factors: Embedding::quantize(items, dim, &data),
                user_factors: Embedding::quantize(0, dim, &[]),
                gram: vec![0.0; dim * dim],
                regularization: 0.1,
                alpha: 1.0,
                event_weights: vec![],
                recency_half_life: 0.0,
                content: None,
                context: None,
            }),
        }],
        ..Model::default()
    }
}

fn fix_header_crc(b: &mut [u8]) {
    let n = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    let end = 32 + 24 * n;
    let crc = crc32fast::hash(&b[..end]);
    b[end..end + 4].copy_from_slice(&crc.to_le_bytes());
}

/// Replaces section `i` of `file` with `body`, fixing offsets, lengths and checksums.
fn with_section(file: &[u8], i: usize, body: &[u8]) -> Vec<u8> {
    let info = format::read_header(file).unwrap();
    let mut out = file[..info.header_length as usize].to_vec();
    let mut off = info.header_length;
    let mut bodies = Vec::new();
    for (k, s) in info.sections.iter().enumerate() {
        let b = if k == i {
            body.to_vec()
        } else {
            file[s.offset as usize..(s.offset + s.length) as usize].to_vec()
        };
        let e = 32 + 24 * k;
        out[e + 4..e + 8].copy_from_slice(&crc32fast::hash(&b).to_le_bytes());
        out[e + 8..e + 16].copy_from_slice(&off.to_le_bytes());
        out[e + 16..e + 24].copy_from_slice(&(b.len() as u64).to_le_bytes());
        off += b.len() as u64;
        bodies.push(b);
    }
    out[24..32].copy_from_slice(&off.to_le_bytes());
    fix_header_crc(&mut out);
    for b in bodies {
        out.extend_from_slice(&b);
    }
    out
}

/// bincode varint for a u64: marker 0xfd then 8 little-endian bytes.
fn big(v: u64) -> Vec<u8> {
    let mut b = vec![0xfd];
    b.extend_from_slice(&v.to_le_bytes());
    b
}

#[test]
fn decode_allocation_bounds() {
    // 1. one copy of the matrix
    let (items, dim) = (20_000, 256);
    let bytes = format::encode(&embedding_model(items, dim)).unwrap();
    let matrix = items * dim;
    let (total, peak, decoded) = measure(|| format::decode(&bytes).unwrap());
    drop(decoded);
    eprintln!(
        "decode: file {} B, matrix {matrix} B, allocated {total} B in total, peak {peak} B",
        bytes.len()
    );
    // ids (~20k small strings) and popularity take the rest; a second copy of the
    // matrix would push the total past 2x.
    assert!(
        (total as f64) < 1.5 * matrix as f64,
        "decode allocated {total} B for a {matrix} B matrix"
    );

    // 2. hostile counts and lengths: every codec count at u64::MAX with almost no bytes
    let valid = format::encode(&Model::default()).unwrap();
    let mut hostile = Vec::new();
    // catalog: item ids {count, lens, suffixes}, creation times {count, bytes}, ...
    let mut catalog = Vec::new();
    catalog.extend(big(u64::MAX / 2));
    catalog.extend([1, 0, 0]);
    catalog.extend(big(u64::MAX));
    catalog.extend([0]);
    catalog.extend([0, 0, 0, 0, 0, 0]);
    let mut seq = catalog.clone();
    catalog.push(0); // no columns: the item-id count is what fails
    hostile.push(with_section(&valid, 1, &catalog));
    seq.extend(big(u64::MAX)); // column count
    hostile.push(with_section(&valid, 1, &seq));
    // users: a Seq of columns claiming u64::MAX entries, then one broken column
    let mut users = vec![0, 0, 0];
    users.extend(big(u64::MAX));
    users.extend([3, b'a', b'b']);
    hostile.push(with_section(&valid, 2, &users));
    // histories: offsets {count: MAX, bytes: []}
    let mut hist = big(u64::MAX);
    hist.extend([0, 0, 0, 0, 0, 0, 0]);
    hostile.push(with_section(&valid, 3, &hist));
    // meta: a string claiming u64::MAX bytes
    let mut meta = vec![0, 0, 0];
    meta.extend(big(u64::MAX));
    hostile.push(with_section(&valid, 0, &meta));
    for (k, h) in hostile.iter().enumerate() {
        let (total, peak, r) = measure(|| format::decode(h));
        eprintln!(
            "hostile {k}: {} B file, allocated {total} B, peak {peak} B: {r:?}",
            h.len()
        );
        assert!(r.is_err());
        assert!(peak < 16 * 1024, "hostile {k}: peak {peak} B");
    }
}
