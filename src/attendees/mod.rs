//! Named attendees of events: added by JSON batch or a whole sign-in sheet (CSV or XLSX), listed,
//! removed, and erased per person — identified by a keyed hash of the IIN, never the IIN itself.

pub mod domain;
pub mod http;
pub mod iin;
pub mod model;
pub mod sheet;
pub mod store;
