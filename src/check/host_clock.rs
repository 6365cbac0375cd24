//! `host.clock`: this device's own clock and time zone, without the network. A clock years
//! behind (a flat BIOS battery, a fresh image) makes every TLS certificate look not yet valid,
//! so enrollment fails before any DC is asked; Kerberos then fails too. A time zone offset no
//! place on Earth has (beyond UTC-12:00..UTC+14:00) means a hand-edited or broken time zone,
//! and the UTC time Kerberos compares is off by as much.

use super::shape::{FanOut, Judgement, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "host.clock",
    fan_out: FanOut::Once,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "this device's clock against the earliest date it can be (no network)",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A date (YYYY-MM-DD) the clock cannot be before: this release's date.
    pub not_before: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "HostClockEvidence")]
pub struct Evidence {
    /// This device's UTC date (YYYY-MM-DD).
    pub today: String,
    /// The time zone's name (Windows TimeZoneKeyName; elsewhere TZ, /etc/timezone or the
    /// /etc/localtime link), when known.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Local time minus UTC, in minutes (Windows: minus ActiveTimeBias), when known.
    #[serde(default)]
    pub utc_offset_minutes: Option<i32>,
}

pub fn observe() -> Evidence {
    let (time_zone, utc_offset_minutes) = time_zone();
    Evidence {
        today: super::host_edition::today(),
        time_zone,
        utc_offset_minutes,
    }
}

#[cfg(windows)]
fn time_zone() -> (Option<String>, Option<i32>) {
    use crate::device::registry::read;
    use crate::wire::autopilot::AutopilotValue;
    const KEY: &str = r"SYSTEM\CurrentControlSet\Control\TimeZoneInformation";
    let name = match read(KEY, "TimeZoneKeyName") {
        Some(AutopilotValue::Text(text)) if !text.trim().is_empty() => {
            Some(text.trim().to_string())
        }
        _ => None,
    };
    // ActiveTimeBias is a DWORD holding a signed number of minutes: UTC = local + bias.
    let offset = match read(KEY, "ActiveTimeBias") {
        Some(AutopilotValue::Number(n)) => u32::try_from(n).ok().map(|b| -(b as i32)),
        _ => None,
    };
    (name, offset)
}

#[cfg(not(windows))]
fn time_zone() -> (Option<String>, Option<i32>) {
    let name = std::env::var("TZ")
        .ok()
        .filter(|tz| !tz.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/timezone")
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        })
        .or_else(|| {
            let link = std::fs::read_link("/etc/localtime").ok()?;
            let text = link.to_string_lossy().to_string();
            text.split_once("zoneinfo/")
                .map(|(_, zone)| zone.to_string())
        });
    // The offset needs the zone database; off Windows the name is evidence enough.
    (name, None)
}

/// Real time zones lie between UTC-12:00 and UTC+14:00.
const MIN_OFFSET_MINUTES: i32 = -12 * 60;
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

fn describe_zone(evidence: &Evidence) -> String {
    let offset = evidence.utc_offset_minutes.map(|m| {
        let sign = if m < 0 { '-' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    });
    match (&evidence.time_zone, offset) {
        (Some(name), Some(offset)) => format!("; time zone {name} ({offset})"),
        (Some(name), None) => format!("; time zone {name}"),
        (None, Some(offset)) => format!("; time zone {offset}"),
        (None, None) => String::new(),
    }
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let zone = describe_zone(evidence);
    // ISO dates compare as text.
    if evidence.today.as_str() < params.not_before.as_str() {
        return Judgement::fail(format!(
            "this device's clock says {}, before {} (the release date of this joinready): TLS certificates will not be valid yet and Kerberos will fail{zone}",
            evidence.today, params.not_before
        ));
    }
    if let Some(offset) = evidence.utc_offset_minutes {
        if !(MIN_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&offset) {
            return Judgement::warn(format!(
                "this device's time zone offset is {} minutes, outside UTC-12:00..UTC+14:00: the time zone is broken, so its UTC time (what Kerberos compares) is off{zone}",
                offset
            ));
        }
    }
    Judgement::pass(format!(
        "this device's date is {} (UTC){zone}",
        evidence.today
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn at(today: &str, zone: Option<&str>, offset: Option<i32>) -> Evidence {
        Evidence {
            today: today.into(),
            time_zone: zone.map(Into::into),
            utc_offset_minutes: offset,
        }
    }

    fn params() -> Params {
        Params {
            not_before: "2026-11-01".into(),
        }
    }

    #[test]
    fn a_clock_in_the_past_fails() {
        let old = judge(&params(), &at("2019-01-01", None, None));
        assert_eq!(old.status, Status::Fail);
        assert!(old.finding.contains("2019-01-01, before 2026-11-01"));
        let now = judge(&params(), &at("2026-12-06", None, None));
        assert_eq!(now.status, Status::Pass);
        let zoned = judge(
            &params(),
            &at("2026-12-06", Some("India Standard Time"), Some(330)),
        );
        assert_eq!(zoned.status, Status::Pass);
        assert!(
            zoned
                .finding
                .ends_with("; time zone India Standard Time (UTC+05:30)"),
            "{}",
            zoned.finding
        );
        let west = judge(&params(), &at("2026-12-06", None, Some(-600)));
        assert!(
            west.finding.ends_with("; time zone UTC-10:00"),
            "{}",
            west.finding
        );
    }

    #[test]
    fn an_impossible_time_zone_offset_warns() {
        let judgement = judge(&params(), &at("2026-12-06", Some("Custom"), Some(15 * 60)));
        assert_eq!(judgement.status, Status::Warn);
        assert!(
            judgement.finding.contains("outside UTC-12:00..UTC+14:00"),
            "{}",
            judgement.finding
        );
        let edge = judge(&params(), &at("2026-12-06", None, Some(14 * 60)));
        assert_eq!(edge.status, Status::Pass);
    }
}
