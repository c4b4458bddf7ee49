//! Pure decisions over mike's `versions.json`: which spelling a series
//! already has, whether `latest-release` moves, what a deploy leaves
//! behind, where a site breaks its own conventions. mike enforces none of
//! these rules itself. What a rollback restores is `docs/rollback_plan.rs`.

use anyhow::Result;

use crate::input::BadInput;
use crate::settings::{AliasType, SeriesSpelling};
use crate::version::{Series, Tag};

/// The alias that always names the newest series; the site's default.
pub const LATEST: &str = "latest-release";
pub const VERSIONS_FILE: &str = "versions.json";

/// One entry of `versions.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocsVersion {
    pub name: String,
    pub title: String,
    pub aliases: Vec<String>,
    /// mike's optional `properties`, kept as they are.
    pub properties: Option<serde_json::Value>,
}

impl DocsVersion {
    /// A plain entry (title = name), as tests write them.
    #[cfg(test)]
    pub fn plain(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion {
            name: name.into(),
            title: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            properties: None,
        }
    }

    pub fn series(&self) -> Option<Series> {
        Series::parse(&self.name).ok()
    }
}

/// mike's `versions.json`. A file that is not mike's list (empty, invalid
/// JSON, another shape) is a broken site: bad input (exit 2), so no
/// command writes over it.
pub fn parse(json: &str) -> Result<Vec<DocsVersion>> {
    const EXPECTED: &str = "expected mike's list of {\"version\", \"title\", \"aliases\"} \
entries; repair or restore versions.json on the docs branch first";
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        BadInput(format!(
            "versions.json (mike's version list) is not valid JSON ({e}): {EXPECTED}"
        ))
    })?;
    let items = value.as_array().ok_or_else(|| {
        BadInput(format!(
            "versions.json is not a list of versions: {EXPECTED}"
        ))
    })?;
    items
        .iter()
        .map(|item| {
            let name = item["version"].as_str().ok_or_else(|| {
                BadInput(format!(
                    "a versions.json entry has no `version` text: {EXPECTED}"
                ))
            })?;
            Ok(DocsVersion {
                name: name.to_string(),
                title: item["title"].as_str().unwrap_or(name).to_string(),
                aliases: item["aliases"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                properties: item.get("properties").filter(|p| !p.is_null()).cloned(),
            })
        })
        .collect()
}

/// `versions.json` as mike writes it (Python's `json.dumps(..., indent=2)`).
pub fn render(versions: &[DocsVersion]) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let entries: Vec<String> = versions
        .iter()
        .map(|v| {
            let aliases = if v.aliases.is_empty() {
                "[]".to_string()
            } else {
                let items: Vec<String> = v
                    .aliases
                    .iter()
                    .map(|a| format!("      {}", quote(a)))
                    .collect();
                format!("[\n{}\n    ]", items.join(",\n"))
            };
            let properties = match &v.properties {
                Some(p) => format!(",\n    \"properties\": {p}"),
                None => String::new(),
            };
            format!(
                "  {{\n    \"version\": {},\n    \"title\": {},\n    \"aliases\": {aliases}{properties}\n  }}",
                quote(&v.name),
                quote(&v.title)
            )
        })
        .collect();
    if entries.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n]", entries.join(",\n"))
    }
}

/// The name the docs branch already uses for `series` (`0.7` or `v0.7`).
/// Two spellings of one series is an error: it breaks "newest".
pub fn spelling(versions: &[DocsVersion], series: Series) -> Result<Option<String>, BadInput> {
    let names: Vec<&str> = versions
        .iter()
        .filter(|v| v.series() == Some(series))
        .map(|v| v.name.as_str())
        .collect();
    match names.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.to_string())),
        many => Err(BadInput(format!(
            "the docs branch holds series {series} under {} spellings ({}): delete all but one \
with `mike delete`, then deploy again",
            many.len(),
            many.join(", ")
        ))),
    }
}

pub fn newest(versions: &[DocsVersion]) -> Option<Series> {
    versions.iter().filter_map(DocsVersion::series).max()
}

/// The `properties` key that marks a version deployed with `--unreleased`:
/// it may not hold `latest-release` until its series is released.
pub const UNRELEASED: &str = "unreleased";

impl DocsVersion {
    pub fn marked_unreleased(&self) -> bool {
        self.properties
            .as_ref()
            .and_then(|p| p.get(UNRELEASED))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    }
}

/// The spelling of one version name: `v0.7` or `0.7`.
pub fn spelling_of(name: &str) -> SeriesSpelling {
    if name.starts_with('v') {
        SeriesSpelling::VPrefixed
    } else {
        SeriesSpelling::Bare
    }
}

