//! Creating a location; its code is unique by claim.

use tillstream_eventstore::{
    AppendRequest, Claim, EventMetadata, EventStore, NewEvent, StoreError,
};
use tillstream_kernel::Decider;

use crate::domain::location::{Command, Location, LocationId};
use crate::error::AppError;
use crate::projections::locations::{self, LocationRow};

pub async fn create_location(
    store: &EventStore,
    code: &str,
    name: &str,
    metadata: EventMetadata,
) -> Result<LocationRow, AppError> {
    let id = LocationId::generate();
    let command = Command::Create {
        id,
        code: code.to_owned(),
        name: name.to_owned(),
    };
    let events = Location::decide(&Location::default(), &command)?;
    let Some(crate::domain::location::Event::LocationCreated { code, name, .. }) =
        events.first().cloned()
    else {
        return Err(AppError::Conflict("nothing to create".into()));
    };
    let row = LocationRow {
        id: id.to_string(),
        code: code.clone(),
        name,
    };
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let request = AppendRequest::new(format!("location-{id}"), 0, new_events)
        .with_claims(vec![Claim::acquire("location_code", code)])
        .with_metadata(metadata);
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    store.append_in(&mut tx, &request).await?;
    locations::insert(&mut tx, &row)
        .await
        .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}
