//! A stand-in for the public projection of a model in tests: the model minus every per-person
//! record (no user ids or metadata, no histories, factor recommenders with 0 user rows, no
//! session neighbours, which read stored histories). Item-side data is left as it is, so a user
//! profile cut from the private model loads into it.

#![allow(dead_code)]

use edgerec_core::{ColumnValues, Embedding, Histories, IdList, Model, RecommenderModel};

/// `m` without its people; `keep_user_columns` keeps the user columns' names and kinds with
/// 0 rows (else they are dropped, and profiles bring them back).
pub fn without_people(m: &Model, keep_user_columns: bool) -> Model {
    let mut p = m.clone();
    p.users.user_ids = IdList::new();
    if keep_user_columns {
        for c in &mut p.users.columns {
            c.values = match &c.values {
                ColumnValues::Categorical { .. } => ColumnValues::Categorical {
                    dictionary: Vec::new(),
                    offsets: vec![0],
                    codes: Vec::new(),
                },
                ColumnValues::Numeric(_) => ColumnValues::Numeric(Vec::new()),
                ColumnValues::Textual(_) => ColumnValues::Textual(Vec::new()),
            };
        }
    } else {
        p.users.columns.clear();
    }
    p.histories = Histories::default();
    for r in &mut p.recommenders {
        match &mut r.model {
            RecommenderModel::Factors(f) => {
                let dim = f.user_factors.dim();
                f.user_factors = match f.user_factors {
                    Embedding::F32 { .. } => Embedding::from_f32(0, dim, Vec::new()),
                    Embedding::Int8 { .. } => Embedding::quantize(0, dim, &[]),
                };
            }
            RecommenderModel::Neighbors(n) => n.session_neighbors = None,
            RecommenderModel::Popularity(_) | RecommenderModel::Blend(_) => {}
        }
    }
    p
}