/// A series' version name in a spelling.
pub fn name_in(series: Series, spelling: SeriesSpelling) -> String {
    match spelling {
        SeriesSpelling::Bare => series.to_string(),
        SeriesSpelling::VPrefixed => format!("v{series}"),
    }
}

/// How the site spells its series, as far as it has any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteSpelling {
    Empty,
    Uniform(SeriesSpelling),
    Mixed,
}

pub fn site_spelling(versions: &[DocsVersion]) -> SiteSpelling {
    let mut seen = versions
        .iter()
        .filter(|v| v.series().is_some())
        .map(|v| spelling_of(&v.name));
    let Some(first) = seen.next() else {
        return SiteSpelling::Empty;
    };
    if seen.all(|s| s == first) {
        SiteSpelling::Uniform(first)
    } else {
        SiteSpelling::Mixed
    }
}

/// The spelling a new series gets: the site's own; an empty site's is the
/// project setting; a mixed site follows the version holding
/// `latest-release` (else its newest series), and `status` reports it.
pub fn new_series_spelling(versions: &[DocsVersion], empty: SeriesSpelling) -> SeriesSpelling {
    match site_spelling(versions) {
        SiteSpelling::Empty => empty,
        SiteSpelling::Uniform(s) => s,
        SiteSpelling::Mixed => holder(versions)
            .or_else(|| {
                versions
                    .iter()
                    .filter(|v| v.series().is_some())
                    .max_by_key(|v| v.series())
            })
            .map_or(empty, |v| spelling_of(&v.name)),
    }
}

/// How mike made an alias: a symlink in the tree, a directory of redirect
/// pages, or a directory holding a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasKind {
    Symlink,
    Redirect,
    Copy,
}

impl AliasKind {
    /// mike's `--alias-type` value.
    pub fn as_mike(self) -> &'static str {
        match self {
            AliasKind::Symlink => "symlink",
            AliasKind::Redirect => "redirect",
            AliasKind::Copy => "copy",
        }
    }

    pub fn from_setting(setting: AliasType) -> AliasKind {
        match setting {
            AliasType::Symlink => AliasKind::Symlink,
            AliasType::Redirect => AliasKind::Redirect,
        }
    }

    /// From what `git show REV:ALIAS` printed (a symlink is a blob holding
    /// its target; a directory lists as `tree ...`) and, for a directory,
    /// its `index.html`.
    pub fn from_tree(shown: &str, index_html: Option<&str>) -> AliasKind {
        if !shown.starts_with("tree ") {
            AliasKind::Symlink
        } else if index_html.is_some_and(|h| h.contains("http-equiv=\"refresh\"")) {
            AliasKind::Redirect
        } else {
            AliasKind::Copy
        }
    }
}

/// The alias type deploys use: the one `latest-release` has on the site,
/// else the site's first alias's, else the project setting.
pub fn site_alias_kind(kinds: &[(String, AliasKind)], setting: AliasKind) -> AliasKind {
    kinds
        .iter()
        .find(|(a, _)| a == LATEST)
        .or(kinds.first())
        .map_or(setting, |(_, k)| *k)
}

/// The version holding `latest-release`.
pub fn holder(versions: &[DocsVersion]) -> Option<&DocsVersion> {
    versions
        .iter()
        .find(|v| v.aliases.iter().any(|a| a == LATEST))
}

/// Where `latest-release` belongs: the newest series on the site that is
/// released (a tag or the project version in it) or not marked as deployed
/// unreleased. A site seeded by hand carries no marks: its series count.
pub fn latest_target<'a>(
    versions: &'a [DocsVersion],
    released: &[Series],
) -> Option<&'a DocsVersion> {
    versions
        .iter()
        .filter(|v| {
            v.series()
                .is_some_and(|s| released.contains(&s) || !v.marked_unreleased())
        })
        .max_by(|a, b| a.series().cmp(&b.series()).then(b.name.cmp(&a.name)))
}

/// Whether `series` is released: a release tag in it, or the project's
/// version (`pyproject.toml`) in it.
pub fn is_released(series: Series, released: &[Series]) -> bool {
    released.contains(&series)
}

/// The series of release tags and of the project's version, for
/// `is_released` and `latest_target`.
pub fn released_series(tags: &[Tag], project_version: Option<&str>) -> Vec<Series> {
    let mut out: Vec<Series> = tags.iter().map(Tag::series).collect();
    if let Some(s) = project_version.and_then(|v| Series::parse(v).ok()) {
        out.push(s);
    }
    out.sort();
    out.dedup();
    out
}

/// What a deploy does to the unreleased mark of its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Keep,
    Set,
    Clear,
}

