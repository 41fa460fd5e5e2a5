//! Recursive-descent parser (without recursion: the grammar is flat) from tokens to [`FilterExpr`].

use super::ast::{
    Action, Condition, Dataset, Expression, FieldRef, FilterExpr, Op, Rhs, Target, Value,
};
use super::lexer::{Tok, Token, tokenize};
use crate::error::FilterError;

/// Parses a filter expression. Syntax only: field names, types and dataset rules are checked
/// when the expression is compiled against a catalogue.
///
/// # Errors
/// [`FilterError::Parse`] with the column, the token found and what was expected.
pub fn parse(src: &str) -> Result<FilterExpr, FilterError> {
    let toks = tokenize(src)?;
    let mut p = Parser { toks, pos: 0 };
    let mut expressions = vec![p.expression()?];
    while p.eat(&Tok::Pipe) {
        expressions.push(p.expression()?);
    }
    Ok(FilterExpr { expressions })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

const EOF: Token = Token {
    tok: Tok::Eof,
    column: 0,
};

impl Parser {
    fn peek(&self) -> &Token {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .unwrap_or(&EOF)
    }

    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.pos + k).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// An error at the current token.
    fn expected(&self, expected: &str, context: &str) -> FilterError {
        let t = self.peek();
        FilterError::Parse {
            column: t.column,
            found: t.tok.describe(),
            expected: expected.to_string(),
            context: if context.is_empty() {
                String::new()
            } else {
                format!("{context} ")
            },
        }
    }

    fn expression(&mut self) -> Result<Expression, FilterError> {
        let column = self.peek().column;
        let action = if self.eat_kw("INCLUDE") {
            Action::Include
        } else if self.eat_kw("EXCLUDE") {
            Action::Exclude
        } else {
            let ctx = if self.pos == 0 { "" } else { "after '|'" };
            return Err(self.expected("INCLUDE or EXCLUDE", ctx));
        };
        let target = if self.eat_kw("ItemID") {
            Target::ItemId
        } else if self.eat_kw("UserID") {
            Target::UserId
        } else if self.eat_kw("ActionID") {
            Target::ActionId
        } else {
            let ctx = match action {
                Action::Include => "after INCLUDE",
                Action::Exclude => "after EXCLUDE",
            };
            return Err(self.expected("ItemID, UserID or ActionID", ctx));
        };
        if !self.eat_kw("WHERE") {
            let ctx = match target {
                Target::ItemId => "after ItemID",
                Target::UserId => "after UserID",
                Target::ActionId => "after ActionID",
            };
            return Err(self.expected("WHERE", ctx));
        }
        let mut conditions = vec![vec![self.condition()?]];
        loop {
            if self.eat_kw("AND") {
                let c = self.condition()?;
                if let Some(last) = conditions.last_mut() {
                    last.push(c);
                }
            } else if self.eat_kw("OR") {
                conditions.push(vec![self.condition()?]);
            } else {
                break;
            }
        }
        let mut if_conditions = Vec::new();
        if self.eat_kw("IF") {
            if_conditions.push(self.condition()?);
            while self.eat_kw("AND") {
                if_conditions.push(self.condition()?);
            }
            if !matches!(self.peek().tok, Tok::Pipe | Tok::Eof) {
                let ctx = if self.is_kw("OR") {
                    "(OR is not allowed in an IF clause)"
                } else {
                    "after the IF condition"
                };
                return Err(self.expected("AND, '|' or the end of the expression", ctx));
            }
        } else if !matches!(self.peek().tok, Tok::Pipe | Tok::Eof) {
            return Err(self.expected(
                "AND, OR, IF, '|' or the end of the expression",
                "after a condition",
            ));
        }
        Ok(Expression {
            action,
            target,
            conditions,
            if_conditions,
            column,
        })
    }

    fn field(&mut self, context: &str) -> Result<FieldRef, FilterError> {
        let t = self.peek().clone();
        let Tok::Ident(name) = &t.tok else {
            return Err(self.expected("a field such as Items.GENRE", context));
        };
        let Some(dataset) = Dataset::from_name(name) else {
            return Err(self.expected(
                "a dataset (Items, Interactions, Users, CurrentItem or CurrentUser)",
                context,
            ));
        };
        self.bump();
        if !self.eat(&Tok::Dot) {
            return Err(self.expected("'.'", &format!("after {}", dataset.name())));
        }
        match self.peek().tok.clone() {
            Tok::Ident(field) => {
                self.bump();
                Ok(FieldRef {
                    dataset,
                    name: field,
                    column: t.column,
                })
            }
            _ => Err(self.expected("a field name", &format!("after {}.", dataset.name()))),
        }
    }

    fn condition(&mut self) -> Result<Condition, FilterError> {
        let field = self.field("")?;
        let after = format!("after {field}");
        let op = match &self.peek().tok {
            Tok::Ident(s) if s.eq_ignore_ascii_case("IN") => Op::In,
            Tok::Ident(s)
                if s.eq_ignore_ascii_case("NOT")
                    && matches!(self.peek_at(1), Tok::Ident(n) if n.eq_ignore_ascii_case("IN")) =>
            {
                self.bump();
                Op::NotIn
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("NOT") => {
                self.bump();
                return Err(self.expected("IN", "after NOT"));
            }
            Tok::Eq => Op::Eq,
            Tok::Ne => Op::Ne,
            Tok::Lt => Op::Lt,
            Tok::Le => Op::Le,
            Tok::Gt => Op::Gt,
            Tok::Ge => Op::Ge,
            _ => return Err(self.expected("IN, NOT IN or a comparison", &after)),
        };
        self.bump();
        let after_op = format!("after {field} {}", op.symbol());
        let rhs = if op.is_comparison() {
            match self.peek().tok.clone() {
                Tok::Num(value, text) => {
                    self.bump();
                    Rhs::Value(Value::Num { value, text })
                }
                Tok::Param(p) => {
                    self.bump();
                    Rhs::Value(Value::Param(p))
                }
                Tok::Str(s) => {
                    self.bump();
                    Rhs::Value(Value::Str(s))
                }
                Tok::Ident(_) => Rhs::Field(self.field(&after_op)?),
                _ => {
                    return Err(
                        self.expected("a number, $PARAMETER or CurrentItem.FIELD", &after_op)
                    );
                }
            }
        } else if self.eat(&Tok::LParen) {
            let mut values = vec![self.value(&after_op)?];
            loop {
                if self.eat(&Tok::Comma) {
                    values.push(self.value("after ','")?);
                } else if self.eat(&Tok::RParen) {
                    break;
                } else {
                    return Err(self.expected("',' or ')'", "in the value list"));
                }
            }
            Rhs::List(values)
        } else if matches!(self.peek().tok, Tok::Ident(_)) {
            Rhs::Field(self.field(&after_op)?)
        } else {
            return Err(self.expected("'(' or CurrentItem.FIELD", &after_op));
        };
        Ok(Condition { field, op, rhs })
    }

    fn value(&mut self, context: &str) -> Result<Value, FilterError> {
        let v = match self.peek().tok.clone() {
            Tok::Str(s) => Value::Str(s),
            Tok::Num(value, text) => Value::Num { value, text },
            Tok::Param(p) => Value::Param(p),
            Tok::Star => Value::Star,
            _ => {
                return Err(self.expected("a value (\"string\", number, $PARAMETER or *)", context));
            }
        };
        self.bump();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_binds_tighter_than_or() {
        let f =
            parse(r#"INCLUDE ItemID WHERE Items.A IN ("1") AND Items.B IN ("2") OR Items.C > 3"#)
                .unwrap();
        let e = &f.expressions[0];
        assert_eq!(e.conditions.len(), 2);
        assert_eq!(e.conditions[0].len(), 2);
        assert_eq!(e.conditions[1].len(), 1);
    }

    #[test]
    fn error_message_names_column_and_expectation() {
        let e = parse("EXCLUDE ItemID WHERE Items.GENRE LIKE (\"x\")").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected IN, NOT IN or a comparison after Items.GENRE at column 34, found 'LIKE'"
        );
        let e = parse("INCLUDE ItemID WHERE Items.GENRE IN (\"a\",)").unwrap_err();
        assert!(e.to_string().contains("column 42"), "{e}");
        let e = parse("INCLUDE ItemID Items.GENRE IN (\"a\")").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("expected WHERE after ItemID at column 16"),
            "{e}"
        );
    }

    #[test]
    fn display_round_trips() {
        let src = r#"EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE, "a\"b") IF CurrentUser.AGE >= 18 AND CurrentUser.TIER NOT IN ("x") | INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE OR Interactions.EVENT_TYPE IN (*)"#;
        let f = parse(src).unwrap();
        let again = parse(&f.to_string()).unwrap();
        assert_eq!(f.to_string(), again.to_string());
        assert_eq!(f.to_string(), src);
    }
}
