//! The page's files, compiled into the binary from `src/api/dashboard/assets`.

/// One file of the page.
#[derive(Debug)]
pub(super) struct Asset {
    /// Its name under the page's path.
    pub(super) name: &'static str,
    /// Its `content-type`.
    pub(super) content_type: &'static str,
    /// Its bytes.
    pub(super) bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("assets/", $name)),
        }
    };
}

/// Every file; `index.html` is the page itself.
pub(super) const ALL: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("grpc_web.js", "text/javascript; charset=utf-8"),
    asset!("codec.js", "text/javascript; charset=utf-8"),
    asset!("wave.js", "text/javascript; charset=utf-8"),
    asset!("view.js", "text/javascript; charset=utf-8"),
    asset!("tables.js", "text/javascript; charset=utf-8"),
];

/// The file called `name`; the empty name is the page.
pub(super) fn find(name: &str) -> Option<&'static Asset> {
    let name = if name.is_empty() { "index.html" } else { name };
    ALL.iter().find(|asset| asset.name == name)
}
