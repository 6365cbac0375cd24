//! End-to-end: the entra scenario (Microsoft Entra join) and the trust of the profile's own
//! endpoints, against the stand-ins of fixtures/testenv/lib/cloud.sh: every host of the
//! endpoint catalog resolves, inside the test namespaces only, to jr-cloud (10.77.0.40) with a
//! test-CA certificate, and time.windows.com to DC1's SNTP responder. The profiles name the
//! test CA as the lab's public roots (`[endpoints] public_roots`), the documented way to
//! simulate the internet. No test ever reaches Microsoft: the router drops anything leaving
//! 10.77.0.0/16 and `entra_ready` asserts that nothing tried. `#[ignore]`d; run through
//! `fixtures/test-all.sh` (`cargo test -- --include-ignored` with the environment up).

mod support;

use joinready::model::{Area, Scenario};
use std::process::Command;
use support::*;

const CLOUD_IP: &str = "10.77.0.40";
const AUTH_PROXY: &str = "10.77.0.30:3129";
const MITM_PROXY: &str = "10.77.0.30:3130";
const NCSI: &str = "www.msftconnecttest.com";
const EP: &str = "ep.corp.jr.test";
const EP_DIRECT: &str = "ep.corp.jr.test:8443";

fn test_ca() -> String {
    state_dir().join("ca.pem").display().to_string()
}

/// An entra profile whose "public roots" are the lab's (the test CA), with `more` TOML (a
/// [proxy] table, `[endpoints]` keys) after `public_roots`.
fn entra_profile(env: &TestEnv, more: &str) -> String {
    env.write_profile(&format!(
        "scenario = \"entra\"\n[endpoints]\npublic_roots = \"{}\"\n{more}\n",
        test_ca()
    ))
}

