//! AWS Application Migration Service's restJson1 protocol: every
//! operation is `POST /<OperationName>` with a JSON body, signed with
//! SigV4 for service `mgn`. The operations served are the cutover
//! lifecycle's; anything else is ValidationException `unknownOperation`.
//! `accountID`, where MGN takes it, must be the caller's own account.

mod error;
mod input;
mod output;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{body::Body, extract::State, Router};
use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use tracing::Instrument;

use self::{
    error::MgnError,
    input::{enum_values, Input},
};
use crate::api::native::{json_response, read, signature::sigv4, NativeApi, RawRequest};
use crate::{
    api::{
        envelope::{self, Call, UNKNOWN_OPERATION},
        request_id::RequestId,
    },
    control_plane::{Caller, Failure, Tenant},
    domain::{DomainError, LifeCycleState, ReplicationType, SourceServerId},
    metrics::{Wire, OK},
    store::SourceServerFilter,
};

/// The operations this listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    InitializeService,
    DescribeSourceServers,
    StartTest,
    StartCutover,
    ChangeServerLifeCycleState,
    FinalizeCutover,
    DisconnectFromService,
    MarkAsArchived,
}

impl Operation {
    const ALL: [Operation; 8] = [
        Operation::InitializeService,
        Operation::DescribeSourceServers,
        Operation::StartTest,
        Operation::StartCutover,
        Operation::ChangeServerLifeCycleState,
        Operation::FinalizeCutover,
        Operation::DisconnectFromService,
        Operation::MarkAsArchived,
    ];

    /// The operation's name in MGN's API.
    fn name(self) -> &'static str {
        match self {
            Operation::InitializeService => "InitializeService",
            Operation::DescribeSourceServers => "DescribeSourceServers",
            Operation::StartTest => "StartTest",
            Operation::StartCutover => "StartCutover",
            Operation::ChangeServerLifeCycleState => "ChangeServerLifeCycleState",
            Operation::FinalizeCutover => "FinalizeCutover",
            Operation::DisconnectFromService => "DisconnectFromService",
            Operation::MarkAsArchived => "MarkAsArchived",
        }
    }

    /// The operation a request calls: `POST /<OperationName>`.
    fn of(method: &Method, path: &str) -> Option<Operation> {
        let name = path.strip_prefix('/').filter(|_| method == Method::POST)?;
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// A successful reply: its status and body (none for 204).
struct Reply {
    status: StatusCode,
    body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
        }
    }
}

/// The MGN endpoint over `api`: every method and path goes to
/// [`handle`], which answers unknown operations in MGN's own words.
pub fn router(api: Arc<NativeApi>) -> Router {
    Router::new().fallback(request).with_state(api)
}

/// Answers one MGN request through the envelope, always with
/// `x-amzn-RequestId`: MGN's SDKs show it, and the logs name it.
async fn request(State(api): State<Arc<NativeApi>>, request: http::Request<Body>) -> Response {
    let operation = Operation::of(request.method(), request.uri().path());
    let label = operation.map_or(UNKNOWN_OPERATION, Operation::name);
    let call = Call::open(
        Wire::Mgn,
        envelope::Operation::Named(label),
        RequestId::generate(),
    );
    let request_id = call.request_id().clone();
    let outcome = async {
        match read(request, api.max_body_bytes).await {
            Some(request) => self::call(&api, &request, operation).await,
            None => Err(MgnError::TooLarge(api.max_body_bytes)),
        }
    }
    .instrument(call.span().clone())
    .await;
    let mut response = match outcome {
        Ok(reply) => {
            call.finish(&api.metrics, OK, None);
            match reply {
                Reply {
                    status,
                    body: Some(body),
                } => json_response(status, &body),
                Reply { status, body: None } => status.into_response(),
            }
        }
        Err(err) => {
            call.finish(&api.metrics, err.name(), err.failure());
            err.into_response()
        }
    };
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn call(
    api: &NativeApi,
    request: &RawRequest,
    operation: Option<Operation>,
) -> Result<Reply, MgnError> {
    let caller = sigv4::verify(&api.signers, &request.signed(), "mgn", api.plane.now())
        .map_err(MgnError::Signature)?;
    let operation = operation.ok_or_else(|| {
        MgnError::UnknownOperation(format!("{} {}", request.method, request.path))
    })?;
    let input = Input::parse(&request.body).map_err(|e| MgnError::CannotParse(e.0))?;
    if let Some(account) = input.string("accountID")? {
        check_account(&caller, account)?;
    }
    if operation == Operation::InitializeService {
        api.plane.initialize_service(&caller).await?;
        return Ok(Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
        });
    }
    let tenant = api.plane.tenant(caller).await?;
    Operations { api, tenant, input }.run(operation).await
}

fn check_account(caller: &Caller, account: &str) -> Result<(), MgnError> {
    if account != caller.account_id.as_str() {
        return Err(MgnError::AccessDenied(format!(
            "the caller acts for account {}, not {account}",
            caller.account_id
        )));
    }
    Ok(())
}

/// One call of an initialised account.
struct Operations<'a> {
    api: &'a NativeApi,
    tenant: Tenant,
    input: Input,
}

