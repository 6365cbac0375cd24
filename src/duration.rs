//! Durations as people write them on a command line or in a profile: `500ms`, `2s`, `1m`.

use std::time::Duration;

/// Why a duration could not be read; the message tells what to write instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid duration `{text}`: {reason} (write a whole number followed by ms, s, m or h, e.g. 500ms, 2s, 1m)")]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

/// The longest duration accepted: a probe that waits longer than a day is a typo.
const MAX: Duration = Duration::from_secs(24 * 3600);

pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let fail = |reason| DurationError {
        text: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| fail("the unit is missing"))?;
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(fail("it does not start with a number"));
    }
    let value: u64 = number
        .parse()
        .map_err(|_| fail("the number is too large"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(fail("the unit is not one of ms, s, m, h")),
    };
    let millis = value
        .checked_mul(millis_per_unit)
        .ok_or_else(|| fail("the number is too large"))?;
    let duration = Duration::from_millis(millis);
    if duration.is_zero() {
        return Err(fail("it must be greater than zero"));
    }
    if duration > MAX {
        return Err(fail("it must be at most 24h"));
    }
    Ok(duration)
}

/// Renders a duration the way it would be written: `1500ms`, `2s`, `1m`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(60_000) && millis > 0 {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1_000) && millis > 0 {
        format!("{}s", millis / 1_000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration(" 3s "), Ok(Duration::from_secs(3)));
    }

    #[test]
    fn rejects_with_a_reason() {
        for (text, reason) in [
            ("2", "the unit is missing"),
            ("s", "it does not start with a number"),
            ("2x", "the unit is not one of ms, s, m, h"),
            ("1.5s", "the unit is not one of ms, s, m, h"),
            ("0s", "it must be greater than zero"),
            ("25h", "it must be at most 24h"),
            ("99999999999999999999s", "the number is too large"),
            ("18446744073709551615h", "the number is too large"),
            ("", "the unit is missing"),
        ] {
            let error = parse_duration(text).unwrap_err();
            assert_eq!(error.reason, reason, "{text}");
            assert!(error.to_string().contains("e.g. 500ms, 2s, 1m"));
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["500ms", "2s", "1m", "1500ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}

/// A waited time as people read it in a finding: `1s`, `1.5s`, `250ms` — the remaining time
/// of a deadline is a few microseconds short of the timeout, which must still read `1s`.
pub struct Human(pub Duration);

impl std::fmt::Display for Human {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let millis = (self.0.as_secs_f64() * 1_000.0).round();
        if millis < 1_000.0 {
            write!(f, "{millis}ms")
        } else {
            let tenths = (millis / 100.0).round() / 10.0;
            if tenths.fract() == 0.0 {
                write!(f, "{}s", tenths as u64)
            } else {
                write!(f, "{tenths:.1}s")
            }
        }
    }
}

#[cfg(test)]
mod human_tests {
    use super::*;

    #[test]
    fn rounds_the_way_people_read() {
        assert_eq!(Human(Duration::from_nanos(999_998_647)).to_string(), "1s");
        assert_eq!(Human(Duration::from_millis(1_999)).to_string(), "2s");
        assert_eq!(Human(Duration::from_millis(1_500)).to_string(), "1.5s");
        assert_eq!(Human(Duration::from_micros(250_400)).to_string(), "250ms");
        assert_eq!(Human(Duration::from_micros(999_991)).to_string(), "1s");
    }
}

/// A duration as catalog files and reports write it (`500ms`, `2s`, `1m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextDuration(pub Duration);

impl serde::Serialize for TextDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for TextDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        parse_duration(&text)
            .map(TextDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for TextDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "a duration such as 500ms, 2s or 1m"
        })
    }
}
