//! Bytes that are not a stored value are `Corrupt`, naming what is wrong,
//! and never a panic.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;
use crate::pb::storage::v1::{state_summary, stored_event, stored_outcome};

/// The detail of a `Corrupt` error; fails on anything else.
fn corruption<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(detail)) => detail,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

fn server_bytes(change: impl FnOnce(&mut pb::StoredSourceServer)) -> Vec<u8> {
    let mut message = server::to_message(&fixtures::server_full());
    change(&mut message);
    message.encode_to_vec()
}

fn job_bytes(change: impl FnOnce(&mut pb::StoredReplicationJob)) -> Vec<u8> {
    let mut message = job::to_message(&fixtures::job_incremental_full());
    change(&mut message);
    message.encode_to_vec()
}

fn event_bytes(change: impl FnOnce(&mut pb::StoredEvent)) -> Vec<u8> {
    let mut message = event::to_message(&fixtures::event_server_archived());
    change(&mut message);
    message.encode_to_vec()
}

#[test]
fn truncated_bytes_never_decode_to_the_value() {
    let server = fixtures::server_full();
    let bytes = encoded_server(&server);
    for len in 0..bytes.len() {
        // A cut between two fields can still parse (protobuf has no end
        // marker); it must then lose something, never panic.
        match decode_source_server(&bytes[..len]) {
            Ok(decoded) => assert_ne!(decoded, server, "cut at {len}"),
            Err(err) => assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}"),
        }
    }
    // Cut inside the last field, and before everything required.
    corruption(decode_source_server(&bytes[..bytes.len() - 1]));
    corruption(decode_source_server(&[]));
    let job = encoded_job(&fixtures::job_run_once_full());
    corruption(decode_replication_job(&job[..job.len() - 1]));
    let event = encoded_event(&fixtures::event_job_status_changed());
    corruption(decode_event(&event[..event.len() / 2]));
}

