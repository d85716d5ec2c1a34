//! Integration tests: the real server over a real store, every test on SQLite and PostgreSQL.

mod helpers;

mod attendees;
mod audit;
mod auth;
mod departments;
mod events;
mod foundation;
mod plans;
mod reports;
