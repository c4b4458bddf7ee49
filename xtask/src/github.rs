//! GitHub: the release event checks (the guide's rules 1 and 2), the REST
//! API for releases, GitHub Actions output, and trusted publishing (an
//! Actions OIDC token exchanged for a short-lived index token).
//!
//! Decisions are pure functions over JSON values; HTTP goes through `ureq`.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use xshell::Shell;

use crate::version::Tag;
use crate::BadInput;

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

/// `owner/name` from a GitHub remote URL (https or ssh form).
pub fn repository_from_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let path = if let Some(rest) = url.strip_prefix("git@") {
        rest.split_once(':')?.1
    } else {
        let rest = url.split_once("://")?.1;
        rest.split_once('/')?.1
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [owner, name] if !owner.is_empty() && !name.is_empty() => Some(format!("{owner}/{name}")),
        _ => None,
    }
}

/// The endpoints of trusted publishing, derived from the upload URL as
/// the official publishing action does: same origin, fixed paths.
pub fn oidc_endpoints(upload_url: &str) -> Option<(String, String)> {
    let (scheme, rest) = upload_url.split_once("://")?;
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    Some((
        format!("{scheme}://{authority}/_/oidc/audience"),
        format!("{scheme}://{authority}/_/oidc/mint-token"),
    ))
}

/// The descriptions in an index's token-exchange error body.
pub fn exchange_error(status: u16, body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let descriptions: Vec<String> = parsed["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e["description"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let detail = if !descriptions.is_empty() {
        descriptions.join("; ")
    } else if let Some(m) = parsed["message"].as_str() {
        m.to_string()
    } else {
        body.trim().chars().take(300).collect()
    };
    match status {
        403 => format!("trusted publishing is not enabled or not allowed here (403): {detail}"),
        422 => format!("the index rejected the identity token (422): {detail}"),
        s => format!("the token exchange failed ({s}): {detail}"),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn read_json(response: &mut ureq::http::Response<ureq::Body>, what: &str) -> Result<(u16, String)> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the answer to {what}"))?;
    Ok((status, body))
}

/// Trusted publishing: the minted index token, or `None` when the Actions
/// OIDC variables are absent. The token is masked before anything else.
pub fn mint_index_token(sh: &Shell, upload_url: &str) -> Result<Option<String>> {
    let (Ok(request_url), Ok(request_token)) = (
        sh.var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        sh.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Ok(None);
    };
    let (audience_url, mint_url) = oidc_endpoints(upload_url)
        .ok_or_else(|| anyhow!("cannot derive the token-exchange endpoints from {upload_url}"))?;
    let agent = agent();
    let mut response = agent
        .get(&audience_url)
        .call()
        .with_context(|| format!("asking {audience_url} for the OIDC audience"))?;
    let (status, body) = read_json(&mut response, "the audience request")?;
    if status != 200 {
        bail!("{}", exchange_error(status, &body));
    }
    let audience = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["audience"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("{audience_url} returned no audience"))?;

    let separator = if request_url.contains('?') { '&' } else { '?' };
    let id_url = format!("{request_url}{separator}audience={audience}");
    let mut response = agent
        .get(&id_url)
        .header("Authorization", &format!("bearer {request_token}"))
        .call()
        .context("requesting the GitHub Actions OIDC token")?;
    let (status, body) = read_json(&mut response, "the Actions OIDC token request")?;
    if status != 200 {
        bail!("GitHub Actions refused the OIDC token request ({status}): is `id-token: write` granted?");
    }
    let id_token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["value"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("the Actions OIDC answer has no token"))?;
    // Mask it too: it is a credential until it expires.
    println!("::add-mask::{id_token}");

    let mut response = agent
        .post(&mint_url)
        .header("Content-Type", "application/json")
        .send(json!({ "token": id_token }).to_string())
        .with_context(|| format!("exchanging the OIDC token at {mint_url}"))?;
    let (status, body) = read_json(&mut response, "the token exchange")?;
    if status != 200 {
        bail!("{}", exchange_error(status, &body));
    }
    let token = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_string))
        .ok_or_else(|| anyhow!("the token exchange answered without a token"))?;
    println!("::add-mask::{token}");
    Ok(Some(token))
}

/// The GitHub REST API for one repository.
pub struct Api {
    base: String,
    token: String,
    pub repository: String,
}