#[test]
fn garbage_is_corrupt_or_harmless() {
    for garbage in [
        &[0xff; 16][..],
        b"{\"account_id\":\"123456789012\"}",
        &[0x0a],
    ] {
        corruption(decode_source_server(garbage));
        corruption(decode_replication_job(garbage));
        corruption(decode_event(garbage));
        corruption(decode_outcome(garbage));
    }
    let config = Config {
        failure_persistence: None,
        ..Config::with_cases(1024)
    };
    let result = TestRunner::new(config).run(&vec(any::<u8>(), 0..200), |bytes| {
        for outcome in [
            decode_source_server(&bytes).err(),
            decode_replication_job(&bytes).err(),
            decode_event(&bytes).err(),
            decode_outcome(&bytes).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(matches!(outcome, StoreError::Corrupt(_)), "{:?}", outcome);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn invalid_ids_are_corrupt_and_named() {
    let detail = corruption(decode_source_server(&server_bytes(|m| {
        m.id = "s-short".to_owned();
    })));
    assert!(detail.starts_with("source server: id: "), "{detail}");
    assert!(detail.contains("s-short"), "{detail}");

    let detail = corruption(decode_source_server(&server_bytes(|m| {
        m.account_id = "12345".to_owned();
    })));
    assert!(
        detail.starts_with("source server: account_id: "),
        "{detail}"
    );

    let detail = corruption(decode_source_server(&server_bytes(|m| {
        m.follow_up_tasks[1].id = "task-UPPER".to_owned();
    })));
    assert!(
        detail.starts_with("source server: follow_up_tasks[1].id: "),
        "{detail}"
    );

    let detail = corruption(decode_source_server(&server_bytes(|m| {
        if let Some(action) = m.life_cycle.as_mut().and_then(|l| l.last_cutover.as_mut()) {
            action.job_id = String::new();
        }
    })));
    assert!(
        detail.starts_with("source server: life_cycle.last_cutover.job_id: "),
        "{detail}"
    );

    let detail = corruption(decode_replication_job(&job_bytes(|m| {
        m.source_id = "j-0123456789abcdefghij".to_owned();
    })));
    assert!(
        detail.starts_with("replication job: source_id: "),
        "{detail}"
    );

    let detail = corruption(decode_event(&event_bytes(|m| {
        if let Some(stored_event::Resource::SourceServer(server)) = &mut m.resource {
            if let Some(launched) = &mut server.launched_instance {
                launched.ec2_instance_id = "i-xyz".to_owned();
            }
        }
    })));
    assert!(
        detail.starts_with("event: source_server.launched_instance.ec2_instance_id: "),
        "{detail}"
    );
}

#[test]
fn unknown_and_unspecified_enum_values_are_corrupt() {
    let detail = corruption(decode_source_server(&server_bytes(|m| {
        if let Some(life_cycle) = &mut m.life_cycle {
            life_cycle.state = 99;
        }
    })));
    assert_eq!(
        detail,
        "source server: life_cycle.state: 99 is not a stored LifeCycleState value"
    );

    let detail = corruption(decode_source_server(&server_bytes(|m| {
        m.replication_type = 0;
    })));
    assert!(detail.contains("replication_type: 0 is not"), "{detail}");

    let detail = corruption(decode_source_server(&server_bytes(|m| {
        if let Some(initiation) = m
            .data_replication_info
            .as_mut()
            .and_then(|info| info.initiation.as_mut())
        {
            initiation.steps[1].status = -1;
        }
    })));
    assert!(
        detail.starts_with("source server: data_replication_info.initiation.steps[1].status: "),
        "{detail}"
    );

    // An optional enum that is present must still be a known value.
    let detail = corruption(decode_replication_job(&job_bytes(|m| {
        m.business_status = Some(0);
    })));
    assert!(
        detail.starts_with("replication job: business_status: "),
        "{detail}"
    );

    let detail = corruption(decode_event(&event_bytes(|m| m.event_type = 99)));
    assert!(detail.starts_with("event: event_type: 99 "), "{detail}");

    let detail = corruption(decode_event(&event_bytes(|m| {
        if let Some(state_summary::Summary::SourceServer(summary)) =
            m.previous.as_mut().and_then(|p| p.summary.as_mut())
        {
            summary.data_replication_state = 13;
        }
    })));
    assert!(
        detail.starts_with("event: previous.data_replication_state: "),
        "{detail}"
    );
}

#[test]
fn missing_required_messages_are_corrupt() {
    let cases = [
        (
            decode_source_server(&server_bytes(|m| m.life_cycle = None)).map(drop),
            "source server: life_cycle: missing",
        ),
        (
            decode_source_server(&server_bytes(|m| m.data_replication_info = None)).map(drop),
            "source server: data_replication_info: missing",
        ),
        (
            decode_replication_job(&job_bytes(|m| m.schedule = None)).map(drop),
            "replication job: schedule: missing",
        ),
        (
            decode_event(&event_bytes(|m| m.new = None)).map(drop),
            "event: new: missing",
        ),
        (
            decode_event(&event_bytes(|m| m.resource = None)).map(drop),
            "event: resource: missing",
        ),
        (
            decode_event(&event_bytes(|m| {
                m.previous = Some(pb::StateSummary { summary: None });
            }))
            .map(drop),
            "event: previous.summary: missing",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(corruption(result), expected);
    }
}

#[test]
fn fields_of_a_later_release_are_skipped() {
    // What an older release sees of a newer one's data: an unknown field.
    let mut bytes = encoded_job(&fixtures::job_minimal());
    bytes.extend_from_slice(&[0xf8, 0x07, 0x01]); // field 127, varint 1
    assert_eq!(decode_replication_job(&bytes), Ok(fixtures::job_minimal()));
}

#[test]
fn outcomes_without_an_answer_or_with_a_bad_one_are_corrupt_and_named() {
    // Also what an answer kind added by a later release reads as.
    let detail = corruption(decode_outcome(&[]));
    assert_eq!(detail, "client token outcome: outcome: missing");

    let mut launched = outcome::to_message(&fixtures::outcome_servers());
    if let Some(stored_outcome::Outcome::SourceServers(list)) = &mut launched.outcome {
        list.servers[1].id = "s-short".to_owned();
    }
    let detail = corruption(decode_outcome(&launched.encode_to_vec()));
    assert!(
        detail.starts_with("client token outcome: source_servers.servers[1].id: "),
        "{detail}"
    );

    let mut job = outcome::to_message(&fixtures::outcome_job());
    if let Some(stored_outcome::Outcome::ReplicationJob(job)) = &mut job.outcome {
        job.status = 0;
    }
    let detail = corruption(decode_outcome(&job.encode_to_vec()));
    assert!(
        detail.starts_with("client token outcome: replication_job.status: "),
        "{detail}"
    );

    // A cut inside the answer never decodes to it.
    let bytes = encoded_outcome(&fixtures::outcome_server());
    corruption(decode_outcome(&bytes[..bytes.len() - 1]));
}
