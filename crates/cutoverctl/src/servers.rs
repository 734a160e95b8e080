//! `cutoverctl servers ...`: the SourceServerService operations.

use clap::{ArgAction, Args, Subcommand, ValueEnum};
use cutover_proto::v1::{
    self as pb, source_server_service_client::SourceServerServiceClient,
    ChangeServerLifeCycleStateRequest, DescribeSourceServersFilters, DescribeSourceServersRequest,
    DescribeSourceServersResponse, DisconnectFromServiceRequest, FinalizeCutoverRequest,
    GetSourceServerRequest, LaunchJob, MarkAsArchivedRequest, RegisterSourceServerRequest,
    StartCutoverRequest, StartTestRequest,
};

use crate::{
    conn::{Authed, Connection},
    errors::CliError,
    output::{self, Format},
    table,
};

/// Source server commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ServersCommand {
    /// Register a source server before its agent reports (RegisterSourceServer).
    Register {
        /// A tag, `KEY=VALUE` (repeatable, at most 50).
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
        /// How the server replicates.
        #[arg(long, value_enum)]
        replication_type: Option<ReplicationType>,
        /// Idempotency token.
        #[arg(long)]
        client_token: Option<String>,
    },
    /// Show one source server (GetSourceServer).
    Get {
        /// Source server id (`s-...`).
        id: String,
    },
    /// List source servers, every page unless --max-results or --next-token
    /// is given (DescribeSourceServers).
    List(ListArgs),
    /// Launch a test instance: READY_FOR_TEST -> TESTING (StartTest).
    StartTest(Target),
    /// Mark a server ready: READY_FOR_CUTOVER by default, or back to
    /// READY_FOR_TEST (ChangeServerLifeCycleState).
    MarkReady {
        /// The server.
        #[command(flatten)]
        target: Target,
        /// The state to set.
        #[arg(long, value_enum, default_value_t = ReadyState::ReadyForCutover)]
        state: ReadyState,
    },
    /// Launch the cutover instance: READY_FOR_CUTOVER -> CUTTING_OVER (StartCutover).
    StartCutover(Target),
    /// Finalise the cutover: CUTTING_OVER -> CUTOVER, schedules the
    /// follow-up tasks (FinalizeCutover).
    Finalize(Target),
    /// Disconnect a server from the service (DisconnectFromService).
    Disconnect(Target),
    /// Archive a CUTOVER or DISCONNECTED server (MarkAsArchived).
    Archive(Target),
}

/// A source server to act on.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// Source server id (`s-...`).
    id: String,
    /// Idempotency token: a retry with the same token returns the first answer.
    #[arg(long)]
    client_token: Option<String>,
}

/// Filters and paging of `servers list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only these ids (repeatable).
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<String>,
    /// Only servers in this lifecycle state (repeatable).
    #[arg(long = "state", value_enum, value_name = "STATE")]
    states: Vec<LifeCycle>,
    /// Only archived (true) or unarchived (false) servers.
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    archived: Option<bool>,
    /// Only servers replicating this way (repeatable).
    #[arg(long = "replication-type", value_enum, value_name = "TYPE")]
    replication_types: Vec<ReplicationType>,
    /// Page size (1-1000); fetch one page only.
    #[arg(long)]
    max_results: Option<i32>,
    /// Continue from this page token; fetch one page only.
    #[arg(long)]
    next_token: Option<String>,
}

/// `ChangeServerLifeCycleState` targets.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ReadyState {
    /// READY_FOR_TEST (reverts a test or a finished test).
    ReadyForTest,
    /// READY_FOR_CUTOVER.
    ReadyForCutover,
}

/// MGN replication types.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ReplicationType {
    /// AGENT_BASED.
    AgentBased,
    /// SNAPSHOT_SHIPPING.
    SnapshotShipping,
}

impl ReplicationType {
    fn proto(self) -> pb::ReplicationType {
        match self {
            ReplicationType::AgentBased => pb::ReplicationType::AgentBased,
            ReplicationType::SnapshotShipping => pb::ReplicationType::SnapshotShipping,
        }
    }
}

/// MGN lifecycle states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LifeCycle {
    /// DISCOVERED.
    Discovered,
    /// PENDING_INSTALLATION.
    PendingInstallation,
    /// NOT_READY.
    NotReady,
    /// READY_FOR_TEST.
    ReadyForTest,
    /// TESTING.
    Testing,
    /// READY_FOR_CUTOVER.
    ReadyForCutover,
    /// CUTTING_OVER.
    CuttingOver,
    /// CUTOVER.
    Cutover,
    /// DISCONNECTED.
    Disconnected,
    /// STOPPED.
    Stopped,
}

impl LifeCycle {
    /// The proto enum value.
    pub(crate) fn proto(self) -> pb::LifeCycleState {
        use pb::LifeCycleState as S;
        match self {
            LifeCycle::Discovered => S::Discovered,
            LifeCycle::PendingInstallation => S::PendingInstallation,
            LifeCycle::NotReady => S::NotReady,
            LifeCycle::ReadyForTest => S::ReadyForTest,
            LifeCycle::Testing => S::Testing,
            LifeCycle::ReadyForCutover => S::ReadyForCutover,
            LifeCycle::CuttingOver => S::CuttingOver,
            LifeCycle::Cutover => S::Cutover,
            LifeCycle::Disconnected => S::Disconnected,
            LifeCycle::Stopped => S::Stopped,
        }
    }
}

