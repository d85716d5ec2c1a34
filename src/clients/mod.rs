//! Clients: other city systems, each of one department, with explicit scopes and a secret shown
//! only once.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
