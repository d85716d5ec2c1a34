//! Evidence: the files (photos, sign-in sheets, programmes, press releases) and links that show
//! an event happened, kept in the database beside it so a commission can check the figures.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
