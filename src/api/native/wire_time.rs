//! Times as both clouds' JSON carries them: instants as ISO 8601 strings
//! in UTC to the second (`2026-11-29T23:58:00Z`, SMC's
//! `yyyy-MM-ddTHH:mm:ssZ`), spans as ISO 8601 durations (`PT1H2M3S`).

use crate::domain::{Millis, Timestamp};

/// `t` as `yyyy-MM-ddTHH:mm:ssZ`.
pub(crate) fn instant(t: Timestamp) -> String {
    prost_types::Timestamp {
        seconds: t.0.div_euclid(1000),
        nanos: 0,
    }
    .to_string()
}

/// `span` as an ISO 8601 duration: hours, minutes and seconds (with
/// milliseconds when there are any); `PT0S` for zero.
pub(crate) fn duration(span: Millis) -> String {
    let total = span.0.max(0);
    let (hours, minutes) = (total / 3_600_000, total / 60_000 % 60);
    let (seconds, millis) = (total / 1000 % 60, total % 1000);
    let mut out = String::from("PT");
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    match (seconds, millis) {
        (0, 0) if hours > 0 || minutes > 0 => {}
        (s, 0) => out.push_str(&format!("{s}S")),
        (s, ms) => out.push_str(&format!("{s}.{ms:03}S")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc_to_the_second() {
        assert_eq!(instant(Timestamp(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            instant(Timestamp(1_795_996_875_999)),
            "2026-11-30T00:01:15Z"
        );
    }

    #[test]
    fn durations_name_only_the_units_they_have() {
        assert_eq!(duration(Millis(0)), "PT0S");
        assert_eq!(duration(Millis(1500)), "PT1.500S");
        assert_eq!(duration(Millis(3_723_000)), "PT1H2M3S");
        assert_eq!(duration(Millis::hours(2)), "PT2H");
        assert_eq!(duration(Millis::minutes(90)), "PT1H30M");
        assert_eq!(duration(Millis(-5)), "PT0S");
    }
}
