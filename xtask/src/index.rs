//! The package index, thin: which index and which credentials, chosen in
//! one place the way twine chooses them, and the one HTTP call that reads
//! a project page. Everything it decides about pages is in `simple_index`;
//! the configuration file is read by `pypirc`.
//!
//! The upload endpoint: `TWINE_REPOSITORY_URL` (`--repository-url`), else
//! the repository `TWINE_REPOSITORY` (`--repository`, default `pypi`) of
//! the configuration file (`--config-file`, default `~/.pypirc`), where
//! `pypi` and `testpypi` need no section. Reads go to the simple index
//! derived from that endpoint unless `XTASK_INDEX_URL` names another.
//! Credentials, in twine's order: `TWINE_USERNAME`/`TWINE_PASSWORD`, the
//! URL's userinfo, the file's section, the keyring, trusted publishing.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::pypirc;
use crate::secrets::strip_userinfo;
pub use crate::simple_index::*;
use crate::tools::{Group, Tools};

/// The environment variable behind `--config-file`.
pub const CONFIG_FILE_VAR: &str = "XTASK_CONFIG_FILE";

/// A repository chosen by name from twine's configuration file: twine is
/// given the name and the file, and reads the section (and the keyring)
/// itself.
#[derive(Clone, Debug)]
pub struct Named {
    pub name: String,
    /// The file read; `None` when the default `~/.pypirc` does not exist.
    pub file: Option<Utf8PathBuf>,
    /// The file's name for messages (`~/.pypirc` or the path given).
    pub shown: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Where to upload and read the index, chosen in one place. Credentials
/// written in a URL (`https://user:pw@host/`, which twine accepts) are
/// taken out of it: the URLs here never carry them, so they can be printed
/// and passed as arguments.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// The chosen upload endpoint, without userinfo.
    pub upload_url: String,
    /// `XTASK_INDEX_URL`, or derived from the upload URL; without userinfo.
    pub simple_base: String,
    /// The userinfo of `TWINE_REPOSITORY_URL`, for twine's environment.
    pub url_credentials: Option<(String, String)>,
    /// The repository, when it was chosen by name from the config file.
    pub named: Option<Named>,
    /// Basic auth for reading the simple index, from its URL's userinfo.
    read_auth: Option<(String, String)>,
    /// The managed tools' Python, when it was needed (twine's defaults).
    python: Option<Utf8PathBuf>,
}

