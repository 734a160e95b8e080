//! Alibaba Cloud Server Migration Center's RPC-style protocol (API
//! version 2019-06-01): the action is the `Action` parameter or the
//! `x-acs-action` header, on GET or POST, with parameters in the query
//! string and a form body alike; signed with ACS3-HMAC-SHA256 (current
//! SDK) or HMAC-SHA1 v1 (older SDK). The replication job operations of a
//! cutover are served; anything else is `InvalidAction.NotFound`.

pub(crate) mod error;
mod output;
mod params;
mod requests;

use std::sync::Arc;

use axum::response::Response;
use axum::{body::Body, extract::State, Router};
use http::StatusCode;
use serde_json::{json, Value};
use tracing::Instrument;

use self::{error::SmcError, params::Params};
use crate::api::native::{
    json_response, read,
    signature::{acs3, hmac_sha1, query_pairs},
    NativeApi, RawRequest,
};
use crate::{
    api::{
        envelope::{self, Call, UNKNOWN_OPERATION},
        request_id::RequestId,
    },
    control_plane::{ClientToken, JobCutOver, Tenant},
    domain::ReplicationJobId,
    metrics::{Wire, OK},
};

/// The API version this listener speaks.
const VERSION: &str = "2019-06-01";

/// The SMC endpoint over `api`: every method and path goes to
/// [`handle`], which answers unknown operations in SMC's own words.
pub fn router(api: Arc<NativeApi>) -> Router {
    Router::new().fallback(request).with_state(api)
}

/// Answers one SMC request through the envelope, its `RequestId` in the
/// body: SMC's SDKs show it, and the logs name it.
async fn request(State(api): State<Arc<NativeApi>>, request: http::Request<Body>) -> Response {
    let mut call = Call::open(
        Wire::Smc,
        envelope::Operation::Named(UNKNOWN_OPERATION),
        RequestId::generate().in_uuid_form(),
    );
    let span = call.span().clone();
    let (outcome, host) = async {
        let Some(request) = read(request, api.max_body_bytes).await else {
            return (Err(SmcError::TooLarge(api.max_body_bytes)), None);
        };
        let params = parameters(&request);
        // Named before the signature is checked, so refusals count by action.
        let action = action_name(&params, &request).and_then(Action::parse);
        if let Some(action) = action {
            call.set_operation(envelope::Operation::Named(action.name()));
        }
        let host = request
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        (self::call(&api, &request, params).await, host)
    }
    .instrument(span)
    .await;
    let request_id = call.request_id().as_str().to_owned();
    let (status, body) = match outcome {
        Ok(mut body) => {
            call.finish(&api.metrics, OK, None);
            body["RequestId"] = Value::from(request_id);
            (StatusCode::OK, body)
        }
        Err(err) => {
            let answer = err.answer(&request_id, host.as_deref().unwrap_or("smc"));
            call.finish(&api.metrics, &answer.code, err.failure());
            (answer.status, answer.body)
        }
    };
    json_response(status, &body)
}

/// The action `params` or the ACS3 header name, if any.
fn action_name<'a>(params: &'a Params, request: &'a RawRequest) -> Option<&'a str> {
    params.get("Action").or_else(|| {
        request
            .headers
            .get("x-acs-action")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    })
}

