//! The GitHub REST API for one repository (releases, the pull requests of
//! a commit), through the shared agent. GitHub's answers are read for what
//! they can mean: a 404 is also what a token that cannot see something
//! gets, a 403 or 429 may be a rate limit to wait out, and every refusal
//! names the token permission or setting to fix.

use std::time::Duration;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use xshell::Shell;

use crate::http;
use crate::input::clip;
use crate::input::BadInput;
use crate::version::Tag;

/// The REST API version this client is written against.
pub const API_VERSION: &str = "2022-11-28";

/// How long rate limits may be waited out in total, unless
/// `XTASK_GITHUB_RATE_WAIT` says otherwise.
pub const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(300);

/// `owner/name` from a GitHub remote URL (https, ssh or scp-like form).
pub fn repository_from_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let (host, path) = if let Some(rest) = url.strip_prefix("git@") {
        rest.split_once(':')?
    } else {
        let rest = url.split_once("://")?.1;
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (host.split(':').next().unwrap_or(host), path)
    };
    // Only a GitHub remote names a GitHub repository.
    let host = host.to_ascii_lowercase();
    if host != "github.com" && !host.ends_with(".github.com") {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [owner, name] if valid_repository(&format!("{owner}/{name}")) => {
            Some(format!("{owner}/{name}"))
        }
        _ => None,
    }
}

/// `owner/name` with the characters GitHub allows, so it can be put into a
/// URL path as it is.
pub fn valid_repository(repo: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(repo.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// A rate limit GitHub reported, read from the status, headers and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateLimit {
    /// The token's hourly quota is spent (`x-ratelimit-remaining: 0`).
    Primary { reset: Option<u64> },
    /// Too many requests too fast (GitHub's "secondary" limit, or a 429).
    Secondary {
        retry_after: Option<u64>,
        reset: Option<u64>,
    },
}

/// The headers of an answer that matter for rate limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitHeaders {
    pub remaining: Option<String>,
    pub reset: Option<String>,
    pub retry_after: Option<String>,
}

/// Whether an answer is a rate limit, as GitHub documents them: 403 or 429
/// with `retry-after`, with `x-ratelimit-remaining: 0`, or (secondary) a
/// 429 or a 403 whose message says "rate limit".
pub fn rate_limit(status: u16, headers: &LimitHeaders, message: &str) -> Option<RateLimit> {
    if status != 403 && status != 429 {
        return None;
    }
    let number = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
    let reset = number(&headers.reset);
    let retry_after = number(&headers.retry_after);
    let secondary_text = message.to_ascii_lowercase().contains("rate limit");
    if retry_after.is_some() || (secondary_text && headers.remaining.as_deref() != Some("0")) {
        return Some(RateLimit::Secondary { retry_after, reset });
    }
    if headers.remaining.as_deref().map(str::trim) == Some("0") {
        return Some(RateLimit::Primary { reset });
    }
    (status == 429).then_some(RateLimit::Secondary { retry_after, reset })
}

impl RateLimit {
    /// How long to wait before trying again: `retry-after`, else until the
    /// reset time, else a minute (GitHub's advice for secondary limits).
    pub fn wait(&self, now: u64) -> Duration {
        let until = |reset: u64| Duration::from_secs(reset.saturating_sub(now).max(1));
        match self {
            RateLimit::Secondary {
                retry_after: Some(s),
                ..
            } => Duration::from_secs(*s),
            RateLimit::Primary { reset: Some(r) }
            | RateLimit::Secondary {
                retry_after: None,
                reset: Some(r),
            } => until(*r),
            _ => Duration::from_secs(60),
        }
    }

    /// "GitHub's primary rate limit … resets at …", for messages.
    pub fn describe(&self, status: u16, now: u64) -> String {
        let at = now + self.wait(now).as_secs();
        match self {
            RateLimit::Primary { reset } => format!(
                "GitHub's primary rate limit for this token is used up ({status}, \
x-ratelimit-remaining: 0); it resets at {}{}",
                http::utc(reset.unwrap_or(at)),
                if reset.is_none() { " or later" } else { "" }
            ),
            RateLimit::Secondary { retry_after, .. } => format!(
                "GitHub's secondary rate limit stopped this client ({status}{}); retry after {}",
                retry_after.map_or(String::new(), |s| format!(", retry-after: {s}")),
                http::utc(at)
            ),
        }
    }
}

/// What `delete_release` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// The release list, readable with this token, no longer holds it.
    AlreadyGone,
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One answer of the API: status and parsed body (`Null` when not JSON).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// GitHub's `message`, clipped (it may quote what it was sent).
    fn message(&self) -> String {
        match self.body["message"].as_str() {
            Some(m) => clip(m),
            None => clip(&self.body.to_string()),
        }
    }
}

