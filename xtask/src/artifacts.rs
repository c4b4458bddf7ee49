//! What goes into the built distributions: list the members of the sdist
//! (`.tar.gz`) and the wheel (`.whl`, a zip), refuse the release tooling
//! and anything git ignores, report everything else.
//!
//! The decisions are pure functions over member names; the readers below
//! parse the zip central directory and the tar headers by hand (inflate
//! comes from `flate2` with its pure-Rust backend), and `git
//! check-ignore` answers which paths git ignores.

use std::fs;
use std::io::Read;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::input::{clip, BadInput};

/// Top-level paths of the repository that belong to the release tooling
/// (or its build output) and never to the package.
pub const TOOLING: &[&str] = &[
    "xtask/",
    ".cargo/",
    "target/",
    "tools/",
    "Cargo.toml",
    "Cargo.lock",
];

/// Largest inflated sdist read: far above any real one, and a guard
/// against a decompression bomb.
const MAX_INFLATED: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sdist,
    Wheel,
}

/// One file inside a distribution, by its path in the source tree (an
/// sdist's `name-version/` prefix removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub path: String,
    pub size: u64,
}

/// A built distribution and its members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub filename: String,
    pub kind: Kind,
    /// The archive's own size on disk.
    pub size: u64,
    pub members: Vec<Member>,
}

impl Artifact {
    /// Paths to ask git about: the sdist's as they are; the wheel's also
    /// under `src/` (its usual source layout). Generated metadata is left
    /// out: it exists only in the archive.
    pub fn source_paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        for m in self.members.iter().filter(|m| !self.is_generated(&m.path)) {
            paths.push(m.path.clone());
            if self.kind == Kind::Wheel {
                paths.push(format!("src/{}", m.path));
            }
        }
        paths
    }

    fn is_generated(&self, path: &str) -> bool {
        match self.kind {
            Kind::Sdist => path == "PKG-INFO",
            Kind::Wheel => path
                .split('/')
                .next()
                .is_some_and(|top| top.ends_with(".dist-info")),
        }
    }
}

/// What the check found in one artifact.
#[derive(Debug, PartialEq, Eq)]
pub struct Findings {
    /// Members that are release tooling.
    pub tooling: Vec<String>,
    /// Members that git ignores.
    pub ignored: Vec<String>,
    /// Top-level entries with their file counts, for the report.
    pub top_level: Vec<(String, usize)>,
}

/// The pure decision for one artifact: `ignored` is the set of source
/// paths git ignores (see [`Artifact::source_paths`]).
pub fn inspect(artifact: &Artifact, ignored: &[String]) -> Findings {
    let mut findings = Findings {
        tooling: Vec::new(),
        ignored: Vec::new(),
        top_level: Vec::new(),
    };
    for m in &artifact.members {
        let path = m.path.as_str();
        if TOOLING
            .iter()
            .any(|t| path == t.trim_end_matches('/') || (t.ends_with('/') && path.starts_with(t)))
        {
            findings.tooling.push(m.path.clone());
        } else if !artifact.is_generated(path)
            && (ignored.iter().any(|i| i == path)
                || (artifact.kind == Kind::Wheel
                    && ignored.iter().any(|i| *i == format!("src/{path}"))))
        {
            findings.ignored.push(m.path.clone());
        }
        let top = match path.split_once('/') {
            Some((dir, _)) => format!("{dir}/"),
            None => path.to_string(),
        };
        match findings.top_level.iter_mut().find(|(t, _)| *t == top) {
            Some((_, n)) => *n += 1,
            None => findings.top_level.push((top, 1)),
        }
    }
    findings.top_level.sort();
    findings
}

/// The report line of one artifact: file count, size, top-level entries.
pub fn describe(artifact: &Artifact, findings: &Findings) -> String {
    let entries: Vec<String> = findings
        .top_level
        .iter()
        .map(|(t, n)| {
            if t.ends_with('/') {
                format!("{t} ({n})")
            } else {
                t.clone()
            }
        })
        .collect();
    format!(
        "{}: {} files, {}; ships {}",
        artifact.filename,
        artifact.members.len(),
        human_size(artifact.size),
        entries.join(", ")
    )
}

