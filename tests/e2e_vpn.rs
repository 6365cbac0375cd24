//! End-to-end: VPN gateway checks and the vpn scenario's verdict, against the strongSwan IKEv2
//! responder and the nginx TLS portal of jr-vpn (fixtures/testenv/lib/vpn.sh). The binary runs
//! inside the client namespace; `#[ignore]`d, run through `fixtures/test-all.sh`
//! (`cargo test -- --include-ignored` with the environment up).

mod support;

use serde_json::Value;
use std::time::Duration;
use support::*;

const VPN_IP: &str = "10.77.0.20";
const VPN_NAME: &str = "vpn.corp.jr.test";

fn test_ca() -> String {
    state_dir().join("ca.pem").display().to_string()
}

/// A profile with `gateways` ([[vpn]] tables as TOML) and the test CA trusted.
fn profile(env: &TestEnv, dns_server: &str, gateways: &str) -> String {
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{dns_server}\"]\n[ldap]\nca_file = \"{}\"\n{gateways}",
        test_ca()
    ))
}

fn gateway(host: &str, kind: &str) -> String {
    format!("[[vpn]]\nhost = \"{host}\"\nkind = \"{kind}\"\n")
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn strongswan_answers_ike_sa_init_on_500_and_4500() {
    let env = TestEnv::acquire();
    let profile = profile(&env, DC1_IP, &gateway(VPN_NAME, "ikev2"));
    let run = env.run(CLIENT, &["--profile", &profile, "--only", "vpn"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    for (id, port, nat_t) in [("vpn.ike", 500, false), ("vpn.ike_nat_t", 4500, true)] {
        let check = run.check(id, VPN_NAME);
        assert_eq!(check.status, Status::Pass, "{}", run.summary());
        assert!(
            check
                .finding
                .contains(&format!("IKEv2 responder on UDP {port}"))
                && check.finding.contains(&format!("{VPN_NAME} ({VPN_IP})"))
                && check.finding.contains("proposal accepted: AES_"),
            "{}",
            check.finding
        );
        let ike = &check.evidence_json()["ike"];
        assert_eq!(ike["address"], format!("{VPN_IP}:{port}"));
        assert_eq!(ike["nat_t"], nat_t);
        assert_eq!(ike["answer"]["kind"], "accepted");
        assert!(ike["answer"]["proposal"]
            .as_str()
            .unwrap()
            .ends_with("ECP_256"));
        assert!(ike["notifies"]
            .as_array()
            .unwrap()
            .contains(&Value::from("NAT_DETECTION_SOURCE_IP")));
        assert_eq!(ike["responder_spi"].as_str().unwrap().len(), 16);
        // The gateway's name came from the profile's DNS server, and the evidence says so.
        assert_eq!(
            check.evidence_json()["resolved"]["server"],
            format!("{DC1_IP}:53")
        );
    }
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn stopped_gateway_is_refused_and_not_ready_in_the_vpn_scenario() {
    let env = TestEnv::acquire();
    env.fault(&["vpn-stop"]);
    let profile = profile(&env, DC1_IP, &gateway(VPN_NAME, "ikev2"));
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--scenario",
            "vpn",
            "--timeout",
            "2s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::NotReady);
    let root = run.report.verdict.root_cause.clone().expect("a root cause");
    assert_eq!(root.check, "vpn.ike");
    assert_eq!(root.target, VPN_NAME);
    assert!(
        root.finding
            .contains("UDP 500 on vpn.corp.jr.test (10.77.0.20) refused")
            && root.finding.contains("no IKE service listens"),
        "{}",
        root.finding
    );
    assert!(run.report.verdict.summary.starts_with("vpn.ike: "));
    let check = run.check("vpn.ike", VPN_NAME);
    assert_eq!(check.evidence_json()["reach"], "refused");
    // Refused comes back at once; it is not a timeout.
    assert!(check.duration_ms < 1000, "{}", check.duration_ms);
    assert_eq!(
        run.check("vpn.ike_nat_t", VPN_NAME).evidence_json()["reach"],
        "refused"
    );

    // The same gateway in the on-prem scenario: only a warning, and it says why.
    let run = env.run(CLIENT, &["--profile", &profile, "--only", "vpn"], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    let check = run.check("vpn.ike", VPN_NAME);
    assert_eq!(check.status, Status::Warn);
    assert!(
        check
            .finding
            .ends_with("(not required in the on-prem scenario)"),
        "{}",
        check.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn dropped_udp_and_a_black_hole_are_silence_within_the_timeout() {
    let env = TestEnv::acquire();
    env.fault(&["vpn-drop"]);
    let gateways = format!(
        "{}{}",
        gateway(VPN_NAME, "ikev2"),
        gateway(BLACKHOLE_IP, "ikev2")
    );
    let profile = profile(&env, DC1_IP, &gateways);
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--scenario",
            "vpn",
            "--only",
            "vpn",
            "--timeout",
            "2s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    for (id, port) in [("vpn.ike", 500), ("vpn.ike_nat_t", 4500)] {
        for (target, named) in [
            (VPN_NAME, format!("{VPN_NAME} ({VPN_IP})")),
            (BLACKHOLE_IP, BLACKHOLE_IP.to_string()),
        ] {
            let check = run.check(id, target);
            assert_eq!(check.status, Status::Fail);
            assert!(
                check.finding.contains(&format!(
                    "on {named}: no answer to 3 IKE_SA_INIT requests within 2s"
                )) && check.finding.contains(&format!(
                    "a firewall drops UDP {port} or the gateway is down"
                )),
                "{}",
                check.finding
            );
            assert_eq!(check.evidence_json()["reach"], "silent");
        }
    }
    assert!(
        run.elapsed < Duration::from_millis(2000 + 1500),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn tls_portal_shows_its_certificate_and_status() {
    let env = TestEnv::acquire();
    let profile = profile(&env, DC1_IP, &gateway(VPN_NAME, "tls"));
    let run = env.run(CLIENT, &["--profile", &profile, "--only", "vpn"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let check = run.check("vpn.tls", VPN_NAME);
    assert_eq!(check.status, Status::Pass);
    assert!(
        check
            .finding
            .starts_with("portal https://vpn.corp.jr.test/ (10.77.0.20) answered HTTP 200")
            && check
                .finding
                .contains("from O=joinready test, CN=joinready test CA"),
        "{}",
        check.finding
    );
    let portal = &check.evidence_json()["portal"];
    assert_eq!(portal["status"], 200);
    assert_eq!(portal["tls"]["verified"], true);
    let leaf = &portal["tls"]["chain"][0];
    assert!(leaf["subject_alt_names"]
        .as_array()
        .unwrap()
        .contains(&Value::from("DNS:vpn.corp.jr.test")));
    assert!(leaf["days_left"].as_i64().unwrap() > 0);
    assert!(leaf["issuer"]
        .as_str()
        .unwrap()
        .contains("joinready test CA"));

    // Without the test CA the issuer is untrusted, and the finding says so.
    let untrusted = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\n{}",
        gateway(VPN_NAME, "tls")
    ));
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &untrusted,
            "--scenario",
            "vpn",
            "--only",
            "vpn",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let check = run.check("vpn.tls", VPN_NAME);
    assert!(
        check.finding.contains("which this device does not trust"),
        "{}",
        check.finding
    );
    assert_eq!(check.evidence_json()["tls"]["problem"], "untrusted_issuer");
    assert_eq!(check.evidence_json()["phase"], "tls");

    // The portal stopped: TCP 443 refused.
    env.fault(&["portal-stop"]);
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--scenario", "vpn", "--only", "vpn"],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let check = run.check("vpn.tls", VPN_NAME);
    assert_eq!(
        check.finding,
        "portal on vpn.corp.jr.test (10.77.0.20): TCP 443 refused"
    );
    assert_eq!(check.evidence_json()["phase"], "connect");
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn tcp_gateway_port_is_checked_and_required() {
    let env = TestEnv::acquire();
    let gateways = format!("{}port = 443\n", gateway(VPN_NAME, "tcp"));
    let with_port = profile(&env, DC1_IP, &gateways);
    let run = env.run(CLIENT, &["--profile", &with_port, "--only", "vpn"], &[]);
    let open = run.check("vpn.tcp", VPN_NAME);
    assert_eq!(open.status, Status::Pass, "{}", run.summary());
    assert!(
        open.finding
            .starts_with("TCP 443 open on vpn.corp.jr.test (10.77.0.20)"),
        "{}",
        open.finding
    );
    // A tcp gateway without a port is bad input: the profile is refused with its line.
    let no_port = profile(&env, DC1_IP, &gateway(VPN_IP, "tcp"));
    let output = env.run_raw(
        CLIENT,
        &["run", "--profile", &no_port, "--only", "vpn"],
        &[],
    );
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{no_port}:"))
            && stderr.contains("of kind \"tcp\" needs a port, e.g. `port = 443`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn vpn_scenario_with_dcs_unreachable_and_the_gateway_fine_is_ready() {
    let env = TestEnv::acquire();
    // At home: the corporate DNS servers are a black hole, the gateway is reached by address.
    let gateways = format!("{}{}", gateway(VPN_IP, "ikev2"), gateway(VPN_IP, "tls"));
    let profile = profile(&env, BLACKHOLE_IP, &gateways);
    let args = [
        "--profile",
        profile.as_str(),
        "--scenario",
        "vpn",
        "--timeout",
        "1s",
    ];
    let run = env.run(CLIENT, &args, &[]);
    assert!(
        run.exit_code == 0 || run.exit_code == 1,
        "{}",
        run.summary()
    );
    assert_ne!(run.report.verdict.status, VerdictStatus::NotReady);
    let srv = run.check_id("dc.srv");
    assert_eq!(srv.status, Status::Skip);
    assert!(
        srv.finding.starts_with("expected before the VPN is up"),
        "{}",
        srv.finding
    );
    for id in ["vpn.ike", "vpn.ike_nat_t", "vpn.tls"] {
        assert_eq!(run.check(id, VPN_IP).status, Status::Pass, "{id}");
    }
    assert!(run
        .report
        .verdict
        .notes
        .iter()
        .any(|n| n.contains("start the VPN at the Windows sign-in screen")));

    // The table says the same: the verdict first, then the sign-in note.
    let mut table_args = vec!["run"];
    table_args.extend_from_slice(&args);
    let output = env.run_raw(CLIENT, &table_args, &[("NO_COLOR", "1")]);
    assert!(matches!(output.status.code(), Some(0 | 1)));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("READY")
            && stdout.contains("(vpn: Microsoft Entra hybrid join, complete,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("note: vpn scenario: the user must start the VPN"),
        "{stdout}"
    );

    // The same network in the on-prem scenario is not ready: the DCs are what is missing.
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--scenario",
            "on-prem",
            "--timeout",
            "1s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    assert_eq!(run.report.verdict.root_cause.unwrap().check, "dc.srv");
}
