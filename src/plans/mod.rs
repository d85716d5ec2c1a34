//! Action plans: the year's plan and its numbered items, which events fulfil.

pub mod store;
