//! Voiding a whole sale (a manager): once, and not after a return. Stock and the ledger
//! reverse what they recorded for it when they see `SaleVoided`.

use tillstream_eventstore::{EventMetadata, EventStore};

use super::changes::{change_sale, sale_id};
use crate::domain::controls::Authority;
use crate::domain::sale::Command;
use crate::error::AppError;

/// Voids the sale `id_or_number`; its id.
pub async fn void_sale(
    store: &EventStore,
    id_or_number: &str,
    reason: &str,
    controls: Option<Authority>,
    metadata: EventMetadata,
) -> Result<String, AppError> {
    let sale_id = sale_id(store, id_or_number).await?;
    let command = Command::Void {
        reason: reason.to_owned(),
        voided_at: tillstream_kernel::time::now(),
        controls,
    };
    change_sale(store, sale_id, &command, None, &metadata).await?;
    tracing::info!(%sale_id, "sale voided");
    Ok(sale_id.to_string())
}
