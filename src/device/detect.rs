//! Zero-config on the device: the scenario and tenant the downloaded Autopilot profile implies,
//! each with where it came from, as the report states it ("scenario vpn, from the Autopilot
//! profile: HybridJoinSkipDCConnectivityCheck = 1"). Pure: the readers hand the profile in.

use crate::model::Scenario;
use crate::wire::autopilot::{AutopilotProfile, JoinMethod};
use serde::{Deserialize, Serialize};

/// Where a run setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OriginSource {
    /// A command-line flag.
    Flag,
    /// The joinready profile (TOML).
    Profile,
    /// The Autopilot profile the device downloaded.
    AutopilotProfile,
    /// The DNS search suffix the network gave this machine.
    SearchSuffix,
    /// The machine's own proxy settings (WinHTTP default proxy, WinINET machine-wide).
    MachineProxy,
    /// Nothing named it: joinready's default.
    Default,
}

/// One setting of the run and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingOrigin {
    /// "scenario", "join_type", "tenant" or "proxy".
    pub setting: String,
    pub value: String,
    pub source: OriginSource,
    /// The sentence the console prints, e.g. "scenario vpn, from the Autopilot profile:
    /// HybridJoinSkipDCConnectivityCheck = 1".
    pub detail: String,
}

/// The device's downloaded Autopilot profile, and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundProfile {
    pub profile: AutopilotProfile,
    /// The file path or registry key it came from.
    pub location: String,
}

/// What the Autopilot profile implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub join: Option<JoinMethod>,
    /// None only when a run must not take the scenario from the device (see `detail`).
    pub scenario: Option<Scenario>,
    pub tenant: Option<String>,
    /// Why this scenario, in one sentence.
    pub detail: String,
}

/// The scenario and tenant `profile` implies; with no profile, on-prem, saying so.
pub fn scenario_from_autopilot(profile: Option<&AutopilotProfile>) -> Detected {
    let Some(profile) = profile else {
        return Detected {
            join: None,
            scenario: Some(Scenario::OnPrem),
            tenant: None,
            detail: "scenario on-prem: this device has no downloaded Autopilot profile (give --scenario or a profile to choose)".to_string(),
        };
    };
    let tenant = profile.tenant_domain.clone().or(profile.tenant_id.clone());
    let (scenario, detail) = match (profile.join_method, profile.skip_dc_connectivity_check) {
        (Some(JoinMethod::HybridJoin), Some(true)) => (
            Some(Scenario::Vpn),
            "scenario vpn, from the Autopilot profile: HybridJoinSkipDCConnectivityCheck = 1".to_string(),
        ),
        (Some(JoinMethod::HybridJoin), skip) => (
            Some(Scenario::OnPrem),
            format!(
                "scenario on-prem, from the Autopilot profile: CloudAssignedDomainJoinMethod = 1 (hybrid join), HybridJoinSkipDCConnectivityCheck = {}",
                match skip {
                    Some(_) => "0",
                    None => "absent",
                }
            ),
        ),
        (Some(JoinMethod::EntraJoin), _) => (
            Some(Scenario::Entra),
            "scenario entra, from the Autopilot profile: CloudAssignedDomainJoinMethod = 0 (Microsoft Entra join)".to_string(),
        ),
        (None, _) => (
            Some(Scenario::OnPrem),
            "scenario on-prem: the Autopilot profile names no join type (CloudAssignedDomainJoinMethod absent)".to_string(),
        ),
    };
    Detected {
        join: profile.join_method,
        scenario,
        tenant,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::autopilot::parse_profile_json;

    fn from_fixture(name: &str) -> Detected {
        let path = format!("{}/fixtures/autopilot/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        scenario_from_autopilot(Some(&parse_profile_json(&bytes).unwrap()))
    }

    #[test]
    fn hybrid_with_skip_is_vpn_and_says_why() {
        let detected = from_fixture("hybrid-skip.json");
        assert_eq!(detected.scenario, Some(Scenario::Vpn));
        assert_eq!(detected.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(
            detected.detail,
            "scenario vpn, from the Autopilot profile: HybridJoinSkipDCConnectivityCheck = 1"
        );
    }

    #[test]
    fn hybrid_without_skip_is_on_prem() {
        let detected = from_fixture("hybrid-utf16.json");
        assert_eq!(detected.scenario, Some(Scenario::OnPrem));
        assert_eq!(detected.tenant.as_deref(), Some("fabrikam.onmicrosoft.com"));
        assert!(detected
            .detail
            .contains("HybridJoinSkipDCConnectivityCheck = 0"));
    }

    #[test]
    fn entra_join_selects_the_entra_scenario() {
        let detected = from_fixture("entra.json");
        assert_eq!(detected.join, Some(JoinMethod::EntraJoin));
        assert_eq!(detected.scenario, Some(Scenario::Entra));
        assert!(detected.detail.contains("Microsoft Entra join"));
    }

    #[test]
    fn no_profile_is_on_prem_and_says_so() {
        let detected = scenario_from_autopilot(None);
        assert_eq!(detected.scenario, Some(Scenario::OnPrem));
        assert!(detected.detail.contains("no downloaded Autopilot profile"));
    }
}
