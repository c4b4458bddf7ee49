//! Pure release decisions: whether a tag may be released given every
//! version known anywhere, the sha256 record handed from the build job to
//! the publish job, the verify bound, and how to read twine's answers.

use std::time::Duration;

use crate::input::{clip, BadInput};
use crate::simple_index::LocalFile;
use crate::version::Tag;

/// Where a version was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    LocalTag,
    RemoteTag,
    /// The index lists files of the version, none of them yanked.
    Index,
    /// The index lists the version yanked: it was rolled back.
    Yanked,
    /// A `## vX.Y.Z` heading in `CHANGELOG.md` that this release did not write.
    Changelog,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::LocalTag => "a tag in this clone",
            Source::RemoteTag => "a tag on the remote",
            Source::Index => "on the package index",
            Source::Yanked => "on the package index, yanked",
            Source::Changelog => "a released heading in CHANGELOG.md",
        }
    }
}

/// A version seen somewhere, as written there (`0.7.0`, `v0.7.0`, `0.8.0rc1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    pub version: String,
    pub source: Source,
}

impl Known {
    pub fn new(version: impl Into<String>, source: Source) -> Known {
        Known {
            version: version.into(),
            source,
        }
    }
}

/// An ordering key for a PEP 440 version: the release numbers (padded to
/// three) and the phase: -1 for a pre-release or dev release, 0 for the
/// final release, 1 for a post-release (or a fourth number).
fn key(version: &str) -> Option<([u64; 3], i8)> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let end = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (release, suffix) = v.split_at(end);
    let release = release.trim_end_matches('.');
    let parts: Vec<u64> = release
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if parts.is_empty() {
        return None;
    }
    let mut numbers = [0u64; 3];
    for (n, p) in numbers.iter_mut().zip(&parts) {
        *n = *p;
    }
    let suffix = suffix.to_ascii_lowercase();
    let suffix = suffix.trim_start_matches(['.', '-', '_']);
    let phase = if parts.len() > 3 && parts[3..].iter().any(|p| *p > 0) {
        1
    } else if suffix.is_empty() || suffix.starts_with('+') {
        0
    } else if ["rc", "dev", "pre", "a", "b", "c"]
        .iter()
        .any(|p| suffix.starts_with(p))
    {
        -1
    } else if ["post", "rev", "r"].iter().any(|p| suffix.starts_with(p))
        || suffix.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        1 // `1.0-1` is a post-release too
    } else {
        -1
    };
    Some((numbers, phase))
}

fn tag_key(tag: &Tag) -> ([u64; 3], i8) {
    let v = tag.version_ref();
    ([v.major, v.minor, v.patch], 0)
}

/// Where the tag stands among the known versions.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing {
    /// Newer than every known release.
    New,
    /// The index lists this version (not yanked): only the same tagged
    /// source may resume or confirm it.
    OnIndex,
}

/// The release after everything known: the next patch of the newest, or
/// the newest's own X.Y.Z when that is a pre-release (`0.8.0rc1` is older
/// than `0.8.0` in PEP 440).
pub fn next_release(tag: &Tag, known: &[Known]) -> Tag {
    let newest = known
        .iter()
        .filter_map(|k| key(&k.version))
        .max()
        .filter(|k| *k > tag_key(tag));
    match newest {
        Some(([x, y, z], phase)) => Tag::parse(&format!("v{x}.{y}.{z}"))
            .map(|t| if phase < 0 { t } else { t.next_patch() })
            .unwrap_or_else(|_| tag.next_patch()),
        None => tag.next_patch(),
    }
}

