//! HMAC-SHA256 request signing, and the verifier for the receiving service.
//!
//! The caller signs every attempt afresh (a retry gets a new timestamp and nonce) and sends four
//! headers:
//!
//! | header | value |
//! |---|---|
//! | [`x-appwire-service`](SERVICE_HEADER) | the caller's service id |
//! | [`x-appwire-timestamp`](TIMESTAMP_HEADER) | Unix time of signing, in seconds |
//! | [`x-appwire-nonce`](NONCE_HEADER) | 16 random bytes, 32 lowercase hex digits |
//! | [`x-appwire-signature`](SIGNATURE_HEADER) | HMAC-SHA256 of the canonical string, 64 lowercase hex digits |
//!
//! The canonical string (see [`canonical_string`]) is these lines joined by `\n`:
//!
//! ```text
//! APPWIRE-HMAC-SHA256
//! <method>
//! <path, as sent>
//! <query as sent, its `&`-separated pairs sorted bytewise, empty pairs dropped>
//! <hex SHA-256 of the body>
//! <timestamp>
//! <nonce>
//! <service id>
//! ```
//!
//! The [`Verifier`] accepts a request whose timestamp is within ±W of its clock, compares the
//! signature in constant time, and remembers each accepted nonce for 2W, so a request cannot be
//! replayed while its timestamp is still accepted. It fails closed when its nonce store is full.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};

use crate::clock::saturating_add_system;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-appwire-signature";
/// Header carrying the signing time.
pub const TIMESTAMP_HEADER: &str = "x-appwire-timestamp";
/// Header carrying the nonce.
pub const NONCE_HEADER: &str = "x-appwire-nonce";
/// Header carrying the caller's service id.
pub const SERVICE_HEADER: &str = "x-appwire-service";
/// First line of the canonical string; names the scheme so that a signature cannot be taken
/// for one of another scheme.
pub const SCHEME: &str = "APPWIRE-HMAC-SHA256";

/// Nonces accepted per verifier, at most, within 2W (default).
pub const DEFAULT_REPLAY_CAPACITY: usize = 1 << 20;

/// Length of a nonce, in bytes.
pub const NONCE_LEN: usize = 16;

/// A shared secret, ready to sign. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Secret(hmac::Key);

impl Secret {
    /// Wraps a key; an empty one is refused.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, InvalidSecret> {
        let key = key.as_ref();
        if key.is_empty() {
            return Err(InvalidSecret);
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, key)))
    }

    fn sign(&self, canonical: &str) -> hmac::Tag {
        hmac::sign(&self.0, canonical.as_bytes())
    }

    /// Checks `tag` in constant time.
    fn verify(&self, canonical: &str, tag: &[u8]) -> bool {
        hmac::verify(&self.0, canonical.as_bytes(), tag).is_ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The key given to [`Secret::new`] was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an HMAC secret must not be empty")]
pub struct InvalidSecret;

/// The operating system's random source failed, so no nonce could be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: no nonce to sign with")]
pub struct NoRandomness;

/// A service id must be non-empty visible ASCII, so that it travels as a header unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a service id must be non-empty visible ASCII")]
pub struct InvalidServiceId;

/// The parts of a request that the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestParts<'a> {
    /// HTTP method, as sent (`GET`, `POST`).
    pub method: &'a str,
    /// Path, percent-encoded as sent, without the query.
    pub path: &'a str,
    /// Query string as sent, without the leading `?`; empty for none.
    pub query: &'a str,
    /// Body bytes; empty for none.
    pub body: &'a [u8],
}

/// The string that is signed; see the [module docs](self).
pub fn canonical_string(
    request: &RequestParts<'_>,
    timestamp: &str,
    nonce: &str,
    service: &str,
) -> String {
    // Sorted by key only, and stably: the order of a repeated key's values is part of what is
    // signed (`tag=a&tag=b` is not `tag=b&tag=a`).
    let mut pairs: Vec<&str> = request.query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_by_key(|pair| pair.split_once('=').map_or(*pair, |(key, _)| key));
    let query = pairs.join("&");
    let body = hex::encode(digest::digest(&digest::SHA256, request.body));
    [
        SCHEME,
        request.method,
        request.path,
        &query,
        &body,
        timestamp,
        nonce,
        service,
    ]
    .join("\n")
}

