//! What a versioned record is: one that `If-Match` names and every change raises. Its own module,
//! so the models that implement it need not import the write path that uses it.

use serde::Serialize;

/// A record with a version, which `If-Match` names and every change raises.
pub trait Versioned: Serialize {
    fn version(&self) -> i64;
}
