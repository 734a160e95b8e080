//! AWS Application Migration Service's restJson1 protocol: every
//! operation is `POST /<OperationName>` with a JSON body, signed with
//! SigV4 for service `mgn`. The operations served are the cutover
//! lifecycle's; anything else is ValidationException `unknownOperation`.
//! `accountID`, where MGN takes it, must be the caller's own account.

mod error;
mod input;
mod output;
mod requests;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{body::Body, extract::State, Router};
use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use tracing::Instrument;

use self::{error::MgnError, input::Input};
use crate::api::native::{json_response, read, signature::sigv4, NativeApi, RawRequest};
use crate::{
    api::{
        envelope::{self, Call, UNKNOWN_OPERATION},
        request_id::RequestId,
    },
    control_plane::{Caller, Failure, Tenant},
    metrics::{Wire, OK},
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
                let request = requests::change_life_cycle_state(&self.input)?;
                plane
                    .change_life_cycle_state(tenant, &request, None)
                    .await?
            }
            Operation::FinalizeCutover => {
                plane
                    .finalize_cutover(tenant, &requests::server_id(&self.input)?, None)
                    .await?
            }
            Operation::DisconnectFromService => {
                plane
                    .disconnect_from_service(tenant, &requests::server_id(&self.input)?, None)
                    .await?
            }
            Operation::MarkAsArchived => {
                plane
                    .mark_as_archived(tenant, &requests::server_id(&self.input)?, None)
                    .await?
            }
            Operation::InitializeService => {
                return Err(Failure::internal("InitializeService runs before the tenant").into())
            }
        };
        Ok(Reply::ok(output::source_server(&view)))
    }

    async fn describe(&self) -> Result<Reply, MgnError> {
        let request = requests::describe_source_servers(&self.input)?;
        let page = self
            .api
            .plane
            .describe_source_servers(&self.tenant, &request)
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
        let servers = requests::launch(&self.input)?;
        let tags = self.input.string_map("tags")?;
        let plane = &self.api.plane;
        let (outcomes, initiated_by) = match operation {
            Operation::StartTest => (
                plane.start_test(&self.tenant, &servers, None).await?,
                "START_TEST",
            ),
            _ => (
                plane.start_cutover(&self.tenant, &servers, None).await?,
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
