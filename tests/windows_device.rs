//! What the Windows device knows, tested where it can be off Windows: `explain CODE` through
//! the binary (every spelling, the exit code of an unknown code), the host checks listed and,
//! on Linux, skipped with a reason rather than failed. The Windows readers themselves run under
//! Wine in fixtures/windows-check.sh.

mod support;

use support::loopback::{run_local, run_raw};
use support::{Status, VerdictStatus};

fn explain(code: &str) -> (i32, String, String) {
    let (output, _) = run_raw(&["explain", code], &[]);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn explain_answers_an_error_code_in_every_spelling() {
    for spelling in ["0x80070774", "80070774", "-2147022988", "0x774", "1908"] {
        let (code, stdout, stderr) = explain(spelling);
        assert_eq!(code, 0, "{spelling}: {stderr}");
        assert!(
            stdout.starts_with("0x80070774: ERROR_DOMAIN_CONTROLLER_NOT_FOUND"),
            "{spelling}: {stdout}"
        );
        // The predicting checks are named with their titles from the catalog, and what to run.
        assert!(
            stdout.contains("  dc.srv: Domain controllers are published in DNS"),
            "{stdout}"
        );
        assert!(stdout.contains("ldap.ou_create_computer"), "{stdout}");
        assert!(
            stdout.contains("Run:\n  joinready run --only dns --only dc --only ldap"),
            "{stdout}"
        );
        assert!(
            stdout.contains("Source: https://learn.microsoft.com/"),
            "{stdout}"
        );
    }
    let (code, stdout, _) = explain("30132");
    assert_eq!(code, 0);
    assert!(stdout.starts_with("30132: Intune Connector"), "{stdout}");
    let (code, stdout, _) = explain("0x80180022");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("host.edition: This device runs a Windows edition"),
        "{stdout}"
    );
}

#[test]
fn explain_still_answers_a_check_id_and_an_unknown_code_is_bad_input() {
    let (code, stdout, _) = explain("dc.srv");
    assert_eq!(code, 0);
    assert!(stdout.starts_with("dc.srv: "), "{stdout}");
    let (code, stdout, stderr) = explain("0x12345678");
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stderr.contains("joinready knows no error code `0x12345678`")
            && stderr.contains("0x80070774")
            && stderr.contains("learn.microsoft.com"),
        "{stderr}"
    );
    let (code, _, stderr) = explain("dc.srvv");
    assert_eq!(code, 3);
    assert!(stderr.contains("did you mean `dc.srv`"), "{stderr}");
}

#[test]
fn the_host_checks_are_listed() {
    let (output, _) = run_raw(&["checks"], &[]);
    let listing = String::from_utf8_lossy(&output.stdout);
    for id in [
        "host.edition",
        "host.clock",
        "host.vpn",
        "host.vpn_certificate",
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(id) && l.contains(" host ")),
            "{id} missing from:\n{listing}"
        );
    }
}

#[cfg(not(windows))]
#[test]
fn off_windows_the_windows_host_checks_skip_and_never_fail() {
    // Only the host area: no network at all. The report is held to the schema by run_local.
    let run = run_local(
        &[
            "--domain",
            "corp.jr.test",
            "--dns-server",
            "127.0.0.1:9",
            "--only",
            "host",
        ],
        &[],
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    assert_eq!(run.report.verdict.status, VerdictStatus::Ready);
    for id in ["host.edition", "host.vpn"] {
        let check = run.check_id(id);
        assert_eq!(check.status, Status::Skip, "{id}: {}", check.finding);
        assert!(
            check.finding.contains("Windows device only"),
            "{}",
            check.finding
        );
    }
    assert_eq!(run.check_id("host.clock").status, Status::Pass);
    // Off Windows nothing is detected from the device: no origins in the report.
    assert!(run.report.origins.is_empty());
}
