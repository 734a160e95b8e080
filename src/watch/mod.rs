//! The lifecycle watch: every committed event, in revision order, to many
//! watchers at once, resumable by revision.
//!
//! One broadcast channel, fed by the store as events become durable,
//! carries every event to every watcher, which keeps only its position and
//! is woken with the other watchers of its connection ([`Fanout`]). A
//! watcher that falls behind (its consumer is slow, or it lagged the
//! channel) reads the range it missed from the stored log instead of having
//! the server buffer for it, so server memory stays bounded whatever the
//! consumers do.

mod fanout;
mod filter;
mod snapshot;
mod watcher;

use std::{sync::Arc, time::Duration};

use futures_util::Stream;

use crate::{
    domain::ReplicationJob,
    store::{Entry, ServerEntry, SharedEvent, StoreError},
};

pub use fanout::{ConnectionKey, Fanout};
pub use filter::EventFilter;

/// What a watcher asked for.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// Which events and resources it sees.
    pub filter: EventFilter,
    /// 0: from now on; N: every event with revision >= N.
    pub start_revision: u64,
    /// Send the matching resources first, then a snapshot marker.
    pub send_initial_snapshot: bool,
    /// Send a bookmark when nothing was sent for this long.
    pub progress_interval: Option<Duration>,
}

/// One message of a watch.
#[derive(Debug, Clone)]
pub enum WatchItem {
    /// A lifecycle event.
    Event(Arc<SharedEvent>),
    /// A resource of the initial snapshot.
    Snapshot(SnapshotItem),
    /// End of the snapshot: it reflects every event up to this revision.
    SnapshotEnd(u64),
    /// Every event up to this revision was considered.
    Bookmark(u64),
}

/// A resource of a watch's initial snapshot, as of the snapshot's revision.
#[derive(Debug, Clone)]
pub enum SnapshotItem {
    /// A source server, with whether a job of it is Running (SMC's InUse).
    SourceServer(ServerEntry),
    /// A replication job.
    ReplicationJob(Entry<ReplicationJob>),
}

/// Why a watch could not open, or ended: the watch's own two reasons, and
/// the store's failures as the store said them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The watch asked for revisions the log no longer keeps; the client
    /// re-lists (snapshot) and watches from the snapshot's revision.
    #[error("revision {requested} has been compacted; the oldest revision kept is {oldest}")]
    RevisionCompacted {
        /// The revision asked for.
        requested: u64,
        /// The oldest revision still kept.
        oldest: u64,
    },
    /// The server is shutting down: the watch resumes from `resume_from`
    /// elsewhere or after the restart.
    #[error("the server is shutting down; resume from revision {resume_from}")]
    ShuttingDown {
        /// The first revision the watcher has not seen.
        resume_from: u64,
    },
    /// Reading the log failed, or the store's event log closed under the
    /// watch.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Opens a watch. Fails at once with [`WatchError::RevisionCompacted`] if
/// `start_revision` is older than the log keeps; the stream ends with
/// [`WatchError::ShuttingDown`] when the fan-out's drain is cancelled.
pub async fn open(
    fanout: &Fanout,
    connection: ConnectionKey,
    request: WatchRequest,
) -> Result<impl Stream<Item = Result<WatchItem, WatchError>> + Send + 'static, WatchError> {
    watcher::Watcher::open(fanout, connection, request)
        .await
        .map(watcher::Watcher::into_stream)
}
