//! WAL checkpoints, mostly on a thread of their own. By default SQLite
//! checkpoints from the connection that commits, once the WAL passes 1,000
//! pages: the committer copies those pages into the database file and
//! fsyncs it in the middle of its groups, on the one thread every write
//! waits for. Here this thread copies what was committed, a PASSIVE
//! checkpoint every 50 ms, which never blocks the writer or readers.
//!
//! PASSIVE checkpoints alone never let the WAL start over while writes go
//! on: SQLite rewinds it only when a write begins with every frame copied,
//! and a busy writer has always appended more (a run without the writer's
//! own checkpoints grew the WAL to 12 GB; one with a RESTART checkpoint
//! from this thread past 64 MiB still reached 580 MB). So the committer
//! keeps an automatic checkpoint, at [`WRITER_CHECKPOINT_PAGES`]: by then
//! this thread has copied nearly everything, the committer copies the
//! rest, and its next write rewinds the WAL.

use std::{
    path::Path,
    sync::mpsc::{self, RecvTimeoutError},
    thread::JoinHandle,
    time::Duration,
};

use rusqlite::Connection;

use super::{map_err, schema};
use crate::store::StoreError;

/// Time between two checkpoints: the WAL grows by what is committed in
/// this time (a few MiB at full write load).
const INTERVAL: Duration = Duration::from_millis(50);

/// WAL pages past which the committer checkpoints what this thread has
/// not copied yet (16 MiB of 4 KiB pages), and so rewinds the WAL.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 4096;

/// The checkpoint thread; it stops when dropped.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = schema::connect(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cutover-checkpoint".to_owned())
            .spawn(move || run(&conn, &stopped))
            .map_err(|err| {
                StoreError::Unavailable(format!("cannot start the checkpointer: {err}"))
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        let outcome = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(map_err);
        if let Err(err) = outcome {
            // The next round tries again; commits are unaffected.
            tracing::warn!(%err, "WAL checkpoint failed");
        }
    }
}