/// `KEY=VALUE`.
fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// Runs a `servers` command.
pub(crate) async fn run(
    conn: &Connection,
    format: Format,
    command: ServersCommand,
) -> Result<(), CliError> {
    let mut client: SourceServerServiceClient<Authed> =
        SourceServerServiceClient::with_interceptor(conn.channel(), conn.auth());
    let server = match command {
        ServersCommand::Register {
            tags,
            replication_type,
            client_token,
        } => {
            let request = RegisterSourceServerRequest {
                client_token: client_token.unwrap_or_default(),
                tags: tags.into_iter().collect(),
                replication_type: replication_type.map_or(0, |t| t.proto() as i32),
                source_properties: None,
            };
            conn.call(client.register_source_server(conn.request(request)))
                .await?
        }
        ServersCommand::Get { id } => {
            let request = GetSourceServerRequest {
                source_server_id: id,
            };
            conn.call(client.get_source_server(conn.request(request)))
                .await?
        }
        ServersCommand::List(args) => return list(conn, &mut client, format, args).await,
        ServersCommand::StartTest(target) => {
            let request = StartTestRequest {
                source_server_id: target.id,
                client_token: target.client_token.unwrap_or_default(),
            };
            let response = conn.call(client.start_test(conn.request(request))).await?;
            return output::print_message(format, &response, |r| {
                launched(r.source_server.as_ref(), r.job.as_ref())
            });
        }
        ServersCommand::MarkReady { target, state } => {
            let state = match state {
                ReadyState::ReadyForTest => pb::LifeCycleState::ReadyForTest,
                ReadyState::ReadyForCutover => pb::LifeCycleState::ReadyForCutover,
            };
            let request = ChangeServerLifeCycleStateRequest {
                source_server_id: target.id,
                state: state as i32,
                client_token: target.client_token.unwrap_or_default(),
            };
            conn.call(client.change_server_life_cycle_state(conn.request(request)))
                .await?
        }
        ServersCommand::StartCutover(target) => {
            let request = StartCutoverRequest {
                source_server_id: target.id,
                client_token: target.client_token.unwrap_or_default(),
            };
            let response = conn
                .call(client.start_cutover(conn.request(request)))
                .await?;
            return output::print_message(format, &response, |r| {
                launched(r.source_server.as_ref(), r.job.as_ref())
            });
        }
        ServersCommand::Finalize(target) => {
            let request = FinalizeCutoverRequest {
                source_server_id: target.id,
                client_token: target.client_token.unwrap_or_default(),
            };
            conn.call(client.finalize_cutover(conn.request(request)))
                .await?
        }
        ServersCommand::Disconnect(target) => {
            let request = DisconnectFromServiceRequest {
                source_server_id: target.id,
                client_token: target.client_token.unwrap_or_default(),
            };
            conn.call(client.disconnect_from_service(conn.request(request)))
                .await?
        }
        ServersCommand::Archive(target) => {
            let request = MarkAsArchivedRequest {
                source_server_id: target.id,
                client_token: target.client_token.unwrap_or_default(),
            };
            conn.call(client.mark_as_archived(conn.request(request)))
                .await?
        }
    };
    output::print_message(format, &server, |s| table::servers(std::slice::from_ref(s)))
}

/// The table of a StartTest/StartCutover answer: the server, then its
/// launch job.
fn launched(server: Option<&pb::SourceServer>, job: Option<&LaunchJob>) -> String {
    let mut text = table::servers(server.map(std::slice::from_ref).unwrap_or_default());
    if let Some(job) = job {
        text.push_str(&format!(
            "launch job {} started instance {}\n",
            job.job_id, job.ec2_instance_id
        ));
    }
    text
}

/// `servers list`: one page, or every page merged into one answer.
async fn list(
    conn: &Connection,
    client: &mut SourceServerServiceClient<Authed>,
    format: Format,
    args: ListArgs,
) -> Result<(), CliError> {
    let one_page = args.max_results.is_some() || args.next_token.is_some();
    let mut request = DescribeSourceServersRequest {
        filters: Some(DescribeSourceServersFilters {
            source_server_ids: args.ids,
            is_archived: args.archived,
            replication_types: args
                .replication_types
                .iter()
                .map(|t| t.proto() as i32)
                .collect(),
            life_cycle_states: args.states.iter().map(|s| s.proto() as i32).collect(),
        }),
        max_results: args.max_results.unwrap_or(0),
        next_token: args.next_token.unwrap_or_default(),
    };
    let mut all = DescribeSourceServersResponse::default();
    loop {
        let page = conn
            .call(client.describe_source_servers(conn.request(request.clone())))
            .await?;
        all.request_id = page.request_id;
        all.items.extend(page.items);
        all.next_token = page.next_token;
        if one_page || all.next_token.is_empty() {
            break;
        }
        if all.next_token == request.next_token {
            return Err(CliError::Other(
                "the server returned the same page token twice".into(),
            ));
        }
        request.next_token = std::mem::take(&mut all.next_token);
    }
    if format == Format::Table && !all.next_token.is_empty() {
        eprintln!("more results: --next-token {}", all.next_token);
    }
    output::print_message(format, &all, |r| table::servers(&r.items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_need_a_key() {
        assert_eq!(
            parse_tag("app=web=1"),
            Ok(("app".to_owned(), "web=1".to_owned()))
        );
        assert_eq!(parse_tag("empty="), Ok(("empty".to_owned(), String::new())));
        assert!(parse_tag("=x").is_err());
        assert!(parse_tag("novalue").is_err());
    }
}
