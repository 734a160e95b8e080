//! tonic rejects a request message over the size limit with OUT_OF_RANGE,
//! which this API uses for compacted watch revisions; the client must be
//! able to tell them apart, so an oversize message becomes
//! RESOURCE_EXHAUSTED (what gRPC itself uses for message limits).

use http::{HeaderValue, Response};

/// How tonic's decoder words the error, percent-encoded in `grpc-message`.
const TOO_LARGE: &str = "Error, decoded message length too large";

/// Turns tonic's oversize OUT_OF_RANGE into RESOURCE_EXHAUSTED; any other
/// response passes unchanged.
pub fn resource_exhausted_if_oversize<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    let oversize = headers.get("grpc-status").is_some_and(|s| s == "11")
        && headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| m.replace("%20", " ").starts_with(TOO_LARGE));
    if oversize {
        headers.insert("grpc-status", HeaderValue::from_static("8"));
    }
    response
}
