//! The caller app's RSA private key, read as hopeit.engine writes it, and the RS256 access
//! tokens it signs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes::{Aes128, Aes192, Aes256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipher, BlockDecrypt, BlockDecryptMut, KeyInit, KeyIvInit};
use md5::{Digest, Md5};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use serde::Serialize;

use super::AuthError;

/// Lifetime of an access token, in seconds (hopeit's `timeout=60`).
pub const TOKEN_LIFETIME_SECS: u64 = 60;

/// Why a private key cannot be used.
///
/// The message ends with the cause (an I/O error's included), and
/// [`source`](std::error::Error::source) is `None`.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a PEM private key.
    Malformed(&'static str),
    /// The key is in a form this runtime does not read.
    Unsupported(String),
    /// The key is encrypted and no passphrase was given.
    MissingPassphrase,
    /// The key does not decrypt with the passphrase given.
    WrongPassphrase,
    /// The key decoded but is not a usable RSA key (RS256 needs 2048 to 8192 bits).
    Rejected(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "cannot read `{}`: {source}", path.display()),
            Self::Malformed(what) => write!(f, "not a PEM private key: {what}"),
            Self::Unsupported(what) => write!(f, "unsupported key: {what}"),
            Self::MissingPassphrase => {
                f.write_str("the key is encrypted and no passphrase was given")
            }
            Self::WrongPassphrase => {
                f.write_str("the key does not decrypt with the passphrase given")
            }
            Self::Rejected(why) => write!(f, "not a usable RSA key: {why}"),
        }
    }
}

/// No `source`: the I/O error is in the message.
impl std::error::Error for KeyError {}

/// The private key a caller app signs its access tokens with, for the `CLIENT_APP_PUBLIC_KEY`
/// strategy. Cheap to clone; its `Debug` output shows nothing of the key.
///
/// hopeit.engine keeps it at `<secrets_location>/.private/<app_key>.pem` and writes it as a
/// traditional OpenSSL PEM (`BEGIN RSA PRIVATE KEY`) encrypted with AES-256-CBC under the
/// server's `auth_passphrase`. This reads that, the same PEM unencrypted or encrypted with
/// AES-128/192-CBC, and unencrypted PKCS#8 (`BEGIN PRIVATE KEY`). Encrypted PKCS#8
/// (`BEGIN ENCRYPTED PRIVATE KEY`) is refused with a hint to convert it.
#[derive(Clone)]
pub struct ClientKey(Arc<RsaKeyPair>);

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey(<redacted>)")
    }
}

impl ClientKey {
    /// The file hopeit keeps an app's private key in: `<secrets_location>/.private/<app_key>.pem`.
    pub fn path(secrets_location: impl AsRef<Path>, app_key: &str) -> PathBuf {
        secrets_location
            .as_ref()
            .join(".private")
            .join(format!("{app_key}.pem"))
    }

    /// Reads the key of `app_key` from hopeit's secrets folder.
    pub fn load(
        secrets_location: impl AsRef<Path>,
        app_key: &str,
        passphrase: Option<&[u8]>,
    ) -> Result<Self, KeyError> {
        let path = Self::path(secrets_location, app_key);
        let pem = std::fs::read(&path).map_err(|source| KeyError::Io { path, source })?;
        Self::from_pem(&pem, passphrase)
    }

