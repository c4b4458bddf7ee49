//! The pure half of `docs-deploy`: what the SERIES argument names, whether
//! it may be deployed, and, from the site read, what one attempt deploys
//! and the exact mike calls that do it. Nothing here reads or runs.

use super::deploy::DeployOptions;
use super::site::DocsState;
use crate::docs_versions::{
    self as versions, AliasKind, DeployInput, DeployPlan, DocsVersion, Mark, LATEST, UNRELEASED,
};
use crate::input::{clip, BadInput, CLIP};
use crate::version::{Series, Tag};

/// What a SERIES argument names: a series built from the working tree, or
/// a release whose release commit is built.
#[derive(Debug, PartialEq)]
pub(super) enum Source {
    Tree(Series),
    Tag(Tag),
}

impl Source {
    pub(super) fn parse(input: &str) -> Result<Source, BadInput> {
        if input.chars().count() > CLIP {
            return Err(BadInput(format!(
                "invalid docs series `{}`: expected X.Y, vX.Y, X.Y.Z or a tag vX.Y.Z (e.g. 0.7 \
or v0.7.3)",
                clip(input)
            )));
        }
        // `vX.Y.Z` is a tag; `X.Y`, `vX.Y` and `X.Y.Z` name a series.
        if input.starts_with('v') && input.matches('.').count() == 2 {
            return Tag::parse(input).map(Source::Tag);
        }
        Series::parse(input).map(Source::Tree)
    }

    pub(super) fn series(&self) -> Series {
        match self {
            Source::Tree(s) => *s,
            Source::Tag(t) => t.series(),
        }
    }
}

/// Only released series get docs, unless `--unreleased` says otherwise.
pub(super) fn check_released(
    series: Series,
    released: &[Series],
    unreleased: bool,
    remote: &str,
) -> Result<(), BadInput> {
    if !unreleased && !versions::is_released(series, released) {
        return Err(BadInput(format!(
            "series {series} is not released: no release tag v{series}.N here or on {} and \
pyproject.toml's version is not in it; release it first, or pass --unreleased to deploy it \
without `{LATEST}` or the site default",
            clip(remote)
        )));
    }
    Ok(())
}

/// One attempt's plan: the deploy, the alias type it keeps, and the mike
/// calls that carry it out.
pub(super) struct Planned {
    pub(super) plan: DeployPlan,
    pub(super) kind: AliasKind,
    pub(super) calls: MikeCalls,
    /// versions.json with each alias on one version, committed before mike
    /// runs (mike refuses to read one alias on two versions).
    pub(super) repaired_versions: Option<Vec<DocsVersion>>,
}

impl Planned {
    /// The site default once the plan is carried out.
    pub(super) fn default_after<'a>(&self, state: &'a DocsState) -> Option<&'a str> {
        if self.plan.set_default {
            Some(LATEST)
        } else {
            state.default.as_deref()
        }
    }
}

/// The arguments of each mike call, in the order they run.
#[derive(Debug, PartialEq)]
pub(super) struct MikeCalls {
    pub(super) deploy: Vec<String>,
    /// Moves `latest-release` to the series that should hold it.
    pub(super) repair: Option<Vec<String>>,
    pub(super) set_default: Option<Vec<String>>,
}

pub(super) fn plan_attempt(
    state: &DocsState,
    opts: &DeployOptions,
    series: Series,
    released: &[Series],
) -> Result<Planned, BadInput> {
    let plan = versions::plan_deploy(
        &state.versions,
        &DeployInput {
            series,
            released: !opts.unreleased || versions::is_released(series, released),
            released_series: released,
            empty_spelling: opts.spelling,
            default: state.default.as_deref(),
        },
    )?;
    let kind = versions::site_alias_kind(&state.aliases, AliasKind::from_setting(opts.alias_type));
    let calls = mike_calls(&plan, kind, &opts.branches.remote, &opts.branches.docs);
    Ok(Planned {
        plan,
        kind,
        calls,
        repaired_versions: versions::unique_aliases(&state.versions),
    })
}

/// mike works on the local branch only; the xtask pushes once itself.
fn on_branch(command: &str, remote: &str, docs: &str) -> Vec<String> {
    vec![
        command.into(),
        "--ignore-remote-status".into(),
        "--remote".into(),
        remote.into(),
        "--branch".into(),
        docs.into(),
    ]
}

