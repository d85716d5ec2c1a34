//! Password hashing: Argon2id at OWASP's parameters (19 MiB, t=2, p=1), the crate's defaults.

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Semaphore;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::{ApiError, FieldError};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

/// Hashes on the calling thread: for the command line and the first start, one at a time.
/// Handlers use [`hash_off_worker`].
pub fn hash(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2: {e}")))
}

/// Verifies on the calling thread (see [`hash`]); handlers use [`verify_off_worker`].
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// [`hash`] on actix's blocking pool once the gate lets it, for a handler: the async worker and
/// any pooled connection stay free for Argon2's tens of milliseconds.
pub async fn hash_off_worker(password: String) -> Result<String, ApiError> {
    let permit = gate().clone().acquire_owned().await.map_err(ApiError::internal)?;
    actix_web::web::block(move || gated(permit, || hash(&password))).await.map_err(ApiError::internal)?
}

/// [`verify`] on actix's blocking pool once the gate lets it (see [`hash_off_worker`]).
pub async fn verify_off_worker(password: String, phc: String) -> Result<bool, ApiError> {
    let permit = gate().clone().acquire_owned().await.map_err(ApiError::internal)?;
    actix_web::web::block(move || gated(permit, || verify(&password, &phc))).await.map_err(ApiError::internal)
}

/// One Argon2 computation per core at once, for requests. Each holds 19 MiB for about 25 ms;
/// without a bound a burst of logins would hold one per blocking thread (hundreds), and more at
/// once than there are cores only makes each slower. The permit is taken on the async side before
/// the hop, so a waiting login is a parked future, not a blocking-pool thread asleep on a lock;
/// it travels into the blocking closure, so a request dropped mid-hash (a client gone) still
/// holds its place until Argon2 is done.
fn gate() -> &'static Arc<Semaphore> {
    static GATE: OnceLock<Arc<Semaphore>> = OnceLock::new();
    GATE.get_or_init(|| Arc::new(Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))))
}

/// Runs `f` (counted) while holding the gate's `permit`, released when `f` returns.
fn gated<T>(permit: tokio::sync::OwnedSemaphorePermit, f: impl FnOnce() -> T) -> T {
    let result = counted(f);
    drop(permit);
    result
}

/// Gated Argon2 computations running now, and the most there have been at once.
static RUNNING: Mutex<(usize, usize)> = Mutex::new((0, 0));

/// Runs one Argon2 computation, counted in [`RUNNING`].
fn counted<T>(f: impl FnOnce() -> T) -> T {
    struct Running;
    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
        }
    }
    let _running = {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.0 += 1;
        running.1 = running.1.max(running.0);
        Running
    };
    f()
}

/// The length rule, as a field error for `field`.
pub fn check_length(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if (MIN_LEN..=MAX_LEN).contains(&n) {
        Ok(())
    } else {
        Err(FieldError::new(field, "length", format!("must be {MIN_LEN} to {MAX_LEN} characters")))
    }
}

/// A random password for generated accounts: 20 characters from an unambiguous alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse battery!", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_argon2_computations_run_at_once_than_there_are_cores() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let h = hash("correct horse battery").unwrap();
        let checks: Vec<_> = (0..cores * 3)
            .map(|_| tokio::spawn(verify_off_worker("correct horse battery".into(), h.clone())))
            .collect();
        for check in checks {
            assert!(check.await.unwrap().unwrap());
        }
        // The peak is process-wide: other tests' gated computations count too, as they should.
        let most = RUNNING.lock().unwrap().1;
        assert!((1..=cores).contains(&most), "{most} ran at once on {cores} cores");
    }
}
