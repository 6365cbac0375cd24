//! Severity, decided in one place. A check's judge says what its evidence shows; this file says
//! what that means for the device: a failure of an optional check or endpoint only warns, one
//! that is not required in this scenario only warns, a corporate-network check failing in the
//! vpn scenario is expected, ICMP dropped while LDAP answers is a warning, and one DC (or VPN
//! gateway) failing while another passes the same check is not the device's problem. Rows cut
//! short by the deadline are weighed by the verdict as "unknown", never here.

use crate::catalog::CheckDef;
use crate::check::shape::FanOut;
use crate::check::Evidence;
use crate::model::{Scenario, Status};
use crate::result::CheckResult;
use std::collections::HashMap;

/// Weighs every row by its check's catalog entry and the scenario.
pub fn apply(results: &mut [CheckResult], checks: &[CheckDef], scenario: Scenario) {
    let by_id: HashMap<&str, &CheckDef> = checks.iter().map(|c| (c.id.as_str(), c)).collect();
    // What each row said before any weighing, so one row's downgrade never feeds another's.
    let judged: HashMap<(String, String), Status> = results
        .iter()
        .map(|r| ((r.id.clone(), r.target.clone()), r.status))
        .collect();
    for row in results.iter_mut() {
        let Some(def) = by_id.get(row.id.as_str()) else {
            continue;
        };
        if row.cut_short {
            continue;
        }
        weigh(row, def, scenario, |other, target| {
            judged
                .get(&(other.to_string(), target.to_string()))
                .copied()
        });
    }
}

/// Why a selected check is not run at all in `scenario`, or None when it runs. Microsoft Entra
/// join involves no Active Directory: the checks that need the corporate network (DNS, DC,
/// LDAP, the DC's clock) and those required only in the hybrid scenarios (the VPN gateway) are
/// listed, not run. Every other check (proxy, endpoints, the tenant) runs in every scenario.
pub fn not_run(def: &CheckDef, scenario: Scenario) -> Option<String> {
    if scenario != Scenario::Entra {
        return None;
    }
    let hybrid_only = !def.required_in.is_empty() && !def.required_in.contains(&scenario);
    if def.corporate_network {
        Some(format!(
            "not needed for {}: the device joins no Active Directory domain",
            scenario.join_type()
        ))
    } else if hybrid_only {
        Some(format!(
            "not needed for {}: no VPN comes before the user signs in",
            scenario.join_type()
        ))
    } else {
        None
    }
}

/// Why an endpoint reached only with proxy credentials fails: OOBE (entra) and Windows
/// activation run as SYSTEM, which cannot answer a 407. Elsewhere it stays a warning.
fn credentials_forbidden(row: &CheckResult, scenario: Scenario) -> Option<String> {
    let Some(Evidence::Endpoint(endpoint)) = &row.evidence else {
        return None;
    };
    if !endpoint.authenticated {
        return None;
    }
    if scenario == Scenario::Entra {
        Some("OOBE runs as SYSTEM and cannot answer the proxy's 407 (entra scenario)".to_string())
    } else if endpoint.endpoint.sets.iter().any(|s| s == "activation") {
        Some("Windows activation runs as SYSTEM and must reach its hosts without proxy authentication".to_string())
    } else {
        None
    }
}

/// One row's weight. `judged(check, target)` is another row's own judgement.
fn weigh(
    row: &mut CheckResult,
    def: &CheckDef,
    scenario: Scenario,
    judged: impl Fn(&str, &str) -> Option<Status>,
) {
    if row.status == Status::Warn {
        if let Some(reason) = credentials_forbidden(row, scenario) {
            row.status = Status::Fail;
            row.finding = format!("{}: {reason}", row.finding);
        }
    }
    if row.status == Status::Fail {
        if let Some(other) = &def.downgrade_if_passed {
            let target = if by_target(def) {
                row.target.as_str()
            } else {
                ""
            };
            if judged(other, target).is_some_and(Status::lets_dependents_run) {
                row.status = Status::Warn;
                row.finding = format!(
                    "{}, but {other} answers: the host is up and only this probe is blocked",
                    row.finding
                );
            }
        }
    }
    if row.status == Status::Fail {
        if let Some(purpose) = optional_endpoint(row) {
            row.status = Status::Warn;
            row.finding = format!("{} (optional: {purpose})", row.finding);
        }
    }
    if def.optional && row.status == Status::Fail {
        row.status = Status::Warn;
        row.finding = format!("{} (optional)", row.finding);
    }
    if row.status == Status::Fail
        && !def.required_in.is_empty()
        && !def.required_in.contains(&scenario)
    {
        row.status = Status::Warn;
        row.finding = format!("{} (not required in the {scenario} scenario)", row.finding);
    }
    if scenario == Scenario::Vpn
        && def.corporate_network
        && matches!(row.status, Status::Fail | Status::Error)
    {
        row.status = Status::Skip;
        row.finding = format!(
            "expected before the VPN is up (vpn scenario): {}; a DC is still needed at the user's first sign-in",
            row.finding
        );
    }
    if row.status == Status::Pass {
        row.remedy.clear();
    }
}

fn by_target(def: &CheckDef) -> bool {
    def.fan_out() != FanOut::Once
}

/// The purpose of an endpoint the catalog marks optional, when the row is one.
fn optional_endpoint(row: &CheckResult) -> Option<String> {
    match &row.evidence {
        Some(Evidence::Endpoint(endpoint)) if endpoint.endpoint.optional => {
            Some(endpoint.endpoint.purpose.clone())
        }
        _ => None,
    }
}

/// The checks whose targets stand in for one another: any DC (or VPN gateway) that passes is
/// enough, as Windows' DC locator moves on to the DC that answers. Endpoints never do: the
/// device needs every one.
pub fn interchangeable(checks: &[CheckDef]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| matches!(c.fan_out(), FanOut::Dc | FanOut::VpnGateway))
        .map(|c| c.id.clone())
        .collect()
}

/// Whether a failed row makes the device not ready, or only warns because another target of
/// the same check passes.
pub fn failure_stands(
    row: &CheckResult,
    results: &[CheckResult],
    interchangeable: &[String],
) -> bool {
    if row.status != Status::Fail {
        return false;
    }
    let stands_in = interchangeable.contains(&row.id)
        && results
            .iter()
            .any(|r| r.id == row.id && r.status.lets_dependents_run());
    !stands_in
}
