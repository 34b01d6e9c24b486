//! The AsyncAPI 3 document of every stream and event (`GET /api/v1/asyncapi.json`), made
//! from the protobuf descriptors the services publish with: each event's subject, its
//! CloudEvents headers, a JSON schema of its message in protobuf's canonical JSON mapping,
//! and an example. The events' table is docs/events.md's.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde_json::{Map, Value, json};
use tillstream_proto::events::{EVENTS, PublishedEvent};

/// The document, made once.
#[utoipa::path(get, path = "/api/v1/asyncapi.json",
    responses((status = 200, description = "The AsyncAPI 3 document of every published event", body = Object)))]
pub async fn asyncapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response()
}

/// Every message of the descriptor set, by full name (`tillstream.sales.v1.Sale`).
fn messages() -> Map<String, Value> {
    let set = FileDescriptorSet::decode(tillstream_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
    let mut found = Map::new();
    for file in &set.file {
        let package = file.package.clone().unwrap_or_default();
        for message in &file.message_type {
            collect(&package, message, &mut found);
        }
    }
    found
}

fn collect(scope: &str, message: &DescriptorProto, found: &mut Map<String, Value>) {
    let name = format!("{scope}.{}", message.name.clone().unwrap_or_default());
    for nested in &message.nested_type {
        collect(&name, nested, found);
    }
    if message.options.as_ref().and_then(|o| o.map_entry) == Some(true) {
        // Map entries are inlined where they are used.
        found.insert(format!("{name}#entry"), entry_value(message));
        return;
    }
    found.insert(name, schema_of(message));
}

/// The value type of a map entry (`value` field), as a schema.
fn entry_value(message: &DescriptorProto) -> Value {
    message
        .field
        .iter()
        .find(|f| f.name.as_deref() == Some("value"))
        .map_or(json!({}), field_schema)
}

/// A message in protobuf's canonical JSON mapping: fields by their JSON name.
fn schema_of(message: &DescriptorProto) -> Value {
    let mut properties = Map::new();
    for field in &message.field {
        let name = field
            .json_name
            .clone()
            .or_else(|| field.name.clone())
            .unwrap_or_default();
        properties.insert(name, field_schema(field));
    }
    json!({"type": "object", "properties": properties})
}

fn field_schema(field: &prost_types::FieldDescriptorProto) -> Value {
    let single = match field.r#type() {
        Type::Double | Type::Float => json!({"type": "number"}),
        Type::Int32 | Type::Uint32 | Type::Sint32 | Type::Fixed32 | Type::Sfixed32 => {
            json!({"type": "integer"})
        }
        // 64-bit integers are strings in the canonical JSON mapping.
        Type::Int64 | Type::Uint64 | Type::Sint64 | Type::Fixed64 | Type::Sfixed64 => {
            json!({"type": "string", "format": "int64"})
        }
        Type::Bool => json!({"type": "boolean"}),
        Type::String => json!({"type": "string"}),
        Type::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Type::Enum => json!({"type": "string"}),
        Type::Message | Type::Group => {
            let name = field.type_name.clone().unwrap_or_default();
            let name = name.trim_start_matches('.');
            json!({"$ref": format!("#/components/schemas/{name}")})
        }
    };
    if field.label() == Label::Repeated {
        json!({"type": "array", "items": single})
    } else {
        single
    }
}

/// An example of `schema` (placeholders by type), following references into `schemas`.
fn example(schema: &Value, schemas: &Map<String, Value>, depth: usize) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return match schemas.get(name) {
            Some(target) if depth < 4 => example(target, schemas, depth + 1),
            _ => json!({}),
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut out = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    out.insert(name.clone(), example(property, schemas, depth + 1));
                }
            }
            Value::Object(out)
        }
        Some("array") => json!([example(&schema["items"], schemas, depth + 1)]),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => json!("string"),
    }
}

