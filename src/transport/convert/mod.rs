//! Conversions between protobuf messages and domain types (placeholder).
