//! The `${{ … }}` expressions and job conditions of cd.yml, evaluated.

use serde_json::Value;

// ---------------------------------------------------------------------------
// Expressions: exactly what cd.yml uses (context paths with `.name`, `.*`
// and `['name']`, string literals, `==`, `!=`, `!`, `&&`, `||`,
// parentheses, `contains` and the status functions). Anything else panics,
// so a workflow edit this runner does not understand cannot pass silently.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Dot,
    Star,
    LBrack,
    RBrack,
    LParen,
    RParen,
    Comma,
    Not,
    Eq,
    Ne,
    And,
    Or,
}

pub fn tokens(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => break,
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                        None => panic!("unterminated string in `{text}`"),
                    }
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            _ if ["==", "!=", "&&", "||"].contains(&two.as_str()) => {
                out.push(match two.as_str() {
                    "==" => Tok::Eq,
                    "!=" => Tok::Ne,
                    "&&" => Tok::And,
                    _ => Tok::Or,
                });
                i += 2;
            }
            '!' | '.' | '*' | '[' | ']' | '(' | ')' | ',' => {
                out.push(match c {
                    '!' => Tok::Not,
                    '.' => Tok::Dot,
                    '*' => Tok::Star,
                    '[' => Tok::LBrack,
                    ']' => Tok::RBrack,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => panic!("this runner does not understand `{other}` in `{text}`"),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Star,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Path(Vec<Seg>),
    Not(Box<Expr>),
    Eq(Box<Expr>, Box<Expr>, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

pub struct Parser {
    pub toks: Vec<Tok>,
    pub at: usize,
    pub text: String,
}

impl Parser {
    pub fn parse(text: &str) -> Expr {
        let mut p = Parser {
            toks: tokens(text),
            at: 0,
            text: text.to_string(),
        };
        let e = p.or();
        assert!(p.at == p.toks.len(), "this runner stopped reading `{text}`");
        e
    }

    pub fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    pub fn next(&mut self) -> Tok {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t.unwrap_or_else(|| panic!("`{}` ends too early", self.text))
    }

    pub fn expect(&mut self, tok: Tok) {
        let got = self.next();
        assert_eq!(got, tok, "in `{}`", self.text);
    }

    pub fn or(&mut self) -> Expr {
        let mut e = self.and();
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()));
        }
        e
    }

    pub fn and(&mut self) -> Expr {
        let mut e = self.eq();
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.eq()));
        }
        e
    }

    pub fn eq(&mut self) -> Expr {
        let e = self.unary();
        match self.peek() {
            Some(Tok::Eq) | Some(Tok::Ne) => {
                let equal = self.next() == Tok::Eq;
                Expr::Eq(Box::new(e), Box::new(self.unary()), equal)
            }
            _ => e,
        }
    }

    pub fn unary(&mut self) -> Expr {
        if self.peek() == Some(&Tok::Not) {
            self.at += 1;
            return Expr::Not(Box::new(self.unary()));
        }
        self.primary()
    }

    pub fn primary(&mut self) -> Expr {
        match self.next() {
            Tok::Str(s) => Expr::Lit(Value::String(s)),
            Tok::LParen => {
                let e = self.or();
                self.expect(Tok::RParen);
                e
            }
            Tok::Ident(name) if self.peek() == Some(&Tok::LParen) => {
                self.at += 1;
                let mut args = Vec::new();
                while self.peek() != Some(&Tok::RParen) {
                    args.push(self.or());
                    if self.peek() == Some(&Tok::Comma) {
                        self.at += 1;
                    }
                }
                self.at += 1;
                let arity = match name.as_str() {
                    "always" | "success" | "failure" | "cancelled" => 0,
                    "contains" => 2,
                    other => panic!("this runner has no function `{other}` (in `{}`)", self.text),
                };
                assert_eq!(args.len(), arity, "{name}() in `{}`", self.text);
                Expr::Call(name, args)
            }
            Tok::Ident(word) if word == "true" || word == "false" => {
                Expr::Lit(Value::Bool(word == "true"))
            }
            Tok::Ident(word) if word == "null" => Expr::Lit(Value::Null),
            Tok::Ident(root) => {
                let mut segs = vec![Seg::Key(root)];
                loop {
                    match self.peek() {
                        Some(Tok::Dot) => {
                            self.at += 1;
                            match self.next() {
                                Tok::Ident(k) => segs.push(Seg::Key(k)),
                                Tok::Star => segs.push(Seg::Star),
                                other => panic!("`.{other:?}` in `{}`", self.text),
                            }
                        }
                        Some(Tok::LBrack) => {
                            self.at += 1;
                            match self.next() {
                                Tok::Str(k) => segs.push(Seg::Key(k)),
                                other => panic!("`[{other:?}]` in `{}`", self.text),
                            }
                            self.expect(Tok::RBrack);
                        }
                        _ => break,
                    }
                }
                Expr::Path(segs)
            }
            other => panic!(
                "this runner does not understand {other:?} in `{}`",
                self.text
            ),
        }
    }
}