/// Packets the router dropped because they were addressed outside 10.77.0.0/16.
fn dropped_outside() -> u64 {
    let output = Command::new("ip")
        .args([
            "netns",
            "exec",
            "jr-router",
            "nft",
            "list",
            "counter",
            "inet",
            "jr_router",
            "dropped",
        ])
        .output()
        .expect("nft");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count in: {text}"))
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn entra_ready() {
    let env = TestEnv::acquire();
    let profile = entra_profile(&env, "");
    let before = dropped_outside();
    let run = env.run(CLIENT, &["--profile", &profile, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    assert_eq!(run.report.scenario, Scenario::Entra);
    assert_eq!(run.report.verdict.join_type, "Microsoft Entra join");
    assert_eq!(run.report.verdict.status, VerdictStatus::Ready);
    // No AD at all: every DNS, DC, LDAP, VPN and DC-clock check is listed, none ran.
    for row in &run.report.checks {
        if matches!(
            row.area,
            Area::Dns | Area::Dc | Area::Ldap | Area::Vpn | Area::Time
        ) {
            assert_eq!(row.status, Status::Skip, "{}: {}", row.id, row.finding);
            assert_eq!(row.target, "(not needed)");
            assert!(
                row.finding
                    .starts_with("not needed for Microsoft Entra join: "),
                "{}",
                row.finding
            );
            assert!(row.evidence.is_none(), "{} ran", row.id);
        }
    }
    assert!(run
        .check_id("dc.srv")
        .finding
        .ends_with("the device joins no Active Directory domain"));
    assert!(run
        .check_id("vpn.ike")
        .finding
        .ends_with("no VPN comes before the user signs in"));
    // The default sets: Autopilot, Entra ID, Intune and activation, each answered by its
    // stand-in, directly (no WPAD in this network).
    let endpoints: Vec<&CheckResult> = run
        .report
        .checks
        .iter()
        .filter(|c| c.id == "endpoints.reach")
        .collect();
    assert!(endpoints.len() >= 30, "{}", run.summary());
    for host in [
        "ztd.dds.microsoft.com",
        "login.microsoftonline.com",
        "enterpriseregistration.windows.net",
        "device.login.microsoftonline.com",
        "graph.microsoft.com",
        "enterpriseenrollment.manage.microsoft.com",
        "activation-v2.sls.microsoft.com",
        "displaycatalog.mp.microsoft.com",
        "crl.microsoft.com",
        "sls.update.microsoft.com",
    ] {
        let row = run.check("endpoints.reach", host);
        assert_eq!(row.status, Status::Pass, "{host}: {}", row.finding);
        let port = if host == "crl.microsoft.com" { 80 } else { 443 };
        assert_eq!(
            row.evidence_json()["address"],
            format!("{CLOUD_IP}:{port}"),
            "{host}"
        );
    }
    let ncsi = run.check("endpoints.reach", NCSI);
    assert_eq!(ncsi.status, Status::Pass, "{}", ncsi.finding);
    assert_eq!(ncsi.evidence_json()["body"], "Microsoft Connect Test");
    let ntp = run.check("endpoints.reach", "time.windows.com");
    assert_eq!(ntp.status, Status::Pass, "{}", ntp.finding);
    assert!(ntp.finding.starts_with(&format!(
        "direct (NTP): time.windows.com ({DC1_IP}) answers"
    )));
    let device_auth = run.check("endpoints.reach", "device.login.microsoftonline.com");
    assert_eq!(
        device_auth.evidence_json()["inspection"]["public_root"],
        true
    );
    // The chain's CRL and OCSP URLs were reached along the same (direct) route.
    let revocation = &device_auth.evidence_json()["revocation"];
    assert_eq!(revocation[0]["kind"], "crl", "{revocation}");
    assert_eq!(
        revocation[0]["url"],
        "http://pki.standin.test/crl/joinready-test-ca.crl"
    );
    assert_eq!(revocation[0]["status"], 200);
    assert_eq!(revocation[1]["kind"], "ocsp");
    assert_eq!(revocation[1]["status"], 200);
    assert_eq!(
        dropped_outside(),
        before,
        "something tried to leave the test network"
    );

    // The console names the join type and has no AD domain to name.
    let output = env.run_raw(
        CLIENT,
        &[
            "run",
            "--profile",
            &profile,
            "--timeout",
            "2s",
            "--format",
            "table",
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("READY (entra: Microsoft Entra join, complete,"),
        "{stdout}"
    );
    // The wide table (one row per target) says it on a line of its own.
    let output = env.run_raw(
        CLIENT,
        &[
            "run",
            "--profile",
            &profile,
            "--timeout",
            "2s",
            "--format",
            "wide",
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("  checked: Microsoft Entra join (entra scenario)"),
        "{stdout}"
    );
}

/// A cloud-joined device with its tenant named: the tenant checks (lib/tenant.sh's stand-ins)
/// run in the entra scenario, and the SCP comparison, which reads Active Directory, is not
/// needed.
#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn entra_checks_the_tenant() {
    let env = TestEnv::acquire();
    let profile = entra_profile(&env, "");
    let profile_text = std::fs::read_to_string(&profile).expect("profile");
    let with_tenant = env.write_profile(&format!(
        "tenant = \"jrmanaged.onmicrosoft.com\"\n{profile_text}"
    ));
    let run = env.run(CLIENT, &["--profile", &with_tenant, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    assert_eq!(run.report.scenario, Scenario::Entra);
    for id in ["tenant.openid", "tenant.registration", "tenant.realm"] {
        let row = run.check_id(id);
        assert_eq!(row.status, Status::Pass, "{id}: {}", row.finding);
    }
    assert!(
        run.check_id("tenant.realm")
            .finding
            .contains("is a managed domain"),
        "{}",
        run.check_id("tenant.realm").finding
    );
    let scp = run.check_id("tenant.scp");
    assert_eq!(scp.status, Status::Skip);
    assert!(
        scp.finding
            .starts_with("not needed for Microsoft Entra join"),
        "{}",
        scp.finding
    );

    // A misspelled tenant is the root cause of a not-ready verdict, named as written.
    let misspelled = env.write_profile(&format!(
        "tenant = \"jrmanagd.onmicrosoft.com\"\n{profile_text}"
    ));
    let run = env.run(CLIENT, &["--profile", &misspelled, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let openid = run.check_id("tenant.openid");
    assert_eq!(openid.status, Status::Fail, "{}", openid.finding);
    assert!(
        openid.finding.contains("jrmanagd.onmicrosoft.com"),
        "{}",
        openid.finding
    );
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
fn entra_behind_a_proxy_that_demands_authentication_is_not_ready() {
    let env = TestEnv::acquire();
    // Two sets keep the run under tinyproxy's 32 connections.
    let profile = entra_profile(
        &env,
        &format!("sets = [\"entra-id\", \"activation\"]\n[proxy]\nurl = \"http://{AUTH_PROXY}\""),
    );
    let run = env.run(CLIENT, &["--profile", &profile, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let activation = run.check("endpoints.reach", "activation-v2.sls.microsoft.com");
    assert_eq!(activation.status, Status::Fail);
    assert_eq!(activation.evidence_json()["broken_link"], "proxy_auth");
    assert!(
        activation
            .finding
            .contains("activation-v2.sls.microsoft.com answers 407 (Basic): device registration runs as SYSTEM and cannot authenticate"),
        "{}",
        activation.finding
    );
    // Credentials a user could type do not help: OOBE runs as SYSTEM.
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--timeout", "2s"],
        &[
            ("JOINREADY_PROXY_USER", "jr"),
            ("JOINREADY_PROXY_PASSWORD", "proxy-pass"),
        ],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let login = run.check("endpoints.reach", "login.microsoftonline.com");
    assert_eq!(login.status, Status::Fail, "{}", login.finding);
    assert_eq!(login.evidence_json()["authenticated"], true);
    assert!(
        login
            .finding
            .ends_with("only with Basic proxy credentials: device registration runs as SYSTEM and cannot authenticate; exempt login.microsoftonline.com from proxy authentication: OOBE runs as SYSTEM and cannot answer the proxy's 407 (entra scenario)"),
        "{}",
        login.finding
    );
    assert!(run.report.verdict.summary.starts_with("endpoints.reach: "));
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_captive_portal_fails_the_connectivity_test_by_name() {
    let env = TestEnv::acquire();
    env.fault(&["captive-portal-on"]);
    let profile = entra_profile(&env, "sets = [\"autopilot\"]");
    let run = env.run(CLIENT, &["--profile", &profile, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let ncsi = run.check("endpoints.reach", NCSI);
    assert_eq!(ncsi.status, Status::Fail);
    assert_eq!(ncsi.evidence_json()["broken_link"], "content");
    assert!(
        ncsi.finding.starts_with(&format!(
            "direct (no proxy: WPAD found no PAC file): {NCSI} answers HTTP/1.1 200 OK with \"<html><head><title>Guest Wi-Fi</title>"
        )),
        "{}",
        ncsi.finding
    );
    assert!(
        ncsi.finding
            .contains("not \"Microsoft Connect Test\": a captive portal"),
        "{}",
        ncsi.finding
    );
    let root = run.report.verdict.root_cause.as_ref().expect("root cause");
    assert_eq!(root.target, NCSI, "{}", run.summary());
    // Everything else still answers: the portal is the one thing wrong.
    let failed: Vec<&str> = run
        .report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.target.as_str())
        .collect();
    assert_eq!(failed, [NCSI], "{}", run.summary());
}

/// A hybrid profile with only the profile's own endpoint (no built-in set), its CA in
/// `[endpoints] ca_file`, and no lab public roots: the real webpki roots stay "public".
fn own_endpoint_profile(env: &TestEnv, url: &str, proxy: &str) -> String {
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\n{proxy}\n[endpoints]\nca_file = \"{}\"\n[[endpoints.extra]]\nurl = \"{url}\"\ntls_inspection = \"forbidden\"\n",
        test_ca()
    ))
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_profiles_own_endpoint_signed_by_its_ca_is_not_inspection() {
    let env = TestEnv::acquire();
    let profile = own_endpoint_profile(&env, &format!("https://{EP_DIRECT}/"), "");
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--only",
            "endpoints",
            "--timeout",
            "2s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let row = run.check("endpoints.reach", EP_DIRECT);
    assert_eq!(row.status, Status::Pass, "{}", row.finding);
    let inspection = &row.evidence_json()["inspection"];
    assert_eq!(inspection["public_root"], false);
    assert_eq!(inspection["profile_root"], true);
    assert_eq!(inspection["public_roots"], "webpki-roots");
    assert!(
        row.finding.contains("CN=joinready test CA, a root of the profile's [endpoints] ca_file (trusted for its own endpoints)"),
        "{}",
        row.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_same_endpoint_re_signed_by_an_inspecting_proxy_fails() {
    let env = TestEnv::acquire();
    let proxy = format!("[proxy]\nurl = \"http://{MITM_PROXY}\"");
    let profile = own_endpoint_profile(&env, &format!("https://{EP}/"), &proxy);
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--only",
            "endpoints",
            "--timeout",
            "2s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let row = run.check("endpoints.reach", EP);
    assert_eq!(row.status, Status::Fail);
    assert_eq!(row.evidence_json()["broken_link"], "tls");
    assert!(
        row.finding.contains("CN=joinready inspecting proxy CA, which is neither a public root nor trusted here: TLS inspection re-signing the site"),
        "{}",
        row.finding
    );
    assert!(
        row.finding
            .ends_with("ep.corp.jr.test forbids TLS inspection"),
        "{}",
        row.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn an_unreachable_crl_is_a_warning_that_names_it() {
    let env = TestEnv::acquire();
    // The PKI host (10.77.0.41) answers only the proxies now; the endpoints stay direct.
    env.fault(&["standin-route", "pki.standin.test", "proxy-only"]);
    let profile = entra_profile(&env, "sets = [\"entra-id\"]");
    let run = env.run(CLIENT, &["--profile", &profile, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::Warnings);
    let login = run.check("endpoints.reach", "login.microsoftonline.com");
    assert_eq!(login.status, Status::Warn, "{}", login.finding);
    assert!(
        login.finding.contains("; but its certificate's revocation list cannot be checked along the same route: CRL http://pki.standin.test/crl/joinready-test-ca.crl: TCP 80 on pki.standin.test (10.77.0.41) refused"),
        "{}",
        login.finding
    );
    assert!(
        login
            .remedy
            .starts_with("Allow plain HTTP to the revocation hosts"),
        "{}",
        login.remedy
    );
    assert_eq!(login.evidence_json()["revocation"][0]["broken_link"], "tcp");
    assert_eq!(
        login.evidence_json()["broken_link"],
        serde_json::Value::Null
    );
    // Through a proxy that may reach it, the same CRL answers: the route decides.
    let proxied = entra_profile(
        &env,
        "sets = [\"entra-id\"]\n[proxy]\nurl = \"http://10.77.0.30:3128\"",
    );
    let run = env.run(CLIENT, &["--profile", &proxied, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let login = run.check("endpoints.reach", "login.microsoftonline.com");
    assert_eq!(login.evidence_json()["revocation"][0]["status"], 200);
}
