//! End-to-end: a large domain. `testenv.sh fault large-domain N` starts dnsmasq in `jr-dns`
//! (10.77.0.53), which lists the two Samba DCs plus N fake DCs (dc-x0001.corp.jr.test …) in
//! the domain-wide locator records, every one at priority 0 weight 100, in random order. The
//! fake DCs' addresses (10.77.16.0/20) are black-holed silently by the router, so every probe
//! of them waits for its whole timeout. The run must still find the real DC through the DC
//! locator, say how many DCs do not answer in one census row instead of one row per dead DC,
//! probe only a few DCs per port, and finish well inside its deadline. Every test is
//! `#[ignore]`d like those in tests/e2e.rs; fixtures/test-all.sh runs them.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// dnsmasq of the large-domain fault (fixtures/testenv/lib/dns.sh).
const LARGE_DNS_IP: &str = "10.77.0.53";
const DOMAIN_LDAP_SRV: &str = "_ldap._tcp.dc._msdcs.corp.jr.test";

/// How many targets the test DNS server lists for the domain-wide LDAP record, asked with dig
/// from the client namespace: tells a broken environment from a broken tool.
fn published_dcs(namespace: &str) -> usize {
    let output = Command::new("ip")
        .args([
            "netns", "exec", namespace, "dig", "+short", "+tcp", "+time=3",
        ])
        .args(["+tries=1", "SRV", DOMAIN_LDAP_SRV])
        .arg(format!("@{LARGE_DNS_IP}"))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("run dig");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("0 100 389 "))
        .count()
}

/// With `fault large-domain fakes` on, the full catalog against the large domain's DNS server.
fn run_large(env: &TestEnv, namespace: &str, fakes: usize) -> Run {
    run_large_within(env, namespace, fakes, "2s")
}

/// The test DNS server (dnsmasq) answers one query at a time, about a millisecond each, so the
/// 2000 address lookups of a 2000-DC domain need more than 2 s there; a Windows DNS server
/// sends the addresses with the SRV answer.
fn run_large_within(env: &TestEnv, namespace: &str, fakes: usize, timeout: &str) -> Run {
    let fakes_arg = fakes.to_string();
    env.fault(&["large-domain", &fakes_arg]);
    assert_eq!(
        published_dcs(namespace),
        fakes + 2,
        "the test DNS server does not list dc1, dc2 and {fakes} fake DCs (testenv.sh status)"
    );
    env.run(
        namespace,
        &[
            "--timeout",
            timeout,
            "--deadline",
            "20s",
            "--dns-server",
            LARGE_DNS_IP,
        ],
        &[],
    )
}

/// Exit 0 or 1 (ready, or ready with warnings), and the run was not cut short.
fn assert_finished(run: &Run) {
    assert!(
        run.exit_code == 0 || run.exit_code == 1,
        "exit {} (want 0 ready or 1 warnings)\n{}",
        run.exit_code,
        run.summary()
    );
    assert!(
        run.report.complete,
        "the run was cut short: {:?}\n{}",
        run.report.incomplete_reason,
        run.summary()
    );
}

fn census(run: &Run) -> &CheckResult {
    let rows: Vec<&CheckResult> = run
        .report
        .checks
        .iter()
        .filter(|c| c.id == "dc.census")
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "want exactly one dc.census row\n{}",
        run.summary()
    );
    rows[0]
}

/// The DC host names rows are about (targets like dc1.corp.jr.test, not SRV names or the
/// domain).
fn dc_targets<'a>(run: &'a Run, id_prefix: &str) -> Vec<&'a str> {
    let mut targets: Vec<&str> = run
        .report
        .checks
        .iter()
        .filter(|c| c.id.starts_with(id_prefix))
        .map(|c| c.target.as_str())
        .filter(|t| t.starts_with("dc") && t.ends_with(".corp.jr.test"))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

/// The shape of a report on a large domain: per-DC rows for a handful of DCs, none of them
/// fake, and a bounded table.
fn assert_bounded_rows(run: &Run) {
    let kerberos = dc_targets(run, "dc.port.kerberos_tcp");
    assert!(
        !kerberos.is_empty() && kerberos.len() <= 5,
        "dc.port.kerberos_tcp rows for {} DCs (want 1..=5): {kerberos:?}\n{}",
        kerberos.len(),
        run.summary()
    );
    let every_dc = dc_targets(run, "");
    assert!(
        every_dc.len() <= 5,
        "per-DC rows for {} DCs (want at most 5): {every_dc:?}",
        every_dc.len()
    );
    let fake: Vec<&CheckResult> = run
        .report
        .checks
        .iter()
        .filter(|c| c.target.starts_with("dc-x"))
        .collect();
    assert!(
        fake.is_empty(),
        "rows about fake (dead) DCs: {:?}",
        fake.iter()
            .map(|c| format!("{} {}", c.id, c.target))
            .collect::<Vec<_>>()
    );
    assert!(
        run.report.checks.len() <= 60,
        "{} rows (want at most 60)\n{}",
        run.report.checks.len(),
        run.summary()
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn two_hundred_dcs_with_198_dead_find_a_live_dc_quickly_and_count_the_dead() {
    let env = TestEnv::acquire();
    let run = run_large(&env, CLIENT, 198);
    assert_finished(&run);
    // jr-client's subnet is mapped to no AD site, so Windows takes whichever real DC answers
    // first; never one of the 198 dead ones.
    let chosen = run.check_id("dc.locator").evidence_json()["chosen"].clone();
    assert!(
        chosen == "dc1.corp.jr.test" || chosen == "dc2.corp.jr.test",
        "chosen {chosen}\n{}",
        run.summary()
    );
    let census = census(&run);
    assert!(
        census
            .finding
            .contains("198 of 200 DCs do not answer the LDAP ping"),
        "{}",
        census.finding
    );
    assert_bounded_rows(&run);
    assert!(
        run.elapsed < Duration::from_secs(4),
        "took {:?} (want under 4 s with a 2 s timeout)\n{}",
        run.elapsed,
        run.summary()
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn two_hundred_dcs_with_198_dead_the_branch_client_gets_dc2() {
    let env = TestEnv::acquire();
    let run = run_large(&env, BRANCH_CLIENT, 198);
    assert_finished(&run);
    assert_eq!(
        run.check_id("dc.locator").evidence_json()["chosen"],
        "dc2.corp.jr.test",
        "{}",
        run.summary()
    );
    assert!(
        census(&run)
            .finding
            .contains("198 of 200 DCs do not answer the LDAP ping"),
        "{}",
        census(&run).finding
    );
    assert_bounded_rows(&run);
    assert!(
        run.elapsed < Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn two_thousand_dead_dcs_finish_within_the_deadline() {
    let env = TestEnv::acquire();
    let run = run_large_within(&env, CLIENT, 2000, "6s");
    assert_finished(&run);
    let census = census(&run);
    assert!(
        census.finding.contains("2000 of 2002 DCs"),
        "{}",
        census.finding
    );
    assert_bounded_rows(&run);
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
}
