//! `tillstream.inventory.v1.InventoryService`.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use tillstream_eventstore::{EventStore, IdempotencyKey, StoreError, request_hash};
use tillstream_kernel::{Quantity, parse_unit_cost};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_server::InventoryService;
use tillstream_service::grpc::metadata_of;
use tonic::{Request, Response, Status};

use crate::commands::adjust_stock::adjust_stock;
use crate::commands::checks::Recorded;
use crate::commands::count_stock::{CountLine, count_stock};
use crate::commands::create_location::create_location;
use crate::commands::receive_stock::{ReceiptLine, receive_stock};
use crate::commands::transfer_stock::{TransferLine, transfer_stock};
use crate::domain::stock_item::COST_SCALE;
use crate::error::AppError;
use crate::projections::locations::{self, LocationRow};
use crate::projections::movements::{self, MovementRow};
use crate::projections::stock_levels::{self, LevelFilter, StockLevelRow};

#[derive(Debug, Clone)]
pub struct InventoryApi {
    pub store: EventStore,
    /// Movement history: the read-only pool (`Process::reads`).
    pub reads: sqlx::PgPool,
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
        let idempotency = idempotency_of("receive_stock", &request, |r| &mut r.idempotency_key)?;
        let lines = request
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                Ok(ReceiptLine {
                    product_id: line.product_id.trim().to_owned(),
                    quantity: quantity(&line.quantity, &format!("lines[{i}].quantity"))?,
                    unit_cost: unit_cost(&line.unit_cost, &format!("lines[{i}].unit_cost"))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let reference = optional(&request.reference);
        let recorded = receive_stock(
            &self.store,
            request.location_id.trim(),
            reference,
            &lines,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(pb::ReceiveStockResponse {
            id: recorded.id,
            movements: recorded
                .movements
                .into_iter()
                .map(movement_to_proto)
                .collect(),
            levels: recorded.levels.into_iter().map(level_to_proto).collect(),
        }))
    }

    async fn adjust_stock(
        &self,
        request: Request<pb::AdjustStockRequest>,
    ) -> Result<Response<pb::StockMovementsResponse>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let idempotency = idempotency_of("adjust_stock", &request, |r| &mut r.idempotency_key)?;
        let delta = quantity(&request.delta, "delta")?;
        let recorded = adjust_stock(
            &self.store,
            request.location_id.trim(),
            request.product_id.trim(),
            delta,
            &request.reason,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(recorded_to_proto(recorded)))
    }

