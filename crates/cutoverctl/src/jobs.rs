//! `cutoverctl jobs ...`: the ReplicationJobService operations.

use clap::{ArgAction, Args, Subcommand, ValueEnum};
use cutover_proto::v1::{
    self as pb, replication_job_service_client::ReplicationJobServiceClient,
    CreateReplicationJobRequest, CutOverReplicationJobRequest, DescribeReplicationJobsRequest,
    DescribeReplicationJobsResponse, GetReplicationJobRequest, StartReplicationJobRequest,
    StopReplicationJobRequest,
};

use crate::{
    conn::{Authed, Connection},
    errors::CliError,
    output::{self, Format},
    table,
};

/// Replication job commands.
#[derive(Debug, Subcommand)]
pub(crate) enum JobsCommand {
    /// Create a replication job of a source server (CreateReplicationJob).
    /// Giving --frequency or --max-images makes it incremental unless
    /// --run-once says otherwise.
    Create {
        /// The source server to migrate (`s-...`).
        #[arg(long = "source", value_name = "ID")]
        source_id: String,
        /// Job name.
        #[arg(long, default_value = "")]
        name: String,
        /// Job description.
        #[arg(long, default_value = "")]
        description: String,
        /// Run once (true, the service's default) or incrementally (false).
        #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1,
              default_missing_value = "true")]
        run_once: Option<bool>,
        /// Hours between incremental runs (1-168).
        #[arg(long)]
        frequency: Option<i32>,
        /// Images kept by an incremental job (1-10).
        #[arg(long = "max-images", alias = "max-number-of-image-to-keep")]
        max_images: Option<i32>,
        /// Idempotency token.
        #[arg(long)]
        client_token: Option<String>,
    },
    /// Show one job (GetReplicationJob).
    Get {
        /// Job id (`j-...`).
        id: String,
    },
    /// List jobs, every page unless --max-results or --next-token is given
    /// (DescribeReplicationJobs).
    List(ListArgs),
    /// Start (or restart) a job: Ready, Stopped, InError -> Running
    /// (StartReplicationJob).
    Start(Target),
    /// Pause a job while it syncs (StopReplicationJob).
    Stop(Target),
    /// Cut a Waiting incremental job over: cancel its schedule, optionally
    /// sync once more, release resources, Finished (CutOverReplicationJob).
    Cutover {
        /// The job.
        #[command(flatten)]
        target: Target,
        /// Run one last full data migration first.
        #[arg(long)]
        sync_data: bool,
    },
}

/// A job to act on.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// Job id (`j-...`).
    id: String,
    /// Idempotency token: a retry with the same token returns the first answer.
    #[arg(long)]
    client_token: Option<String>,
}

/// Filters and paging of `jobs list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only these job ids (repeatable).
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<String>,
    /// Only jobs of these source servers (repeatable).
    #[arg(long = "source", value_name = "ID")]
    sources: Vec<String>,
    /// Only jobs in this status (repeatable).
    #[arg(long = "status", value_enum, value_name = "STATUS")]
    statuses: Vec<JobStatus>,
    /// Only jobs in this business status (repeatable).
    #[arg(long = "business-status", value_enum, value_name = "STATUS")]
    business_statuses: Vec<BusinessStatus>,
    /// Page size (1-1000); fetch one page only.
    #[arg(long)]
    max_results: Option<i32>,
    /// Continue from this page token; fetch one page only.
    #[arg(long)]
    next_token: Option<String>,
}

/// SMC job statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum JobStatus {
    /// Created, not started.
    Ready,
    /// Running.
    Running,
    /// Paused.
    Stopped,
    /// A run failed.
    InError,
    /// Done.
    Finished,
    /// Incremental, between runs.
    Waiting,
    /// Expired.
    Expired,
    /// Being deleted.
    Deleting,
}

impl JobStatus {
    /// The proto enum value.
    pub(crate) fn proto(self) -> pb::ReplicationJobStatus {
        use pb::ReplicationJobStatus as S;
        match self {
            JobStatus::Ready => S::Ready,
            JobStatus::Running => S::Running,
            JobStatus::Stopped => S::Stopped,
            JobStatus::InError => S::InError,
            JobStatus::Finished => S::Finished,
            JobStatus::Waiting => S::Waiting,
            JobStatus::Expired => S::Expired,
            JobStatus::Deleting => S::Deleting,
        }
    }
}

