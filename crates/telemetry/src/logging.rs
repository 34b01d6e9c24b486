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
/// is the caller's (or the event's) trace. Without a well-formed one, `span` keeps its own.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(context) = traceparent.and_then(remote_context) else {
        return;
    };
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(context));
}

/// The exported id of the current span, when spans are exported.
pub fn current_span_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.span_id().to_string())
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
    fn a_span_continues_the_trace_its_traceparent_names() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("consume");
            continue_trace(
                &span,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
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
