//! The group commit's statements: locking and reading what the checks
//! need, and writing the accepted rows with array parameters.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Transaction;
use futures_util::future::try_join_all;
use tokio_postgres::types::ToSql;

use super::group::{self, Rows, Stored, Touched};

/// Two text arrays from keys.
fn columns(keys: &[group::Key]) -> (Vec<&str>, Vec<&str>) {
    keys.iter().map(|(a, b)| (a.as_str(), b.as_str())).unzip()
}

/// Locks the touched rows and reads what the group's checks need.
pub(super) async fn read_stored(
    tx: &Transaction<'_>,
    touched: &Touched,
) -> Result<Stored, tokio_postgres::Error> {
    let mut stored = Stored::default();
    // Servers before jobs, each in key order: the same order on every
    // replica.
    if !touched.servers.is_empty() {
        let (accounts, ids) = columns(&touched.servers);
        for row in tx
            .query(
                "SELECT account_id, id, version FROM servers
                 WHERE (account_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                 ORDER BY account_id, id FOR UPDATE",
                &[&accounts, &ids],
            )
            .await?
        {
            let version: i64 = row.get(2);
            stored.servers.insert(
                (row.get(0), row.get(1)),
                u64::try_from(version).unwrap_or(0),
            );
        }
    }
    if !touched.jobs.is_empty() {
        let (accounts, ids) = columns(&touched.jobs);
        for row in tx
            .query(
                "SELECT account_id, id, version FROM jobs
                 WHERE (account_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                 ORDER BY account_id, id FOR UPDATE",
                &[&accounts, &ids],
            )
            .await?
        {
            let version: i64 = row.get(2);
            stored.jobs.insert(
                (row.get(0), row.get(1)),
                u64::try_from(version).unwrap_or(0),
            );
        }
        let (accounts, sources) = columns(&touched.sources);
        for row in tx
            .query(
                "SELECT account_id, source_id, id FROM jobs WHERE unfinished
                     AND (account_id, source_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
                &[&accounts, &sources],
            )
            .await?
        {
            stored
                .unfinished
                .insert((row.get(0), row.get(1)), row.get(2));
        }
    }
    let lookups: [(&Vec<group::Key>, &str, &mut HashSet<group::Key>); 2] = [
        (
            &touched.tokens,
            "SELECT account_id, token FROM client_tokens
             WHERE (account_id, token) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
            &mut stored.tokens,
        ),
        (
            &touched.instances,
            "SELECT account_id, instance_id FROM agent_instances
             WHERE (account_id, instance_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
            &mut stored.instances,
        ),
    ];
    for (keys, sql, found) in lookups {
        if keys.is_empty() {
            continue;
        }
        let (accounts, ids) = columns(keys);
        for row in tx.query(sql, &[&accounts, &ids]).await? {
            found.insert((row.get(0), row.get(1)));
        }
    }
    if !touched.leases.is_empty() {
        // FOR SHARE: no claim can bump a fence before this commit ends.
        let fences: HashMap<String, u64> = tx
            .query(
                "SELECT name, fence FROM leases WHERE name = ANY($1) FOR SHARE",
                &[&touched.leases],
            )
            .await?
            .into_iter()
            .map(|row| {
                let fence: i64 = row.get(1);
                (row.get(0), u64::try_from(fence).unwrap_or(0))
            })
            .collect();
        stored.fences = fences;
    }
    Ok(stored)
}

/// Writes the group's rows, pipelined on the transaction's connection.
pub(super) async fn write_rows(
    tx: &Transaction<'_>,
    rows: &Rows,
    commit_id: i64,
    first_revision: i64,
) -> Result<(), tokio_postgres::Error> {
    let mut statements: Vec<(&str, Vec<Box<dyn ToSql + Sync + Send + '_>>)> = Vec::new();
    let (new_servers, old_servers): (Vec<_>, Vec<_>) =
        rows.servers.iter().partition(|row| row.created);
    for (servers, sql) in [
        (
            old_servers,
            "UPDATE servers s SET version = u.version, revision = u.revision, body = u.body
             FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::bytea[])
                 AS u(account_id, id, version, revision, body)
             WHERE s.account_id = u.account_id AND s.id = u.id",
        ),
        (
            new_servers,
            "INSERT INTO servers (account_id, id, version, revision, body)
             SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::bytea[])",
        ),
    ] {
        if servers.is_empty() {
            continue;
        }
        statements.push((
            sql,
            vec![
                Box::new(servers.iter().map(|r| r.key.0.as_str()).collect::<Vec<_>>()),
                Box::new(servers.iter().map(|r| r.key.1.as_str()).collect::<Vec<_>>()),
                Box::new(servers.iter().map(|r| r.version).collect::<Vec<_>>()),
                Box::new(servers.iter().map(|r| r.revision).collect::<Vec<_>>()),
                Box::new(
                    servers
                        .iter()
                        .map(|r| r.body.as_slice())
                        .collect::<Vec<_>>(),
                ),
            ],
        ));
    }
    // Updates first: a job finishing frees its server for a new one.
    let (new_jobs, old_jobs): (Vec<_>, Vec<_>) = rows.jobs.iter().partition(|row| row.created);
    for (jobs, sql) in [
        (
            old_jobs,
            "UPDATE jobs j SET source_id = u.source_id, unfinished = u.unfinished,
                 version = u.version, revision = u.revision, body = u.body
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int8[],
                         $6::int8[], $7::bytea[])
                 AS u(account_id, id, source_id, unfinished, version, revision, body)
             WHERE j.account_id = u.account_id AND j.id = u.id",
        ),
        (
            new_jobs,
            "INSERT INTO jobs (account_id, id, source_id, unfinished, version, revision, body)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int8[],
                                  $6::int8[], $7::bytea[])",
        ),
    ] {
        if jobs.is_empty() {
            continue;
        }
        statements.push((
            sql,
            vec![
                Box::new(jobs.iter().map(|r| r.key.0.as_str()).collect::<Vec<_>>()),
                Box::new(jobs.iter().map(|r| r.key.1.as_str()).collect::<Vec<_>>()),
                Box::new(
                    jobs.iter()
                        .map(|r| r.source_id.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(jobs.iter().map(|r| r.unfinished).collect::<Vec<_>>()),
                Box::new(jobs.iter().map(|r| r.version).collect::<Vec<_>>()),
                Box::new(jobs.iter().map(|r| r.revision).collect::<Vec<_>>()),
                Box::new(jobs.iter().map(|r| r.body.as_slice()).collect::<Vec<_>>()),
            ],
        ));
    }
    if !rows.events.is_empty() {
        statements.push((
            "INSERT INTO log (revision, time, commit_id, body)
         SELECT r, t, CASE WHEN r = $4::int8 THEN $3::int8 END, b
         FROM unnest($1::int8[], $2::int8[], $5::bytea[]) AS e(r, t, b)",
            vec![
                Box::new(rows.events.iter().map(|e| e.0).collect::<Vec<_>>()),
                Box::new(rows.events.iter().map(|e| e.1).collect::<Vec<_>>()),
                Box::new(commit_id),
                Box::new(first_revision),
                Box::new(
                    rows.events
                        .iter()
                        .map(|e| e.2.as_slice())
                        .collect::<Vec<_>>(),
                ),
            ],
        ));
    }
    if !rows.tokens.is_empty() {
        statements.push((
            "INSERT INTO client_tokens (account_id, token, fingerprint, outcome, created_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::int8[])",
            vec![
                Box::new(
                    rows.tokens
                        .iter()
                        .map(|t| t.key.0.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(
                    rows.tokens
                        .iter()
                        .map(|t| t.key.1.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(
                    rows.tokens
                        .iter()
                        .map(|t| t.fingerprint.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(
                    rows.tokens
                        .iter()
                        .map(|t| t.outcome.as_slice())
                        .collect::<Vec<_>>(),
                ),
                Box::new(rows.tokens.iter().map(|t| t.created).collect::<Vec<_>>()),
            ],
        ));
    }
    if !rows.instances.is_empty() {
        statements.push((
            "INSERT INTO agent_instances (account_id, instance_id, server_id)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
            vec![
                Box::new(
                    rows.instances
                        .iter()
                        .map(|i| i.account_id.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(
                    rows.instances
                        .iter()
                        .map(|i| i.instance_id.as_str())
                        .collect::<Vec<_>>(),
                ),
                Box::new(
                    rows.instances
                        .iter()
                        .map(|i| i.server_id.as_str())
                        .collect::<Vec<_>>(),
                ),
            ],
        ));
    }
    // Sent together, run in order: one round trip for the lot.
    try_join_all(statements.iter().map(|(sql, params)| {
        let params: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        async move { tx.execute(*sql, &params).await }
    }))
    .await
    .map(drop)
}
