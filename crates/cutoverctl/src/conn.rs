//! The connection to the control plane: endpoint, TLS, bearer token and the
//! per-call deadline.

use std::{future::Future, time::Duration};

use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{interceptor::InterceptedService, Interceptor},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
    Request, Response, Status,
};

use crate::errors::{self, CliError};

/// The per-call deadline when `--timeout` is not given.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the global flags say about the connection.
#[derive(Debug)]
pub(crate) struct Options {
    /// `--server`.
    pub(crate) server: String,
    /// `--ca`: PEM file.
    pub(crate) ca: Option<String>,
    /// `--cert`: PEM file.
    pub(crate) cert: Option<String>,
    /// `--key`: PEM file.
    pub(crate) key: Option<String>,
    /// `--token`.
    pub(crate) token: Option<String>,
    /// `--timeout`, seconds.
    pub(crate) timeout: Option<f64>,
}

/// Adds `authorization: Bearer TOKEN` to every call when a token is set.
#[derive(Clone, Debug)]
pub(crate) struct Auth(Option<MetadataValue<Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A generated client with the bearer token attached.
pub(crate) type Authed = InterceptedService<Channel, Auth>;

/// An open connection.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    channel: Channel,
    auth: Auth,
    timeout: Duration,
}

impl Connection {
    /// Connects as the options say. Bad options are usage errors (exit 2);
    /// a server that cannot be reached is UNAVAILABLE (exit 6).
    pub(crate) async fn open(options: &Options) -> Result<Connection, CliError> {
        let timeout = call_timeout(options.timeout)?;
        let tls = options.ca.is_some();
        let (uri, host) = endpoint_uri(&options.server, tls)?;
        if uri.starts_with("https://") && !tls {
            return Err(CliError::Usage(format!(
                "--server {uri} is https: give the CA that signed its certificate with --ca"
            )));
        }
        let mut endpoint = Endpoint::from_shared(uri.clone())
            .map_err(|err| CliError::Usage(format!("--server {uri}: {err}")))?
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        if let Some(ca) = &options.ca {
            let mut config = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(read_file("--ca", ca)?))
                .domain_name(host);
            match (&options.cert, &options.key) {
                (Some(cert), Some(key)) => {
                    config = config.identity(Identity::from_pem(
                        read_file("--cert", cert)?,
                        read_file("--key", key)?,
                    ));
                }
                (None, None) => {}
                _ => {
                    return Err(CliError::Usage(
                        "--cert and --key go together (the client certificate and its key)".into(),
                    ))
                }
            }
            endpoint = endpoint
                .tls_config(config)
                .map_err(|err| CliError::Usage(format!("TLS configuration: {err}")))?;
        } else if options.cert.is_some() || options.key.is_some() {
            return Err(CliError::Usage(
                "--cert and --key need --ca (mutual TLS runs over TLS)".into(),
            ));
        }
        let auth = match &options.token {
            Some(token) => Auth(Some(format!("Bearer {}", token.trim()).parse().map_err(
                |_| CliError::Usage("--token must be printable ASCII".to_owned()),
            )?)),
            None => Auth(None),
        };
        let channel = endpoint.connect().await.map_err(|err| {
            CliError::Unavailable(format!(
                "cannot connect to {}: {}",
                options.server,
                errors::chain(&err)
            ))
        })?;
        Ok(Connection {
            channel,
            auth,
            timeout,
        })
    }

    /// The channel (cheap to clone; reconnects by itself).
    pub(crate) fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The bearer-token interceptor.
    pub(crate) fn auth(&self) -> Auth {
        self.auth.clone()
    }

    /// A request carrying the per-call deadline (`grpc-timeout`).
    pub(crate) fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(self.timeout);
        request
    }

    /// Awaits a unary call within the per-call deadline.
    pub(crate) async fn call<T>(
        &self,
        call: impl Future<Output = Result<Response<T>, Status>>,
    ) -> Result<T, CliError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(CliError::Status(status)),
            Err(_) => Err(CliError::Status(Status::deadline_exceeded(format!(
                "no answer within {:?} (--timeout)",
                self.timeout
            )))),
        }
    }
}

/// `--timeout` as a duration (default 30 s).
fn call_timeout(seconds: Option<f64>) -> Result<Duration, CliError> {
    match seconds {
        None => Ok(DEFAULT_TIMEOUT),
        Some(seconds) => seconds_to_duration("--timeout", seconds),
    }
}

/// A positive, finite number of seconds as a duration.
pub(crate) fn seconds_to_duration(flag: &str, seconds: f64) -> Result<Duration, CliError> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= 1e9 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(CliError::Usage(format!(
            "{flag} must be a positive number of seconds, not {seconds}"
        )))
    }
}

/// The endpoint URI for `--server` (a scheme added when missing; https when
/// TLS is on) and its host, the TLS server name.
fn endpoint_uri(server: &str, tls: bool) -> Result<(String, String), CliError> {
    let server = server.trim();
    let (scheme, rest) = match server.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => (String::from(if tls { "https" } else { "http" }), server),
    };
    if scheme != "http" && scheme != "https" {
        return Err(CliError::Usage(format!(
            "--server {server}: the scheme must be http or https"
        )));
    }
    let scheme = if tls { "https" } else { scheme.as_str() };
    let authority = rest.split('/').next().unwrap_or_default();
    let uri: http::Uri = format!("{scheme}://{authority}")
        .parse()
        .map_err(|err| CliError::Usage(format!("--server {server}: {err}")))?;
    let host = uri
        .host()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| CliError::Usage(format!("--server {server}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((uri.to_string().trim_end_matches('/').to_owned(), host))
}

/// A PEM file's contents.
fn read_file(flag: &str, path: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|err| CliError::Usage(format!("{flag} {path}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_get_a_scheme_and_a_tls_name() {
        let uri = |s: &str, tls: bool| endpoint_uri(s, tls).ok();
        assert_eq!(
            uri("127.0.0.1:50051", false),
            Some(("http://127.0.0.1:50051".into(), "127.0.0.1".into()))
        );
        assert_eq!(
            uri("http://localhost:7", true),
            Some(("https://localhost:7".into(), "localhost".into()))
        );
        assert_eq!(
            uri("https://[::1]:7/", true),
            Some(("https://[::1]:7".into(), "::1".into()))
        );
        assert_eq!(uri("ftp://x:1", false), None);
        assert_eq!(uri("http://", false), None);
        assert_eq!(uri("", false), None);
    }

    #[test]
    fn timeouts_must_be_positive() {
        assert!(call_timeout(Some(0.0)).is_err());
        assert!(call_timeout(Some(f64::NAN)).is_err());
        assert!(call_timeout(Some(-1.0)).is_err());
        assert_eq!(call_timeout(None).ok(), Some(DEFAULT_TIMEOUT));
        assert_eq!(
            call_timeout(Some(1.5)).ok(),
            Some(Duration::from_millis(1500))
        );
    }
}
