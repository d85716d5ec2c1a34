//! The delivery worker's doorbell, rung by the write path after a write that queued messages
//! commits, so this instance delivers them at once rather than at its next look. Other instances
//! find them when they next look (`ADAL_WEBHOOK_…` poll interval, a second).

use tokio::sync::Notify;

pub(super) static WAKE: Notify = Notify::const_new();

pub fn wake() {
    WAKE.notify_one();
}
