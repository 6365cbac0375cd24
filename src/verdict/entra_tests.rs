//! The entra scenario's policy: which checks are not run, and proxy authentication as a failure.

use super::policy;
use crate::catalog::Catalog;
use crate::check::Evidence;
use crate::model::{Scenario, Status};
use crate::result::CheckResult;

fn catalog() -> Catalog {
    Catalog::load(&[]).unwrap()
}

#[test]
fn entra_runs_no_ad_or_vpn_check_and_every_other_one() {
    let catalog = catalog();
    for def in &catalog.checks {
        let reason = policy::not_run(def, Scenario::Entra);
        let needs_ad_or_vpn = def.corporate_network
            || (!def.required_in.is_empty() && !def.required_in.contains(&Scenario::Entra));
        assert_eq!(reason.is_some(), needs_ad_or_vpn, "{}", def.id);
        if let Some(reason) = reason {
            assert!(
                reason.starts_with("not needed for Microsoft Entra join: "),
                "{reason}"
            );
        }
        // The hybrid scenarios run everything they select.
        assert!(policy::not_run(def, Scenario::OnPrem).is_none());
        assert!(policy::not_run(def, Scenario::Vpn).is_none());
    }
    for id in ["dc.srv", "dc.ping", "ldap.bind", "time.dc_skew", "vpn.ike"] {
        assert!(
            policy::not_run(catalog.get(id).unwrap(), Scenario::Entra).is_some(),
            "{id}"
        );
    }
    for id in ["proxy.wpad", "endpoints.reach"] {
        assert!(
            policy::not_run(catalog.get(id).unwrap(), Scenario::Entra).is_none(),
            "{id}"
        );
    }
}

fn endpoint_row(host: &str, authenticated: bool) -> CheckResult {
    let def = crate::catalog::builtin_endpoints()
        .into_iter()
        .find(|e| e.host == host)
        .unwrap();
    let mut evidence = crate::check::endpoint::new_evidence(&def);
    evidence.authenticated = authenticated;
    CheckResult {
        id: "endpoints.reach".into(),
        area: crate::model::Area::Endpoints,
        title: String::new(),
        target: host.into(),
        status: Status::Warn,
        started_ms: 0,
        duration_ms: 1,
        finding: format!("{host} answers, but only with Basic proxy credentials"),
        remedy: "exempt it".into(),
        needs: vec![],
        cut_short: false,
        evidence: Some(Evidence::Endpoint(evidence)),
    }
}

fn weighed(row: CheckResult, scenario: Scenario) -> CheckResult {
    let mut rows = vec![row];
    policy::apply(&mut rows, &catalog().checks, scenario);
    rows.remove(0)
}

#[test]
fn proxy_credentials_fail_in_entra_and_for_activation_and_only_warn_otherwise() {
    let entra = weighed(endpoint_row("ztd.dds.microsoft.com", true), Scenario::Entra);
    assert_eq!(entra.status, Status::Fail);
    assert!(
        entra
            .finding
            .ends_with(": OOBE runs as SYSTEM and cannot answer the proxy's 407 (entra scenario)"),
        "{}",
        entra.finding
    );
    let hybrid = weighed(
        endpoint_row("ztd.dds.microsoft.com", true),
        Scenario::OnPrem,
    );
    assert_eq!(hybrid.status, Status::Warn);
    let activation = weighed(
        endpoint_row("activation-v2.sls.microsoft.com", true),
        Scenario::OnPrem,
    );
    assert_eq!(activation.status, Status::Fail);
    assert!(activation
        .finding
        .contains("Windows activation runs as SYSTEM"));
    // An optional endpoint (Windows Update) still only warns, credentials or not.
    let update = weighed(
        endpoint_row("sls.update.microsoft.com", true),
        Scenario::Entra,
    );
    assert_eq!(update.status, Status::Warn);
    // No credentials used: nothing to escalate.
    let plain = weighed(
        endpoint_row("ztd.dds.microsoft.com", false),
        Scenario::Entra,
    );
    assert_eq!(plain.status, Status::Warn);
}

#[test]
fn the_verdict_names_the_join_type() {
    let verdict = super::decide(&[], &[], Scenario::Entra, None, 0);
    assert_eq!(verdict.join_type, "Microsoft Entra join");
    let verdict = super::decide(&[], &[], Scenario::Vpn, None, 0);
    assert_eq!(verdict.join_type, "Microsoft Entra hybrid join");
}
