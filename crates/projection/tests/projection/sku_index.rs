//! A small read model for the tests (and a model for real ones): each product's current
//! SKU and how many events it has seen, upserted set-wise per batch.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, PgConnection};
use tillstream_eventstore::RecordedEvent;
use tillstream_projection::{Generation, Projection, ProjectionError};

pub struct SkuIndex {
    /// A SKU this projection chokes on, to test rollback.
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
            let sku = event.payload["sku"]
                .as_str()
                .ok_or_else(|| ProjectionError::BadEvent {
                    event_id: event.event_id.to_string(),
                    event_type: event.event_type.clone(),
                    reason: "no sku".into(),
                })?;
            if Some(sku) == self.fail_on {
                return Err(ProjectionError::BadEvent {
                    event_id: event.event_id.to_string(),
                    event_type: event.event_type.clone(),
                    reason: "poison".into(),
                });
            }
            let entry = latest
                .entry(event.stream_id.as_str())
                .or_insert((String::new(), 0));
            entry.0 = sku.to_owned();
            entry.1 += 1;
        }
        let (ids, (skus, counts)): (Vec<&str>, (Vec<String>, Vec<i32>)) = latest
            .into_iter()
            .map(|(id, (sku, n))| (id, (sku, n)))
            .unzip();
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