pub(super) fn mike_calls(
    plan: &DeployPlan,
    kind: AliasKind,
    remote: &str,
    docs: &str,
) -> MikeCalls {
    let mut deploy = on_branch("deploy", remote, docs);
    deploy.extend(["--alias-type".into(), kind.as_mike().into()]);
    match plan.mark {
        Mark::Set => deploy.extend(["--prop-set".into(), format!("{UNRELEASED}=true")]),
        Mark::Clear => deploy.extend(["--prop-delete".into(), UNRELEASED.into()]),
        Mark::Keep => {}
    }
    deploy.push("--update-aliases".into());
    deploy.push(plan.name.clone());
    if plan.latest {
        deploy.push(LATEST.into());
    }
    let repair = plan.repair.as_ref().map(|target| {
        let mut args = on_branch("alias", remote, docs);
        args.extend([
            "--alias-type".into(),
            kind.as_mike().into(),
            "--update-aliases".into(),
            target.clone(),
            LATEST.into(),
        ]);
        args
    });
    let set_default = plan.set_default.then(|| {
        let mut args = on_branch("set-default", remote, docs);
        args.push(LATEST.into());
        args
    });
    MikeCalls {
        deploy,
        repair,
        set_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(mark: Mark, latest: bool, repair: Option<&str>, set_default: bool) -> DeployPlan {
        DeployPlan {
            name: "0.7".into(),
            latest,
            repair: repair.map(str::to_string),
            was: None,
            target: None,
            mark,
            set_default,
            after: Vec::new(),
        }
    }

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn a_series_argument_names_a_tree_series_or_a_tag() {
        let series = Series::parse("0.7").unwrap();
        assert_eq!(Source::parse("0.7"), Ok(Source::Tree(series)));
        assert_eq!(Source::parse("v0.7"), Ok(Source::Tree(series)));
        let tag = Source::parse("v0.7.3").unwrap();
        assert!(matches!(tag, Source::Tag(_)));
        assert_eq!(tag.series(), series);
        assert!(Source::parse(&"9".repeat(CLIP + 1))
            .is_err_and(|e| e.0.starts_with("invalid docs series")));
    }

    #[test]
    fn mike_calls_keep_the_branch_local_and_name_every_alias() {
        let calls = mike_calls(
            &plan(Mark::Keep, true, None, false),
            AliasKind::Symlink,
            "origin",
            "docs",
        );
        let head = "--ignore-remote-status --remote origin --branch docs";
        assert_eq!(
            calls.deploy,
            words(&format!(
                "deploy {head} --alias-type symlink --update-aliases 0.7 {LATEST}"
            ))
        );
        assert_eq!((calls.repair, calls.set_default), (None, None));

        let calls = mike_calls(
            &plan(Mark::Set, false, Some("0.6"), true),
            AliasKind::Redirect,
            "origin",
            "docs",
        );
        assert_eq!(
            calls.deploy,
            words(&format!(
                "deploy {head} --alias-type redirect --prop-set {UNRELEASED}=true \
--update-aliases 0.7"
            ))
        );
        assert_eq!(
            calls.repair,
            Some(words(&format!(
                "alias {head} --alias-type redirect --update-aliases 0.6 {LATEST}"
            )))
        );
        assert_eq!(
            calls.set_default,
            Some(words(&format!("set-default {head} {LATEST}")))
        );
        let cleared = mike_calls(
            &plan(Mark::Clear, false, None, false),
            AliasKind::Symlink,
            "origin",
            "docs",
        );
        assert!(cleared
            .deploy
            .windows(2)
            .any(|w| w[0] == "--prop-delete" && w[1] == UNRELEASED));
    }

    #[test]
    fn only_released_series_deploy_unless_asked() {
        let (s07, s06) = (Series::parse("0.7").unwrap(), Series::parse("0.6").unwrap());
        assert_eq!(check_released(s07, &[s07], false, "origin"), Ok(()));
        assert_eq!(check_released(s07, &[s06], true, "origin"), Ok(()));
        assert!(check_released(s07, &[s06], false, "origin")
            .is_err_and(|e| e.0.starts_with("series 0.7 is not released")));
    }
}