/// What `docs-deploy` knows besides the site.
pub struct DeployInput<'a> {
    pub series: Series,
    /// Whether the series is released (else `--unreleased` was given).
    pub released: bool,
    /// Every series known released.
    pub released_series: &'a [Series],
    /// The spelling of an empty site.
    pub empty_spelling: SeriesSpelling,
    /// The site default now.
    pub default: Option<&'a str>,
}

/// What `docs-deploy` does for a series.
#[derive(Debug, PartialEq, Eq)]
pub struct DeployPlan {
    /// The version name to deploy to: the existing spelling, else the site's.
    pub name: String,
    /// Whether the deploy puts (or keeps) `latest-release` on this version.
    pub latest: bool,
    /// Another version `latest-release` must move to (it is elsewhere now).
    pub repair: Option<String>,
    /// Who holds `latest-release` before, and who should after.
    pub was: Option<String>,
    pub target: Option<String>,
    pub mark: Mark,
    /// Whether the site default must be set to `latest-release`.
    pub set_default: bool,
    /// `versions.json` after, in mike's order.
    pub after: Vec<DocsVersion>,
}

impl DeployPlan {
    /// One truthful line about `latest-release`.
    pub fn latest_note(&self) -> String {
        let was = self.was.as_deref();
        match (&self.target, self.latest, &self.repair) {
            (Some(t), true, _) if was == Some(t) => format!("`{LATEST}` stays on {t}"),
            (Some(t), true, _) => match was {
                Some(w) => format!("`{LATEST}` moves from {w} to {t}"),
                None => format!("`{LATEST}` goes on {t}"),
            },
            (Some(t), false, Some(_)) => match was {
                Some(w) => format!(
                    "`{LATEST}` is on {w}, not on the newest released series {t}: moving it to {t} (repair)"
                ),
                None => format!("no version holds `{LATEST}`: putting it on {t} (repair)"),
            },
            (Some(t), false, None) => {
                format!("`{LATEST}` stays on {t}, the newest released series")
            }
            (None, _, _) => match was {
                Some(w) => format!("`{LATEST}` stays on {w} (no released series on the site)"),
                None => format!("no released series on the site: `{LATEST}` is not set"),
            },
        }
    }
}

/// Names mike would mix up, refused before it runs: the series's name is
/// an alias of another version (mike would move the alias and replace its
/// page), or a version is named like the alias this tool keeps.
fn check_names(versions: &[DocsVersion], name: &str) -> Result<(), BadInput> {
    if let Some(owner) = versions
        .iter()
        .find(|v| v.name != name && v.aliases.iter().any(|a| a == name))
    {
        return Err(BadInput(format!(
            "`{name}` is an alias of {} on the docs branch, not a version: deploying series {name} \
would take that alias over and replace its page. Remove the alias first (`mike delete --push \
--branch BRANCH {name}`, BRANCH being the docs branch), then deploy again; nothing was changed",
            owner.name
        )));
    }
    if let Some(clash) = versions.iter().find(|v| v.name == LATEST) {
        return Err(BadInput(format!(
            "the docs branch has a version named `{}`, the alias this tool keeps on the newest \
series: mike cannot make an alias of a version's name. Remove that version first (`mike delete \
--push --branch BRANCH {LATEST}`, BRANCH being the docs branch), then deploy again; nothing was \
changed",
            clash.name
        )));
    }
    Ok(())
}

pub fn plan_deploy(versions: &[DocsVersion], input: &DeployInput) -> Result<DeployPlan, BadInput> {
    let name = match spelling(versions, input.series)? {
        Some(existing) => existing,
        None => name_in(
            input.series,
            new_series_spelling(versions, input.empty_spelling),
        ),
    };
    check_names(versions, &name)?;
    let mut after = versions.to_vec();
    let index = match after.iter().position(|v| v.name == name) {
        Some(i) => i,
        None => {
            after.push(DocsVersion {
                name: name.clone(),
                title: name.clone(),
                aliases: Vec::new(),
                properties: None,
            });
            after.len() - 1
        }
    };
    let entry = &mut after[index];
    let mark = match (input.released, entry.marked_unreleased()) {
        (false, false) => Mark::Set,
        (true, true) => Mark::Clear,
        _ => Mark::Keep,
    };
    apply_mark(entry, mark);
    let was = holder(&after).map(|v| v.name.clone());
    let target = latest_target(&after, input.released_series).map(|v| v.name.clone());
    let latest = target.as_deref() == Some(name.as_str());
    let repair = target
        .clone()
        .filter(|t| *t != name && was.as_deref() != Some(t.as_str()));
    if let Some(t) = &target {
        for v in &mut after {
            v.aliases.retain(|a| a != LATEST);
            if v.name == *t {
                v.aliases.push(LATEST.to_string());
            }
        }
    }
    let set_default = input.default != Some(LATEST) && resolves(&after, LATEST);
    mike_order(&mut after);
    Ok(DeployPlan {
        name,
        latest,
        repair,
        was,
        target,
        mark,
        set_default,
        after,
    })
}

