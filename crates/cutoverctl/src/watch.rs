//! `cutoverctl watch`: the lifecycle stream, resumed by revision after a
//! dropped connection, optionally until every watched resource reached a
//! state.

use std::time::Duration;

use clap::Args;
use cutover_proto::v1::{
    lifecycle_service_client::LifecycleServiceClient, watch_lifecycle_events_response::Kind,
    WatchLifecycleEventsRequest,
};
use rand::Rng;
use tokio::time::Instant;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{
    conn::{self, Authed, Connection},
    errors::CliError,
    output::Format,
    tracker::Tracker,
    until::{parse_until, Until, UNTIL_HELP},
    view::Display,
};

/// Options of `watch`.
#[derive(Debug, Args)]
#[command(after_help = "\
Without --until the watch runs until interrupted. On a terminal (-o table) each \
resource has a progress bar: a server's replicated bytes with its lifecycle and \
replication state, a job's progress with its status. Otherwise one line per event: \
revision, resource id, event type, new state (snapshot entries show the snapshot's \
revision and SNAPSHOT). -o json / -o yaml print the stream's messages as they come.

The address of the control plane comes from `cutoverctl --server ADDR watch ...` or \
CUTOVER_SERVER: inside `watch`, --server selects source servers.

A dropped stream is resumed from the last revision seen + 1 with back-off \
(0.2 s doubling to 5 s); if the revisions were compacted the watch starts again \
from a snapshot.")]
pub(crate) struct WatchArgs {
    /// Watch this source server (repeatable).
    #[arg(long = "server", value_name = "ID")]
    servers: Vec<String>,
    /// Watch this replication job (repeatable).
    #[arg(long = "job", value_name = "ID")]
    jobs: Vec<String>,
    #[doc = "Wait until every watched resource reached STATE (see below)."]
    #[arg(long, value_name = "STATE", value_parser = parse_until, long_help = UNTIL_HELP)]
    until: Option<Until>,
    /// Seconds between the server's bookmarks (resume points of a quiet,
    /// filtered watch).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    bookmark_interval: f64,
}

/// Back-off between reconnections: 200 ms doubling to 5 s, with jitter.
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(200);
    const MAX: Duration = Duration::from_secs(5);

    fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The next delay (jittered by up to ±20%).
    fn step(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }
}

/// How one stream ended.
enum Ended {
    /// `--until` is satisfied.
    Done,
    /// The stream ended with this status (or none: closed by the server).
    Dropped(Status),
}

/// What the watch loop carries across reconnections.
struct Watch {
    client: LifecycleServiceClient<Authed>,
    ids: Vec<String>,
    until: Option<Until>,
    bookmarks: Duration,
    tracker: Tracker,
    display: Display,
    /// The last revision processed (snapshot end, event or bookmark).
    last: Option<u64>,
    /// Whether a snapshot has been completed (the until check is meaningful).
    synced: bool,
    /// Whether any stream message arrived in this run.
    ever_received: bool,
}

/// Runs `watch`.
pub(crate) async fn run(
    conn: &Connection,
    format: Format,
    timeout: Option<f64>,
    args: WatchArgs,
) -> Result<(), CliError> {
    let deadline = match (args.until, timeout) {
        (Some(_), Some(seconds)) => {
            Some(Instant::now() + conn::seconds_to_duration("--timeout", seconds)?)
        }
        _ => None,
    };
    let bookmarks = conn::seconds_to_duration("--bookmark-interval", args.bookmark_interval)?;
    let mut watch = Watch {
        client: LifecycleServiceClient::with_interceptor(conn.channel(), conn.auth()),
        ids: args.servers.iter().chain(&args.jobs).cloned().collect(),
        until: args.until,
        bookmarks,
        tracker: Tracker::new(args.until),
        display: Display::new(format),
        last: None,
        synced: false,
        ever_received: false,
    };
    let result = match deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline, watch.run()).await {
            Ok(result) => result,
            Err(_) => {
                let progress = watch.tracker.progress(&watch.ids);
                Err(CliError::Timeout(format!(
                    "{} of {} watched resources reached {} before --timeout",
                    progress.reached,
                    progress.total,
                    describe(args.until)
                )))
            }
        },
        None => watch.run().await,
    };
    watch.display.finish();
    if result.is_ok() {
        if let Some(until) = args.until {
            let progress = watch.tracker.progress(&watch.ids);
            watch.display.note(&format!(
                "watch: {} of {} watched resources reached {}",
                progress.reached,
                progress.total,
                describe(Some(until))
            ));
        }
    }
    result
}

/// `--until`'s condition in words.
fn describe(until: Option<Until>) -> String {
    let Some(until) = until else {
        return "-".into();
    };
    if until.tasks_done {
        return "tasks-done".into();
    }
    let mut words = Vec::new();
    if let Some(state) = until.life_cycle {
        words.push(state.as_str_name().to_owned());
    }
    if let Some(status) = until.job_status {
        words.push(status.as_str_name().to_owned());
    }
    words.join(" / ")
}

