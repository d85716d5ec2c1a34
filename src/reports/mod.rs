//! Reports: the figures the commission acts on, aggregated in the store over a period of local
//! days, and answered as JSON, CSV or XLSX from the same values.

pub mod compute;
pub mod export;
pub mod http;
pub mod model;
pub mod replica;
pub mod store;
pub mod tables;
pub mod words;