/// A tag may be released only when it is newer than every release known
/// anywhere (tags here and on the remote, the index with yanked versions,
/// released changelog headings). Its own tag does not count against it;
/// the index listing it means "resume only with the same files"; a yanked
/// version is spent for good.
pub fn check_order(tag: &Tag, known: &[Known]) -> Result<Standing, BadInput> {
    let own = tag_key(tag);
    let next = next_release(tag, known);
    if let Some(newer) = known
        .iter()
        .filter(|k| key(&k.version).is_some_and(|k| k > own))
        .max_by_key(|k| key(&k.version))
    {
        return Err(BadInput(format!(
            "{tag} is not newer than every release: {} is {}. Versions are linear and \
a published version is never replaced: the next release is {next} (`cargo xtask tag {next}`)",
            clip(&newer.version),
            newer.source.describe()
        )));
    }
    let same: Vec<&Known> = known
        .iter()
        .filter(|k| key(&k.version).is_some_and(|(n, phase)| n == own.0 && phase == 0))
        .collect();
    if same.iter().any(|k| k.source == Source::Yanked) {
        return Err(BadInput(format!(
            "{} is on the package index, yanked: it was rolled back, and a version is \
never published twice. Release the next patch: `cargo xtask tag {next}`",
            tag.pep440()
        )));
    }
    if same.iter().any(|k| k.source == Source::Changelog) {
        return Err(BadInput(format!(
            "CHANGELOG.md already has a released `## {tag}` section that this release did \
not write: {tag} was released before. Release the next patch: `cargo xtask tag {next}`"
        )));
    }
    if same.iter().any(|k| k.source == Source::Index) {
        return Ok(Standing::OnIndex);
    }
    Ok(Standing::New)
}

/// The compact sha256 record of a build: `name=sha,name=sha`, sorted.
pub fn format_sha_list(files: &[LocalFile]) -> String {
    let mut pairs: Vec<String> = files
        .iter()
        .map(|f| format!("{}={}", f.filename, f.sha256))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// Reads `name=sha,name=sha` (as `format_sha_list` writes it; spaces and
/// newlines between pairs are accepted too).
pub fn parse_sha_list(text: &str) -> Result<Vec<LocalFile>, BadInput> {
    let bad = |why: String| {
        BadInput(format!(
            "--expect-sha256 `{}`: {why}; expected `FILE=SHA256,FILE=SHA256` as the build \
step's `sha256` output writes it",
            clip(text)
        ))
    };
    let mut files: Vec<LocalFile> = Vec::new();
    for pair in text
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|p| !p.is_empty())
    {
        let (name, sha) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("`{}` has no `=`", clip(pair))))?;
        let sha = sha.to_ascii_lowercase();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(bad(format!("`{}` is not a file name", clip(name))));
        }
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad(format!("`{}` is not a sha256", clip(&sha))));
        }
        if files.iter().any(|f| f.filename == name) {
            return Err(bad(format!("`{}` is listed twice", clip(name))));
        }
        files.push(LocalFile {
            filename: name.to_string(),
            sha256: sha,
        });
    }
    if files.is_empty() {
        return Err(bad("it names no file".into()));
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}

/// How the files at hand differ from the build's record: empty when they
/// are the same files with the same sha256.
pub fn sha_differences(expected: &[LocalFile], got: &[LocalFile]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        match got.iter().find(|g| g.filename == e.filename) {
            None => out.push(format!("{} is missing", e.filename)),
            Some(g) if g.sha256 != e.sha256 => out.push(format!(
                "{} has sha256 {}, the build recorded {}",
                e.filename, g.sha256, e.sha256
            )),
            Some(_) => {}
        }
    }
    for g in got {
        if !expected.iter().any(|e| e.filename == g.filename) {
            out.push(format!("{} was not in the build", g.filename));
        }
    }
    out
}

/// `XTASK_VERIFY_TIMEOUT`: `120`, `90s` or `2m`, strictly.
pub fn parse_timeout(name: &str, value: &str) -> Result<Duration, BadInput> {
    let v = value.trim();
    let (digits, unit) = match v.strip_suffix('s') {
        Some(d) => (d, 1),
        None => match v.strip_suffix('m') {
            Some(d) => (d, 60),
            None => (v, 1),
        },
    };
    match digits.parse::<u64>() {
        Ok(n) if !digits.starts_with('+') && n.checked_mul(unit).is_some() => {
            Ok(Duration::from_secs(n * unit))
        }
        _ => Err(BadInput(format!(
            "{name}=`{}`: expected a number of seconds such as `120`, `90s` or `2m`",
            clip(value)
        ))),
    }
}

