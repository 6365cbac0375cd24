//! Unprivileged operation: run as user nobody in jr-client-branch (whose ping_group_range
//! allows no unprivileged ICMP), joinready shows ICMP as "needs privilege" and every other
//! check exactly as a run as root shows it, none failing. Needs the test environment
//! (fixtures/test-all.sh, `cargo test -- --include-ignored`); a plain `cargo test` lists it as
//! ignored.

mod support;

use support::{Status, TestEnv, BRANCH_CLIENT, DC1_IP};

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn as_nobody_only_icmp_needs_privilege_and_everything_else_works() {
    let env = TestEnv::acquire();
    // Flags, not a profile: nobody cannot read the harness's scratch directory.
    let args = [
        "--domain",
        "corp.jr.test",
        "--dns-server",
        DC1_IP,
        "--skip",
        "proxy",
        "--skip",
        "endpoints",
    ];
    let root = env.run(BRANCH_CLIENT, &args, &[]);
    let nobody = env.run_as_nobody(BRANCH_CLIENT, &args);
    assert!(root.report.host.running_as_root);
    assert!(!nobody.report.host.running_as_root);

    let pings: Vec<_> = nobody
        .report
        .checks
        .iter()
        .filter(|c| c.id == "dc.ping")
        .collect();
    assert!(pings.len() >= 2, "{}", nobody.summary());
    for ping in pings {
        assert_eq!(ping.status, Status::Error, "{}", nobody.summary());
        assert!(
            ping.finding
                .starts_with("needs privilege: run as root/Administrator"),
            "{}",
            ping.finding
        );
    }

    for check in nobody.report.checks.iter().filter(|c| c.id != "dc.ping") {
        assert!(
            !matches!(check.status, Status::Fail | Status::Error),
            "{} on {} as nobody: {} {}\n{}",
            check.id,
            check.target,
            check.status,
            check.finding,
            nobody.summary()
        );
        let as_root = root.check(&check.id, &check.target);
        assert_eq!(
            check.status, as_root.status,
            "{} on {}: as nobody {}, as root {} ({})",
            check.id, check.target, check.finding, as_root.finding, as_root.status
        );
    }
    assert_eq!(
        nobody.report.checks.len(),
        root.report.checks.len(),
        "as root:\n{}\nas nobody:\n{}",
        root.summary(),
        nobody.summary()
    );
    // The ping that could not run is a warning, not a failure.
    assert_eq!(nobody.exit_code, 1, "{}", nobody.summary());
    assert!(root.exit_code <= 1, "{}", root.summary());
}