/// The headers every call carries.
fn with_headers<B>(request: ureq::RequestBuilder<B>, auth: &str) -> ureq::RequestBuilder<B> {
    request
        .header("Authorization", auth)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
}

/// The most pages of releases read (100 each).
const RELEASE_PAGES: usize = 20;

/// The GitHub REST API for one repository.
pub struct Api {
    base: String,
    token: String,
    pub repository: String,
    rate_wait: Duration,
}

impl Api {
    /// `Ok(None)` when there is no `GITHUB_TOKEN` (the caller decides what
    /// skipping means). A token with no known repository, a repository
    /// that is not `owner/name`, a plain-http API URL or a bad
    /// `XTASK_GITHUB_RATE_WAIT` is bad input naming the setting.
    pub fn from_env(sh: &Shell, origin_url: Option<&str>) -> Result<Option<Api>> {
        let env = |name: &str| sh.var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(token) = env("GITHUB_TOKEN") else {
            return Ok(None);
        };
        let repository = match env("GITHUB_REPOSITORY") {
            Some(repo) if valid_repository(repo.trim()) => repo.trim().to_string(),
            Some(repo) => bail!(BadInput(format!(
                "GITHUB_REPOSITORY=`{}` is not owner/name: set it to the repository, e.g. \
mindoffwork/mindoff-dataport",
                clip(&repo)
            ))),
            None => origin_url.and_then(repository_from_url).ok_or_else(|| {
                BadInput(format!(
                    "GITHUB_TOKEN is set but the repository is unknown: set GITHUB_REPOSITORY=owner/name, \
or use a GitHub URL for the remote (it is {})",
                    origin_url.map_or("not readable".to_string(), |u| format!(
                        "`{}`",
                        clip(&crate::secrets::strip_userinfo(u).0)
                    ))
                ))
            })?,
        };
        let base = env("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_string());
        let base = base.trim().trim_end_matches('/').to_string();
        if !http::credential_safe(&base) {
            bail!(BadInput(format!(
                "GITHUB_API_URL=`{}` would send GITHUB_TOKEN without TLS: use an https:// URL",
                clip(&base)
            )));
        }
        let rate_wait = match env("XTASK_GITHUB_RATE_WAIT") {
            None => DEFAULT_RATE_WAIT,
            Some(text) => http::parse_duration(&text).ok_or_else(|| {
                BadInput(format!(
                    "XTASK_GITHUB_RATE_WAIT=`{}` is not a duration: use seconds (`300`, `30s`) or minutes (`5m`)",
                    clip(&text)
                ))
            })?,
        };
        Ok(Some(Api {
            base,
            token,
            repository,
            rate_wait,
        }))
    }

    /// One call, with rate limits waited out within the bound; 401 and
    /// non-rate-limit 403 refusals are errors naming `need`, the
    /// permission the call takes.
    fn call(&self, method: Method, path: &str, body: Option<&Value>, need: &str) -> Result<Answer> {
        let url = format!("{}/repos/{}{path}", self.base, self.repository);
        let what = format!("{} {url}", method.name());
        let agent = http::agent()?;
        let auth = format!("Bearer {}", self.token);
        let mut waited = Duration::ZERO;
        loop {
            let sent = match (method, body) {
                (Method::Get, _) => with_headers(agent.get(&url), &auth).call(),
                (Method::Delete, _) => with_headers(agent.delete(&url), &auth).call(),
                (Method::Post, body) => with_headers(agent.post(&url), &auth)
                    .header("Content-Type", "application/json")
                    .send(body.map(Value::to_string).unwrap_or_default()),
            };
            let mut response =
                sent.map_err(|e| http::failed(e, &format!("calling the GitHub API: {what}")))?;
            let headers = LimitHeaders {
                remaining: http::header(&response, "x-ratelimit-remaining"),
                reset: http::header(&response, "x-ratelimit-reset"),
                retry_after: http::header(&response, "retry-after"),
            };
            let (status, text) = http::read(&mut response, &what)?;
            let answer = Answer {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
            };
            let message = answer.body["message"].as_str().unwrap_or_default();
            if let Some(limit) = rate_limit(status, &headers, message) {
                let now = http::now();
                let wait = limit.wait(now);
                if waited + wait > self.rate_wait {
                    bail!(
                        "{what}: {}; that is beyond the wait this run allows \
(XTASK_GITHUB_RATE_WAIT, {} s left of {} s): run it again after that time",
                        limit.describe(status, now),
                        self.rate_wait.saturating_sub(waited).as_secs(),
                        self.rate_wait.as_secs()
                    );
                }
                eprintln!(
                    "note: {}; waiting {} s",
                    limit.describe(status, now),
                    wait.as_secs()
                );
                std::thread::sleep(wait);
                waited += wait;
                continue;
            }
            match status {
                401 => bail!(
                    "GitHub refused GITHUB_TOKEN for {what} (401: {}): the token is invalid or expired",
                    answer.message()
                ),
                403 => bail!(
                    "GitHub refused {what} (403: {}): the token lacks a permission; the job needs \
`{need}` for {}",
                    answer.message(),
                    self.repository
                ),
                _ => return Ok(answer),
            }
        }
    }

    /// The releases of the repository, newest first, page after page (up
    /// to `RELEASE_PAGES` of 100; drafts included for tokens that can push):
    /// absence is proven against the whole list. A 404 here means the
    /// repository itself is not visible with this token.
    pub fn releases(&self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        for page in 1..=RELEASE_PAGES {
            let list = self.releases_page(page)?;
            let last = list.len() < 100;
            all.extend(list);
            if last {
                break;
            }
        }
        Ok(all)
    }

    fn releases_page(&self, page: usize) -> Result<Vec<Value>> {
        let answer = self.call(
            Method::Get,
            &format!("/releases?per_page=100&page={page}"),
            None,
            "contents: read",
        )?;
        match (answer.status, answer.body) {
            (200, Value::Array(list)) => Ok(list),
            (404, _) => bail!(
                "GitHub answered 404 for the releases of {repo}: the repository is not visible with \
this token (GitHub answers 404, not 403, for what a token cannot see); check GITHUB_REPOSITORY \
({repo}) and that the token may read it (`contents: read`)",
                repo = self.repository
            ),
            (s, v) => bail!(
                "the GitHub API answered {s} for the releases of {}: {}",
                self.repository,
                clip(&v.to_string())
            ),
        }
    }

    /// The release for a tag, or `None` when the release list (readable
    /// with this token) proves there is none. A draft for the tag, which
    /// the by-tag lookup does not show, is found through the list.
    pub fn release_for_tag(&self, tag: &Tag) -> Result<Option<Value>> {
        let answer = self.call(
            Method::Get,
            &format!("/releases/tags/{tag}"),
            None,
            "contents: read",
        )?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 => {
                let name = tag.to_string();
                Ok(self
                    .releases()?
                    .into_iter()
                    .find(|r| r["tag_name"].as_str() == Some(name.as_str())))
            }
            s => bail!(
                "the GitHub API answered {s} for the {tag} release in {}: {}",
                self.repository,
                answer.message()
            ),
        }
    }

