//! `host.clock`: this device's own clock, without the network. A clock years behind (a flat
//! BIOS battery, a fresh image) makes every TLS certificate look not yet valid, so enrollment
//! fails before any DC is asked; Kerberos then fails too.

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
}

pub fn observe() -> Evidence {
    Evidence {
        today: super::host_edition::today(),
    }
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    // ISO dates compare as text.
    if evidence.today.as_str() < params.not_before.as_str() {
        Judgement::fail(format!(
            "this device's clock says {}, before {} (the release date of this joinready): TLS certificates will not be valid yet and Kerberos will fail",
            evidence.today, params.not_before
        ))
    } else {
        Judgement::pass(format!("this device's date is {} (UTC)", evidence.today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    #[test]
    fn a_clock_in_the_past_fails() {
        let params = Params {
            not_before: "2026-11-01".into(),
        };
        let old = judge(
            &params,
            &Evidence {
                today: "2019-01-01".into(),
            },
        );
        assert_eq!(old.status, Status::Fail);
        assert!(old.finding.contains("2019-01-01, before 2026-11-01"));
        let now = judge(
            &params,
            &Evidence {
                today: "2026-12-06".into(),
            },
        );
        assert_eq!(now.status, Status::Pass);
    }
}
