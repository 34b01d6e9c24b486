//! The fiscal journal (api.md): per register, one entry per document, numbered from 1
//! without gaps and chained: `hash = sha256(prev_hash + content)` in lowercase hex, the
//! first `prev_hash` 64 zeros. `content` is canonical JSON (keys sorted, no whitespace) and
//! names the entry's register, `seq`, kind and document, so no entry can be moved, renumbered
//! or reworded without breaking the chain from there on.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a register's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub kind: String,
    pub document_id: String,
    pub recorded_at: String,
    pub content: String,
    pub prev_hash: String,
    pub hash: String,
}

/// `value` as canonical JSON text: object keys sorted, no insignificant whitespace.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The hash that follows `prev_hash` for `content`.
pub fn chain(prev_hash: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(content.as_bytes());
    hex::encode(hasher.finalize())
}

/// Where a verification has got to: the last good entry's `seq` and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub entries: u64,
    pub last_seq: i64,
    pub last_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            entries: 0,
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
        }
    }
}

impl Verifier {
    /// Takes the next entry, oldest first; `Err(seq)` names the first that does not follow:
    /// a gap or a repeat in the numbering, a `prev_hash` that is not the last hash, or a hash
    /// that is not the chain of its content.
    pub fn next(&mut self, entry: &Entry) -> Result<(), i64> {
        let follows = Some(entry.seq) == self.last_seq.checked_add(1)
            && entry.prev_hash == self.last_hash
            && entry.hash == chain(&entry.prev_hash, &entry.content);
        if !follows {
            return Err(entry.seq);
        }
        self.entries += 1;
        self.last_seq = entry.seq;
        self.last_hash.clone_from(&entry.hash);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use serde_json::json;

    use super::*;

    fn journal(contents: &[Value]) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        contents
            .iter()
            .zip(1..)
            .map(|(value, seq)| {
                let content = canonical(value);
                let hash = chain(&prev, &content);
                Entry {
                    seq,
                    kind: "sale".into(),
                    document_id: format!("d{seq}"),
                    recorded_at: "2026-11-24T12:00:00Z".into(),
                    content,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                }
            })
            .collect()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_has_no_whitespace() {
        let value = json!({"b": [{"z": 1, "a": "é"}], "a": null, "c": "x\"y"});
        assert_eq!(
            canonical(&value),
            r#"{"a":null,"b":[{"a":"é","z":1}],"c":"x\"y"}"#
        );
    }

    #[test]
    fn the_chain_is_sha256_of_the_previous_hash_and_the_content() {
        // sha256("0"×64 + "{}"), as Python's hashlib computes it.
        assert_eq!(
            chain(GENESIS, "{}"),
            "5508d2b710e64bc470079e1b211d9c58e21011e59d0559e422345dc19d659a75"
        );
    }

    #[test]
    fn verify_names_the_first_entry_that_was_changed_moved_or_dropped() {
        let entries = journal(&[
            json!({"total": "1.00"}),
            json!({"total": "2.00"}),
            json!({"total": "3.00"}),
        ]);
        let mut verifier = Verifier::default();
        for entry in &entries {
            verifier.next(entry).unwrap();
        }
        assert_eq!((verifier.entries, verifier.last_seq), (3, 3));
        assert_eq!(verifier.last_hash, entries[2].hash);

        let mut reworded = entries.clone();
        reworded[1].content = canonical(&json!({"total": "0.01"}));
        let mut dropped = entries.clone();
        dropped.remove(1);
        let mut rehashed = entries.clone();
        rehashed[1].content = canonical(&json!({"total": "0.01"}));
        rehashed[1].hash = chain(&rehashed[1].prev_hash, &rehashed[1].content);
        for (tampered, broken) in [(reworded, 2), (dropped, 3), (rehashed, 3)] {
            let mut verifier = Verifier::default();
            let first_bad = tampered.iter().find_map(|e| verifier.next(e).err());
            assert_eq!(first_bad, Some(broken));
        }
    }
}
