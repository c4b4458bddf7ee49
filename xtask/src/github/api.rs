//! The GitHub REST API for one repository (releases, the pull requests
//! of a commit), through `ureq`.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use xshell::Shell;

use crate::version::Tag;

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

pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

pub(super) fn read_json(
    response: &mut ureq::http::Response<ureq::Body>,
    what: &str,
) -> Result<(u16, String)> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the answer to {what}"))?;
    Ok((status, body))
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

    /// Every release of the repository (drafts too, when the token may
    /// see them), or `None` when the repository answers 404: not visible
    /// with this token. A lookup's 404 proves nothing; this list does.
    pub fn releases(&self) -> Result<Option<Vec<Value>>> {
        let mut all = Vec::new();
        for page in 1..=10 {
            match self.request("GET", &format!("/releases?per_page=100&page={page}"), None)? {
                (200, Value::Array(list)) => {
                    let last = list.len() < 100;
                    all.extend(list);
                    if last {
                        break;
                    }
                }
                (404, _) => return Ok(None),
                (s, v) => bail!("the GitHub API answered {s} for the release list: {v}"),
            }
        }
        Ok(Some(all))
    }

    pub fn create_release(&self, tag: &Tag, body: &str) -> Result<Value> {
        let payload = json!({ "tag_name": tag.to_string(), "name": tag.to_string(), "body": body, "draft": false, "prerelease": false });
        match self.request("POST", "/releases", Some(payload))? {
            (201, v) => Ok(v),
            (s, v) => bail!("creating the {tag} GitHub Release failed ({s}): {v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
