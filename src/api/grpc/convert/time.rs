//! Instants and spans: the domain's milliseconds against protobuf's
//! `Timestamp` and `Duration` (seconds and nanoseconds).
//!
//! Outbound conversions are exact. Inbound ones validate as the protobuf
//! well-known types define them, and drop sub-millisecond precision
//! (rounding towards the past, so an instant never moves later).

use crate::domain::{DomainError, Millis, Timestamp};

const MILLIS_PER_SECOND: i64 = 1_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const MAX_NANOS: i32 = 999_999_999;
/// `0001-01-01T00:00:00Z`, the earliest valid `google.protobuf.Timestamp`.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the latest valid `google.protobuf.Timestamp`.
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// About 10,000 years, the largest valid `google.protobuf.Duration`.
const MAX_DURATION_SECONDS: i64 = 315_576_000_000;

/// A domain instant as a protobuf `Timestamp` (nanos always in `0..1e9`,
/// also before the epoch).
pub fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.0.div_euclid(MILLIS_PER_SECOND),
        // In 0..1e9, so it fits.
        nanos: (t.0.rem_euclid(MILLIS_PER_SECOND) * NANOS_PER_MILLI) as i32,
    }
}

/// An optional domain instant as an optional protobuf `Timestamp` (`None`
/// stays absent, which JSON clients see as null).
pub fn optional_timestamp(t: Option<Timestamp>) -> Option<prost_types::Timestamp> {
    t.map(timestamp)
}

/// A domain span as a protobuf `Duration` (seconds and nanos share a sign).
pub fn duration(span: Millis) -> prost_types::Duration {
    prost_types::Duration {
        seconds: span.0 / MILLIS_PER_SECOND,
        // In -1e9..1e9 with the sign of `seconds`, so it fits.
        nanos: ((span.0 % MILLIS_PER_SECOND) * NANOS_PER_MILLI) as i32,
    }
}

/// An optional domain span as an optional protobuf `Duration`.
pub fn optional_duration(span: Option<Millis>) -> Option<prost_types::Duration> {
    span.map(duration)
}

/// A request's `Timestamp` as a domain instant; `field` names it in the
/// validation error. Rejects nanos outside `0..=999_999_999` and instants
/// outside years 1 to 9999.
pub fn timestamp_from(field: &str, t: &prost_types::Timestamp) -> Result<Timestamp, DomainError> {
    if !(0..=MAX_NANOS).contains(&t.nanos) {
        return Err(DomainError::invalid_field(
            field,
            format!("nanos must be 0 to {MAX_NANOS}, got {}", t.nanos),
        ));
    }
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&t.seconds) {
        return Err(DomainError::invalid_field(
            field,
            format!(
                "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got {} seconds",
                t.seconds
            ),
        ));
    }
    // Both bounds checked above: no overflow.
    Ok(Timestamp(
        t.seconds * MILLIS_PER_SECOND + i64::from(t.nanos) / NANOS_PER_MILLI,
    ))
}

/// An optional request `Timestamp` as an optional domain instant.
pub fn optional_timestamp_from(
    field: &str,
    t: Option<&prost_types::Timestamp>,
) -> Result<Option<Timestamp>, DomainError> {
    t.map(|t| timestamp_from(field, t)).transpose()
}

/// A request's `Duration` as a domain span; `field` names it in the
/// validation error. Rejects negative durations, nanos outside
/// `-999_999_999..=999_999_999`, seconds and nanos of opposite signs, and
/// spans beyond the 10,000 years protobuf allows.
pub fn millis_from(field: &str, d: &prost_types::Duration) -> Result<Millis, DomainError> {
    if !(-MAX_NANOS..=MAX_NANOS).contains(&d.nanos) {
        return Err(DomainError::invalid_field(
            field,
            format!("nanos must be -{MAX_NANOS} to {MAX_NANOS}, got {}", d.nanos),
        ));
    }
    if !(-MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&d.seconds) {
        return Err(DomainError::invalid_field(
            field,
            format!(
                "seconds must be -{MAX_DURATION_SECONDS} to {MAX_DURATION_SECONDS}, got {}",
                d.seconds
            ),
        ));
    }
    if (d.seconds > 0 && d.nanos < 0) || (d.seconds < 0 && d.nanos > 0) {
        return Err(DomainError::invalid_field(
            field,
            "seconds and nanos must have the same sign",
        ));
    }
    if d.seconds < 0 || d.nanos < 0 {
        return Err(DomainError::invalid_field(field, "must not be negative"));
    }
    // Both bounds checked above: no overflow.
    Ok(Millis(
        d.seconds * MILLIS_PER_SECOND + i64::from(d.nanos) / NANOS_PER_MILLI,
    ))
}

