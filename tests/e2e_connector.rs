//! End-to-end: the Intune Connector's right to create computers, read from the OU's ACL
//! (ldap.connector_account, ldap.connector_rights) against the Samba DCs, with Samba itself as
//! the judge. fixtures/testenv/lib/connector.sh gives each ACL shape to the managed service
//! account msaODJ10001$ and, identically, to jr-probe, an ordinary user with a password; each
//! test creates a computer as jr-probe over LDAP and asserts that joinready's evaluation for
//! the MSA (read as svc-norights, a user with no rights at all) agrees with what Samba allowed.

mod support;

use std::process::Command;
use support::*;

const BASE: &str = "DC=corp,DC=jr,DC=test";
const SHAPES_OU: &str = "OU=ConnectorTests,DC=corp,DC=jr,DC=test";
const MSA: &str = "msaODJ10001$";
const READER: &str = "svc-norights";
const READER_PASSWORD: &str = "NoRights-Passw0rd.1";
const PROBE: &str = "jr-probe";
const PROBE_PASSWORD: &str = "Probe-Passw0rd.1";
const ADMIN: &str = "Administrator";
const ADMIN_PASSWORD: &str = "Passw0rd.Admin-1";
/// DC2: the branch client's DC, and the one that allows simple binds on 389.
const DC2: &str = "ldap://10.77.0.12";

/// A profile for the branch client (its site's DC2 is chosen) reading as svc-norights.
fn connector_profile(env: &TestEnv, ou: Option<&str>, account: Option<&str>) -> String {
    let ou = ou.map(|ou| format!("ou = \"{ou}\"\n")).unwrap_or_default();
    let account = account
        .map(|a| format!("account = \"{a}\"\n"))
        .unwrap_or_default();
    env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\nsite = \"Branch\"\n{ou}[ldap]\nbind_user = \"{READER}@corp.jr.test\"\ntls = \"none\"\n[connector]\n{account}"
    ))
}

const CONNECTOR_CHECKS: [&str; 6] = [
    "--only",
    "ldap.connector_account",
    "--only",
    "ldap.connector_rights",
    "--only",
    "ldap.ou_create_computer",
];

fn ldap_tool(tool: &str, user: &str, password: &str, ldif: &str) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            BRANCH_CLIENT,
            "timeout",
            "20",
            tool,
            "-x",
            "-H",
            DC2,
        ])
        .args(["-D", &format!("{user}@corp.jr.test"), "-w", password])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(ldif.as_bytes())
        .expect("write the LDIF");
    let output = child.wait_with_output().expect("wait for the LDAP tool");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Samba's own answer: may jr-probe (holding the same grants as the MSA) create a computer in