/// Where an upload's password comes from, in twine's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    Environment,
    Url,
    ConfigFile,
    Keyring,
    TrustedPublishing,
    Missing,
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
        let mut python = None;
        let (raw_upload, named) = match env("TWINE_REPOSITORY_URL") {
            Some(url) => (url, None),
            None => {
                let name = env("TWINE_REPOSITORY").unwrap_or_else(|| pypirc::PYPI.into());
                let named = choose_named(sh, root, &name, &mut python)?;
                (named.0, Some(named.1))
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
        if let Some(n) = &named {
            if let Some(password) = &n.password {
                crate::secrets::register_login(n.username.as_deref().unwrap_or(""), password);
            }
        }
        Ok(IndexConfig {
            upload_url,
            simple_base,
            url_credentials,
            named,
            read_auth,
            python,
        })
    }

    /// The project page, read with the index URL's credentials if any; a
    /// private index answering 401 is asked again with the credentials of
    /// the chosen repository (its section, else the keyring). Every read
    /// of the configured index goes through here (or sends
    /// `read_authorization`): its URL no longer carries the credentials.
    pub fn fetch(&self, project: &str) -> Result<Vec<IndexFile>> {
        match fetch_with(&self.simple_base, project, self.read_auth.as_ref())? {
            Page::Files(files) => Ok(files),
            Page::Unauthorized(url) => match self.read_login_after_401()? {
                Some(login) => match fetch_with(&self.simple_base, project, Some(&login))? {
                    Page::Files(files) => Ok(files),
                    Page::Unauthorized(url) => anyhow::bail!(
                        "the package index answered 401 for {url} with the credentials of {}",
                        self.describe_repository()
                    ),
                },
                None => anyhow::bail!("the package index answered 401 for {url}"),
            },
        }
    }

    /// The chosen repository's login for reading a private index: its
    /// section's password, else the keyring's (asked through the managed
    /// tools' Python; registered for redaction).
    fn read_login_after_401(&self) -> Result<Option<(String, String)>> {
        let Some(n) = self.named.as_ref().filter(|_| self.read_auth.is_none()) else {
            return Ok(None);
        };
        let user = n.username.clone().unwrap_or_else(|| "__token__".into());
        if let Some(password) = &n.password {
            return Ok(Some((user, password.clone())));
        }
        let Some(python) = &self.python else {
            return Ok(None);
        };
        let sh = Shell::new().context("starting the command runner")?;
        let script = "import sys\ntry:\n import keyring\n p = keyring.get_password(sys.argv[1], sys.argv[2])\nexcept Exception:\n p = None\nsys.stdout.write(p or '')";
        let url = &self.upload_url;
        let password = cmd!(sh, "{python} -c {script} {url} {user}")
            .quiet()
            .ignore_stderr()
            .read()
            .unwrap_or_default();
        if password.is_empty() {
            return Ok(None);
        }
        crate::secrets::register_login(&user, &password);
        Ok(Some((user, password)))
    }

    /// The `Authorization` value for reading the simple index, from its
    /// URL's userinfo; `None` when it carried none.
    pub fn read_authorization(&self) -> Option<String> {
        self.read_auth
            .as_ref()
            .map(|(user, password)| basic(user, password))
    }

    /// `TWINE_USERNAME` and `TWINE_PASSWORD` for twine: the environment's
    /// own, else the upload URL's userinfo; `None` leaves twine's own
    /// order (the config file's section, the keyring).
    pub fn twine_credentials(&self, sh: &Shell) -> Option<(String, String)> {
        let env = |name: &str| sh.var(name).ok().filter(|v| !v.is_empty());
        let (url_user, url_password) = self.url_credentials.clone().unzip();
        let password = env("TWINE_PASSWORD").or(url_password.filter(|p| !p.is_empty()))?;
        let username = env("TWINE_USERNAME")
            .or(url_user.filter(|u| !u.is_empty()))
            .or_else(|| self.named.as_ref().and_then(|n| n.username.clone()))
            .unwrap_or_else(|| "__token__".into());
        Some((username, password))
    }

    /// Where the upload's password would come from, in twine's order. The
    /// keyring is asked only whether it holds one (the secret stays in
    /// the tools' Python).
    pub fn login(&self, sh: &Shell) -> Login {
        if sh.var("TWINE_PASSWORD").is_ok_and(|v| !v.is_empty()) {
            return Login::Environment;
        }
        if self
            .url_credentials
            .as_ref()
            .is_some_and(|(_, p)| !p.is_empty())
        {
            return Login::Url;
        }
        if let Some(n) = &self.named {
            if n.password.as_deref().is_some_and(|p| !p.is_empty()) {
                return Login::ConfigFile;
            }
            if self.keyring_has_password(sh) {
                return Login::Keyring;
            }
        }
        if crate::github::can_request_id_token() {
            return Login::TrustedPublishing;
        }
        Login::Missing
    }

    /// Whether an upload could authenticate.
    pub fn has_upload_credentials(&self, sh: &Shell) -> bool {
        self.login(sh) != Login::Missing
    }

    fn keyring_has_password(&self, sh: &Shell) -> bool {
        let Some(python) = &self.python else {
            return false;
        };
        let user = sh
            .var("TWINE_USERNAME")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| self.named.as_ref().and_then(|n| n.username.clone()))
            .unwrap_or_default();
        // As twine asks: the username from the keyring when none is set.
        let script = "import sys\ntry:\n import keyring\n url, user = sys.argv[1], sys.argv[2] or None\n if user is None:\n  c = keyring.get_credential(url, None)\n  user = c.username if c else None\n ok = bool(user and keyring.get_password(url, user))\nexcept Exception:\n ok = False\nprint('yes' if ok else 'no')";
        let url = &self.upload_url;
        cmd!(sh, "{python} -c {script} {url} {user}")
            .quiet()
            .ignore_stderr()
            .read()
            .is_ok_and(|answer| answer.trim() == "yes")
    }

    /// "sandbox from ~/.pypirc (http://...)" or "TWINE_REPOSITORY_URL (...)".
    pub fn describe_repository(&self) -> String {
        match &self.named {
            Some(n) if n.file.is_some() => {
                format!("{} from {} ({})", n.name, n.shown, self.upload_url)
            }
            Some(n) => format!("{} (twine's default, {})", n.name, self.upload_url),
            None => format!("TWINE_REPOSITORY_URL ({})", self.upload_url),
        }
    }

    /// One line for status and dry runs: which index, which credentials.
    pub fn describe(&self, sh: &Shell) -> String {
        let login = match self.login(sh) {
            Login::Environment => "password from TWINE_PASSWORD".to_string(),
            Login::Url => "password from the URL".to_string(),
            Login::ConfigFile => format!(
                "password from {}",
                self.named
                    .as_ref()
                    .map_or("the config file", |n| n.shown.as_str())
            ),
            Login::Keyring => "password from the keyring".to_string(),
            Login::TrustedPublishing => "trusted publishing (GitHub Actions ID token)".to_string(),
            Login::Missing => "no upload credentials".to_string(),
        };
        format!(
            "{}, {login}; reads {}",
            self.describe_repository(),
            self.simple_base
        )
    }

    /// The arguments that choose the same repository for twine.
    pub fn twine_args(&self) -> Vec<String> {
        match &self.named {
            Some(n) => {
                let mut args = vec!["--repository".to_string(), n.name.clone()];
                if let Some(file) = &n.file {
                    args.extend(["--config-file".to_string(), file.to_string()]);
                }
                args
            }
            None => vec!["--repository-url".to_string(), self.upload_url.clone()],
        }
    }
}

