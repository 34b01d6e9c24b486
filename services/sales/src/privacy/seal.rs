//! Sealing personal data: XChaCha20-Poly1305 under a key of the subject's own (a customer,
//! or a sale for its free-text customer), the subject's id as associated data so a sealed
//! value cannot be passed off as another subject's. A fresh random 192-bit nonce per seal.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use super::PrivacyError;

/// The length of a key, of the master key and of every subject's.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// A key; zeroed on drop is not promised (the process holds the master key anyway).
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; KEY_LEN]>::try_from(bytes).ok().map(Key)
    }

    pub fn generate() -> Result<Self, PrivacyError> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::getrandom(&mut bytes).map_err(|_| PrivacyError::Random)?;
        Ok(Key(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// `plaintext` sealed for `subject`: the nonce, then the ciphertext and its tag.
    pub fn seal(&self, subject: &str, plaintext: &[u8]) -> Result<Vec<u8>, PrivacyError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|_| PrivacyError::Random)?;
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|_| PrivacyError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// What [`Key::seal`] sealed for `subject`; anything else (another key, another subject,
    /// a changed byte) is an error.
    pub fn open(&self, subject: &str, sealed: &[u8]) -> Result<Vec<u8>, PrivacyError> {
        if sealed.len() < NONCE_LEN {
            return Err(PrivacyError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(&self.0.into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|_| PrivacyError::Open)
    }
}

/// A sealed value as events and read models carry it: whose key, and the sealed bytes
/// (base64 in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub key_id: String,
    #[serde(with = "base64_bytes")]
    pub sealed: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_with_its_key_and_subject() {
        let key = Key::generate().unwrap();
        let sealed = key.seal("c1", b"ada@example.com").unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"ada"));
        assert_eq!(key.open("c1", &sealed).unwrap(), b"ada@example.com");
        assert!(key.open("c2", &sealed).is_err());
        assert!(Key::generate().unwrap().open("c1", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open("c1", &tampered).is_err());
        assert!(key.open("c1", &sealed[..10]).is_err());
    }

    #[test]
    fn two_seals_of_the_same_text_differ() {
        let key = Key::generate().unwrap();
        assert_ne!(key.seal("c1", b"x").unwrap(), key.seal("c1", b"x").unwrap());
    }
}
