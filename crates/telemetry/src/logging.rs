//! Structured logs: one JSON object per line, filtered by `RUST_LOG` (default `info`), with
//! the fields of the span each line is written in (its `trace_id` among them). With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, the spans are also exported over OTLP (gRPC), joined
//! into one trace across processes by the W3C `traceparent` every call and event carries.

use std::sync::OnceLock;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The exporter's provider, kept to flush what is batched when the process ends.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber: JSON logs, and OTLP export when configured. Safe to call
/// twice (tests): the second call is a no-op.
pub fn init_logging(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_span_events(FmtSpan::NONE)
        .with_target(true);
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty());
    let (otel, exporter_error) = match endpoint.as_deref().map(|e| otlp_provider(service, e)) {
        Some(Ok(provider)) => {
            let tracer = provider.tracer(service);
            let _ = PROVIDER.set(provider);
            (
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
                None,
            )
        }
        Some(Err(error)) => (None, Some(error)),
        None => (None, None),
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(otel)
        .try_init();
    if installed.is_ok() {
        tracing::info!(
            service,
            otlp = endpoint.as_deref().unwrap_or("off"),
            "logging started"
        );
        if let Some(error) = exporter_error {
            tracing::error!(%error, "OTLP export is off: the exporter could not be built");
        }
    }
}

fn otlp_provider(service: &'static str, endpoint: &str) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

/// Sends what the exporter still holds; call when the process is about to end.
pub fn flush_traces() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

/// Makes `span` a child of the remote span a W3C `traceparent` names, so its exported trace
/// is the caller's (or the event's) trace, and records the span's own id in its `span_id`
/// field (declared `Empty` by the caller), so every log line inside it carries both ids.
/// Returns that id: the exported span's when spans are exported, else a fresh one.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) -> String {
    if let Some(context) = traceparent.and_then(remote_context) {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(context));
    }
    let exported = span.context().span().span_context().clone();
    let span_id = if exported.is_valid() {
        exported.span_id().to_string()
    } else {
        SpanId::from_bytes(random_bytes()).to_string()
    };
    span.record("span_id", span_id.as_str());
    span_id
}

/// Eight bytes unlikely to repeat, for a span id where no exporter gives one.
fn random_bytes() -> [u8; 8] {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Mixed so that ids made in the same nanosecond by different processes still differ.
    let mixed = (u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or(0)
        ^ u64::from(std::process::id()).rotate_left(32))
    .wrapping_add(count.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    mixed.max(1).to_be_bytes()
}

/// The span context of a version-00 `traceparent` (`00-<trace>-<span>-<flags>`).
fn remote_context(traceparent: &str) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use opentelemetry_sdk::trace::InMemorySpanExporter;

    use super::*;

    #[test]
    fn without_an_exporter_a_span_still_gets_an_id_of_its_own() {
        let first = continue_trace(&tracing::Span::none(), None);
        let second = continue_trace(&tracing::Span::none(), Some("garbage"));
        assert_eq!((first.len(), second.len()), (16, 16));
        assert_ne!(first, second);
    }

    #[test]
    fn a_span_continues_the_trace_its_traceparent_names() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("consume", span_id = tracing::field::Empty);
            let span_id = continue_trace(
                &span,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            );
            assert_eq!(span_id.len(), 16);
            assert_ne!(
                span_id, "00f067aa0ba902b7",
                "its own id, under the remote parent"
            );
            span.in_scope(|| tracing::info!("applied"));
            let unrelated = tracing::info_span!("grpc");
            continue_trace(&unrelated, Some("garbage"));
            drop(unrelated);
        });
        provider.force_flush().unwrap();
        let spans = exporter.get_finished_spans().unwrap();
        let consume = spans.iter().find(|s| s.name == "consume").unwrap();
        assert_eq!(
            consume.span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(consume.parent_span_id.to_string(), "00f067aa0ba902b7");
        let grpc = spans.iter().find(|s| s.name == "grpc").unwrap();
        assert_ne!(
            grpc.span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
}
