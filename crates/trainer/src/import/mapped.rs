//! The mapped adapter: any delimited file whose columns are named (or numbered) on the command
//! line: `user=COL,item=COL,time=COL[,event=COL,value=COL,event_name=NAME]`.

use std::path::Path;

use serde::Serialize;

use super::builder::{Builder, Event};
use super::delimited::Layout;
use super::error::{DropReason, ImportError, Location, RowError};
use super::personalize::{Conversions, DEFAULT_EVENT_TYPE};
use super::report::{FieldSource, FileReport, FileRole};
use super::rows::{Row, Rows};
use super::schema::AvroType;
use super::schema::FieldRole;
use super::text::check_id;
use super::time::{TimeFormat, parse_time};

/// A column chosen by header name (case-insensitive) or 1-based number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRef {
    Name(String),
    Index(usize),
}

impl ColumnRef {
    fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty column".into());
        }
        match s.parse::<usize>() {
            Ok(0) => Err("column numbers start at 1".into()),
            Ok(n) => Ok(Self::Index(n)),
            Err(_) => Ok(Self::Name(s.to_owned())),
        }
    }

    /// The 0-based index in `header` (names win over numbers when a header exists).
    fn resolve(&self, header: Option<&[String]>, width: usize) -> Option<usize> {
        match (self, header) {
            (Self::Name(n), Some(h)) => h.iter().position(|x| x.eq_ignore_ascii_case(n)),
            (Self::Name(_), None) => None,
            (Self::Index(n), Some(h)) => h
                .iter()
                .position(|x| *x == n.to_string())
                .or_else(|| (*n <= width).then(|| n - 1)),
            (Self::Index(n), None) => (*n <= width).then(|| n - 1),
        }
    }
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Index(i) => write!(f, "{i}"),
        }
    }
}

/// How to read a delimited interactions file that is not in Personalize's layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapSpec {
    pub user: ColumnRef,
    pub item: ColumnRef,
    pub time: ColumnRef,
    pub event: Option<ColumnRef>,
    pub value: Option<ColumnRef>,
    /// The event type of every row when `event` is not mapped (default `click`).
    pub event_name: String,
    pub delimiter: u8,
    pub has_header: bool,
    pub time_format: TimeFormat,
}

impl MapSpec {
    /// Parse `user=COL,item=COL,time=COL[,event=COL][,value=COL][,event_name=NAME]` with the
    /// defaults: comma delimiter, a header row, automatic time format.
    ///
    /// # Errors
    /// [`ImportError::Spec`] naming the problem.
    pub fn parse(map: &str) -> Result<Self, ImportError> {
        let bad = |m: String| ImportError::Spec(format!("--map {map:?}: {m}"));
        let (mut user, mut item, mut time, mut event, mut value, mut event_name) =
            (None, None, None, None, None, None);
        for part in map.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("expected key=COLUMN, found {part:?}")))?;
            let col = || ColumnRef::parse(v).map_err(|m| bad(format!("{k}: {m}")));
            let slot = match k.trim().to_ascii_lowercase().as_str() {
                "user" | "user_id" => &mut user,
                "item" | "item_id" => &mut item,
                "time" | "timestamp" => &mut time,
                "event" | "event_type" => &mut event,
                "value" | "event_value" => &mut value,
                "event_name" => {
                    event_name = Some(v.trim().to_owned()).filter(|s| !s.is_empty());
                    continue;
                }
                other => {
                    return Err(bad(format!(
                        "unknown key {other:?} (use user, item, time, event, value, event_name)"
                    )));
                }
            };
            if slot.is_some() {
                return Err(bad(format!("{k} is given twice")));
            }
            *slot = Some(col()?);
        }
        let need =
            |x: Option<ColumnRef>, k: &str| x.ok_or_else(|| bad(format!("missing {k}=COLUMN")));
        Ok(Self {
            user: need(user, "user")?,
            item: need(item, "item")?,
            time: need(time, "time")?,
            event,
            value,
            event_name: event_name.unwrap_or_else(|| DEFAULT_EVENT_TYPE.to_owned()),
            delimiter: b',',
            has_header: true,
            time_format: TimeFormat::Auto,
        })
    }
}

