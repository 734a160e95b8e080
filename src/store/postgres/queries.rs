//! The PostgreSQL store's statements outside the group commit: loading
//! the read model, the log, client tokens, accounts, secrets, leases and
//! compaction.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};
use futures_util::{pin_mut, TryStreamExt};
use tokio_postgres::{IsolationLevel, Transaction};

use super::{map_err, pool_err};
use crate::domain::{AccountId, LifecycleEvent, Resource, SourceServerId, Timestamp};
use crate::store::{codec, Fence, IdempotencyRecord, LeaseName, StoreError, Versioned};

/// Most events or tokens deleted per transaction.
const DELETE_STEP: i64 = 10_000;

pub(super) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what}: negative value {value}")))
}

/// The head revision and every stored resource, read in one snapshot.
pub(super) async fn load(pool: &Pool) -> Result<(u64, Vec<Versioned<Resource>>), StoreError> {
    let mut client = pool.get().await.map_err(pool_err)?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(map_err)?;
    let head: i64 = tx
        .query_one("SELECT revision FROM log_head", &[])
        .await
        .map_err(map_err)?
        .get(0);
    let mut resources = Vec::new();
    for (table, decode) in [
        (
            "SELECT version, revision, body FROM servers",
            (|body: &[u8]| codec::decode_source_server(body).map(Resource::SourceServer))
                as fn(&[u8]) -> Result<Resource, StoreError>,
        ),
        (
            "SELECT version, revision, body FROM jobs",
            |body: &[u8]| codec::decode_replication_job(body).map(Resource::ReplicationJob),
        ),
    ] {
        let rows = tx
            .query_raw(table, std::iter::empty::<i64>())
            .await
            .map_err(map_err)?;
        pin_mut!(rows);
        while let Some(row) = rows.try_next().await.map_err(map_err)? {
            resources.push(Versioned {
                version: to_u64(row.get(0), "resource version")?,
                revision: to_u64(row.get(1), "resource revision")?,
                value: decode(row.get(2))?,
            });
        }
    }
    tx.commit().await.map_err(map_err)?;
    Ok((to_u64(head, "head revision")?, resources))
}

/// Up to `limit` events from revision `from` on, before revision `before`
/// when given.
pub(super) async fn events_between(
    client: &impl GenericClient,
    from: u64,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<LifecycleEvent>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT revision, body FROM log WHERE revision >= $1 AND revision < $2
             ORDER BY revision LIMIT $3",
        )
        .await
        .map_err(map_err)?;
    let rows = client
        .query(
            &statement,
            &[
                &to_i64(from),
                &before.map_or(i64::MAX, to_i64),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )
        .await
        .map_err(map_err)?;
    rows.iter().map(decode_event_row).collect()
}

/// An event row (revision, body), checked.
fn decode_event_row(row: &tokio_postgres::Row) -> Result<LifecycleEvent, StoreError> {
    let revision = to_u64(row.get(0), "event revision")?;
    let event = codec::decode_event(row.get(1))?;
    if event.revision != revision {
        return Err(StoreError::Corrupt(format!(
            "event stored at revision {revision} says it is {}",
            event.revision
        )));
    }
    Ok(event)
}

/// The oldest revision the log still holds.
pub(super) async fn oldest_revision(client: &impl GenericClient) -> Result<u64, StoreError> {
    let through: i64 = client
        .query_one("SELECT compacted_through FROM log_compaction", &[])
        .await
        .map_err(map_err)?
        .get(0);
    Ok(to_u64(through, "compacted revision")? + 1)
}

pub(super) async fn initialize_account(
    client: &impl GenericClient,
    account: &AccountId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = client
        .execute(
            "INSERT INTO accounts (account_id, initialized_at) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&account.as_str(), &now.0],
        )
        .await
        .map_err(map_err)?;
    Ok(inserted > 0)
}

