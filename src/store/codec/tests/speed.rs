//! How long encoding and decoding take, for the start-up budget (a million
//! servers decoded). Timing means nothing in a debug build: run with
//! `cargo test --release --lib store::codec::tests::speed -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::Instant;

use super::*;

/// Rounds per batch, and batches; the fastest batch counts, so that other
/// work on the machine inflates the figures less.
const ROUNDS: u32 = 10_000;
const BATCHES: u32 = 30;

fn report(what: &str, bytes: usize, encode_ns: f64, decode_ns: f64) {
    println!(
        "{what}: {bytes} bytes, encode {encode_ns:.0} ns, decode {decode_ns:.0} ns \
         ({:.2} s per million decoded)",
        decode_ns / 1e3
    );
}

/// Nanoseconds per `step`, in the fastest batch.
fn time(mut step: impl FnMut()) -> f64 {
    (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ROUNDS {
                step();
            }
            start.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore = "a measurement, meaningful only in a release build"]
fn encode_and_decode_times() {
    let mut out = Vec::new();
    for (what, server) in [
        ("registered server", fixtures::server_registered()),
        ("full server", fixtures::server_full()),
    ] {
        let bytes = encoded_server(&server);
        let encode_ns = time(|| {
            out.clear();
            encode_source_server(black_box(&server), &mut out);
        });
        let decode_ns = time(|| {
            black_box(decode_source_server(black_box(&bytes)).unwrap());
        });
        report(what, bytes.len(), encode_ns, decode_ns);
    }
    let job = fixtures::job_incremental_full();
    let bytes = encoded_job(&job);
    let encode_ns = time(|| {
        out.clear();
        encode_replication_job(black_box(&job), &mut out);
    });
    let decode_ns = time(|| {
        black_box(decode_replication_job(black_box(&bytes)).unwrap());
    });
    report("full job", bytes.len(), encode_ns, decode_ns);
    let event = fixtures::event_server_archived();
    let bytes = encoded_event(&event);
    let encode_ns = time(|| {
        out.clear();
        encode_event(black_box(&event), &mut out);
    });
    let decode_ns = time(|| {
        black_box(decode_event(black_box(&bytes)).unwrap());
    });
    report("full server's event", bytes.len(), encode_ns, decode_ns);
}
