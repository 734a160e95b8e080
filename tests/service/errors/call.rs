//! The RPCs the error cases make, named: a [`Call`] aimed at an id, the
//! tables of every call that takes a source server or job id, and the
//! [`Reply`] a successful call gives.

use cutover::pb::v1::{
    CreateReplicationJobResponse, CutOverReplicationJobResponse, DescribeReplicationJobsResponse,
    DescribeSourceServersResponse, InitializeServiceResponse, LifeCycleState, ReplicationJob,
    SourceServer, StartCutoverResponse, StartReplicationJobResponse, StartTestResponse,
    StopReplicationJobResponse,
};
use tonic::Response;

use cutover_testkit::request_id_header;

/// One RPC, aimed at the id [`Api::call`] is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// RegisterSourceServer (no id).
    Register,
    /// DescribeSourceServers without filters (no id).
    DescribeServers,
    /// DescribeSourceServers filtered by a well-formed id and then the id,
    /// so that an id is checked wherever it stands in the list.
    DescribeServersById,
    GetServer,
    StartTest,
    ChangeState(LifeCycleState),
    StartCutover,
    FinalizeCutover,
    Disconnect,
    Archive,
    /// CreateReplicationJob of a one-time job of the source id.
    CreateJob,
    /// DescribeReplicationJobs without filters (no id).
    DescribeJobs,
    DescribeJobsBySource,
    DescribeJobsById,
    GetJob,
    StartJob,
    StopJob,
    CutOver {
        sync_data: bool,
    },
    /// WatchLifecycleEvents from the start, up to its first message (no
    /// id; its reply carries no request id).
    Watch,
}

impl Call {
    /// Whether the call lists resources (an unknown id is no error).
    pub(crate) fn lists(self) -> bool {
        matches!(
            self,
            Call::DescribeServersById | Call::DescribeJobsBySource | Call::DescribeJobsById
        )
    }
}

/// Every call aimed at a source server id, with the field that names it.
pub(crate) const SERVER_ID_CALLS: &[(Call, &str)] = &[
    (Call::GetServer, "source_server_id"),
    (Call::FinalizeCutover, "source_server_id"),
    (Call::StartTest, "source_server_id"),
    (Call::StartCutover, "source_server_id"),
    (
        Call::ChangeState(LifeCycleState::ReadyForTest),
        "source_server_id",
    ),
    (
        Call::ChangeState(LifeCycleState::ReadyForCutover),
        "source_server_id",
    ),
    (Call::Disconnect, "source_server_id"),
    (Call::Archive, "source_server_id"),
    (Call::DescribeServersById, "filters.source_server_ids"),
    (Call::CreateJob, "source_id"),
    (Call::DescribeJobsBySource, "source_ids"),
];

/// Every call aimed at a replication job id, with the field that names it.
pub(crate) const JOB_ID_CALLS: &[(Call, &str)] = &[
    (Call::GetJob, "job_id"),
    (Call::StartJob, "job_id"),
    (Call::StopJob, "job_id"),
    (Call::CutOver { sync_data: false }, "job_id"),
    (Call::CutOver { sync_data: true }, "job_id"),
    (Call::DescribeJobsById, "job_ids"),
];

/// What a successful call answered: its `x-request-id` header and the
/// request id in its body.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub(crate) header: String,
    pub(crate) request_id: String,
}

/// An answer that carries its request id.
pub(crate) trait HasRequestId {
    fn request_id(&self) -> &str;
}

macro_rules! has_request_id {
    ($($answer:ty),* $(,)?) => {
        $(impl HasRequestId for $answer {
            fn request_id(&self) -> &str {
                &self.request_id
            }
        })*
    };
}

has_request_id!(
    SourceServer,
    DescribeSourceServersResponse,
    StartTestResponse,
    StartCutoverResponse,
    CreateReplicationJobResponse,
    ReplicationJob,
    DescribeReplicationJobsResponse,
    StartReplicationJobResponse,
    StopReplicationJobResponse,
    CutOverReplicationJobResponse,
    InitializeServiceResponse,
);

impl Reply {
    /// The request ids of a response.
    pub(crate) fn of<T: HasRequestId>(response: &Response<T>) -> Reply {
        Reply {
            header: request_id_header(response.metadata()),
            request_id: response.get_ref().request_id().to_owned(),
        }
    }
}
