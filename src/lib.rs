//! Adal: a registry of anti-corruption outreach events, served as a REST API over SQLite or
//! PostgreSQL.

pub mod accounts;
pub mod attendees;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod change;
pub mod cli;
pub mod clients;
pub mod config;
pub mod console;
pub mod departments;
pub mod error;
pub mod events;
pub mod evidence;
pub mod health;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod plans;
pub mod registry;
pub mod reports;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod text;
pub mod time;
pub mod version;
pub mod webhooks;
pub mod write;

#[cfg(test)]
mod import_cycles;
