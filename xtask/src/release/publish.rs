//! The publish step: upload with twine the built files the index does not
//! have yet; once any file is accepted the version counts as published.

use std::process::Output;

use anyhow::{anyhow, bail, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::cmd;

use super::Release;
use crate::bounded;
use crate::github;
use crate::index::{self, IndexConfig, LocalFile, Publication};
use crate::release_rules::{self, Upload};
use crate::secrets;
use crate::tagged_build::COLUMNS;
use crate::ui;

impl Release<'_> {
    pub(super) fn publish(&mut self) -> Result<String> {
        if self.opts.dry_run {
            let config = self.index_config()?;
            let present = self.listing().map(|listed| {
                index::version_files(&self.project, &self.tag().pep440(), &listed).len()
            });
            ui::would(&format!(
                "upload the built files not already on {} with `python -m twine upload` \
(the index lists {} file(s) of this version now)",
                config.describe(self.sh),
                present.map_or("an unknown number of".to_string(), |n| n.to_string())
            ));
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let state = self.publication(&local)?;
        let to_upload: Vec<LocalFile> = match &state {
            Publication::Complete => {
                self.uploaded = true;
                self.output("uploaded", "true".into());
                return Ok("every file is already on the index".into());
            }
            Publication::Absent => local.clone(),
            Publication::Partial { missing, .. } => {
                self.uploaded = true;
                local
                    .iter()
                    .filter(|f| missing.contains(&f.filename))
                    .cloned()
                    .collect()
            }
        };
        let config = self.index_config()?;
        let url = config.upload_url.clone();
        let credentials = self.upload_credentials(&config)?;
        if let Some((user, secret)) = &credentials {
            secrets::register_login(user, secret);
        }
        let python = self.python()?;
        let dist = self.dist();
        let mut accepted = 0;
        let mut existing = 0;
        let mut remaining: Vec<String> = to_upload.iter().map(|f| f.filename.clone()).collect();
        // One twine run for the files, again for those after one the index
        // already had. Twine stops at the first failure, so which files it
        // delivered is known even when a later one fails: then the version
        // is published, never reverted.
        while !remaining.is_empty() {
            let paths: Vec<Utf8PathBuf> = remaining.iter().map(|f| dist.join(f)).collect();
            let out = self.twine_upload(&config, credentials.as_ref(), &python, &paths)?;
            let raw_report = show_twine_report(&out);
            let (delivered, stop) =
                release_rules::read_upload(&remaining, out.status.success(), &raw_report);
            accepted += delivered.len();
            if !delivered.is_empty() {
                self.mark_uploaded()?;
            }
            match stop {
                None => break,
                Some((file, Upload::AlreadyThere)) => {
                    existing += 1;
                    self.mark_uploaded()?;
                    let at = remaining.iter().position(|f| *f == file).unwrap_or(0);
                    remaining.drain(..=at);
                }
                Some((file, _)) => return Err(self.upload_failure(&url, &file, &raw_report)),
            }
        }
        if existing == to_upload.len() {
            return Ok(format!(
                "the index already had all {existing} file(s): another run published them \
first; verify checks their sha256"
            ));
        }
        Ok(format!(
            "uploaded {accepted} file(s) to {url}{}",
            if existing > 0 {
                format!(" ({existing} already there)")
            } else {
                String::new()
            }
        ))
    }

    /// Twine reads the config file's section and the keyring itself;
    /// trusted publishing is the last resort, as in twine.
    fn upload_credentials(&self, config: &IndexConfig) -> Result<Option<(String, String)>> {
        Ok(match config.twine_credentials(self.sh) {
            Some(pair) => Some(pair),
            None if matches!(
                config.login(self.sh),
                index::Login::ConfigFile | index::Login::Keyring
            ) =>
            {
                None
            }
            None => github::mint_index_token(self.sh, &config.upload_url)?
                .map(|t| ("__token__".to_string(), t)),
        })
    }

    /// One `twine upload` of `paths`, bounded by `--upload-timeout`. A
    /// timed-out upload marks the version published and fails.
    fn twine_upload(
        &mut self,
        config: &IndexConfig,
        credentials: Option<&(String, String)>,
        python: &Utf8Path,
        paths: &[Utf8PathBuf],
    ) -> Result<Output> {
        let sh = self.sh;
        let url = &config.upload_url;
        // The repository as chosen (a URL, or a named section of the
        // config file, whose credentials and keyring twine reads).
        let repository = config.twine_args();
        let mut upload = cmd!(
            sh,
            "{python} -m twine --no-color upload --verbose --non-interactive --disable-progress-bar {repository...} {paths...}"
        )
        .env("COLUMNS", COLUMNS)
        .quiet()
        .ignore_status();
        upload = match &config.named {
            None => upload.env("TWINE_REPOSITORY_URL", url),
            Some(_) => upload.env_remove("TWINE_REPOSITORY_URL"),
        };
        if let Some((user, password)) = credentials {
            upload = upload
                .env("TWINE_USERNAME", user)
                .env("TWINE_PASSWORD", password);
        }
        let limit = self.opts.upload_timeout;
        match bounded::run(upload.into(), limit, "twine upload")? {
            bounded::Ended::Finished(out) => Ok(out),
            bounded::Ended::TimedOut { stdout, stderr } => {
                let said = format!(
                    "{}{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
                for line in secrets::redact(&said)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                {
                    println!("    | {}", line.trim_end());
                }
                // Twine may have sent a file whose answer never came:
                // the version counts as published and is never reverted.
                self.mark_uploaded()?;
                bail!(
                    "the upload timed out after {} s ({url} accepted the connection but did \
not answer); nothing is known about the files: the version may be partly published, so it is \
never reverted. Re-run `cargo xtask release {}` once the index answers: it verifies what \
arrived and uploads what is missing (--upload-timeout SECONDS or XTASK_UPLOAD_TIMEOUT sets the \
limit)",
                    limit.as_secs(),
                    self.tag()
                );
            }
        }
    }

    /// A twine run that stopped at `file` for another reason than the
    /// index already having it.
    fn upload_failure(&self, url: &str, file: &str, raw_report: &str) -> anyhow::Error {
        let hint = release_rules::upload_failure_hint(raw_report);
        let which = if file.is_empty() {
            "twine upload".to_string()
        } else {
            format!("twine upload of {file}")
        };
        anyhow!(
            "{which} to {url} failed{hint}{}",
            if self.uploaded {
                format!(
                    ". Other files of {} are on the index: it is published, not \
reverted; resume with `cargo xtask release {}`",
                    self.tag(),
                    self.tag()
                )
            } else {
                String::new()
            }
        )
    }
}

/// Prints what twine said (redacted) and returns it as twine wrote it.
fn show_twine_report(out: &Output) -> String {
    // Read as twine wrote it (a secret that is also ordinary text,
    // such as the version, must not hide which file was sent);
    // only what is printed is redacted.
    let raw_report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = secrets::redact(&raw_report);
    // `--verbose` is what shows the index's own reason (an index
    // may say "already exists" only in the body); its INFO lines
    // are shown when the upload fails.
    for line in report
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !out.status.success() || !l.starts_with("INFO"))
    {
        println!("    | {line}");
    }
    raw_report
}