/// An optional request `Duration` as an optional domain span.
pub fn optional_millis_from(
    field: &str,
    d: Option<&prost_types::Duration>,
) -> Result<Option<Millis>, DomainError> {
    d.map(|d| millis_from(field, d)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::grpc::convert::tests::violated_field;

    fn ts(seconds: i64, nanos: i32) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos }
    }

    fn dur(seconds: i64, nanos: i32) -> prost_types::Duration {
        prost_types::Duration { seconds, nanos }
    }

    #[test]
    fn timestamps_round_trip() {
        for ms in [
            0,
            1,
            999,
            1_000,
            1_700_000_000_123,
            -1,
            -999,
            -1_000,
            -1_001,
            MIN_TIMESTAMP_SECONDS * 1_000,
            MAX_TIMESTAMP_SECONDS * 1_000 + 999,
        ] {
            let proto = timestamp(Timestamp(ms));
            assert!((0..=MAX_NANOS).contains(&proto.nanos), "{ms}: {proto:?}");
            assert_eq!(timestamp_from("t", &proto), Ok(Timestamp(ms)), "{ms}");
        }
    }

    #[test]
    fn instants_before_the_epoch_have_positive_nanos() {
        assert_eq!(timestamp(Timestamp(-1)), ts(-1, 999_000_000));
        assert_eq!(timestamp(Timestamp(-1_500)), ts(-2, 500_000_000));
        assert_eq!(timestamp(Timestamp(1_500)), ts(1, 500_000_000));
    }

    #[test]
    fn extreme_domain_instants_do_not_panic() {
        for ms in [i64::MIN, i64::MAX] {
            let proto = timestamp(Timestamp(ms));
            assert!((0..=MAX_NANOS).contains(&proto.nanos));
            assert_eq!(violated_field(timestamp_from("eta", &proto)), "eta");
        }
        let _ = duration(Millis(i64::MIN));
        let _ = duration(Millis(i64::MAX));
    }

    #[test]
    fn sub_millisecond_precision_rounds_towards_the_past() {
        assert_eq!(timestamp_from("t", &ts(1, 999_999)), Ok(Timestamp(1_000)));
        assert_eq!(timestamp_from("t", &ts(-1, 999_999)), Ok(Timestamp(-1_000)));
        assert_eq!(millis_from("d", &dur(0, 999_999)), Ok(Millis(0)));
        assert_eq!(millis_from("d", &dur(2, 1_999_999)), Ok(Millis(2_001)));
    }

    #[test]
    fn invalid_timestamps_name_the_field() {
        for bad in [
            ts(0, -1),
            ts(0, 1_000_000_000),
            ts(0, i32::MIN),
            ts(0, i32::MAX),
            ts(MIN_TIMESTAMP_SECONDS - 1, 0),
            ts(MAX_TIMESTAMP_SECONDS + 1, 0),
            ts(i64::MIN, 0),
            ts(i64::MAX, MAX_NANOS),
        ] {
            assert_eq!(
                violated_field(timestamp_from("eta_date_time", &bad)),
                "eta_date_time",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn durations_round_trip() {
        for ms in [
            0,
            1,
            999,
            1_000,
            1_001,
            90 * 60_000,
            MAX_DURATION_SECONDS * 1_000 + 999,
        ] {
            let proto = duration(Millis(ms));
            assert_eq!(millis_from("d", &proto), Ok(Millis(ms)), "{ms}");
        }
        assert_eq!(duration(Millis(1_500)), dur(1, 500_000_000));
        assert_eq!(duration(Millis(-1_500)), dur(-1, -500_000_000));
    }

    #[test]
    fn invalid_durations_name_the_field() {
        for bad in [
            dur(-1, 0),
            dur(0, -1),
            dur(-1, -5),
            dur(1, -1),
            dur(-1, 1),
            dur(0, 1_000_000_000),
            dur(0, -1_000_000_000),
            dur(0, i32::MIN),
            dur(MAX_DURATION_SECONDS + 1, 0),
            dur(i64::MAX, 0),
            dur(i64::MIN, 0),
        ] {
            assert_eq!(
                violated_field(millis_from("lag_duration", &bad)),
                "lag_duration",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn optional_values_stay_absent() {
        assert_eq!(optional_timestamp(None), None);
        assert_eq!(optional_duration(None), None);
        assert_eq!(optional_timestamp_from("t", None), Ok(None));
        assert_eq!(optional_millis_from("d", None), Ok(None));
        assert_eq!(
            optional_millis_from("d", Some(&dur(3, 0))),
            Ok(Some(Millis(3_000)))
        );
        assert!(optional_millis_from("d", Some(&dur(-3, 0))).is_err());
    }
}
