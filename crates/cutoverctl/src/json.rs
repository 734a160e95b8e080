//! A JSON formatter that writes whole floating-point numbers without a
//! fraction (`100`, not `100.0`), as grpcurl (Go's protojson) does, and
//! otherwise defers to serde_json's pretty or compact formatter.

use std::io;

use serde_json::ser::Formatter;

/// Wraps a formatter; only floating-point numbers are written differently.
pub(crate) struct Whole<F>(pub(crate) F);

/// Writes `value` as Go's protojson would when it is whole and not huge.
fn write_whole<W: ?Sized + io::Write>(writer: &mut W, value: f64) -> io::Result<Option<()>> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e21 {
        writer.write_all(format!("{value:.0}").as_bytes())?;
        Ok(Some(()))
    } else {
        Ok(None)
    }
}

impl<F: Formatter> Formatter for Whole<F> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        match write_whole(writer, value)? {
            Some(()) => Ok(()),
            None => self.0.write_f64(writer, value),
        }
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        match write_whole(writer, f64::from(value))? {
            Some(()) => Ok(()),
            None => self.0.write_f32(writer, value),
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// Serialises `value` with `formatter` wrapped in [`Whole`].
pub(crate) fn to_string<T: serde::Serialize, F: Formatter>(
    value: &T,
    formatter: F,
) -> Result<String, String> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Whole(formatter));
    value
        .serialize(&mut serializer)
        .map_err(|err| err.to_string())?;
    String::from_utf8(out).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, ser::CompactFormatter};

    use super::*;

    #[test]
    fn whole_numbers_lose_their_fraction_only() {
        let value = json!({"a": 100.0, "b": 42.5, "c": -0.0, "d": 1e300, "e": 7});
        assert_eq!(
            to_string(&value, CompactFormatter).expect("json"),
            r#"{"a":100,"b":42.5,"c":-0,"d":1e+300,"e":7}"#
        );
    }
}
