//! Events: the registry itself — what was run, by whom, for whom, and who came.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