/// Usage checks, before connecting: ids of the right kind, a condition
/// that covers them, a usable bookmark interval.
pub(crate) fn check_args(args: &WatchArgs) -> Result<(), CliError> {
    conn::seconds_to_duration("--bookmark-interval", args.bookmark_interval)?;
    if let Some(id) = args.servers.iter().find(|id| id.starts_with("j-")) {
        return Err(CliError::Usage(format!(
            "--server {id}: use --job for jobs"
        )));
    }
    if let Some(id) = args.jobs.iter().find(|id| id.starts_with("s-")) {
        return Err(CliError::Usage(format!(
            "--job {id}: use --server for source servers"
        )));
    }
    if let Some(until) = args.until {
        if !args.servers.is_empty() && !until.covers_servers() {
            return Err(CliError::Usage(format!(
                "--until {} is a job status: it cannot apply to --server",
                describe(Some(until))
            )));
        }
        if !args.jobs.is_empty() && !until.covers_jobs() {
            return Err(CliError::Usage(format!(
                "--until {} applies to source servers: it cannot apply to --job",
                describe(Some(until))
            )));
        }
    }
    Ok(())
}

/// Whether a watch that ended with `status` should resume.
fn retryable(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::Cancelled | Code::Unknown | Code::Aborted => true,
        Code::DeadlineExceeded => true,
        // An h2 or connection failure surfaces as INTERNAL without details.
        Code::Internal => status.get_details_error_info().is_none(),
        _ => false,
    }
}

impl Watch {
    /// Watches until `--until` holds (or forever), reconnecting as needed.
    async fn run(&mut self) -> Result<(), CliError> {
        let mut backoff = Backoff::new();
        loop {
            let status = match self.stream(&mut backoff).await? {
                Ended::Done => return Ok(()),
                Ended::Dropped(status) => status,
            };
            if status.code() == Code::OutOfRange {
                self.display.note(&format!(
                    "watch: revisions from {} were compacted ({}); starting again from a snapshot",
                    self.last.map_or(0, |r| r + 1),
                    status.message()
                ));
                self.last = None;
                continue;
            }
            if !retryable(&status) || !self.ever_received {
                return Err(CliError::Status(status));
            }
            if let Some(resume) = status
                .get_details_error_info()
                .and_then(|info| info.metadata.get("resumeRevision").cloned())
                .and_then(|r| r.parse::<u64>().ok())
            {
                if self.last.is_some() && resume > 0 {
                    self.last = Some(resume - 1);
                }
            }
            let delay = backoff.step();
            self.display.note(&format!(
                "watch: stream ended ({:?}: {}); resuming from revision {} in {} ms",
                status.code(),
                status.message(),
                self.last
                    .map_or("snapshot".to_owned(), |r| (r + 1).to_string()),
                delay.as_millis()
            ));
            tokio::time::sleep(delay).await;
        }
    }

    /// One stream, from `last + 1` (or a fresh snapshot).
    async fn stream(&mut self, backoff: &mut Backoff) -> Result<Ended, CliError> {
        let request = WatchLifecycleEventsRequest {
            resource_ids: self.ids.clone(),
            start_revision: self.last.map_or(0, |r| r.saturating_add(1)),
            send_initial_snapshot: self.last.is_none(),
            progress_interval: prost_types::Duration::try_from(self.bookmarks).ok(),
            ..Default::default()
        };
        let mut stream = match self.client.watch_lifecycle_events(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return Ok(Ended::Dropped(status)),
        };
        loop {
            let message = match stream.message().await {
                Ok(Some(message)) => message,
                Ok(None) => {
                    return Ok(Ended::Dropped(Status::unavailable(
                        "the server closed the stream",
                    )))
                }
                Err(status) => return Ok(Ended::Dropped(status)),
            };
            backoff.reset();
            self.ever_received = true;
            self.display.message(&message)?;
            match message.kind {
                Some(Kind::Snapshot(snapshot)) => {
                    if let Some(id) = self.tracker.snapshot(&snapshot) {
                        self.display.snapshot(&id, &self.tracker)?;
                    }
                }
                Some(Kind::SnapshotEnd(end)) => {
                    self.last = Some(end.revision);
                    self.display.snapshot_end(end.revision, &self.tracker)?;
                    if !self.synced {
                        self.synced = true;
                        self.check_missing()?;
                    }
                }
                Some(Kind::Event(event)) => {
                    self.last = Some(event.revision);
                    self.tracker.event(&event);
                    self.display.event(&event, &self.tracker)?;
                }
                Some(Kind::Bookmark(bookmark)) => {
                    self.last = Some(bookmark.revision);
                }
                None => {}
            }
            if self.synced && self.until.is_some() && self.tracker.progress(&self.ids).done() {
                return Ok(Ended::Done);
            }
        }
    }

    /// After the first snapshot: every filtered id must exist.
    fn check_missing(&self) -> Result<(), CliError> {
        let missing: Vec<String> = self
            .ids
            .iter()
            .filter(|id| self.tracker.get(id).is_none())
            .cloned()
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CliError::NotFound(format!(
                "no such resource in the caller's account: {}",
                missing.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_seconds() {
        let mut backoff = Backoff::new();
        let first = backoff.step();
        assert!(first >= Duration::from_millis(160) && first <= Duration::from_millis(240));
        for _ in 0..10 {
            backoff.step();
        }
        assert!(backoff.step() <= Duration::from_secs(6));
        backoff.reset();
        assert!(backoff.step() <= Duration::from_millis(240));
    }

    #[test]
    fn transport_failures_resume_and_refusals_do_not() {
        assert!(retryable(&Status::unavailable("shutting down")));
        assert!(retryable(&Status::internal("h2 protocol error")));
        assert!(!retryable(&Status::invalid_argument("bad filter")));
        assert!(!retryable(&Status::unauthenticated("no token")));
        assert!(!retryable(&Status::not_found("x")));
    }
}