impl Operations<'_> {
    async fn run(self, operation: Operation) -> Result<Reply, MgnError> {
        let plane = &self.api.plane;
        let tenant = &self.tenant;
        let view = match operation {
            Operation::DescribeSourceServers => return self.describe().await,
            Operation::StartTest | Operation::StartCutover => return self.launch(operation).await,
            Operation::ChangeServerLifeCycleState => {
                let id = self.server_id()?;
                let life = self
                    .input
                    .object("lifeCycle")?
                    .ok_or_else(|| DomainError::invalid_field("lifeCycle", "is required"))?;
                let target = change_target(life.required_string("state")?)?;
                plane
                    .change_life_cycle_state(tenant, &id, target, None)
                    .await?
            }
            Operation::FinalizeCutover => {
                plane
                    .finalize_cutover(tenant, &self.server_id()?, None)
                    .await?
            }
            Operation::DisconnectFromService => {
                plane
                    .disconnect_from_service(tenant, &self.server_id()?, None)
                    .await?
            }
            Operation::MarkAsArchived => {
                plane
                    .mark_as_archived(tenant, &self.server_id()?, None)
                    .await?
            }
            Operation::InitializeService => {
                return Err(Failure::internal("InitializeService runs before the tenant").into())
            }
        };
        Ok(Reply::ok(output::source_server(&view)))
    }

    fn server_id(&self) -> Result<SourceServerId, DomainError> {
        SourceServerId::parse(
            "sourceServerID",
            self.input.required_string("sourceServerID")?,
        )
    }

    async fn describe(&self) -> Result<Reply, MgnError> {
        let page_size = match self.input.integer("maxResults")? {
            None => 1000,
            Some(n @ 1..=1000) => n as usize,
            Some(n) => {
                return Err(DomainError::invalid_field(
                    "maxResults",
                    format!("must be 1-1000, got {n}"),
                )
                .into())
            }
        };
        let next_token = self.input.string("nextToken")?.unwrap_or_default();
        if next_token.len() > 2048 {
            return Err(
                DomainError::invalid_field("nextToken", "must be at most 2048 characters").into(),
            );
        }
        let filters = self.input.object("filters")?;
        let (filter, applications) = match &filters {
            Some(filters) => source_server_filter(filters)?,
            None => (SourceServerFilter::default(), false),
        };
        if applications {
            // No server belongs to an application here: nothing matches.
            return Ok(Reply::ok(json!({ "items": [] })));
        }
        let page = self
            .api
            .plane
            .describe_source_servers(&self.tenant, &filter, page_size, next_token)
            .await?;
        let items: Vec<Value> = page.items.iter().map(output::source_server).collect();
        let mut body = json!({ "items": items });
        if !page.next_token.is_empty() {
            body["nextToken"] = Value::from(page.next_token);
        }
        Ok(Reply::ok(body))
    }

    /// StartTest or StartCutover (`operation`) of a list of servers.
    async fn launch(&self, operation: Operation) -> Result<Reply, MgnError> {
        let ids = self.input.strings("sourceServerIDs")?;
        if ids.is_empty() || ids.len() > 200 {
            return Err(DomainError::invalid_field(
                "sourceServerIDs",
                format!("must list 1-200 source servers, got {}", ids.len()),
            )
            .into());
        }
        let ids = ids
            .iter()
            .map(|id| SourceServerId::parse("sourceServerIDs", id))
            .collect::<Result<Vec<_>, _>>()?;
        let tags = self.input.string_map("tags")?;
        let plane = &self.api.plane;
        let (outcomes, initiated_by) = match operation {
            Operation::StartTest => (
                plane.start_test(&self.tenant, &ids, None).await?,
                "START_TEST",
            ),
            _ => (
                plane.start_cutover(&self.tenant, &ids, None).await?,
                "START_CUTOVER",
            ),
        };
        let settings = plane.settings();
        let arn_prefix = format!(
            "arn:{}:mgn:{}:{}:",
            settings.partition, settings.region, self.tenant.account_id
        );
        Ok(Reply {
            status: StatusCode::ACCEPTED,
            body: Some(json!({
                "job": output::launch_job(&outcomes, initiated_by, &arn_prefix, &tags),
            })),
        })
    }
}

/// ChangeServerLifeCycleState's `lifeCycle.state`: one of the three
/// states MGN's model allows there (the domain then decides which the
/// server can take).
fn change_target(state: &str) -> Result<LifeCycleState, DomainError> {
    const TARGETS: [LifeCycleState; 3] = [
        LifeCycleState::ReadyForTest,
        LifeCycleState::ReadyForCutover,
        LifeCycleState::Cutover,
    ];
    TARGETS
        .into_iter()
        .find(|target| target.as_str() == state)
        .ok_or_else(|| {
            DomainError::invalid_field(
                "lifeCycle.state",
                format!("must be READY_FOR_TEST, READY_FOR_CUTOVER or CUTOVER, got {state:?}"),
            )
        })
}

/// DescribeSourceServers' `filters`, and whether it names applications.
fn source_server_filter(filters: &Input) -> Result<(SourceServerFilter, bool), DomainError> {
    let ids = filters.strings("sourceServerIDs")?;
    if ids.len() > 200 {
        return Err(DomainError::invalid_field(
            "filters.sourceServerIDs",
            "must list at most 200 source servers",
        ));
    }
    let states = filters.strings("lifeCycleStates")?;
    if states.len() > 10 {
        return Err(DomainError::invalid_field(
            "filters.lifeCycleStates",
            "must list at most 10 states",
        ));
    }
    let filter = SourceServerFilter {
        ids: ids
            .iter()
            .map(|id| SourceServerId::parse("filters.sourceServerIDs", id))
            .collect::<Result<_, _>>()?,
        is_archived: filters.bool("isArchived")?,
        replication_types: enum_values(
            "filters.replicationTypes",
            &filters.strings("replicationTypes")?,
            ReplicationType::ALL,
            ReplicationType::as_str,
        )?,
        life_cycle_states: enum_values(
            "filters.lifeCycleStates",
            &states,
            LifeCycleState::ALL,
            LifeCycleState::as_str,
        )?,
    };
    Ok((filter, !filters.strings("applicationIDs")?.is_empty()))
}
