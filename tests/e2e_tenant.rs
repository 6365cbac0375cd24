//! End-to-end: the tenant checks (checks/tenant.toml) against the stand-ins of
//! fixtures/testenv/lib/tenant.sh: login.microsoftonline.com, enterpriseregistration.windows.net
//! and two federation servers, under those names only inside the test namespaces (zones on DC1,
//! certificates from the test CA, which the profiles trust through `[endpoints] ca_file`). The
//! answers are the documented-shape files of fixtures/tenant/. No test reaches Microsoft: the
//! client runs in jr-client / jr-client-branch, whose only resolver is DC1 and whose router
//! drops everything outside 10.77.0.0/16. `#[ignore]`d; run with the environment up.

mod support;

use support::*;

const MANAGED: &str = "jrmanaged.onmicrosoft.com";
const MANAGED_ID: &str = "5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d";
const FEDERATED: &str = "fabrikam-jr.test";
const DOWN_STS: &str = "downsts-jr.test";
const MISSING: &str = "nosuchtenant-jr.onmicrosoft.com";
const OTHER_ID: &str = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f";
const OPEN_PROXY: &str = "10.77.0.30:3128";

const TENANT_CHECKS: [&str; 8] = [
    "--only",
    "tenant.openid",
    "--only",
    "tenant.registration",
    "--only",
    "tenant.realm",
    "--only",
    "tenant.federation",
];

fn ca() -> String {
    state_dir().join("ca.pem").display().to_string()
}

/// A profile naming `tenant`, trusting the test CA for the stand-ins, with `more` TOML after.
fn profile(env: &TestEnv, tenant: &str, more: &str) -> String {
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\ntenant = \"{tenant}\"\n{more}\n[endpoints]\nca_file = \"{}\"\n",
        ca()
    ))
}

