//! Webhook secrets: made (`whsec_` + base64 of 32 random bytes, as Standard Webhooks has them),
//! kept encrypted under a key that lives outside the database, and used to sign.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::Secret;

const PREFIX: &str = "whsec_";
const STORED_PREFIX: &str = "v1:";

/// A new secret, as shown to the subscriber once.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key a secret stands for: the bytes after `whsec_`.
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// `secret` encrypted for the subscription `id` (the id is bound in, so a ciphertext copied to
/// another row does not decrypt there).
pub fn seal(key: &Secret, id: &str, secret: &str) -> String {
    let cipher = ChaCha20Poly1305::new_from_slice(key.expose()).expect("the webhook key is 32 bytes");
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: secret.as_bytes(), aad: id.as_bytes() })
        .expect("ChaCha20-Poly1305 encrypts any message of this size");
    let mut stored = nonce.to_vec();
    stored.extend(sealed);
    format!("{STORED_PREFIX}{}", STANDARD.encode(stored))
}

/// The secret `stored` holds, or `None` when it does not decrypt under `key` (another key, or a
/// row tampered with).
pub fn open(key: &Secret, id: &str, stored: &str) -> Option<String> {
    let bytes = STANDARD.decode(stored.strip_prefix(STORED_PREFIX)?).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let cipher = ChaCha20Poly1305::new_from_slice(key.expose()).ok()?;
    let plain = cipher.decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: id.as_bytes() }).ok()?;
    String::from_utf8(plain).ok()
}

/// One `v1,` signature: base64 of HMAC-SHA256 over `id.timestamp.body`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_under_its_key_and_for_its_subscription() {
        let key = Secret::new(vec![7u8; 32]);
        let secret = generate();
        assert!(secret.starts_with("whsec_") && signing_key(&secret).unwrap().len() == 32);
        let stored = seal(&key, "sub-1", &secret);
        assert!(!stored.contains(&secret[6..]), "the stored form is not the secret");
        assert_eq!(open(&key, "sub-1", &stored).as_deref(), Some(secret.as_str()));
        assert_eq!(open(&key, "sub-2", &stored), None);
        assert_eq!(open(&Secret::new(vec![8u8; 32]), "sub-1", &stored), None);
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
