//! TLS for the public listener (rustls): the server's certificate and key,
//! and, for mutual TLS, the CA that client certificates must chain to.

use std::path::Path;

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::config::TlsFiles;

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The rustls configuration `files` describe.
pub(super) fn server_config(files: &TlsFiles) -> Result<ServerTlsConfig, String> {
    let identity = Identity::from_pem(read(&files.cert)?, read(&files.key)?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}
