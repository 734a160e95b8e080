//! The gRPC transport: thin tonic handlers that decode and validate a
//! request, call the control plane, and encode the answer.

pub mod convert;