/// Headers that sign one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Value of [`SERVICE_HEADER`].
    pub service: String,
    /// Value of [`TIMESTAMP_HEADER`].
    pub timestamp: String,
    /// Value of [`NONCE_HEADER`].
    pub nonce: String,
    /// Value of [`SIGNATURE_HEADER`].
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as `(name, value)` pairs.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (SERVICE_HEADER, &self.service),
            (TIMESTAMP_HEADER, &self.timestamp),
            (NONCE_HEADER, &self.nonce),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }

    /// The value of header `name` (lowercase), if it is one of these.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .into_iter()
            .find_map(|(n, v)| (n == name).then_some(v))
    }
}

/// Signs requests on behalf of one calling service.
#[derive(Debug, Clone)]
pub struct Signer {
    service: String,
    secret: Secret,
}

impl Signer {
    /// A signer for `service`, which must be non-empty visible ASCII.
    pub fn new(service: impl Into<String>, secret: Secret) -> Result<Self, InvalidServiceId> {
        let service = service.into();
        if service.is_empty() || !service.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidServiceId);
        }
        Ok(Self { service, secret })
    }

    /// The service id this signer sends.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Signs one attempt at wall-clock time `now` with `nonce`, which must not repeat.
    pub fn sign(
        &self,
        request: &RequestParts<'_>,
        now: SystemTime,
        nonce: [u8; NONCE_LEN],
    ) -> SignedHeaders {
        // A clock before 1970 signs as 0, which no verifier accepts.
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let timestamp = secs.to_string();
        let nonce = hex::encode(nonce);
        let canonical = canonical_string(request, &timestamp, &nonce, &self.service);
        let signature = hex::encode(self.secret.sign(&canonical));
        SignedHeaders {
            service: self.service.clone(),
            timestamp,
            nonce,
            signature,
        }
    }

    /// Signs one attempt now, with a nonce from the operating system's random source.
    ///
    /// # Errors
    ///
    /// [`NoRandomness`] when that source fails: nothing is signed with a weaker nonce.
    pub fn sign_now(&self, request: &RequestParts<'_>) -> Result<SignedHeaders, NoRandomness> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| NoRandomness)?;
        Ok(self.sign(request, SystemTime::now(), nonce))
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signing header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A signing header is not in its format.
    #[error("malformed header {0}")]
    MalformedHeader(&'static str),
    /// The method, path or query holds a line break, which would make the canonical string
    /// ambiguous.
    #[error("method, path or query contains a line break")]
    MalformedRequest,
    /// No key is known for the service.
    #[error("unknown service")]
    UnknownService,
    /// The timestamp is too far from the verifier's clock.
    #[error("timestamp outside the accepted window")]
    OutsideWindow,
    /// The signature does not match the request.
    #[error("signature does not match")]
    BadSignature,
    /// The nonce was already used.
    #[error("nonce already used")]
    Replayed,
    /// Too many nonces are remembered to accept another one safely.
    #[error("replay cache full")]
    ReplayCacheFull,
}

/// Checks signed requests on the receiving side.
pub struct Verifier {
    keys: HashMap<String, Secret>,
    window: Duration,
    seen: Mutex<NonceCache>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("services", &self.keys.keys().collect::<Vec<_>>())
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier accepting timestamps within ±`window` of its clock, with no keys yet.
    pub fn new(window: Duration) -> Self {
        Self {
            keys: HashMap::new(),
            window,
            seen: Mutex::new(NonceCache::new(DEFAULT_REPLAY_CAPACITY)),
        }
    }

    /// Accepts requests from `service` signed with `secret`.
    #[must_use]
    pub fn with_key(mut self, service: impl Into<String>, secret: Secret) -> Self {
        self.keys.insert(service.into(), secret);
        self
    }

    /// Bounds the nonces remembered at once (default [`DEFAULT_REPLAY_CAPACITY`]).
    #[must_use]
    pub fn with_replay_capacity(self, capacity: usize) -> Self {
        Self {
            seen: Mutex::new(NonceCache::new(capacity)),
            ..self
        }
    }

    /// The accepted clock difference, W.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Verifies a request at wall-clock time `now` and returns the calling service's id.
    ///
    /// `headers` looks a header up by its lowercase name. The nonce is remembered only once
    /// everything else checks out, so unsigned traffic cannot fill the store.
    pub fn verify<'h>(
        &self,
        request: &RequestParts<'_>,
        headers: impl Fn(&str) -> Option<&'h str>,
        now: SystemTime,
    ) -> Result<&str, VerifyError> {
        let header = |name| headers(name).ok_or(VerifyError::MissingHeader(name));
        let service = header(SERVICE_HEADER)?;
        let timestamp = header(TIMESTAMP_HEADER)?;
        let nonce = header(NONCE_HEADER)?;
        let signature = header(SIGNATURE_HEADER)?;

        let signed_at =
            parse_timestamp(timestamp).ok_or(VerifyError::MalformedHeader(TIMESTAMP_HEADER))?;
        let nonce_bytes = parse_nonce(nonce).ok_or(VerifyError::MalformedHeader(NONCE_HEADER))?;
        let tag =
            hex::decode(signature).map_err(|_| VerifyError::MalformedHeader(SIGNATURE_HEADER))?;
        if [request.method, request.path, request.query]
            .iter()
            .any(|part| part.contains(['\n', '\r']))
        {
            return Err(VerifyError::MalformedRequest);
        }
        let (service_id, secret) = self
            .keys
            .get_key_value(service)
            .ok_or(VerifyError::UnknownService)?;
        if !self.within_window(signed_at, now) {
            return Err(VerifyError::OutsideWindow);
        }

        let canonical = canonical_string(request, timestamp, nonce, service);
        if !secret.verify(&canonical, &tag) {
            return Err(VerifyError::BadSignature);
        }

        let ttl = self.window.saturating_mul(2);
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(nonce_bytes, now, ttl)?;
        Ok(service_id)
    }

    /// Verifies an HTTP request whose body has been read, now, and returns the calling
    /// service's id. The path and query are taken as received, as the signer took them as
    /// sent.
    pub fn verify_http<B: AsRef<[u8]>>(
        &self,
        request: &http::Request<B>,
    ) -> Result<&str, VerifyError> {
        self.verify_http_at(request, SystemTime::now())
    }

    /// [`verify_http`](Self::verify_http) at wall-clock time `now`.
    pub fn verify_http_at<B: AsRef<[u8]>>(
        &self,
        request: &http::Request<B>,
        now: SystemTime,
    ) -> Result<&str, VerifyError> {
        let parts = RequestParts {
            method: request.method().as_str(),
            path: request.uri().path(),
            query: request.uri().query().unwrap_or(""),
            body: request.body().as_ref(),
        };
        let headers = request.headers();
        self.verify(&parts, |name| headers.get(name)?.to_str().ok(), now)
    }

    fn within_window(&self, signed_at: u64, now: SystemTime) -> bool {
        let Some(signed_at) = UNIX_EPOCH.checked_add(Duration::from_secs(signed_at)) else {
            return false;
        };
        let skew = match now.duration_since(signed_at) {
            Ok(age) => age,
            Err(ahead) => ahead.duration(),
        };
        skew <= self.window
    }
}

