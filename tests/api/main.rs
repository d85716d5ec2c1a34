//! Integration tests: the real server over a real store, every test on SQLite and PostgreSQL.

mod helpers;

mod attendees;
mod audit;
mod auth;
mod console;
mod crash;
mod departments;
mod events;
mod evidence;
mod foundation;
mod hardening_infra;
mod hierarchy;
mod hostile;
mod instances;
mod outage;
mod plans;
mod process;
mod registry;
mod replica;
mod reports;
mod reports_compare;
mod reports_exports;
mod webhooks;