/// The query's parameters, then a form body's.
fn parameters(request: &RawRequest) -> Params {
    let mut pairs = query_pairs(&request.query);
    let form = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        pairs.extend(
            form_urlencoded::parse(&request.body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }
    Params::new(pairs)
}

async fn call(api: &NativeApi, request: &RawRequest, params: Params) -> Result<Value, SmcError> {
    let signed = request.signed();
    let now = api.plane.now();
    let caller = match acs3::is_signed(&signed) {
        true => acs3::verify(&api.signers, &signed, now),
        false => hmac_sha1::verify(&api.signers, &signed, params.pairs(), now),
    }
    .map_err(SmcError::Signature)?;
    let header = |name: &str| signed.header(name).filter(|v| !v.is_empty());
    if let Some(version) = params.get("Version").or_else(|| header("x-acs-version")) {
        if version != VERSION {
            return Err(SmcError::InvalidVersion(version.to_owned()));
        }
    }
    let action = params
        .get("Action")
        .or_else(|| header("x-acs-action"))
        .ok_or_else(|| SmcError::UnknownAction(String::new()))?;
    let action = Action::parse(action).ok_or_else(|| SmcError::UnknownAction(action.to_owned()))?;
    let tenant = api.plane.tenant(caller).await?;
    let operations = Operations {
        api,
        tenant,
        params,
    };
    match action {
        Action::CreateReplicationJob => operations.create().await,
        Action::DescribeReplicationJobs => operations.describe(),
        Action::StartReplicationJob => {
            let id = operations.job_id()?;
            api.plane
                .start_replication_job(&operations.tenant, &id, None)
                .await?;
            Ok(json!({}))
        }
        Action::StopReplicationJob => {
            let id = operations.job_id()?;
            api.plane
                .stop_replication_job(&operations.tenant, &id, None)
                .await?;
            Ok(json!({}))
        }
        Action::CutOverReplicationJob => {
            let id = operations.job_id()?;
            let sync_data = operations.params.bool("SyncData")?.unwrap_or(false);
            api.plane
                .cut_over_replication_job(&operations.tenant, &id, JobCutOver { sync_data }, None)
                .await?;
            Ok(json!({}))
        }
    }
}

/// The actions this listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    CreateReplicationJob,
    DescribeReplicationJobs,
    StartReplicationJob,
    StopReplicationJob,
    CutOverReplicationJob,
}

impl Action {
    /// The action's name in SMC's API.
    fn name(self) -> &'static str {
        match self {
            Action::CreateReplicationJob => "CreateReplicationJob",
            Action::DescribeReplicationJobs => "DescribeReplicationJobs",
            Action::StartReplicationJob => "StartReplicationJob",
            Action::StopReplicationJob => "StopReplicationJob",
            Action::CutOverReplicationJob => "CutOverReplicationJob",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "CreateReplicationJob" => Action::CreateReplicationJob,
            "DescribeReplicationJobs" => Action::DescribeReplicationJobs,
            "StartReplicationJob" => Action::StartReplicationJob,
            "StopReplicationJob" => Action::StopReplicationJob,
            "CutOverReplicationJob" => Action::CutOverReplicationJob,
            _ => return None,
        })
    }
}

/// One call of an initialised account.
struct Operations<'a> {
    api: &'a NativeApi,
    tenant: Tenant,
    params: Params,
}

impl Operations<'_> {
    fn job_id(&self) -> Result<ReplicationJobId, SmcError> {
        Ok(ReplicationJobId::parse(
            "JobId",
            self.params.required("JobId")?,
        )?)
    }

    /// CreateReplicationJob, idempotent under `ClientToken`.
    async fn create(&self) -> Result<Value, SmcError> {
        let request = requests::create_replication_job(&self.params)?;
        let token = ClientToken::new(
            self.params.get("ClientToken").unwrap_or_default(),
            self.params.fingerprint("CreateReplicationJob"),
        )?;
        let job_id = self
            .api
            .plane
            .create_replication_job(&self.tenant, &request, token.as_ref())
            .await?;
        Ok(json!({ "JobId": job_id.as_str() }))
    }

    /// DescribeReplicationJobs: one numbered page, with the total.
    fn describe(&self) -> Result<Value, SmcError> {
        let request = requests::describe_replication_jobs(&self.params)?;
        let found = self
            .api
            .plane
            .replication_jobs_by_number(&self.tenant, &request);
        let region = self.params.get("RegionId").unwrap_or_default();
        let jobs: Vec<Value> = found
            .items
            .iter()
            .map(|job| output::replication_job(job, region))
            .collect();
        let page = request.page();
        Ok(json!({
            "TotalCount": found.total,
            "PageNumber": page.number(),
            "PageSize": page.size(),
            "ReplicationJobs": { "ReplicationJob": jobs },
        }))
    }
}