    /// The pull requests a commit belongs to (the merged one, for a push
    /// to the default branch). A 404 is an error: it is what a token
    /// without `pull-requests: read` gets, and an entry must not be
    /// skipped for that.
    pub fn pulls_for_commit(&self, sha: &str) -> Result<Vec<Value>> {
        if !(7..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!(BadInput(format!(
                "`{}` is not a commit id (expected 7 to 64 hexadecimal digits)",
                clip(sha)
            )));
        }
        let answer = self.call(
            Method::Get,
            &format!("/commits/{sha}/pulls"),
            None,
            "pull-requests: read",
        )?;
        match (answer.status, answer.body) {
            (200, Value::Array(pulls)) => Ok(pulls),
            (404, _) => bail!(
                "GitHub answered 404 for the pull requests of commit {sha} in {}: a token that \
cannot see pull requests gets 404; give the job `pull-requests: read` (and `contents: read`)",
                self.repository
            ),
            (422, _) => bail!(
                "GitHub knows no commit {sha} in {} (422): was it pushed to this repository?",
                self.repository
            ),
            (s, v) => bail!(
                "the GitHub API answered {s} for the pull requests of {sha}: {}",
                clip(&v.to_string())
            ),
        }
    }

    /// Deletes a release. A 404 is "already gone" only when the release
    /// list, readable with this token, no longer holds it.
    pub fn delete_release(&self, id: u64) -> Result<Deletion> {
        let answer = self.call(
            Method::Delete,
            &format!("/releases/{id}"),
            None,
            "contents: write",
        )?;
        match answer.status {
            204 => Ok(Deletion::Deleted),
            404 => {
                let listed = self.releases()?;
                if listed.iter().any(|r| r["id"].as_u64() == Some(id)) {
                    bail!(
                        "GitHub answered 404 to deleting release {id} in {}, which this token can \
see: the token may read but not write releases; the job needs `contents: write`",
                        self.repository
                    );
                }
                Ok(Deletion::AlreadyGone)
            }
            s => bail!(
                "deleting GitHub Release {id} in {} failed ({s}): {}",
                self.repository,
                answer.message()
            ),
        }
    }

