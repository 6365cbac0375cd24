//! `host.edition`: the device's Windows edition and build against the supported-builds table
//! (data in checks/host.toml). Home cannot join a domain or enroll through Autopilot
//! (0x80180022); a build past its end of servicing is not a supported Autopilot device.
//! On other systems there is no Windows to judge: a skip, never a false alarm.

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "host.edition",
    fan_out: FanOut::Once,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "this device's Windows edition and build (registry CurrentVersion) against the supported-builds table",
};

/// One Windows release of the supported-builds table.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// CurrentBuildNumber, e.g. 26100.
    pub build: u32,
    /// As people name it, e.g. "Windows 11 24H2".
    pub name: String,
    /// End of servicing (YYYY-MM-DD) for Home and Pro editions.
    pub end_home_pro: String,
    /// End of servicing (YYYY-MM-DD) for Enterprise and Education editions.
    pub end_enterprise: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Where the dates come from.
    pub source: String,
    pub releases: Vec<Release>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "HostEditionEvidence")]
pub struct Evidence {
    /// EditionID, e.g. Professional, Enterprise, Core (Home).
    pub edition_id: Option<String>,
    pub product_name: Option<String>,
    pub build: Option<u32>,
    /// Update build revision (UBR).
    pub ubr: Option<u32>,
    /// Today's date on this device (YYYY-MM-DD), against which the end dates are compared.
    pub today: String,
}

pub async fn observe(_params: &Params, _context: &CheckContext) -> Result<Evidence, NotObserved> {
    #[cfg(windows)]
    {
        use crate::device::registry::{read, CURRENT_VERSION_KEY};
        use crate::wire::autopilot::AutopilotValue;
        let text = |name| match read(CURRENT_VERSION_KEY, name) {
            Some(AutopilotValue::Text(t)) => Some(t),
            Some(AutopilotValue::Number(n)) => Some(n.to_string()),
            None => None,
        };
        Ok(Evidence {
            edition_id: text("EditionID"),
            product_name: text("ProductName"),
            build: text("CurrentBuildNumber").and_then(|b| b.trim().parse().ok()),
            ubr: text("UBR").and_then(|b| b.trim().parse().ok()),
            today: today(),
        })
    }
    #[cfg(not(windows))]
    {
        Err(NotObserved::Skip(format!(
            "runs on the Windows device only (this is {})",
            std::env::consts::OS
        )))
    }
}

/// Today's UTC date as YYYY-MM-DD.
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// Editions that cannot join: Home in all its variants.
fn is_home(edition: &str) -> bool {
    edition.to_ascii_lowercase().starts_with("core")
}

fn is_enterprise_servicing(edition: &str) -> bool {
    let e = edition.to_ascii_lowercase();
    e.starts_with("enterprise") || e.starts_with("education") || e.starts_with("iotenterprise")
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let Some(edition) = evidence.edition_id.as_deref() else {
        return Judgement::warn(
            "cannot read EditionID under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        );
    };
    let version = match (evidence.build, evidence.ubr) {
        (Some(build), Some(ubr)) => format!("build {build}.{ubr}"),
        (Some(build), None) => format!("build {build}"),
        _ => "unknown build".to_string(),
    };
    if is_home(edition) {
        return Judgement::fail(format!(
            "Windows Home (EditionID {edition}, {version}) cannot join a domain or Microsoft Entra ID through Autopilot: it fails with 0x80180022"
        ));
    }
    // LTSC editions (EnterpriseS) have their own, longer servicing: not judged by this table.
    if edition.to_ascii_lowercase().starts_with("enterprises") {
        return Judgement::pass(format!("Windows {edition} (LTSC), {version}"));
    }
    let Some(build) = evidence.build else {
        return Judgement::warn(format!(
            "Windows {edition}, but the build number cannot be read"
        ));
    };
    let Some(release) = params.releases.iter().find(|r| r.build == build) else {
        let newest = params.releases.iter().map(|r| r.build).max().unwrap_or(0);
        return if build > newest {
            Judgement::pass(format!(
                "Windows {edition}, {version}: newer than the supported-builds table"
            ))
        } else {
            Judgement::fail(format!(
                "Windows {edition}, {version} is not a supported Windows release (table: {})",
                params.source
            ))
        };
    };
    let end = if is_enterprise_servicing(edition) {
        &release.end_enterprise
    } else {
        &release.end_home_pro
    };
    // ISO dates compare as text.
    if evidence.today.as_str() > end.as_str() {
        Judgement::fail(format!(
            "{} {edition} ({version}) left servicing on {end}: Autopilot needs a supported Windows; update the device",
            release.name
        ))
    } else {
        Judgement::pass(format!(
            "{} {edition} ({version}), serviced until {end}",
            release.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            source: "test".into(),
            releases: vec![Release {
                build: 26100,
                name: "Windows 11 24H2".into(),
                end_home_pro: "2026-10-13".into(),
                end_enterprise: "2027-10-12".into(),
            }],
        }
    }

    fn evidence(edition: &str, build: u32, today: &str) -> Evidence {
        Evidence {
            edition_id: Some(edition.into()),
            product_name: None,
            build: Some(build),
            ubr: Some(1742),
            today: today.into(),
        }
    }

    #[test]
    fn editions_and_builds_are_judged_from_the_table() {
        let p = params();
        let cases = [
            ("Core", 26100, "2026-01-01", "fail", "0x80180022"),
            (
                "CoreSingleLanguage",
                26100,
                "2026-01-01",
                "fail",
                "Windows Home",
            ),
            (
                "Professional",
                26100,
                "2026-01-01",
                "pass",
                "serviced until 2026-10-13",
            ),
            (
                "Professional",
                26100,
                "2026-12-06",
                "fail",
                "left servicing on 2026-10-13",
            ),
            (
                "Enterprise",
                26100,
                "2026-12-06",
                "pass",
                "serviced until 2027-10-12",
            ),
            ("Education", 26100, "2027-12-06", "fail", "left servicing"),
            (
                "Enterprise",
                19045,
                "2026-12-06",
                "fail",
                "not a supported Windows release",
            ),
            ("Enterprise", 27000, "2026-12-06", "pass", "newer than"),
            ("EnterpriseS", 17763, "2026-12-06", "pass", "LTSC"),
        ];
        for (edition, build, today, status, words) in cases {
            let judgement = judge(&p, &evidence(edition, build, today));
            assert_eq!(
                format!("{:?}", judgement.status).to_lowercase(),
                status,
                "{edition} {build}: {}",
                judgement.finding
            );
            assert!(judgement.finding.contains(words), "{}", judgement.finding);
        }
    }
}
