//! The Actions event payload (`GITHUB_EVENT_PATH`) and the release event:
//! whether a GitHub Release allows releasing a tag (the guide's rules 1
//! and 2), from the payload or the REST API. Decisions are pure functions
//! over JSON values; every value they quote goes through `untrusted`.

use anyhow::{bail, Result};
use serde_json::{json, Value};
use xshell::Shell;

use super::{untrusted, Actions, Api};
use crate::input::BadInput;
use crate::version::Tag;

/// Set (to `true`) by `release --require-release-event`, or by a workflow:
/// outside a release event, validate refuses instead of warning.
pub const REQUIRE_RELEASE_EVENT: &str = "XTASK_REQUIRE_RELEASE_EVENT";

/// The event payload of this run, `None` outside Actions (no
/// `GITHUB_EVENT_PATH`). A file that cannot be read, is not JSON, or is
/// not a non-empty object is bad input naming the file.
pub fn payload(sh: &Shell) -> Result<Option<Value>> {
    let Some(path) = sh.var("GITHUB_EVENT_PATH").ok().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        BadInput(format!(
            "cannot read the event payload {} (GITHUB_EVENT_PATH): {e}",
            untrusted(&path)
        ))
    })?;
    parse_payload(&bytes).map(Some).map_err(|why| {
        BadInput(format!(
            "the event payload {} (GITHUB_EVENT_PATH) {why}",
            untrusted(&path)
        ))
        .into()
    })
}

/// The payload's JSON, or why it is not one.
pub fn parse_payload(bytes: &[u8]) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "is not valid JSON (line {}, column {}): expected the event GitHub wrote",
            e.line(),
            e.column()
        )
    })?;
    match value.as_object() {
        Some(object) if !object.is_empty() => Ok(value),
        Some(_) => Err("is an empty JSON object: expected the event GitHub wrote".into()),
        None => Err(format!(
            "is a JSON {}, not an object: expected the event GitHub wrote",
            kind(&value)
        )),
    }
}

/// The JSON type of a value, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as a message may show it: strings as themselves, anything else
/// as JSON with its type, every time through `untrusted`.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{}`", untrusted(s)),
        other => format!("{} ({})", untrusted(&other.to_string()), kind(other)),
    }
}

/// The field `name` of `object` (for messages, `path` is its full name),
/// required to be a string.
pub fn string_field<'a>(object: &'a Value, name: &str, path: &str) -> Result<&'a str, String> {
    match object.get(name) {
        None | Some(Value::Null) => Err(format!("`{path}` is missing")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("`{path}` is {}, not a string", shown(other))),
    }
}

/// The field `name` of `object`, required to be a boolean.
pub fn bool_field(object: &Value, name: &str, path: &str) -> Result<bool, String> {
    match object.get(name) {
        None | Some(Value::Null) => Err(format!("`{path}` is missing")),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("`{path}` is {}, not a boolean", shown(other))),
    }
}

/// Why a release event does not allow a release (empty: it does). Only a
/// `release` event with `action: published`, `draft: false` and
/// `prerelease: false` (booleans), for this tag and titled exactly the tag.
pub fn release_event_problems(event: &Value, tag: &Tag) -> Vec<String> {
    if !event.is_object() {
        return vec![format!("the event is {}, not an object", kind(event))];
    }
    let release = &event["release"];
    if !release.is_object() {
        return vec![match event.get("release") {
            None => "the event is not a release event (no `release`)".into(),
            Some(other) => format!("`release` is {}, not an object", shown(other)),
        }];
    }
    let mut problems = Vec::new();
    match string_field(event, "action", "action") {
        Ok("published") => {}
        Ok(action) => problems.push(format!(
            "`action` is `{}`, not `published`: only a published release is released",
            untrusted(action)
        )),
        Err(why) => problems.push(format!("{why}: expected `published`")),
    }
    for (field, what) in [
        ("draft", "the release is a draft: publish it first"),
        (
            "prerelease",
            "the release is marked as a pre-release: only final versions are released, so clear \
`pre-release` on the GitHub Release",
        ),
    ] {
        match bool_field(release, field, &format!("release.{field}")) {
            Ok(false) => {}
            Ok(true) => problems.push(format!("`release.{field}` is true: {what}")),
            Err(why) => problems.push(format!("{why}: expected false")),
        }
    }
    match string_field(release, "tag_name", "release.tag_name") {
        Ok(name) if name == tag.to_string() => {}
        Ok(name) => problems.push(format!(
            "`release.tag_name`: the release is for tag `{}`, not {tag}",
            untrusted(name)
        )),
        Err(why) => problems.push(format!("{why}: expected `{tag}`")),
    }
    match string_field(release, "name", "release.name") {
        Ok(name) if name == tag.to_string() => {}
        Ok(name) => problems.push(format!(
            "`release.name`: the release title is `{}`; it must be exactly `{tag}`",
            untrusted(name)
        )),
        Err(why) => problems.push(format!("{why}: the release title must be exactly `{tag}`")),
    }
    problems
}

/// Whether this run's event is a release event: the runner says so
/// (`GITHUB_EVENT_NAME`), or the payload holds a `release`.
fn is_release_event(sh: &Shell, event: &Value) -> bool {
    sh.var("GITHUB_EVENT_NAME").is_ok_and(|n| n == "release") || event.get("release").is_some()
}

