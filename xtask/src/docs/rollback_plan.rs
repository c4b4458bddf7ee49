//! The pure half of `docs-rollback`: which deploy a rollback undoes, the
//! trailer that records it, versions.json after it, and the paths taken
//! from the restored state. Nothing here reads or runs.

use crate::docs_versions::{mike_order, resolves, DocsVersion, LATEST};
use crate::input::BadInput;

/// The version list after rolling `name` back to its state in `target`
/// (`None`: the series did not exist then, so it is deleted). The series
/// keeps the aliases it holds now (`latest-release` stays where it is);
/// other versions stay as they are. Refused when `latest-release` or the
/// site default would point at nothing.
pub(super) fn after_rollback(
    current: &[DocsVersion],
    target: Option<&DocsVersion>,
    name: &str,
    default: Option<&str>,
) -> Result<Vec<DocsVersion>, BadInput> {
    let mut out: Vec<DocsVersion> = current.iter().filter(|v| v.name != name).cloned().collect();
    if let Some(t) = target {
        let mut restored = t.clone();
        restored.aliases = current
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.aliases.clone())
            .unwrap_or_default();
        out.push(restored);
    }
    mike_order(&mut out);
    if resolves(current, LATEST) && !resolves(&out, LATEST) {
        return Err(BadInput(format!(
            "rolling back {name} would delete it, and `{LATEST}` names it: deploy the \
previous release's docs instead (`cargo xtask docs-deploy vX.Y.Z`), or roll back with --to \
a docs commit where {name} existed"
        )));
    }
    if let Some(default) = default {
        if resolves(current, default) && !resolves(&out, default) {
            return Err(BadInput(format!(
                "rolling back {name} would leave the site's default `{default}` pointing at \
nothing: deploy a version for it first"
            )));
        }
    }
    Ok(out)
}

/// The trailer a rollback commit records the deploy it undid in.
pub(super) const UNDID: &str = "Xtask-Rollback-Undid";

/// One commit of the docs branch that changed a series' directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SeriesCommit {
    pub commit: String,
    pub parent: Option<String>,
    pub message: String,
}

