//! The live wave dashboard: a page served on the gRPC port, fed by
//! `WatchLifecycleEvents` over grpc-web.
//!
//! The page is static: HTML, CSS and ES modules compiled into the binary
//! (no build step, no npm), plus the contract's schema derived from the
//! descriptor set. It holds no data of its own, so serving it needs no
//! credentials; every byte of data reaches the browser through gRPC calls
//! that authenticate like any other client's. A browser speaks HTTP/1.1
//! to a plaintext port, where the grpc-web layer would refuse a plain
//! `GET`: this layer sits in front of it and answers `GET`s for the page.

mod assets;
mod schema;

use std::sync::OnceLock;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use tonic::body::Body;

pub use schema::schema_json;

/// Where the page lives.
pub const PATH: &str = "/dashboard/";

/// What the browser may load and connect to: this origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; \
     img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// The response to a `GET` of `path`, if the path is the dashboard's.
pub(crate) fn page(path: &str, head_only: bool) -> Option<Response<Body>> {
    if path == "/" || path == "/dashboard" {
        return Some(redirect());
    }
    let name = path.strip_prefix(PATH)?;
    let (content_type, body) = match name {
        "schema.json" => ("application/json", Bytes::from(schema().as_bytes())),
        name => match assets::find(name) {
            Some(asset) => (asset.content_type, Bytes::from_static(asset.bytes)),
            None => return Some(not_found()),
        },
    };
    let body = if head_only { Bytes::new() } else { body };
    Some(response(StatusCode::OK, content_type, body))
}

/// The schema, derived once per process.
fn schema() -> &'static str {
    static SCHEMA: OnceLock<String> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        schema_json(&[
            crate::pb::FILE_DESCRIPTOR_SET,
            tonic_types::pb::FILE_DESCRIPTOR_SET,
        ])
        // The descriptor sets are compiled in: a failure here is a
        // build defect, answered as an empty schema the page reports.
        .unwrap_or_else(|err| {
            tracing::error!(%err, "cannot derive the dashboard schema");
            "{}".to_owned()
        })
    })
}

fn redirect() -> Response<Body> {
    let mut response = response(StatusCode::SEE_OTHER, "text/plain", Bytes::new());
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(PATH));
    response
}

fn not_found() -> Response<Body> {
    response(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        Bytes::from_static(b"not found\n"),
    )
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The assets are compiled in: a new binary is a new page, so the
    // browser revalidates rather than keeping an old one.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_redirects_to_the_page_and_unknown_assets_are_not_found() {
        let root = page("/", false).expect("answered");
        assert_eq!(root.status(), StatusCode::SEE_OTHER);
        assert_eq!(root.headers()[header::LOCATION], PATH);
        assert_eq!(
            page("/dashboard/nope.js", false)
                .expect("answered")
                .status(),
            StatusCode::NOT_FOUND
        );
        assert!(page("/cutover.v1.SourceServerService/GetSourceServer", false).is_none());
    }

    #[test]
    fn every_asset_is_served_with_its_type_and_a_strict_policy() {
        for asset in assets::ALL {
            let served = page(&format!("{PATH}{}", asset.name), false).expect("answered");
            assert_eq!(served.status(), StatusCode::OK, "{}", asset.name);
            assert_eq!(served.headers()[header::CONTENT_TYPE], asset.content_type);
            assert!(served
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY));
        }
        assert!(schema().contains("cutover.v1.WatchLifecycleEventsResponse"));
    }
}
