//! `tillstream.inventory.v1.InventoryService`.

use rust_decimal::Decimal;
use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_server::InventoryService;
use tonic::{Request, Response, Status};

use crate::api::error::AppError;
use crate::commands::create_location::create_location;
use crate::commands::receive_stock::{ReceiptLine, receive_stock};
use crate::projections::locations::{self, LocationRow};
use crate::projections::stock_levels::{self, StockLevelRow};

#[derive(Debug, Clone)]
pub struct InventoryApi {
    pub store: EventStore,
}

#[tonic::async_trait]
impl InventoryService for InventoryApi {
    async fn create_location(
        &self,
        request: Request<pb::CreateLocationRequest>,
    ) -> Result<Response<pb::Location>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let row = create_location(&self.store, &request.code, &request.name, metadata).await?;
        Ok(Response::new(location_to_proto(row)))
    }

    async fn list_locations(
        &self,
        _: Request<pb::ListLocationsRequest>,
    ) -> Result<Response<pb::ListLocationsResponse>, Status> {
        let rows = locations::all(self.store.pool())
            .await
            .map_err(|e| AppError::Store(e.into()))?;
        Ok(Response::new(pb::ListLocationsResponse {
            locations: rows.into_iter().map(location_to_proto).collect(),
        }))
    }

    async fn receive_stock(
        &self,
        request: Request<pb::ReceiveStockRequest>,
    ) -> Result<Response<pb::ReceiveStockResponse>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let lines = request
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                Ok(ReceiptLine {
                    product_id: line.product_id.trim().to_owned(),
                    quantity: decimal(&line.quantity, &format!("lines[{i}].quantity"))?,
                    unit_cost: decimal(&line.unit_cost, &format!("lines[{i}].unit_cost"))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let levels =
            receive_stock(&self.store, request.location_id.trim(), &lines, metadata).await?;
        Ok(Response::new(pb::ReceiveStockResponse {
            levels: levels.into_iter().map(level_to_proto).collect(),
        }))
    }

    async fn get_stock(
        &self,
        request: Request<pb::GetStockRequest>,
    ) -> Result<Response<pb::GetStockResponse>, Status> {
        let request = request.into_inner();
        let filter = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (product, location) = (filter(&request.product_id), filter(&request.location_id));
        let rows = stock_levels::find(self.store.pool(), product.as_deref(), location.as_deref())
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        Ok(Response::new(pb::GetStockResponse {
            levels: rows.into_iter().map(level_to_proto).collect(),
        }))
    }
}

fn metadata_of<T>(request: &Request<T>) -> EventMetadata {
    let header = |name: &str| {
        request
            .metadata()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    EventMetadata {
        traceparent: header("traceparent"),
        correlation_id: header("x-correlation-id"),
        actor: header("x-actor"),
        ..Default::default()
    }
}

fn decimal(text: &str, field: &str) -> Result<Decimal, AppError> {
    Decimal::from_str_exact(text.trim())
        .map_err(|_| AppError::invalid(field, format!("`{text}` is not a decimal number")))
}

fn location_to_proto(row: LocationRow) -> pb::Location {
    pb::Location {
        id: row.id,
        code: row.code,
        name: row.name,
    }
}

fn level_to_proto(row: StockLevelRow) -> pb::StockLevel {
    pb::StockLevel {
        below_reorder: row.below_reorder(),
        product_id: row.product_id,
        location_id: row.location_id,
        on_hand: row.on_hand.normalize().to_string(),
        avg_cost: cost_text(row.avg_cost),
        reorder_point: row
            .reorder_point
            .map(|r| r.normalize().to_string())
            .unwrap_or_default(),
    }
}

/// A unit cost: at least the cents, and up to four places, as an average can need them.
fn cost_text(cost: Decimal) -> String {
    let mut cost = cost.round_dp(4).normalize();
    if cost.scale() < 2 {
        cost.rescale(2);
    }
    cost.to_string()
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;

    use super::cost_text;

    #[test]
    fn costs_show_cents_and_at_most_four_places() {
        assert_eq!(cost_text(dec!(1.2)), "1.20");
        assert_eq!(cost_text(dec!(3)), "3.00");
        assert_eq!(cost_text(dec!(1.234567)), "1.2346");
    }
}