pub(super) async fn is_account_initialized(
    client: &impl GenericClient,
    account: &AccountId,
) -> Result<bool, StoreError> {
    let statement = client
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = $1)")
        .await
        .map_err(map_err)?;
    Ok(client
        .query_one(&statement, &[&account.as_str()])
        .await
        .map_err(map_err)?
        .get(0))
}

/// A client token's record, with the head revision of the same snapshot
/// (the record's commit is at or before it).
pub(super) async fn idempotency_record(
    client: &impl GenericClient,
    account: &AccountId,
    token: &str,
) -> Result<(Option<IdempotencyRecord>, u64), StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT t.fingerprint, t.outcome, t.created_at, h.revision
             FROM log_head h LEFT JOIN client_tokens t ON t.account_id = $1 AND t.token = $2",
        )
        .await
        .map_err(map_err)?;
    let row = client
        .query_one(&statement, &[&account.as_str(), &token])
        .await
        .map_err(map_err)?;
    // A column of another type than this build wrote is corruption, not
    // a reason to panic.
    let unreadable = |err: tokio_postgres::Error| {
        StoreError::Corrupt(format!("client token {token:?}: unreadable row: {err}"))
    };
    let fingerprint: Option<String> = row.try_get(0).map_err(unreadable)?;
    let record = match fingerprint {
        Some(fingerprint) => {
            let outcome: Vec<u8> = row.try_get(1).map_err(unreadable)?;
            Some(IdempotencyRecord {
                account_id: account.clone(),
                token: token.to_owned(),
                fingerprint,
                outcome: codec::decode_outcome(&outcome)?,
                created: Timestamp(row.try_get(2).map_err(unreadable)?),
            })
        }
        None => None,
    };
    Ok((record, to_u64(row.get(3), "head revision")?))
}

/// The server an agent instance registered, with the head revision of the
/// same snapshot.
pub(super) async fn agent_instance(
    client: &impl GenericClient,
    account: &AccountId,
    instance_id: &str,
) -> Result<(Option<SourceServerId>, u64), StoreError> {
    let row = client
        .query_one(
            "SELECT a.server_id, h.revision
             FROM log_head h LEFT JOIN agent_instances a
                 ON a.account_id = $1 AND a.instance_id = $2",
            &[&account.as_str(), &instance_id],
        )
        .await
        .map_err(map_err)?;
    let id: Option<&str> = row.get(0);
    let server = id
        .map(|id| {
            SourceServerId::parse("server_id", id).map_err(|err| {
                StoreError::Corrupt(format!("agent instance {instance_id:?}: {err}"))
            })
        })
        .transpose()?;
    Ok((server, to_u64(row.get(1), "head revision")?))
}

/// The secret `name`: `fresh` stored unless one exists, then whichever is
/// stored, so concurrent creators on any replica agree.
pub(super) async fn secret(
    client: &impl GenericClient,
    name: &str,
    fresh: &[u8],
) -> Result<Vec<u8>, StoreError> {
    client
        .execute(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &fresh],
        )
        .await
        .map_err(map_err)?;
    Ok(client
        .query_one("SELECT value FROM secrets WHERE name = $1", &[&name])
        .await
        .map_err(map_err)?
        .get(0))
}

/// Renews or takes a lease, on the database's clock (replicas' clocks may
/// disagree; the database's is the one all of them read).
pub(super) async fn hold_lease(
    client: &impl GenericClient,
    name: LeaseName,
    owner: &str,
    held: Option<u64>,
    ttl: Duration,
) -> Result<Option<u64>, StoreError> {
    let ttl_ms = f64::from(u32::try_from(ttl.as_millis()).unwrap_or(u32::MAX));
    let row = match held {
        Some(fence) => {
            client
                .query_opt(
                    "UPDATE leases SET valid_until = now() + $3 * interval '1 millisecond'
                     WHERE name = $1 AND owner = $2 AND fence = $4
                     RETURNING fence",
                    &[&name.as_str(), &owner, &ttl_ms, &to_i64(fence)],
                )
                .await
        }
        None => {
            client
                .query_opt(
                    "INSERT INTO leases (name, owner, fence, valid_until)
                     VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
                     ON CONFLICT (name) DO UPDATE
                         SET owner = EXCLUDED.owner, fence = leases.fence + 1,
                             valid_until = EXCLUDED.valid_until
                         WHERE leases.valid_until < now() OR leases.owner = EXCLUDED.owner
                     RETURNING fence",
                    &[&name.as_str(), &owner, &ttl_ms],
                )
                .await
        }
    }
    .map_err(map_err)?;
    row.map(|row| to_u64(row.get(0), "lease fence")).transpose()
}

