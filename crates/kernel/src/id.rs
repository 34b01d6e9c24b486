//! Typed ULID ids, one type per aggregate, so a `ProductId` can never be passed where a
//! `LocationId` is expected. Services declare theirs with [`typed_id!`](crate::typed_id).

/// Declares a ULID newtype with `generate`, `Display`, `FromStr` and string serde; with
/// `stream = "prefix"`, also the id of the aggregate's event stream, the one place that
/// spells it.
///
/// ```
/// tillstream_kernel::typed_id!(ProductId, stream = "product");
/// let id = ProductId::generate();
/// assert_eq!(id.to_string().parse::<ProductId>().unwrap(), id);
/// assert_eq!(id.stream_id(), format!("product-{id}"));
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, stream = $prefix:literal) => {
        $crate::typed_id!($(#[$meta])* $name);

        impl $name {
            /// The stream's prefix, as event streams and subjects carry it.
            pub const STREAM_PREFIX: &'static str = $prefix;

            /// The id of this aggregate's event stream.
            pub fn stream_id(&self) -> String {
                format!(concat!($prefix, "-{}"), self.0)
            }
        }
    };
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $crate::Ulid);

        impl $name {
            /// A new id, monotonic within a millisecond on this process.
            pub fn generate() -> Self {
                $name($crate::Ulid::generate())
            }

            pub fn as_ulid(&self) -> $crate::Ulid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::id::IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::Ulid::from_string(s.trim())
                    .map($name)
                    .map_err(|_| $crate::id::IdParseError(s.to_owned()))
            }
        }

        impl From<$crate::Ulid> for $name {
            fn from(ulid: $crate::Ulid) -> Self {
                $name(ulid)
            }
        }
    };
}

/// A string that is not a ULID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid id (expected a 26-character ULID)")]
pub struct IdParseError(pub String);

#[cfg(test)]
mod tests {
    crate::typed_id!(SampleId);

    #[test]
    fn ids_round_trip_through_strings_and_json() {
        let id = SampleId::generate();
        assert_eq!(id.to_string().parse::<SampleId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SampleId>(&json).unwrap(), id);
        assert_eq!(SampleId::from(id.as_ulid()), id);
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert!("not-a-ulid".parse::<SampleId>().is_err());
        assert!(serde_json::from_str::<SampleId>("12").is_err());
    }
}
