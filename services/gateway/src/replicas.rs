//! One service's replicas as the gateway calls them: round robin over those not known to be
//! down. A replica is marked down when a call to it fails below gRPC (it cannot be
//! reached: refused, reset) and up again when its `/readyz` answers 200, so a killed replica
//! costs the calls that were on their way to it, and the next ones go elsewhere.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::http;
use tonic::body::Body;
use tonic::transport::Channel;

/// One replica: its channel, and whether calls should avoid it.
#[derive(Debug, Clone)]
pub struct Replica {
    channel: Channel,
    down: Arc<AtomicBool>,
}

impl Replica {
    pub fn new(channel: Channel) -> Self {
        Replica {
            channel,
            down: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The channel itself (for `/readyz`, which is not a gRPC call).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}

impl tower::Service<http::Request<Body>> for Replica {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<http::Response<Body>, tonic::transport::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.channel.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let down = self.down.clone();
        let answer = self.channel.call(request);
        Box::pin(async move {
            let answer = answer.await;
            // Only a replica that could not be reached at all: a slow answer, or a client's
            // own deadline, says nothing against it.
            if let Err(error) = &answer
                && unreachable(error)
            {
                down.store(true, Ordering::Relaxed);
            }
            answer
        })
    }
}

/// Whether `error` says a connection could not be made (refused, no route, a failed
/// handshake).
pub fn unreachable(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| cause.is::<tonic::ConnectError>())
}

/// Whether `error` is a call that outlived its deadline.
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| cause.is::<tonic::TimeoutExpired>())
}

fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |cause| cause.source())
}

/// Every replica of one service.
#[derive(Debug, Clone)]
pub struct Replicas {
    replicas: Arc<[Replica]>,
    next: Arc<AtomicUsize>,
}

impl Replicas {
    pub fn new(channels: impl IntoIterator<Item = Channel>) -> Self {
        Replicas {
            replicas: channels.into_iter().map(Replica::new).collect(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The next replica not known to be down; when all are, the next one all the same (the
    /// call then says the service is unavailable).
    pub fn pick(&self) -> Replica {
        let count = self.replicas.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut fallback = None;
        for offset in 0..count {
            if let Some(replica) = self.replicas.get((start + offset) % count) {
                if !replica.is_down() {
                    return replica.clone();
                }
                fallback.get_or_insert(replica);
            }
        }
        match fallback {
            Some(replica) => replica.clone(),
            // Never: a service has at least one address.
            None => Replica::new(Channel::from_static("http://127.0.0.1:1").connect_lazy()),
        }
    }

    /// The same replicas over other channels (another timeout), sharing their health: a
    /// replica marked down is down for both.
    pub fn sharing_health(&self, channels: impl IntoIterator<Item = Channel>) -> Self {
        Replicas {
            replicas: self
                .replicas
                .iter()
                .zip(channels)
                .map(|(replica, channel)| Replica {
                    channel,
                    down: replica.down.clone(),
                })
                .collect(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Every replica, for readiness checks.
    pub fn all(&self) -> &[Replica] {
        &self.replicas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicas(count: usize) -> Replicas {
        Replicas::new((0..count).map(|_| Channel::from_static("http://127.0.0.1:1").connect_lazy()))
    }

    #[tokio::test]
    async fn calls_go_round_robin_and_around_a_replica_that_is_down() {
        let three = replicas(3);
        let picked = |r: &Replicas| {
            let chosen = r.pick();
            r.all()
                .iter()
                .position(|x| Arc::ptr_eq(&x.down, &chosen.down))
                .unwrap()
        };
        assert_eq!(
            (0..6).map(|_| picked(&three)).collect::<Vec<_>>(),
            [0, 1, 2, 0, 1, 2]
        );
        three.all()[1].set_down(true);
        assert!(
            (0..6).all(|_| picked(&three) != 1),
            "the down one is skipped"
        );
        for replica in three.all() {
            replica.set_down(true);
        }
        let _ = picked(&three); // all down: still one, and the call will say unavailable
        three.all()[2].set_down(false);
        assert!((0..4).all(|_| picked(&three) == 2));
        let bulk = three.sharing_health(
            (0..3).map(|_| Channel::from_static("http://127.0.0.1:1").connect_lazy()),
        );
        assert!(!bulk.all()[2].is_down() && bulk.all()[0].is_down());
    }

    #[tokio::test]
    async fn only_a_connection_that_cannot_be_made_marks_a_replica_down() {
        let refused: Box<dyn std::error::Error + Send + Sync> = Box::new(tonic::ConnectError(
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ));
        assert!(unreachable(refused.as_ref()));
        assert!(!timed_out(refused.as_ref()));
        let slow: Box<dyn std::error::Error + Send + Sync> = Box::new(tonic::TimeoutExpired(()));
        assert!(timed_out(slow.as_ref()));
        assert!(!unreachable(slow.as_ref()));
        // Through a real channel: nothing listens on port 1.
        let mut replica = Replica::new(Channel::from_static("http://127.0.0.1:1").connect_lazy());
        let request = http::Request::new(Body::empty());
        use tower::ServiceExt;
        let _ = (&mut replica).oneshot(request).await;
        assert!(replica.is_down());
    }
}
