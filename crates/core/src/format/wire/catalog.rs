//! `CATALOG` and `USERS`: item and user ids, creation times, event types, context columns and
//! the metadata columns of both tables.

use serde::{Deserialize, Serialize};

use super::ReadWire;
use crate::catalog::{Catalog, Column, ColumnKind, ColumnValues, UserTable};
use crate::format::codec::{Blob, CodecError, Seq, Strings, Varints, to_f64};
#[cfg(feature = "write")]
use crate::format::codec::{StringsBuf, VarintBuf, f64_bytes, zigzag};
use crate::format::read::{Read, Reader};

/// `CATALOG`: item ids, creation times, event types, context columns and item metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CatalogWire<'a> {
    #[serde(borrow)]
    pub item_ids: Strings<'a>,
    /// Zigzag differences.
    #[serde(borrow)]
    pub creation_time: Varints<'a>,
    #[serde(borrow)]
    pub event_types: Strings<'a>,
    #[serde(borrow)]
    pub context_columns: Strings<'a>,
    #[serde(borrow)]
    pub columns: Seq<ColumnWire<'a>>,
}

/// `USERS`: user ids and user metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UsersWire<'a> {
    #[serde(borrow)]
    pub user_ids: Strings<'a>,
    #[serde(borrow)]
    pub columns: Seq<ColumnWire<'a>>,
}

/// One metadata column.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ColumnWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    /// 0 categorical, 1 numeric, 2 textual, 3 boolean.
    pub kind: u8,
    #[serde(borrow)]
    pub values: ValuesWire<'a>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ValuesWire<'a> {
    Categorical {
        #[serde(borrow)]
        dictionary: Strings<'a>,
        /// Offset differences (`rows + 1` values, the first being the first offset).
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        codes: Varints<'a>,
    },
    /// `f64` little-endian, `NaN` = null.
    Numeric(#[serde(borrow)] Blob<'a>),
    /// Values that are all `n / 10^scale` for integers `n` (and canonical `NaN` for null):
    /// one varint per row, 0 = null, else zigzag(`n`) + 1.
    Decimal {
        scale: u8,
        #[serde(borrow)]
        values: Varints<'a>,
    },
    Textual(#[serde(borrow)] Strings<'a>),
}

impl<'a> ReadWire<'a> for CatalogWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(CatalogWire {
            item_ids: r.strings()?,
            creation_time: r.varints()?,
            event_types: r.strings()?,
            context_columns: r.strings()?,
            columns: r.seq(ColumnWire::read)?,
        })
    }
}

impl<'a> ReadWire<'a> for UsersWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(UsersWire {
            user_ids: r.strings()?,
            columns: r.seq(ColumnWire::read)?,
        })
    }
}

impl<'a> ReadWire<'a> for ColumnWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ColumnWire {
            name: r.str()?,
            kind: r.u8()?,
            values: match r.variant("column values", 4)? {
                0 => ValuesWire::Categorical {
                    dictionary: r.strings()?,
                    offsets: r.varints()?,
                    codes: r.varints()?,
                },
                1 => ValuesWire::Numeric(r.blob()?),
                2 => ValuesWire::Decimal {
                    scale: r.u8()?,
                    values: r.varints()?,
                },
                _ => ValuesWire::Textual(r.strings()?),
            },
        })
    }
}

impl CatalogWire<'_> {
    pub(crate) fn into_model(self) -> Result<Catalog, CodecError> {
        Ok(Catalog {
            item_ids: self.item_ids.decode_ids("item ids")?,
            columns: columns(self.columns)?,
            creation_time: self.creation_time.to_timestamps("creation times")?,
            event_types: self.event_types.decode("event types")?,
            context_columns: self.context_columns.decode("context columns")?,
        })
    }
}

impl UsersWire<'_> {
    pub(crate) fn into_model(self) -> Result<UserTable, CodecError> {
        Ok(UserTable {
            user_ids: self.user_ids.decode_ids("user ids")?,
            columns: columns(self.columns)?,
        })
    }
}

fn columns(cols: Seq<ColumnWire<'_>>) -> Result<Vec<Column>, CodecError> {
    cols.0.into_iter().map(ColumnWire::into_model).collect()
}

pub(crate) const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

