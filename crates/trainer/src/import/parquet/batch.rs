//! One column of a row group read in batches of rows (the row groups' columns advance in
//! step): the decoded values, the definition levels that say which rows are null, and each
//! row's value.

use ::parquet::column::reader::ColumnReader;
use ::parquet::data_type::{ByteArray, Int96};
use ::parquet::errors::ParquetError;
use ::parquet::file::reader::RowGroupReader;

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(&'a [u8]),
    Int96(Int96),
}

#[derive(Debug)]
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

/// A column of the current row group.
pub(super) struct Cursor {
    reader: ColumnReader,
    max_def: i16,
    defs: Vec<i16>,
    values: Values,
    /// Per row of the batch: the index of its value, `u32::MAX` for null.
    at: Vec<u32>,
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("rows", &self.at.len())
            .finish_non_exhaustive()
    }
}

impl Cursor {
    /// The reader of leaf column `index` of `group`.
    pub(super) fn open(group: &dyn RowGroupReader, index: usize) -> Result<Self, ParquetError> {
        let max_def = group
            .metadata()
            .column(index)
            .column_descr()
            .max_def_level();
        let reader = group.get_column_reader(index)?;
        let values = match &reader {
            ColumnReader::BoolColumnReader(_) => Values::Bool(Vec::new()),
            ColumnReader::Int32ColumnReader(_) => Values::I32(Vec::new()),
            ColumnReader::Int64ColumnReader(_) => Values::I64(Vec::new()),
            ColumnReader::Int96ColumnReader(_) => Values::I96(Vec::new()),
            ColumnReader::FloatColumnReader(_) => Values::F32(Vec::new()),
            ColumnReader::DoubleColumnReader(_) => Values::F64(Vec::new()),
            ColumnReader::ByteArrayColumnReader(_)
            | ColumnReader::FixedLenByteArrayColumnReader(_) => Values::Bytes(Vec::new()),
        };
        Ok(Self {
            reader,
            max_def,
            defs: Vec::new(),
            values,
            at: Vec::new(),
        })
    }

    /// Reads the next `rows` rows.
    ///
    /// # Errors
    /// A decoding error, or a column chunk with fewer rows than its row group.
    pub(super) fn fill(&mut self, rows: usize) -> Result<(), ParquetError> {
        self.defs.clear();
        let defs = (self.max_def > 0).then_some(&mut self.defs);
        let (records, values) = match (&mut self.reader, &mut self.values) {
            (ColumnReader::BoolColumnReader(r), Values::Bool(v)) => read(r, rows, defs, v)?,
            (ColumnReader::Int32ColumnReader(r), Values::I32(v)) => read(r, rows, defs, v)?,
            (ColumnReader::Int64ColumnReader(r), Values::I64(v)) => read(r, rows, defs, v)?,
            (ColumnReader::Int96ColumnReader(r), Values::I96(v)) => read(r, rows, defs, v)?,
            (ColumnReader::FloatColumnReader(r), Values::F32(v)) => read(r, rows, defs, v)?,
            (ColumnReader::DoubleColumnReader(r), Values::F64(v)) => read(r, rows, defs, v)?,
            (ColumnReader::ByteArrayColumnReader(r), Values::Bytes(v)) => read(r, rows, defs, v)?,
            (ColumnReader::FixedLenByteArrayColumnReader(r), Values::Bytes(v)) => {
                v.clear();
                let mut fixed = Vec::new();
                let defs = (self.max_def > 0).then_some(&mut self.defs);
                let (records, values, _) = r.read_records(rows, defs, None, &mut fixed)?;
                v.extend(fixed.into_iter().map(ByteArray::from));
                (records, values)
            }
            _ => {
                return Err(ParquetError::General(
                    "column reader of another type".into(),
                ));
            }
        };
        if records != rows {
            return Err(ParquetError::General(format!(
                "the column chunk ends after {records} of the row group's remaining {rows} rows"
            )));
        }
        self.at.clear();
        if self.max_def == 0 {
            if values != rows {
                return Err(ParquetError::General(format!(
                    "{values} values for {rows} rows of a required column"
                )));
            }
            self.at
                .extend((0..rows).map(|i| u32::try_from(i).unwrap_or(u32::MAX)));
        } else {
            if self.defs.len() != rows {
                return Err(ParquetError::General(format!(
                    "{} definition levels for {rows} rows",
                    self.defs.len()
                )));
            }
            let mut next = 0u32;
            for &d in &self.defs {
                if d == self.max_def {
                    self.at.push(next);
                    next += 1;
                } else {
                    self.at.push(u32::MAX);
                }
            }
            if next as usize != values {
                return Err(ParquetError::General(format!(
                    "{values} values where the definition levels give {next}"
                )));
            }
        }
        Ok(())
    }

    /// Row `row` of the batch.
    pub(super) fn get(&self, row: usize) -> Value<'_> {
        let Some(&i) = self.at.get(row) else {
            return Value::Null;
        };
        let i = i as usize;
        let v = match &self.values {
            Values::Bool(v) => v.get(i).map(|&x| Value::Bool(x)),
            Values::I32(v) => v.get(i).map(|&x| Value::Int(i64::from(x))),
            Values::I64(v) => v.get(i).map(|&x| Value::Int(x)),
            Values::I96(v) => v.get(i).map(|&x| Value::Int96(x)),
            Values::F32(v) => v.get(i).map(|&x| Value::Float(f64::from(x))),
            Values::F64(v) => v.get(i).map(|&x| Value::Float(x)),
            Values::Bytes(v) => v.get(i).map(|x| Value::Bytes(x.data())),
        };
        v.unwrap_or(Value::Null)
    }
}

type Typed<T> = ::parquet::column::reader::ColumnReaderImpl<T>;

fn read<T: ::parquet::data_type::DataType>(
    r: &mut Typed<T>,
    rows: usize,
    defs: Option<&mut Vec<i16>>,
    values: &mut Vec<T::T>,
) -> Result<(usize, usize), ParquetError> {
    values.clear();
    let (records, n, _) = r.read_records(rows, defs, None, values)?;
    Ok((records, n))
}
