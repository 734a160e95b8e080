//! Golden files: the bytes of fixed values in format version 1, checked
//! in under `src/store/codec/golden/v1/`. Every later release must decode
//! them to the same values; and today's encoder must write them exactly, so
//! that any change of format is deliberate (a new version, new files).
//!
//! To add a fixture, add it to `golden_values`, then write its file with
//! `cargo test --lib store::codec::tests::golden -- --ignored` and commit
//! it. Existing files are never overwritten.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use super::*;

/// What a golden file holds.
enum Golden {
    Server(SourceServer),
    Job(ReplicationJob),
    Event(LifecycleEvent),
    Outcome(Outcome),
}

impl Golden {
    fn encoded(&self) -> Vec<u8> {
        match self {
            Golden::Server(server) => encoded_server(server),
            Golden::Job(job) => encoded_job(job),
            Golden::Event(event) => encoded_event(event),
            Golden::Outcome(outcome) => encoded_outcome(outcome),
        }
    }

    /// Decodes `bytes` as this value's kind and compares.
    fn assert_decodes(&self, name: &str, bytes: &[u8]) {
        match self {
            Golden::Server(server) => {
                assert_eq!(&decode_source_server(bytes).unwrap(), server, "{name}")
            }
            Golden::Job(job) => assert_eq!(&decode_replication_job(bytes).unwrap(), job, "{name}"),
            Golden::Event(event) => assert_eq!(&decode_event(bytes).unwrap(), event, "{name}"),
            Golden::Outcome(outcome) => {
                assert_eq!(&decode_outcome(bytes).unwrap(), outcome, "{name}")
            }
        }
    }
}

fn golden_values() -> Vec<(&'static str, Golden)> {
    vec![
        ("server_full", Golden::Server(fixtures::server_full())),
        (
            "server_registered",
            Golden::Server(fixtures::server_registered()),
        ),
        (
            "job_run_once_full",
            Golden::Job(fixtures::job_run_once_full()),
        ),
        (
            "job_incremental_full",
            Golden::Job(fixtures::job_incremental_full()),
        ),
        ("job_minimal", Golden::Job(fixtures::job_minimal())),
        (
            "event_server_registered",
            Golden::Event(fixtures::event_server_registered()),
        ),
        (
            "event_server_archived",
            Golden::Event(fixtures::event_server_archived()),
        ),
        (
            "event_job_created",
            Golden::Event(fixtures::event_job_created()),
        ),
        (
            "event_server_task_overdue",
            Golden::Event(fixtures::event_server_task_overdue()),
        ),
        (
            "event_job_status_changed",
            Golden::Event(fixtures::event_job_status_changed()),
        ),
        ("outcome_done", Golden::Outcome(fixtures::outcome_done())),
        (
            "outcome_server",
            Golden::Outcome(fixtures::outcome_server()),
        ),
        (
            "outcome_servers",
            Golden::Outcome(fixtures::outcome_servers()),
        ),
        ("outcome_job", Golden::Outcome(fixtures::outcome_job())),
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/store/codec/golden")
        .join(format!("v{FORMAT_VERSION}"))
}

#[test]
fn golden_files_decode_to_their_values_and_are_written_unchanged() {
    let values = golden_values();
    for (name, value) in &values {
        let path = golden_dir().join(format!("{name}.bin"));
        let bytes = fs::read(&path).unwrap_or_else(|err| {
            panic!(
                "{}: {err}; write it with `cargo test --lib store::codec::tests::golden -- --ignored`",
                path.display()
            )
        });
        value.assert_decodes(name, &bytes);
        assert!(
            value.encoded() == bytes,
            "{name}: today's encoding differs from the golden file; \
             a format change needs a new FORMAT_VERSION and its own files"
        );
    }
    // A file without its value would go unchecked.
    for entry in fs::read_dir(golden_dir()).unwrap() {
        let file_name = entry.unwrap().file_name();
        let file_name = file_name.to_string_lossy();
        let name = file_name.strip_suffix(".bin").unwrap_or(&file_name);
        assert!(
            values.iter().any(|(known, _)| *known == name),
            "golden file {file_name} has no value in golden_values()"
        );
    }
}

#[test]
#[ignore = "writes missing golden files; run on purpose, then commit them"]
fn write_missing_golden_files() {
    fs::create_dir_all(golden_dir()).unwrap();
    for (name, value) in golden_values() {
        let path = golden_dir().join(format!("{name}.bin"));
        // `create_new` refuses to replace a file that exists.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(&value.encoded()).unwrap();
                println!("wrote {}", path.display());
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => panic!("{}: {err}", path.display()),
        }
    }
}