impl Api {
    /// `None` when no token or repository is known: the caller says the
    /// check was skipped.
    pub fn from_env(sh: &Shell, origin_url: Option<&str>) -> Option<Api> {
        let token = sh.var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty())?;
        let repository = sh
            .var("GITHUB_REPOSITORY")
            .ok()
            .filter(|r| !r.is_empty())
            .or_else(|| origin_url.and_then(repository_from_url))?;
        let base = sh
            .var("GITHUB_API_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://api.github.com".to_string());
        Some(Api {
            base: base.trim_end_matches('/').to_string(),
            token,
            repository,
        })
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let url = format!("{}/repos/{}{path}", self.base, self.repository);
        let agent = agent();
        let auth = format!("Bearer {}", self.token);
        let what = format!("{method} {url}");
        let mut response = match (method, body) {
            ("GET", _) => agent
                .get(&url)
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .call(),
            ("DELETE", _) => agent
                .delete(&url)
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .call(),
            (_, Some(body)) => agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            (_, None) => bail!("{method} needs a body"),
        }
        .with_context(|| format!("calling the GitHub API: {what}"))?;
        let (status, text) = read_json(&mut response, &what)?;
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 401 || status == 403 {
            bail!(
                "the GitHub API refused {what} ({status}): check GITHUB_TOKEN and its permissions"
            );
        }
        Ok((status, value))
    }

    /// The release for a tag, or `None`.
    pub fn release_for_tag(&self, tag: &Tag) -> Result<Option<Value>> {
        match self.request("GET", &format!("/releases/tags/{tag}"), None)? {
            (200, v) => Ok(Some(v)),
            (404, _) => Ok(None),
            (s, v) => bail!("the GitHub API answered {s} for the {tag} release: {v}"),
        }
    }

    /// The pull requests a commit belongs to (the merged one, for a push
    /// to the default branch).
    pub fn pulls_for_commit(&self, sha: &str) -> Result<Vec<Value>> {
        match self.request("GET", &format!("/commits/{sha}/pulls"), None)? {
            (200, Value::Array(pulls)) => Ok(pulls),
            (404, _) => Ok(Vec::new()),
            (s, v) => bail!("the GitHub API answered {s} for the pull requests of {sha}: {v}"),
        }
    }

    pub fn delete_release(&self, id: u64) -> Result<()> {
        match self.request("DELETE", &format!("/releases/{id}"), None)? {
            (204 | 404, _) => Ok(()),
            (s, v) => bail!("deleting GitHub Release {id} failed ({s}): {v}"),
        }
    }

    pub fn create_release(&self, tag: &Tag, body: &str) -> Result<Value> {
        let payload = json!({ "tag_name": tag.to_string(), "name": tag.to_string(), "body": body, "draft": false, "prerelease": false });
        match self.request("POST", "/releases", Some(payload))? {
            (201, v) => Ok(v),
            (s, v) => bail!("creating the {tag} GitHub Release failed ({s}): {v}"),
        }
    }
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
    match Api::from_env(sh, origin_url) {
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

/// GitHub Actions output: groups, annotations, the step summary and step
/// outputs. Inert outside Actions.
pub struct Actions {
    on: bool,
    summary: Option<String>,
    output: Option<String>,
}

impl Actions {
    pub fn from_env(sh: &Shell) -> Actions {
        let on = sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let var = |n: &str| sh.var(n).ok().filter(|v| on && !v.is_empty());
        Actions {
            on,
            summary: var("GITHUB_STEP_SUMMARY"),
            output: var("GITHUB_OUTPUT"),
        }
    }

    pub fn group(&self, name: &str) {
        if self.on {
            println!("::group::{name}");
        }
    }

    pub fn end_group(&self) {
        if self.on {
            println!("::endgroup::");
        }
    }

    /// An error annotation, on a file and line when known.
    pub fn error(&self, message: &str) {
        if !self.on {
            return;
        }
        let flat = message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        match file_and_line(message) {
            Some((file, line)) => println!("::error file={file},line={line}::{flat}"),
            None => println!("::error::{flat}"),
        }
    }

    pub fn summary(&self, markdown: &str) -> Result<()> {
        append(self.summary.as_deref(), markdown)
    }

    pub fn outputs(&self, pairs: &[(&str, &str)]) -> Result<()> {
        let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        append(self.output.as_deref(), &text)
    }
}

fn append(path: Option<&str>, text: &str) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {path}"))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {path}"))
}

/// `CHANGELOG.md:12` or `pyproject.toml:3` at the start of a message, or
/// the file named alone (line 1).
pub fn file_and_line(message: &str) -> Option<(&'static str, usize)> {
    for file in ["CHANGELOG.md", "pyproject.toml"] {
        if let Some(at) = message.find(file) {
            let rest = &message[at + file.len()..];
            let line = rest
                .strip_prefix(':')
                .map(|r| {
                    r.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .and_then(|d| d.parse().ok())
                .unwrap_or(1);
            return Some((file, line));
        }
    }
    None
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

    #[test]
    fn repositories_from_remote_urls() {
        for (url, repo) in [
            (
                "https://github.com/mindoffwork/mindoff-dataport.git",
                Some("mindoffwork/mindoff-dataport"),
            ),
            (
                "git@github.com:mindoffwork/mindoff-dataport.git",
                Some("mindoffwork/mindoff-dataport"),
            ),
            (
                "https://github.com/mindoffwork/mindoff-dataport/",
                Some("mindoffwork/mindoff-dataport"),
            ),
            ("/tmp/remote.git", None),
            ("https://github.com/only-owner", None),
        ] {
            assert_eq!(repository_from_url(url).as_deref(), repo, "{url}");
        }
    }

    #[test]
    fn oidc_endpoints_follow_the_upload_origin() {
        assert_eq!(
            oidc_endpoints("http://127.0.0.1:9000/legacy/"),
            Some((
                "http://127.0.0.1:9000/_/oidc/audience".to_string(),
                "http://127.0.0.1:9000/_/oidc/mint-token".to_string()
            ))
        );
        assert_eq!(oidc_endpoints("no-scheme"), None);
    }

    #[test]
    fn exchange_errors_show_their_descriptions() {
        let body = r#"{"message":"Token request failed","errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher"}]}"#;
        let msg = exchange_error(422, body);
        assert!(
            msg.contains("(422)") && msg.contains("no corresponding publisher"),
            "{msg}"
        );
        let msg = exchange_error(403, r#"{"message":"Trusted publishing is disabled"}"#);
        assert!(
            msg.contains("not enabled") && msg.contains("disabled"),
            "{msg}"
        );
    }

    #[test]
    fn annotations_find_file_and_line() {
        assert_eq!(
            file_and_line("CHANGELOG.md:3: `## Recent Changes` has no entries"),
            Some(("CHANGELOG.md", 3))
        );
        assert_eq!(
            file_and_line("pyproject.toml has no [project] table"),
            Some(("pyproject.toml", 1))
        );
        assert_eq!(file_and_line("twine upload failed"), None);
    }
}