    async fn count_stock(
        &self,
        request: Request<pb::CountStockRequest>,
    ) -> Result<Response<pb::StockMovementsResponse>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let idempotency = idempotency_of("count_stock", &request, |r| &mut r.idempotency_key)?;
        let lines = request
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                Ok(CountLine {
                    product_id: line.product_id.trim().to_owned(),
                    counted: quantity(&line.counted, &format!("lines[{i}].counted"))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let counted_at = moment(&request.counted_at, "counted_at")?;
        let recorded = count_stock(
            &self.store,
            request.location_id.trim(),
            &lines,
            counted_at,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(recorded_to_proto(recorded)))
    }

    async fn transfer_stock(
        &self,
        request: Request<pb::TransferStockRequest>,
    ) -> Result<Response<pb::StockMovementsResponse>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let idempotency = idempotency_of("transfer_stock", &request, |r| &mut r.idempotency_key)?;
        let lines = request
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                Ok(TransferLine {
                    product_id: line.product_id.trim().to_owned(),
                    quantity: quantity(&line.quantity, &format!("lines[{i}].quantity"))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let recorded = transfer_stock(
            &self.store,
            request.from_location_id.trim(),
            request.to_location_id.trim(),
            optional(&request.reference),
            &lines,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(recorded_to_proto(recorded)))
    }

    async fn get_stock(
        &self,
        request: Request<pb::GetStockRequest>,
    ) -> Result<Response<pb::GetStockResponse>, Status> {
        let request = request.into_inner();
        let filter = LevelFilter {
            product_id: optional(&request.product_id).map(str::to_owned),
            location_id: optional(&request.location_id).map(str::to_owned),
            below_reorder: request.below_reorder,
            as_of: moment(&request.as_of, "as_of")?,
        };
        let (limit, offset) = paging(request.page, request.limit);
        let (rows, total) = stock_levels::page(self.store.pool(), &filter, limit, offset)
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        Ok(Response::new(pb::GetStockResponse {
            levels: rows.into_iter().map(level_to_proto).collect(),
            total,
        }))
    }

    async fn list_movements(
        &self,
        request: Request<pb::ListMovementsRequest>,
    ) -> Result<Response<pb::ListMovementsResponse>, Status> {
        let request = request.into_inner();
        let (limit, offset) = paging(request.page, request.limit);
        let (rows, total) = movements::page(
            &self.reads,
            optional(&request.product_id),
            optional(&request.location_id),
            limit,
            offset,
        )
        .await
        .map_err(|e| AppError::Store(StoreError::from(e)))?;
        Ok(Response::new(pb::ListMovementsResponse {
            movements: rows.into_iter().map(movement_to_proto).collect(),
            total,
        }))
    }
}

/// A page's size and offset; page 0 is the first and a limit of 0 the default.
pub(super) fn paging(page: u32, limit: u32) -> (u32, u64) {
    let limit = match limit {
        0 => 50,
        n => n.min(200),
    };
    let offset = u64::from(page.max(1) - 1) * u64::from(limit);
    (limit, offset)
}

pub(super) fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// An RFC 3339 moment; empty means none.
pub(super) fn moment(text: &str, field: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    tillstream_service::moments::moment(text).map_err(|e| AppError::invalid(field, e))
}

/// A quantity within the contract's range (a million units, three places).
pub(super) fn quantity(text: &str, field: &str) -> Result<Quantity, AppError> {
    Quantity::parse(text).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// A unit cost within the range of money, with up to the four places costs carry.
pub(super) fn unit_cost(text: &str, field: &str) -> Result<Decimal, AppError> {
    parse_unit_cost(text, COST_SCALE).map_err(|e| AppError::invalid(field, e.to_string()))
}

fn location_to_proto(row: LocationRow) -> pb::Location {
    pb::Location {
        id: row.id,
        code: row.code,
        name: row.name,
    }
}

fn recorded_to_proto(recorded: Recorded) -> pb::StockMovementsResponse {
    pb::StockMovementsResponse {
        id: recorded.id,
        movements: recorded
            .movements
            .into_iter()
            .map(movement_to_proto)
            .collect(),
        levels: recorded.levels.into_iter().map(level_to_proto).collect(),
    }
}

fn movement_to_proto(row: MovementRow) -> pb::Movement {
    pb::Movement {
        product_id: row.product_id,
        location_id: row.location_id,
        kind: row.kind,
        quantity: row.quantity.normalize().to_string(),
        unit_cost: cost_text(row.unit_cost),
        reference: row.reference.unwrap_or_default(),
        reason: row.reason.unwrap_or_default(),
        occurred_at: row.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        on_hand_after: row.on_hand_after.normalize().to_string(),
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
pub(super) fn cost_text(cost: Decimal) -> String {
    let mut cost = cost.round_dp(4).normalize();
    if cost.scale() < 2 {
        cost.rescale(2);
    }
    cost.to_string()
}

/// The request's idempotency key, scoped to the command, with a hash of the rest of the
/// request so a key reused for another request is refused.
pub(super) fn idempotency_of<M: prost::Message + Clone>(
    command: &str,
    request: &M,
    key_of: impl Fn(&mut M) -> &mut String,
) -> Result<Option<IdempotencyKey>, AppError> {
    let mut rest = request.clone();
    let key = std::mem::take(key_of(&mut rest)).trim().to_owned();
    if key.is_empty() {
        return Ok(None);
    }
    let hash = request_hash(&rest.encode_to_vec())?;
    Ok(Some(IdempotencyKey::new(format!("{command}:{key}"), hash)))
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