fn apply_mark(v: &mut DocsVersion, mark: Mark) {
    match mark {
        Mark::Keep => {}
        Mark::Set => {
            let mut map = match v.properties.take() {
                Some(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            map.insert(UNRELEASED.into(), serde_json::Value::Bool(true));
            v.properties = Some(serde_json::Value::Object(map));
        }
        Mark::Clear => {
            if let Some(serde_json::Value::Object(map)) = &mut v.properties {
                map.remove(UNRELEASED);
                if map.is_empty() {
                    v.properties = None;
                }
            }
        }
    }
}

/// The order mike writes `versions.json` in (and the selector shows):
/// names not starting with a digit (or `v` and a digit) first, then bare
/// names newest first, then `v`-prefixed ones newest first. With one
/// spelling per site this is newest first.
pub fn mike_order(versions: &mut [DocsVersion]) {
    let key = |v: &DocsVersion| {
        let numbered = v.series().is_some();
        (numbered, spelling_of(&v.name) == SeriesSpelling::VPrefixed)
    };
    versions.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then(b.series().cmp(&a.series()))
            .then(b.name.cmp(&a.name))
    });
}

pub fn sort_newest_first(versions: &mut [DocsVersion]) {
    versions.sort_by(|a, b| b.series().cmp(&a.series()).then(b.name.cmp(&a.name)));
}

/// The docs site's breaks of its own conventions, each with the commands
/// that fix it: two spellings, aliases of two types, a selector that is
/// not newest first. `aliases`: each alias path and its type.
pub fn site_problems(
    versions: &[DocsVersion],
    aliases: &[(String, AliasKind)],
    branch: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    out.extend(spelling_or_order_problem(versions, branch));
    out.extend(shared_alias_problems(versions, branch));
    out.extend(alias_type_problem(versions, aliases, branch));
    out
}

fn joined_names(list: &[&DocsVersion], separator: &str) -> String {
    list.iter()
        .map(|v| v.name.as_str())
        .collect::<Vec<_>>()
        .join(separator)
}

/// The series to redeploy for a fix that needs one, as the fix names it.
fn newest_or_placeholder(versions: &[DocsVersion]) -> String {
    newest(versions).map_or("X.Y".to_string(), |s| s.to_string())
}