/// What one `twine upload` of one file ended in.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    /// The index accepted the file.
    Accepted,
    /// The index already had a file of that name (another run, or an
    /// earlier attempt): its sha256 is checked once it is listed.
    AlreadyThere,
    /// Refused or not delivered.
    Failed,
}

/// What a failed upload's report says went wrong, as a hint to append to
/// the error (empty when it says nothing recognisable): refused
/// credentials, a server error on the index's side, or no connection.
pub fn upload_failure_hint(report: &str) -> &'static str {
    let lower = report.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if any(&[
        "403 forbidden",
        "401 unauthorized",
        "invalid or non-existent authentication",
    ]) {
        ": the index refused the credentials; check TWINE_USERNAME and TWINE_PASSWORD (or the \
trusted publisher)"
    } else if any(&[
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "500 server error",
    ]) {
        ": the index answered with a server error (5xx), a fault on its side; try again later"
    } else if any(&["connection", "timed out", "name or service not known"]) {
        ": the connection to the index failed"
    } else {
        ""
    }
}

pub fn upload_outcome(success: bool, output: &str) -> Upload {
    let lower = output.to_ascii_lowercase();
    let exists = lower.contains("already exist")
        || lower.contains("skipping")
        || lower.contains("409 conflict");
    match (success, exists) {
        (_, true) => Upload::AlreadyThere,
        (true, false) => Upload::Accepted,
        (false, false) => Upload::Failed,
    }
}

