//! Values: a release `Tag` (`vX.Y.Z`) and a docs `Series` (`X.Y`).
//!
//! Parsed once, strictly, at the edge; everything downstream takes these
//! types, never raw strings.

use std::fmt;

use crate::input::BadInput;

/// A release tag `vX.Y.Z`: three numbers, no leading zeros, no suffix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(semver::Version);

const TAG_FORM: &str = "expected a release tag vX.Y.Z such as v0.7.0 \
(three numbers, no leading zeros, no pre-release or build suffix)";

impl Tag {
    pub fn parse(input: &str) -> Result<Tag, BadInput> {
        let bad = |why: &str| {
            BadInput(format!(
                "invalid release tag `{}`: {why}; {TAG_FORM}",
                crate::input::clip(input)
            ))
        };
        let Some(rest) = input.strip_prefix('v') else {
            return Err(bad("it must start with a lowercase `v`"));
        };
        if let Some(c) = rest.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
            let why = match c {
                '-' => "pre-release suffixes are not released".to_string(),
                '+' => "build metadata is not allowed".to_string(),
                c if c.is_whitespace() || c.is_control() => {
                    "it contains whitespace or a control character".to_string()
                }
                c => format!("unexpected character `{}`", c.escape_debug()),
            };
            return Err(bad(&why));
        }
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.len() != 3 {
            return Err(bad(&format!(
                "it has {} numeric components, not 3",
                parts.len()
            )));
        }
        let mut numbers = [0u64; 3];
        for (number, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() {
                return Err(bad("a component is empty"));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(bad(&format!(
                    "`{}` has a leading zero",
                    crate::input::clip(part)
                )));
            }
            *number = part.parse().map_err(|_| {
                bad(&format!(
                    "`{}` is too large for a version number",
                    crate::input::clip(part)
                ))
            })?;
        }
        let [major, minor, patch] = numbers;
        Ok(Tag(semver::Version::new(major, minor, patch)))
    }

    /// Like `parse`, but `None` for anything that is not a release tag
    /// (used when scanning `git tag` output, which holds other tags too).
    pub fn from_git(name: &str) -> Option<Tag> {
        Tag::parse(name).ok()
    }

    pub fn version_ref(&self) -> &semver::Version {
        &self.0
    }

    /// The version as `pyproject.toml` spells it (PEP 440 `X.Y.Z`).
    pub fn pep440(&self) -> String {
        self.0.to_string()
    }

    pub fn series(&self) -> Series {
        Series {
            major: self.0.major,
            minor: self.0.minor,
        }
    }

    /// The next patch release, e.g. for a corrected release.
    pub fn next_patch(&self) -> Tag {
        let v = &self.0;
        Tag(semver::Version::new(
            v.major,
            v.minor,
            v.patch.saturating_add(1),
        ))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A docs series `X.Y`: one docs version per minor release line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Series {
    pub major: u64,
    pub minor: u64,
}

impl Series {
    /// Accepts `0.7`, `v0.7`, `0.7.3` and `v0.7.3`: all mean series `0.7`.
    pub fn parse(input: &str) -> Result<Series, BadInput> {
        let bad = |why: &str| {
            BadInput(format!(
                "invalid docs series `{}`: {why}; expected X.Y, vX.Y, X.Y.Z or a tag vX.Y.Z \
(e.g. 0.7 or v0.7.3)",
                crate::input::clip(input)
            ))
        };
        let rest = input.strip_prefix('v').unwrap_or(input);
        let parts: Vec<&str> = rest.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("it needs two or three numeric components"));
        }
        let mut numbers = [0u64; 3];
        for (number, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("`{}` is not a number", part.escape_debug())));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(bad(&format!(
                    "`{}` has a leading zero",
                    crate::input::clip(part)
                )));
            }
            *number = part
                .parse()
                .map_err(|_| bad(&format!("`{part}` is too large")))?;
        }
        Ok(Series {
            major: numbers[0],
            minor: numbers[1],
        })
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_tags() {
        for input in [
            "v0.7.0",
            "v0.7.3",
            "v1.0.0",
            "v10.20.30",
            "v0.0.0",
            "v18446744073709551615.0.1",
        ] {
            let tag = Tag::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(tag.to_string(), input);
            assert_eq!(format!("v{}", tag.pep440()), input);
        }
    }

    /// The malformed-tag corpus: each is refused with a reason and the
    /// expected form.
    pub const MALFORMED_TAGS: &[(&str, &str)] = &[
        ("", "must start with a lowercase `v`"),
        ("v", "1 numeric components"),
        ("0.7.0", "must start with a lowercase `v`"),
        ("V0.7.0", "must start with a lowercase `v`"),
        ("vv0.7.0", "unexpected character `v`"),
        ("v0.7", "2 numeric components"),
        ("v0", "1 numeric components"),
        ("v0.7.0.1", "4 numeric components"),
        ("v0.7.", "a component is empty"),
        ("v.7.0", "a component is empty"),
        ("v0..0", "a component is empty"),
        ("v00.7.0", "`00` has a leading zero"),
        ("v0.07.0", "`07` has a leading zero"),
        ("v0.7.01", "`01` has a leading zero"),
        ("v0.7.0-rc1", "pre-release"),
        ("v0.7.0-alpha.1", "pre-release"),
        ("v0.7.0+build5", "build metadata"),
        ("v0.7.0+", "build metadata"),
        ("v0.7.0 ", "whitespace"),
        (" v0.7.0", "must start with a lowercase `v`"),
        ("v0.7.0\n", "whitespace"),
        ("v0.7.0\t", "whitespace"),
        ("v0.7\u{0}.0", "control character"),
        ("v0.7.0\u{1b}[31m", "control character"),
        ("v0. 7.0", "whitespace"),
        ("v0.7.x", "unexpected character `x`"),
        ("v0.7.*", "unexpected character `*`"),
        ("v1.2.3;rm -rf /", "unexpected character `;`"),
        ("v1.2.3$(id)", "unexpected character `$`"),
        ("v1.2.3`id`", "unexpected character"),
        ("v１.2.3", "unexpected character `１`"),
        ("v0.7.0\u{200b}", "unexpected character"),
        ("v18446744073709551616.0.0", "too large"),
        ("v0.99999999999999999999.0", "too large"),
        ("refs/tags/v0.7.0", "must start with a lowercase `v`"),
        ("latest", "must start with a lowercase `v`"),
        ("release-0.7.0", "must start with a lowercase `v`"),
        ("v-1.0.0", "pre-release"),
        ("v0.7.0.", "4 numeric components"),
        ("v0,7,0", "unexpected character `,`"),
        ("v0_7_0", "unexpected character `_`"),
        ("Release v0.7.0", "must start with a lowercase `v`"),
    ];

    #[test]
    fn malformed_tags_are_refused_with_the_reason_and_expected_form() {
        assert!(MALFORMED_TAGS.len() >= 40);
        for (input, reason) in MALFORMED_TAGS {
            let err = match Tag::parse(input) {
                Ok(tag) => panic!("`{}` was accepted as {tag}", input.escape_debug()),
                Err(e) => e.0,
            };
            assert!(err.contains(reason), "`{}`: {err}", input.escape_debug());
            assert!(err.contains("expected a release tag vX.Y.Z"), "{err}");
            assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err:?}");
        }
    }

    #[test]
    fn tags_order_numerically() {
        let parse = |s| Tag::parse(s).expect("valid");
        assert!(parse("v0.10.0") > parse("v0.9.9"));
        assert!(parse("v1.0.0") > parse("v0.99.99"));
        assert_eq!(parse("v0.7.3").next_patch(), parse("v0.7.4"));
    }

    #[test]
    fn series_spellings() {
        for input in ["0.7", "v0.7", "0.7.3", "v0.7.3", "0.7.0"] {
            assert_eq!(
                Series::parse(input).map(|s| s.to_string()).ok().as_deref(),
                Some("0.7"),
                "{input}"
            );
        }
        for input in [
            "latest", "1", "0.7.x", "", "v", "0.07", "0.7.3.1", "0.7-rc", " 0.7", "vv0.7",
        ] {
            let err = Series::parse(input).err().map(|e| e.0).unwrap_or_default();
            assert!(err.contains("expected X.Y"), "{input}: {err}");
        }
        assert!(Series::parse("1.0").ok() > Series::parse("0.10").ok());
        assert_eq!(
            Tag::parse("v0.7.3").map(|t| t.series()).ok(),
            Series::parse("0.7").ok()
        );
    }
}
