//! The simple repository API (PEP 503 HTML, PEP 691 JSON), pure: parsing
//! a project page, file names and versions, and the publish decision that
//! compares a local build with what the index lists.

use anyhow::{Context, Result};

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

/// `(normalized project, version)` of a wheel or sdist file name, the
/// version in the three-part form the tags use (`release_version`).
pub fn file_version(filename: &str) -> Option<(String, String)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (name, version) = (parts.next()?, parts.next()?);
        return Some((normalize(name), release_version(version)));
    }
    let stem = [".tar.gz", ".zip"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (name, version) = stem.rsplit_once('-')?;
    Some((normalize(name), release_version(version)))
}

/// A listed version with its release segment as the tags spell it: PEP 440
/// compares `0.7`, `0.07.0` and `0.7.0.0` equal to `0.7.0`, so an upload
/// made by other tools under such a name is the same version. Leading zeros
/// go, short releases get `.0`s up to three parts, zero parts beyond three
/// go; the rest is lowercased and kept. Anything else is left as it is.
pub fn release_version(version: &str) -> String {
    let lower = version.to_ascii_lowercase();
    let end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    // `1.0.dev2`: the dot before the suffix belongs to the suffix.
    let release = lower[..end].trim_end_matches('.');
    let suffix = &lower[release.len()..];
    let Ok(mut parts) = release
        .split('.')
        .map(str::parse::<u64>)
        .collect::<Result<Vec<u64>, _>>()
    else {
        return version.to_string();
    };
    while parts.len() > 3 && parts.last() == Some(&0) {
        parts.pop();
    }
    while parts.len() < 3 {
        parts.push(0);
    }
    let joined: Vec<String> = parts.iter().map(u64::to_string).collect();
    format!("{}{suffix}", joined.join("."))
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

/// PEP 503 HTML: every `<a>` with an `href`, its text as the file name (or
/// the URL's last path segment when the text is empty), `#sha256=` from
/// the URL, `data-yanked` present (with or without a value) as yanked.
/// A small scanner rather than patterns: quoted attribute values may hold
/// `>`, values may be quoted either way or not at all, tag and attribute
/// names are case-insensitive, comments and script/style bodies are
/// skipped, and character references are decoded.
fn parse_html(body: &str) -> Vec<IndexFile> {
    let mut files = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(tag) = scan_tag(rest) else {
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.len..];
        if tag.closing {
            continue;
        }
        if matches!(tag.name.as_str(), "script" | "style") {
            rest = skip_past_close(rest, &tag.name).0;
            continue;
        }
        if tag.name != "a" {
            continue;
        }
        let (after, inner) = skip_past_close(rest, "a");
        rest = after;
        let Some(href) = tag.attr("href") else {
            continue;
        };
        let text = decode_entities(&strip_tags(inner));
        let (url, fragment) = href.split_once('#').unwrap_or((href, ""));
        let filename = match text.trim() {
            "" => url
                .split(['?'])
                .next()
                .unwrap_or(url)
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            t => t.to_string(),
        };
        if filename.is_empty() {
            continue;
        }
        let sha256 = fragment
            .split('&')
            .find_map(|kv| kv.strip_prefix("sha256="))
            .map(|h| h.trim().to_ascii_lowercase());
        files.push(IndexFile {
            filename,
            sha256,
            yanked: tag.attr("data-yanked").is_some(),
        });
    }
    files
}

/// One start or end tag: lowercase name, decoded attributes, byte length.
struct Tag {
    name: String,
    closing: bool,
    attrs: Vec<(String, String)>,
    len: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the tag at the start of `text` (which begins with `<`); `None`
/// when it is not a tag (a lone `<`, a declaration, an unterminated tag).
fn scan_tag(text: &str) -> Option<Tag> {
    let bytes = text.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == name_start {
        // `<!DOCTYPE …>`, `<?…?>`: skipped as a whole, never read as a tag.
        return match bytes.get(name_start) {
            Some(b'!' | b'?') => text.find('>').map(|end| Tag {
                name: String::new(),
                closing: true,
                attrs: Vec::new(),
                len: end + 1,
            }),
            _ => None,
        };
    }
    let name = text[name_start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => break,
            _ => {}
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>')
        {
            i += 1;
        }
        let attr = text[start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = text[i + 1..].find(q as char)? + i + 1;
                    value = decode_entities(&text[i + 1..end]);
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode_entities(&text[start..i]);
                }
            }
        }
        if !attr.is_empty() {
            attrs.push((attr, value));
        }
    }
    Some(Tag {
        name,
        closing,
        attrs,
        len: i + 1,
    })
}

