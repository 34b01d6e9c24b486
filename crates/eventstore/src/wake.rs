//! Waking the log's readers when an append commits, instead of having them poll.
//!
//! After a transaction that appended commits, its process announces it
//! ([`EventStore::announce`]): one background task per process and store sends
//! `NOTIFY` on [`APPENDED_CHANNEL`] from a connection of its own, one at a time, so a burst
//! of commits is one or two notifications. Not a trigger in the appending transaction:
//! PostgreSQL holds a cluster-wide lock from a notifying transaction's pre-commit until its
//! commit is flushed, which serialised every append (104 sales/s flat out with the
//! trigger, 163 without). The announcing connection commits its notification-only
//! transactions with `synchronous_commit = off`: they carry no data. PostgreSQL delivers
//! each notification to every connection of the database that listens, whichever process
//! appended; one listening connection per process feeds a counter that the process's relay
//! and projections wait on.
//!
//! A notification says "something committed", not "it is readable": the gap-safe read
//! still hides an event below an older transaction that is running. A reader that was woken
//! and found nothing therefore compares with [`EventStore::head`] and polls until the
//! horizon passes (see the relay and the projection runner).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use crate::EventStore;

/// The channel the `events` trigger notifies.
pub const APPENDED_CHANNEL: &str = "tillstream_events_appended";

/// The least time between two announcements of one process: a reader waits this much
/// longer at most, and a process sends at most 200 notifications a second.
const ANNOUNCE_SPACING: Duration = Duration::from_millis(5);

/// While there is no listening connection, waiters are woken after each attempt to open one
/// (which itself may wait up to 5 s for a database that is away), at least this far apart.
const DEGRADED_POLL: Duration = Duration::from_millis(100);

/// Shares one listening connection among a process's readers of one store. Started by the
/// first reader (a replica's first term as leader) and kept while the store lives.
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
        match tokio::time::timeout(at_most, self.appended.changed()).await {
            Ok(Ok(())) | Err(_) => {}
            // The listening task is gone (its runtime stopped): a timer, not a spin.
            Ok(Err(_)) => tokio::time::sleep(at_most).await,
        }
    }

    /// What a caught-up reader does between rounds: waits as `appended_or_after`, then
    /// says how much longer to pause so that rounds started at `round_started` are at least
    /// `spacing` apart. Under load a commit comes every few milliseconds; spaced rounds
    /// read them in batches, as polling did, while an idle reader still reads nothing.
    pub async fn next_round(
        &mut self,
        at_most: Duration,
        round_started: std::time::Instant,
        spacing: Duration,
    ) -> Duration {
        self.appended_or_after(at_most).await;
        spacing.saturating_sub(round_started.elapsed())
    }
}

impl EventStore {
    /// A waiter woken by the commits of appends to this store, from any process.
    pub fn appends(&self) -> AppendWaiter {
        self.signal
            .get_or_init(|| AppendSignal::listen(self.pool.clone()))
            .waiter()
    }

    /// Tells the log's readers, in every process, that a transaction that appended to this
    /// store has committed. Call it after the commit; announcements made while one is being
    /// sent are folded into the next.
    pub fn announce(&self) {
        let announcer = self.announcer.get_or_init(|| {
            let (poke, poked) = mpsc::channel(1);
            tokio::spawn(announce_until_dropped(self.pool.clone(), poked));
            poke
        });
        // Full: an announcement is pending already, and it will cover this commit too.
        let _ = announcer.try_send(());
    }
}

/// Sends a notification for each poke (pokes that arrive meanwhile fold into one), until
/// the store is dropped.
async fn announce_until_dropped(pool: PgPool, mut poked: mpsc::Receiver<()>) {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .options([("synchronous_commit", "off")]);
    let own = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .connect_lazy_with(options);
    while poked.recv().await.is_some() {
        let sent = sqlx::query("SELECT pg_notify($1, '')")
            .bind(APPENDED_CHANNEL)
            .execute(&own)
            .await;
        if let Err(error) = sent {
            // The readers' periodic checks catch up; do not hammer a database that is away.
            debug!(%error, "announcing an append");
            tokio::time::sleep(DEGRADED_POLL).await;
        }
        // Under load, commits come faster than readers want waking: the ones meanwhile
        // fold into the next announcement.
        tokio::time::sleep(ANNOUNCE_SPACING).await;
    }
}

async fn listen_until_unwatched(pool: PgPool, sender: watch::Sender<u64>) {
    let wake = |sender: &watch::Sender<u64>| sender.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                debug!(%error, "no LISTEN connection; readers poll after each attempt meanwhile");
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
                        wake(&sender);
                        tokio::time::sleep(DEGRADED_POLL).await;
                        break;
                    }
                },
            }
        }
    }
}

/// A listener on a connection of its own, outside the service's pool: the pool's size is
/// what requests and consumers get.
async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(pool.connect_options().as_ref().clone());
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen(APPENDED_CHANNEL).await?;
    Ok(listener)
}
