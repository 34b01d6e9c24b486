//! Rust types generated from `proto/`: the public event contract and the gRPC services.
//! This is the only crate that compiles protobuf; everything else depends on it.

/// The encoded `FileDescriptorSet` of every file in `proto/`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/tillstream_descriptor.bin"));

pub mod events;

pub mod auth {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.auth.v1.rs"));
    }
}

pub mod catalog {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.catalog.v1.rs"));
    }
}

pub mod inventory {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.inventory.v1.rs"));
    }
}

pub mod sales {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.sales.v1.rs"));
    }
}

pub mod ledger {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.ledger.v1.rs"));
    }
}

pub mod webhooks {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.webhooks.v1.rs"));
    }
}

pub mod common {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tillstream.common.v1.rs"));
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::common::v1::{EventEnvelope, Money};

    #[test]
    fn the_envelope_round_trips_through_protobuf() {
        let envelope = EventEnvelope {
            id: "01JD0000000000000000000000".into(),
            r#type: "tillstream.sales.v1.SaleCompleted".into(),
            source: "/tillstream/sales".into(),
            stream_version: 3,
            data: Money {
                amount: "12.50".into(),
                currency: "USD".into(),
            }
            .encode_to_vec(),
            ..Default::default()
        };
        let decoded = EventEnvelope::decode(envelope.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(
            Money::decode(decoded.data.as_slice()).unwrap().amount,
            "12.50"
        );
    }

    #[test]
    fn the_descriptor_set_names_the_common_package() {
        let set = prost_types::FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET).unwrap();
        assert!(
            set.file
                .iter()
                .any(|f| f.package() == "tillstream.common.v1")
        );
    }
}