/// The deploy a rollback commit undid, from its message's trailer.
pub(super) fn undid(message: &str) -> Option<&str> {
    message
        .lines()
        .find_map(|l| l.strip_prefix(UNDID)?.strip_prefix(':'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// What rolling a series back (without `--to`) does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RollbackPlan {
    /// Undo the deploy `undo`: restore the state of its parent `to`
    /// (`None`: the first commit of the branch, so the series goes away).
    Restore { undo: String, to: Option<String> },
    /// The last deploy was undone already, by `by`.
    AlreadyUndone { deploy: String, by: String },
}

/// `history`: the commits that changed the series, newest first. The last
/// deploy is the newest one that is not a rollback; a rollback of it
/// already on the branch makes this a no-op, so rolling back twice never
/// puts the undone deploy back.
pub(super) fn plan_rollback(
    name: &str,
    history: &[SeriesCommit],
) -> Result<RollbackPlan, BadInput> {
    let Some(at) = history.iter().position(|c| undid(&c.message).is_none()) else {
        return Err(BadInput(format!(
            "the docs branch has no deploy of {name} to roll back"
        )));
    };
    let deploy = &history[at];
    if let Some(by) = history[..at]
        .iter()
        .find(|c| undid(&c.message) == Some(deploy.commit.as_str()))
    {
        return Ok(RollbackPlan::AlreadyUndone {
            deploy: deploy.commit.clone(),
            by: by.commit.clone(),
        });
    }
    Ok(RollbackPlan::Restore {
        undo: deploy.commit.clone(),
        to: deploy.parent.clone(),
    })
}

/// For a series no longer on the site, `(deploy, by)` when the newest
/// commit that changed its directory is a rollback (it deleted the
/// series, undoing `deploy`): rolling back again is then a no-op.
pub(super) fn deleted_by_rollback(history: &[SeriesCommit]) -> Option<(String, String)> {
    let newest = history.first()?;
    undid(&newest.message).map(|deploy| (deploy.to_string(), newest.commit.clone()))
}

/// The message of a rollback commit, with the trailer `plan_rollback` reads.
pub(super) fn rollback_message(name: &str, undo: &str, to: Option<&str>) -> String {
    let short = |c: &str| c[..c.len().min(10)].to_string();
    let what = match to {
        Some(t) => format!("Roll back docs {name} to {}", short(t)),
        None => format!("Delete docs {name} (roll back its only deploy)"),
    };
    format!(
        "{what}\n\n{UNDID}: {undo}\nXtask-Rollback-To: {}\n",
        to.unwrap_or("none")
    )
}

/// The newest deploy in `history` (not itself a rollback), else `head`.
pub(super) fn last_deploy(history: &[SeriesCommit], head: &str) -> String {
    history
        .iter()
        .find(|c| undid(&c.message).is_none())
        .map(|c| c.commit.clone())
        .unwrap_or_else(|| head.to_string())
}

/// Aliases the series keeps: restored from the target where it held them
/// there too, else left as they are.
pub(super) fn restored_paths(
    name: &str,
    current: Option<&DocsVersion>,
    target: Option<&DocsVersion>,
) -> Vec<String> {
    let mut paths = vec![name.to_string()];
    match (target, current) {
        (Some(t), Some(c)) => {
            paths.extend(c.aliases.iter().filter(|a| t.aliases.contains(a)).cloned())
        }
        (None, Some(c)) => paths.extend(c.aliases.iter().cloned()),
        _ => {}
    }
    paths
}

/// `git log` records (`%H`, `%P`, `%B`, split by `\x1f`, ended by `\x1e`).
pub(super) fn parse_series_log(out: &str) -> Vec<SeriesCommit> {
    out.split('\x1e')
        .filter_map(|record| {
            let mut fields = record.trim_start_matches('\n').splitn(3, '\x1f');
            let commit = fields.next()?.trim().to_string();
            if commit.is_empty() {
                return None;
            }
            let parent = fields
                .next()
                .and_then(|p| p.split_whitespace().next())
                .map(str::to_string);
            Some(SeriesCommit {
                commit,
                parent,
                message: fields.next().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    #[test]
    fn a_series_deleted_by_a_rollback_is_rolled_back_already() {
        let commit = |c: &str, message: &str| SeriesCommit {
            commit: c.into(),
            parent: None,
            message: message.into(),
        };
        let deleted = commit("r1", &rollback_message("0.6", "d1", None));
        let deploy = commit("d1", "Deployed abc to 0.6 with MkDocs 1.6.1 and mike 2.2.0");
        assert_eq!(
            deleted_by_rollback(&[deleted.clone(), deploy.clone()]),
            Some(("d1".into(), "r1".into()))
        );
        // Deleted by hand (mike delete) after the rollback: not ours to skip.
        let by_hand = commit("m1", "Removed 0.6 with mike 2.2.0");
        assert_eq!(deleted_by_rollback(&[by_hand, deleted, deploy]), None);
        assert_eq!(deleted_by_rollback(&[]), None);
    }

    #[test]
    fn rollback_restores_one_entry_and_keeps_the_aliases() {
        let now = [v("1.0", &[LATEST]), v("0.7", &[])];
        // 0.7 had a title before its last deploy: only its entry changes.
        let mut old = v("0.7", &[]);
        old.title = "0.7 (old)".into();
        let after = after_rollback(&now, Some(&old), "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, vec![v("1.0", &[LATEST]), old.clone()]);
        // The first deploy of 0.7 rolled back: 0.7 goes away.
        let after = after_rollback(&now, None, "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, vec![v("1.0", &[LATEST])]);
        // 1.0 holds latest-release and would be deleted: refused.
        let err = after_rollback(&now, None, "1.0", Some(LATEST)).expect_err("refused");
        assert!(err.0.contains("`latest-release` names it"), "{err}");
        // 1.0 before it held latest-release: it keeps the alias it holds now.
        let after = after_rollback(&now, Some(&v("1.0", &[])), "1.0", Some(LATEST)).expect("ok");
        assert_eq!(after, now.to_vec());
        // A default that names a version directly is guarded too.
        let err = after_rollback(&now, None, "0.7", Some("0.7")).expect_err("refused");
        assert!(err.0.contains("site's default `0.7`"), "{err}");
        // An alias another version holds now is not taken back.
        let after =
            after_rollback(&now, Some(&v("0.7", &[LATEST])), "0.7", Some(LATEST)).expect("ok");
        assert_eq!(after, now.to_vec());
    }

    #[test]
    fn rolling_back_twice_never_redoes_the_undone_deploy() {
        let c = |commit: &str, parent: Option<&str>, message: &str| SeriesCommit {
            commit: commit.into(),
            parent: parent.map(str::to_string),
            message: message.into(),
        };
        let d1 = c("d1", None, "Deployed a to 0.7");
        let d2 = c("d2", Some("x"), "Deployed b to 0.7");
        assert_eq!(
            plan_rollback("0.7", &[d2.clone(), d1.clone()]),
            Ok(RollbackPlan::Restore {
                undo: "d2".into(),
                to: Some("x".into())
            })
        );
        let r = c("r1", Some("d2"), &rollback_message("0.7", "d2", Some("x")));
        assert_eq!(undid(&r.message), Some("d2"));
        assert_eq!(
            plan_rollback("0.7", &[r.clone(), d2.clone(), d1.clone()]),
            Ok(RollbackPlan::AlreadyUndone {
                deploy: "d2".into(),
                by: "r1".into()
            })
        );
        // A new deploy after the rollback is undone normally.
        let d3 = c("d3", Some("r1"), "Deployed c to 0.7");
        assert_eq!(
            plan_rollback("0.7", &[d3, r, d2, d1.clone()]),
            Ok(RollbackPlan::Restore {
                undo: "d3".into(),
                to: Some("r1".into())
            })
        );
        // The only deploy, the branch's first commit: a deletion.
        assert_eq!(
            plan_rollback("0.7", &[d1]),
            Ok(RollbackPlan::Restore {
                undo: "d1".into(),
                to: None
            })
        );
        assert!(plan_rollback("0.7", &[]).is_err());
        assert_eq!(undid("Deployed x\n\nSigned-off-by: a"), None);
    }

    #[test]
    fn a_rollback_restores_the_series_and_the_aliases_it_held_there() {
        let now = DocsVersion::plain("0.7", &["latest-release", "stable"]);
        let then = DocsVersion::plain("0.7", &["stable"]);
        assert_eq!(
            restored_paths("0.7", Some(&now), Some(&then)),
            ["0.7", "stable"]
        );
        assert_eq!(
            restored_paths("0.7", Some(&now), None),
            ["0.7", "latest-release", "stable"]
        );
        assert_eq!(restored_paths("0.7", None, None), ["0.7"]);
    }

    #[test]
    fn the_series_log_is_read_record_by_record() {
        let out = "aaa\x1fppp qqq\x1fDeployed 0.7\n\nbody\n\x1e\nbbb\x1f\x1fRoot\n\x1e\n";
        let log = parse_series_log(out);
        assert_eq!(log.len(), 2);
        assert_eq!(
            (log[0].commit.as_str(), log[0].parent.as_deref()),
            ("aaa", Some("ppp"))
        );
        assert_eq!(log[0].message, "Deployed 0.7\n\nbody\n");
        assert_eq!(
            (log[1].commit.as_str(), log[1].parent.as_deref()),
            ("bbb", None)
        );
        assert_eq!(last_deploy(&log, "head"), "aaa");
        assert_eq!(last_deploy(&[], "head"), "head");
    }
}
