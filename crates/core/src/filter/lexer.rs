//! Splits expression text into tokens. Columns are 1-based and count characters.

use crate::error::FilterError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word: keyword, dataset or field name (`[A-Za-z_][A-Za-z0-9_]*`).
    Ident(String),
    /// A double-quoted string, unescaped.
    Str(String),
    /// A number with its source text.
    Num(f64, String),
    /// `$NAME` (without the `$`).
    Param(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Pipe,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

/// A token and the column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub column: usize,
}

impl Tok {
    /// How an error message shows this token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(s) => format!("string \"{}\"", clip(s)),
            Tok::Num(_, t) => format!("number {t}"),
            Tok::Param(p) => format!("parameter ${p}"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Dot => "'.'".into(),
            Tok::Pipe => "'|'".into(),
            Tok::Star => "'*'".into(),
            Tok::Eq => "'='".into(),
            Tok::Ne => "'!='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Eof => "end of expression".into(),
        }
    }
}

/// Shortens long strings for error messages.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

fn err(column: usize, found: String, expected: &str) -> FilterError {
    FilterError::Parse {
        column,
        found,
        expected: expected.to_string(),
        context: String::new(),
    }
}

/// Tokenises `src`; the last token is always [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let column = i + 1;
        let at = |k: usize| chars.get(k).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, next) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            ',' => (Tok::Comma, i + 1),
            '.' => (Tok::Dot, i + 1),
            '|' => (Tok::Pipe, i + 1),
            '*' => (Tok::Star, i + 1),
            '=' => (Tok::Eq, i + 1),
            '<' if at(i + 1) == Some('=') => (Tok::Le, i + 2),
            '<' if at(i + 1) == Some('>') => (Tok::Ne, i + 2),
            '<' => (Tok::Lt, i + 1),
            '>' if at(i + 1) == Some('=') => (Tok::Ge, i + 2),
            '>' => (Tok::Gt, i + 1),
            '!' if at(i + 1) == Some('=') => (Tok::Ne, i + 2),
            '"' => {
                let mut s = String::new();
                let mut k = i + 1;
                loop {
                    match at(k) {
                        None => {
                            return Err(err(
                                column,
                                "an unterminated string".into(),
                                "a closing '\"'",
                            ));
                        }
                        Some('"') => break,
                        Some('\\') if matches!(at(k + 1), Some('"' | '\\')) => {
                            s.extend(at(k + 1));
                            k += 2;
                        }
                        Some(ch) => {
                            s.push(ch);
                            k += 1;
                        }
                    }
                }
                (Tok::Str(s), k + 1)
            }
            '$' => {
                let mut k = i + 1;
                while at(k).is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                    k += 1;
                }
                if k == i + 1 {
                    let found =
                        at(k).map_or_else(|| "end of expression".into(), |ch| format!("'{ch}'"));
                    return Err(err(
                        k + 1,
                        found,
                        "a parameter name ([A-Za-z0-9_]) after '$'",
                    ));
                }
                (Tok::Param(chars[i + 1..k].iter().collect()), k)
            }
            c if c.is_ascii_digit()
                || (c == '-' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut k = i + 1;
                while at(k).is_some_and(|ch| ch.is_ascii_digit()) {
                    k += 1;
                }
                if at(k) == Some('.') && at(k + 1).is_some_and(|ch| ch.is_ascii_digit()) {
                    k += 1;
                    while at(k).is_some_and(|ch| ch.is_ascii_digit()) {
                        k += 1;
                    }
                }
                if matches!(at(k), Some('e' | 'E')) {
                    let sign = usize::from(matches!(at(k + 1), Some('+' | '-')));
                    if at(k + 1 + sign).is_some_and(|ch| ch.is_ascii_digit()) {
                        k += 1 + sign;
                        while at(k).is_some_and(|ch| ch.is_ascii_digit()) {
                            k += 1;
                        }
                    }
                }
                let text: String = chars[i..k].iter().collect();
                match crate::decimal::parse_f64(&text) {
                    Some(v) if v.is_finite() => (Tok::Num(v, text), k),
                    _ => {
                        return Err(err(
                            column,
                            format!("number {}", clip(&text)),
                            "a finite number",
                        ));
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut k = i + 1;
                while at(k).is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                    k += 1;
                }
                (Tok::Ident(chars[i..k].iter().collect()), k)
            }
            other => {
                return Err(err(
                    column,
                    format!("'{other}'"),
                    "a keyword, field, value or operator",
                ));
            }
        };
        out.push(Token { tok, column });
        i = next;
    }
    out.push(Token {
        tok: Tok::Eof,
        column: chars.len() + 1,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_columns() {
        let t = tokenize(r#"Items.PRICE <= $P AND x IN ("a\"b", -1.5e2, *) |"#).unwrap();
        let kinds: Vec<_> = t.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(kinds[0], Tok::Ident("Items".into()));
        assert_eq!(kinds[1], Tok::Dot);
        assert_eq!(kinds[3], Tok::Le);
        assert_eq!(t[3].column, 13);
        assert_eq!(kinds[4], Tok::Param("P".into()));
        assert_eq!(kinds[9], Tok::Str("a\"b".into()));
        assert_eq!(kinds[11], Tok::Num(-150.0, "-1.5e2".into()));
        assert_eq!(kinds[13], Tok::Star);
        assert_eq!(kinds.last(), Some(&Tok::Eof));
    }

    #[test]
    fn lexical_errors_name_the_column() {
        let e = tokenize("Items.X IN (\"abc").unwrap_err();
        assert!(e.to_string().contains("column 13"), "{e}");
        let e = tokenize("a $ b").unwrap_err();
        assert!(e.to_string().contains("column 4"), "{e}");
        let e = tokenize("a ; b").unwrap_err();
        assert!(e.to_string().contains("';'"), "{e}");
        assert!(tokenize("99999e999").is_err());
    }
}
