//! The AWS SDK for Rust's `aws-sdk-mgn`, unmodified, against cutover's MGN
//! endpoint: FinalizeCutover of a CUTTING_OVER server, then a second one,
//! which must come back as the typed `ConflictException`.
//!
//! Usage: `aws-sdk-mgn-check ENDPOINT SOURCE_SERVER_ID ACCESS_KEY SECRET`.
//! Prints one line per check; exits non-zero on the first failure.

use std::process::ExitCode;

use aws_sdk_mgn::{
    config::{BehaviorVersion, Credentials, Region},
    error::ProvideErrorMetadata,
    operation::{finalize_cutover::FinalizeCutoverError, RequestId},
    types::{DataReplicationState, LifeCycleState},
    Client, Config,
};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, server, key, secret] = args.as_slice() else {
        eprintln!("usage: aws-sdk-mgn-check ENDPOINT SOURCE_SERVER_ID ACCESS_KEY SECRET");
        return ExitCode::from(2);
    };
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "static"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    match run(&Client::from_conf(config), server).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("FAIL {why}");
            ExitCode::FAILURE
        }
    }
}

async fn run(client: &Client, server: &str) -> Result<(), String> {
    let finalized = client
        .finalize_cutover()
        .source_server_id(server)
        .send()
        .await
        .map_err(|e| format!("FinalizeCutover: {e:?}"))?;
    let state = finalized.life_cycle().and_then(|l| l.state());
    let info = finalized.data_replication_info();
    let replication = info.and_then(|i| i.data_replication_state());
    let disks = info.map(|i| i.replicated_disks()).unwrap_or_default();
    let zeroed = !disks.is_empty() && disks.iter().all(|d| d.total_storage_bytes() == 0);
    let lag_gone = info.is_some_and(|i| i.lag_duration().is_none() && i.eta_date_time().is_none());
    let finalized_at = finalized
        .life_cycle()
        .and_then(|l| l.last_cutover())
        .and_then(|c| c.finalized())
        .and_then(|f| f.api_call_date_time());
    if state != Some(&LifeCycleState::Cutover)
        || replication != Some(&DataReplicationState::Disconnected)
        || !zeroed
        || !lag_gone
        || finalized_at.is_none()
    {
        return Err(format!("FinalizeCutover answered {finalized:?}"));
    }
    println!("ok   FinalizeCutover CUTOVER DISCONNECTED zeroed, finalized at {finalized_at:?}");
    let request_id = finalized.request_id().unwrap_or_default();
    if request_id.is_empty() {
        return Err("no request id".into());
    }
    println!("ok   request id {request_id}");

    let again = client
        .finalize_cutover()
        .source_server_id(server)
        .send()
        .await;
    let err = match again {
        Ok(answer) => return Err(format!("a second FinalizeCutover succeeded: {answer:?}")),
        Err(err) => err.into_service_error(),
    };
    match &err {
        FinalizeCutoverError::ConflictException(conflict)
            if conflict.resource_id() == Some(server) =>
        {
            println!(
                "ok   ConflictException on a second FinalizeCutover: {} ({:?})",
                conflict.message().unwrap_or_default(),
                err.code()
            );
            Ok(())
        }
        other => Err(format!("expected ConflictException, got {other:?}")),
    }
}
