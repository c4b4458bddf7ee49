//! A YAML subset reader for the workflows (block mappings and sequences,
//! plain and quoted scalars, `|`/`>` block scalars, flow `[a, b]` and
//! `{}`): enough for these files, no YAML dependency.

use std::fs;

use serde_json::{json, Map, Value};

use super::project_root;

/// The workflows, read with a YAML subset reader (block mappings and
/// sequences, plain and quoted scalars, `|`/`>` block scalars, flow
/// `[a, b]` and `{}`): enough for these files, no YAML dependency.
pub fn workflow(name: &str) -> Value {
    let path = project_root().join(".github/workflows").join(name);
    let text = fs::read_to_string(&path).expect("workflow");
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let value = yaml_block(&lines, &mut i, 0);
    assert_eq!(i, lines.len(), "{name}: stopped reading at line {}", i + 1);
    value
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Skips blank and comment-only lines.
fn skip_blank(lines: &[&str], i: &mut usize) {
    while *i < lines.len() && {
        let t = lines[*i].trim();
        t.is_empty() || t.starts_with('#')
    } {
        *i += 1;
    }
}

/// A line without its trailing comment (a ` #` outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let bytes = line.as_bytes();
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if at == 0 || bytes[at - 1] == b' ' => return line[..at].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

pub fn yaml_block(lines: &[&str], i: &mut usize, indent: usize) -> Value {
    skip_blank(lines, i);
    if *i >= lines.len() {
        return Value::Null;
    }
    if lines[*i].trim_start().starts_with('-') {
        let mut items = Vec::new();
        loop {
            skip_blank(lines, i);
            if *i >= lines.len() || indent_of(lines[*i]) != indent {
                break;
            }
            let content = lines[*i].trim_start();
            let Some(rest) = content.strip_prefix('-') else {
                break;
            };
            let rest = rest.trim_start();
            if rest.is_empty() {
                *i += 1;
                let inner = lines.get(*i).map_or(indent + 2, |l| indent_of(l));
                items.push(yaml_block(lines, i, inner));
            } else if key_value(strip_comment(rest)).is_some() {
                // `- key: value` opens a mapping indented where `key` stands.
                items.push(yaml_mapping(lines, i, indent + 2, Some(rest)));
            } else {
                items.push(scalar(strip_comment(rest)));
                *i += 1;
            }
        }
        return Value::Array(items);
    }
    yaml_mapping(lines, i, indent, None)
}

/// A mapping at `indent`; `first` is the content of a `- key: value` line.
fn yaml_mapping(lines: &[&str], i: &mut usize, indent: usize, mut first: Option<&str>) -> Value {
    let mut map = Map::new();
    loop {
        let content = match first.take() {
            Some(c) => c,
            None => {
                skip_blank(lines, i);
                if *i >= lines.len() || indent_of(lines[*i]) != indent {
                    break;
                }
                let c = lines[*i].trim_start();
                if c.starts_with("- ") || c == "-" {
                    break;
                }
                c
            }
        };
        let (key, rest) = key_value(strip_comment(content))
            .unwrap_or_else(|| panic!("line {}: not `key: value`: {content}", *i + 1));
        *i += 1;
        let value = match rest {
            "" => {
                skip_blank(lines, i);
                match lines.get(*i) {
                    Some(l) if indent_of(l) > indent => yaml_block(lines, i, indent_of(l)),
                    Some(l) if indent_of(l) == indent && l.trim_start().starts_with("- ") => {
                        yaml_block(lines, i, indent)
                    }
                    _ => Value::Null,
                }
            }
            r if r.starts_with('|') || r.starts_with('>') => {
                let mut body = Vec::new();
                while *i < lines.len()
                    && (lines[*i].trim().is_empty() || indent_of(lines[*i]) > indent)
                {
                    body.push(lines[*i].trim());
                    *i += 1;
                }
                while body.last() == Some(&"") {
                    body.pop();
                }
                let sep = if r.starts_with('>') { " " } else { "\n" };
                Value::String(body.join(sep))
            }
            r => scalar(r),
        };
        map.insert(key, value);
    }
    Value::Object(map)
}

fn key_value(content: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(k) = content.strip_suffix(':') {
        (k, "")
    } else {
        let at = content.find(": ")?;
        (&content[..at], content[at + 2..].trim())
    };
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(' ')).then(|| (key.to_string(), rest))
}

fn scalar(text: &str) -> Value {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Value::Array(
            inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(scalar)
                .collect(),
        );
    }
    match text {
        "{}" => return json!({}),
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<u64>() {
        return json!(n);
    }
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return Value::String(inner.to_string());
        }
    }
    Value::String(text.to_string())
}
