//! Listeners and TLS: where gRPC and the metrics endpoint listen, and the
//! certificates gRPC serves with.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;

/// Options of the listeners and their TLS.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Listeners and TLS")]
pub struct ListenArgs {
    /// Address to serve gRPC on; port 0 picks a free port, printed as
    /// `listening on HOST:PORT` on stdout. A socket passed by a service
    /// manager (systemd socket activation: `LISTEN_FDS`) is used instead.
    #[arg(long, env = "CUTOVER_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); port 0
    /// picks a free port, printed as `metrics on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// PEM certificate chain of the server; with --tls-key, serves TLS.
    #[arg(long, env = "CUTOVER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the server.
    #[arg(long, env = "CUTOVER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates client certificates must chain to (mutual TLS).
    #[arg(long, env = "CUTOVER_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// Where the TLS material is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain of the server.
    pub cert: PathBuf,
    /// PEM private key of the server.
    pub key: PathBuf,
    /// PEM CA certificates; when set, clients must present a certificate
    /// issued by one of them (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

impl ListenArgs {
    /// The TLS gRPC serves with; `None` for plaintext.
    pub fn tls(&self) -> Option<TlsFiles> {
        // The parse requires the certificate and the key together.
        let (cert, key) = (self.tls_cert.clone()?, self.tls_key.clone()?);
        Some(TlsFiles {
            cert,
            key,
            client_ca: self.tls_client_ca.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn plaintext_by_default_on_the_loopback_address() {
        let config = Config::from_args(&[]).expect("no flags");
        assert_eq!(config.listen.tls(), None);
        assert_eq!(config.listen.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(config.listen.metrics_listen, None);
    }

    #[test]
    fn a_certificate_and_key_serve_tls_and_a_ca_asks_for_client_certificates() {
        let config = Config::from_args(&["--tls-cert", "c.pem", "--tls-key", "k.pem"])
            .expect("a certificate and its key");
        let tls = config.listen.tls().expect("TLS");
        assert_eq!(
            (tls.cert.as_path(), tls.key.as_path()),
            (Path::new("c.pem"), Path::new("k.pem"))
        );
        assert_eq!(tls.client_ca, None);

        let config = Config::from_args(&[
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--tls-client-ca",
            "ca.pem",
        ])
        .expect("mutual TLS");
        let tls = config.listen.tls().expect("TLS");
        assert_eq!(tls.client_ca.as_deref(), Some(Path::new("ca.pem")));
    }

    #[test]
    fn tls_files_require_each_other_across_sections() {
        for args in [
            &["--tls-cert", "c.pem"][..],
            &["--tls-key", "k.pem"],
            &["--tls-client-ca", "ca.pem", "--tls-key", "k.pem"],
            // The auth section's identities need this section's CA.
            &[
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
                "--client-identities-file",
                "i",
            ],
        ] {
            let err = Config::from_args(args).expect_err("a missing requirement");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::MissingRequiredArgument,
                "{args:?}"
            );
        }
    }
}