/// Checks, in `tx`, that `fence` is still its lease's; locks the lease row
/// until `tx` ends so no claim can slip in before the commit.
async fn check_fence(tx: &Transaction<'_>, fence: Option<Fence>) -> Result<(), StoreError> {
    let Some(fence) = fence else { return Ok(()) };
    let current: Option<i64> = tx
        .query_opt(
            "SELECT fence FROM leases WHERE name = $1 FOR SHARE",
            &[&fence.lease.as_str()],
        )
        .await
        .map_err(map_err)?
        .map(|row| row.get(0));
    if current != Some(to_i64(fence.token)) {
        return Err(StoreError::Fenced(format!(
            "the {} lease moved on from fence {}",
            fence.lease, fence.token
        )));
    }
    Ok(())
}

/// Deletes the oldest events, a step per transaction, so that at most
/// `keep_count` remain and none is older than `older_than`.
pub(super) async fn compact_events(
    client: &mut deadpool_postgres::Object,
    keep_count: u64,
    older_than: Option<Timestamp>,
    fence: Option<Fence>,
) -> Result<u64, StoreError> {
    let head: i64 = client
        .query_one("SELECT revision FROM log_head", &[])
        .await
        .map_err(map_err)?
        .get(0);
    let by_count = head.saturating_sub(to_i64(keep_count));
    let by_age: i64 = match older_than {
        Some(cutoff) => client
            .query_one(
                "SELECT COALESCE(MAX(revision), 0) FROM log WHERE time < $1",
                &[&cutoff.0],
            )
            .await
            .map_err(map_err)?
            .get(0),
        None => 0,
    };
    let through = by_count.max(by_age);
    let mut deleted = 0;
    loop {
        let tx = client.transaction().await.map_err(map_err)?;
        check_fence(&tx, fence).await?;
        let current: i64 = tx
            .query_one(
                "SELECT compacted_through FROM log_compaction FOR UPDATE",
                &[],
            )
            .await
            .map_err(map_err)?
            .get(0);
        if current >= through {
            return Ok(deleted);
        }
        let step = through.min(current.saturating_add(DELETE_STEP));
        deleted += tx
            .execute("DELETE FROM log WHERE revision <= $1", &[&step])
            .await
            .map_err(map_err)?;
        tx.execute("UPDATE log_compaction SET compacted_through = $1", &[&step])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
    }
}

/// Forgets the client tokens first used before `older_than`, a step per
/// transaction.
pub(super) async fn forget_client_tokens(
    client: &mut deadpool_postgres::Object,
    older_than: Timestamp,
    fence: Option<Fence>,
) -> Result<u64, StoreError> {
    let mut forgotten = 0;
    loop {
        let tx = client.transaction().await.map_err(map_err)?;
        check_fence(&tx, fence).await?;
        let deleted = tx
            .execute(
                "DELETE FROM client_tokens WHERE ctid IN
                     (SELECT ctid FROM client_tokens WHERE created_at < $1 LIMIT $2)",
                &[&older_than.0, &DELETE_STEP],
            )
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        forgotten += deleted;
        if deleted < DELETE_STEP as u64 {
            return Ok(forgotten);
        }
    }
}
