//! Inventory's location events → `known_locations` (sale numbers carry the code).

use sqlx::PgConnection;
use tillstream_messaging::{Handled, Handler, InboundEvent};
use tillstream_proto::inventory::v1 as inventory;

use crate::projections::catalog_copy;

#[derive(Debug, Clone, Copy, Default)]
pub struct Locations;

impl Handler for Locations {
    fn wants(&self, event: &InboundEvent) -> bool {
        event.ce_type == "tillstream.inventory.v1.LocationCreated"
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        if event.ce_type != "tillstream.inventory.v1.LocationCreated" {
            return Ok(());
        }
        let created = event.decode::<inventory::LocationCreated>()?;
        catalog_copy::upsert_location(tx, &created.location_id, &created.code).await?;
        Ok(())
    }
}
