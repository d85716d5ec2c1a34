//! Access tokens: JWTs signed with HS256 (the default) or Ed25519 keys with `kid`s for rotation,
//! verified with the algorithm pinned and `exp`, `nbf`, `iss`, `aud` and `sub` required.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::ApiError;

/// Clock skew tolerated between instances, in seconds.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub dept: String,
    pub scope: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct TokenService {
    issuer: String,
    audience: String,
    pub access_ttl: Duration,
    algorithm: Algorithm,
    signing_kid: Option<String>,
    signing_key: EncodingKey,
    verifying: HashMap<Option<String>, DecodingKey>,
    validation: Validation,
    jwks: JwkSet,
    verified: Mutex<HashMap<Box<str>, Claims>>,
}

/// How many verified tokens an instance remembers before it starts over.
const VERIFIED_CAPACITY: usize = 4096;

impl TokenService {
    pub fn new(config: &Config, hs_secret: Option<&[u8]>) -> anyhow::Result<Self> {
        let (algorithm, signing_kid, signing_key, verifying, jwks) = match &config.jwt_keys_dir {
            Some(dir) => load_ed25519_dir(dir)?,
            None => {
                let secret = hs_secret.context("ADAL_JWT_SECRET: no HS256 secret is configured")?;
                let mut verifying = HashMap::new();
                verifying.insert(None, DecodingKey::from_secret(secret));
                (Algorithm::HS256, None, EncodingKey::from_secret(secret), verifying, JwkSet { keys: vec![] })
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECONDS;
        Ok(TokenService {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            access_ttl: config.access_token_ttl,
            algorithm,
            signing_kid,
            signing_key,
            verifying,
            validation,
            jwks,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Signs an access token. The same claims always sign to the same token (HMAC and Ed25519
    /// are deterministic), which lets a lost refresh answer be given again unchanged.
    pub fn issue(&self, sub: &str, dept: &str, scope: &str, iat: i64, jti: &str) -> Result<(String, i64), ApiError> {
        let ttl = self.access_ttl.as_secs() as i64;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: sub.to_string(),
            dept: dept.to_string(),
            scope: scope.to_string(),
            iat,
            nbf: iat,
            exp: iat + ttl,
            jti: jti.to_string(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = self.signing_kid.clone();
        let token = jsonwebtoken::encode(&header, &claims, &self.signing_key)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("signing a token: {e}")))?;
        Ok((token, ttl))
    }

    /// The claims of a valid access token. A client sends the same token with every request until
    /// it expires, so a token verified once is remembered (keyed by the whole token: only the
    /// byte-identical token hits) and later requests skip the signature and the JSON; its time
    /// window is still checked on every use, exactly as a fresh verification checks it. Signature
    /// and parsing were a sixth of `GET /events/{id}`'s CPU time in a profile.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if let Some(claims) = self.verified.lock().unwrap_or_else(|e| e.into_inner()).get(token) {
            return within_window(claims, now).map(|()| claims.clone());
        }
        let claims = self.verify_signed(token)?;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_CAPACITY {
            verified.retain(|_, c| within_window(c, now).is_ok());
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(token.into(), claims.clone());
        Ok(claims)
    }

    fn verify_signed(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("the token is malformed"))?;
        if header.alg != self.algorithm {
            return Err(invalid("the token's algorithm is not accepted"));
        }
        // The kid only selects among our own keys; an unknown one is refused.
        let key = self.verifying.get(&header.kid).ok_or_else(|| invalid("the token's key is unknown"))?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation).map(|d| d.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => invalid("the token has expired"),
                ErrorKind::ImmatureSignature => invalid("the token is not valid yet"),
                ErrorKind::InvalidAudience => invalid("the token is for another audience"),
                ErrorKind::InvalidIssuer => invalid("the token is from another issuer"),
                ErrorKind::MissingRequiredClaim(_) => invalid("the token lacks a required claim"),
                _ => invalid("the token's signature or claims are invalid"),
            }
        })
    }

    /// The public keys, for `/.well-known/jwks.json` (empty with HS256).
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

fn invalid(detail: &'static str) -> ApiError {
    ApiError::unauthorized("invalid_token", detail)
}

/// The time checks of a verification, as jsonwebtoken makes them: expired once `exp` is more
/// than the leeway in the past, not yet valid while `nbf` is more than the leeway ahead.
fn within_window(claims: &Claims, now: i64) -> Result<(), ApiError> {
    let leeway = LEEWAY_SECONDS as i64;
    if claims.exp < now - leeway {
        return Err(invalid("the token has expired"));
    }
    if claims.nbf > now + leeway {
        return Err(invalid("the token is not valid yet"));
    }
    Ok(())
}

type Loaded = (Algorithm, Option<String>, EncodingKey, HashMap<Option<String>, DecodingKey>, JwkSet);

fn load_ed25519_dir(dir: &Path) -> anyhow::Result<Loaded> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("ADAL_JWT_KEYS_DIR: cannot read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("ADAL_JWT_KEYS_DIR: {} holds no .pem key", dir.display());
    }
    let mut verifying = HashMap::new();
    let mut jwks = JwkSet { keys: vec![] };
    let mut signing = None;
    for path in files {
        let kid = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let pem = std::fs::read(&path).with_context(|| format!("ADAL_JWT_KEYS_DIR: cannot read {}", path.display()))?;
        let key = EncodingKey::from_ed_pem(&pem)
            .with_context(|| format!("ADAL_JWT_KEYS_DIR: {} is not an Ed25519 private key in PEM", path.display()))?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA)
            .with_context(|| format!("ADAL_JWT_KEYS_DIR: {} is not an Ed25519 key", path.display()))?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        let decoding = DecodingKey::from_jwk(&jwk).context("ADAL_JWT_KEYS_DIR: deriving a public key")?;
        verifying.insert(Some(kid.clone()), decoding);
        jwks.keys.push(jwk);
        signing = Some((kid, key));
    }
    let (kid, key) = signing.expect("at least one key");
    Ok((Algorithm::EdDSA, Some(kid), key, verifying, jwks))
}