fn parse_timestamp(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn parse_nonce(value: &str) -> Option<[u8; NONCE_LEN]> {
    let mut bytes = [0u8; NONCE_LEN];
    hex::decode_to_slice(value, &mut bytes).ok()?;
    Some(bytes)
}

/// Nonces seen recently, each until its expiry.
#[derive(Debug)]
struct NonceCache {
    capacity: usize,
    seen: HashSet<[u8; NONCE_LEN]>,
    /// In insertion order; with a clock that never goes back, also in expiry order.
    expiries: VecDeque<(SystemTime, [u8; NONCE_LEN])>,
}

impl NonceCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seen: HashSet::new(),
            expiries: VecDeque::new(),
        }
    }

    fn insert(
        &mut self,
        nonce: [u8; NONCE_LEN],
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), VerifyError> {
        while let Some(&(expires, old)) = self.expiries.front() {
            if expires >= now {
                break;
            }
            self.expiries.pop_front();
            self.seen.remove(&old);
        }
        if self.seen.contains(&nonce) {
            return Err(VerifyError::Replayed);
        }
        if self.seen.len() >= self.capacity {
            return Err(VerifyError::ReplayCacheFull);
        }
        self.seen.insert(nonce);
        self.expiries
            .push_back((saturating_add_system(now, ttl), nonce));
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    const W: Duration = Duration::from_secs(60);
    const SECRET: &str = "appwire-test-secret";

    fn secret() -> Secret {
        Secret::new(SECRET).expect("non-empty")
    }

    fn signer() -> Signer {
        Signer::new("orders", secret()).expect("valid id")
    }

    fn verifier() -> Verifier {
        Verifier::new(W).with_key("orders", secret())
    }

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    const T0: u64 = 1_700_000_000;

    fn request() -> RequestParts<'static> {
        RequestParts {
            method: "POST",
            path: "/api/shop/0x1/place-order",
            query: "qty=3&item_id=a+b%26c",
            body: br#"{"sku":"A-1","qty":3}"#,
        }
    }

    /// The bytes 00 11 22 .. ff, for a known nonce.
    const COUNTING: [u8; NONCE_LEN] = {
        let mut nonce = [0u8; NONCE_LEN];
        let mut i = 0;
        while i < NONCE_LEN {
            nonce[i] = (i as u8).wrapping_mul(0x11);
            i += 1;
        }
        nonce
    };

    fn sign(request: &RequestParts<'_>, at: u64) -> SignedHeaders {
        signer().sign(
            request,
            t(at),
            fastrand::Rng::with_seed(at).u128(..).to_le_bytes(),
        )
    }

    fn verify(
        v: &Verifier,
        request: &RequestParts<'_>,
        headers: &SignedHeaders,
        at: u64,
    ) -> Result<String, VerifyError> {
        v.verify(request, |name| headers.get(name), t(at))
            .map(str::to_owned)
    }

    #[test]
    fn repeated_keys_keep_their_order() {
        let at = |query| RequestParts {
            method: "GET",
            path: "/p",
            query,
            body: b"",
        };
        let canonical = |query| canonical_string(&at(query), "1", "n", "s");
        assert_eq!(canonical("b=1&a=2"), canonical("a=2&b=1"));
        assert_ne!(canonical("tag=a&tag=b"), canonical("tag=b&tag=a"));
    }

    #[test]
    fn signs_the_documented_canonical_string() {
        let headers = signer().sign(&request(), t(T0), COUNTING);
        assert_eq!(headers.service, "orders");
        assert_eq!(headers.timestamp, "1700000000");
        assert_eq!(headers.nonce, "00112233445566778899aabbccddeeff");
        assert_eq!(
            canonical_string(&request(), &headers.timestamp, &headers.nonce, "orders"),
            "APPWIRE-HMAC-SHA256\nPOST\n/api/shop/0x1/place-order\nitem_id=a+b%26c&qty=3\n\
             8fd02e57fb670ce794ee60b019562ee13251cad4da8440d13a9f4f9de6c57bd3\n\
             1700000000\n00112233445566778899aabbccddeeff\norders"
        );
        // Computed independently with Python's hmac module.
        assert_eq!(
            headers.signature,
            "7246224858e25e3b7517222ac10775150435c33ab007be27d2fce74efecd3e13"
        );
    }

    #[test]
    fn accepts_the_untouched_request() {
        let headers = sign(&request(), T0);
        assert_eq!(
            verify(&verifier(), &request(), &headers, T0 + 1),
            Ok("orders".into())
        );
    }

    #[test]
    fn each_attempt_gets_its_own_nonce_and_signature() {
        let signer = signer();
        let a = signer.sign_now(&request()).expect("random");
        let b = signer.sign_now(&request()).expect("random");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.signature, b.signature);
        let v = verifier();
        let now = SystemTime::now();
        assert!(v.verify(&request(), |n| a.get(n), now).is_ok());
        assert!(v.verify(&request(), |n| b.get(n), now).is_ok());
    }

    #[test]
    fn query_order_does_not_matter() {
        let headers = sign(&request(), T0);
        let reordered = RequestParts {
            query: "item_id=a+b%26c&&qty=3",
            ..request()
        };
        assert_eq!(
            verify(&verifier(), &reordered, &headers, T0),
            Ok("orders".into())
        );
    }

    #[test]
    fn rejects_any_change_to_the_request() {
        let headers = sign(&request(), T0);
        let changed = [
            RequestParts {
                method: "PUT",
                ..request()
            },
            RequestParts {
                path: "/api/shop/0x1/cancel-order",
                ..request()
            },
            RequestParts {
                query: "qty=4&item_id=a+b%26c",
                ..request()
            },
            RequestParts {
                query: "",
                ..request()
            },
            RequestParts {
                body: br#"{"sku":"A-1","qty":30}"#,
                ..request()
            },
            RequestParts {
                body: b"",
                ..request()
            },
        ];
        for request in changed {
            assert_eq!(
                verify(&verifier(), &request, &headers, T0),
                Err(VerifyError::BadSignature),
                "{request:?}"
            );
        }
    }

    #[test]
    fn rejects_changed_headers() {
        let headers = sign(&request(), T0);
        let mut later = headers.clone();
        later.timestamp = (T0 + 5).to_string();
        let mut other_nonce = headers.clone();
        other_nonce.nonce = "ffeeddccbbaa99887766554433221100".into();
        for tampered in [later, other_nonce] {
            assert_eq!(
                verify(&verifier(), &request(), &tampered, T0),
                Err(VerifyError::BadSignature)
            );
        }
        let v = Verifier::new(W)
            .with_key("orders", secret())
            .with_key("billing", secret());
        let mut other_service = headers.clone();
        other_service.service = "billing".into();
        assert_eq!(
            verify(&v, &request(), &other_service, T0),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn rejects_timestamps_outside_the_window() {
        let headers = sign(&request(), T0);
        let v = verifier();
        assert_eq!(
            verify(&v, &request(), &headers, T0 + 61),
            Err(VerifyError::OutsideWindow)
        );
        assert_eq!(
            verify(&v, &request(), &headers, T0 - 61),
            Err(VerifyError::OutsideWindow)
        );
        assert!(verify(&v, &request(), &sign(&request(), T0 - 60), T0).is_ok());
        assert!(verify(&v, &request(), &sign(&request(), T0 + 60), T0).is_ok());
    }

    #[test]
    fn rejects_a_replayed_nonce() {
        let headers = sign(&request(), T0);
        let v = verifier();
        assert!(verify(&v, &request(), &headers, T0).is_ok());
        assert_eq!(
            verify(&v, &request(), &headers, T0 + 1),
            Err(VerifyError::Replayed)
        );
    }

    #[test]
    fn remembers_a_nonce_as_long_as_its_timestamp_is_accepted() {
        // First seen at the earliest acceptable moment, replayed at the latest.
        let headers = sign(&request(), T0);
        let v = verifier();
        assert!(verify(&v, &request(), &headers, T0 - 60).is_ok());
        // Other traffic in between triggers the purge of expired nonces.
        assert!(verify(&v, &request(), &sign(&request(), T0 + 1), T0 + 59).is_ok());
        assert_eq!(
            verify(&v, &request(), &headers, T0 + 60),
            Err(VerifyError::Replayed)
        );
    }

    #[test]
    fn the_nonce_store_is_bounded_and_fails_closed() {
        let v = verifier().with_replay_capacity(2);
        assert!(verify(&v, &request(), &sign(&request(), T0), T0).is_ok());
        assert!(verify(&v, &request(), &sign(&request(), T0 + 1), T0).is_ok());
        assert_eq!(
            verify(&v, &request(), &sign(&request(), T0 + 2), T0),
            Err(VerifyError::ReplayCacheFull)
        );
        // Once the first two expire (2W after they were seen) there is room again.
        let later = T0 + 121;
        assert!(verify(&v, &request(), &sign(&request(), later), later).is_ok());
    }

    #[test]
    fn unsigned_or_malformed_requests_are_refused() {
        let headers = sign(&request(), T0);
        let v = verifier();
        for name in [
            SERVICE_HEADER,
            TIMESTAMP_HEADER,
            NONCE_HEADER,
            SIGNATURE_HEADER,
        ] {
            let missing = v.verify(
                &request(),
                |n| if n == name { None } else { headers.get(n) },
                t(T0),
            );
            assert_eq!(missing, Err(VerifyError::MissingHeader(name)));
        }
        let malformed = [
            (TIMESTAMP_HEADER, "+1700000000"),
            (TIMESTAMP_HEADER, "1.7e9"),
            (NONCE_HEADER, "0011"),
            (NONCE_HEADER, "zz112233445566778899aabbccddeeff"),
            (SIGNATURE_HEADER, "not hex"),
        ];
        for (name, value) in malformed {
            let result = v.verify(
                &request(),
                |n| {
                    if n == name {
                        Some(value)
                    } else {
                        headers.get(n)
                    }
                },
                t(T0),
            );
            assert_eq!(result, Err(VerifyError::MalformedHeader(name)), "{value}");
        }
        let short_signature = v.verify(
            &request(),
            |n| {
                if n == SIGNATURE_HEADER {
                    Some("abcd")
                } else {
                    headers.get(n)
                }
            },
            t(T0),
        );
        assert_eq!(short_signature, Err(VerifyError::BadSignature));
    }

    #[test]
    fn line_breaks_in_the_request_are_refused() {
        let sneaky = RequestParts {
            path: "/a\n/b",
            ..request()
        };
        let headers = sign(&sneaky, T0);
        assert_eq!(
            verify(&verifier(), &sneaky, &headers, T0),
            Err(VerifyError::MalformedRequest)
        );
    }

    #[test]
    fn keys_are_per_service() {
        let headers = sign(&request(), T0);
        let stranger = Verifier::new(W).with_key("billing", secret());
        assert_eq!(
            verify(&stranger, &request(), &headers, T0),
            Err(VerifyError::UnknownService)
        );
        let wrong_key =
            Verifier::new(W).with_key("orders", Secret::new("another secret").expect("key"));
        assert_eq!(
            verify(&wrong_key, &request(), &headers, T0),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn secrets_and_ids_are_validated() {
        assert_eq!(Secret::new("").err(), Some(InvalidSecret));
        for bad in ["", "has space", "line\nbreak", "naïve"] {
            assert_eq!(
                Signer::new(bad, secret()).err(),
                Some(InvalidServiceId),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn http_requests_are_verified_from_their_parts() {
        let headers = sign(&request(), T0);
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("http://h:8020/api/shop/0x1/place-order?qty=3&item_id=a+b%26c");
        for (name, value) in headers.pairs() {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(br#"{"sku":"A-1","qty":3}"#.to_vec())
            .expect("request");
        let v = verifier();
        assert_eq!(v.verify_http_at(&http_request, t(T0)), Ok("orders"));
        let (parts, _) = http_request.into_parts();
        let tampered = http::Request::from_parts(parts, b"{}".to_vec());
        assert_eq!(
            verifier().verify_http_at(&tampered, t(T0)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let shown = format!("{:?} {:?} {:?}", secret(), signer(), verifier());
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("redacted"));
        assert!(shown.contains("orders"));
    }
}
