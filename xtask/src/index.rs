//! The package index: which files of a version it lists, and with which
//! sha256. Parsing (PEP 691 JSON, PEP 503 HTML) and the publish decision
//! are pure; `fetch` is the one HTTP call.

use std::time::Duration;

use anyhow::{Context, Result};
use camino::Utf8Path;
use regex::Regex;
use xshell::{cmd, Shell};

use crate::tools::{Group, Tools};

/// One file as the index lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    pub sha256: Option<String>,
    pub yanked: bool,
}

/// A file built locally, ready to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFile {
    pub filename: String,
    pub sha256: String,
}

/// PEP 503 name normalisation: lowercase, runs of `-_.` become `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `(normalized project, version)` of a wheel or sdist file name.
pub fn file_version(filename: &str) -> Option<(String, String)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (name, version) = (parts.next()?, parts.next()?);
        return Some((normalize(name), version.to_string()));
    }
    let stem = [".tar.gz", ".zip"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (name, version) = stem.rsplit_once('-')?;
    Some((normalize(name), version.to_string()))
}

/// Parses a project page: PEP 691 JSON when the body is JSON, else PEP 503 HTML.
pub fn parse_project_page(body: &str) -> Result<Vec<IndexFile>> {
    if body.trim_start().starts_with('{') {
        return parse_json(body);
    }
    Ok(parse_html(body))
}

fn parse_json(body: &str) -> Result<Vec<IndexFile>> {
    let page: serde_json::Value =
        serde_json::from_str(body).context("reading the index's JSON project page")?;
    let files = page["files"]
        .as_array()
        .context("the index's JSON project page has no `files` list")?;
    Ok(files
        .iter()
        .filter_map(|f| {
            Some(IndexFile {
                filename: f["filename"].as_str()?.to_string(),
                sha256: f["hashes"]["sha256"].as_str().map(str::to_ascii_lowercase),
                yanked: match &f["yanked"] {
                    serde_json::Value::Bool(b) => *b,
                    serde_json::Value::String(_) => true,
                    _ => false,
                },
            })
        })
        .collect())
}