/// Splits `text` after the end tag `</name>`: `(after, inside)`. Without
/// one, everything is inside.
fn skip_past_close<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
    let mut at = 0;
    while let Some(found) = text[at..].find("</") {
        let start = at + found;
        if let Some(tag) = scan_tag(&text[start..]) {
            if tag.closing && tag.name == name {
                return (&text[start + tag.len..], &text[..start]);
            }
        }
        at = start + 2;
    }
    ("", text)
}

/// The text of an element's content, without tags or comments.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
        } else if let Some(tag) = scan_tag(rest) {
            rest = &rest[tag.len..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the character references a simple page uses: the five named
/// XML ones and numeric ones; anything else stays as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let n = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        name.strip_prefix('#').and_then(|d| d.parse().ok())
                    };
                    n.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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

/// Every version of `project` the index lists, with whether any of its
/// files is yanked, in the order first seen.
pub fn listed_versions(project: &str, listed: &[IndexFile]) -> Vec<(String, bool)> {
    let project = normalize(project);
    let mut out: Vec<(String, bool)> = Vec::new();
    for file in listed {
        let Some((name, version)) = file_version(&file.filename) else {
            continue;
        };
        if name != project {
            continue;
        }
        match out.iter_mut().find(|(v, _)| *v == version) {
            Some((_, yanked)) => *yanked |= file.yanked,
            None => out.push((version, file.yanked)),
        }
    }
    out
}

/// Versions of `project` the index lists with both an sdist and a wheel,
/// oldest first. One pass: a project page may list thousands of files.
pub fn complete_versions(project: &str, listed: &[IndexFile]) -> Vec<semver::Version> {
    let project = normalize(project);
    let mut kinds: std::collections::BTreeMap<semver::Version, (bool, bool)> =
        std::collections::BTreeMap::new();
    for file in listed {
        let Some((name, version)) = file_version(&file.filename) else {
            continue;
        };
        let Ok(v) = semver::Version::parse(&version) else {
            continue;
        };
        if name != project {
            continue;
        }
        let kind = kinds.entry(v).or_default();
        kind.0 |= file.filename.ends_with(".tar.gz");
        kind.1 |= file.filename.ends_with(".whl");
    }
    kinds
        .into_iter()
        .filter(|(_, (sdist, wheel))| *sdist && *wheel)
        .map(|(v, _)| v)
        .collect()
}

/// The index's release-management page for a version (where a maintainer
/// yanks it by hand: the upload API has no yank), from the upload URL.
pub fn manage_url(upload_url: &str, project: &str, version: &str) -> String {
    let (scheme, rest) = upload_url
        .split_once("://")
        .unwrap_or(("https", upload_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
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
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.strip_prefix("upload.").unwrap_or(authority);
    format!("{scheme}://{authority}/simple/")
}

/// The lowercase hex SHA-256 of some bytes, as indexes list it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
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
        // The same version, spelled as other tools may have uploaded it.
        for other in ["0.7", "0.07.0", "0.7.0.0", "00.7.00"] {
            assert_eq!(
                file_version(&format!("mindoff_dataport-{other}.tar.gz")),
                Some(("mindoff-dataport".into(), "0.7.0".into())),
                "{other}"
            );
        }
        for (listed, form) in [
            ("0.8rc1", "0.8.0rc1"),
            ("0.8.0RC1", "0.8.0rc1"),
            ("1.0.0.post1", "1.0.0.post1"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.dev2", "1.0.0.dev2"),
            ("not-a-version", "not-a-version"),
            ("", ""),
        ] {
            assert_eq!(release_version(listed), form, "{listed}");
        }
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
    fn html_attributes_are_read_as_html_defines_them() {
        let html = r#"<!DOCTYPE html>
<HTML><BODY>
<!-- <a href="/commented-0.1.0.tar.gz">commented-0.1.0.tar.gz</a> -->
<A HREF="/p/a-1.0.tar.gz#sha256=AA" data-requires-python="&gt;=3.8">a-1.0.tar.gz</A>
<a data-requires-python=">=3.9" href='/p/b-1.0.tar.gz#sha256=bb'>b-1.0.tar.gz</a>
<a href=/p/c-1.0.tar.gz#sha256=cc data-yanked>c-1.0.tar.gz</a>
<a href="/p/d-1.0.tar.gz?x=1&amp;y=2#sha256=dd" data-yanked="reason with > inside">d-1.0.tar.gz</a>
<a href="/p/e-1.0-py3-none-any.whl#sha256=ee" data-dist-info-metadata="sha256=ff" data-core-metadata='sha256=ff'><span>e-1.0-py3-none-any.whl</span></a>
<a href="/p/f-1.0.tar.gz#md5=00&amp;sha256=Ff">  f-1.0.tar.gz
</a>
<a href="/p/g%2B-1.0.tar.gz"></a>
<a name="no-href">not a file</a>
<script>document.write('<a href="/x-9.tar.gz">x-9.tar.gz</a>')</script>
<a href="/p/h&#45;1.0.tar.gz#sha256=hh">h&#x2D;1.0.tar.gz</a>
</BODY></HTML>"#;
        let files = parse_project_page(html).expect("parses");
        let got: Vec<(&str, Option<&str>, bool)> = files
            .iter()
            .map(|f| (f.filename.as_str(), f.sha256.as_deref(), f.yanked))
            .collect();
        assert_eq!(
            got,
            [
                ("a-1.0.tar.gz", Some("aa"), false),
                ("b-1.0.tar.gz", Some("bb"), false),
                ("c-1.0.tar.gz", Some("cc"), true),
                ("d-1.0.tar.gz", Some("dd"), true),
                ("e-1.0-py3-none-any.whl", Some("ee"), false),
                ("f-1.0.tar.gz", Some("ff"), false),
                ("g%2B-1.0.tar.gz", None, false),
                ("h-1.0.tar.gz", Some("hh"), false),
            ]
        );
    }

    #[test]
    fn broken_html_never_panics_or_invents_files() {
        for html in [
            "",
            "<",
            "<a",
            "<a href=\"unterminated>x</a>",
            "<a href='x'>",
            "<!-- never closed <a href=x>x</a>",
            "&amp;&#xFFFFFFFF;&#;&",
            "<a href=x>é&bogus;</a",
            "<<<>>></a></a>",
        ] {
            let files = parse_html(html);
            assert!(files.len() <= 1, "{html:?}: {files:?}");
        }
        assert_eq!(
            decode_entities("a&amp;b&lt;&#65;&#x42;&unknown;&"),
            "a&b<AB&unknown;&"
        );
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
    fn listed_versions_include_yanked_ones() {
        let mut files = listed(&[
            ("mindoff_dataport-0.6.0.tar.gz", "a"),
            ("mindoff_dataport-0.7.0.tar.gz", "b"),
            ("mindoff_dataport-0.7.0-py3-none-any.whl", "c"),
            ("other-0.9.0.tar.gz", "d"),
        ]);
        files[2].yanked = true;
        assert_eq!(
            listed_versions("Mindoff-Dataport", &files),
            [("0.6.0".to_string(), false), ("0.7.0".to_string(), true)]
        );
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
        // A query or fragment right after the host is not part of it.
        assert_eq!(
            simple_base_from_upload("http://127.0.0.1:8080?token=x"),
            "http://127.0.0.1:8080/simple/"
        );
        assert_eq!(
            manage_url("https://upload.example.test#top", "p", "1.0"),
            "https://example.test/manage/project/p/release/1.0/"
        );
    }
}
