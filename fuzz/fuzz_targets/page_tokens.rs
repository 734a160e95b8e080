//! Arbitrary `next_token`s into DescribeSourceServers and
//! DescribeReplicationJobs, through the control plane over a real store:
//! raw strings, real tokens with bytes changed, and tokens correctly
//! signed (with the key the store keeps) over an arbitrary last id, so
//! that what a token names is reached too.
//!
//! A bad token must get a validation error on `next_token` (a token longer
//! than 2,048 characters already as the request is read); a page must be
//! in id order, after the id its token names, and at most the size asked.

#![no_main]

use arbitrary::Arbitrary;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use cutover::{
    control_plane::{
        requests::{
            DescribeReplicationJobs, DescribeSourceServers, DescribeSourceServersFields,
            JobFilterFields, JobFilterInput, PageFields, PageRequest, ServerFilterInput,
        },
        Failure, Page,
    },
    domain::DomainError,
    store::{ReplicationJobFilter, SourceServerFilter},
};
use cutover_fuzz::{runtime, world, World};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// gRPC's names of the requests' fields.
const PAGE: PageFields = PageFields {
    size: "max_results",
    token: "next_token",
};
const SERVERS: DescribeSourceServersFields = DescribeSourceServersFields {
    ids: "filters.source_server_ids",
    life_cycle_states: "filters.life_cycle_states",
    application_ids: "filters.application_ids",
};
const JOBS: JobFilterFields = JobFilterFields {
    job_ids: "job_ids",
    source_ids: "source_ids",
};

/// The name the control plane keeps its page token key under.
const KEY_NAME: &str = "page-token-key";

#[derive(Debug, Arbitrary)]
struct Input {
    jobs: bool,
    archived: Option<bool>,
    page_size: u8,
    token: Token,
}

#[derive(Debug, Arbitrary)]
enum Token {
    /// Any text.
    Raw(String),
    /// A token the service issued, with `(index, byte)` edits.
    Edited(Vec<(u8, u8)>),
    /// A correctly signed token naming `last_id`.
    Signed(String),
    /// Two parts of any bytes, each base64-encoded.
    Parts(Vec<u8>, Vec<u8>),
}

fuzz_target!(|input: Input| {
    runtime().block_on(run(&world(), input));
});

async fn run(world: &World, input: Input) {
    let page_size = usize::from(input.page_size % 8) + 1;
    let source_filter = SourceServerFilter {
        is_archived: input.archived,
        ..SourceServerFilter::default()
    };
    let job_filter = ReplicationJobFilter::default();
    let query = match input.jobs {
        true => digest(&job_filter),
        false => digest(&source_filter),
    };
    let (token, after) = match input.token {
        Token::Raw(text) => (text, None),
        Token::Edited(edits) => {
            let mut bytes = issued(world, input.jobs, input.archived).await.into_bytes();
            for (index, byte) in edits {
                if let Some(b) = bytes.get_mut(usize::from(index)) {
                    *b = byte;
                }
            }
            (String::from_utf8_lossy(&bytes).into_owned(), None)
        }
        Token::Signed(last_id) => (sign(world, &query, &last_id).await, Some(last_id)),
        Token::Parts(id, mac) => (
            format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(id),
                URL_SAFE_NO_PAD.encode(mac)
            ),
            None,
        ),
    };
    let ids = listing(world, input.jobs, input.archived, page_size, &token).await;
    match ids {
        Ok(ids) => {
            assert!(
                ids.len() <= page_size,
                "a page of {} for {page_size}",
                ids.len()
            );
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "a page out of order: {ids:?}"
            );
            if let Some(after) = after {
                assert!(
                    ids.iter().all(|id| *id > after),
                    "a page after {after:?} holds {ids:?}"
                );
            }
        }
        Err(Failure::Refused(DomainError::Validation(violations))) => {
            assert!(
                violations.iter().all(|v| v.field == "next_token"),
                "a bad token blamed on another field: {violations:?}"
            );
        }
        Err(other) => panic!("token {token:?} got {other:?}"),
    }
}

/// The ids of one page of servers (archived as `archived` asks) or of
/// jobs, `page_size` of them after `token`, asked for as gRPC asks.
async fn listing(
    world: &World,
    jobs: bool,
    archived: Option<bool>,
    page_size: usize,
    token: &str,
) -> Result<Vec<String>, Failure> {
    let page = PageRequest::new(PAGE, i64::try_from(page_size).ok(), token)?;
    let (plane, tenant) = (&world.plane, &world.tenant);
    match jobs {
        true => plane
            .describe_replication_jobs(tenant, &jobs_request(page)?)
            .await
            .map(|page| ids(page, |job| job.value.id.as_str().to_owned())),
        false => plane
            .describe_source_servers(tenant, &servers_request(archived, page)?)
            .await
            .map(|page| ids(page, |view| view.server.id.as_str().to_owned())),
    }
}

/// Every job, a page of them.
fn jobs_request(page: PageRequest) -> Result<DescribeReplicationJobs, DomainError> {
    DescribeReplicationJobs::new(&JOBS, JobFilterInput::default(), page)
}

/// The servers archived as `archived` asks, a page of them.
fn servers_request(
    archived: Option<bool>,
    page: PageRequest,
) -> Result<DescribeSourceServers, DomainError> {
    let filters = ServerFilterInput {
        is_archived: archived,
        ..ServerFilterInput::default()
    };
    DescribeSourceServers::new(&SERVERS, filters, page)
}

fn ids<T>(page: Page<T>, id: impl Fn(&T) -> String) -> Vec<String> {
    page.items.iter().map(id).collect()
}

/// A token the service issued for the first page of one item.
async fn issued(world: &World, jobs: bool, archived: Option<bool>) -> String {
    let page = PageRequest::new(PAGE, Some(1), "").expect("the first page");
    let (plane, tenant) = (&world.plane, &world.tenant);
    let token = match jobs {
        true => {
            let request = jobs_request(page).expect("every job");
            plane
                .describe_replication_jobs(tenant, &request)
                .await
                .map(|page| page.next_token)
        }
        false => {
            let request = servers_request(archived, page).expect("a filter");
            plane
                .describe_source_servers(tenant, &request)
                .await
                .map(|page| page.next_token)
        }
    };
    token.expect("a first page")
}

/// The query digest a token is bound to, as the control plane computes it.
fn digest(filter: &impl std::fmt::Debug) -> String {
    hex::encode(Sha256::digest(format!("{filter:?}").as_bytes()))
}

/// A token signed as the control plane signs: over the account, the query
/// and the last id, each length-prefixed.
async fn sign(world: &World, query: &str, last_id: &str) -> String {
    let key = world
        .plane
        .store()
        .secret(KEY_NAME)
        .await
        .expect("the page token key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("an HMAC key");
    for part in [world.tenant.account_id.as_str(), query, last_id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(last_id),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}
