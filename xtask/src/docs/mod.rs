//! `cargo xtask docs-deploy`, `docs-list` and `docs-rollback`: versioned
//! docs with mike on the docs branch, with the rules mike does not enforce:
//! the site's own spelling and alias type, only released series,
//! `latest-release` on the newest one, the remote exactly as planned, and
//! no history rewrite.
//!
//! Every command reads the remote docs branch first (`ls-remote` is the
//! truth; a stale tracking ref is pruned), plans from it, and lets mike
//! commit on the local docs branch without pushing; the xtask pushes the
//! result once and checks that the remote holds exactly that commit.

mod deploy;
mod deploy_checks;
mod deploy_plan;
mod guard;
mod list;
mod push;
mod restore;
mod rollback;
mod rollback_plan;
mod show;
mod site;
mod worktree;

pub use crate::settings::Branches;
pub use deploy::{deploy, DeployOptions};
pub use list::list;
pub use rollback::{rollback, RollbackOptions};
pub use site::read_docs;
