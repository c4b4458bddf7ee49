//! The verify step: poll the index, within a bounded wait, until every
//! built file is listed with its sha256.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::{input_refusal, Release};
use crate::index::Publication;
use crate::release_rules;
use crate::ui;

impl Release<'_> {
    pub(super) fn verify(&mut self) -> Result<String> {
        if self.opts.dry_run {
            ui::would("poll the index until every built file is listed with its sha256");
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let timeout = match self.sh.var("XTASK_VERIFY_TIMEOUT") {
            Ok(value) => release_rules::parse_timeout("XTASK_VERIFY_TIMEOUT", &value)?,
            Err(_) => Duration::from_secs(120),
        };
        let uploaded = self.uploaded || self.uploaded_marker()?.exists();
        let start = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            // A failed read is retried within the bound: the index may be
            // briefly unavailable right after an upload.
            let last = match self.publication(&local) {
                Ok(Publication::Complete) => {
                    return Ok(format!(
                        "{} file(s) listed with matching sha256",
                        local.len()
                    ))
                }
                Ok(Publication::Absent) => "no file of the version listed".to_string(),
                Ok(Publication::Partial { missing, .. }) => {
                    format!("not listed yet: {}", missing.join(", "))
                }
                Err(err) if input_refusal(&err) => return Err(err),
                Err(err) => format!("{err:#}"),
            };
            if start.elapsed() >= timeout {
                let tag = self.tag();
                if uploaded {
                    bail!(
                        "{tag} was uploaded, not yet listed: after {} the index still shows \
{last}. It is published (not reverted); resume with `cargo xtask release {tag}` (or \
`--step verify`) once the index lists it",
                        ui::seconds(start.elapsed())
                    );
                }
                bail!(
                    "after {} the index does not list {tag} ({last}): publish it first \
(`cargo xtask release {tag}`)",
                    ui::seconds(start.elapsed())
                );
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