/// The refusal for the artifacts that carry what they must not, naming the
/// setting that fixes it for the project's build backend.
pub fn refusal(bad: &[(&Artifact, &Findings)], backend: &str) -> Option<String> {
    if bad
        .iter()
        .all(|(_, f)| f.tooling.is_empty() && f.ignored.is_empty())
    {
        return None;
    }
    let mut out = String::from("the built distributions carry files that must not ship:");
    let mut tops: Vec<String> = Vec::new();
    for (artifact, f) in bad {
        for (what, list) in [
            ("release tooling", &f.tooling),
            ("ignored by git", &f.ignored),
        ] {
            if list.is_empty() {
                continue;
            }
            let shown: Vec<String> = list.iter().take(5).map(|p| clip(p)).collect();
            let more = if list.len() > 5 {
                format!(" and {} more", list.len() - 5)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "\n  {} ({what}): {}{more}",
                artifact.filename,
                shown.join(", ")
            ));
            for p in list.iter() {
                let top = match p.split_once('/') {
                    Some((dir, _)) => format!("/{dir}"),
                    None => format!("/{p}"),
                };
                if !tops.contains(&top) {
                    tops.push(top);
                }
            }
        }
    }
    // The tooling in a fixed order, then the rest as found.
    let rank = |t: &String| {
        TOOLING
            .iter()
            .position(|k| format!("/{}", k.trim_end_matches('/')) == *t)
            .unwrap_or(TOOLING.len())
    };
    tops.sort_by_key(rank);
    let quoted: Vec<String> = tops.iter().map(|t| format!("\"{}\"", clip(t))).collect();
    let list = quoted.join(", ");
    let fix = if backend.starts_with("hatchling") {
        format!(
            "exclude them in pyproject.toml: `[tool.hatch.build.targets.sdist] exclude = [{list}]` \
(and the same under `[tool.hatch.build.targets.wheel]` if the wheel carries them), or list \
what ships with `include = [...]`"
        )
    } else {
        format!(
            "exclude {list} from the distributions in the configuration of the build backend \
(`{}`) in pyproject.toml",
            clip(backend)
        )
    };
    out.push_str(&format!(
        "\nNothing was uploaded. Fix: {fix}; then release it under a new tag."
    ));
    Some(out)
}

/// `1.2 KB` style sizes (powers of 1024).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

// ---- readers ---------------------------------------------------------------

fn le16(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4)
        .map(|s| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
}

/// The members of a zip archive, from its central directory.
pub fn zip_members(bytes: &[u8]) -> Result<Vec<Member>, String> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const CENTRAL: u64 = 0x0201_4b50;
    // The end record is 22 bytes plus a comment of at most 64 KiB.
    let floor = bytes.len().saturating_sub(22 + 0xffff);
    let eocd = (floor..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..i + 4] == EOCD)
        .ok_or("no zip end-of-central-directory record")?;
    let count = le16(bytes, eocd + 10).ok_or("truncated end record")?;
    let offset = le32(bytes, eocd + 16).ok_or("truncated end record")?;
    if count == 0xffff || offset == 0xffff_ffff {
        return Err("zip64 archives are not supported".into());
    }
    let mut at = usize::try_from(offset).map_err(|_| "central directory offset too large")?;
    let mut members = Vec::new();
    for _ in 0..count {
        if le32(bytes, at) != Some(CENTRAL) {
            return Err(format!("no central directory header at byte {at}"));
        }
        let size = le32(bytes, at + 24).ok_or("truncated header")?;
        let name_len = le16(bytes, at + 28).ok_or("truncated header")? as usize;
        let extra = le16(bytes, at + 30).ok_or("truncated header")? as usize;
        let comment = le16(bytes, at + 32).ok_or("truncated header")? as usize;
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .ok_or("truncated file name")?;
        let name = String::from_utf8_lossy(name).into_owned();
        if !name.ends_with('/') {
            members.push(Member { path: name, size });
        }
        at += 46 + name_len + extra + comment;
    }
    Ok(members)
}

fn octal(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256: big-endian, the high bit of the first byte set.
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            n = n.checked_mul(256).ok_or("tar size overflows")? + u64::from(*b);
        }
        return Ok(n);
    }
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| format!("bad tar number {text:?}"))
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The `path` of a pax extended header (`len key=value\n` records).
fn pax_path(data: &[u8]) -> Option<String> {
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        let record = rest.get(space + 1..len)?;
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            return Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = rest.get(len..)?;
    }
    None
}

