//! `cutover.v1.LifecycleService`: the resumable watch of lifecycle events.

mod route;

pub use route::LifecycleRoute;

use std::{collections::HashSet, time::Duration};

use bytes::BufMut;
use prost::Message;
use tonic::{Request, Response, Status};

use super::{convert, Api, BoxStream};
use crate::{
    control_plane::Caller,
    domain::{DomainError, ReplicationJobId, SourceServerId},
    pb::v1::{
        self as pb, watch_lifecycle_events_response::Kind, WatchLifecycleEventsRequest,
        WatchLifecycleEventsResponse,
    },
    watch::{self, EventFilter, SnapshotItem, WatchItem, WatchRequest},
};

/// Most resource ids one watch may name.
const MAX_RESOURCE_IDS: usize = 1000;
/// Bookmark intervals accepted.
const PROGRESS_INTERVAL: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_secs(24 * 3600);

fn watch_request(
    caller: &Caller,
    message: &WatchLifecycleEventsRequest,
) -> Result<WatchRequest, DomainError> {
    if message.resource_ids.len() > MAX_RESOURCE_IDS {
        return Err(DomainError::invalid_field(
            "resource_ids",
            format!(
                "at most {MAX_RESOURCE_IDS} ids, got {}",
                message.resource_ids.len()
            ),
        ));
    }
    let mut resource_ids = HashSet::new();
    for id in &message.resource_ids {
        if SourceServerId::parse("resource_ids", id).is_err() {
            ReplicationJobId::parse("resource_ids", id).map_err(|_| {
                DomainError::invalid_field(
                    "resource_ids",
                    format!("{id:?} is neither an `s-` nor a `j-` id"),
                )
            })?;
        }
        resource_ids.insert(id.clone());
    }
    if message.send_initial_snapshot && message.start_revision != 0 {
        return Err(DomainError::invalid_field(
            "start_revision",
            "must be 0 with send_initial_snapshot: the snapshot says where live events start",
        ));
    }
    let progress_interval = match &message.progress_interval {
        Some(interval) => {
            let millis = convert::millis_from("progress_interval", interval)?;
            let interval = Duration::from_millis(u64::try_from(millis.0).unwrap_or(0));
            if !PROGRESS_INTERVAL.contains(&interval) {
                return Err(DomainError::invalid_field(
                    "progress_interval",
                    "must be between 10 ms and 24 h",
                ));
            }
            Some(interval)
        }
        None => None,
    };
    Ok(WatchRequest {
        filter: EventFilter {
            account_id: caller.account_id.clone(),
            resource_kinds: convert::decode_all("resource_types", &message.resource_types)?,
            resource_ids,
            event_types: convert::decode_all("event_types", &message.event_types)?,
        },
        start_revision: message.start_revision,
        send_initial_snapshot: message.send_initial_snapshot,
        progress_interval,
    })
}

impl Api {
    /// Writes a watch item as a `WatchLifecycleEventsResponse`. An event's
    /// encoding is shared by every watcher of its connection and made by
    /// the first. A snapshot's servers get their derived state as of the
    /// snapshot; events' servers get none (see `convert::lifecycle_event`).
    fn encode_watch_item(
        &self,
        item: WatchItem,
        buf: &mut impl BufMut,
    ) -> Result<(), prost::EncodeError> {
        let arn = |server: &crate::domain::SourceServer| self.plane.arn(server);
        let kind = match item {
            WatchItem::Event(shared) => {
                buf.put_slice(shared.wire(|event| {
                    response(Kind::Event(convert::lifecycle_event(event, arn))).encode_to_vec()
                }));
                return Ok(());
            }
            WatchItem::Snapshot(item) => {
                let resource = match item {
                    SnapshotItem::SourceServer(entry) => {
                        let server = &entry.server.value;
                        let state = self.plane.source_state(server, entry.has_running_job);
                        pb::resource_snapshot::Resource::SourceServer(convert::source_server(
                            server,
                            arn(server),
                            Some(state),
                        ))
                    }
                    SnapshotItem::ReplicationJob(job) => {
                        pb::resource_snapshot::Resource::ReplicationJob(convert::replication_job(
                            &job.value,
                        ))
                    }
                };
                Kind::Snapshot(pb::ResourceSnapshot {
                    resource: Some(resource),
                })
            }
            WatchItem::SnapshotEnd(revision) => Kind::SnapshotEnd(pb::SnapshotEnd { revision }),
            WatchItem::Bookmark(revision) => Kind::Bookmark(pb::Bookmark { revision }),
        };
        response(kind).encode(buf)
    }

    /// `WatchLifecycleEvents`: opens the watch and streams its items, which
    /// the route's codec encodes with [`Api::encode_watch_item`].
    async fn watch_lifecycle_events(
        &self,
        request: Request<WatchLifecycleEventsRequest>,
    ) -> Result<Response<BoxStream<WatchItem>>, Status> {
        let watcher = self.metrics.watcher_opened();
        let connection = request.remote_addr();
        self.stream(
            request,
            |caller, message| async move {
                let watch_request = watch_request(&caller, &message)?;
                Ok(watch::open(&self.fanout, connection, watch_request).await?)
            },
            move |item| {
                // The guard lives as long as the stream: the gauge counts
                // open watchers.
                let _open = &watcher;
                item
            },
        )
        .await
    }
}

fn response(kind: Kind) -> WatchLifecycleEventsResponse {
    WatchLifecycleEventsResponse { kind: Some(kind) }
}