    pub fn create_release(&self, tag: &Tag, body: &str) -> Result<Value> {
        let payload = json!({ "tag_name": tag.to_string(), "name": tag.to_string(), "body": body, "draft": false, "prerelease": false });
        let answer = self.call(Method::Post, "/releases", Some(&payload), "contents: write")?;
        match answer.status {
            201 => Ok(answer.body),
            404 => bail!(
                "GitHub answered 404 to creating the {tag} release in {}: the repository is not \
visible with this token, or the token cannot write to it; the job needs `contents: write`",
                self.repository
            ),
            s => bail!(
                "creating the {tag} GitHub Release in {} failed ({s}): {}",
                self.repository,
                answer.message()
            ),
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
            (
                "ssh://git@github.com/mindoffwork/mindoff-dataport.git",
                Some("mindoffwork/mindoff-dataport"),
            ),
            ("https://x-access-token:t0k@github.com/o/r.git", Some("o/r")),
            ("/tmp/remote.git", None),
            ("https://github.com/only-owner", None),
            ("https://gitlab.example.test/o/r.git", None),
            ("https://github.com/o/r/extra", None),
            ("https://github.com/o/r%2F..", None),
        ] {
            assert_eq!(repository_from_url(url).as_deref(), repo, "{url}");
        }
    }

    #[test]
    fn repository_names_are_checked() {
        for ok in ["o/r", "mindoffwork/mindoff-dataport", "a.b/c_d"] {
            assert!(valid_repository(ok), "{ok}");
        }
        for bad in [
            "o", "o/", "/r", "o/r/x", "o/..", "o/r?x=1", "o/r#", "o /r", "",
        ] {
            assert!(!valid_repository(bad), "{bad}");
        }
    }

    fn headers(remaining: Option<&str>, reset: Option<&str>, retry: Option<&str>) -> LimitHeaders {
        LimitHeaders {
            remaining: remaining.map(str::to_string),
            reset: reset.map(str::to_string),
            retry_after: retry.map(str::to_string),
        }
    }

    #[test]
    fn rate_limits_are_read_as_github_documents_them() {
        let primary = rate_limit(
            403,
            &headers(Some("0"), Some("1000"), None),
            "API rate limit exceeded",
        );
        assert_eq!(primary, Some(RateLimit::Primary { reset: Some(1000) }));
        assert_eq!(
            rate_limit(429, &headers(Some("0"), Some("1000"), None), ""),
            Some(RateLimit::Primary { reset: Some(1000) })
        );
        assert_eq!(
            rate_limit(403, &headers(Some("12"), Some("1000"), Some("30")), ""),
            Some(RateLimit::Secondary {
                retry_after: Some(30),
                reset: Some(1000)
            })
        );
        assert_eq!(
            rate_limit(
                403,
                &headers(Some("12"), None, None),
                "You have exceeded a secondary rate limit"
            ),
            Some(RateLimit::Secondary {
                retry_after: None,
                reset: None
            })
        );
        assert_eq!(
            rate_limit(429, &headers(None, None, None), ""),
            Some(RateLimit::Secondary {
                retry_after: None,
                reset: None
            })
        );
        // A plain permission refusal is not a rate limit.
        assert_eq!(
            rate_limit(
                403,
                &headers(Some("4999"), Some("1000"), None),
                "Resource not accessible by integration"
            ),
            None
        );
        assert_eq!(
            rate_limit(404, &headers(Some("0"), None, Some("5")), ""),
            None
        );
        assert_eq!(rate_limit(200, &headers(Some("0"), None, None), ""), None);
    }

    #[test]
    fn waits_follow_retry_after_then_reset_then_a_minute() {
        let now = 1_000;
        let secs = |l: RateLimit| l.wait(now).as_secs();
        assert_eq!(
            secs(RateLimit::Secondary {
                retry_after: Some(7),
                reset: Some(5_000)
            }),
            7
        );
        assert_eq!(secs(RateLimit::Primary { reset: Some(1_030) }), 30);
        assert_eq!(secs(RateLimit::Primary { reset: Some(900) }), 1);
        assert_eq!(secs(RateLimit::Primary { reset: None }), 60);
        assert_eq!(
            secs(RateLimit::Secondary {
                retry_after: None,
                reset: None
            }),
            60
        );
        let text = RateLimit::Primary {
            reset: Some(1_700_000_000),
        }
        .describe(403, 1_699_999_000);
        assert!(
            text.contains("primary rate limit")
                && text.contains("resets at 2023-11-14 22:13:20 UTC"),
            "{text}"
        );
        let text = RateLimit::Secondary {
            retry_after: Some(60),
            reset: None,
        }
        .describe(429, 1_699_999_940);
        assert!(
            text.contains("secondary rate limit")
                && text.contains("(429, retry-after: 60)")
                && text.contains("2023-11-14 22:13:20 UTC"),
            "{text}"
        );
    }
}
