//! Opening the store the configuration names.

use std::sync::Arc;

use super::ServeError;
use crate::{
    config::Database,
    store::{PostgresStore, SqliteStore, Store},
};

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "cutover.db";

/// The store `database` names: shared PostgreSQL, or the embedded SQLite
/// database in the data directory.
pub(super) async fn open(database: Database) -> Result<Arc<dyn Store>, ServeError> {
    let data_dir = match database {
        Database::Shared(options) => return Ok(Arc::new(PostgresStore::open(options).await?)),
        Database::Embedded { data_dir } => data_dir,
    };
    // Opening loads the read model: seconds for a million servers, off the
    // async workers.
    let path = data_dir.join(DATABASE_FILE);
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await?
    };
    // Opening never rewrites a database it refuses: say so, with the path.
    let store = opened.map_err(|err| {
        format!(
            "cannot open the database {}: {err}; the file was left as it was",
            path.display()
        )
    })?;
    Ok(Arc::new(store))
}
