//! The package index, thin: where to upload and read (from the
//! environment, in one place, credentials out of URLs), and the one HTTP
//! call that reads a project page. Everything it decides is in
//! `simple_index`.

use anyhow::{Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::secrets::strip_userinfo;
pub use crate::simple_index::*;
use crate::tools::{Group, Tools};

/// Where to upload and read the index, read from the environment in one
/// place. Credentials written in a URL (`https://user:pw@host/`, which
/// twine accepts) are taken out of it: the URLs here never carry them, so
/// they can be printed and passed as arguments.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// `TWINE_REPOSITORY_URL`, or twine's own default; without userinfo.
    pub upload_url: String,
    /// `XTASK_INDEX_URL`, or derived from the upload URL; without userinfo.
    pub simple_base: String,
    /// The userinfo of `TWINE_REPOSITORY_URL`, for twine's environment.
    pub url_credentials: Option<(String, String)>,
    /// Basic auth for reading the simple index, from its URL's userinfo.
    read_auth: Option<(String, String)>,
}

impl IndexConfig {
    pub fn from_env(sh: &Shell, root: &Utf8Path) -> Result<IndexConfig> {
        // Trimmed: a value pasted into a secret or variable often ends
        // with a line break, which would end up in every URL printed.
        let env = |name: &str| {
            sh.var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let raw_upload = match env("TWINE_REPOSITORY_URL") {
            Some(url) => url,
            None => {
                // No index host is written in this code: ask the installed twine.
                let python = Tools::ensure_group(sh, root, Group::Release)?.python();
                cmd!(
                    sh,
                    "{python} -c 'from twine import utils; print(utils.DEFAULT_REPOSITORY)'"
                )
                .quiet()
                .read()
                .context("reading twine's default repository URL")?
            }
        };
        let (upload_url, upload_user) = strip_userinfo(&raw_upload);
        let url_credentials = upload_user.map(|u| (u.username, u.password));
        let (simple_base, read_auth) = match env("XTASK_INDEX_URL") {
            Some(url) => {
                let (url, user) = strip_userinfo(&url);
                (url, user.map(|u| (u.username, u.password)))
            }
            None => (
                simple_base_from_upload(&upload_url),
                url_credentials.clone(),
            ),
        };
        Ok(IndexConfig {
            upload_url,
            simple_base,
            url_credentials,
            read_auth,
        })
    }

    /// The project page, read with the index URL's credentials if any.
    /// Every read of the configured index goes through here (or sends
    /// `read_authorization`): its URL no longer carries the credentials.
    pub fn fetch(&self, project: &str) -> Result<Vec<IndexFile>> {
        fetch_with(&self.simple_base, project, self.read_auth.as_ref())
    }

    /// The `Authorization` value for reading the simple index, from its
    /// URL's userinfo; `None` when it carried none.
    pub fn read_authorization(&self) -> Option<String> {
        self.read_auth
            .as_ref()
            .map(|(user, password)| basic(user, password))
    }

    /// `TWINE_USERNAME` and `TWINE_PASSWORD` for twine: the environment's
    /// own, else the upload URL's userinfo; `None` leaves twine's defaults.
    pub fn twine_credentials(&self, sh: &Shell) -> Option<(String, String)> {
        let env = |name: &str| sh.var(name).ok().filter(|v| !v.is_empty());
        let (url_user, url_password) = self.url_credentials.clone().unzip();
        let password = env("TWINE_PASSWORD").or(url_password.filter(|p| !p.is_empty()))?;
        let username = env("TWINE_USERNAME")
            .or(url_user.filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "__token__".into());
        Some((username, password))
    }

    /// Whether an upload could authenticate: a password (environment or
    /// URL), or the variables trusted publishing needs.
    pub fn has_upload_credentials(&self, sh: &Shell) -> bool {
        // The token-request variables were taken out of the environment
        // at start (no child process sees them): ask where they are kept.
        self.twine_credentials(sh).is_some() || crate::github::can_request_id_token()
    }
}

/// GETs the project page; `Ok(vec![])` when the index does not know it.
pub fn fetch(simple_base: &str, project: &str) -> Result<Vec<IndexFile>> {
    fetch_with(simple_base, project, None)
}

fn fetch_with(
    simple_base: &str,
    project: &str,
    auth: Option<&(String, String)>,
) -> Result<Vec<IndexFile>> {
    let url = format!(
        "{}/{}/",
        simple_base.trim_end_matches('/'),
        normalize(project)
    );
    let mut request = crate::http::agent()?.get(&url);
    if let Some((user, password)) = auth {
        request = request.header("Authorization", &basic(user, password));
    }
    let mut response = request
        .header(
            "Accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1",
        )
        .call()
        .map_err(|e| crate::http::failed(e, &format!("reading the package index at {url}")))?;
    let status = response.status().as_u16();
    if status == 404 {
        return Ok(Vec::new());
    }
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the package index at {url}"))?;
    if status != 200 {
        anyhow::bail!("the package index answered {status} for {url}");
    }
    parse_project_page(&body).with_context(|| format!("parsing {url}"))
}

/// A Basic authorization value, its forms registered for redaction.
fn basic(user: &str, password: &str) -> String {
    crate::secrets::register_login(user, password);
    format!(
        "Basic {}",
        crate::secrets::base64(format!("{user}:{password}").as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_urls_from_the_environment_are_trimmed() {
        let sh = Shell::new().expect("shell");
        sh.set_var(
            "TWINE_REPOSITORY_URL",
            "  http://me:pw@127.0.0.1:9/legacy/\n",
        );
        sh.set_var("XTASK_INDEX_URL", "http://127.0.0.1:9/simple\r\n");
        let config = IndexConfig::from_env(&sh, Utf8Path::new(".")).expect("config");
        assert_eq!(config.upload_url, "http://127.0.0.1:9/legacy/");
        assert_eq!(config.simple_base, "http://127.0.0.1:9/simple");
        assert_eq!(
            config.url_credentials,
            Some(("me".to_string(), "pw".to_string()))
        );
    }
}