/// Whether an expression calls a status function (else a job condition
/// is implicitly `success() && (…)`, as on GitHub).
pub fn has_status_call(e: &Expr) -> bool {
    match e {
        Expr::Call(name, args) => {
            matches!(
                name.as_str(),
                "always" | "success" | "failure" | "cancelled"
            ) || args.iter().any(has_status_call)
        }
        Expr::Not(a) => has_status_call(a),
        Expr::Eq(a, b, _) | Expr::And(a, b) | Expr::Or(a, b) => {
            has_status_call(a) || has_status_call(b)
        }
        Expr::Lit(_) | Expr::Path(_) => false,
    }
}

/// What an expression may read where it stands: an object whose keys are
/// the contexts available there (`github`, `needs`, `steps`, `runner`),
/// and whether status functions apply (job conditions only).
pub struct Ctx {
    pub contexts: Value,
    pub status: bool,
}

impl Ctx {
    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Path(segs) => self.path(segs),
            Expr::Not(a) => Value::Bool(!truthy(&self.eval(a))),
            Expr::Eq(a, b, equal) => Value::Bool(loose_eq(&self.eval(a), &self.eval(b)) == *equal),
            Expr::And(a, b) => {
                let left = self.eval(a);
                if truthy(&left) {
                    self.eval(b)
                } else {
                    left
                }
            }
            Expr::Or(a, b) => {
                let left = self.eval(a);
                if truthy(&left) {
                    left
                } else {
                    self.eval(b)
                }
            }
            Expr::Call(name, args) => self.call(name, args),
        }
    }

    pub fn call(&self, name: &str, args: &[Expr]) -> Value {
        let results = || -> Vec<String> {
            assert!(self.status, "{name}() where this runner has no job status");
            self.contexts["needs"]
                .as_object()
                .map(|needs| {
                    needs
                        .values()
                        .map(|n| n["result"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        Value::Bool(match name {
            "always" => {
                assert!(self.status, "always() where this runner has no job status");
                true
            }
            "success" => results().iter().all(|r| r == "success"),
            "failure" => results().iter().any(|r| r == "failure"),
            "cancelled" => {
                results();
                false // nothing is ever cancelled here
            }
            "contains" => {
                let (hay, needle) = (self.eval(&args[0]), self.eval(&args[1]));
                match &hay {
                    Value::Array(items) => items.iter().any(|i| loose_eq(i, &needle)),
                    Value::String(s) => s.to_lowercase().contains(&to_text(&needle).to_lowercase()),
                    other => panic!("contains() on {other}"),
                }
            }
            other => panic!("this runner has no function `{other}`"),
        })
    }

    /// A context path. The context and its first key must exist (an
    /// unknown job, step or property is a test failure, not an empty
    /// string); deeper keys read as null when absent, as on GitHub (a
    /// step output that was never written).
    pub fn path(&self, segs: &[Seg]) -> Value {
        let Seg::Key(root) = &segs[0] else {
            panic!("a path starting with `*`")
        };
        let mut current = self.contexts.get(root).cloned().unwrap_or_else(|| {
            panic!(
                "the expression reads `{root}`, which this runner does not provide here (it has {})",
                self.contexts.as_object().map_or(String::new(), |o| o
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        });
        for (depth, seg) in segs.iter().enumerate().skip(1) {
            current = match (seg, current) {
                (Seg::Star, Value::Object(o)) => {
                    Value::Array(o.into_iter().map(|(_, v)| v).collect())
                }
                (Seg::Key(k), Value::Object(mut o)) => match o.remove(k) {
                    Some(v) => v,
                    None if depth == 1 => panic!(
                        "`{root}.{k}` is unknown to this runner (it has {})",
                        o.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    None => Value::Null,
                },
                (Seg::Key(k), Value::Array(items)) => Value::Array(
                    items
                        .into_iter()
                        .map(|i| i.get(k).cloned().unwrap_or(Value::Null))
                        .collect(),
                ),
                (_, Value::Null) => Value::Null,
                (seg, other) => panic!("{seg:?} of {other} under `{root}`"),
            };
        }
        current
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// GitHub's `==`: strings case-insensitively, null equal to null and to
/// the empty string; other mixes are not used by cd.yml.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase() == y.to_lowercase(),
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (x, y) => panic!("this runner does not compare {x} with {y}"),
    }
}

/// A value as `${{ }}` puts it into text.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("`${{{{ }}}}` of {other} is not text"),
    }
}

/// Replaces every `${{ expr }}` in a YAML value that is text.
pub fn interpolate(value: &Value, ctx: &Ctx) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => return n.to_string(),
        Value::Bool(b) => return b.to_string(),
        other => panic!("{other} is not a text value"),
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unterminated `${{{{` in {text}"));
        out.push_str(&to_text(
            &ctx.eval(&Parser::parse(&rest[start + 3..start + end])),
        ));
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}
