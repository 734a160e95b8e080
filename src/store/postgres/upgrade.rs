//! The upgrade of databases written by releases that kept client token
//! outcomes as JSON (schema version 1) to `StoredOutcome`, inside the
//! migration's transaction, so an upgrade that fails (a row that does not
//! decode) leaves the database as it was.

use futures_util::future::BoxFuture;
use tokio_postgres::Transaction;

use super::map_err;
use crate::store::{codec, outcome, StoreError};

/// Tokens converted per round trip: the table is bounded by the tokens'
/// retention, not by memory.
const CHUNK: i64 = 1_000;

/// Fills the `outcome` column of every client token from its JSON
/// `outcome_json`, then drops that column. Each token keeps its
/// fingerprint and age, so a retry still gets the first answer, a
/// different request with it is still refused, and retention still
/// forgets it when it would have.
pub(super) fn outcomes_from_json<'t>(
    tx: &'t Transaction<'_>,
) -> BoxFuture<'t, Result<(), StoreError>> {
    Box::pin(async move {
        // Keyset pages in primary key order; every account id sorts after "".
        let mut after = (String::new(), String::new());
        let mut converted = 0u64;
        loop {
            let rows = tx
                .query(
                    "SELECT account_id, token, outcome_json FROM client_tokens
                     WHERE (account_id, token) > ($1, $2)
                     ORDER BY account_id, token LIMIT $3",
                    &[&after.0, &after.1, &CHUNK],
                )
                .await
                .map_err(map_err)?;
            let Some(last) = rows.last() else { break };
            after = (last.get(0), last.get(1));
            let (mut accounts, mut tokens, mut bodies) = (Vec::new(), Vec::new(), Vec::new());
            for row in &rows {
                let (account, token): (String, String) = (row.get(0), row.get(1));
                let json: String = row.get(2);
                let recorded = outcome::from_json(&json).map_err(|err| match err {
                    StoreError::Corrupt(detail) => StoreError::Corrupt(format!(
                        "client token {token:?} of account {account}: {detail}"
                    )),
                    other => other,
                })?;
                let mut body = Vec::new();
                codec::encode_outcome(&recorded, &mut body);
                accounts.push(account);
                tokens.push(token);
                bodies.push(body);
            }
            let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
            tx.execute(
                "UPDATE client_tokens t SET outcome = u.outcome
                 FROM unnest($1::text[], $2::text[], $3::bytea[]) AS u(account_id, token, outcome)
                 WHERE t.account_id = u.account_id AND t.token = u.token",
                &[&accounts, &tokens, &slices],
            )
            .await
            .map_err(map_err)?;
            converted += rows.len() as u64;
        }
        tx.batch_execute(
            "ALTER TABLE client_tokens DROP COLUMN outcome_json, ALTER COLUMN outcome SET NOT NULL",
        )
        .await
        .map_err(map_err)?;
        if converted > 0 {
            tracing::info!(
                tokens = converted,
                "upgraded client token outcomes to the binary format"
            );
        }
        Ok(())
    })
}
