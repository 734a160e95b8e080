//! Who may call: gRPC's authenticator, the native endpoints' signers, the
//! simulator's credentials, and the refusal to expose an unauthenticated
//! service beyond this machine.

use std::net::SocketAddr;

use super::{Listeners, ServeError};
use crate::{
    api::{
        grpc::Authenticator,
        native::{self, Signers},
    },
    config::AuthArgs,
    control_plane::ControlPlane,
    simulator::FleetCredentials,
};

/// Refuses to expose an unauthenticated service beyond this machine:
/// without a tokens file, only a loopback address is served, unless the
/// operator says `--insecure`.
pub fn check_exposure(auth: &AuthArgs, addr: SocketAddr) -> Result<(), String> {
    if !auth.authenticates() && !auth.insecure && !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to serve {addr} without authentication: give --tokens-file or --client-identities-file, \
             listen on a loopback address, or pass --insecure"
        ));
    }
    Ok(())
}

/// Refuses MGN and SMC endpoints beyond this machine without access keys,
/// as [`check_exposure`] does for gRPC without tokens.
pub fn check_native_exposure(auth: &AuthArgs, listeners: &Listeners) -> Result<(), String> {
    for (name, listener) in [("MGN", &listeners.mgn), ("SMC", &listeners.smc)] {
        if let Some(listener) = listener {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            native::check_exposure(name, addr, auth.access_keys_file.is_some(), auth.insecure)?;
        }
    }
    Ok(())
}

/// How each kind of caller is authenticated.
pub(super) struct Access {
    /// gRPC callers.
    pub(super) auth: Authenticator,
    /// The built-in simulator's agents, which call gRPC.
    pub(super) fleet: FleetCredentials,
    /// Signers of MGN and SMC requests.
    pub(super) signers: Signers,
}

impl Access {
    /// The access `auth` sets up. Without authentication the built-in
    /// account is initialised, since every call acts as it;
    /// `native_endpoints` says whether MGN or SMC is served, which then
    /// needs keys as soon as gRPC authenticates.
    pub(super) async fn new(
        auth: &AuthArgs,
        native_endpoints: bool,
        plane: &ControlPlane,
    ) -> Result<Access, ServeError> {
        let (authenticator, fleet) = match auth.authenticates() {
            true => {
                let token = hex::encode(rand::random::<[u8; 32]>());
                let authenticator = Authenticator::from_files(
                    auth.tokens_file.as_deref(),
                    auth.client_identities_file.as_deref(),
                )?
                .with_simulator_token(&token);
                (authenticator, FleetCredentials::SimulatorToken(token))
            }
            false => {
                let authenticator = Authenticator::disabled()?;
                if let Some(caller) = authenticator.built_in() {
                    plane.initialize_service(caller).await?;
                }
                (authenticator, FleetCredentials::None)
            }
        };
        let signers = native_signers(auth, native_endpoints, &authenticator)?;
        Ok(Access {
            auth: authenticator,
            fleet,
            signers,
        })
    }
}

/// Who may sign MGN and SMC requests: the keys file's keys; without one,
/// the built-in account, which exists only while gRPC authenticates no
/// one.
fn native_signers(
    auth: &AuthArgs,
    native_endpoints: bool,
    authenticator: &Authenticator,
) -> Result<Signers, String> {
    match (&auth.access_keys_file, authenticator.built_in()) {
        (Some(path), _) => Signers::from_file(path),
        (None, Some(caller)) => Ok(Signers::BuiltIn(caller.clone())),
        (None, None) if !native_endpoints => Ok(Signers::Keys(Default::default())),
        (None, None) => Err(
            "the MGN and SMC endpoints need --access-keys-file when gRPC callers authenticate"
                .to_owned(),
        ),
    }
}
