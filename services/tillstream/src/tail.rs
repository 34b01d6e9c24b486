//! `tillstream tail`: the stack's events as JSON lines, for analytics and debugging. Each
//! line is the event's CloudEvents attributes and its data as JSON — protobuf payloads are
//! decoded with the descriptors compiled from `proto/`, so the output needs no schema at
//! the reader's end.

use std::process::ExitCode;
use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use futures::StreamExt;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::{Value, json};
use tillstream_messaging::{InboundEvent, Naming};
use tillstream_service::{ServiceSettings, addrs};

/// What to show.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// One service's events; every service's when `None`.
    pub service: Option<String>,
    /// One event type (`SaleCompleted`); every type when `None`.
    pub event_type: Option<String>,
    /// From the first event kept, instead of only new ones.
    pub from_start: bool,
    /// Stop once the events there are now have been shown.
    pub no_follow: bool,
}

pub async fn run(options: TailOptions) -> ExitCode {
    match tail(options, |line| println!("{line}")).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Streams the chosen events to `print` until interrupted (or caught up, `no_follow`).
pub async fn tail(options: TailOptions, mut print: impl FnMut(Value)) -> Result<(), String> {
    let settings = ServiceSettings::from_env("sales", addrs::SALES).map_err(|e| e.to_string())?;
    let pool = DescriptorPool::decode(tillstream_proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("the compiled descriptors: {e}"))?;
    let client = tillstream_service::nats_client(&settings.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let services: Vec<String> = match &options.service {
        Some(service) => vec![service.clone()],
        None => addrs::SERVICES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut feeds = Vec::new();
    for service in &services {
        let name = settings.naming.service_stream(service);
        let Ok(stream) = js.get_stream(&name).await else {
            if options.service.is_some() {
                return Err(format!("no stream {name}: has {service} ever run?"));
            }
            continue;
        };
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: filter(&settings.naming, service, options.event_type.as_deref()),
                deliver_policy: if options.from_start {
                    DeliverPolicy::All
                } else {
                    DeliverPolicy::New
                },
                ..Default::default()
            })
            .await
            .map_err(|e| format!("reading {name}: {e}"))?;
        feeds.push(
            consumer
                .messages()
                .await
                .map_err(|e| format!("reading {name}: {e}"))?,
        );
    }
    let mut events = futures::stream::select_all(feeds);
    loop {
        let next = if options.no_follow {
            // Caught up once nothing more arrives for a moment.
            match tokio::time::timeout(Duration::from_millis(500), events.next()).await {
                Ok(next) => next,
                Err(_) => return Ok(()),
            }
        } else {
            events.next().await
        };
        let Some(message) = next else {
            return Ok(());
        };
        let message = message.map_err(|e| format!("reading events: {e}"))?;
        if let Ok(event) = InboundEvent::parse(&message) {
            print(line(&pool, &event));
        }
    }
}

/// `<prefix>.<service>.>`, or `<prefix>.<service>.*.<Type>` for one type.
fn filter(naming: &Naming, service: &str, event_type: Option<&str>) -> String {
    match event_type {
        None => naming.service_subjects(service),
        Some(event_type) => {
            let short = event_type.rsplit('.').next().unwrap_or(event_type);
            naming.event_type_subjects(service, short)
        }
    }
}

/// One event as a JSON line: its attributes, and its data decoded.
fn line(pool: &DescriptorPool, event: &InboundEvent) -> Value {
    json!({
        "sequence": event.stream_sequence,
        "id": event.event_id.to_string(),
        "type": event.ce_type,
        "subject": event.stream_id,
        "version": event.stream_version,
        "time": event.time,
        "traceparent": event.traceparent,
        "correlation_id": event.correlation_id,
        "data": data(pool, event),
    })
}

/// JSON data as it is; protobuf decoded by its type's descriptor; anything else as hex,
/// so a line is never lost.
fn data(pool: &DescriptorPool, event: &InboundEvent) -> Value {
    if let Ok(value) = event.json() {
        return value;
    }
    let decoded = pool
        .get_message_by_name(&event.ce_type)
        .and_then(|descriptor| DynamicMessage::decode(descriptor, event.data.clone()).ok())
        .and_then(|message| {
            // Field names as in `proto/` (`sale_id`), like the REST API's, not camelCase.
            let options = SerializeOptions::new().use_proto_field_name(true);
            message
                .serialize_with_options(serde_json::value::Serializer, &options)
                .ok()
        });
    decoded.unwrap_or_else(|| json!({"hex": hex::encode(&event.data)}))
}
