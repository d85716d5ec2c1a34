//! Accounts: the people who log in, each in one department with one role.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
