//! HTTP plumbing shared by every resource: the request context and its middleware, body parsing,
//! ETags and preconditions, cursor pages, JSON Merge Patch, idempotent writes, the route table,
//! security headers and `HEAD`, and the stalled-body timeout.

pub mod body;
pub mod doc;
pub mod etag;
pub mod explain;
pub mod headers;
pub mod idempotency;
pub mod merge_patch;
pub mod page;
pub mod path_text;
pub mod query;
pub mod request_ctx;
pub mod routes;
pub mod stall;
pub mod write;
