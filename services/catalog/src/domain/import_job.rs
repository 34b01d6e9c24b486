//! The import job aggregate: queued with its rows, processed chunk by chunk (each chunk's
//! outcome one event, committed with the chunk's products), completed, and retried for its
//! failed rows.

use serde::{Deserialize, Serialize};
use tillstream_kernel::Decider;
use tillstream_kernel::DomainEvent;

use super::import::RowError;

tillstream_kernel::typed_id!(
    /// An import job's id.
    ImportId,
    stream = "import"
);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// A SKU already in the catalog is a row error.
    #[default]
    Create,
    /// A SKU already in the catalog updates that product.
    Upsert,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    #[default]
    Queued,
    Processing,
    Completed,
    CompletedWithErrors,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Processing => "processing",
            ImportStatus::Completed => "completed",
            ImportStatus::CompletedWithErrors => "completed_with_errors",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobCommand {
    Queue {
        id: ImportId,
        mode: ImportMode,
        total_rows: u32,
    },
    /// The outcome of one chunk; `remaining` rows are still to do after it.
    RecordChunk {
        succeeded: u32,
        failed: Vec<RowError>,
        remaining: u32,
    },
    /// Process these failed rows again.
    Retry { rows: Vec<u32> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum JobEvent {
    ImportQueued {
        id: ImportId,
        mode: ImportMode,
        total_rows: u32,
    },
    RowsProcessed {
        succeeded: u32,
        failed: Vec<RowError>,
    },
    ImportCompleted {
        succeeded: u32,
        failed: u32,
    },
    ImportRetried {
        rows: Vec<u32>,
    },
}

impl DomainEvent for JobEvent {
    fn event_type(&self) -> &'static str {
        match self {
            JobEvent::ImportQueued { .. } => "ImportQueued",
            JobEvent::RowsProcessed { .. } => "RowsProcessed",
            JobEvent::ImportCompleted { .. } => "ImportCompleted",
            JobEvent::ImportRetried { .. } => "ImportRetried",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("the import already exists")]
    AlreadyExists,
    #[error("no such import")]
    NotFound,
    #[error("the import is {0}; only an import completed with errors can be retried")]
    NotRetryable(&'static str),
    #[error("the import is already completed")]
    AlreadyCompleted,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub exists: bool,
    pub mode: ImportMode,
    pub status: ImportStatus,
    pub total_rows: u32,
    pub succeeded: u32,
    pub failed: u32,
}

impl Decider for ImportJob {
    type State = ImportJob;
    type Command = JobCommand;
    type Event = JobEvent;
    type Error = JobError;

    fn decide(state: &ImportJob, command: &JobCommand) -> Result<Vec<JobEvent>, JobError> {
        match command {
            JobCommand::Queue { .. } if state.exists => Err(JobError::AlreadyExists),
            JobCommand::Queue {
                id,
                mode,
                total_rows,
            } => Ok(vec![JobEvent::ImportQueued {
                id: *id,
                mode: *mode,
                total_rows: *total_rows,
            }]),
            _ if !state.exists => Err(JobError::NotFound),
            JobCommand::RecordChunk { .. }
                if matches!(
                    state.status,
                    ImportStatus::Completed | ImportStatus::CompletedWithErrors
                ) =>
            {
                Err(JobError::AlreadyCompleted)
            }
            JobCommand::RecordChunk {
                succeeded,
                failed,
                remaining,
            } => {
                let mut events = vec![JobEvent::RowsProcessed {
                    succeeded: *succeeded,
                    failed: failed.clone(),
                }];
                if *remaining == 0 {
                    let failed_count = u32::try_from(failed.len()).unwrap_or(u32::MAX);
                    events.push(JobEvent::ImportCompleted {
                        succeeded: state.succeeded + succeeded,
                        failed: state.failed + failed_count,
                    });
                }
                Ok(events)
            }
            JobCommand::Retry { .. } if state.status != ImportStatus::CompletedWithErrors => {
                Err(JobError::NotRetryable(state.status.as_str()))
            }
            JobCommand::Retry { rows } => Ok(vec![JobEvent::ImportRetried { rows: rows.clone() }]),
        }
    }

    fn evolve(mut state: ImportJob, event: &JobEvent) -> ImportJob {
        match event {
            JobEvent::ImportQueued {
                mode, total_rows, ..
            } => {
                state.exists = true;
                state.mode = *mode;
                state.total_rows = *total_rows;
                state.status = ImportStatus::Queued;
            }
            JobEvent::RowsProcessed { succeeded, failed } => {
                state.status = ImportStatus::Processing;
                state.succeeded += succeeded;
                state.failed += u32::try_from(failed.len()).unwrap_or(u32::MAX);
            }
            JobEvent::ImportCompleted { failed, .. } => {
                state.status = if *failed == 0 {
                    ImportStatus::Completed
                } else {
                    ImportStatus::CompletedWithErrors
                };
            }
            JobEvent::ImportRetried { rows } => {
                state.failed = state
                    .failed
                    .saturating_sub(u32::try_from(rows.len()).unwrap_or(u32::MAX));
                state.status = ImportStatus::Queued;
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::given;

    use super::*;

    fn queued(total_rows: u32) -> Vec<JobEvent> {
        vec![JobEvent::ImportQueued {
            id: ImportId::generate(),
            mode: ImportMode::Create,
            total_rows,
        }]
    }

    fn error(row: u32) -> RowError {
        RowError {
            row,
            sku: format!("S{row}"),
            field: "price".into(),
            message: "bad".into(),
        }
    }

    #[test]
    fn the_last_chunk_completes_the_job_with_its_totals() {
        let mut history = queued(3);
        history.push(JobEvent::RowsProcessed {
            succeeded: 1,
            failed: vec![],
        });
        given::<ImportJob>(history.clone())
            .when(JobCommand::RecordChunk {
                succeeded: 1,
                failed: vec![error(3)],
                remaining: 0,
            })
            .then(vec![
                JobEvent::RowsProcessed {
                    succeeded: 1,
                    failed: vec![error(3)],
                },
                JobEvent::ImportCompleted {
                    succeeded: 2,
                    failed: 1,
                },
            ]);
    }

    #[test]
    fn only_a_job_completed_with_errors_is_retried() {
        given::<ImportJob>(queued(1))
            .when(JobCommand::Retry { rows: vec![2] })
            .then_error(JobError::NotRetryable("queued"));
        let mut done = queued(1);
        done.push(JobEvent::RowsProcessed {
            succeeded: 0,
            failed: vec![error(2)],
        });
        done.push(JobEvent::ImportCompleted {
            succeeded: 0,
            failed: 1,
        });
        given::<ImportJob>(done.clone())
            .when(JobCommand::Retry { rows: vec![2] })
            .then(vec![JobEvent::ImportRetried { rows: vec![2] }]);
        given::<ImportJob>(done)
            .when(JobCommand::RecordChunk {
                succeeded: 1,
                failed: vec![],
                remaining: 0,
            })
            .then_error(JobError::AlreadyCompleted);
    }
}
