//! A throwaway PKI for TLS tests: a CA, a server certificate it issued for
//! `localhost`, and client certificates with the identities a test needs.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use tempfile::TempDir;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::TestServer;

/// What a client certificate says about its holder.
pub enum Subject<'a> {
    /// A DNS name SAN.
    Dns(&'a str),
    /// A URI SAN (a SPIFFE id, say).
    Uri(&'a str),
    /// Only a subject common name, no SAN.
    CommonName(&'a str),
}

/// A client certificate and its key, in PEM.
pub struct ClientCert {
    cert: String,
    key: String,
}

/// The CA and the server's certificate files.
pub struct Pki {
    dir: TempDir,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

impl Pki {
    /// A new CA, and a server certificate it issued for `localhost`.
    pub fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
        let issuer = Issuer::new(ca_params, ca_key);
        let dir = TempDir::new().expect("dir");
        let pki = Pki {
            ca_pem: ca_cert.pem(),
            dir,
            issuer,
        };
        let server = pki.issue(CertificateParams::new(vec!["localhost".into()]).expect("params"));
        for (name, pem) in [
            ("server.pem", &server.cert),
            ("server.key", &server.key),
            ("ca.pem", &pki.ca_pem),
        ] {
            std::fs::write(pki.dir.path().join(name), pem).expect("write");
        }
        pki
    }

    fn issue(&self, params: CertificateParams) -> ClientCert {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        ClientCert {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// A client certificate for `subject`, issued by the CA.
    pub fn client_cert(&self, subject: Subject<'_>) -> ClientCert {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        match subject {
            Subject::Dns(name) => {
                params.subject_alt_names =
                    vec![SanType::DnsName(name.try_into().expect("dns name"))];
            }
            Subject::Uri(uri) => {
                params.subject_alt_names = vec![SanType::URI(uri.try_into().expect("uri"))];
            }
            Subject::CommonName(name) => {
                params.distinguished_name.push(DnType::CommonName, name);
            }
        }
        self.issue(params)
    }

    /// The path of one of the PKI's files (`server.pem`, `server.key`,
    /// `ca.pem`), or of a file written there with `write`.
    pub fn path(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_owned()
    }

    /// Writes `client`'s certificate and key to `NAME.pem` and `NAME.key`
    /// beside the PKI's files; returns their paths.
    pub fn write_client_cert(&self, name: &str, client: &ClientCert) -> (String, String) {
        (
            self.write(&format!("{name}.pem"), &client.cert),
            self.write(&format!("{name}.key"), &client.key),
        )
    }

    /// Writes `text` to the file `name` beside the PKI's; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.path().join(name), text).expect("write");
        self.path(name)
    }

    /// A server with this PKI's certificate and `args`; it asks clients for
    /// a certificate from the CA when `mutual`.
    pub fn server(&self, mutual: bool, args: &[&str]) -> TestServer {
        let (cert, key, ca) = (
            self.path("server.pem"),
            self.path("server.key"),
            self.path("ca.pem"),
        );
        let mut all = vec!["--no-simulator", "--tls-cert", &cert, "--tls-key", &key];
        if mutual {
            all.extend(["--tls-client-ca", ca.as_str()]);
        }
        all.extend(args);
        TestServer::start(&all)
    }

    /// A TLS channel to `server`, presenting `identity` if given.
    pub async fn channel(
        &self,
        server: &TestServer,
        identity: Option<&ClientCert>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .domain_name("localhost");
        if let Some(client) = identity {
            tls = tls.identity(Identity::from_pem(&client.cert, &client.key));
        }
        let endpoint = format!(
            "https://localhost:{}",
            server.addr.rsplit(':').next().expect("port")
        );
        Channel::from_shared(endpoint)
            .expect("uri")
            .tls_config(tls)?
            .connect()
            .await
    }
}
