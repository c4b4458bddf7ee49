//! Pure reading of twine's configuration file (`~/.pypirc`), the way the
//! installed twine reads it: an INI file whose `[distutils] index-servers`
//! lists the repository sections (default `pypi testpypi`), each with
//! `repository`, `username` and `password`; `[server-login]` gives default
//! credentials; `pypi` and `testpypi` need no section, their URLs are
//! twine's own defaults (passed in, never written here).

use std::collections::BTreeMap;

use crate::input::{clip, BadInput};

/// The well-known names twine resolves without a section.
pub const PYPI: &str = "pypi";
pub const TESTPYPI: &str = "testpypi";

/// An INI file as Python's `RawConfigParser` reads it: sections of keys
/// (lowercased), values with continuation lines joined by `\n`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ini {
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Ini {
    pub fn parse(text: &str) -> Result<Ini, String> {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                // An empty line ends a value's continuation.
                if trimmed.is_empty() {
                    last_key = None;
                }
                continue;
            }
            let indented = line.len() != trimmed.len();
            if indented {
                if let (Some(s), Some(k)) = (&section, &last_key) {
                    let value = ini
                        .sections
                        .get_mut(s)
                        .and_then(|keys| keys.get_mut(k))
                        .ok_or_else(|| format!("line {}: a continuation without a key", n + 1))?;
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(trimmed);
                    continue;
                }
            }
            if let Some(name) = trimmed.strip_prefix('[') {
                let name = name
                    .strip_suffix(']')
                    .ok_or_else(|| format!("line {}: a section header without `]`", n + 1))?;
                ini.sections.entry(name.to_string()).or_default();
                section = Some(name.to_string());
                last_key = None;
                continue;
            }
            let Some(s) = &section else {
                return Err(format!("line {}: a key before any [section]", n + 1));
            };
            let split = trimmed
                .find(['=', ':'])
                .ok_or_else(|| format!("line {}: expected `key = value`", n + 1))?;
            let key = trimmed[..split].trim().to_lowercase();
            let value = trimmed[split + 1..].trim().to_string();
            if let Some(keys) = ini.sections.get_mut(s) {
                keys.insert(key.clone(), value);
            }
            last_key = Some(key);
        }
        Ok(ini)
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)
            .and_then(|keys| keys.get(key))
            .map(String::as_str)
    }
}

/// One repository as twine would use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    /// The upload URL; `None` when the section names none (twine fails then).
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Twine's default upload URLs, read from the installed twine.
pub struct Defaults<'a> {
    pub pypi: &'a str,
    pub testpypi: &'a str,
}

/// The repositories the file defines, as twine's `get_config` builds them:
/// `index-servers` names them, `pypi` (always) and `testpypi` (when
/// listed) get twine's URLs unless their section sets one.
pub fn repositories(ini: &Ini, defaults: &Defaults) -> Vec<Repository> {
    let servers: Vec<String> = ini
        .get("distutils", "index-servers")
        .unwrap_or("pypi testpypi")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let login = |key: &str| ini.get("server-login", key).map(str::to_string);
    let mut names: Vec<String> = vec![PYPI.to_string()];
    names.extend(servers.iter().filter(|s| *s != PYPI).cloned());
    names
        .into_iter()
        .map(|name| {
            let listed = servers.contains(&name);
            let own = |key: &str| {
                listed
                    .then(|| ini.get(&name, key).map(str::to_string))
                    .flatten()
            };
            let default_url = match name.as_str() {
                PYPI => Some(defaults.pypi.to_string()),
                TESTPYPI => Some(defaults.testpypi.to_string()),
                _ => None,
            };
            Repository {
                url: own("repository").or(default_url),
                username: own("username").or_else(|| login("username")),
                password: own("password").or_else(|| login("password")),
                name,
            }
        })
        .collect()
}

/// The repository `name` from the file's text (`None`: no file), or bad
/// input naming the repositories the file has, as twine refuses it.
pub fn choose(
    text: Option<&str>,
    file: &str,
    name: &str,
    defaults: &Defaults,
) -> Result<Repository, BadInput> {
    let ini = match text {
        Some(text) => Ini::parse(text).map_err(|why| {
            BadInput(format!(
                "{file} cannot be read as twine's configuration ({why}): fix it, or pass \
--repository-url"
            ))
        })?,
        None => Ini::default(),
    };
    let known = repositories(&ini, defaults);
    let Some(found) = known.iter().find(|r| r.name == name) else {
        let names: Vec<&str> = known.iter().map(|r| r.name.as_str()).collect();
        let listed_elsewhere = ini.sections.contains_key(name);
        return Err(BadInput(format!(
            "there is no repository `{}` in {file}; it has: {}{}. Pass --repository with one \
of them (or set TWINE_REPOSITORY), or --repository-url",
            clip(name),
            names.join(", "),
            if listed_elsewhere {
                format!(
                    " (a [{}] section exists but `index-servers` under [distutils] does not \
list it, so twine ignores it)",
                    clip(name)
                )
            } else {
                String::new()
            }
        )));
    };
    if found.url.as_deref().is_none_or(str::is_empty) {
        return Err(BadInput(format!(
            "the repository `{}` in {file} has no `repository = URL`: add the index's upload \
URL to its section",
            clip(name)
        )));
    }
    Ok(found.clone())
}

#[cfg(test)]
mod tests;