/// Checks the release the GitHub way: the release event payload when this
/// run is one; else, unless a release event is required, the REST API when
/// a token is known; else says, as a warning annotation, that nothing was
/// checked.
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
    let event = payload(sh)?;
    if let Some(event) = &event {
        if is_release_event(sh, event) {
            return check(event, "event payload");
        }
    }
    let required = sh.var(REQUIRE_RELEASE_EVENT).is_ok_and(|v| v == "true");
    let this_run = match sh.var("GITHUB_EVENT_NAME").ok().filter(|n| !n.is_empty()) {
        Some(name) => format!("this run's event is `{}`", untrusted(&name)),
        None if event.is_some() => "this run's event is not a release event".to_string(),
        None => "this run has no event payload (GITHUB_EVENT_PATH)".to_string(),
    };
    if required {
        bail!(BadInput(format!(
            "--require-release-event: {this_run}, so the GitHub Release of {tag} cannot be \
checked: run validate from the workflow a published GitHub Release triggers"
        )));
    }
    match Api::from_env(sh, origin_url)? {
        Some(api) => match api.release_for_tag(tag)? {
            // The API lists published releases (and drafts to writers).
            Some(release) => check(
                &json!({ "action": "published", "release": release }),
                "GitHub API",
            ),
            None => bail!(BadInput(format!(
                "no GitHub Release exists for {tag} in {}: publish one titled exactly `{tag}`",
                untrusted(&api.repository)
            ))),
        },
        None => {
            let message = format!(
                "the GitHub Release of {tag} was NOT checked: {this_run} and no GITHUB_TOKEN is \
set (pass --require-release-event to make this an error)"
            );
            Actions::from_env(sh).warning(&message);
            Ok(
                "GitHub Release check skipped: NOT checked (no release event, no GITHUB_TOKEN)"
                    .into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag() -> Tag {
        Tag::parse("v0.7.0").expect("tag")
    }

    fn good() -> Value {
        json!({"action": "published", "release": {"draft": false, "prerelease": false, "tag_name": "v0.7.0", "name": "v0.7.0"}})
    }

    fn with(path: &[&str], value: Value) -> Value {
        let mut event = good();
        let mut at = &mut event;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        match value {
            Value::Null => {
                at.as_object_mut().map(|o| o.remove(path[path.len() - 1]));
            }
            v => at[path[path.len() - 1]] = v,
        }
        event
    }

    #[test]
    fn only_a_published_final_release_for_the_tag_passes() {
        assert_eq!(
            release_event_problems(&good(), &tag()),
            Vec::<String>::new()
        );
        let cases = [
            (
                with(&["release", "draft"], json!(true)),
                "the release is a draft",
            ),
            (
                with(&["release", "draft"], json!("true")),
                "`release.draft` is `true`, not a boolean",
            ),
            (
                with(&["release", "draft"], json!(0)),
                "`release.draft` is 0 (number), not a boolean",
            ),
            (
                with(&["release", "draft"], Value::Null),
                "`release.draft` is missing",
            ),
            (with(&["release", "prerelease"], json!(true)), "pre-release"),
            (
                with(&["release", "prerelease"], json!("false")),
                "`release.prerelease` is `false`, not a boolean",
            ),
            (
                with(&["release", "prerelease"], Value::Null),
                "`release.prerelease` is missing",
            ),
            (
                with(&["action"], json!("created")),
                "`action` is `created`, not `published`",
            ),
            (with(&["action"], Value::Null), "`action` is missing"),
            (with(&["action"], json!(["published"])), "`action` is"),
            (
                with(&["release", "name"], json!("v0.7.0 ")),
                "title is `v0.7.0 `",
            ),
            (
                with(&["release", "name"], json!("Release v0.7.0")),
                "must be exactly `v0.7.0`",
            ),
            (
                with(&["release", "name"], Value::Null),
                "`release.name` is missing",
            ),
            (
                with(&["release", "tag_name"], json!("v0.7.1")),
                "for tag `v0.7.1`",
            ),
            (
                with(&["release", "tag_name"], json!(7)),
                "`release.tag_name` is 7 (number)",
            ),
            (
                with(&["release", "tag_name"], Value::Null),
                "`release.tag_name` is missing",
            ),
            (
                with(&["release"], json!("v0.7.0")),
                "`release` is `v0.7.0`, not an object",
            ),
            (json!({"pull_request": {}}), "not a release event"),
            (json!([1]), "the event is array"),
        ];
        for (e, why) in cases {
            let problems = release_event_problems(&e, &tag()).join("; ");
            assert!(problems.contains(why), "{e}: {problems}");
        }
    }

    #[test]
    fn quoted_event_values_are_clipped_and_inert() {
        let name = format!(
            "##[set-output name=x;]y\n::error::z{}",
            "x".repeat(10_000_000)
        );
        let problems = release_event_problems(&with(&["release", "name"], json!(name)), &tag());
        let text = problems.join("; ");
        assert!(text.len() < 400, "{}", text.len());
        assert!(
            !text.contains("::") && !text.contains("##[") && !text.contains('\n'),
            "{text}"
        );
        let tag_name = with(&["release", "tag_name"], json!("v0.7.0\r::add-mask::x"));
        let text = release_event_problems(&tag_name, &tag()).join("; ");
        assert!(!text.contains("::") && !text.contains('\r'), "{text}");
    }

    #[test]
    fn payloads_must_be_non_empty_json_objects() {
        assert!(parse_payload(br#"{"action":"published"}"#).is_ok());
        for (bytes, why) in [
            (&b""[..], "not valid JSON"),
            (b"   ", "not valid JSON"),
            (b"{\"action\":", "not valid JSON (line 1"),
            (b"{}", "empty JSON object"),
            (b"[]", "array, not an object"),
            (b"null", "null, not an object"),
            (b"\xff", "not valid JSON"),
        ] {
            let err = parse_payload(bytes).expect_err("refused");
            assert!(err.contains(why), "{bytes:?}: {err}");
        }
    }
}
