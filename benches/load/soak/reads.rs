//! The read load: GetSourceServer of a random known server, and
//! DescribeSourceServers with a random filter, following `next_token` for
//! a few pages. Each call (each page) is one read.

use std::{sync::Arc, time::Instant};

use cutover::pb::v1::{
    DescribeSourceServersFilters, DescribeSourceServersRequest, GetSourceServerRequest,
    LifeCycleState,
};
use rand::{seq::SliceRandom, Rng};

use crate::soak::ctx::{paced, spawn_limited, Ctx};

/// Share of reads that are GetSourceServer; the rest are Describe pages.
const GET_SHARE: f64 = 0.8;
/// Most pages one Describe walk reads.
const MAX_PAGES: usize = 3;

/// Issues reads at the configured rate until the run stops.
pub(crate) async fn run(ctx: Arc<Ctx>) {
    let issuer = Arc::clone(&ctx);
    paced(ctx.args.read_rate, &ctx.stop, move || {
        let task_ctx = Arc::clone(&issuer);
        spawn_limited(&issuer, &issuer.reads_in_flight, async move {
            if rand::thread_rng().gen_bool(GET_SHARE) {
                get(&task_ctx).await;
            } else {
                describe(&task_ctx).await;
            }
        });
    })
    .await;
}

async fn get(ctx: &Ctx) {
    let Some(id) = ctx.ids.any() else { return };
    let started = Instant::now();
    let request = GetSourceServerRequest {
        source_server_id: id,
    };
    match ctx.servers().get_source_server(request).await {
        Ok(_) => ctx.stats.read(started),
        Err(status) => ctx.stats.failed("GetSourceServer", &status),
    }
}

/// A filter of one of the shapes a console or a script uses.
fn filter(ctx: &Ctx) -> Option<DescribeSourceServersFilters> {
    let mut rng = rand::thread_rng();
    let states = |states: &[LifeCycleState]| states.iter().map(|&s| s as i32).collect();
    match rng.gen_range(0..5) {
        0 => None,
        1 => Some(DescribeSourceServersFilters {
            life_cycle_states: states(&[LifeCycleState::ReadyForTest, LifeCycleState::Testing]),
            ..Default::default()
        }),
        2 => Some(DescribeSourceServersFilters {
            life_cycle_states: states(&[LifeCycleState::ReadyForCutover]),
            is_archived: Some(false),
            ..Default::default()
        }),
        3 => Some(DescribeSourceServersFilters {
            is_archived: Some(true),
            ..Default::default()
        }),
        _ => Some(DescribeSourceServersFilters {
            source_server_ids: ctx.ids.pool_sample(20),
            ..Default::default()
        }),
    }
}

async fn describe(ctx: &Ctx) {
    let filters = filter(ctx);
    let max_results = *[25, 50, 100]
        .choose(&mut rand::thread_rng())
        .expect("page sizes");
    let pages = rand::thread_rng().gen_range(1..=MAX_PAGES);
    let mut client = ctx.servers();
    let mut next_token = String::new();
    for _ in 0..pages {
        let request = DescribeSourceServersRequest {
            filters: filters.clone(),
            max_results,
            next_token: std::mem::take(&mut next_token),
        };
        let started = Instant::now();
        match client.describe_source_servers(request).await {
            Ok(page) => {
                ctx.stats.read(started);
                next_token = page.into_inner().next_token;
                if next_token.is_empty() {
                    return;
                }
            }
            Err(status) => {
                ctx.stats.failed("DescribeSourceServers", &status);
                return;
            }
        }
    }
}