/// The mapped columns (0-based).
#[derive(Debug, Clone, Copy)]
struct Mapped {
    user: usize,
    item: usize,
    time: usize,
    event: Option<usize>,
    value: Option<usize>,
}

/// Read a mapped interactions file into `b`.
pub(crate) fn read_mapped(
    path: &Path,
    spec: &MapSpec,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let mut rows = Rows::open(b, path, Layout::csv(spec.delimiter), FileRole::Interactions)?;
    let header = if spec.has_header {
        Some(rows.header()?)
    } else {
        None
    };
    // Without a header the first row gives the width (it is read now, processed first).
    let width = match &header {
        Some(h) => h.len(),
        None => rows.first_width()?,
    };
    let cols = resolve(path, spec, header.as_deref(), width)?;
    if b.min_event_value.is_some() && cols.value.is_none() {
        return Err(ImportError::Spec(
            "a minimum event value needs value=COLUMN in --map".into(),
        ));
    }
    let names = declare(&mut rows.report, spec, &cols, header.as_deref(), width);
    rows.set_names(&names);
    let mut conv = Conversions::default();
    rows.each(b, |row, b| {
        let e = cols.event(row, spec, &mut conv)?;
        if !b.passes_threshold(e.value) {
            return Err(row.below_threshold(cols.value.unwrap_or(0), b).into());
        }
        b.push(&e)?;
        Ok(())
    })?;
    conv.warn(path, &mut b.warnings);
    Ok(rows.finish())
}

/// The columns `spec` maps, in `header` or by number in rows of `width` fields.
fn resolve(
    path: &Path,
    spec: &MapSpec,
    header: Option<&[String]>,
    width: usize,
) -> Result<Mapped, ImportError> {
    let resolve = |r: &ColumnRef, what: &str| -> Result<usize, ImportError> {
        r.resolve(header, width).ok_or_else(|| {
            let found = match header {
                Some(h) => format!("the header has {}", h.join(", ")),
                None => format!(
                    "rows have {width} fields (and there is no header, so use column numbers)"
                ),
            };
            ImportError::header(
                Location::new(path, 1, None, None),
                format!("--map {what}={r}: no such column; {found}"),
            )
        })
    };
    Ok(Mapped {
        user: resolve(&spec.user, "user")?,
        item: resolve(&spec.item, "item")?,
        time: resolve(&spec.time, "time")?,
        event: spec
            .event
            .as_ref()
            .map(|r| resolve(r, "event"))
            .transpose()?,
        value: spec
            .value
            .as_ref()
            .map(|r| resolve(r, "value"))
            .transpose()?,
    })
}

/// Declares the file's fields in `report`, and returns the column names for error
/// locations: the file's own, or without a header the mapped role (`column N` otherwise).
fn declare(
    report: &mut FileReport,
    spec: &MapSpec,
    cols: &Mapped,
    header: Option<&[String]>,
    width: usize,
) -> Vec<String> {
    let mut names: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => (1..=width).map(|i| format!("column {i}")).collect(),
    };
    if header.is_none() {
        for (i, n) in [
            (cols.user, "USER_ID"),
            (cols.item, "ITEM_ID"),
            (cols.time, "TIMESTAMP"),
        ]
        .into_iter()
        .chain(cols.event.map(|i| (i, "EVENT_TYPE")))
        .chain(cols.value.map(|i| (i, "EVENT_VALUE")))
        {
            if let Some(x) = names.get_mut(i) {
                *x = n.to_owned();
            }
        }
    }
    let original = |i: usize| header.and_then(|h| h.get(i)).map(|h| format!("from {h}"));
    for (i, own) in names.iter().enumerate() {
        let (name, ty, role, note) = if i == cols.user {
            ("USER_ID", AvroType::String, FieldRole::UserId, original(i))
        } else if i == cols.item {
            ("ITEM_ID", AvroType::String, FieldRole::ItemId, original(i))
        } else if i == cols.time {
            let how = format!("time format {}", spec.time_format);
            (
                "TIMESTAMP",
                AvroType::Long,
                FieldRole::Timestamp,
                Some(original(i).map_or(how.clone(), |o| format!("{o}, {how}"))),
            )
        } else if Some(i) == cols.event {
            (
                "EVENT_TYPE",
                AvroType::String,
                FieldRole::EventType,
                original(i),
            )
        } else if Some(i) == cols.value {
            (
                "EVENT_VALUE",
                AvroType::Float,
                FieldRole::EventValue,
                original(i),
            )
        } else {
            (
                own.as_str(),
                AvroType::String,
                FieldRole::Ignored,
                Some("not mapped".to_owned()),
            )
        };
        report.field(name, i + 1, ty, role, FieldSource::Adapter, note);
    }
    if cols.event.is_none() {
        report.field(
            "EVENT_TYPE",
            0,
            AvroType::String,
            FieldRole::EventType,
            FieldSource::Adapter,
            Some(format!("{:?} for every row", spec.event_name)),
        );
    }
    names
}