/// The members (regular files and links) of an uncompressed tar archive:
/// ustar, pax and GNU long names.
pub fn tar_members(bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut members = Vec::new();
    let mut at = 0;
    let mut long_name: Option<String> = None;
    while at + 512 <= bytes.len() {
        let header = &bytes[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let size = octal(&header[124..136])?;
        let kind = header[156];
        let data_len = usize::try_from(size).map_err(|_| "tar member too large")?;
        let data = bytes
            .get(at + 512..at + 512 + data_len)
            .ok_or_else(|| format!("truncated tar member at byte {at}"))?;
        let mut name = cstr(&header[..100]);
        if &header[257..262] == b"ustar" {
            let prefix = cstr(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        match kind {
            b'x' => long_name = pax_path(data).or(long_name),
            b'L' => long_name = Some(cstr(data)),
            b'g' | b'5' => {}
            _ => {
                let path = long_name.take().unwrap_or(name);
                members.push(Member { path, size });
            }
        }
        at += 512 + data_len.div_ceil(512) * 512;
    }
    if at < bytes.len() && at + 512 > bytes.len() {
        return Err(format!("truncated tar header at byte {at}"));
    }
    Ok(members)
}

/// Strips the sdist's single top-level `name-version/` folder.
fn strip_sdist_prefix(members: Vec<Member>) -> Vec<Member> {
    members
        .into_iter()
        .map(|m| {
            let path = m
                .path
                .trim_start_matches("./")
                .split_once('/')
                .map_or(m.path.as_str(), |(_, rest)| rest)
                .to_string();
            Member { path, ..m }
        })
        .filter(|m| !m.path.is_empty())
        .collect()
}

/// Reads one built distribution.
pub fn read(path: &Utf8Path) -> Result<Artifact> {
    let filename = path.file_name().unwrap_or(path.as_str()).to_string();
    let bytes = fs::read(path).with_context(|| format!("reading {path}"))?;
    let size = bytes.len() as u64;
    let (kind, members) = if filename.ends_with(".whl") {
        let members = zip_members(&bytes).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        (Kind::Wheel, members)
    } else if filename.ends_with(".tar.gz") {
        let mut tar = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .take(MAX_INFLATED)
            .read_to_end(&mut tar)
            .with_context(|| format!("inflating {path}"))?;
        let members = tar_members(&tar).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        (Kind::Sdist, strip_sdist_prefix(members))
    } else {
        bail!("{path} is neither an sdist (.tar.gz) nor a wheel (.whl)");
    };
    Ok(Artifact {
        filename,
        kind,
        size,
        members,
    })
}

/// Which of `paths` git ignores (tracked files never count).
fn git_ignored(sh: &Shell, paths: &[String]) -> Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = paths.join("\0");
    input.push('\0');
    let out = cmd!(sh, "git check-ignore -z --stdin")
        .stdin(input)
        .quiet()
        .ignore_status()
        .output()
        .context("asking git which packaged files it ignores")?;
    // 0: some ignored, 1: none; anything else is an error.
    if !matches!(out.status.code(), Some(0 | 1)) {
        bail!(
            "git check-ignore failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect())
}

/// The check step's contents check: reads each of `files` in `dist`,
/// prints one line per artifact, and refuses (bad input, before any
/// upload) tooling or git-ignored files. Returns the summary.
pub fn check(sh: &Shell, root: &Utf8Path, dist: &Utf8Path, files: &[String]) -> Result<String> {
    let artifacts = files
        .iter()
        .map(|f| read(&dist.join(f)))
        .collect::<Result<Vec<_>>>()?;
    let mut inspected = Vec::new();
    for artifact in &artifacts {
        let ignored = git_ignored(sh, &artifact.source_paths())?;
        let findings = inspect(artifact, &ignored);
        println!("    {}", describe(artifact, &findings));
        inspected.push((artifact, findings));
    }
    let pyproject = fs::read_to_string(root.join("pyproject.toml")).unwrap_or_default();
    let backend = build_backend(&pyproject);
    let pairs: Vec<(&Artifact, &Findings)> = inspected.iter().map(|(a, f)| (*a, f)).collect();
    if let Some(message) = refusal(&pairs, &backend) {
        bail!(BadInput(message));
    }
    let summary: Vec<String> = artifacts
        .iter()
        .map(|a| {
            let what = match a.kind {
                Kind::Sdist => "sdist",
                Kind::Wheel => "wheel",
            };
            format!("{what} {} files {}", a.members.len(), human_size(a.size))
        })
        .collect();
    Ok(summary.join(", "))
}

/// `[build-system].build-backend`, or "" when unreadable.
fn build_backend(pyproject: &str) -> String {
    pyproject
        .parse::<toml_edit::Document<String>>()
        .ok()
        .and_then(|d| {
            d.get("build-system")?
                .get("build-backend")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(path: &str) -> Member {
        Member {
            path: path.into(),
            size: 10,
        }
    }

    fn artifact(kind: Kind, paths: &[&str]) -> Artifact {
        Artifact {
            filename: match kind {
                Kind::Sdist => "pkg-1.0.0.tar.gz".into(),
                Kind::Wheel => "pkg-1.0.0-py3-none-any.whl".into(),
            },
            kind,
            size: 360_448,
            members: paths.iter().map(|p| member(p)).collect(),
        }
    }

    #[test]
    fn tooling_is_refused_and_chosen_content_reported() {
        let sdist = artifact(
            Kind::Sdist,
            &[
                "PKG-INFO",
                "pyproject.toml",
                ".github/workflows/cd.yml",
                "src/pkg/__init__.py",
                "xtask/src/main.rs",
                ".cargo/config.toml",
                "Cargo.toml",
                "Cargo.lock",
                "tools/requirements.lock",
                "target/x",
                "xtaskish.txt",
                "Cargo.toml.orig",
            ],
        );
        let f = inspect(&sdist, &[]);
        assert_eq!(
            f.tooling,
            [
                "xtask/src/main.rs",
                ".cargo/config.toml",
                "Cargo.toml",
                "Cargo.lock",
                "tools/requirements.lock",
                "target/x"
            ]
        );
        assert!(f.ignored.is_empty());
        assert!(f.top_level.contains(&(".github/".into(), 1)));
        let line = describe(&sdist, &f);
        assert!(line.contains("12 files, 352.0 KB"), "{line}");
        assert!(line.contains(".github/ (1)"), "{line}");
        let message = refusal(&[(&sdist, &f)], "hatchling.build").unwrap_or_default();
        assert!(
            message.contains("[tool.hatch.build.targets.sdist] exclude = [\"/xtask\", \"/.cargo\", \"/target\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]"),
            "{message}"
        );
        assert!(message.contains("Nothing was uploaded"), "{message}");
        let other = refusal(&[(&sdist, &f)], "setuptools.build_meta").unwrap_or_default();
        assert!(other.contains("`setuptools.build_meta`"), "{other}");
    }

    #[test]
    fn a_clean_artifact_passes_with_its_report() {
        let sdist = artifact(
            Kind::Sdist,
            &["PKG-INFO", ".github/ci.yml", "src/pkg/a.py", "README.md"],
        );
        let f = inspect(&sdist, &[]);
        assert_eq!(refusal(&[(&sdist, &f)], "hatchling.build"), None);
    }

    #[test]
    fn git_ignored_members_are_refused_generated_metadata_is_not() {
        let wheel = artifact(
            Kind::Wheel,
            &[
                "pkg/__init__.py",
                "pkg/__pycache__/a.cpython-312.pyc",
                "pkg-1.0.0.dist-info/METADATA",
            ],
        );
        assert_eq!(
            wheel.source_paths(),
            [
                "pkg/__init__.py",
                "src/pkg/__init__.py",
                "pkg/__pycache__/a.cpython-312.pyc",
                "src/pkg/__pycache__/a.cpython-312.pyc"
            ]
        );
        let f = inspect(
            &wheel,
            &[
                "src/pkg/__pycache__/a.cpython-312.pyc".into(),
                "pkg-1.0.0.dist-info/METADATA".into(),
            ],
        );
        assert_eq!(f.ignored, ["pkg/__pycache__/a.cpython-312.pyc"]);
        let message = refusal(&[(&wheel, &f)], "hatchling.build").unwrap_or_default();
        assert!(message.contains("(ignored by git)"), "{message}");
        let sdist = artifact(Kind::Sdist, &["PKG-INFO", "site/index.html"]);
        let f = inspect(&sdist, &["PKG-INFO".into(), "site/index.html".into()]);
        assert_eq!(f.ignored, ["site/index.html"]);
    }

    #[test]
    fn sizes_read_like_a_person_would() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(475 * 1024), "475.0 KB");
        assert_eq!(human_size(3 << 20), "3.0 MB");
    }

    /// A minimal tar header for `name` with `size` bytes of data.
    fn tar_entry(name: &str, kind: u8, data: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        let size = format!("{:011o}\0", data.len());
        h[124..136].copy_from_slice(size.as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        let mut out = h;
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    #[test]
    fn tar_headers_ustar_pax_and_gnu_long_names() {
        let long = format!("pkg-1.0.0/{}/file.txt", "d".repeat(120));
        let pax = format!("path={long}\n");
        // A pax record counts its own length digits.
        let mut n = pax.len() + 2;
        let record = loop {
            let r = format!("{n} {pax}");
            if r.len() == n {
                break r;
            }
            n = r.len();
        };
        let mut tar = Vec::new();
        tar.extend(tar_entry("pkg-1.0.0/", b'5', b""));
        tar.extend(tar_entry(
            "pkg-1.0.0/PKG-INFO",
            b'0',
            b"Metadata-Version: 2.4\n",
        ));
        tar.extend(tar_entry("././@PaxHeader", b'x', record.as_bytes()));
        tar.extend(tar_entry("pkg-1.0.0/ddd", b'0', b"x"));
        tar.extend(tar_entry(
            "././@LongLink",
            b'L',
            b"pkg-1.0.0/xtask/long-gnu-name.rs\0",
        ));
        tar.extend(tar_entry("pkg-1.0.0/xtask/long-gnu", b'0', b"yy"));
        tar.extend(vec![0u8; 1024]);
        let members = strip_sdist_prefix(tar_members(&tar).expect("parses"));
        let paths: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "PKG-INFO",
                &long["pkg-1.0.0/".len()..],
                "xtask/long-gnu-name.rs"
            ]
        );
        assert_eq!(members[0].size, 22);
        assert!(tar_members(&tar[..700]).is_err());
    }

    #[test]
    fn zip_central_directory() {
        // Two entries and a directory, stored, written by hand.
        let mut zip = Vec::new();
        let mut central = Vec::new();
        for (name, data) in [
            ("pkg/", &b""[..]),
            ("pkg/a.py", b"print(1)\n"),
            ("b.txt", b"b"),
        ] {
            let offset = zip.len() as u32;
            zip.extend([0x50, 0x4b, 0x03, 0x04]);
            zip.extend([0u8; 14]);
            zip.extend((data.len() as u32).to_le_bytes());
            zip.extend((data.len() as u32).to_le_bytes());
            zip.extend((name.len() as u16).to_le_bytes());
            zip.extend(0u16.to_le_bytes());
            zip.extend(name.as_bytes());
            zip.extend(data);
            central.extend([0x50, 0x4b, 0x01, 0x02]);
            central.extend([0u8; 16]);
            central.extend((data.len() as u32).to_le_bytes());
            central.extend((data.len() as u32).to_le_bytes());
            central.extend((name.len() as u16).to_le_bytes());
            central.extend([0u8; 12]);
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let cd_offset = zip.len() as u32;
        let cd_len = central.len() as u32;
        zip.extend(central);
        zip.extend([0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        zip.extend(3u16.to_le_bytes());
        zip.extend(3u16.to_le_bytes());
        zip.extend(cd_len.to_le_bytes());
        zip.extend(cd_offset.to_le_bytes());
        zip.extend(0u16.to_le_bytes());
        let members = zip_members(&zip).expect("parses");
        assert_eq!(
            members,
            [
                Member {
                    path: "pkg/a.py".into(),
                    size: 9
                },
                Member {
                    path: "b.txt".into(),
                    size: 1
                }
            ]
        );
        assert!(zip_members(b"not a zip").is_err());
        assert!(zip_members(&zip[..zip.len() - 30]).is_err());
    }
}
