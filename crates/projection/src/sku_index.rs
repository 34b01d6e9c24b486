//! The reference read model, used by the tests and the benchmark and meant to be copied:
//! each stream's latest `sku` and how many events it has seen, folded in memory per batch
//! and upserted with one statement.

use std::collections::BTreeMap;

use crate::{Generation, Projection, ProjectionError};
use sqlx::{AssertSqlSafe, PgConnection};
use tillstream_eventstore::RecordedEvent;

#[derive(Debug, Clone, Default)]
pub struct SkuIndex {
    /// A SKU this projection refuses, to show a failing batch rolls back whole.
    pub fail_on: Option<&'static str>,
}

impl Projection for SkuIndex {
    fn name(&self) -> &'static str {
        "product_skus"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["product_skus"]
    }

    async fn create_tables(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
    ) -> Result<(), ProjectionError> {
        let sql = format!(
            "CREATE TABLE {} (stream_id text PRIMARY KEY, sku text NOT NULL, events integer NOT NULL)",
            generation.table("product_skus")
        );
        sqlx::query(AssertSqlSafe(sql)).execute(tx).await?;
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        // Fold the batch in memory first: one row per stream, one statement per batch.
        let mut latest: BTreeMap<&str, (String, i32)> = BTreeMap::new();
        for event in events {
            let payload = event
                .payload_value()
                .map_err(|e| bad(event, format!("the payload is not JSON: {e}")))?;
            let sku = payload["sku"]
                .as_str()
                .ok_or_else(|| bad(event, "no sku".into()))?;
            if Some(sku) == self.fail_on {
                return Err(bad(event, "poison".into()));
            }
            let entry = latest
                .entry(event.stream_id.as_str())
                .or_insert((String::new(), 0));
            entry.0 = sku.to_owned();
            entry.1 += 1;
        }
        let (ids, (skus, counts)): (Vec<&str>, (Vec<String>, Vec<i32>)) =
            latest.into_iter().unzip();
        let sql = format!(
            "INSERT INTO {t} (stream_id, sku, events)
             SELECT * FROM unnest($1::text[], $2::text[], $3::int4[])
             ON CONFLICT (stream_id) DO UPDATE
             SET sku = EXCLUDED.sku, events = {t}.events + EXCLUDED.events",
            t = generation.table("product_skus")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&ids)
            .bind(&skus)
            .bind(&counts)
            .execute(tx)
            .await?;
        Ok(())
    }
}

fn bad(event: &RecordedEvent, reason: String) -> ProjectionError {
    ProjectionError::BadEvent {
        event_id: event.event_id.to_string(),
        event_type: event.event_type.clone(),
        reason,
    }
}