/// What a `twine upload` of several files did to each. Twine uploads in
/// order and stops at the first failure, so the files it started before
/// the last one it started were accepted; the last one's fate is read from
/// the output. `None` as the stop: every file was accepted. Twine prints
/// `Uploading FILE` again for each retry of the same file (after a 5xx):
/// a retry is not a file delivered.
pub fn read_upload(
    files: &[String],
    success: bool,
    output: &str,
) -> (Vec<String>, Option<(String, Upload)>) {
    let mut started: Vec<&String> = output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Uploading "))
        .filter_map(|name| files.iter().find(|f| f.as_str() == name.trim()))
        .collect();
    started.dedup();
    if success {
        return (files.to_vec(), None);
    }
    match started.split_last() {
        None => (Vec::new(), Some((String::new(), Upload::Failed))),
        Some((last, before)) => (
            before.iter().map(|f| f.to_string()).collect(),
            Some((last.to_string(), upload_outcome(false, output))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("valid tag")
    }

    #[test]
    fn version_keys_follow_pep440_enough() {
        assert!(key("0.10.0") > key("0.9.9"));
        assert!(key("0.8.0rc1") < key("0.8.0"));
        assert!(key("0.8.0rc1") > key("0.7.9"));
        assert!(key("0.8.0.post1") > key("0.8.0"));
        assert!(key("0.8.0-1") > key("0.8.0"));
        assert_eq!(key("0.8"), key("0.8.0"));
        assert_eq!(key("v0.8.0"), key("0.8.0"));
        assert!(key("0.8.0.dev3") < key("0.8.0"));
        assert_eq!(key("latest"), None);
        assert_eq!(key(""), None);
    }

    #[test]
    fn a_tag_must_be_newer_than_everything_known() {
        let t = tag("v0.7.0");
        assert_eq!(check_order(&t, &[]), Ok(Standing::New));
        let known = [
            Known::new("v0.6.0", Source::LocalTag),
            Known::new("0.6.0", Source::Index),
            Known::new("v0.6.0", Source::Changelog),
            Known::new("v0.7.0", Source::RemoteTag),
        ];
        assert_eq!(check_order(&t, &known), Ok(Standing::New));
        for source in [
            Source::LocalTag,
            Source::RemoteTag,
            Source::Index,
            Source::Yanked,
            Source::Changelog,
        ] {
            let err = check_order(&t, &[Known::new("0.8.0", source)])
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(err.contains("the next release is v0.8.1"), "{err}");
            assert!(err.contains(source.describe()), "{err}");
        }
        let err = check_order(&tag("v0.5.1"), &[Known::new("v0.6.0", Source::Changelog)]);
        assert!(matches!(err, Err(BadInput(m)) if m.contains("v0.6.1")));
    }

    #[test]
    fn after_a_pre_release_the_next_release_is_its_final_version() {
        // PEP 440: 0.8.0rc1 < 0.8.0, so v0.8.0 is next, not v0.8.1.
        for (known, next) in [
            ("0.8.0rc1", "v0.8.0"),
            ("0.8.0.dev3", "v0.8.0"),
            ("0.8.0b2", "v0.8.0"),
            ("0.8.0.post1", "v0.8.1"),
            ("0.8.0", "v0.8.1"),
        ] {
            let err = check_order(&tag("v0.7.1"), &[Known::new(known, Source::Index)])
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(
                err.contains(&format!("the next release is {next} ")),
                "{known}: {err}"
            );
        }
        assert_eq!(
            check_order(&tag("v0.8.0"), &[Known::new("0.8.0rc1", Source::Index)]),
            Ok(Standing::New)
        );
        // The newest version decides, whatever its form.
        let known = [
            Known::new("0.8.0rc1", Source::Index),
            Known::new("v0.7.9", Source::RemoteTag),
        ];
        assert_eq!(next_release(&tag("v0.7.1"), &known), tag("v0.8.0"));
        let known = [
            Known::new("0.8.0rc1", Source::Index),
            Known::new("v0.8.0", Source::RemoteTag),
        ];
        assert_eq!(next_release(&tag("v0.7.1"), &known), tag("v0.8.1"));
    }

    #[test]
    fn the_same_version_on_the_index_is_resumable_unless_yanked() {
        let t = tag("v0.7.0");
        assert_eq!(
            check_order(&t, &[Known::new("0.7.0", Source::Index)]),
            Ok(Standing::OnIndex)
        );
        let err = check_order(
            &t,
            &[
                Known::new("0.7.0", Source::Index),
                Known::new("0.7.0", Source::Yanked),
            ],
        );
        assert!(matches!(err, Err(BadInput(m)) if m.contains("yanked") && m.contains("v0.7.1")));
        let err = check_order(&t, &[Known::new("v0.7.0", Source::Changelog)]);
        assert!(matches!(err, Err(BadInput(m)) if m.contains("released before")));
        // A pre-release of the same version is older, not the same.
        assert_eq!(
            check_order(&t, &[Known::new("0.7.0rc1", Source::Index)]),
            Ok(Standing::New)
        );
    }

    #[test]
    fn sha_lists_round_trip_and_refuse_garbage() {
        let files = vec![
            LocalFile {
                filename: "b.whl".into(),
                sha256: "b".repeat(64),
            },
            LocalFile {
                filename: "a.tar.gz".into(),
                sha256: "a".repeat(64),
            },
        ];
        let text = format_sha_list(&files);
        assert!(text.starts_with("a.tar.gz="), "{text}");
        let parsed = parse_sha_list(&text).expect("parses");
        assert!(sha_differences(&parsed, &files).is_empty());
        let mut other = files.clone();
        other[0].sha256 = "c".repeat(64);
        assert_eq!(sha_differences(&parsed, &other).len(), 1);
        assert_eq!(sha_differences(&parsed, &files[..1]).len(), 1);
        for bad in ["", "x", "a=1", "../a=".to_string().as_str(), "a=zz"] {
            assert!(parse_sha_list(bad).is_err(), "{bad:?}");
        }
        let twice = format!("a={0},a={0}", "a".repeat(64));
        assert!(parse_sha_list(&twice).is_err());
        let long = "9".repeat(100_000);
        let err = parse_sha_list(&long).err().map(|e| e.0).unwrap_or_default();
        assert!(err.len() < 600, "{}", err.len());
    }

    #[test]
    fn timeouts_are_parsed_strictly() {
        assert_eq!(parse_timeout("T", "120"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("T", "5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("T", "2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "5x", "-1", "+5", "1.5", "5 s", "m"] {
            assert!(parse_timeout("T", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn multi_file_uploads_are_read_file_by_file() {
        let files = vec!["a.whl".to_string(), "a.tar.gz".to_string()];
        let started = "Uploading distributions to http://x/\nUploading a.whl\n";
        assert_eq!(read_upload(&files, true, started), (files.clone(), None));
        let dropped = format!("{started}Uploading a.tar.gz\nERROR ConnectionError: aborted\n");
        assert_eq!(
            read_upload(&files, false, &dropped),
            (
                vec!["a.whl".into()],
                Some(("a.tar.gz".into(), Upload::Failed))
            )
        );
        let exists =
            format!("{started}ERROR HTTPError: 400 Bad Request\nPackage 'a.whl' already exists!\n");
        assert_eq!(
            read_upload(&files, false, &exists),
            (Vec::new(), Some(("a.whl".into(), Upload::AlreadyThere)))
        );
        assert_eq!(
            read_upload(&files, false, "ERROR InvalidConfiguration\n"),
            (Vec::new(), Some((String::new(), Upload::Failed)))
        );
    }

    #[test]
    fn a_retried_file_is_not_a_delivered_file() {
        let files = vec!["a.whl".to_string(), "a.tar.gz".to_string()];
        // Twine's output when the index answers 500 to every try.
        let retried: String = (1..=6)
            .map(|n| {
                format!(
                    "Uploading a.whl\nWARNING  Received \"500: Internal Server Error\"\n\
Package upload appears to have failed. Retry {n} of 5.\n"
                )
            })
            .collect();
        assert_eq!(
            read_upload(&files, false, &format!("{retried}ERROR HTTPError: 500\n")),
            (Vec::new(), Some(("a.whl".into(), Upload::Failed)))
        );
        // The first file went through, the second failed after retries.
        let second =
            "Uploading a.whl\nUploading a.tar.gz\nUploading a.tar.gz\nERROR HTTPError: 503\n";
        assert_eq!(
            read_upload(&files, false, second),
            (
                vec!["a.whl".into()],
                Some(("a.tar.gz".into(), Upload::Failed))
            )
        );
    }

    #[test]
    fn twine_answers() {
        assert_eq!(upload_outcome(true, "Uploading a.whl\n"), Upload::Accepted);
        assert_eq!(
            upload_outcome(
                true,
                "WARNING  Skipping a.whl because it appears to already exist"
            ),
            Upload::AlreadyThere
        );
        assert_eq!(
            upload_outcome(
                false,
                "ERROR HTTPError: 400 Bad Request: File already exists."
            ),
            Upload::AlreadyThere
        );
        assert_eq!(
            upload_outcome(false, "ERROR HTTPError: 409 Conflict from http://x/"),
            Upload::AlreadyThere
        );
        assert_eq!(
            upload_outcome(false, "ERROR HTTPError: 403 Forbidden"),
            Upload::Failed
        );
    }

    #[test]
    fn a_failed_upload_is_named_by_its_report() {
        for (report, hint) in [
            (
                "HTTPError: 403 Forbidden from http://127.0.0.1:1/\nInvalid or non-existent authentication information.",
                "refused the credentials",
            ),
            ("HTTPError: 401 Unauthorized from http://127.0.0.1:1/", "refused the credentials"),
            (
                "Received \"500: Internal Server Error\" Package upload appears to have failed.  Retry 1 of 5\nHTTPError: 500 Internal Server Error from http://127.0.0.1:1/",
                "server error (5xx)",
            ),
            ("HTTPError: 502 Bad Gateway from http://127.0.0.1:1/", "server error (5xx)"),
            (
                "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded (Connection refused)",
                "connection to the index failed",
            ),
        ] {
            assert!(upload_failure_hint(report).contains(hint), "{report}");
        }
        assert_eq!(
            upload_failure_hint("HTTPError: 400 Bad Request: invalid metadata"),
            ""
        );
    }
}