impl ColumnWire<'_> {
    fn into_model(self) -> Result<Column, CodecError> {
        let what = format!("column {}", self.name);
        let kind = match self.kind {
            0 => ColumnKind::Categorical,
            1 => ColumnKind::Numeric,
            2 => ColumnKind::Textual,
            3 => ColumnKind::Boolean,
            k => return Err(CodecError::new(&what, format!("unknown column kind {k}"))),
        };
        let values = match self.values {
            ValuesWire::Categorical {
                dictionary,
                offsets,
                codes,
            } => ColumnValues::Categorical {
                dictionary: dictionary.decode(&what)?,
                offsets: offsets.to_offsets(&what)?,
                codes: codes.to_u32(&what)?,
            },
            ValuesWire::Numeric(b) => ColumnValues::Numeric(to_f64(b, &what)?),
            ValuesWire::Decimal { scale, values } => {
                let div = *POW10
                    .get(usize::from(scale))
                    .ok_or_else(|| CodecError::new(&what, format!("decimal scale {scale}")))?;
                ColumnValues::Numeric(values.to_decimal(&what, div)?)
            }
            ValuesWire::Textual(s) => ColumnValues::Textual(s.decode(&what)?),
        };
        Ok(Column {
            name: self.name.to_owned(),
            kind,
            values,
        })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use super::*;

    pub(crate) struct ColumnBufs<'m> {
        name: &'m str,
        kind: u8,
        values: ValuesBufs,
    }

    enum ValuesBufs {
        Categorical(StringsBuf, VarintBuf, VarintBuf),
        Numeric(Vec<u8>),
        Decimal(u8, VarintBuf),
        Textual(StringsBuf),
    }

    impl<'m> ColumnBufs<'m> {
        pub(crate) fn new(c: &'m Column) -> Self {
            let Column { name, kind, values } = c;
            let kind = match kind {
                ColumnKind::Categorical => 0,
                ColumnKind::Numeric => 1,
                ColumnKind::Textual => 2,
                ColumnKind::Boolean => 3,
            };
            let values = match values {
                ColumnValues::Categorical {
                    dictionary,
                    offsets,
                    codes,
                } => ValuesBufs::Categorical(
                    StringsBuf::new(dictionary.iter().map(String::as_str)),
                    VarintBuf::deltas(offsets),
                    VarintBuf::plain(codes.iter().map(|&c| u64::from(c))),
                ),
                ColumnValues::Numeric(v) => match decimal(v) {
                    Some((scale, buf)) => ValuesBufs::Decimal(scale, buf),
                    None => ValuesBufs::Numeric(f64_bytes(v)),
                },
                ColumnValues::Textual(v) => {
                    ValuesBufs::Textual(StringsBuf::new(v.iter().map(String::as_str)))
                }
            };
            ColumnBufs { name, kind, values }
        }

        pub(crate) fn wire(&self) -> ColumnWire<'_> {
            ColumnWire {
                name: self.name,
                kind: self.kind,
                values: match &self.values {
                    ValuesBufs::Categorical(d, o, c) => ValuesWire::Categorical {
                        dictionary: d.wire(),
                        offsets: o.wire(),
                        codes: c.wire(),
                    },
                    ValuesBufs::Numeric(b) => ValuesWire::Numeric(Blob(b)),
                    ValuesBufs::Decimal(scale, b) => ValuesWire::Decimal {
                        scale: *scale,
                        values: b.wire(),
                    },
                    ValuesBufs::Textual(s) => ValuesWire::Textual(s.wire()),
                },
            }
        }
    }

    /// The smallest decimal scale at which every value round-trips bit for bit, if any.
    fn decimal(v: &[f64]) -> Option<(u8, VarintBuf)> {
        'scale: for (scale, &p) in POW10.iter().enumerate() {
            let mut buf = VarintBuf::default();
            for &x in v {
                if x.is_nan() {
                    if x.to_bits() != f64::NAN.to_bits() {
                        return None;
                    }
                    buf.push(0);
                    continue;
                }
                let scaled = (x * p).round();
                if scaled.is_nan() || scaled.abs() >= 9_007_199_254_740_992.0 {
                    continue 'scale;
                }
                #[allow(clippy::cast_possible_truncation)]
                let n = scaled as i64;
                if (n as f64 / p).to_bits() != x.to_bits() {
                    continue 'scale;
                }
                buf.push(zigzag(n) + 1);
            }
            return u8::try_from(scale).ok().map(|s| (s, buf));
        }
        None
    }

    pub(crate) struct CatalogBufs<'m> {
        item_ids: StringsBuf,
        creation_time: VarintBuf,
        event_types: StringsBuf,
        context_columns: StringsBuf,
        columns: Vec<ColumnBufs<'m>>,
    }

    impl<'m> CatalogBufs<'m> {
        pub(crate) fn new(c: &'m Catalog) -> Self {
            let Catalog {
                item_ids,
                columns,
                creation_time,
                event_types,
                context_columns,
            } = c;
            CatalogBufs {
                item_ids: StringsBuf::new(item_ids.iter()),
                creation_time: VarintBuf::signed_deltas(&creation_time.to_vec()),
                event_types: StringsBuf::new(event_types.iter().map(String::as_str)),
                context_columns: StringsBuf::new(context_columns.iter().map(String::as_str)),
                columns: columns.iter().map(ColumnBufs::new).collect(),
            }
        }

        pub(crate) fn wire(&self) -> CatalogWire<'_> {
            CatalogWire {
                item_ids: self.item_ids.wire(),
                creation_time: self.creation_time.wire(),
                event_types: self.event_types.wire(),
                context_columns: self.context_columns.wire(),
                columns: Seq(self.columns.iter().map(ColumnBufs::wire).collect()),
            }
        }
    }

    pub(crate) struct UsersBufs<'m> {
        user_ids: StringsBuf,
        columns: Vec<ColumnBufs<'m>>,
    }

    impl<'m> UsersBufs<'m> {
        pub(crate) fn new(u: &'m UserTable) -> Self {
            let UserTable { user_ids, columns } = u;
            UsersBufs {
                user_ids: StringsBuf::new(user_ids.iter()),
                columns: columns.iter().map(ColumnBufs::new).collect(),
            }
        }

        pub(crate) fn wire(&self) -> UsersWire<'_> {
            UsersWire {
                user_ids: self.user_ids.wire(),
                columns: Seq(self.columns.iter().map(ColumnBufs::wire).collect()),
            }
        }
    }
}