fn run_tenant(env: &TestEnv, profile: &str) -> Run {
    env.run(
        CLIENT,
        &[
            &["--profile", profile, "--timeout", "2s"][..],
            &TENANT_CHECKS[..],
        ]
        .concat(),
        &[],
    )
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_managed_tenant_is_found_with_its_id_and_registration_discovery() {
    let env = TestEnv::acquire();
    let run = run_tenant(&env, &profile(&env, MANAGED, ""));
    let openid = run.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Pass, "{}", run.summary());
    assert!(
        openid
            .finding
            .contains(&format!("tenant {MANAGED} exists: tenant ID {MANAGED_ID}")),
        "{}",
        openid.finding
    );
    assert_eq!(
        openid.evidence_json()["configuration"]["tenant_id"],
        MANAGED_ID
    );
    // The request went to the stand-in along the direct route, over TLS.
    let route = &openid.evidence_json()["asked"]["route"];
    assert_eq!(route["address"], "10.77.0.40:443", "{route}");
    assert_eq!(route["tried"][0]["hop"], "direct");
    let registration = run.check_id("tenant.registration");
    assert_eq!(
        registration.status,
        Status::Pass,
        "{}",
        registration.finding
    );
    assert!(
        registration
            .finding
            .contains("https://enterpriseregistration.windows.net/EnrollmentServer/device/"),
        "{}",
        registration.finding
    );
    let realm = run.check_id("tenant.realm");
    assert_eq!(realm.status, Status::Pass, "{}", realm.finding);
    assert!(
        realm.finding.contains("is a managed domain"),
        "{}",
        realm.finding
    );
    let federation = run.check_id("tenant.federation");
    assert_eq!(federation.status, Status::Skip, "{}", federation.finding);
    assert!(
        federation.finding.contains("is not federated"),
        "{}",
        federation.finding
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_tenant_checks_follow_the_proxy_the_profile_names() {
    let env = TestEnv::acquire();
    // Only the proxies may reach login.microsoftonline.com now: a direct request would fail.
    env.fault(&["standin-route", "login.microsoftonline.com", "proxy-only"]);
    let direct = run_tenant(&env, &profile(&env, MANAGED, ""));
    let openid = direct.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Fail, "{}", direct.summary());
    assert!(
        openid.finding.contains("did not answer") && openid.finding.contains("direct"),
        "{}",
        openid.finding
    );
    let proxied = run_tenant(
        &env,
        &profile(
            &env,
            MANAGED,
            &format!("[proxy]\nurl = \"http://{OPEN_PROXY}\""),
        ),
    );
    let openid = proxied.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Pass, "{}", proxied.summary());
    assert_eq!(
        openid.evidence_json()["asked"]["route"]["tried"][0]["hop"],
        format!("via proxy {OPEN_PROXY}")
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_tenant_that_does_not_exist_fails_naming_it() {
    let env = TestEnv::acquire();
    let run = run_tenant(&env, &profile(&env, MISSING, ""));
    let openid = run.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Fail, "{}", run.summary());
    assert!(
        openid.finding.starts_with(&format!(
            "tenant `{MISSING}` (as the profile writes it) does not exist in Microsoft Entra ID"
        )) && openid.finding.contains("AADSTS90002"),
        "{}",
        openid.finding
    );
    assert!(
        openid.remedy.contains(&format!("tenant = \"{MISSING}\"")),
        "{}",
        openid.remedy
    );
    assert_eq!(openid.evidence_json()["error"]["codes"][0], 90002);
    let registration = run.check_id("tenant.registration");
    assert_eq!(registration.status, Status::Fail);
    assert!(
        registration
            .finding
            .contains(&format!("does not know {MISSING}: HTTP/1.1 404")),
        "{}",
        registration.finding
    );
    // The realm is asked of the same service about the same tenant: one root cause, not two.
    let realm = run.check_id("tenant.realm");
    assert_eq!(realm.status, Status::Skip, "{}", realm.finding);
    assert!(
        realm.finding.contains("needs tenant.openid"),
        "{}",
        realm.finding
    );
    assert_eq!(realm.target, MISSING);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    assert_eq!(
        run.report
            .verdict
            .root_cause
            .as_ref()
            .map(|r| r.check.as_str()),
        Some("tenant.openid"),
        "{}",
        run.summary()
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_federated_tenant_with_its_sts_reachable_is_ready() {
    let env = TestEnv::acquire();
    let run = run_tenant(&env, &profile(&env, FEDERATED, ""));
    let realm = run.check_id("tenant.realm");
    assert_eq!(realm.status, Status::Pass, "{}", run.summary());
    assert!(
        realm
            .finding
            .contains("fabrikam-jr.test is federated (WSTrust) through sts.fabrikam-jr.test"),
        "{}",
        realm.finding
    );
    let federation = run.check_id("tenant.federation");
    assert_eq!(federation.status, Status::Pass, "{}", federation.finding);
    assert!(
        federation.finding.contains(
            "the federation server sts.fabrikam-jr.test of fabrikam-jr.test answers: metadata and 4 WS-Trust endpoints (2005/windowstransport, 13/windowstransport, 2005/usernamemixed, 13/usernamemixed) reachable"
        ),
        "{}",
        federation.finding
    );
    let asked = federation.evidence_json()["ws_trust"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        asked.iter().all(|w| w["asked"]["status"] == 400),
        "{asked:?}"
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_federated_tenant_whose_sts_is_unreachable_fails_naming_the_sts() {
    let env = TestEnv::acquire();
    let run = run_tenant(&env, &profile(&env, DOWN_STS, ""));
    assert_eq!(
        run.check_id("tenant.realm").status,
        Status::Pass,
        "{}",
        run.summary()
    );
    let federation = run.check_id("tenant.federation");
    assert_eq!(federation.status, Status::Fail, "{}", run.summary());
    assert!(
        federation.finding.starts_with(
            "the federation server sts.downsts-jr.test of downsts-jr.test cannot be reached"
        ) && federation.finding.contains("10.77.9.9"),
        "{}",
        federation.finding
    );
    assert!(run.elapsed.as_secs() < 10, "{:?}", run.elapsed);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
}

/// The registration SCP on DC2 (the branch client's DC) against OpenID discovery.
fn scp_run(env: &TestEnv) -> Run {
    let profile = profile(
        env,
        MANAGED,
        "site = \"Branch\"\n[ldap]\nbind_user = \"svc-join@corp.jr.test\"\ntls = \"none\"",
    );
    env.run(
        BRANCH_CLIENT,
        &[
            "--profile",
            &profile,
            "--timeout",
            "2s",
            "--only",
            "tenant.scp",
        ],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    )
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_tenant_id_is_compared_with_the_registration_scp() {
    let env = TestEnv::acquire();
    env.fault(&["scp-add", MANAGED, MANAGED_ID]);
    let run = scp_run(&env);
    let scp = run.check_id("tenant.scp");
    assert_eq!(scp.status, Status::Pass, "{}", run.summary());
    assert_eq!(
        scp.finding,
        format!("the registration SCP's azureADId {MANAGED_ID} is tenant {MANAGED}'s ID")
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());

    // The SCP names the right domain but another tenant's ID.
    env.fault(&["scp-add", MANAGED, OTHER_ID]);
    let run = scp_run(&env);
    assert_eq!(
        run.check_id("ldap.registration_scp").status,
        Status::Pass,
        "{}",
        run.summary()
    );
    let scp = run.check_id("tenant.scp");
    assert_eq!(scp.status, Status::Fail, "{}", run.summary());
    assert!(
        scp.finding.starts_with(&format!(
            "tenant {MANAGED} has ID {MANAGED_ID} (OpenID discovery), but the registration SCP says azureADId:{OTHER_ID}"
        )),
        "{}",
        scp.finding
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    env.fault(&["scp-del"]);
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_tenant_named_by_its_id_is_found_and_the_realm_asks_for_a_domain() {
    let env = TestEnv::acquire();
    let run = run_tenant(&env, &profile(&env, &MANAGED_ID.to_uppercase(), ""));
    let openid = run.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Pass, "{}", run.summary());
    // The profile's ID is lowercased when it loads, as Entra ID writes it.
    assert_eq!(openid.target, MANAGED_ID);
    let realm = run.check_id("tenant.realm");
    assert_eq!(realm.status, Status::Skip, "{}", realm.finding);
    assert!(
        realm
            .finding
            .contains("set `tenant` to the domain users sign in with"),
        "{}",
        realm.finding
    );
}