/// SMC business statuses of a Running job.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum BusinessStatus {
    /// Preparing.
    Preparing,
    /// Syncing.
    Syncing,
    /// Processing.
    Processing,
    /// Cleaning.
    Cleaning,
}

impl BusinessStatus {
    fn proto(self) -> pb::ReplicationJobBusinessStatus {
        use pb::ReplicationJobBusinessStatus as S;
        match self {
            BusinessStatus::Preparing => S::Preparing,
            BusinessStatus::Syncing => S::Syncing,
            BusinessStatus::Processing => S::Processing,
            BusinessStatus::Cleaning => S::Cleaning,
        }
    }
}

/// Runs a `jobs` command.
pub(crate) async fn run(
    conn: &Connection,
    format: Format,
    command: JobsCommand,
) -> Result<(), CliError> {
    let mut client: ReplicationJobServiceClient<Authed> =
        ReplicationJobServiceClient::with_interceptor(conn.channel(), conn.auth());
    match command {
        JobsCommand::Create {
            source_id,
            name,
            description,
            run_once,
            frequency,
            max_images,
            client_token,
        } => {
            let incremental = frequency.is_some() || max_images.is_some();
            let request = CreateReplicationJobRequest {
                client_token: client_token.unwrap_or_default(),
                source_id,
                name,
                description,
                run_once: run_once.or(incremental.then_some(false)),
                frequency: frequency.unwrap_or(0),
                max_number_of_image_to_keep: max_images.unwrap_or(0),
            };
            let response = conn
                .call(client.create_replication_job(conn.request(request)))
                .await?;
            output::print_message(format, &response, |r| format!("created job {}\n", r.job_id))
        }
        JobsCommand::Get { id } => {
            let request = GetReplicationJobRequest { job_id: id };
            let job = conn
                .call(client.get_replication_job(conn.request(request)))
                .await?;
            output::print_message(format, &job, |j| table::jobs(std::slice::from_ref(j)))
        }
        JobsCommand::List(args) => list(conn, &mut client, format, args).await,
        JobsCommand::Start(target) => {
            let request = StartReplicationJobRequest {
                job_id: target.id.clone(),
                client_token: target.client_token.unwrap_or_default(),
            };
            let response = conn
                .call(client.start_replication_job(conn.request(request)))
                .await?;
            output::print_message(format, &response, |_| {
                format!("job {} started\n", target.id)
            })
        }
        JobsCommand::Stop(target) => {
            let request = StopReplicationJobRequest {
                job_id: target.id.clone(),
                client_token: target.client_token.unwrap_or_default(),
            };
            let response = conn
                .call(client.stop_replication_job(conn.request(request)))
                .await?;
            output::print_message(format, &response, |_| {
                format!("job {} stopped\n", target.id)
            })
        }
        JobsCommand::Cutover { target, sync_data } => {
            let request = CutOverReplicationJobRequest {
                job_id: target.id.clone(),
                sync_data,
                client_token: target.client_token.unwrap_or_default(),
            };
            let response = conn
                .call(client.cut_over_replication_job(conn.request(request)))
                .await?;
            output::print_message(format, &response, |_| {
                let how = if sync_data {
                    "a final full sync, then cleanup"
                } else {
                    "cleanup without a final sync"
                };
                format!("job {} is cutting over: {how}\n", target.id)
            })
        }
    }
}

/// `jobs list`: one page, or every page merged into one answer.
async fn list(
    conn: &Connection,
    client: &mut ReplicationJobServiceClient<Authed>,
    format: Format,
    args: ListArgs,
) -> Result<(), CliError> {
    let one_page = args.max_results.is_some() || args.next_token.is_some();
    let mut request = DescribeReplicationJobsRequest {
        job_ids: args.ids,
        source_ids: args.sources,
        statuses: args.statuses.iter().map(|s| s.proto() as i32).collect(),
        business_statuses: args
            .business_statuses
            .iter()
            .map(|s| s.proto() as i32)
            .collect(),
        max_results: args.max_results.unwrap_or(0),
        next_token: args.next_token.unwrap_or_default(),
    };
    let mut all = DescribeReplicationJobsResponse::default();
    loop {
        let page = conn
            .call(client.describe_replication_jobs(conn.request(request.clone())))
            .await?;
        all.request_id = page.request_id;
        all.replication_jobs.extend(page.replication_jobs);
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
    output::print_message(format, &all, |r| table::jobs(&r.replication_jobs))
}
