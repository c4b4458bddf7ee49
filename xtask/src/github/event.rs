//! The release event: whether a GitHub Release allows releasing a tag
//! (the guide's rules 1 and 2), from the Actions event payload or the
//! REST API. Decisions are pure functions over JSON values.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use xshell::Shell;

use super::Api;
use crate::input::BadInput;
use crate::version::Tag;

/// Why a release event does not allow a release (empty: it does).
pub fn release_event_problems(event: &Value, tag: &Tag) -> Vec<String> {
    let release = &event["release"];
    if !release.is_object() {
        return vec!["the event is not a release event".into()];
    }
    let mut problems = Vec::new();
    if let Some(action) = event["action"].as_str() {
        if action != "published" {
            problems.push(format!("the release was `{action}`, not `published`"));
        }
    }
    if release["draft"].as_bool() == Some(true) {
        problems.push("the release is a draft: publish it first".into());
    }
    let tag_name = release["tag_name"].as_str().unwrap_or_default();
    if tag_name != tag.to_string() {
        problems.push(format!(
            "the release is for tag `{}`, not {tag}",
            tag_name.escape_debug()
        ));
    }
    let title = release["name"].as_str().unwrap_or_default();
    if title != tag.to_string() {
        problems.push(format!(
            "the release title is `{}`; it must be exactly `{tag}`",
            title.escape_debug()
        ));
    }
    problems
}

/// Checks the release the GitHub way: the Actions event payload when
/// present, else the REST API when a token is known, else says it skipped.
pub fn check_release(sh: &Shell, tag: &Tag, origin_url: Option<&str>) -> Result<String> {
    let check = |release_event: &Value, source: &str| -> Result<String> {
        let problems = release_event_problems(release_event, tag);
        if problems.is_empty() {
            Ok(format!(
                "GitHub Release {tag} is published with title `{tag}` ({source})"
            ))
        } else {
            bail!(BadInput(format!(
                "the GitHub Release does not allow releasing {tag} ({source}): {}",
                problems.join("; ")
            )))
        }
    };
    if let Ok(path) = sh.var("GITHUB_EVENT_PATH") {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let event: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
        if event.get("release").is_some() {
            return check(&event, "event payload");
        }
    }
    match Api::from_env(sh, origin_url)? {
        Some(api) => match api.release_for_tag(tag)? {
            Some(release) => check(&json!({ "release": release }), "GitHub API"),
            None => bail!(BadInput(format!(
                "no GitHub Release exists for {tag} in {}: publish one titled exactly `{tag}`",
                api.repository
            ))),
        },
        None => Ok("GitHub Release check skipped (no release event, no GITHUB_TOKEN)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag() -> Tag {
        Tag::parse("v0.7.0").expect("tag")
    }

    fn event(action: &str, draft: bool, tag_name: &str, name: &str) -> Value {
        json!({"action": action, "release": {"draft": draft, "tag_name": tag_name, "name": name}})
    }

    #[test]
    fn release_events() {
        assert!(
            release_event_problems(&event("published", false, "v0.7.0", "v0.7.0"), &tag())
                .is_empty()
        );
        let cases = [
            (event("published", true, "v0.7.0", "v0.7.0"), "draft"),
            (
                event("created", false, "v0.7.0", "v0.7.0"),
                "not `published`",
            ),
            (
                event("published", false, "v0.7.0", "v0.7.0 "),
                "title is `v0.7.0 `",
            ),
            (
                event("published", false, "v0.7.0", "Release v0.7.0"),
                "must be exactly `v0.7.0`",
            ),
            (
                event("published", false, "v0.7.1", "v0.7.0"),
                "for tag `v0.7.1`",
            ),
            (json!({"pull_request": {}}), "not a release event"),
        ];
        for (e, why) in cases {
            let problems = release_event_problems(&e, &tag()).join("; ");
            assert!(problems.contains(why), "{e}: {problems}");
        }
    }
}
