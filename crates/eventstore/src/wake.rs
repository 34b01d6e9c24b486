//! Waking the log's readers when an append commits, instead of having them poll.
//!
//! A statement trigger on `events` notifies [`APPENDED_CHANNEL`] (migration 0004);
//! PostgreSQL delivers it at commit, once per transaction, to every listening connection of
//! the database, whichever process appended. One listening connection per process feeds a
//! counter that the process's relay and projections wait on.
//!
//! A notification says "something committed", not "it is readable": the gap-safe read
//! still hides an event below an older transaction that is running. A reader that was woken
//! and found nothing therefore compares with [`EventStore::head`] and polls until the
//! horizon passes (see the relay and the projection runner).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::EventStore;

/// The channel the `events` trigger notifies.
pub const APPENDED_CHANNEL: &str = "tillstream_events_appended";

/// While there is no listening connection, waiters are woken this often: they fall back
/// to polling, at a pace that keeps a stopped database from being hammered.
const DEGRADED_POLL: Duration = Duration::from_millis(100);

/// Shares one listening connection among a process's readers of one store.
#[derive(Debug, Clone)]
pub(crate) struct AppendSignal {
    appended: watch::Receiver<u64>,
}

impl AppendSignal {
    /// Starts listening on `pool`'s database. The listening task ends when every waiter
    /// (and the store that made them) is gone.
    pub(crate) fn listen(pool: PgPool) -> AppendSignal {
        let (sender, appended) = watch::channel(0);
        tokio::spawn(listen_until_unwatched(pool, sender));
        AppendSignal { appended }
    }

    pub(crate) fn waiter(&self) -> AppendWaiter {
        let mut appended = self.appended.clone();
        appended.mark_unchanged();
        AppendWaiter { appended }
    }
}

/// One reader's view of the commits: has anything been appended since it last looked?
#[derive(Debug)]
pub struct AppendWaiter {
    appended: watch::Receiver<u64>,
}

impl AppendWaiter {
    /// Waits until an append commits after the last wait returned, or `at_most` passes.
    /// An append that committed while the caller was reading wakes it at once, so a read
    /// followed by a wait never sleeps past an event.
    pub async fn appended_or_after(&mut self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.appended.changed()).await;
    }
}

impl EventStore {
    /// A waiter woken by the commits of appends to this store, from any process.
    pub fn appends(&self) -> AppendWaiter {
        self.signal
            .get_or_init(|| AppendSignal::listen(self.pool.clone()))
            .waiter()
    }
}

async fn listen_until_unwatched(pool: PgPool, sender: watch::Sender<u64>) {
    let wake = |sender: &watch::Sender<u64>| sender.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                debug!(%error, "no LISTEN connection; readers poll every 100 ms meanwhile");
                wake(&sender);
                tokio::select! {
                    () = sender.closed() => return,
                    () = tokio::time::sleep(DEGRADED_POLL) => continue,
                }
            }
        };
        // Whatever committed while nobody listened is caught by one read.
        wake(&sender);
        loop {
            tokio::select! {
                () = sender.closed() => return,
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => {
                        while listener.next_buffered().is_some() {}
                        wake(&sender);
                    }
                    Ok(None) => {
                        // The connection was lost: notifications meanwhile are gone, so
                        // the readers look once; the listener reconnects on the next call.
                        warn!("the LISTEN connection for appends was lost; reconnecting");
                        wake(&sender);
                    }
                    Err(error) => {
                        warn!(%error, "the LISTEN connection for appends failed");
                        break;
                    }
                },
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(APPENDED_CHANNEL).await?;
    Ok(listener)
}