/// Two spellings of series, else (one spelling) a list not newest first.
fn spelling_or_order_problem(versions: &[DocsVersion], branch: &str) -> Option<(String, String)> {
    let numbered: Vec<&DocsVersion> = versions.iter().filter(|v| v.series().is_some()).collect();
    if site_spelling(versions) == SiteSpelling::Mixed {
        let keep = new_series_spelling(versions, SeriesSpelling::Bare);
        let (kept, other): (Vec<&DocsVersion>, Vec<&DocsVersion>) =
            numbered.iter().partition(|v| spelling_of(&v.name) == keep);
        Some((
            format!(
                "the docs site spells its series two ways ({} and {}): mike sorts every \
`v`-prefixed name below every bare one, so the version selector is out of order",
                joined_names(&kept, ", "),
                joined_names(&other, ", ")
            ),
            format!(
                "keep the spelling of `{LATEST}`: `mike delete --branch {branch} --push {}`, then \
`cargo xtask docs-deploy` each of those series again ({})",
                joined_names(&other, " "),
                other
                    .iter()
                    .filter_map(|v| v.series())
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    } else if numbered.windows(2).any(|w| w[0].series() < w[1].series()) {
        Some((
            format!(
                "versions.json does not list the series newest first ({}), so neither does \
the version selector",
                joined_names(&numbered, ", ")
            ),
            format!(
                "cargo xtask docs-deploy {} (mike rewrites the list in its order)",
                newest_or_placeholder(versions)
            ),
        ))
    } else {
        None
    }
}

/// One alias, one version: mike serves the alias from one place only, so
/// a second holder in versions.json is a selector entry that lies.
fn shared_alias_problems(versions: &[DocsVersion], branch: &str) -> Vec<(String, String)> {
    let mut holders: Vec<(&str, Vec<&str>)> = Vec::new();
    for v in versions {
        for alias in &v.aliases {
            match holders.iter_mut().find(|(a, _)| a == alias) {
                Some((_, names)) => names.push(&v.name),
                None => holders.push((alias, vec![&v.name])),
            }
        }
    }
    let problem = |(alias, names): &(&str, Vec<&str>)| {
        let fix = if *alias == LATEST {
            format!(
                "cargo xtask docs-deploy {}",
                newest_or_placeholder(versions)
            )
        } else {
            format!(
                "`mike alias --branch {branch} --push --update-aliases VERSION {alias}` with \
the one of {} that should keep it",
                names.join(", ")
            )
        };
        let found = format!(
            "alias `{alias}` is listed on more than one docs version ({}) in versions.json: \
the site serves it from one of them only",
            names.join(", ")
        );
        (found, fix)
    };
    holders
        .iter()
        .filter(|(_, names)| names.len() > 1)
        .map(problem)
        .collect()
}

/// Aliases of two types: each odd one made again as `latest-release` is.
fn alias_type_problem(
    versions: &[DocsVersion],
    aliases: &[(String, AliasKind)],
    branch: &str,
) -> Option<(String, String)> {
    let kind = site_alias_kind(aliases, AliasKind::Symlink);
    let odd: Vec<&(String, AliasKind)> = aliases.iter().filter(|(_, k)| *k != kind).collect();
    if odd.is_empty() {
        return None;
    }
    let fixes: Vec<String> = odd
        .iter()
        .map(|(alias, _)| {
            let version = versions
                .iter()
                .find(|v| v.aliases.contains(alias))
                .map_or("VERSION", |v| v.name.as_str());
            format!(
                "`mike delete --branch {branch} --push {alias}` then `mike alias --branch \
{branch} --push --alias-type {} {version} {alias}`",
                kind.as_mike()
            )
        })
        .collect();
    Some((
        format!(
            "the docs site's aliases are of two types ({}): keep the one `{LATEST}` has",
            aliases
                .iter()
                .map(|(a, k)| format!("{a} is a {}", k.as_mike()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        fixes.join("; "),
    ))
}

/// versions.json with each alias kept on its first holder (mike lists the
/// newest first) when some alias is listed on more than one version, which
/// mike refuses to load at all; `None` when every alias has one holder.
pub fn unique_aliases(versions: &[DocsVersion]) -> Option<Vec<DocsVersion>> {
    let mut seen: Vec<&str> = Vec::new();
    let mut changed = false;
    let fixed = versions
        .iter()
        .map(|v| {
            let mut kept = v.clone();
            kept.aliases.retain(|a| {
                let first = !seen.contains(&a.as_str());
                changed |= !first;
                first
            });
            seen.extend(v.aliases.iter().map(String::as_str));
            kept
        })
        .collect();
    changed.then_some(fixed)
}

/// Who holds an alias (or is named so), for the site's default redirect.
pub fn resolves(versions: &[DocsVersion], name: &str) -> bool {
    versions
        .iter()
        .any(|v| v.name == name || v.aliases.iter().any(|a| a == name))
}

/// The version or alias the site root redirects to (mike's `index.html`).
pub fn default_target(index_html: &str) -> Option<String> {
    let start = index_html.find("url=")? + 4;
    let rest = &index_html[start..];
    let end = rest.find(['"', '\'', ' ', '>'])?;
    Some(rest[..end].trim_end_matches('/').to_string())
}

/// Files a project has and mike never writes at a site's top level.
const PROJECT_FILES: &[&str] = &[
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "mkdocs.yml",
    "Cargo.toml",
];

/// Why a branch whose top level lists `names` (directories end in `/`) is
/// not a mike site, or `None`. An empty tree is an empty site.
pub fn not_a_site(names: &[&str]) -> Option<String> {
    if let Some(file) = PROJECT_FILES.iter().find(|f| names.contains(f)) {
        return Some(format!("it holds {file}, which mike never writes"));
    }
    if !names.is_empty() && !names.contains(&VERSIONS_FILE) {
        return Some(format!("it has no {VERSIONS_FILE}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_versions_json_is_bad_input() {
        for broken in [
            "",
            "[{\"version\":\"0.6\",",
            "{\"versions\": []}",
            "[{\"title\": \"x\"}]",
        ] {
            let err = parse(broken).expect_err(broken);
            assert!(crate::input::is_bad_input(&err), "{broken:?}: {err:#}");
            assert!(
                format!("{err:#}").contains("expected mike's list"),
                "{err:#}"
            );
        }
        assert_eq!(parse("[]").expect("empty list"), Vec::new());
    }

    fn v(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    fn unreleased(name: &str, aliases: &[&str]) -> DocsVersion {
        let mut out = v(name, aliases);
        out.properties = Some(serde_json::json!({ UNRELEASED: true }));
        out
    }

    fn s(x: &str) -> Series {
        Series::parse(x).expect("series")
    }

    fn input<'a>(series: &str, released: &'a [Series]) -> DeployInput<'a> {
        DeployInput {
            series: s(series),
            released: released.contains(&s(series)),
            released_series: released,
            empty_spelling: SeriesSpelling::Bare,
            default: Some(LATEST),
        }
    }

    fn names(list: &[DocsVersion]) -> Vec<String> {
        list.iter()
            .map(|v| format!("{}{:?}", v.name, v.aliases))
            .collect()
    }

    #[test]
    fn render_matches_mike_and_round_trips() {
        let mike = "[\n  {\n    \"version\": \"1.0\",\n    \"title\": \"1.0\",\n    \"aliases\": [\n      \"latest-release\"\n    ]\n  },\n  {\n    \"version\": \"0.7\",\n    \"title\": \"0.7\",\n    \"aliases\": []\n  }\n]";
        let parsed = parse(mike).expect("parses");
        assert_eq!(parsed, vec![v("1.0", &[LATEST]), v("0.7", &[])]);
        assert_eq!(render(&parsed), mike);
        assert_eq!(render(&[]), "[]");
        assert!(parse("{}").is_err() && parse("[{}]").is_err() && parse("nope").is_err());
        let marked = parse(&render(&[unreleased("2.0", &[])])).expect("parses");
        assert!(marked[0].marked_unreleased());
    }

    #[test]
    fn existing_spelling_is_reused_and_two_are_refused() {
        let public = [v("v1.0", &[LATEST]), v("v0.7", &[])];
        assert_eq!(spelling(&public, s("0.7")), Ok(Some("v0.7".into())));
        assert_eq!(spelling(&public, s("0.8")), Ok(None));
        let mixed = [v("v0.7", &[]), v("0.7", &[])];
        let err = spelling(&mixed, s("0.7")).expect_err("two spellings");
        assert!(err.0.contains("2 spellings (v0.7, 0.7)"), "{err}");
    }

    #[test]
    fn a_new_series_follows_the_site_spelling() {
        use SeriesSpelling::{Bare, VPrefixed};
        let table: &[(&[DocsVersion], SeriesSpelling, &str)] = &[
            (&[], Bare, "0.8"),
            (&[], VPrefixed, "v0.8"),
            (&[v("v1.0", &[LATEST]), v("v0.6", &[])], Bare, "v0.8"),
            (&[v("1.0", &[LATEST]), v("0.6", &[])], VPrefixed, "0.8"),
            // Mixed: the spelling of the version holding latest-release.
            (&[v("1.0", &[]), v("v0.9", &[LATEST])], Bare, "v0.8"),
            (&[v("1.0", &[]), v("v0.6", &[])], VPrefixed, "1.0"),
            // Names that are not series do not count.
            (&[v("dev", &[])], VPrefixed, "v0.8"),
        ];
        for (versions, empty, name) in table {
            let want = if name.ends_with("1.0") { "1.0" } else { "0.8" };
            let released = [s(want)];
            let mut inp = input(want, &released);
            inp.empty_spelling = *empty;
            let plan = plan_deploy(versions, &inp).expect("plan");
            assert_eq!(&plan.name, name, "{versions:?} {empty:?}");
        }
        assert_eq!(site_spelling(&[]), SiteSpelling::Empty);
        assert_eq!(
            site_spelling(&[v("v1.0", &[]), v("dev", &[])]),
            SiteSpelling::Uniform(VPrefixed)
        );
    }

    #[test]
    fn latest_release_ends_on_the_newest_released_series() {
        let rel = [s("0.7"), s("0.8"), s("1.0"), s("1.1"), s("0.9"), s("0.10")];
        // (site, series, after, latest on the deploy, repair)
        type Case<'a> = (
            &'a [DocsVersion],
            &'a str,
            &'a [&'a str],
            bool,
            Option<&'a str>,
        );
        let table: &[Case] = &[
            (&[], "0.7", &["0.7[\"latest-release\"]"], true, None),
            (
                &[v("0.7", &[LATEST])],
                "1.0",
                &["1.0[\"latest-release\"]", "0.7[]"],
                true,
                None,
            ),
            (
                &[v("1.0", &[LATEST]), v("0.7", &[])],
                "0.7",
                &["1.0[\"latest-release\"]", "0.7[]"],
                false,
                None,
            ),
            (
                &[v("1.0", &[LATEST]), v("0.7", &[])],
                "0.8",
                &["1.0[\"latest-release\"]", "0.8[]", "0.7[]"],
                false,
                None,
            ),
            (
                &[v("0.10", &[LATEST]), v("0.9", &[])],
                "0.9",
                &["0.10[\"latest-release\"]", "0.9[]"],
                false,
                None,
            ),
            // A raw mike command left latest-release on an older series.
            (
                &[v("1.0", &[]), v("0.7", &[LATEST])],
                "0.7",
                &["1.0[\"latest-release\"]", "0.7[]"],
                false,
                Some("1.0"),
            ),
            (
                &[v("1.0", &[]), v("0.7", &[LATEST])],
                "1.0",
                &["1.0[\"latest-release\"]", "0.7[]"],
                true,
                None,
            ),
            (
                &[v("v1.0", &[]), v("v0.7", &[])],
                "0.8",
                &["v1.0[\"latest-release\"]", "v0.8[]", "v0.7[]"],
                false,
                Some("v1.0"),
            ),
            // An unreleased series on the site does not hold it.
            (
                &[unreleased("2.0", &[]), v("1.0", &[LATEST])],
                "1.1",
                &["2.0[]", "1.1[\"latest-release\"]", "1.0[]"],
                true,
                None,
            ),
        ];
        for (site, series, after, latest, repair) in table {
            let plan = plan_deploy(site, &input(series, &rel)).expect("plan");
            assert_eq!(names(&plan.after), *after, "{series} on {site:?}");
            assert_eq!(plan.latest, *latest, "{series} on {site:?}");
            assert_eq!(plan.repair.as_deref(), *repair, "{series} on {site:?}");
            assert!(!plan.set_default);
        }
    }

    #[test]
    fn names_mike_would_mix_up_are_refused_before_it_runs() {
        let rel = [s("0.7"), s("0.8")];
        // An alias named like the series to deploy.
        let site = [v("0.7", &[LATEST, "0.8"])];
        let err = plan_deploy(&site, &input("0.8", &rel)).expect_err("alias");
        assert!(err.0.starts_with("`0.8` is an alias of 0.7"), "{}", err.0);
        assert!(
            err.0.contains("mike delete --push --branch BRANCH 0.8"),
            "{}",
            err.0
        );
        // The same site deploys its own series.
        assert!(plan_deploy(&site, &input("0.7", &rel)).is_ok());
        // A version named like the alias this tool keeps.
        let site = [v(LATEST, &[]), v("0.7", &[])];
        let err = plan_deploy(&site, &input("0.8", &rel)).expect_err("version");
        assert!(
            err.0.contains("a version named `latest-release`"),
            "{}",
            err.0
        );
    }

    #[test]
    fn an_unreleased_deploy_is_marked_and_takes_nothing() {
        let rel = [s("1.0")];
        let site = [v("1.0", &[LATEST])];
        let plan = plan_deploy(&site, &input("99.0", &rel)).expect("plan");
        assert_eq!(plan.mark, Mark::Set);
        assert!(!plan.latest && plan.repair.is_none());
        assert_eq!(names(&plan.after), ["99.0[]", "1.0[\"latest-release\"]"]);
        assert!(plan.after[0].marked_unreleased());
        assert!(
            plan.latest_note().contains("stays on 1.0"),
            "{}",
            plan.latest_note()
        );
        // Once released, the mark goes and latest-release moves.
        let rel = [s("1.0"), s("99.0")];
        let plan = plan_deploy(&plan.after, &input("99.0", &rel)).expect("plan");
        assert_eq!(plan.mark, Mark::Clear);
        assert!(plan.latest);
        assert!(!plan.after[0].marked_unreleased());
        // An empty site: nothing holds latest-release, no default is set.
        let mut inp = input("0.1", &[]);
        inp.default = None;
        let plan = plan_deploy(&[], &inp).expect("plan");
        assert!(!plan.latest && !plan.set_default);
        assert!(
            plan.latest_note().contains("not set"),
            "{}",
            plan.latest_note()
        );
    }

    #[test]
    fn the_default_is_set_once_latest_release_exists() {
        let rel = [s("0.7")];
        let mut inp = input("0.7", &rel);
        inp.default = None;
        assert!(plan_deploy(&[], &inp).expect("plan").set_default);
        inp.default = Some("0.7");
        assert!(plan_deploy(&[], &inp).expect("plan").set_default);
        inp.default = Some(LATEST);
        assert!(!plan_deploy(&[], &inp).expect("plan").set_default);
    }

    #[test]
    fn mike_orders_v_prefixed_names_below_bare_ones() {
        // What mike 2.2 writes for these names (verspec LooseVersion).
        let mut list: Vec<DocsVersion> = ["v0.6", "0.8", "dev", "v1.0", "v0.10", "1.1", "v0.9"]
            .iter()
            .map(|n| v(n, &[]))
            .collect();
        mike_order(&mut list);
        let order: Vec<&str> = list.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            order,
            ["dev", "1.1", "0.8", "v1.0", "v0.10", "v0.9", "v0.6"]
        );
    }

    #[test]
    fn site_problems_name_spelling_order_and_alias_type() {
        let sym = |a: &str| (a.to_string(), AliasKind::Symlink);
        let good = [v("v1.0", &[LATEST]), v("v0.6", &[])];
        assert!(site_problems(&good, &[sym(LATEST)], "docs").is_empty());
        let mixed = [
            v("1.1", &[]),
            v("0.8", &[]),
            v("v1.0", &[LATEST]),
            v("v0.6", &[]),
        ];
        let found = site_problems(&mixed, &[sym(LATEST)], "docs");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].0.contains("two ways"), "{found:?}");
        assert!(
            found[0]
                .1
                .contains("mike delete --branch docs --push 1.1 0.8")
                && found[0].1.contains("docs-deploy"),
            "{found:?}"
        );
        let unordered = [v("0.6", &[]), v("1.0", &[LATEST])];
        let found = site_problems(&unordered, &[], "docs");
        assert!(found[0].0.contains("newest first"), "{found:?}");
        let kinds = [sym(LATEST), ("stable".to_string(), AliasKind::Redirect)];
        let site = [v("1.0", &[LATEST, "stable"])];
        let found = site_problems(&site, &kinds, "gh-pages");
        assert!(found[0].0.contains("stable is a redirect"), "{found:?}");
        assert!(
            found[0]
                .1
                .contains("mike alias --branch gh-pages --push --alias-type symlink 1.0 stable"),
            "{found:?}"
        );
    }

    #[test]
    fn an_alias_on_two_versions_is_a_site_problem() {
        let shared = [v("v0.7", &[LATEST]), v("v0.6", &["stable", LATEST])];
        let found = site_problems(&shared, &[], "docs");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].0.contains("`latest-release`") && found[0].0.contains("v0.7, v0.6"),
            "{found:?}"
        );
        assert!(found[0].1.contains("docs-deploy 0.7"), "{found:?}");
        let shared = [v("1.0", &[LATEST, "stable"]), v("0.9", &["stable"])];
        let found = site_problems(&shared, &[], "gh-pages");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .1
                .contains("mike alias --branch gh-pages --push --update-aliases VERSION stable"),
            "{found:?}"
        );
        let fine = [v("1.0", &[LATEST]), v("0.9", &["stable"])];
        assert!(site_problems(&fine, &[], "docs").is_empty());
        assert_eq!(unique_aliases(&fine), None);
        let shared = [
            v("v0.7", &[LATEST]),
            v("v0.6", &["stable", LATEST]),
            v("v0.5", &["stable", "old"]),
        ];
        assert_eq!(
            unique_aliases(&shared),
            Some(vec![
                v("v0.7", &[LATEST]),
                v("v0.6", &["stable"]),
                v("v0.5", &["old"]),
            ])
        );
    }

    #[test]
    fn alias_kinds_are_read_from_the_tree() {
        let redirect = "<noscript>\n<meta http-equiv=\"refresh\" content=\"1; url=../1.0/\" />";
        assert_eq!(AliasKind::from_tree("1.0", None), AliasKind::Symlink);
        assert_eq!(
            AliasKind::from_tree("tree docs:latest-release\n\nindex.html\n", Some(redirect)),
            AliasKind::Redirect
        );
        assert_eq!(
            AliasKind::from_tree("tree x\n", Some("<html>full page</html>")),
            AliasKind::Copy
        );
        let kinds = [
            ("stable".to_string(), AliasKind::Redirect),
            (LATEST.to_string(), AliasKind::Symlink),
        ];
        assert_eq!(site_alias_kind(&kinds, AliasKind::Copy), AliasKind::Symlink);
        assert_eq!(
            site_alias_kind(&kinds[..1], AliasKind::Copy),
            AliasKind::Redirect
        );
        assert_eq!(site_alias_kind(&[], AliasKind::Copy), AliasKind::Copy);
    }

    #[test]
    fn a_branch_holding_a_project_is_not_a_site() {
        assert_eq!(not_a_site(&[]), None);
        assert_eq!(
            not_a_site(&["versions.json", "1.0/", "index.html", "CNAME"]),
            None
        );
        assert!(not_a_site(&["pyproject.toml", "versions.json"])
            .is_some_and(|w| w.contains("pyproject.toml")));
        assert!(not_a_site(&["README.md", "src/"]).is_some_and(|w| w.contains("no versions.json")));
    }

    #[test]
    fn default_target_is_read_from_mikes_redirect() {
        let html = "<noscript>\n<meta http-equiv=\"refresh\" content=\"1; url=latest-release/\" />";
        assert_eq!(default_target(html).as_deref(), Some("latest-release"));
        assert_eq!(default_target("<html></html>"), None);
    }
}