/// The AsyncAPI 3.0.0 document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    let mut entries = Map::new();
    for (name, schema) in messages() {
        match name.strip_suffix("#entry") {
            Some(map) => {
                entries.insert(map.to_owned(), schema);
            }
            None => {
                schemas.insert(name, schema);
            }
        }
    }
    // A map field points at its entry message: make it an object of the entry's values.
    for schema in schemas.values_mut() {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for property in properties.values_mut() {
                let entry = property["items"]["$ref"]
                    .as_str()
                    .map(|r| r.trim_start_matches("#/components/schemas/").to_owned());
                if let Some(value) = entry.and_then(|e| entries.get(&e)) {
                    *property = json!({"type": "object", "additionalProperties": value});
                }
            }
        }
    }
    schemas.insert("CloudEventsHeaders".into(), cloudevents_headers());
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for PublishedEvent {
        service,
        aggregate,
        event,
        message,
    } in EVENTS
    {
        let key = format!("{service}.{aggregate}.{event}");
        let full = format!("tillstream.{service}.v1.{message}");
        let payload = json!({"$ref": format!("#/components/schemas/{full}")});
        let example = example(&payload, &schemas, 0);
        messages.insert(
            key.clone(),
            json!({
                "name": event,
                "title": format!("tillstream.{service}.v1.{event}"),
                "summary": format!("`ce-type` tillstream.{service}.v1.{event}: the protobuf message {full} (schema in its canonical JSON mapping)"),
                "contentType": "application/protobuf",
                "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
                "payload": payload,
                "examples": [{"name": "example", "payload": example}],
            }),
        );
        channels.insert(
            key.clone(),
            json!({
                "address": format!("{{prefix}}.{service}.{aggregate}.{event}"),
                "description": format!("The {service} service's `{event}` events, on stream `<prefix>_{service}`."),
                "parameters": {"prefix": {
                    "description": "TILLSTREAM_SUBJECT_PREFIX",
                    "default": "pos",
                }},
                "messages": {event.to_string(): {"$ref": format!("#/components/messages/{key}")}},
            }),
        );
        operations.insert(
            format!("receive.{key}"),
            json!({
                "action": "receive",
                "channel": {"$ref": format!("#/channels/{key}")},
                "messages": [{"$ref": format!("#/channels/{key}/messages/{event}")}],
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Tillstream events",
            "version": "1",
            "description": "Every domain event Tillstream publishes on NATS JetStream: CloudEvents in the binary content mode (attributes as `ce-` headers, the protobuf message as the body). Subjects are `<prefix>.<service>.<aggregate>.<type>`; streams `<prefix>_<service>`. docs/events.md says who reacts to what.",
        },
        "defaultContentType": "application/protobuf",
        "servers": {"nats": {
            "host": "127.0.0.1:4222",
            "protocol": "nats",
            "description": "TILLSTREAM_NATS_URL",
        }},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    })
}

fn cloudevents_headers() -> Value {
    let text = |description: &str| json!({"type": "string", "description": description});
    json!({
        "type": "object",
        "required": ["ce-specversion", "ce-id", "ce-type", "ce-source", "ce-time", "traceparent"],
        "properties": {
            "ce-specversion": {"type": "string", "const": "1.0"},
            "ce-id": text("The event's id (a ULID), the same on every delivery: dedupe by it"),
            "ce-type": text("tillstream.<service>.v1.<type>"),
            "ce-source": text("/tillstream/<service>"),
            "ce-time": text("When the event was recorded, RFC 3339"),
            "ce-subject": text("The stream it belongs to, e.g. sale-<id>"),
            "ce-datacontenttype": text("application/protobuf"),
            "ce-dataschema": text("proto/<service>/v1/<file>.proto#<message>"),
            "ce-streamversion": text("The event's version in its stream"),
            "ce-correlationid": text("Shared by every event one user action led to"),
            "traceparent": text("W3C trace context; always present"),
            "tracestate": text("W3C trace state, when the trace has one"),
            "Nats-Msg-Id": text("The broker's deduplication key"),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn every_event_has_a_channel_a_schema_and_an_example() {
        let document = document();
        assert_eq!(document["asyncapi"], "3.0.0");
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for PublishedEvent {
            service,
            aggregate,
            event,
            message,
        } in EVENTS
        {
            let key = format!("{service}.{aggregate}.{event}");
            assert_eq!(
                document["channels"][&key]["address"],
                format!("{{prefix}}.{service}.{aggregate}.{event}")
            );
            let full = format!("tillstream.{service}.v1.{message}");
            assert!(schemas.contains_key(&full), "{full}");
            let example = &document["components"]["messages"][&key]["examples"][0]["payload"];
            assert!(
                example.as_object().is_some_and(|o| !o.is_empty()),
                "{key}: {example}"
            );
        }
        let sale = &schemas["tillstream.sales.v1.Sale"]["properties"];
        assert_eq!(sale["saleNumber"]["type"], "string");
        assert_eq!(sale["receiptNo"]["format"], "int64");
        assert_eq!(sale["lines"]["type"], "array");
        let report = &schemas["tillstream.sales.v1.SessionReport"]["properties"];
        assert_eq!(report["byTender"]["type"], "object", "{report}");
    }
}