fn parse_html(body: &str) -> Vec<IndexFile> {
    let anchor = Regex::new(r#"(?is)<a\s([^>]*)>(.*?)</a>"#).expect("valid regex");
    let href = Regex::new(r#"(?i)\bhref\s*=\s*["']([^"']*)["']"#).expect("valid regex");
    let yanked = Regex::new(r#"(?i)\bdata-yanked\b"#).expect("valid regex");
    anchor
        .captures_iter(body)
        .filter_map(|cap| {
            let attrs = cap.get(1)?.as_str();
            let url = href.captures(attrs)?.get(1)?.as_str();
            let filename = cap.get(2)?.as_str().trim().to_string();
            let sha256 = url
                .split_once("#sha256=")
                .map(|(_, h)| h.trim().to_ascii_lowercase());
            Some(IndexFile {
                filename,
                sha256,
                yanked: yanked.is_match(attrs),
            })
        })
        .collect()
}

/// Where a version stands on the index compared with a local build.
#[derive(Debug, PartialEq, Eq)]
pub enum Publication {
    /// No file of the version is listed.
    Absent,
    /// Some built files are listed (with matching sha256), others are not.
    Partial {
        present: Vec<String>,
        missing: Vec<String>,
    },
    /// Every built file is listed with its sha256.
    Complete,
}

/// Compares a local build with the index listing. An error when the index
/// holds a different file for this version: publishing would mix builds.
pub fn compare(
    project: &str,
    version: &str,
    local: &[LocalFile],
    listed: &[IndexFile],
) -> std::result::Result<Publication, String> {
    let project = normalize(project);
    let of_version: Vec<&IndexFile> = listed
        .iter()
        .filter(|f| file_version(&f.filename) == Some((project.clone(), version.to_string())))
        .collect();
    let mut conflicts = Vec::new();
    for remote in &of_version {
        match local.iter().find(|l| l.filename == remote.filename) {
            None => conflicts.push(format!(
                "{} is on the index but not in this build",
                remote.filename
            )),
            Some(l) => match &remote.sha256 {
                Some(sha) if *sha != l.sha256 => conflicts.push(format!(
                    "{} differs: index sha256 {sha}, built {}",
                    l.filename, l.sha256
                )),
                _ => {}
            },
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts.join("; "));
    }
    let (present, missing): (Vec<String>, Vec<String>) =
        local.iter().map(|l| l.filename.clone()).partition(|name| {
            of_version
                .iter()
                .any(|r| r.filename == *name && r.sha256.is_some())
        });
    Ok(if present.is_empty() {
        Publication::Absent
    } else if missing.is_empty() {
        Publication::Complete
    } else {
        Publication::Partial { present, missing }
    })
}

/// The files of `version` the index lists (any hashes, any build).
pub fn version_files<'a>(
    project: &str,
    version: &str,
    listed: &'a [IndexFile],
) -> Vec<&'a IndexFile> {
    let project = normalize(project);
    listed
        .iter()
        .filter(|f| file_version(&f.filename) == Some((project.clone(), version.to_string())))
        .collect()
}

/// Versions of `project` the index lists with both an sdist and a wheel,
/// oldest first.
pub fn complete_versions(project: &str, listed: &[IndexFile]) -> Vec<semver::Version> {
    let project = normalize(project);
    let mut found: Vec<semver::Version> = Vec::new();
    for file in listed {
        let Some((name, version)) = file_version(&file.filename) else {
            continue;
        };
        let Ok(v) = semver::Version::parse(&version) else {
            continue;
        };
        if name != project || found.contains(&v) {
            continue;
        }
        let has = |suffix: &str| {
            listed.iter().any(|f| {
                f.filename.ends_with(suffix)
                    && file_version(&f.filename) == Some((project.clone(), version.clone()))
            })
        };
        if has(".tar.gz") && has(".whl") {
            found.push(v);
        }
    }
    found.sort();
    found
}

/// The index's release-management page for a version (where a maintainer
/// yanks it by hand: the upload API has no yank), from the upload URL.
pub fn manage_url(upload_url: &str, project: &str, version: &str) -> String {
    let (scheme, rest) = upload_url
        .split_once("://")
        .unwrap_or(("https", upload_url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.strip_prefix("upload.").unwrap_or(authority);
    format!(
        "{scheme}://{authority}/manage/project/{}/release/{version}/",
        normalize(project)
    )
}

/// The simple-index base for a given upload URL, when `XTASK_INDEX_URL` is
/// not set: the upload host without its `upload.` label, path `/simple/`.
/// For a pypiserver (`http://host:port/`) that is `http://host:port/simple/`.
pub fn simple_base_from_upload(upload_url: &str) -> String {
    let (scheme, rest) = upload_url
        .split_once("://")
        .unwrap_or(("https", upload_url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.strip_prefix("upload.").unwrap_or(authority);
    format!("{scheme}://{authority}/simple/")
}

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
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(&url)
        .header(
            "Accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1",
        )
        .call()
        .with_context(|| format!("reading the package index at {url}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const SDIST: &str = "mindoff_dataport-0.7.0.tar.gz";
    const WHEEL: &str = "mindoff_dataport-0.7.0-py3-none-any.whl";

    fn local() -> Vec<LocalFile> {
        vec![
            LocalFile {
                filename: SDIST.into(),
                sha256: "aa".into(),
            },
            LocalFile {
                filename: WHEEL.into(),
                sha256: "bb".into(),
            },
        ]
    }

    fn listed(files: &[(&str, &str)]) -> Vec<IndexFile> {
        files
            .iter()
            .map(|(n, h)| IndexFile {
                filename: n.to_string(),
                sha256: Some(h.to_string()),
                yanked: false,
            })
            .collect()
    }

    #[test]
    fn names_and_versions() {
        assert_eq!(normalize("Mindoff_Dataport"), "mindoff-dataport");
        assert_eq!(normalize("a.-_b"), "a-b");
        assert_eq!(
            file_version(WHEEL),
            Some(("mindoff-dataport".into(), "0.7.0".into()))
        );
        assert_eq!(
            file_version(SDIST),
            Some(("mindoff-dataport".into(), "0.7.0".into()))
        );
        assert_eq!(
            file_version("mindoff-dataport-0.7.0.zip"),
            Some(("mindoff-dataport".into(), "0.7.0".into()))
        );
        assert_eq!(file_version("README"), None);
    }

    #[test]
    fn parses_pypiserver_html() {
        let html = r#"<html><body><h1>Links for mindoff-dataport</h1>
<a href="/packages/mindoff_dataport-0.7.0-py3-none-any.whl#sha256=BB">mindoff_dataport-0.7.0-py3-none-any.whl</a><br>
<a href="/packages/mindoff_dataport-0.7.0.tar.gz#sha256=aa" data-yanked="">mindoff_dataport-0.7.0.tar.gz</a><br>
</body></html>"#;
        let files = parse_project_page(html).expect("parses");
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].sha256.as_deref(), Some("bb"));
        assert!(!files[0].yanked && files[1].yanked);
    }

    #[test]
    fn parses_pep691_json() {
        let json = r#"{"meta":{"api-version":"1.1"},"name":"mindoff-dataport","files":[
{"filename":"mindoff_dataport-0.7.0.tar.gz","url":"x","hashes":{"sha256":"aa"},"yanked":"broken"},
{"filename":"mindoff_dataport-0.7.0-py3-none-any.whl","url":"y","hashes":{},"yanked":false}]}"#;
        let files = parse_project_page(json).expect("parses");
        assert_eq!(
            files[0],
            IndexFile {
                filename: SDIST.into(),
                sha256: Some("aa".into()),
                yanked: true
            }
        );
        assert_eq!(files[1].sha256, None);
        assert!(parse_project_page("{\"meta\":{}}").is_err());
    }

    #[test]
    fn publication_states() {
        let c = |l: &[IndexFile]| compare("mindoff-dataport", "0.7.0", &local(), l);
        assert_eq!(c(&[]), Ok(Publication::Absent));
        assert_eq!(
            c(&listed(&[("mindoff_dataport-0.6.0.tar.gz", "zz")])),
            Ok(Publication::Absent)
        );
        assert_eq!(
            c(&listed(&[(WHEEL, "bb")])),
            Ok(Publication::Partial {
                present: vec![WHEEL.into()],
                missing: vec![SDIST.into()]
            })
        );
        assert_eq!(
            c(&listed(&[(WHEEL, "bb"), (SDIST, "aa")])),
            Ok(Publication::Complete)
        );
        let err = c(&listed(&[(WHEEL, "cc")])).expect_err("conflict");
        assert!(err.contains("differs"), "{err}");
        let err = c(&listed(&[(
            "mindoff_dataport-0.7.0-cp311-cp311-linux_x86_64.whl",
            "dd",
        )]))
        .expect_err("conflict");
        assert!(err.contains("not in this build"), "{err}");
    }

    #[test]
    fn complete_versions_need_an_sdist_and_a_wheel() {
        let files = listed(&[
            ("mindoff_dataport-0.6.0.tar.gz", "a"),
            ("mindoff_dataport-0.6.0-py3-none-any.whl", "b"),
            ("mindoff_dataport-0.10.0.tar.gz", "c"),
            ("mindoff_dataport-0.10.0-py3-none-any.whl", "d"),
            ("mindoff_dataport-0.7.0-py3-none-any.whl", "e"),
            ("other-1.0.0.tar.gz", "f"),
        ]);
        let versions: Vec<String> = complete_versions("mindoff-dataport", &files)
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(versions, ["0.6.0", "0.10.0"]);
    }

    #[test]
    fn simple_base_is_derived_from_the_upload_url() {
        assert_eq!(
            simple_base_from_upload("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/simple/"
        );
        assert_eq!(
            simple_base_from_upload("https://upload.example.test/legacy/"),
            "https://example.test/simple/"
        );
        assert_eq!(
            simple_base_from_upload("https://test.example.test/legacy/"),
            "https://test.example.test/simple/"
        );
        assert_eq!(
            manage_url(
                "https://upload.example.test/legacy/",
                "Mindoff_Dataport",
                "0.7.0"
            ),
            "https://example.test/manage/project/mindoff-dataport/release/0.7.0/"
        );
    }
}
