//! The package index, thin: where to upload and read (from the
//! environment, in one place), and the one HTTP call that reads a
//! project page. Everything it decides is in `simple_index`.

use anyhow::{Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

pub use crate::simple_index::*;
use crate::tools::Tools;

/// Where to upload and where to read the index, read from the
/// environment in one place; credentials stay there and reach twine by
/// inheritance.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// `TWINE_REPOSITORY_URL`, or twine's own default.
    pub upload_url: String,
    /// `XTASK_INDEX_URL`, or derived from the upload URL.
    pub simple_base: String,
}

impl IndexConfig {
    pub fn from_env(sh: &Shell, root: &Utf8Path) -> Result<IndexConfig> {
        let env = |name: &str| sh.var(name).ok().filter(|v| !v.trim().is_empty());
        let upload_url = match env("TWINE_REPOSITORY_URL") {
            Some(url) => url,
            None => {
                // No index host is written in this code: ask the installed twine.
                let python = Tools::ensure(sh, root)?.python();
                cmd!(
                    sh,
                    "{python} -c 'from twine import utils; print(utils.DEFAULT_REPOSITORY)'"
                )
                .quiet()
                .read()
                .context("reading twine's default repository URL")?
            }
        };
        let simple_base =
            env("XTASK_INDEX_URL").unwrap_or_else(|| simple_base_from_upload(&upload_url));
        Ok(IndexConfig {
            upload_url,
            simple_base,
        })
    }
}

/// GETs the project page; `Ok(vec![])` when the index does not know it.
pub fn fetch(simple_base: &str, project: &str) -> Result<Vec<IndexFile>> {
    let url = format!(
        "{}/{}/",
        simple_base.trim_end_matches('/'),
        normalize(project)
    );
    let mut response = crate::http::agent()?
        .get(&url)
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
