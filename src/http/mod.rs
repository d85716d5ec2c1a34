//! HTTP plumbing shared by every resource: the request context and its middleware, body parsing,
//! ETags and preconditions, cursor pages, JSON Merge Patch, idempotent writes and the route table.

pub mod body;
pub mod etag;
pub mod explain;
pub mod idempotency;
pub mod merge_patch;
pub mod page;
pub mod path_text;
pub mod query;
pub mod request_ctx;
pub mod routes;
pub mod write;
