//! Webhooks: other city systems told of every change. A subscription names a URL and the types of
//! change it wants; each committed change writes its messages to an outbox in the change's own
//! transaction ([`outbox`]), and a worker in every instance delivers them, signed as Standard
//! Webhooks, retried on a schedule, and logged ([`worker`]).

pub mod domain;
pub mod http;
pub mod model;
pub mod outbox;
pub mod secret;
pub mod ssrf;
pub mod store;
pub mod wake;
pub mod worker;
