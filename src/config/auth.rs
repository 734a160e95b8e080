//! Authentication: who may call gRPC and sign MGN and SMC requests, and
//! whether an unauthenticated service may be reached from other machines.
//! Its options are paths and a switch, already what the server applies.

use std::path::PathBuf;

use clap::Args;

/// Options of authentication.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Authentication")]
pub struct AuthArgs {
    /// Bearer tokens file (`SHA256_HEX ACCOUNT_ID` per line); without it
    /// every call acts as the built-in account 000000000000.
    #[arg(long, env = "CUTOVER_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Client certificate identities and their accounts (`KIND:VALUE
    /// ACCOUNT_ID` per line; KIND is dns, uri, email or cn): with mutual
    /// TLS, a certificate alone authenticates its account.
    #[arg(
        long,
        env = "CUTOVER_CLIENT_IDENTITIES_FILE",
        requires = "tls_client_ca"
    )]
    pub client_identities_file: Option<PathBuf>,
    /// Serve without authentication on a non-loopback address (unsafe).
    #[arg(long, env = "CUTOVER_INSECURE")]
    pub insecure: bool,
    /// Access keys of the MGN and SMC endpoints: lines of
    /// `ACCESS_KEY_ID SECRET ACCOUNT_ID`, readable by the owner only.
    /// Without it those endpoints take any well-formed signature as the
    /// built-in account, and only on loopback.
    #[arg(long, env = "CUTOVER_ACCESS_KEYS_FILE")]
    pub access_keys_file: Option<PathBuf>,
}

impl AuthArgs {
    /// True when callers must authenticate: with a tokens file or client
    /// certificate identities.
    pub fn authenticates(&self) -> bool {
        self.tokens_file.is_some() || self.client_identities_file.is_some()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn tokens_or_client_identities_authenticate() {
        let tls = ["--tls-cert", "c", "--tls-key", "k", "--tls-client-ca", "ca"];
        for (args, authenticates) in [
            (&[][..], false),
            (&["--insecure", "--access-keys-file", "keys"], false),
            (&["--tokens-file", "tokens"], true),
            (
                &[&tls[..], &["--client-identities-file", "ids"]].concat(),
                true,
            ),
        ] {
            let config = Config::from_args(args).expect("valid flags");
            assert_eq!(config.authenticates(), authenticates, "{args:?}");
        }
    }
}
