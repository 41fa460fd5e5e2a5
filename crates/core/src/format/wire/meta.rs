//! `META` and `PRIVACY`: descriptive facts, the named filters, and the fewest distinct users
//! behind any stored aggregate.

use serde::{Deserialize, Serialize};

use super::ReadWire;
use crate::format::codec::Seq;
use crate::format::read::{Read, Reader};
use crate::model::{ModelMeta, NamedFilter};

/// `META`: descriptive facts.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MetaWire<'a> {
    pub version: u64,
    pub created_at: i64,
    pub data_time: i64,
    #[serde(borrow)]
    pub dataset: &'a str,
    #[serde(borrow)]
    pub producer: &'a str,
    #[serde(borrow)]
    pub filters: Seq<NamedFilterWire<'a>>,
}

/// `PRIVACY` (format 1.2): the fewest distinct users behind any stored aggregate.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PrivacyWire {
    pub min_users: u32,
}

/// A named filter: name and expression.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NamedFilterWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    #[serde(borrow)]
    pub expression: &'a str,
}

impl<'a> ReadWire<'a> for MetaWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(MetaWire {
            version: r.u64()?,
            created_at: r.i64()?,
            data_time: r.i64()?,
            dataset: r.str()?,
            producer: r.str()?,
            filters: r.seq(|r| {
                Ok(NamedFilterWire {
                    name: r.str()?,
                    expression: r.str()?,
                })
            })?,
        })
    }
}

impl<'a> ReadWire<'a> for PrivacyWire {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(PrivacyWire {
            min_users: r.u32()?,
        })
    }
}

impl MetaWire<'_> {
    pub(crate) fn into_model(self) -> ModelMeta {
        ModelMeta {
            version: self.version,
            created_at: self.created_at,
            data_time: self.data_time,
            dataset: self.dataset.to_owned(),
            producer: self.producer.to_owned(),
            filters: self
                .filters
                .0
                .into_iter()
                .map(|f| NamedFilter {
                    name: f.name.to_owned(),
                    expression: f.expression.to_owned(),
                })
                .collect(),
            // Stated by the header and the privacy section (`SectionDecoder::finish`).
            profile: crate::model::Profile::Private,
            min_users: 0,
        }
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use super::*;

    pub(crate) fn meta(m: &ModelMeta) -> MetaWire<'_> {
        let ModelMeta {
            version,
            created_at,
            data_time,
            dataset,
            producer,
            filters,
            profile: _,
            min_users: _,
        } = m;
        MetaWire {
            version: *version,
            created_at: *created_at,
            data_time: *data_time,
            dataset,
            producer,
            filters: Seq(filters
                .iter()
                .map(|f| {
                    let NamedFilter { name, expression } = f;
                    NamedFilterWire { name, expression }
                })
                .collect()),
        }
    }
}
