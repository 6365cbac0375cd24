//! The verdict: scenario-aware readiness from the results, the root cause first.

#[cfg(test)]
mod entra_tests;
pub mod policy;

use crate::model::{Scenario, Status};
use crate::result::CheckResult;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    Ready,
    Warnings,
    NotReady,
    Unknown,
}

impl VerdictStatus {
    /// Exit codes as monitoring plugins use them.
    pub fn exit_code(self) -> u8 {
        match self {
            VerdictStatus::Ready => 0,
            VerdictStatus::Warnings => 1,
            VerdictStatus::NotReady => 2,
            VerdictStatus::Unknown => 3,
        }
    }

    pub fn headline(self) -> &'static str {
        match self {
            VerdictStatus::Ready => "READY",
            VerdictStatus::Warnings => "READY WITH WARNINGS",
            VerdictStatus::NotReady => "NOT READY",
            VerdictStatus::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    pub check: String,
    pub target: String,
    pub finding: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub status: VerdictStatus,
    pub summary: String,
    pub root_cause: Option<RootCause>,
    /// What else the technician should know (the vpn scenario's sign-in note, warnings).
    pub notes: Vec<String>,
    /// The Autopilot join type the scenario checked: "Microsoft Entra hybrid join" (on-prem,
    /// vpn) or "Microsoft Entra join" (entra).
    pub join_type: String,
}

/// Decides from `results` (in catalog order, weighed by `policy::apply`). `interchangeable`
/// names the checks whose targets stand in for one another (`policy::interchangeable`).
pub fn decide(
    results: &[CheckResult],
    interchangeable: &[String],
    scenario: Scenario,
    incomplete: Option<&str>,
    vpn_gateways: usize,
) -> Verdict {
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for result in results {
        match result.status {
            Status::Fail if !policy::failure_stands(result, results, interchangeable) => warnings
                .push(format!(
                    "{} on {}: {} (other DCs pass)",
                    result.id, result.target, result.finding
                )),
            Status::Fail => failures.push(result),
            Status::Warn => warnings.push(format!(
                "{} on {}: {}",
                result.id, result.target, result.finding
            )),
            Status::Error if !result.cut_short => warnings.push(format!(
                "{} on {}: could not check: {}",
                result.id, result.target, result.finding
            )),
            _ => {}
        }
    }
    if scenario == Scenario::Vpn && vpn_gateways == 0 {
        warnings.push(
            "vpn scenario without a [[vpn]] gateway in the profile: the gateway the user needs at the sign-in screen is not checked".to_string(),
        );
    }
    let mut notes = Vec::new();
    if scenario == Scenario::Vpn {
        notes.push(
            "vpn scenario: the user must start the VPN at the Windows sign-in screen; a domain controller is needed at the first sign-in".to_string(),
        );
    }

    if let Some(first) = failures.first() {
        let more = match failures.len() - 1 {
            0 => String::new(),
            1 => " (and 1 more failure)".to_string(),
            n => format!(" (and {n} more failures)"),
        };
        notes.extend(warnings);
        return Verdict {
            status: VerdictStatus::NotReady,
            summary: format!("{}: {}{more}", first.id, first.finding),
            root_cause: Some(RootCause {
                check: first.id.clone(),
                target: first.target.clone(),
                finding: first.finding.clone(),
            }),
            notes,
            join_type: scenario.join_type().to_string(),
        };
    }
    if let Some(reason) = incomplete {
        notes.extend(warnings);
        return Verdict {
            status: VerdictStatus::Unknown,
            summary: format!("incomplete: {reason} before every check finished; no failure so far"),
            root_cause: Some(RootCause {
                check: "run".to_string(),
                target: String::new(),
                finding: reason.to_string(),
            }),
            notes,
            join_type: scenario.join_type().to_string(),
        };
    }
    if let Some(first) = warnings.first() {
        let summary = first.clone();
        let root = results
            .iter()
            .find(|r| matches!(r.status, Status::Warn | Status::Fail | Status::Error))
            .map(|r| RootCause {
                check: r.id.clone(),
                target: r.target.clone(),
                finding: r.finding.clone(),
            });
        notes.extend(warnings);
        return Verdict {
            status: VerdictStatus::Warnings,
            summary,
            root_cause: root,
            notes,
            join_type: scenario.join_type().to_string(),
        };
    }
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    Verdict {
        status: VerdictStatus::Ready,
        summary: format!("{passed} checks passed"),
        root_cause: None,
        notes,
        join_type: scenario.join_type().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Area;

    fn row(id: &str, target: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.into(),
            area: Area::Dc,
            title: String::new(),
            target: target.into(),
            status,
            started_ms: 0,
            duration_ms: 1,
            finding: format!("{id} {status}"),
            remedy: String::new(),
            needs: vec![],
            cut_short: false,
            evidence: None,
        }
    }

    fn per_dc() -> Vec<String> {
        vec!["dc.ping".into(), "ldap.rootdse".into()]
    }

    #[test]
    fn all_pass_is_ready() {
        let v = decide(
            &[
                row("dc.srv", "", Status::Pass),
                row("dc.ping", "dc1", Status::Pass),
            ],
            &per_dc(),
            Scenario::OnPrem,
            None,
            0,
        );
        assert_eq!(v.status, VerdictStatus::Ready);
        assert!(v.root_cause.is_none());
        assert_eq!(v.status.exit_code(), 0);
    }

    #[test]
    fn first_failure_is_the_root_cause() {
        let results = [
            row("dc.srv", "_ldap", Status::Fail),
            row("dc.gc_srv", "_gc", Status::Fail),
            row("dc.ping", "(no DC)", Status::Skip),
        ];
        let v = decide(&results, &per_dc(), Scenario::OnPrem, None, 1);
        assert_eq!(v.status, VerdictStatus::NotReady);
        assert_eq!(v.root_cause.unwrap().check, "dc.srv");
        assert!(
            v.summary
                .starts_with("dc.srv: dc.srv fail (and 1 more failure)"),
            "{}",
            v.summary
        );
        assert_eq!(v.status.exit_code(), 2);
    }

    #[test]
    fn one_dead_dc_among_healthy_ones_is_a_warning() {
        let results = [
            row("dc.srv", "", Status::Pass),
            row("ldap.rootdse", "dc1", Status::Pass),
            row("ldap.rootdse", "dead", Status::Fail),
        ];
        let v = decide(&results, &per_dc(), Scenario::OnPrem, None, 1);
        assert_eq!(v.status, VerdictStatus::Warnings);
        assert!(
            v.summary.contains("dead") && v.summary.contains("other DCs pass"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn every_dc_failing_is_not_ready() {
        let results = [
            row("ldap.rootdse", "dc1", Status::Fail),
            row("ldap.rootdse", "dc2", Status::Fail),
        ];
        assert_eq!(
            decide(&results, &per_dc(), Scenario::OnPrem, None, 1).status,
            VerdictStatus::NotReady
        );
    }

    #[test]
    fn errors_warn_and_deadline_is_unknown_unless_something_failed() {
        let results = [
            row("dc.ping", "dc1", Status::Error),
            row("ldap.rootdse", "dc1", Status::Pass),
        ];
        assert_eq!(
            decide(&results, &per_dc(), Scenario::OnPrem, None, 1).status,
            VerdictStatus::Warnings
        );
        let v = decide(&results, &per_dc(), Scenario::OnPrem, Some("deadline"), 1);
        assert_eq!(v.status, VerdictStatus::Unknown);
        assert_eq!(v.status.exit_code(), 3);
        let failed = [row("dc.srv", "", Status::Fail)];
        assert_eq!(
            decide(&failed, &per_dc(), Scenario::OnPrem, Some("deadline"), 1).status,
            VerdictStatus::NotReady
        );
    }

    #[test]
    fn vpn_scenario_adds_the_sign_in_note() {
        let v = decide(
            &[row("dc.srv", "", Status::Skip)],
            &per_dc(),
            Scenario::Vpn,
            None,
            1,
        );
        assert_eq!(v.status, VerdictStatus::Ready);
        assert!(v.notes[0].contains("start the VPN"));
    }

    #[test]
    fn vpn_scenario_without_a_gateway_warns() {
        let v = decide(
            &[row("dc.srv", "", Status::Skip)],
            &per_dc(),
            Scenario::Vpn,
            None,
            0,
        );
        assert_eq!(v.status, VerdictStatus::Warnings);
        assert!(
            v.summary.contains("without a [[vpn]] gateway"),
            "{}",
            v.summary
        );
    }
}
