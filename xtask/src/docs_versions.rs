//! Pure decisions over mike's `versions.json`: which spelling a series
//! already has, whether `latest-release` moves, what a deploy or a
//! rollback leaves behind. mike enforces none of these rules itself.

use anyhow::{Context, Result};

use crate::input::BadInput;
use crate::version::Series;

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

pub fn parse(json: &str) -> Result<Vec<DocsVersion>> {
    let value: serde_json::Value =
        serde_json::from_str(json).context("reading versions.json (mike's version list)")?;
    let items = value
        .as_array()
        .context("versions.json is not a list of versions")?;
    items
        .iter()
        .map(|item| {
            let name = item["version"]
                .as_str()
                .context("a versions.json entry has no `version`")?;
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

/// What `docs-deploy` does for a series.
#[derive(Debug, PartialEq, Eq)]
pub struct DeployPlan {
    /// The version name to deploy to: the existing spelling, else `X.Y`.
    pub name: String,
    /// Whether `latest-release` moves to (or stays on) this version.
    pub latest: bool,
}

pub fn plan_deploy(versions: &[DocsVersion], series: Series) -> Result<DeployPlan, BadInput> {
    let name = spelling(versions, series)?.unwrap_or_else(|| series.to_string());
    let latest = newest(versions).is_none_or(|n| series >= n);
    Ok(DeployPlan { name, latest })
}

/// The version list after the deploy, as mike will write it.
pub fn after_deploy(versions: &[DocsVersion], plan: &DeployPlan) -> Vec<DocsVersion> {
    let mut out: Vec<DocsVersion> = versions.to_vec();
    if plan.latest {
        for v in &mut out {
            v.aliases.retain(|a| a != LATEST);
        }
    }
    match out.iter_mut().find(|v| v.name == plan.name) {
        Some(v) => {
            if plan.latest {
                v.aliases.push(LATEST.to_string());
            }
        }
        None => out.push(DocsVersion {
            name: plan.name.clone(),
            title: plan.name.clone(),
            aliases: if plan.latest {
                vec![LATEST.to_string()]
            } else {
                Vec::new()
            },
            properties: None,
        }),
    }
    sort_newest_first(&mut out);
    out
}

pub fn sort_newest_first(versions: &mut [DocsVersion]) {
    versions.sort_by(|a, b| b.series().cmp(&a.series()).then(b.name.cmp(&a.name)));
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

/// The version list after rolling `name` back to its state in `target`
/// (`None`: the series did not exist then). Other versions stay as they
/// are now. Refused when `latest-release` or the site default would point
/// at nothing.
pub fn after_rollback(
    current: &[DocsVersion],
    target: Option<&DocsVersion>,
    name: &str,
    default: Option<&str>,
) -> Result<Vec<DocsVersion>, BadInput> {
    let mut out: Vec<DocsVersion> = current.iter().filter(|v| v.name != name).cloned().collect();
    if let Some(t) = target {
        let mut restored = t.clone();
        // An alias another version holds now stays with it.
        restored
            .aliases
            .retain(|a| !out.iter().any(|v| v.aliases.contains(a)));
        out.push(restored);
    }
    sort_newest_first(&mut out);
    if resolves(current, LATEST) && !resolves(&out, LATEST) {
        return Err(BadInput(format!(
            "rolling back {name} would leave `{LATEST}` pointing at nothing (it names {name} \
now, and did not before): deploy the previous release's docs instead, e.g. \
`cargo xtask docs-deploy vX.Y.Z`"
        )));
    }
    if let Some(default) = default {
        if resolves(current, default) && !resolves(&out, default) {
            return Err(BadInput(format!(
                "rolling back {name} would leave the site's default `{default}` pointing at \
nothing: deploy a version for it first"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    fn s(x: &str) -> Series {
        Series::parse(x).expect("series")
    }

    #[test]
    fn render_matches_mike_and_round_trips() {
        let mike = "[\n  {\n    \"version\": \"1.0\",\n    \"title\": \"1.0\",\n    \"aliases\": [\n      \"latest-release\"\n    ]\n  },\n  {\n    \"version\": \"0.7\",\n    \"title\": \"0.7\",\n    \"aliases\": []\n  }\n]";
        let parsed = parse(mike).expect("parses");
        assert_eq!(parsed, vec![v("1.0", &[LATEST]), v("0.7", &[])]);
        assert_eq!(render(&parsed), mike);
        assert_eq!(render(&[]), "[]");
        assert!(parse("{}").is_err() && parse("[{}]").is_err() && parse("nope").is_err());
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
    fn latest_release_moves_only_to_the_newest_series() {
        let table: &[(&[DocsVersion], &str, &str, bool)] = &[
            (&[], "0.7", "0.7", true),
            (&[v("0.7", &[LATEST])], "0.7", "0.7", true),
            (&[v("0.7", &[LATEST])], "1.0", "1.0", true),
            (&[v("1.0", &[LATEST]), v("0.7", &[])], "0.7", "0.7", false),
            (&[v("1.0", &[LATEST]), v("0.7", &[])], "0.8", "0.8", false),
            (&[v("1.0", &[LATEST]), v("0.7", &[])], "1.1", "1.1", true),
            (&[v("0.10", &[LATEST]), v("0.9", &[])], "0.9", "0.9", false),
            (
                &[v("v1.0", &[LATEST]), v("v0.7", &[])],
                "0.7",
                "v0.7",
                false,
            ),
            (&[v("v1.0", &[LATEST]), v("v0.7", &[])], "1.0", "v1.0", true),
        ];
        for (versions, series, name, latest) in table {
            let plan = plan_deploy(versions, s(series)).expect("plan");
            assert_eq!(
                plan,
                DeployPlan {
                    name: name.to_string(),
                    latest: *latest
                },
                "{series} on {versions:?}"
            );
        }
    }

    #[test]
    fn after_deploy_keeps_one_latest_alias_newest_first() {
        let before = [v("0.7", &[LATEST])];
        let plan = plan_deploy(&before, s("1.0")).expect("plan");
        assert_eq!(
            after_deploy(&before, &plan),
            vec![v("1.0", &[LATEST]), v("0.7", &[])]
        );
        let before = [v("1.0", &[LATEST]), v("0.7", &[])];
        let plan = plan_deploy(&before, s("0.7")).expect("plan");
        assert_eq!(after_deploy(&before, &plan), before.to_vec());
        let plan = plan_deploy(&before, s("0.8")).expect("plan");
        assert_eq!(
            after_deploy(&before, &plan),
            vec![v("1.0", &[LATEST]), v("0.8", &[]), v("0.7", &[])]
        );
    }

    #[test]
    fn default_target_is_read_from_mikes_redirect() {
        let html = "<noscript>\n<meta http-equiv=\"refresh\" content=\"1; url=latest-release/\" />";
        assert_eq!(default_target(html).as_deref(), Some("latest-release"));
        assert_eq!(default_target("<html></html>"), None);
    }

    #[test]
    fn rollback_restores_one_entry_and_guards_the_aliases() {
        let now = [v("1.0", &[LATEST]), v("0.7", &[])];
        // 0.7 had a title before its last deploy: only its entry changes.
        let mut old = v("0.7", &[]);
        old.title = "0.7 (old)".into();
        let after = after_rollback(&now, Some(&old), "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, vec![v("1.0", &[LATEST]), old.clone()]);
        // The first deploy of 0.7 rolled back: 0.7 goes away.
        let after = after_rollback(&now, None, "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, vec![v("1.0", &[LATEST])]);
        // 1.0 holds latest-release now and did not exist before: refused.
        let err = after_rollback(&now, None, "1.0", Some(LATEST)).expect_err("refused");
        assert!(err.0.contains("pointing at nothing"), "{err}");
        // A default that names a version directly is guarded too.
        let err = after_rollback(&now, None, "0.7", Some("0.7")).expect_err("refused");
        assert!(err.0.contains("site's default `0.7`"), "{err}");
        // An alias another version holds now is not taken back.
        let old_latest = v("0.7", &[LATEST]);
        let after = after_rollback(&now, Some(&old_latest), "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, now.to_vec());
    }
}
