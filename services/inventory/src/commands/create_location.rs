//! Creating a location; its code is unique by claim. Runs through the event store's
//! command runner: a new stream, the claim and the read-model row in one transaction.

use sqlx::PgConnection;
use tillstream_eventstore::{Claim, Decided, EventMetadata, EventStore, RunOptions, UseCase};
use tillstream_kernel::Decider;

use crate::domain::location::{Command, Event, Location, LocationId};
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
    let options = RunOptions {
        // A new stream: nothing may be there yet.
        expected_version: Some(0),
        metadata,
        ..Default::default()
    };
    store.run(&CreateLocation { id, command }, &options).await
}

struct CreateLocation {
    id: LocationId,
    command: Command,
}

impl UseCase for CreateLocation {
    type Aggregate = Location;
    type Output = LocationRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Location) -> Result<Vec<Event>, AppError> {
        Ok(Location::decide(state, &self.command)?)
    }

    fn claims(&self, events: &[Event]) -> Vec<Claim> {
        events
            .iter()
            .map(|Event::LocationCreated { code, .. }| {
                Claim::acquire("location_code", code.clone())
            })
            .collect()
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Location>,
    ) -> Result<LocationRow, AppError> {
        let Some(Event::LocationCreated { code, name, .. }) = decided.events.first() else {
            return Err(AppError::Refused("nothing to create".into()));
        };
        let row = LocationRow {
            id: self.id.to_string(),
            code: code.clone(),
            name: name.clone(),
        };
        locations::insert(&mut *tx, &row).await?;
        Ok(row)
    }
}
