//! Arbitrary bytes into the stored-format decoders (`cutover::store::codec`):
//! the first byte picks a source server, a replication job, a lifecycle
//! event or a client token outcome; the rest is the stored bytes. Decoding must answer a value or
//! `StoreError::Corrupt`, never panic; a decoded value must encode, and
//! that encoding must decode to the same value and encode to the same
//! bytes again (after the first pass, which may drop unknown fields and
//! normalise defaults).

#![no_main]

use std::fmt::Debug;

use cutover::store::{codec, StoreError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 4 {
        0 => round_trip(
            bytes,
            codec::decode_source_server,
            codec::encode_source_server,
        ),
        1 => round_trip(
            bytes,
            codec::decode_replication_job,
            codec::encode_replication_job,
        ),
        2 => round_trip(bytes, codec::decode_event, codec::encode_event),
        _ => round_trip(bytes, codec::decode_outcome, codec::encode_outcome),
    }
});

fn round_trip<T: Debug>(
    bytes: &[u8],
    decode: fn(&[u8]) -> Result<T, StoreError>,
    encode: fn(&T, &mut Vec<u8>),
) {
    let value = match decode(bytes) {
        Ok(value) => value,
        Err(StoreError::Corrupt(why)) => {
            assert!(!why.is_empty(), "a corruption without a reason");
            return;
        }
        Err(other) => panic!("decoding answered {other:?}, not Corrupt"),
    };
    let mut first = Vec::new();
    encode(&value, &mut first);
    let again = decode(&first)
        .unwrap_or_else(|err| panic!("{value:?} encoded to bytes it cannot decode: {err}"));
    let mut second = Vec::new();
    encode(&again, &mut second);
    assert_eq!(first, second, "encoding {again:?} changed the bytes");
    let third = decode(&second).expect("the same bytes decode");
    assert_eq!(
        format!("{again:?}"),
        format!("{third:?}"),
        "decoding the same bytes gave another value"
    );
}
