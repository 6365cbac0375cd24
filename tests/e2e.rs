//! End-to-end: the release binary, run inside the client namespace of the test environment
//! (fixtures/testenv), against real Samba AD DCs. Each test sets faults, runs, and asserts on
//! the JSON report and the exit code. Every test is `#[ignore]`d (a plain `cargo test` lists
//! them as ignored); `fixtures/test-all.sh` builds the environment and runs them with
//! `cargo test -- --include-ignored`.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::*;

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn healthy_domain_is_ready() {
    let env = TestEnv::acquire();
    let run = env.run(CLIENT, &["--dns-server", DC1_IP], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::Ready);
    assert!(run.report.verdict.root_cause.is_none());
    let srv = run.check("dc.srv", "_ldap._tcp.dc._msdcs.corp.jr.test");
    assert_eq!(srv.status, Status::Pass);
    assert!(
        srv.finding.contains("dc1.corp.jr.test (10.77.0.11)")
            && srv.finding.contains("dc2.corp.jr.test (10.77.0.12)"),
        "{}",
        srv.finding
    );
    assert_eq!(srv.evidence_json()["servers"][0]["result"], "records");
    for dc in ["dc1.corp.jr.test", "dc2.corp.jr.test"] {
        assert_eq!(run.check("dc.ping", dc).status, Status::Pass);
        let rootdse = run.check("ldap.rootdse", dc);
        assert_eq!(rootdse.status, Status::Pass);
        assert_eq!(
            rootdse.evidence_json()["attributes"]["defaultNamingContext"][0],
            "DC=corp,DC=jr,DC=test"
        );
        assert_eq!(rootdse.evidence_json()["attributes"]["dnsHostName"][0], dc);
        assert_eq!(run.check("ldap.bind", dc).status, Status::Pass);
    }
    assert!(run.check_id("dc.locator").evidence_json()["chosen"]
        .as_str()
        .unwrap()
        .ends_with(".corp.jr.test"));
    for id in ["dc.kerberos_srv", "dc.kpasswd_srv", "dc.gc_srv"] {
        assert_eq!(run.check_id(id).status, Status::Pass, "{id}");
    }
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn domain_comes_from_the_search_suffix_and_the_system_resolver() {
    let env = TestEnv::acquire();
    let run = env.run_plain(CLIENT, &["run", "--format", "json", "--only", "dns"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    assert_eq!(run.report.domain, "corp.jr.test");
    assert_eq!(run.report.profile.domain_source, "search_suffix");
    assert_eq!(
        run.report.host.dns_servers,
        vec!["10.77.0.11:53".to_string()]
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn unknown_domain_names_nxdomain_and_the_server() {
    let env = TestEnv::acquire();
    let run = env.run(
        CLIENT,
        &["--dns-server", DC1_IP, "--domain", "nosuch.corp.jr.test"],
        &[],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::NotReady);
    let root = run.report.verdict.root_cause.clone().expect("a root cause");
    assert_eq!(root.check, "dc.srv");
    assert!(
        root.finding.contains("no domain controller found: SRV _ldap._tcp.dc._msdcs.nosuch.corp.jr.test → NXDOMAIN from 10.77.0.11"),
        "{}",
        root.finding
    );
    assert!(run
        .report
        .verdict
        .summary
        .starts_with("dc.srv: no domain controller found"));
    assert_eq!(run.check_id("ldap.rootdse").status, Status::Skip);
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_dead_dns_server_among_good_ones_is_named() {
    let env = TestEnv::acquire();
    let run = env.run(
        CLIENT,
        &[
            "--dns-server",
            DC1_IP,
            "--dns-server",
            BLACKHOLE_IP,
            "--timeout",
            "1s",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    let srv = run.check_id("dc.srv");
    assert_eq!(srv.status, Status::Warn);
    assert!(
        srv.finding.contains("no answer within") && srv.finding.contains(BLACKHOLE_IP),
        "{}",
        srv.finding
    );
    let evidence = srv.evidence_json();
    let reached: Vec<(&str, &str)> = evidence["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["result"].as_str().unwrap(), s["reach"].as_str().unwrap()))
        .collect();
    assert_eq!(reached, vec![("records", "open"), ("none", "silent")]);
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn stale_srv_record_is_named_and_other_dcs_still_used() {
    let env = TestEnv::acquire();
    env.fault(&["srv-add", "dead", BLACKHOLE_IP]);
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::Warnings);
    let dead = "dead.corp.jr.test";
    assert!(run
        .check_id("dc.srv")
        .finding
        .contains(&format!("{dead} ({BLACKHOLE_IP})")));
    // The dead DC is in no site of this device and does not answer: one census line, not a
    // row per check.
    let census = run.check_id("dc.census");
    assert_eq!(census.status, Status::Warn, "{}", census.finding);
    assert!(
        census.finding.starts_with(&format!(
            "1 of 3 DCs do not answer the LDAP ping from this network: {dead}"
        )),
        "{}",
        census.finding
    );
    assert!(
        run.report.checks.iter().all(|c| c.target != dead),
        "{}",
        run.summary()
    );
    for dc in ["dc1.corp.jr.test", "dc2.corp.jr.test"] {
        assert_eq!(run.check("ldap.rootdse", dc).status, Status::Pass);
    }
    assert!(
        run.report.verdict.summary.contains(dead),
        "{}",
        run.report.verdict.summary
    );
    assert!(
        run.elapsed < Duration::from_millis(2000 + 1500),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_dead_dc_the_profile_names_gets_every_check() {
    let env = TestEnv::acquire();
    env.fault(&["srv-add", "dead", BLACKHOLE_IP]);
    let profile = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\ntimeout = \"2s\"\n[dc]\nalways_check = [\"dead.corp.jr.test\"]\n"
    ));
    let run = env.run(CLIENT, &["--profile", &profile], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    let dead = "dead.corp.jr.test";
    let rootdse = run.check("ldap.rootdse", dead);
    assert_eq!(rootdse.status, Status::Fail);
    assert!(
        rootdse.finding.contains("TCP 389 no answer within"),
        "{}",
        rootdse.finding
    );
    assert_eq!(run.check("dc.ping", dead).status, Status::Fail);
    assert_eq!(run.check("ldap.bind", dead).status, Status::Skip);
    let locator = run.check_id("dc.locator");
    assert!(
        locator.evidence_json()["checked"]
            .as_array()
            .unwrap()
            .contains(&Value::from(dead)),
        "{}",
        locator.evidence_json()
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn one_dc_stopped_is_a_warning_with_the_dc_named() {
    let env = TestEnv::acquire();
    env.fault(&["dc-stop", "2"]);
    let run = env.run(CLIENT, &["--dns-server", DC1_IP], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    // DC2 is in the other site and silent: the device does not use it, the census says so.
    let census = run.check_id("dc.census");
    assert_eq!(census.status, Status::Warn);
    assert!(
        census.finding.starts_with(
            "1 of 2 DCs do not answer the LDAP ping from this network: dc2.corp.jr.test"
        ) && census
            .finding
            .contains("the one that answers is in site Default-First-Site-Name"),
        "{}",
        census.finding
    );
    assert_eq!(
        run.check("ldap.rootdse", "dc1.corp.jr.test").status,
        Status::Pass
    );
    assert!(run.report.verdict.summary.contains("dc2.corp.jr.test"));

    // From the branch, DC2 is the device's own site's DC: it gets every check, and they say
    // what is wrong with it.
    let run = env.run(BRANCH_CLIENT, &["--dns-server", DC1_IP], &[]);
    let rootdse = run.check("ldap.rootdse", "dc2.corp.jr.test");
    assert_eq!(rootdse.status, Status::Fail, "{}", run.summary());
    assert!(
        rootdse.finding.contains("TCP 389 refused"),
        "{}",
        rootdse.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn every_dc_unreachable_is_not_ready() {
    let env = TestEnv::acquire();
    env.fault(&["filter", "1", "tcp", "389"]);
    env.fault(&["filter", "2", "tcp", "389"]);
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--timeout", "1s"], &[]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let root = run.report.verdict.root_cause.clone().unwrap();
    assert_eq!(root.check, "ldap.rootdse");
    assert!(
        root.finding.contains("TCP 389 no answer within 1s"),
        "{}",
        root.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn ldap_port_filtered_on_one_dc_finishes_within_the_timeout() {
    let env = TestEnv::acquire();
    env.fault(&["filter", "2", "tcp", "389"]);
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--timeout", "2s"], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    let rootdse = run.check("ldap.rootdse", "dc2.corp.jr.test");
    assert_eq!(rootdse.status, Status::Fail);
    assert!(
        rootdse.finding.contains("TCP 389 no answer within 2s"),
        "{}",
        rootdse.finding
    );
    // ICMP still answers: the DC is up, the port is filtered.
    assert_eq!(
        run.check("dc.ping", "dc2.corp.jr.test").status,
        Status::Pass
    );
    assert!(
        run.elapsed < Duration::from_millis(2000 + 1500),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn icmp_dropped_while_ldap_answers_is_a_warning() {
    let env = TestEnv::acquire();
    env.fault(&["drop-icmp", "1"]);
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--timeout", "1s"], &[]);
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    let ping = run.check("dc.ping", "dc1.corp.jr.test");
    assert_eq!(ping.status, Status::Warn);
    assert!(
        ping.finding.contains("no reply to 3 ICMP echo requests")
            && ping.finding.contains("ldap.rootdse answers"),
        "{}",
        ping.finding
    );
    assert_eq!(ping.evidence_json()["received"], 0);
    assert_eq!(run.report.verdict.status, VerdictStatus::Warnings);
}

/// A DC record for the tarpit (TCP accepted, never answered; no LDAP ping answer), and a
/// profile that has it checked deeply although the device would never settle on it.
fn add_the_tarpit_as_a_dc(env: &TestEnv) -> String {
    env.fault(&["srv-add", "tarpit", TARPIT_IP]);
    env.write_profile("domain = \"corp.jr.test\"\n[dc]\nalways_check = [\"tarpit.corp.jr.test\"]\n")
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn tarpit_dc_ends_within_its_timeout() {
    let env = TestEnv::acquire();
    let profile = add_the_tarpit_as_a_dc(&env);
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--dns-server",
            DC1_IP,
            "--timeout",
            "2s",
        ],
        &[],
    );
    let rootdse = run.check("ldap.rootdse", "tarpit.corp.jr.test");
    assert_eq!(rootdse.status, Status::Fail);
    assert!(
        rootdse
            .finding
            .contains("accepted the connection but no LDAP answer came within"),
        "{}",
        rootdse.finding
    );
    assert!(
        run.elapsed < Duration::from_millis(2000 + 1500),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.exit_code, 1, "{}", run.summary());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_deadline_holds_and_the_report_says_incomplete() {
    let env = TestEnv::acquire();
    let profile = add_the_tarpit_as_a_dc(&env);
    let run = env.run(
        CLIENT,
        &[
            "--profile",
            &profile,
            "--dns-server",
            DC1_IP,
            "--timeout",
            "3s",
            "--deadline",
            "3s",
        ],
        &[],
    );
    assert!(
        run.elapsed < Duration::from_millis(3000 + 1000),
        "took {:?}",
        run.elapsed
    );
    assert!(!run.report.complete);
    assert_eq!(
        run.report.incomplete_reason.as_deref(),
        Some("the run's deadline of 3s was reached")
    );
    assert_eq!(run.exit_code, 3, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::Unknown);
    let unfinished = run.check("ldap.rootdse", "tarpit.corp.jr.test");
    assert_eq!(unfinished.status, Status::Error);
    assert!(unfinished
        .finding
        .starts_with("not finished: the run's deadline"));
}

fn bind_profile(env: &TestEnv, tls: &str, extra: &str) -> String {
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\n[ldap]\nbind_user = \"svc-join@corp.jr.test\"\ntls = \"{tls}\"\n{extra}"
    ))
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn bind_result_code_8_and_49_are_explained() {
    let env = TestEnv::acquire();
    let profile = bind_profile(&env, "none", "");
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--only", "ldap.bind"],
        &[("JOINREADY_BIND_PASSWORD", "wrong-password")],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    // DC1 keeps Samba's default and refuses simple binds on plain LDAP before checking the password.
    let dc1 = run.check("ldap.bind", "dc1.corp.jr.test");
    assert_eq!(dc1.status, Status::Fail);
    assert!(
        dc1.finding.contains("resultCode 8 (strongerAuthRequired)")
            && dc1.finding.contains("tls = \"starttls\""),
        "{}",
        dc1.finding
    );
    assert_eq!(dc1.evidence_json()["result_code"], 8);
    // DC2 allows it, so the wrong password is what it reports.
    let dc2 = run.check("ldap.bind", "dc2.corp.jr.test");
    assert!(
        dc2.finding.contains("resultCode 49 (invalidCredentials)"),
        "{}",
        dc2.finding
    );
    assert_eq!(dc2.evidence_json()["result_code"], 49);

    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--only", "ldap.bind"],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    assert_eq!(
        run.check("ldap.bind", "dc2.corp.jr.test").status,
        Status::Pass
    );
    assert_eq!(
        run.check("ldap.bind", "dc1.corp.jr.test").status,
        Status::Fail
    );
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    assert!(!run.stdout.contains(SVC_PASSWORD) && !run.stderr.contains(SVC_PASSWORD));
    assert_eq!(
        run.report.profile.ldap_password_source.as_deref(),
        Some("environment")
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn ldaps_certificates_are_shown_and_a_missing_san_is_named() {
    let env = TestEnv::acquire();
    // Trust both the test CA (DC2) and Samba's own CA (DC1), so only the SAN problem remains.
    let bundle = env.ca_bundle();
    let profile = bind_profile(&env, "ldaps", &format!("ca_file = \"{bundle}\"\n"));
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--only", "ldap.bind"],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    let dc2 = run.check("ldap.bind", "dc2.corp.jr.test");
    assert_eq!(dc2.status, Status::Pass, "{}", dc2.finding);
    let leaf = &dc2.evidence_json()["tls"]["chain"][0];
    assert!(leaf["subject_alt_names"]
        .as_array()
        .unwrap()
        .contains(&Value::from("DNS:dc2.corp.jr.test")));
    assert!(leaf["days_left"].as_i64().unwrap() > 0);
    let dc1 = run.check("ldap.bind", "dc1.corp.jr.test");
    assert_eq!(dc1.status, Status::Fail);
    assert!(
        dc1.finding.contains("has no subjectAltName"),
        "{}",
        dc1.finding
    );
    assert_eq!(dc1.evidence_json()["tls"]["problem"], "no_subject_alt_name");

    // Without the CA file, DC2's issuer is untrusted, and the finding says so.
    let profile = bind_profile(&env, "starttls", "");
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--only", "ldap.bind"],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    let dc2 = run.check("ldap.bind", "dc2.corp.jr.test");
    assert!(
        dc2.finding.contains("which this device does not trust"),
        "{}",
        dc2.finding
    );
    assert_eq!(dc2.evidence_json()["tls"]["problem"], "untrusted_issuer");
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn icmp_without_privilege_is_an_error_not_a_failure() {
    let env = TestEnv::acquire();
    // jr-client-branch keeps the kernel default ping_group_range "1 0": no unprivileged ICMP.
    let run = env.run_as_nobody(
        BRANCH_CLIENT,
        &[
            "--dns-server",
            DC1_IP,
            "--only",
            "dc.ping",
            "--only",
            "ldap.rootdse",
        ],
    );
    let ping = run.check("dc.ping", "dc1.corp.jr.test");
    assert_eq!(ping.status, Status::Error);
    assert!(
        ping.finding
            .starts_with("needs privilege: run as root/Administrator"),
        "{}",
        ping.finding
    );
    assert_eq!(run.exit_code, 1, "{}", run.summary());
    assert!(!run.report.host.running_as_root);

    // jr-client allows unprivileged ICMP: the datagram socket works without root.
    let run = env.run_as_nobody(CLIENT, &["--dns-server", DC1_IP, "--only", "dc.ping"]);
    let ping = run.check("dc.ping", "dc1.corp.jr.test");
    assert_eq!(ping.status, Status::Pass, "{}", ping.finding);
    assert_eq!(ping.evidence_json()["socket"], "datagram");
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn table_output_leads_with_the_verdict_and_lists_remedies() {
    let env = TestEnv::acquire();
    let output = env.run_raw(
        CLIENT,
        &[
            "run",
            "--dns-server",
            DC1_IP,
            "--domain",
            "nosuch.corp.jr.test",
        ],
        &[("NO_COLOR", "1")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(
            "NOT READY nosuch.corp.jr.test (on-prem: Microsoft Entra hybrid join, complete,"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("What to do:\n  dc.srv: Point the device's DNS"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn cldap_reports_sites_flags_and_the_branch_client_lands_in_its_site() {
    let env = TestEnv::acquire();
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--only", "dc.cldap"], &[]);
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let dc1 = run.check("dc.cldap", "dc1.corp.jr.test");
    assert_eq!(
        dc1.evidence_json()["reply"]["dc_site"],
        "Default-First-Site-Name"
    );
    assert_eq!(dc1.evidence_json()["reply"]["forest"], "corp.jr.test");
    assert_eq!(dc1.evidence_json()["reply"]["netbios_domain"], "CORP");
    let evidence = dc1.evidence_json();
    let flags: Vec<&str> = evidence["reply"]["flag_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for flag in ["PDC", "GC", "LDAP", "DS", "KDC", "WRITABLE"] {
        assert!(flags.contains(&flag), "{flag} missing from {flags:?}");
    }
    assert!(
        dc1.finding.contains("no site"),
        "the client subnet maps to no site: {}",
        dc1.finding
    );
    assert_eq!(
        run.check("dc.cldap", "dc2.corp.jr.test").evidence_json()["reply"]["dc_site"],
        "Branch"
    );

    // The branch subnet maps to site Branch: DC2 is in the client's site and says CLOSEST.
    let profile = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\nsite = \"Branch\"\n"
    ));
    let run = env.run(
        BRANCH_CLIENT,
        &[
            "--profile",
            &profile,
            "--only",
            "dc.cldap",
            "--only",
            "dc.site_srv",
        ],
        &[],
    );
    let dc2 = run.check("dc.cldap", "dc2.corp.jr.test");
    assert_eq!(dc2.evidence_json()["reply"]["client_site"], "Branch");
    assert!(
        dc2.evidence_json()["reply"]["flag_names"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CLOSEST")),
        "{}",
        dc2.evidence_json()
    );
    assert_eq!(dc2.status, Status::Pass, "{}", dc2.finding);
    let site_srv = run.check_id("dc.site_srv");
    assert_eq!(site_srv.status, Status::Pass, "{}", site_srv.finding);
    assert!(
        site_srv.finding.contains("dc2.corp.jr.test"),
        "{}",
        site_srv.finding
    );

    // From the main subnet the profile's expected site is not what the DCs say: a warning naming both.
    let run = env.run(CLIENT, &["--profile", &profile, "--only", "dc.cldap"], &[]);
    let dc1 = run.check("dc.cldap", "dc1.corp.jr.test");
    assert_eq!(dc1.status, Status::Warn);
    assert!(
        dc1.finding.contains("the profile expects site Branch"),
        "{}",
        dc1.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_filtered_port_is_named_with_its_consequence() {
    let env = TestEnv::acquire();
    env.fault(&["filter", "2", "tcp", "88"]);
    env.fault(&["reject", "2", "tcp", "135"]);
    let run = env.run(
        CLIENT,
        &["--dns-server", DC1_IP, "--only", "dc", "--timeout", "1s"],
        &[],
    );
    let kerberos = run.check("dc.port.kerberos_tcp", "dc2.corp.jr.test");
    assert_eq!(kerberos.status, Status::Fail);
    assert!(
        kerberos.finding.contains("TCP 88 no answer within 1s")
            && kerberos.finding.contains("0x40"),
        "{}",
        kerberos.finding
    );
    assert_eq!(kerberos.evidence_json()["reach"], "silent");
    let rpc = run.check("dc.port.rpc_tcp", "dc2.corp.jr.test");
    assert!(
        rpc.finding.contains("TCP 135 refused") && rpc.finding.contains("0x6D9"),
        "{}",
        rpc.finding
    );
    assert_eq!(rpc.evidence_json()["reach"], "refused");
    assert_eq!(
        run.check("dc.port.kerberos_tcp", "dc1.corp.jr.test").status,
        Status::Pass
    );
    // DC1 still serves every port: the device can join through it, so only a warning.
    assert_eq!(run.exit_code, 1, "{}", run.summary());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_kdc_answers_on_udp_88_and_silence_is_named() {
    let env = TestEnv::acquire();
    env.fault(&["filter", "1", "udp", "88"]);
    let run = env.run(
        CLIENT,
        &[
            "--dns-server",
            DC1_IP,
            "--only",
            "dc.port.kerberos_udp",
            "--timeout",
            "1s",
        ],
        &[],
    );
    let dc2 = run.check("dc.port.kerberos_udp", "dc2.corp.jr.test");
    assert_eq!(dc2.status, Status::Pass, "{}", dc2.finding);
    assert_eq!(
        dc2.evidence_json()["error_name"],
        "KDC_ERR_C_PRINCIPAL_UNKNOWN"
    );
    let dc1 = run.check("dc.port.kerberos_udp", "dc1.corp.jr.test");
    assert_eq!(dc1.status, Status::Fail);
    assert!(
        dc1.finding.contains("no answer on UDP 88 within 1s"),
        "{}",
        dc1.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn a_clock_15_minutes_ahead_fails_with_the_measured_offset() {
    let env = TestEnv::acquire();
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--only", "time"], &[]);
    let skew = run.check("time.dc_skew", "dc1.corp.jr.test");
    assert_eq!(skew.status, Status::Pass, "{}", skew.finding);
    assert!(skew.evidence_json()["offset_ms"].as_f64().unwrap().abs() < 2_000.0);

    let run = env.run_faketime(CLIENT, "+15m", &["--dns-server", DC1_IP, "--only", "time"]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let skew = run.check("time.dc_skew", "dc1.corp.jr.test");
    assert_eq!(skew.status, Status::Fail);
    let offset = skew.evidence_json()["offset_ms"].as_f64().unwrap();
    assert!(
        (-905_000.0..=-895_000.0).contains(&offset),
        "offset {offset}"
    );
    assert!(
        skew.finding.contains("ahead of the DC") && skew.finding.contains("5-minute tolerance"),
        "{}",
        skew.finding
    );
    assert_eq!(skew.evidence_json()["source"], "kdc");

    let run = env.run_faketime(CLIENT, "-3m", &["--dns-server", DC1_IP, "--only", "time"]);
    assert_eq!(
        run.check("time.dc_skew", "dc1.corp.jr.test").status,
        Status::Warn
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_vpn_scenario_with_no_dc_reachable_is_not_not_ready() {
    let env = TestEnv::acquire();
    env.fault(&["filter", "1", "udp", "53"]);
    env.fault(&["filter", "1", "tcp", "53"]);
    let run = env.run(
        CLIENT,
        &[
            "--dns-server",
            DC1_IP,
            "--scenario",
            "vpn",
            "--timeout",
            "1s",
        ],
        &[],
    );
    assert_ne!(run.exit_code, 2, "{}", run.summary());
    let srv = run.check_id("dc.srv");
    assert_eq!(srv.status, Status::Skip);
    assert!(
        srv.finding.starts_with("expected before the VPN is up"),
        "{}",
        srv.finding
    );
    assert!(run
        .report
        .verdict
        .notes
        .iter()
        .any(|n| n.contains("start the VPN")));
    // The same network in the on-prem scenario is not ready.
    let run = env.run(CLIENT, &["--dns-server", DC1_IP, "--timeout", "1s"], &[]);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
}

const NORIGHTS_PASSWORD: &str = "NoRights-Passw0rd.1";
const OU: &str = "OU=Autopilot,DC=corp,DC=jr,DC=test";
const TENANT: &str = "contoso.onmicrosoft.com";
const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// A profile for the branch client: its site's DC (DC2) is chosen, and DC2 allows simple binds.
fn directory_profile(env: &TestEnv, user: &str, ou: &str) -> String {
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\nsite = \"Branch\"\nou = \"{ou}\"\ntenant = \"{TENANT}\"\n[ldap]\nbind_user = \"{user}@corp.jr.test\"\ntls = \"none\"\n"
    ))
}

const DIRECTORY: [&str; 8] = [
    "--only",
    "ldap.ou",
    "--only",
    "ldap.ou_create_computer",
    "--only",
    "ldap.machine_account_quota",
    "--only",
    "ldap.registration_scp",
];

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_dc_locator_chooses_the_branch_dc_for_the_branch_client() {
    let env = TestEnv::acquire();
    // No site in the profile: whichever DC answers first names Branch, and the locator asks again.
    let run = env.run(
        BRANCH_CLIENT,
        &["--dns-server", DC1_IP, "--only", "dc.locator"],
        &[],
    );
    let locator = run.check_id("dc.locator");
    assert_eq!(locator.status, Status::Pass, "{}", locator.finding);
    assert_eq!(locator.evidence_json()["chosen"], "dc2.corp.jr.test");
    assert_eq!(locator.evidence_json()["client_site"], "Branch");
    // Expecting Branch from the main subnet: the DCs put this device in no site, a warning.
    let profile = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\nsite = \"Branch\"\n"
    ));
    let run = env.run(
        CLIENT,
        &["--profile", &profile, "--only", "dc.locator"],
        &[],
    );
    let locator = run.check_id("dc.locator");
    assert_eq!(locator.status, Status::Warn, "{}", locator.finding);
    assert!(
        locator
            .finding
            .contains("the profile expects site Branch but the DC puts this device in no site"),
        "{}",
        locator.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn ou_rights_quota_and_registration_scp_are_read_as_the_connector_account() {
    let env = TestEnv::acquire();
    let profile = directory_profile(&env, "svc-join", OU);
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &DIRECTORY[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    assert_eq!(
        run.check_id("ldap.ou").status,
        Status::Pass,
        "{}",
        run.summary()
    );
    let rights = run.check_id("ldap.ou_create_computer");
    assert_eq!(rights.status, Status::Pass, "{}", rights.finding);
    assert!(rights.evidence_json()["allowed_child_classes_effective"]
        .as_array()
        .unwrap()
        .contains(&Value::from("computer")));
    let quota = run.check_id("ldap.machine_account_quota");
    assert!(
        quota
            .finding
            .contains("ms-DS-MachineAccountQuota is 10 (the default)"),
        "{}",
        quota.finding
    );
    // The SCP is absent until the environment creates it.
    let scp = run.check_id("ldap.registration_scp");
    assert_eq!(scp.status, Status::Fail);
    assert!(
        scp.finding
            .starts_with("no Device Registration service connection point"),
        "{}",
        scp.finding
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());

    env.fault(&["scp-add", TENANT, TENANT_ID]);
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &DIRECTORY[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    let scp = run.check_id("ldap.registration_scp");
    assert_eq!(scp.status, Status::Pass, "{}", scp.finding);
    assert_eq!(scp.evidence_json()["azure_ad_name"], TENANT);
    assert_eq!(scp.evidence_json()["azure_ad_id"], TENANT_ID);
    assert_eq!(run.exit_code, 0, "{}", run.summary());

    // Another tenant in the SCP than the profile expects.
    env.fault(&["scp-add", "fabrikam.onmicrosoft.com", TENANT_ID]);
    let run = env.run(
        BRANCH_CLIENT,
        &["--profile", &profile, "--only", "ldap.registration_scp"],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    let scp = run.check_id("ldap.registration_scp");
    assert_eq!(scp.status, Status::Fail);
    assert!(
        scp.finding.contains(
            "names tenant fabrikam.onmicrosoft.com, the profile expects contoso.onmicrosoft.com"
        ),
        "{}",
        scp.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn an_account_without_rights_and_a_missing_ou_are_named() {
    let env = TestEnv::acquire();
    let profile = directory_profile(&env, "svc-norights", OU);
    let run = env.run(
        BRANCH_CLIENT,
        &["--profile", &profile, "--only", "ldap.ou_create_computer"],
        &[("JOINREADY_BIND_PASSWORD", NORIGHTS_PASSWORD)],
    );
    let rights = run.check_id("ldap.ou_create_computer");
    assert_eq!(rights.status, Status::Fail);
    assert!(
        rights
            .finding
            .contains("svc-norights@corp.jr.test may not create computer objects in OU=Autopilot"),
        "{}",
        rights.finding
    );
    assert_eq!(run.exit_code, 2);

    let missing = "OU=NoSuchOu,DC=corp,DC=jr,DC=test";
    let profile = directory_profile(&env, "svc-join", missing);
    let run = env.run(
        BRANCH_CLIENT,
        &["--profile", &profile, "--only", "ldap.ou"],
        &[("JOINREADY_BIND_PASSWORD", SVC_PASSWORD)],
    );
    let ou = run.check_id("ldap.ou");
    assert_eq!(ou.status, Status::Fail);
    assert!(
        ou.finding.starts_with(&format!("{missing} does not exist")),
        "{}",
        ou.finding
    );

    // Without an account, the directory checks say what they need instead of failing.
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--dns-server", DC1_IP][..], &DIRECTORY[..]].concat(),
        &[],
    );
    let ou = run.check_id("ldap.ou");
    assert_eq!(ou.status, Status::Skip);
    assert!(
        ou.finding.contains("needs [ldap] bind_user"),
        "{}",
        ou.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn kpasswd_and_ntp_answer_over_udp_and_closed_or_silent_ports_are_named() {
    let env = TestEnv::acquire();
    let only = ["--only", "dc.port.kpasswd_udp", "--only", "dc.port.ntp_udp"];
    let run = env.run(
        CLIENT,
        &[&["--dns-server", DC1_IP][..], &only[..]].concat(),
        &[],
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let ntp = run.check("dc.port.ntp_udp", "dc1.corp.jr.test");
    assert!(
        ntp.finding.starts_with("NTP answers on UDP 123: stratum 2"),
        "{}",
        ntp.finding
    );
    assert!(
        ntp.evidence_json()["answer"]["offset_ms"]
            .as_f64()
            .unwrap()
            .abs()
            < 2_000.0
    );
    // Samba's kpasswd rejects the empty change request with a KRB-ERROR: the proof it lives.
    let kpasswd = run.check("dc.port.kpasswd_udp", "dc1.corp.jr.test");
    assert_eq!(kpasswd.evidence_json()["reach"], "open");
    assert_eq!(kpasswd.evidence_json()["realm"], "CORP.JR.TEST");
    assert!(
        kpasswd
            .finding
            .contains("KDC_ERR_SERVICE_EXP to the empty request"),
        "{}",
        kpasswd.finding
    );

    env.fault(&["reject", "1", "udp", "464"]);
    env.fault(&["filter", "2", "udp", "123"]);
    let run = env.run(
        CLIENT,
        &[&["--dns-server", DC1_IP, "--timeout", "1s"][..], &only[..]].concat(),
        &[],
    );
    let kpasswd = run.check("dc.port.kpasswd_udp", "dc1.corp.jr.test");
    assert_eq!(kpasswd.status, Status::Fail);
    assert!(
        kpasswd
            .finding
            .starts_with("UDP 464 is closed (ICMP port unreachable)"),
        "{}",
        kpasswd.finding
    );
    // NTP is optional: silence only warns.
    let ntp = run.check("dc.port.ntp_udp", "dc2.corp.jr.test");
    assert_eq!(ntp.status, Status::Warn);
    assert!(
        ntp.finding.contains("no NTP answer on UDP 123 within 1s")
            && ntp.finding.ends_with("(optional)"),
        "{}",
        ntp.finding
    );
    assert_eq!(run.exit_code, 1, "{}", run.summary());
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn ctrl_c_prints_the_partial_report_marked_incomplete() {
    let env = TestEnv::acquire();
    let profile = add_the_tarpit_as_a_dc(&env);
    let child = std::process::Command::new("ip")
        .args(["netns", "exec", CLIENT])
        .arg(env!("CARGO_BIN_EXE_joinready"))
        .args([
            "run",
            "--profile",
            &profile,
            "--format",
            "json",
            "--dns-server",
            DC1_IP,
            "--timeout",
            "10s",
            "--deadline",
            "20s",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start joinready");
    // `ip netns exec` execs the binary in place, so this pid is joinready's.
    std::thread::sleep(Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?} after Ctrl-C",
        started.elapsed()
    );
    let run = TestEnv::finish(output, started.elapsed());
    assert!(!run.report.complete);
    assert_eq!(run.report.incomplete_reason.as_deref(), Some("interrupted"));
    assert_eq!(run.exit_code, 3, "{}", run.summary());
    // What finished before the interrupt is there; the tarpit DC's LDAP check is not finished.
    assert_eq!(run.check_id("dc.srv").status, Status::Pass);
    let tarpit = run.check("ldap.rootdse", "tarpit.corp.jr.test");
    assert_eq!(tarpit.finding, "not finished: interrupted");
}