    /// Reads a PEM private key; `passphrase` decrypts an encrypted one.
    pub fn from_pem(pem: &[u8], passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        let text = std::str::from_utf8(pem).map_err(|_| KeyError::Malformed("not UTF-8"))?;
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected(e.to_string());
        if let Some(legacy) = LegacyPem::find(text) {
            let passphrase = passphrase.ok_or(KeyError::MissingPassphrase)?;
            let encrypted =
                PrivatePkcs1KeyDer::from_pem_slice(legacy.body.as_bytes()).map_err(malformed)?;
            let der = decrypt_legacy(legacy.dek_info, encrypted.secret_pkcs1_der(), passphrase)?;
            // A wrong passphrase leaves valid padding about once in 256 tries; the garbage
            // then fails to parse.
            let pair = RsaKeyPair::from_der(&der).map_err(|_| KeyError::WrongPassphrase)?;
            return Ok(Self(Arc::new(pair)));
        }
        let pair = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs1(key)) => {
                RsaKeyPair::from_der(key.secret_pkcs1_der()).map_err(rejected)?
            }
            Ok(PrivateKeyDer::Pkcs8(key)) => {
                RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).map_err(rejected)?
            }
            Ok(_) => return Err(KeyError::Unsupported("not an RSA key".into())),
            Err(pem::Error::NoItemsFound) if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY") => {
                return Err(KeyError::Unsupported(
                    "encrypted PKCS#8; convert it with `openssl rsa -aes256 -traditional` \
                     (hopeit's own format)"
                        .into(),
                ));
            }
            Err(e) => return Err(malformed(e)),
        };
        Ok(Self(Arc::new(pair)))
    }

    /// An access token exactly as hopeit's apps-client makes one: an RS256 JWT with header
    /// `{"alg":"RS256","typ":"JWT"}` and claims `{"iat":..,"exp":iat+60,"app":..}`.
    pub fn token(&self, app_key: &str, issued_at: u64) -> Result<String, AuthError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iat: u64,
            exp: u64,
            app: &'a str,
        }
        // PyJWT sorts the header's keys and writes both parts without spaces.
        const HEADER: &str = r#"{"alg":"RS256","typ":"JWT"}"#;
        let claims = serde_json::to_vec(&Claims {
            iat: issued_at,
            exp: issued_at.saturating_add(TOKEN_LIFETIME_SECS),
            app: app_key,
        })
        .map_err(|_| AuthError::Signing)?;
        let mut token = URL_SAFE_NO_PAD.encode(HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AuthError::Signing)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

fn malformed(e: pem::Error) -> KeyError {
    KeyError::Malformed(match e {
        pem::Error::NoItemsFound => "no private key",
        pem::Error::MissingSectionEnd { .. } => "no END line",
        pem::Error::IllegalSectionStart { .. } => "malformed BEGIN line",
        pem::Error::Base64Decode(_) => "invalid base64",
        _ => "unreadable PEM",
    })
}

/// A `BEGIN RSA PRIVATE KEY` block encrypted the traditional OpenSSL way: RFC 1421 headers
/// (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: <cipher>,<iv>`) before the base64 body, which a
/// plain PEM reader does not take.
struct LegacyPem<'a> {
    dek_info: &'a str,
    /// The block without its headers.
    body: String,
}

impl<'a> LegacyPem<'a> {
    fn find(text: &'a str) -> Option<Self> {
        let begin = text.find("-----BEGIN RSA PRIVATE KEY-----")?;
        let mut dek_info = None;
        let mut body = String::with_capacity(text.len());
        for line in text[begin..].lines() {
            match line.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("DEK-Info") => {
                    dek_info = Some(value.trim());
                }
                Some(_) => {}
                None => {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
        Some(Self {
            dek_info: dek_info?,
            body,
        })
    }
}

/// Decrypts OpenSSL's legacy PEM encryption: `DEK-Info: AES-256-CBC,<iv>`, the key derived
/// from the passphrase with `EVP_BytesToKey` (MD5, one round, the IV's first 8 bytes as salt).
fn decrypt_legacy(dek_info: &str, data: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or(KeyError::Malformed("DEK-Info without an IV"))?;
    let mut iv = [0u8; 16];
    hex::decode_to_slice(iv_hex.trim(), &mut iv)
        .map_err(|_| KeyError::Malformed("DEK-Info IV is not 16 hex bytes"))?;
    let key_len = match cipher.trim() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        other => return Err(KeyError::Unsupported(format!("PEM cipher `{other}`"))),
    };
    let key = evp_bytes_to_key(passphrase, &iv[..8], key_len);
    let mut buf = data.to_vec();
    let plain = match key_len {
        16 => decrypt::<Aes128>(&key, &iv, &mut buf),
        24 => decrypt::<Aes192>(&key, &iv, &mut buf),
        _ => decrypt::<Aes256>(&key, &iv, &mut buf),
    };
    plain.map(<[u8]>::to_vec).ok_or(KeyError::WrongPassphrase)
}

fn decrypt<'b, C>(key: &[u8], iv: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]>
where
    C: BlockCipher + BlockDecrypt + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_mut::<Pkcs7>(buf)
        .ok()
}

fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(len + 16);
    let mut previous: Vec<u8> = Vec::new();
    while key.len() < len {
        previous = Md5::new()
            .chain_update(&previous)
            .chain_update(passphrase)
            .chain_update(salt)
            .finalize()
            .to_vec();
        key.extend_from_slice(&previous);
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSPHRASE: &[u8] = b"appwire-test-passphrase";
    const HOPEIT: &[u8] = include_bytes!("../../tests/keys/.private/test_caller.1x0.pem");
    const PKCS1: &[u8] = include_bytes!("../../tests/keys/formats/pkcs1.pem");
    const PKCS1_AES128: &[u8] = include_bytes!("../../tests/keys/formats/pkcs1-aes128.pem");
    const PKCS8: &[u8] = include_bytes!("../../tests/keys/formats/pkcs8.pem");
    const PKCS8_ENCRYPTED: &[u8] = include_bytes!("../../tests/keys/formats/pkcs8-encrypted.pem");

    fn public(key: &ClientKey) -> Vec<u8> {
        key.0.public().as_ref().to_vec()
    }

    #[test]
    fn reads_every_supported_form_of_the_same_key() {
        let hopeit = ClientKey::from_pem(HOPEIT, Some(PASSPHRASE)).expect("hopeit's format");
        for (pem, passphrase) in [
            (PKCS1, None),
            (PKCS1_AES128, Some(PASSPHRASE)),
            (PKCS8, None),
            // A passphrase for a plain key is not needed, and not in the way.
            (PKCS8, Some(PASSPHRASE)),
        ] {
            let key = ClientKey::from_pem(pem, passphrase).expect("readable");
            assert_eq!(public(&key), public(&hopeit));
        }
    }

    #[test]
    fn encrypted_keys_need_the_right_passphrase() {
        assert!(matches!(
            ClientKey::from_pem(HOPEIT, None),
            Err(KeyError::MissingPassphrase)
        ));
        assert!(matches!(
            ClientKey::from_pem(HOPEIT, Some(b"wrong")),
            Err(KeyError::WrongPassphrase)
        ));
    }

    #[test]
    fn unsupported_and_malformed_keys_are_refused() {
        assert!(matches!(
            ClientKey::from_pem(PKCS8_ENCRYPTED, Some(PASSPHRASE)),
            Err(KeyError::Unsupported(_))
        ));
        let garbage: [&[u8]; 5] = [
            b"",
            b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n",
            b"-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n",
            b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"\xff\xfe",
        ];
        for pem in garbage {
            assert!(
                matches!(ClientKey::from_pem(pem, None), Err(KeyError::Malformed(_))),
                "{pem:?}"
            );
        }
        assert!(matches!(
            ClientKey::from_pem(
                b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                None
            ),
            Err(KeyError::Rejected(_))
        ));
        let des = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: DES-EDE3-CBC,0011223344556677\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            ClientKey::from_pem(des, Some(b"x")),
            Err(KeyError::Malformed(_) | KeyError::Unsupported(_))
        ));
    }

    #[test]
    fn a_key_file_that_cannot_be_read_says_which_and_why() {
        let err = ClientKey::load("/nonexistent", "caller.1x0", None).expect_err("no file");
        assert_eq!(
            err.to_string(),
            "cannot read `/nonexistent/.private/caller.1x0.pem`: No such file or directory (os \
             error 2)"
        );
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -S 0001020304050607 -pass pass:secret`
        let key = evp_bytes_to_key(b"secret", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(
            hex::encode(key),
            "035fb8145b73cf111570dc936112be9c375a5d3d8b915bc213bdbef9dbfb7851"
        );
    }

    #[test]
    fn tokens_have_hopeits_header_and_claims() {
        let key = ClientKey::from_pem(PKCS8, None).expect("key");
        let token = key.token("caller.1x0", 1_700_000_000).expect("signed");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).expect("base64url");
        assert_eq!(decode(parts[0]), br#"{"alg":"RS256","typ":"JWT"}"#);
        assert_eq!(
            decode(parts[1]),
            br#"{"iat":1700000000,"exp":1700000060,"app":"caller.1x0"}"#
        );
        assert_eq!(decode(parts[2]).len(), 256);
    }

    #[test]
    fn tokens_are_byte_for_byte_what_hopeit_makes() {
        let key = ClientKey::from_pem(HOPEIT, Some(PASSPHRASE)).expect("key");
        let pyjwt = include_str!("../../tests/keys/token-1700000000.jwt");
        assert_eq!(
            key.token("test_caller.1x0", 1_700_000_000).expect("signed"),
            pyjwt.trim()
        );
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let key = ClientKey::from_pem(PKCS8, None).expect("key");
        assert_eq!(format!("{key:?}"), "ClientKey(<redacted>)");
    }
}
