//! GitHub: the release event, the REST API, trusted publishing and
//! Actions output, one module each.

mod actions;
mod api;
mod event;
mod oidc;

pub use actions::*;
pub use api::*;
pub use event::*;
pub use oidc::*;