/// `ou`? The computer it creates is deleted again.
fn samba_allows_create_computer(ou: &str, tag: &str) -> bool {
    let name = format!("gt{tag}{}", std::process::id() % 10000);
    let dn = format!("CN={name},{ou}");
    let (code, output) = ldap_tool(
        "ldapadd",
        PROBE,
        PROBE_PASSWORD,
        &format!("dn: {dn}\nobjectClass: computer\nsAMAccountName: {name}$\n"),
    );
    match code {
        0 => {
            let (deleted, output) =
                ldap_tool("ldapdelete", ADMIN, ADMIN_PASSWORD, &format!("{dn}\n"));
            assert_eq!(deleted, 0, "could not delete {dn}: {output}");
            true
        }
        // 50 insufficientAccessRights: Samba's access check said no.
        50 => false,
        other => panic!(
            "ldapadd as {PROBE} in {ou} ended with {other}, neither allowed nor denied: {output}"
        ),
    }
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn each_acl_shape_agrees_with_what_samba_allows() {
    let env = TestEnv::acquire();
    // (OU, what Samba is expected to decide, text the finding must hold)
    let shapes = [
        (
            "Delegated",
            true,
            "granted by (OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-",
        ),
        ("GenericCreateChild", true, "granted by (A;;CC;;;S-1-5-21-"),
        (
            "DenyFirst",
            false,
            "denied by (OD;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-",
        ),
        (
            "Nested",
            true,
            "(member of CN=jr-grant-outer,CN=Users,DC=corp,DC=jr,DC=test)",
        ),
        (
            "InheritOnly",
            false,
            "no ACE grants it \"Create Computer objects\"",
        ),
        (
            "OtherClass",
            false,
            "no ACE grants it \"Create Computer objects\"",
        ),
        (
            "NoDelegation",
            false,
            "no ACE grants it \"Create Computer objects\"",
        ),
    ];
    let mut disagreements = Vec::new();
    for (shape, expected, text) in shapes {
        let ou = format!("OU={shape},{SHAPES_OU}");
        let allowed = samba_allows_create_computer(&ou, &shape[..4]);
        let profile = connector_profile(&env, Some(&ou), Some(MSA));
        let run = env.run(
            BRANCH_CLIENT,
            &["--profile", &profile, "--only", "ldap.connector_rights"],
            &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
        );
        let rights = run.check_id("ldap.connector_rights");
        let granted = match rights.status {
            Status::Pass => true,
            Status::Fail => false,
            other => panic!("{shape}: {other:?}: {}", rights.finding),
        };
        if granted != allowed {
            disagreements.push(format!(
                "{shape}: Samba {} jr-probe, joinready says {}",
                if allowed { "allowed" } else { "refused" },
                rights.finding
            ));
        }
        assert_eq!(
            allowed, expected,
            "{shape}: the test environment's ACL is not what it should be"
        );
        assert!(rights.finding.contains(text), "{shape}: {}", rights.finding);
        assert!(
            rights.finding.starts_with(MSA),
            "{shape}: {}",
            rights.finding
        );
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn an_undelegated_ou_is_not_ready_and_microsofts_delegation_passes() {
    let env = TestEnv::acquire();
    let undelegated = format!("OU=NoDelegation,{SHAPES_OU}");
    let profile = connector_profile(&env, Some(&undelegated), Some(MSA));
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &CONNECTOR_CHECKS[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    assert_eq!(
        run.report.verdict.status,
        VerdictStatus::NotReady,
        "{}",
        run.summary()
    );
    let rights = run.check_id("ldap.connector_rights");
    assert_eq!(rights.status, Status::Fail, "{}", rights.finding);
    assert!(
        rights.finding.starts_with(&format!(
            "{MSA} may not create computer objects in {undelegated}: no ACE grants it \"Create Computer objects\""
        )),
        "{}",
        rights.finding
    );
    assert!(
        rights.remedy.contains(&format!(
            "Give {MSA} \"Create Computer objects\" on {undelegated}, applied to \"This object only\""
        )),
        "{}",
        rights.remedy
    );
    assert!(
        rights
            .remedy
            .contains("computers ms-DS-MachineAccountQuota allows"),
        "{}",
        rights.remedy
    );
    // The reader has no rights on the OU and is not reported for it: it only reads.
    let own = run.check_id("ldap.ou_create_computer");
    assert_eq!(own.status, Status::Skip, "{}", own.finding);
    assert!(
        own.finding.contains("the bind account only reads"),
        "{}",
        own.finding
    );
    let account = run.check_id("ldap.connector_account");
    assert_eq!(account.status, Status::Pass, "{}", account.finding);
    assert!(
        account
            .finding
            .starts_with(&format!("{MSA} (managed service account S-1-5-21-")),
        "{}",
        account.finding
    );
    assert!(
        account.finding.contains("installed on CONNECTOR01"),
        "{}",
        account.finding
    );

    // Microsoft's delegation: Create Computer objects, this object only, to the MSA.
    let delegated = format!("OU=Delegated,{SHAPES_OU}");
    let profile = connector_profile(&env, Some(&delegated), Some(MSA));
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &CONNECTOR_CHECKS[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
    );
    assert_eq!(run.exit_code, 0, "{}", run.summary());
    let rights = run.check_id("ldap.connector_rights");
    assert_eq!(rights.status, Status::Pass, "{}", rights.finding);
    assert!(
        rights.finding.starts_with(&format!(
            "{MSA} may create computer objects in {delegated}: granted by (OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-"
        )),
        "{}",
        rights.finding
    );
    assert!(
        rights.finding.ends_with("(the account itself)"),
        "{}",
        rights.finding
    );
}

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn without_an_account_every_msaodj_account_is_found_and_without_an_ou_computers_is_read() {
    let env = TestEnv::acquire();
    let profile = connector_profile(&env, None, None);
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &CONNECTOR_CHECKS[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
    );
    let account = run.check_id("ldap.connector_account");
    assert_eq!(account.status, Status::Pass, "{}", account.finding);
    assert!(account.finding.starts_with(MSA), "{}", account.finding);
    // No OU: the default computers container from wellKnownObjects, where nothing grants the
    // MSA the right and joins lean on the machine account quota (10, none used yet).
    let rights = run.check_id("ldap.connector_rights");
    assert_eq!(rights.status, Status::Warn, "{}", rights.finding);
    assert!(
        rights.finding.starts_with(&format!(
            "{MSA} may not create computer objects in CN=Computers,{BASE}"
        )),
        "{}",
        rights.finding
    );
    assert!(
        rights.remedy.contains("created 0 of the 10 computers"),
        "{}",
        rights.remedy
    );
    assert_eq!(
        rights.evidence_json()["ou_source"],
        "default_computers_container"
    );

    // An older connector runs as its server's computer account: found as such, and refused
    // where only the MSA was delegated.
    let delegated = format!("OU=Delegated,{SHAPES_OU}");
    let profile = connector_profile(&env, Some(&delegated), Some("CONNECTOR01$"));
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &CONNECTOR_CHECKS[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
    );
    let account = run.check_id("ldap.connector_account");
    assert_eq!(account.status, Status::Pass, "{}", account.finding);
    assert!(
        account
            .finding
            .starts_with("CONNECTOR01$ (computer account S-1-5-21-"),
        "{}",
        account.finding
    );
    let rights = run.check_id("ldap.connector_rights");
    assert_eq!(rights.status, Status::Fail, "{}", rights.finding);
    assert!(
        rights.finding.starts_with(&format!(
            "CONNECTOR01$ may not create computer objects in {delegated}: no ACE grants it"
        )),
        "{}",
        rights.finding
    );

    // An account that does not exist, and an OU value the Domain Join profile rejects.
    let profile = connector_profile(
        &env,
        Some("CN=Computers,DC=corp,DC=jr,DC=test"),
        Some("msaODJ99999$"),
    );
    let run = env.run(
        BRANCH_CLIENT,
        &[&["--profile", profile.as_str()][..], &CONNECTOR_CHECKS[..]].concat(),
        &[("JOINREADY_BIND_PASSWORD", READER_PASSWORD)],
    );
    let account = run.check_id("ldap.connector_account");
    assert_eq!(account.status, Status::Fail, "{}", account.finding);
    assert!(
        account
            .finding
            .starts_with("no account msaODJ99999$ in the domain"),
        "{}",
        account.finding
    );
    let rights = run.check_id("ldap.connector_rights");
    assert_eq!(rights.status, Status::Fail, "{}", rights.finding);
    assert!(
        rights.finding.contains("is the default Computers container, which the Domain Join profile rejects: leave its OU field empty"),
        "{}",
        rights.finding
    );
}
