//! Departments: the organisational units that run events and own accounts and clients.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