/// The repository `name` of twine's configuration file: its upload URL
/// and what twine will find there. Twine's own default URLs are read from
/// the installed twine, only when `pypi` or `testpypi` need them.
fn choose_named(
    sh: &Shell,
    root: &Utf8Path,
    name: &str,
    python: &mut Option<Utf8PathBuf>,
) -> Result<(String, Named)> {
    let given = sh
        .var(CONFIG_FILE_VAR)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let (path, shown) = match &given {
        Some(path) => (Utf8PathBuf::from(path), path.clone()),
        None => {
            let home = sh.var("HOME").unwrap_or_default();
            (
                Utf8PathBuf::from(home).join(".pypirc"),
                "~/.pypirc".to_string(),
            )
        }
    };
    let text = match std::fs::read(&path) {
        Ok(bytes) => Some(crate::input::utf8(&shown, bytes)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && given.is_none() => None,
        Err(e) => {
            return Err(crate::input::BadInput(format!(
                "the twine configuration file {shown} cannot be read ({e}): pass an existing --config-file, or --repository-url"
            ))
            .into())
        }
    };
    let tools = Tools::ensure_group(sh, root, Group::Release)?.python();
    let defaults = twine_defaults(sh, &tools)?;
    *python = Some(tools);
    let repo = pypirc::choose(
        text.as_deref(),
        &shown,
        name,
        &pypirc::Defaults {
            pypi: &defaults.0,
            testpypi: &defaults.1,
        },
    )?;
    let url = repo.url.clone().unwrap_or_default();
    Ok((
        url,
        Named {
            name: repo.name,
            file: text.is_some().then_some(path),
            shown,
            username: repo.username,
            password: repo.password,
        },
    ))
}

/// Twine's default upload URLs (`pypi`, `testpypi`), from the installed
/// twine: no index host is written in this code.
fn twine_defaults(sh: &Shell, python: &Utf8Path) -> Result<(String, String)> {
    let out = cmd!(
        sh,
        "{python} -c 'from twine import utils; print(utils.DEFAULT_REPOSITORY); print(utils.TEST_REPOSITORY)'"
    )
    .quiet()
    .read()
    .context("reading twine's default repository URLs")?;
    let mut lines = out.lines().map(str::trim);
    match (lines.next(), lines.next()) {
        (Some(pypi), Some(test)) => Ok((pypi.to_string(), test.to_string())),
        _ => anyhow::bail!("twine printed no default repository URLs"),
    }
}

/// GETs the project page; `Ok(vec![])` when the index does not know it.
pub fn fetch(simple_base: &str, project: &str) -> Result<Vec<IndexFile>> {
    match fetch_with(simple_base, project, None)? {
        Page::Files(files) => Ok(files),
        Page::Unauthorized(url) => anyhow::bail!("the package index answered 401 for {url}"),
    }
}

/// A project page's answer: its files, or a 401 (a private index).
enum Page {
    Files(Vec<IndexFile>),
    Unauthorized(String),
}

fn fetch_with(simple_base: &str, project: &str, auth: Option<&(String, String)>) -> Result<Page> {
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
    match status {
        404 => return Ok(Page::Files(Vec::new())),
        401 => return Ok(Page::Unauthorized(url)),
        _ => {}
    }
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the package index at {url}"))?;
    if status != 200 {
        anyhow::bail!("the package index answered {status} for {url}");
    }
    parse_project_page(&body)
        .map(Page::Files)
        .with_context(|| format!("parsing {url}"))
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