impl Mapped {
    /// The interaction of `row`; timestamps converted from milliseconds are counted in `conv`.
    fn event<'r>(
        &self,
        row: Row<'r>,
        spec: &'r MapSpec,
        conv: &mut Conversions,
    ) -> Result<Event<'r>, RowError> {
        check_id(row.get(self.user), "USER_ID").map_err(|e| row.err(self.user, e))?;
        check_id(row.get(self.item), "ITEM_ID").map_err(|e| row.err(self.item, e))?;
        let time = row.required(self.time, "TIMESTAMP")?;
        let (ts, millis) = parse_time(time, &spec.time_format)
            .map_err(|m| row.error(self.time, DropReason::BadTimestamp, m))?;
        if millis {
            conv.millis_at(|| row.at(self.time));
        }
        let event_type = match self.event {
            Some(i) => row.required(i, "EVENT_TYPE")?,
            None => spec.event_name.as_str(),
        };
        let value = match self.value.map(|i| (i, row.get(i))) {
            None | Some((_, "")) => f32::NAN,
            Some((i, v)) => match v.parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    let message = format!("invalid EVENT_VALUE {v:?}: expected a number");
                    return Err(row.error(i, DropReason::BadNumber, message));
                }
            },
        };
        Ok(Event {
            user: row.get(self.user),
            item: row.get(self.item),
            timestamp: ts,
            event_type,
            value,
            ..Event::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps() {
        let m = MapSpec::parse("user=member, item=3,time=date,event_name=purchase");
        let m = m.ok();
        assert_eq!(
            m.as_ref().map(|m| m.user.clone()),
            Some(ColumnRef::Name("member".into()))
        );
        assert_eq!(
            m.as_ref().map(|m| m.item.clone()),
            Some(ColumnRef::Index(3))
        );
        assert_eq!(m.as_ref().map(|m| m.event_name.as_str()), Some("purchase"));
        assert!(
            MapSpec::parse("user=a,item=b")
                .is_err_and(|e| e.to_string().contains("missing time=COLUMN"))
        );
        assert!(MapSpec::parse("user=a,item=b,time=0").is_err());
        assert!(MapSpec::parse("user=a,user=b,item=c,time=d").is_err());
        assert!(MapSpec::parse("who=a").is_err());
        assert!(MapSpec::parse("user").is_err());
    }

    #[test]
    fn resolves_names_and_numbers() {
        let h = vec!["A".to_owned(), "B".to_owned()];
        assert_eq!(ColumnRef::Name("b".into()).resolve(Some(&h), 2), Some(1));
        assert_eq!(ColumnRef::Index(2).resolve(Some(&h), 2), Some(1));
        assert_eq!(ColumnRef::Index(3).resolve(None, 2), None);
        assert_eq!(ColumnRef::Name("b".into()).resolve(None, 2), None);
    }
}
