//! The master key (`TILLSTREAM_DATA_KEY`, or generated once and kept) and the subjects' keys
//! it wraps. A subject's key is a row of `subject_keys`; erasing the subject deletes the row,
//! and with it every way to read what was sealed under it, wherever the copy went.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgConnection;
use sqlx::PgPool;

use super::PrivacyError;
use super::seal::{KEY_LEN, Key};

/// The key that wraps every subject's key, and from which the search index's key derives.
#[derive(Debug, Clone)]
pub struct MasterKey {
    wrapping: Key,
    index: Key,
}

impl MasterKey {
    pub fn new(key: Key) -> Result<Self, PrivacyError> {
        let index = derive(&key, b"tillstream/customer-search/v1")?;
        Ok(MasterKey {
            wrapping: key,
            index,
        })
    }

    /// A configured key: 64 hex digits or the base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, PrivacyError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN {
            hex::decode(text).ok()
        } else {
            STANDARD.decode(text).ok()
        };
        bytes
            .as_deref()
            .and_then(Key::from_slice)
            .ok_or(PrivacyError::BadMasterKey)
            .and_then(MasterKey::new)
    }

    /// The configured key checked against the one the database's keys were wrapped with,
    /// or, with none configured, the database's own, generated on the first start.
    pub async fn load(pool: &PgPool, configured: Option<&str>) -> Result<Self, PrivacyError> {
        let configured = configured.map(MasterKey::parse).transpose()?;
        let generated = match &configured {
            Some(_) => None,
            None => Some(Key::generate()?),
        };
        let offered = match (&configured, &generated) {
            (Some(key), _) => key.fingerprint()?,
            (None, Some(key)) => MasterKey::new(key.clone())?.fingerprint()?,
            (None, None) => Vec::new(),
        };
        // Replicas starting together: the first insert wins and every one reads it back.
        sqlx::query(
            "INSERT INTO data_key (id, generated, fingerprint) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(generated.as_ref().map(|key| key.as_bytes().to_vec()))
        .bind(&offered)
        .execute(pool)
        .await?;
        let (kept, fingerprint): (Option<Vec<u8>>, Vec<u8>) =
            sqlx::query_as("SELECT generated, fingerprint FROM data_key WHERE id = 1")
                .fetch_one(pool)
                .await?;
        let key = match (configured, kept) {
            (Some(key), _) => key,
            (None, Some(kept)) => Key::from_slice(&kept)
                .ok_or(PrivacyError::BadMasterKey)
                .and_then(MasterKey::new)?,
            (None, None) => return Err(PrivacyError::MasterKeyMissing),
        };
        if key.fingerprint()? != fingerprint {
            return Err(PrivacyError::MasterKeyChanged);
        }
        Ok(key)
    }

    fn fingerprint(&self) -> Result<Vec<u8>, PrivacyError> {
        Ok(
            derive(&self.wrapping, b"tillstream/data-key-fingerprint/v1")?
                .as_bytes()
                .to_vec(),
        )
    }

    /// The search index's token for `value` of `kind`: the same input gives the same token,
    /// and nothing can be learned from the token without the master key.
    pub fn blind(&self, kind: &str, value: &str) -> Result<Vec<u8>, PrivacyError> {
        let mut mac = hmac(&self.index)?;
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        Ok(mac.finalize().into_bytes()[..16].to_vec())
    }

    /// A new key for `subject`, kept (wrapped) in the caller's transaction.
    pub async fn create_key(
        &self,
        tx: &mut PgConnection,
        subject: &str,
    ) -> Result<Key, PrivacyError> {
        let key = Key::generate()?;
        let wrapped = self.wrapping.seal(subject, key.as_bytes())?;
        sqlx::query(
            "INSERT INTO subject_keys (subject_id, wrapped) VALUES ($1, $2) \
             ON CONFLICT (subject_id) DO UPDATE SET wrapped = subject_keys.wrapped",
        )
        .bind(subject)
        .bind(&wrapped)
        .execute(&mut *tx)
        .await?;
        // A retried command finds the key its first attempt kept: one key per subject.
        let kept: Vec<u8> =
            sqlx::query_scalar("SELECT wrapped FROM subject_keys WHERE subject_id = $1")
                .bind(subject)
                .fetch_one(&mut *tx)
                .await?;
        self.unwrap_key(subject, &kept)
    }

    /// A subject's key from its wrapped form (as read beside the row it seals).
    pub fn unwrap_key(&self, subject: &str, wrapped: &[u8]) -> Result<Key, PrivacyError> {
        let bytes = self.wrapping.open(subject, wrapped)?;
        Key::from_slice(&bytes).ok_or(PrivacyError::Open)
    }

    /// The subject's key, or `None` once it was destroyed.
    pub async fn key_of(
        &self,
        tx: &mut PgConnection,
        subject: &str,
    ) -> Result<Option<Key>, PrivacyError> {
        let wrapped: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT wrapped FROM subject_keys WHERE subject_id = $1")
                .bind(subject)
                .fetch_optional(&mut *tx)
                .await?;
        wrapped
            .map(|wrapped| self.unwrap_key(subject, &wrapped))
            .transpose()
    }
}

/// Destroys `subject`'s key: what was sealed under it is unreadable from then on.
pub async fn destroy_key(tx: &mut PgConnection, subject: &str) -> Result<(), PrivacyError> {
    sqlx::query("DELETE FROM subject_keys WHERE subject_id = $1")
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn hmac(key: &Key) -> Result<Hmac<Sha256>, PrivacyError> {
    <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).map_err(|_| PrivacyError::Seal)
}

fn derive(key: &Key, label: &[u8]) -> Result<Key, PrivacyError> {
    let mut mac = hmac(key)?;
    mac.update(label);
    Key::from_slice(&mac.finalize().into_bytes()[..KEY_LEN]).ok_or(PrivacyError::Seal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_key_is_hex_or_base64_of_32_bytes() {
        let hex_key = "00".repeat(32);
        assert!(MasterKey::parse(&hex_key).is_ok());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 16])).is_err());
    }

    #[test]
    fn blind_tokens_are_stable_per_key_and_kind() {
        let a = MasterKey::new(Key::from_bytes([1; 32])).unwrap();
        let b = MasterKey::new(Key::from_bytes([2; 32])).unwrap();
        let token = |key: &MasterKey, kind, value| key.blind(kind, value).unwrap();
        assert_eq!(token(&a, "email", "x@y.z"), token(&a, "email", "x@y.z"));
        assert_ne!(token(&a, "email", "x@y.z"), token(&a, "phone", "x@y.z"));
        assert_ne!(token(&a, "email", "x@y.z"), token(&b, "email", "x@y.z"));
    }

    #[test]
    fn a_wrapped_key_unwraps_only_for_its_subject() {
        let master = MasterKey::new(Key::generate().unwrap()).unwrap();
        let key = Key::generate().unwrap();
        let wrapped = master.wrapping.seal("c1", key.as_bytes()).unwrap();
        assert_eq!(
            master.unwrap_key("c1", &wrapped).unwrap().as_bytes(),
            key.as_bytes()
        );
        assert!(master.unwrap_key("c2", &wrapped).is_err());
    }
}
