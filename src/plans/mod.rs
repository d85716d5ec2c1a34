//! Action plans: the year's plan and its numbered items, which events fulfil. An item's status is
//! derived from the held events linked to it whenever it is read, never stored.

pub mod domain;
pub mod http;
pub mod model;
pub mod store;
