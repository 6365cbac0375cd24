//! Every judge from a table of evidence values, with no socket: the status and the finding
//! each piece of evidence earns.

use super::*;
use crate::endpoints::{EndpointDef, EndpointProtocol, TlsInspection};
use crate::facts::DomainController;
use crate::model::{Reach, Status};
use crate::probe::ike::{IkeAnswer, IkeEvidence};
use crate::probe::inspection::Inspection;
use crate::probe::ldap::Transport;
use crate::probe::portal::{Phase, PortalEvidence};
use crate::probe::tls::{CertificateInfo, CertificateProblem, TlsEvidence};
use crate::probe::wpad::{WpadFetch, PAC_MIME};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// What a row expects of the finding: all of it, or parts of it.
enum Says {
    Exactly(&'static str),
    Owned(String),
    Contains(&'static [&'static str]),
}
use Says::{Contains, Exactly, Owned};

fn assert_row(row: usize, got: &Judgement, status: Status, says: &Says) {
    assert_eq!(got.status, status, "row {row}: {}", got.finding);
    match says {
        Exactly(text) => assert_eq!(got.finding, *text, "row {row}"),
        Owned(text) => assert_eq!(&got.finding, text, "row {row}"),
        Contains(parts) => {
            for part in *parts {
                assert!(
                    got.finding.contains(part),
                    "row {row}: {:?} lacks {part:?}",
                    got.finding
                );
            }
        }
    }
}

/// A kind's parameters from the TOML a catalog check would give.
fn params<T: serde::de::DeserializeOwned>(toml_text: &str) -> T {
    toml::from_str(toml_text).unwrap()
}

fn sock(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

fn leaf(subject_alt_names: &[&str], days_left: i64) -> CertificateInfo {
    CertificateInfo {
        subject: "CN=dc1.corp.example".into(),
        issuer: "CN=Corp Root CA".into(),
        subject_alt_names: subject_alt_names.iter().map(|n| n.to_string()).collect(),
        not_before: "2026-01-01T00:00:00Z".into(),
        not_after: "2027-01-01T00:00:00Z".into(),
        days_left,
        serial: "01".into(),
    }
}

fn tls(problem: Option<CertificateProblem>, days_left: i64) -> TlsEvidence {
    TlsEvidence {
        verified: problem.is_none(),
        problem,
        error: problem.map(|_| "invalid peer certificate".to_string()),
        chain: vec![leaf(&["dc1.corp.example"], days_left)],
    }
}

const CERT_OK: &str =
    "certificate CN=dc1.corp.example (SAN dc1.corp.example) from CN=Corp Root CA, valid 200 more days";

// ---------------------------------------------------------------------------------------------

fn srv_server(server: &str, result: dns_srv::SrvAnswer, detail: &str) -> dns_srv::ServerAnswer {
    dns_srv::ServerAnswer {
        server: sock(server),
        reach: if result == dns_srv::SrvAnswer::None {
            Reach::Silent
        } else {
            Reach::Open
        },
        result,
        detail: detail.into(),
        rtt_ms: Some(1.0),
        authoritative: Some(true),
        over_tcp: Some(false),
        records: Vec::new(),
    }
}

fn dc(hostname: &str, addresses: &[&str]) -> DomainController {
    DomainController {
        hostname: hostname.into(),
        port: 389,
        priority: 0,
        weight: 100,
        addresses: addresses.iter().map(|a| ip(a)).collect(),
        listed_by: vec!["10.0.0.1".into()],
    }
}

#[test]
fn dns_srv_table() {
    use dns_srv::SrvAnswer::{NoData, None as NoAnswer, Nxdomain, Records, Servfail};
    let p: dns_srv::Params = params(r#"name = "_ldap._tcp.dc._msdcs.{domain}""#);
    let ok = || srv_server("10.0.0.1:53", Records, "2 records");
    let two = || {
        vec![
            dc("dc1.corp.example", &["10.0.0.10"]),
            dc("dc2.corp.example", &["10.0.0.11"]),
        ]
    };
    let evidence =
        |lists_dcs: bool, servers: Vec<dns_srv::ServerAnswer>, targets| dns_srv::Evidence {
            name: "_ldap._tcp.dc._msdcs.corp.example".into(),
            lists_dcs,
            addresses_looked_up: true,
            servers,
            targets,
        };
    let rows = [
        (
            evidence(true, vec![ok()], two()),
            Status::Pass,
            Exactly("2 DCs: dc1.corp.example (10.0.0.10), dc2.corp.example (10.0.0.11)"),
        ),
        (
            evidence(true, vec![ok()], vec![dc("dc1.corp.example", &["fd00::10", "10.0.0.10"])]),
            Status::Pass,
            Exactly("1 DC: dc1.corp.example (10.0.0.10)"),
        ),
        (
            evidence(false, vec![ok()], vec![dc("pdc.corp.example", &["fd00::10"])]),
            Status::Pass,
            Exactly("1 target: pdc.corp.example (fd00::10)"),
        ),
        (
            evidence(true, vec![srv_server("10.0.0.1:53", Nxdomain, "NXDOMAIN")], vec![]),
            Status::Fail,
            Exactly("no domain controller found: SRV _ldap._tcp.dc._msdcs.corp.example → NXDOMAIN from 10.0.0.1"),
        ),
        (
            evidence(
                false,
                vec![
                    srv_server("10.0.0.1:53", NoData, "no SRV records"),
                    srv_server("10.0.0.2:53", NoAnswer, "no answer within 2 s"),
                ],
                vec![],
            ),
            Status::Fail,
            Exactly("SRV _ldap._tcp.dc._msdcs.corp.example → no SRV records from 10.0.0.1; no answer within 2 s from 10.0.0.2"),
        ),
        (
            evidence(true, vec![ok()], vec![dc("dc1.corp.example", &[]), dc("dc2.corp.example", &[])]),
            Status::Fail,
            Exactly("2 DCs: dc1.corp.example (no address), dc2.corp.example (no address): none of the targets has an A/AAAA record"),
        ),
        (
            evidence(true, vec![ok(), srv_server("10.0.0.2:53", Servfail, "SERVFAIL")], two()),
            Status::Warn,
            Exactly("2 DCs: dc1.corp.example (10.0.0.10), dc2.corp.example (10.0.0.11); but SERVFAIL from 10.0.0.2: a device using that server finds nothing"),
        ),
        (
            evidence(true, vec![ok()], vec![dc("dc1.corp.example", &["10.0.0.10"]), dc("dc2.corp.example", &[])]),
            Status::Warn,
            Exactly("2 DCs: dc1.corp.example (10.0.0.10), dc2.corp.example (no address); dc2.corp.example has no address (a stale record?)"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &dns_srv::judge(&p, evidence), *status, says);
    }
    // A long list that is not the DC list: its addresses are not asked, nor judged.
    let long = dns_srv::Evidence {
        addresses_looked_up: false,
        ..evidence(
            false,
            vec![ok()],
            (0..60)
                .map(|i| dc(&format!("dc{i:02}.corp.example"), &[]))
                .collect(),
        )
    };
    assert_row(
        0,
        &dns_srv::judge(&p, &long),
        Status::Pass,
        &Contains(&[
            "60 targets: dc00.corp.example, dc01.corp.example",
            "and 50 more",
            "addresses not asked",
        ]),
    );
}

#[test]
fn a_dns_server_that_does_not_answer_is_the_root_cause_with_its_own_remedy() {
    use dns_srv::SrvAnswer::{None as NoAnswer, Nxdomain, Servfail};
    let p: dns_srv::Params = params(r#"name = "_ldap._tcp.dc._msdcs.{domain}""#);
    let evidence = |servers| dns_srv::Evidence {
        name: "_ldap._tcp.dc._msdcs.corp.example".into(),
        lists_dcs: true,
        addresses_looked_up: true,
        servers,
        targets: vec![],
    };
    let refused = dns_srv::ServerAnswer {
        reach: Reach::Refused,
        ..srv_server("10.0.0.3:53", NoAnswer, "refused")
    };
    let rows = [
        (
            evidence(vec![srv_server("10.0.0.98:53", NoAnswer, "no answer within 2s")]),
            Exactly("the DNS server 10.0.0.98:53 does not answer (no answer within 2s): this device can find no domain controller through it"),
        ),
        (
            evidence(vec![srv_server("10.0.0.1:53", Servfail, "SERVFAIL")]),
            Exactly("the DNS server 10.0.0.1:53 answers SERVFAIL for _ldap._tcp.dc._msdcs.corp.example (it cannot resolve the AD zone): this device can find no domain controller through it"),
        ),
        (
            evidence(vec![srv_server("10.0.0.98:53", NoAnswer, "no answer within 2s"), refused]),
            Exactly("no DNS server answers usably, so this device can find no domain controller: 10.0.0.98:53 does not answer (no answer within 2s); 10.0.0.3:53 refuses the query: nothing listens on its DNS port"),
        ),
    ];
    for (row, (evidence, says)) in rows.iter().enumerate() {
        let judged = dns_srv::judge(&p, evidence);
        assert_row(row, &judged, Status::Fail, says);
        assert!(
            judged
                .remedy
                .as_deref()
                .is_some_and(|r| r.contains("UDP and TCP 53")),
            "row {row}: {:?}",
            judged.remedy
        );
    }
    // One server that answers NXDOMAIN is about the records, not the server.
    let nxdomain = evidence(vec![
        srv_server("10.0.0.98:53", NoAnswer, "no answer within 2s"),
        srv_server("10.0.0.1:53", Nxdomain, "NXDOMAIN"),
    ]);
    let judged = dns_srv::judge(&p, &nxdomain);
    assert_eq!(judged.remedy, None);
    assert!(
        judged.finding.starts_with("no domain controller found"),
        "{}",
        judged.finding
    );
}

#[test]
fn icmp_table() {
    let p: icmp::Params = params("");
    let evidence = |received: u8, rtt_ms: &[f64], errors: &[&str]| icmp::Evidence {
        address: ip("10.0.0.10"),
        sent: 3,
        received,
        rtt_ms: rtt_ms.to_vec(),
        socket: "datagram".into(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
    };
    let rows = [
        (
            evidence(3, &[3.0, 1.0, 2.0], &[]),
            Status::Pass,
            Exactly("3/3 ICMP echo replies from 10.0.0.10, median 2 ms"),
        ),
        (
            evidence(2, &[1.5, 4.0], &[]),
            Status::Warn,
            Exactly("2/3 ICMP echo replies from 10.0.0.10, median 4 ms: packet loss"),
        ),
        (
            evidence(0, &[], &[]),
            Status::Fail,
            Exactly("no reply to 3 ICMP echo requests to 10.0.0.10"),
        ),
        (
            evidence(0, &[], &["host unreachable", "host unreachable"]),
            Status::Fail,
            Exactly("no reply to 3 ICMP echo requests to 10.0.0.10 (host unreachable; host unreachable)"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &icmp::judge(&p, evidence), *status, says);
    }
}

fn netlogon(domain: &str, client_site: &str, kdc: bool, paused: bool) -> netlogon::NetlogonReply {
    let mut flag_names = vec![
        "PDC",
        "GC",
        "LDAP",
        "DS",
        "WRITABLE",
        "CLOSEST",
        "GOOD_TIMESERV",
    ];
    if kdc {
        flag_names.insert(2, "KDC");
    }
    netlogon::NetlogonReply {
        opcode: if paused { 24 } else { 23 },
        paused,
        flags: "0x000031fd".into(),
        flag_names: flag_names.into_iter().map(String::from).collect(),
        kdc,
        closest: true,
        domain_guid: None,
        forest: "corp.example".into(),
        domain: domain.into(),
        host: "dc1.corp.example".into(),
        netbios_domain: "CORP".into(),
        netbios_computer: "DC1".into(),
        dc_site: "HQ".into(),
        client_site: client_site.into(),
        next_closest_site: None,
        nt_version: 5,
    }
}

#[test]
fn cldap_table() {
    let p: cldap::Params = params("");
    let answered = |expected_site: Option<&str>, reply: netlogon::NetlogonReply| cldap::Evidence {
        address: sock("10.0.0.10:389"),
        domain: "corp.example".into(),
        expected_site: expected_site.map(String::from),
        reach: Reach::Open,
        error: None,
        rtt_ms: Some(2.5),
        reply: Some(reply),
    };
    let unanswered = |reach: Reach, error: Option<&str>| cldap::Evidence {
        address: sock("10.0.0.10:389"),
        domain: "corp.example".into(),
        expected_site: s("HQ"),
        reach,
        error: error.map(String::from),
        rtt_ms: None,
        reply: None,
    };
    let roles = "PDC GC KDC WRITABLE CLOSEST GOOD_TIMESERV";
    let hint = ": the DC locator cannot use this DC (join error 0x80070774 if no DC answers)";
    let rows = [
        (
            answered(Some("HQ"), netlogon("corp.example", "HQ", true, false)),
            Status::Pass,
            Owned(format!("dc1.corp.example in site HQ, puts this device in HQ; {roles} (2.5 ms)")),
        ),
        (
            answered(Some("hq"), netlogon("CORP.EXAMPLE", "HQ", true, false)),
            Status::Pass,
            Owned(format!("dc1.corp.example in site HQ, puts this device in HQ; {roles} (2.5 ms)")),
        ),
        (
            answered(None, netlogon("corp.example", "Branch", true, false)),
            Status::Pass,
            Owned(format!("dc1.corp.example in site HQ, puts this device in Branch; {roles} (2.5 ms)")),
        ),
        (
            unanswered(Reach::Silent, Some("no answer from 10.0.0.10:389 within 2 s")),
            Status::Fail,
            Owned(format!("no answer from 10.0.0.10:389 within 2 s{hint}")),
        ),
        (
            unanswered(Reach::Refused, Some("10.0.0.10:389 refused (ICMP port unreachable)")),
            Status::Fail,
            Owned(format!("10.0.0.10:389 refused (ICMP port unreachable){hint}")),
        ),
        (
            unanswered(Reach::Malformed, Some("not a NETLOGON response")),
            Status::Fail,
            Exactly("not a NETLOGON response"),
        ),
        (
            unanswered(Reach::Unreachable, None),
            Status::Fail,
            Exactly("no answer"),
        ),
        (
            answered(Some("HQ"), netlogon("corp.example", "HQ", true, true)),
            Status::Fail,
            Exactly("dc1.corp.example: the DC's Netlogon service is paused"),
        ),
        (
            answered(Some("HQ"), netlogon("other.example", "HQ", true, false)),
            Status::Fail,
            Exactly("dc1.corp.example answers for domain other.example, not corp.example"),
        ),
        (
            answered(Some("Branch"), netlogon("corp.example", "HQ", true, false)),
            Status::Warn,
            Owned(format!("dc1.corp.example in site HQ, puts this device in HQ; {roles} (2.5 ms): the profile expects site Branch, the DC says HQ")),
        ),
        (
            answered(Some("HQ"), netlogon("corp.example", "", true, false)),
            Status::Warn,
            Contains(&[
                "puts this device in no site (this device's subnet is mapped to no AD site)",
                ": the profile expects site HQ, the DC says no site (this device's subnet is mapped to no AD site)",
            ]),
        ),
        (
            answered(Some("HQ"), netlogon("corp.example", "HQ", false, false)),
            Status::Warn,
            Exactly("dc1.corp.example in site HQ, puts this device in HQ; PDC GC WRITABLE CLOSEST GOOD_TIMESERV (2.5 ms): not a KDC"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &cldap::judge(&p, evidence), *status, says);
    }
}

#[test]
fn kerberos_table() {
    let p: kerberos::Params = params("");
    let evidence =
        |reach: Reach, error: Option<&str>, error_name: Option<&str>| kerberos::Evidence {
            address: sock("10.0.0.10:88"),
            reach,
            error: error.map(String::from),
            rtt_ms: (reach == Reach::Open).then_some(3.25),
            error_code: error_name.map(|_| 25),
            error_name: error_name.map(String::from),
            realm: (reach == Reach::Open).then(|| "CORP.EXAMPLE".to_string()),
            offset_ms: None,
        };
    let udp = ": Kerberos over UDP fails (clients fall back to TCP 88 only for large tickets); join error 0x40 when TCP 88 is closed too";
    let rows = [
        (
            evidence(Reach::Open, None, Some("KDC_ERR_PREAUTH_REQUIRED")),
            Status::Pass,
            Exactly("the KDC answers on UDP 88 (KDC_ERR_PREAUTH_REQUIRED, 3.25 ms)"),
        ),
        (
            evidence(Reach::Open, None, None),
            Status::Pass,
            Exactly("the KDC answers on UDP 88 (an unnamed error, 3.25 ms)"),
        ),
        (
            evidence(
                Reach::Silent,
                Some("no answer from 10.0.0.10:88 within 2 s"),
                None,
            ),
            Status::Fail,
            Owned(format!("no answer from 10.0.0.10:88 within 2 s{udp}")),
        ),
        (
            evidence(Reach::Refused, None, None),
            Status::Fail,
            Owned(format!("no answer{udp}")),
        ),
        (
            evidence(Reach::Malformed, Some("not a KRB-ERROR"), None),
            Status::Fail,
            Exactly("not a KRB-ERROR"),
        ),
        (
            evidence(Reach::Unreachable, Some("network unreachable"), None),
            Status::Fail,
            Exactly("network unreachable"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &kerberos::judge(&p, evidence), *status, says);
    }
}

#[test]
fn kpasswd_table() {
    let with: kpasswd::Params = params(r#"consequence = "password changes fail""#);
    let without: kpasswd::Params = params("");
    let evidence = |reach: Reach, error: Option<&str>, krb_error: Option<&str>| kpasswd::Evidence {
        address: sock("10.0.0.10:464"),
        reach,
        error: error.map(String::from),
        rtt_ms: (reach == Reach::Open).then_some(1.25),
        reply_bytes: None,
        krb_error: krb_error.map(String::from),
        realm: None,
        kpasswd_result: None,
    };
    let rows = [
        (
            &with,
            evidence(Reach::Open, None, Some("KRB_AP_ERR_MSG_TYPE")),
            Status::Pass,
            Exactly("the kpasswd service answers on UDP 464 (1.25 ms, KRB_AP_ERR_MSG_TYPE to the empty request)"),
        ),
        (
            &with,
            evidence(Reach::Open, None, None),
            Status::Pass,
            Exactly("the kpasswd service answers on UDP 464 (1.25 ms, an error to the empty request)"),
        ),
        (
            &with,
            evidence(Reach::Malformed, Some("not a KRB-ERROR"), None),
            Status::Fail,
            Exactly("UDP 464 answered, but not as kpasswd: not a KRB-ERROR: password changes fail"),
        ),
        (
            &with,
            evidence(Reach::Silent, Some("no answer within 2 s"), None),
            Status::Fail,
            Exactly("no answer within 2 s: password changes fail"),
        ),
        (
            &with,
            evidence(Reach::Refused, None, None),
            Status::Fail,
            Exactly("no answer: password changes fail"),
        ),
        (
            &without,
            evidence(Reach::Refused, Some("refused"), None),
            Status::Fail,
            Exactly("refused"),
        ),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &kpasswd::judge(p, evidence), *status, says);
    }
}

#[test]
fn an_unsynchronized_time_server_is_a_warning() {
    let p: ntp::Params = params("");
    let evidence = ntp::Evidence {
        address: sock("10.0.0.10:123"),
        reach: Reach::Open,
        error: None,
        rtt_ms: Some(1.0),
        answer: Some(ntp::NtpAnswer {
            stratum: 16,
            offset_ms: 5.0,
            delay_ms: 1.0,
            reference: "INIT".into(),
            synchronized: false,
        }),
    };
    assert_row(
        0,
        &ntp::judge(&p, &evidence),
        Status::Warn,
        &Exactly("NTP answers on UDP 123, but the DC's own clock is not synchronized (stratum 16): Windows does not take time from it; sync the PDC emulator with a reliable source"),
    );
}

#[test]
fn ntp_table() {
    let with: ntp::Params = params(r#"consequence = "clients cannot sync time""#);
    let without: ntp::Params = params("");
    let evidence = |reach: Reach, error: Option<&str>, offset_ms: Option<f64>| ntp::Evidence {
        address: sock("10.0.0.10:123"),
        reach,
        error: error.map(String::from),
        rtt_ms: offset_ms.map(|_| 1.0),
        answer: offset_ms.map(|offset_ms| ntp::NtpAnswer {
            stratum: 3,
            offset_ms,
            delay_ms: 1.0,
            reference: "10.0.0.1".into(),
            synchronized: true,
        }),
    };
    let rows = [
        (
            &with,
            evidence(Reach::Open, None, Some(12.34)),
            Status::Pass,
            Exactly("NTP answers on UDP 123: stratum 3, offset +12.3 ms"),
        ),
        (
            &without,
            evidence(Reach::Open, None, Some(-250.0)),
            Status::Pass,
            Exactly("NTP answers on UDP 123: stratum 3, offset -250.0 ms"),
        ),
        (
            &with,
            evidence(
                Reach::Malformed,
                Some("a 12-byte datagram is not an NTP packet"),
                None,
            ),
            Status::Fail,
            Exactly("a 12-byte datagram is not an NTP packet"),
        ),
        (
            &with,
            evidence(Reach::Silent, Some("no answer within 2 s"), None),
            Status::Fail,
            Exactly("no answer within 2 s: clients cannot sync time"),
        ),
        (
            &with,
            evidence(Reach::Refused, None, None),
            Status::Fail,
            Exactly("no answer: clients cannot sync time"),
        ),
        (
            &without,
            evidence(Reach::Refused, Some("refused"), None),
            Status::Fail,
            Exactly("refused"),
        ),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &ntp::judge(p, evidence), *status, says);
    }
}

#[test]
fn clock_table() {
    use clock::ClockSource::{Kdc, Ntp, Rootdse};
    let defaults: clock::Params = params("");
    let tight: clock::Params = params(
        r#"warn_at = "30s"
fail_at = "90s""#,
    );
    let minutes: clock::Params = params(
        r#"warn_at = "1m"
fail_at = "3m""#,
    );
    let evidence = |offset_ms: Option<f64>, source: Option<clock::ClockSource>| clock::Evidence {
        address: ip("10.0.0.10"),
        kdc_offset_ms: None,
        kdc_error: None,
        rootdse_current_time: None,
        rootdse_offset_ms: None,
        ntp_offset_ms: None,
        offset_ms,
        source,
    };
    let none = "cannot read the DC's clock: neither the KDC (UDP 88), NTP (UDP 123) nor the rootDSE (TCP 389) answered";
    let rows = [
        (&defaults, evidence(Some(250.0), Some(Kdc)), Status::Pass,
            Exactly("this device's clock agrees with the DC's (offset +0.250 s) (from the KDC time (KRB-ERROR stime))")),
        (&defaults, evidence(Some(-30_000.0), Some(Ntp)), Status::Pass,
            Exactly("this device's clock is 30.0 s ahead of the DC (from the DC's NTP answer)")),
        (&defaults, evidence(Some(119_999.0), Some(Kdc)), Status::Pass,
            Exactly("this device's clock is 120.0 s behind the DC (from the KDC time (KRB-ERROR stime))")),
        (&defaults, evidence(Some(120_000.0), Some(Rootdse)), Status::Warn,
            Exactly("this device's clock is 120.0 s behind the DC (from the rootDSE currentTime): over 2 minutes, close to Kerberos' 5-minute limit")),
        (&defaults, evidence(Some(-299_000.0), Some(Kdc)), Status::Warn,
            Exactly("this device's clock is 299.0 s ahead of the DC (from the KDC time (KRB-ERROR stime)): over 2 minutes, close to Kerberos' 5-minute limit")),
        (&defaults, evidence(Some(300_000.0), Some(Kdc)), Status::Fail,
            Exactly("this device's clock is 300.0 s behind the DC (from the KDC time (KRB-ERROR stime)): over Kerberos' 5-minute tolerance, the join and sign-in will fail")),
        (&defaults, evidence(Some(-3_600_000.0), Some(Ntp)), Status::Fail,
            Exactly("this device's clock is 3600.0 s ahead of the DC (from the DC's NTP answer): over Kerberos' 5-minute tolerance, the join and sign-in will fail")),
        (&defaults, evidence(None, None), Status::Fail, Exactly(none)),
        (&defaults, evidence(Some(10.0), None), Status::Fail, Exactly(none)),
        (&tight, evidence(Some(29_000.0), Some(Kdc)), Status::Pass,
            Exactly("this device's clock is 29.0 s behind the DC (from the KDC time (KRB-ERROR stime))")),
        (&tight, evidence(Some(-30_000.0), Some(Kdc)), Status::Warn,
            Exactly("this device's clock is 30.0 s ahead of the DC (from the KDC time (KRB-ERROR stime)): over 30s, close to Kerberos' 90s limit")),
        (&tight, evidence(Some(90_000.0), Some(Kdc)), Status::Fail,
            Exactly("this device's clock is 90.0 s behind the DC (from the KDC time (KRB-ERROR stime)): over Kerberos' 90s tolerance, the join and sign-in will fail")),
        (&minutes, evidence(Some(60_000.0), Some(Kdc)), Status::Warn,
            Contains(&[": over 1 ", "close to Kerberos' 3-minute limit"])),
        (&minutes, evidence(Some(-180_000.0), Some(Kdc)), Status::Fail,
            Contains(&["180.0 s ahead of the DC", "over Kerberos' 3-minute tolerance"])),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &clock::judge(p, evidence), *status, says);
    }
}

#[test]
fn locator_table() {
    let p: locator::Params = params("");
    let chosen = |expected_site: Option<&str>, client_site: &str| locator::Evidence {
        domain: "corp.example".into(),
        expected_site: expected_site.map(String::from),
        tried: vec![locator::Step {
            step: "any DC of the domain".into(),
            candidates: 2,
            answered: 1,
        }],
        chosen: s("dc1.corp.example"),
        address: Some(ip("10.0.0.10")),
        reason: s("first DC of the domain to answer"),
        dc_site: s("HQ"),
        client_site: s(client_site),
        closest: Some(true),
        rtt_ms: Some(2.0),
        checked: vec!["dc1.corp.example".into()],
        checked_because: "the chosen DC".into(),
        listed: 2,
        answered: 1,
    };
    let nobody = locator::Evidence {
        chosen: None,
        address: None,
        reason: None,
        dc_site: None,
        client_site: None,
        closest: None,
        rtt_ms: None,
        ..chosen(Some("HQ"), "")
    };
    let head = "dc1.corp.example (site HQ): first DC of the domain to answer";
    let rows = [
        (chosen(Some("HQ"), "HQ"), Status::Pass, Exactly(head)),
        (chosen(Some("hq"), "HQ"), Status::Pass, Exactly(head)),
        (chosen(None, "Branch"), Status::Pass, Exactly(head)),
        (chosen(None, ""), Status::Pass, Exactly(head)),
        (
            chosen(Some("Branch"), "HQ"),
            Status::Warn,
            Owned(format!("{head}; the profile expects site Branch but the DC puts this device in HQ")),
        ),
        (
            chosen(Some("Branch"), ""),
            Status::Warn,
            Owned(format!("{head}; the profile expects site Branch but the DC puts this device in no site")),
        ),
        (
            nobody,
            Status::Fail,
            Exactly("no DC of corp.example answered the LDAP ping (CLDAP, UDP 389): Windows reports 0x80070774, domain controller not found"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &locator::judge(&p, evidence), *status, says);
    }
}

#[test]
fn tcp_table() {
    let with: tcp::Params = params(
        r#"port = 88
consequence = "Kerberos over TCP fails (large tickets, join error 0x40)""#,
    );
    let without: tcp::Params = params("port = 3268");
    let evidence = |reach: Reach, connect_ms: Option<f64>, error: Option<&str>| tcp::Evidence {
        address: sock("10.0.0.10:88"),
        reach,
        connect_ms,
        error: error.map(String::from),
    };
    let rows = [
        (&with, evidence(Reach::Open, Some(1.5), None), Status::Pass, Exactly("TCP 88 open (1.5 ms)")),
        (
            &with,
            evidence(Reach::Refused, None, Some("refused (TCP reset)")),
            Status::Fail,
            Exactly("TCP 88 refused (TCP reset): Kerberos over TCP fails (large tickets, join error 0x40)"),
        ),
        (
            &with,
            evidence(Reach::Silent, None, Some("no answer within 2 s")),
            Status::Fail,
            Exactly("TCP 88 no answer within 2 s: Kerberos over TCP fails (large tickets, join error 0x40)"),
        ),
        (
            &with,
            evidence(Reach::Unreachable, None, None),
            Status::Fail,
            Exactly("TCP 88 closed: Kerberos over TCP fails (large tickets, join error 0x40)"),
        ),
        (
            &without,
            evidence(Reach::Refused, None, Some("refused (TCP reset)")),
            Status::Fail,
            Exactly("TCP 3268 refused (TCP reset)"),
        ),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &tcp::judge(p, evidence), *status, says);
    }
}

#[test]
fn ldap_rootdse_table() {
    let p: ldap_rootdse::Params = params("");
    let evidence = |error: Option<&str>, attributes: &[(&str, &str)]| ldap_rootdse::Evidence {
        address: sock("10.0.0.10:389"),
        reach: if error.is_some() {
            Reach::Refused
        } else {
            Reach::Open
        },
        error: error.map(String::from),
        connect_ms: Some(1.0),
        answer_ms: error.is_none().then_some(4.5),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect::<HashMap<_, _>>(),
    };
    let rows = [
        (
            evidence(None, &[("dnsHostName", "dc1.corp.example"), ("defaultNamingContext", "DC=corp,DC=example"), ("domainFunctionality", "7")]),
            Status::Pass,
            Exactly("dc1.corp.example answers: DC=corp,DC=example, domain functional level 2016 (7), 4.5 ms"),
        ),
        (
            evidence(None, &[("DNSHOSTNAME", "dc1.corp.example"), ("defaultnamingcontext", "DC=corp,DC=example"), ("domainFunctionality", "10")]),
            Status::Pass,
            Exactly("dc1.corp.example answers: DC=corp,DC=example, domain functional level 2025 (10), 4.5 ms"),
        ),
        (
            evidence(None, &[("domainFunctionality", "8")]),
            Status::Pass,
            Exactly("? answers: ?, domain functional level level 8, 4.5 ms"),
        ),
        (
            evidence(None, &[]),
            Status::Pass,
            Exactly("? answers: ?, domain functional level ?, 4.5 ms"),
        ),
        (
            evidence(Some("TCP 389 refused (TCP reset)"), &[]),
            Status::Fail,
            Exactly("TCP 389 refused (TCP reset)"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &ldap_rootdse::judge(&p, evidence), *status, says);
    }
}

#[test]
fn ldap_bind_table() {
    let p: ldap_bind::Params = params("");
    let user = "svc-join@corp.example";
    let evidence = |transport: Transport,
                    user: Option<&str>,
                    error: Option<&str>,
                    result_code: Option<u32>,
                    server_message: Option<&str>,
                    tls: Option<TlsEvidence>| ldap_bind::Evidence {
        address: sock("10.0.0.10:389"),
        transport,
        user: user.map(String::from),
        reach: Reach::Open,
        error: error.map(String::from),
        result_code,
        server_message: server_message.map(String::from),
        tls,
        bind_ms: error.is_none().then_some(2.0),
    };
    let rows = [
        (
            evidence(Transport::Plain, None, None, None, None, None),
            Status::Pass,
            Exactly("anonymous bind over plain LDAP succeeded (2 ms)"),
        ),
        (
            evidence(Transport::StartTls, Some(user), None, None, None, Some(tls(None, 200))),
            Status::Pass,
            Owned(format!("simple bind as {user} over StartTLS succeeded (2 ms); {CERT_OK}")),
        ),
        (
            evidence(Transport::Plain, Some(user), Some("bind refused: strongerAuthRequired"), Some(8),
                Some("00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking\0"), None),
            Status::Fail,
            Owned(format!("simple bind as {user} over plain LDAP refused with resultCode 8 (strongerAuthRequired): the DC requires signing or TLS for simple binds; set [ldap] tls = \"starttls\" or \"ldaps\" (server says: 00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking)")),
        ),
        (
            evidence(Transport::Ldaps, Some(user), Some("bind refused: invalidCredentials"), Some(49),
                Some("80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"), Some(tls(None, 200))),
            Status::Fail,
            Owned(format!("simple bind as {user} over LDAPS refused with resultCode 49 (invalidCredentials): wrong user name or password, or the account is disabled, locked or expired (server says: 80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563)")),
        ),
        (
            evidence(Transport::Ldaps, Some(user), Some("bind refused: invalidCredentials"), Some(49), Some(" \0"), None),
            Status::Fail,
            Owned(format!("simple bind as {user} over LDAPS refused with resultCode 49 (invalidCredentials): wrong user name or password, or the account is disabled, locked or expired")),
        ),
        (
            evidence(Transport::Ldaps, Some(user), Some("TLS failed: invalid peer certificate: UnknownIssuer"), None, None,
                Some(tls(Some(CertificateProblem::UntrustedIssuer), 200))),
            Status::Fail,
            Exactly("LDAPS to the DC failed: the certificate CN=dc1.corp.example is issued by CN=Corp Root CA, which this device does not trust"),
        ),
        (
            evidence(Transport::StartTls, None, Some("TLS failed: peer closed connection without sending TLS close_notify"), None, None,
                Some(tls(None, 200))),
            Status::Fail,
            Exactly("StartTLS to the DC failed: peer closed connection without sending TLS close_notify"),
        ),
        (
            evidence(Transport::Ldaps, Some(user), Some("TCP 636 refused (TCP reset)"), None, None, None),
            Status::Fail,
            Owned(format!("simple bind as {user} over LDAPS failed: TCP 636 refused (TCP reset)")),
        ),
        (
            evidence(Transport::Plain, None, Some("bind refused: unwillingToPerform"), Some(53), None, None),
            Status::Fail,
            Exactly("anonymous bind over plain LDAP failed: bind refused: unwillingToPerform"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &ldap_bind::judge(&p, evidence), *status, says);
    }
}

#[test]
fn directory_table() {
    use directory::{Question, Stage};
    let p: directory::Params = params(r#"question = "ou_exists""#);
    let ou = "OU=Devices,DC=corp,DC=example";
    let user = "svc-join@corp.example";
    let base = |question: Question| directory::Evidence {
        question,
        dc: "dc1.corp.example".into(),
        user: user.into(),
        failed_at: None,
        error: None,
        ou: s(ou),
        exists: Some(true),
        allowed_child_classes_effective: None,
        domain_head: None,
        ms_ds_machine_account_quota: None,
        dn: None,
        keywords: None,
        azure_ad_name: None,
        azure_ad_id: None,
        tenant: s("contoso.onmicrosoft.com"),
    };
    let failed = |question: Question, stage: Stage, error: &str| directory::Evidence {
        failed_at: Some(stage),
        error: s(error),
        exists: None,
        ..base(question)
    };
    let exists = |question: Question, exists: Option<bool>| directory::Evidence {
        exists,
        ..base(question)
    };
    let classes = |classes: Option<&[&str]>| directory::Evidence {
        allowed_child_classes_effective: classes
            .map(|c| c.iter().map(|class| class.to_string()).collect()),
        ..base(Question::OuCreateComputer)
    };
    let quota = |value: Option<&str>| directory::Evidence {
        ou: None,
        exists: None,
        domain_head: s("DC=corp,DC=example"),
        ms_ds_machine_account_quota: value.map(String::from),
        ..base(Question::MachineAccountQuota)
    };
    let scp_dn = "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services,CN=Configuration,DC=corp,DC=example";
    let scp = |exists: bool, name: Option<&str>, id: Option<&str>, tenant: Option<&str>| {
        directory::Evidence {
            ou: None,
            exists: Some(exists),
            dn: s(scp_dn),
            keywords: exists.then(Vec::new),
            azure_ad_name: name.map(String::from),
            azure_ad_id: id.map(String::from),
            tenant: tenant.map(String::from),
            ..base(Question::RegistrationScp)
        }
    };
    let id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let rows = [
        (
            failed(Question::OuExists, Stage::Bind, "bind refused: invalidCredentials"),
            Status::Fail,
            Owned(format!("cannot read the directory on dc1.corp.example as {user}: bind refused: invalidCredentials")),
        ),
        (
            failed(Question::RegistrationScp, Stage::Bind, "TCP 389 refused (TCP reset)"),
            Status::Fail,
            Owned(format!("cannot read the directory on dc1.corp.example as {user}: TCP 389 refused (TCP reset)")),
        ),
        (
            failed(Question::MachineAccountQuota, Stage::Read, "no answer within 5 s"),
            Status::Fail,
            Exactly("reading the directory on dc1.corp.example failed: no answer within 5 s"),
        ),
        (
            exists(Question::OuExists, Some(true)),
            Status::Pass,
            Owned(format!("{ou} exists (read on dc1.corp.example)")),
        ),
        (
            exists(Question::OuExists, Some(false)),
            Status::Fail,
            Owned(format!("{ou} does not exist (read on dc1.corp.example as {user}): the Intune Connector cannot create the computer object there")),
        ),
        (
            exists(Question::OuExists, None),
            Status::Fail,
            Contains(&["does not exist"]),
        ),
        (
            exists(Question::OuCreateComputer, Some(false)),
            Status::Fail,
            Owned(format!("{ou} does not exist (read on dc1.corp.example)")),
        ),
        (
            classes(Some(&["organizationalUnit", "Computer", "user"])),
            Status::Pass,
            Owned(format!("{user} may create computer objects in {ou}")),
        ),
        (
            classes(Some(&["user", "group"])),
            Status::Fail,
            Owned(format!("{user} may not create computer objects in {ou}: the hybrid join's computer object cannot be created")),
        ),
        (
            classes(None),
            Status::Fail,
            Contains(&["may not create computer objects"]),
        ),
        (
            quota(Some("0")),
            Status::Pass,
            Exactly("ms-DS-MachineAccountQuota is 0: only accounts with delegated rights on the OU can join computers (fine for the Intune Connector)"),
        ),
        (quota(Some("10")), Status::Pass, Exactly("ms-DS-MachineAccountQuota is 10 (the default)")),
        (quota(Some("5")), Status::Pass, Exactly("ms-DS-MachineAccountQuota is 5")),
        (
            quota(None),
            Status::Warn,
            Owned(format!("ms-DS-MachineAccountQuota is not readable by {user} on DC=corp,DC=example")),
        ),
        (
            scp(false, None, None, Some("contoso.onmicrosoft.com")),
            Status::Fail,
            Owned(format!("no Device Registration service connection point ({scp_dn}): devices cannot find the Entra tenant; configure hybrid join in Microsoft Entra Connect")),
        ),
        (
            scp(true, None, Some(id), Some("contoso.onmicrosoft.com")),
            Status::Fail,
            Exactly("the registration SCP lacks azureADName: re-run the hybrid join configuration in Microsoft Entra Connect"),
        ),
        (
            scp(true, Some("contoso.onmicrosoft.com"), None, Some("contoso.onmicrosoft.com")),
            Status::Fail,
            Exactly("the registration SCP lacks azureADId: re-run the hybrid join configuration in Microsoft Entra Connect"),
        ),
        (
            scp(true, Some("fabrikam.onmicrosoft.com"), Some(id), Some("contoso.onmicrosoft.com")),
            Status::Fail,
            Exactly("the registration SCP names tenant fabrikam.onmicrosoft.com, the profile expects contoso.onmicrosoft.com: devices would register in the wrong tenant"),
        ),
        (
            scp(true, Some("Contoso.onmicrosoft.com"), Some(id), Some("contoso.onmicrosoft.com")),
            Status::Pass,
            Owned(format!("the registration SCP names tenant Contoso.onmicrosoft.com ({id})")),
        ),
        (
            scp(true, Some("fabrikam.onmicrosoft.com"), Some(id), None),
            Status::Pass,
            Owned(format!("the registration SCP names tenant fabrikam.onmicrosoft.com ({id})")),
        ),
        // A profile that names the tenant by its ID is held to azureADId, not azureADName.
        (
            scp(true, Some("contoso.onmicrosoft.com"), Some(id), Some(&id.to_uppercase())),
            Status::Pass,
            Owned(format!("the registration SCP names tenant contoso.onmicrosoft.com ({id})")),
        ),
        (
            scp(true, Some("contoso.onmicrosoft.com"), Some(id), Some("5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d")),
            Status::Fail,
            Owned(format!("the registration SCP names tenant contoso.onmicrosoft.com ({id}), the profile expects tenant ID 5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d: devices would register in the wrong tenant")),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &directory::judge(&p, evidence), *status, says);
    }
}

fn gateway_address() -> Option<SocketAddr> {
    Some(sock("203.0.113.10:500"))
}

fn ike_answer(answer: IkeAnswer, sent: u32) -> IkeEvidence {
    IkeEvidence {
        address: sock("203.0.113.10:500"),
        nat_t: false,
        rtt_ms: 12.5,
        sent,
        answer,
        responder_spi: s("0011223344556677"),
        notifies: Vec::new(),
        vendor_ids: Vec::new(),
        ignored_datagrams: 0,
        certificate_authorities: Vec::new(),
    }
}

#[test]
fn ike_table() {
    let p: ike::Params = params("");
    let evidence = |host: &str,
                    port: u16,
                    nat_t: bool,
                    address: Option<SocketAddr>,
                    reach: Reach,
                    error: Option<&str>,
                    ike: Option<IkeEvidence>| ike::Evidence {
        gateway: host.into(),
        port,
        nat_t,
        resolved: None,
        address,
        reach,
        error: error.map(String::from),
        ike,
    };
    let host = "vpn.corp.example";
    let missing = |reach, error| evidence(host, 500, false, gateway_address(), reach, error, None);
    let answered = |answer, sent| {
        evidence(
            host,
            500,
            false,
            gateway_address(),
            Reach::Open,
            None,
            Some(ike_answer(answer, sent)),
        )
    };
    let head = "IKEv2 responder on UDP 500 of vpn.corp.example (203.0.113.10) answered in 12.5 ms";
    let rows = [
        (
            evidence(host, 500, false, None, Reach::Unreachable, Some("NXDOMAIN: the device cannot find the VPN gateway"), None),
            Status::Fail,
            Exactly("NXDOMAIN: the device cannot find the VPN gateway"),
        ),
        (
            missing(Reach::Refused, Some("refused")),
            Status::Fail,
            Exactly("UDP 500 on vpn.corp.example (203.0.113.10) refused (ICMP port unreachable): the host is up but no IKE service listens there"),
        ),
        (
            missing(Reach::Silent, Some("no answer to 3 requests within 5 s")),
            Status::Fail,
            Exactly("UDP 500 on vpn.corp.example (203.0.113.10): no answer to 3 requests within 5 s: a firewall drops UDP 500 or the gateway is down"),
        ),
        (
            evidence("203.0.113.10", 4500, true, Some(sock("203.0.113.10:4500")), Reach::Silent, None, None),
            Status::Fail,
            Exactly("UDP 4500 (NAT-T) on 203.0.113.10: no answer: a firewall drops UDP 4500 or the gateway is down"),
        ),
        (
            missing(Reach::Malformed, Some("2 datagrams, none a reply to our SPI")),
            Status::Fail,
            Exactly("UDP 500 on vpn.corp.example (203.0.113.10): 2 datagrams, none a reply to our SPI: something answers on UDP 500, but not as an IKEv2 responder"),
        ),
        (
            missing(Reach::Unreachable, Some("network unreachable")),
            Status::Fail,
            Exactly("UDP 500 on vpn.corp.example (203.0.113.10): network unreachable"),
        ),
        (
            answered(IkeAnswer::Accepted { proposal: "AES-GCM-256/PRF-SHA-384/ECP-256".into() }, 1),
            Status::Pass,
            Owned(format!("{head}: proposal accepted: AES-GCM-256/PRF-SHA-384/ECP-256")),
        ),
        (
            answered(IkeAnswer::Cookie, 3),
            Status::Pass,
            Owned(format!("{head} after 3 requests: COOKIE (asks for a cookie round trip)")),
        ),
        (
            answered(IkeAnswer::InvalidKe { group: "MODP-2048".into(), group_id: 14 }, 1),
            Status::Pass,
            Owned(format!("{head}: INVALID_KE_PAYLOAD, wants DH group MODP-2048 (14)")),
        ),
        (
            answered(IkeAnswer::Malformed { error: "truncated payload".into() }, 1),
            Status::Pass,
            Owned(format!("{head} (alive: it echoed our SPI): a response we could not decode: truncated payload")),
        ),
        (
            answered(IkeAnswer::NoProposalChosen, 1),
            Status::Warn,
            Owned(format!("{head} NO_PROPOSAL_CHOSEN: it is alive but accepts none of AES-CBC/AES-GCM with SHA-2 and ECP-256; make the client's IPsec settings match the gateway's")),
        ),
        (
            answered(IkeAnswer::OtherNotify { notify: "AUTHENTICATION_FAILED".into(), code: 24 }, 2),
            Status::Warn,
            Owned(format!("{head} after 2 requests (alive) with error notify AUTHENTICATION_FAILED (24)")),
        ),
        (
            answered(IkeAnswer::MissingSa, 1),
            Status::Warn,
            Owned(format!("{head} (alive) with a response without SA payload or error notify")),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &ike::judge(&p, evidence), *status, says);
    }
}

fn portal(status: u16, tls: Option<TlsEvidence>) -> PortalEvidence {
    PortalEvidence {
        address: sock("203.0.113.10:443"),
        url: "https://vpn.corp.example/".into(),
        connect_ms: 5.0,
        tls_ms: 20.5,
        tls_version: s("TLSv1_3"),
        tls,
        response_ms: 30.0,
        status,
        status_line: format!("HTTP/1.1 {status}"),
        server: None,
        location: None,
    }
}

#[test]
fn vpn_tls_table() {
    let defaults: vpn_tls::Params = params("");
    let month: vpn_tls::Params = params("certificate_warn_days = 30");
    let evidence = |address: Option<SocketAddr>,
                    error: Option<&str>,
                    phase: Option<Phase>,
                    tls: Option<TlsEvidence>,
                    portal: Option<PortalEvidence>| vpn_tls::Evidence {
        gateway: "vpn.corp.example".into(),
        port: 443,
        resolved: None,
        address,
        reach: if portal.is_some() {
            Reach::Open
        } else {
            Reach::Refused
        },
        error: error.map(String::from),
        phase,
        tls,
        portal,
    };
    let at = Some(sock("203.0.113.10:443"));
    let mismatch = TlsEvidence {
        chain: vec![leaf(&["portal.other.example", "*.other.example"], 200)],
        ..tls(Some(CertificateProblem::NameMismatch), 200)
    };
    let served = |status, days| {
        evidence(
            at,
            None,
            None,
            None,
            Some(portal(status, Some(tls(None, days)))),
        )
    };
    let head = |status: u16| {
        format!(
            "portal https://vpn.corp.example/ (203.0.113.10) answered HTTP {status} (TLS 20.5 ms)"
        )
    };
    let rows = [
        (
            &defaults,
            evidence(None, Some("vpn.corp.example resolved to no address"), None, None, None),
            Status::Fail,
            Exactly("vpn.corp.example resolved to no address"),
        ),
        (
            &defaults,
            evidence(at, Some("TLS failed"), Some(Phase::Tls), Some(mismatch), None),
            Status::Fail,
            Exactly("TLS to the portal on vpn.corp.example (203.0.113.10) port 443 failed: the certificate is for portal.other.example, *.other.example but the gateway was reached as vpn.corp.example"),
        ),
        (
            &defaults,
            evidence(at, Some("TLS failed"), Some(Phase::Tls), Some(tls(Some(CertificateProblem::UntrustedIssuer), 200)), None),
            Status::Fail,
            Exactly("TLS to the portal on vpn.corp.example (203.0.113.10) port 443 failed: the certificate CN=dc1.corp.example is issued by CN=Corp Root CA, which this device does not trust"),
        ),
        (
            &defaults,
            evidence(at, Some("TCP 443 refused (TCP reset)"), Some(Phase::Connect), None, None),
            Status::Fail,
            Exactly("portal on vpn.corp.example (203.0.113.10): TCP 443 refused (TCP reset)"),
        ),
        (
            &defaults,
            evidence(at, Some("the answer is not HTTP"), Some(Phase::Read), None, None),
            Status::Fail,
            Exactly("portal on vpn.corp.example (203.0.113.10) port 443: the answer is not HTTP"),
        ),
        (&defaults, served(302, 200), Status::Pass, Owned(format!("{}; {CERT_OK}", head(302)))),
        (&defaults, served(200, 200), Status::Pass, Owned(format!("{}; {CERT_OK}", head(200)))),
        (&defaults, served(401, 200), Status::Pass, Owned(format!("{}; {CERT_OK}", head(401)))),
        (&defaults, served(403, 200), Status::Pass, Owned(format!("{}; {CERT_OK}", head(403)))),
        (
            &defaults,
            evidence(at, None, None, None, Some(portal(200, None))),
            Status::Pass,
            Owned(head(200)),
        ),
        (
            &defaults,
            served(404, 200),
            Status::Warn,
            Owned(format!("{}; {CERT_OK}: the gateway answers TLS but its portal reports an error", head(404))),
        ),
        (
            &defaults,
            served(502, 5),
            Status::Warn,
            Contains(&["answered HTTP 502", ": the gateway answers TLS but its portal reports an error"]),
        ),
        (
            &defaults,
            served(200, 5),
            Status::Warn,
            Contains(&["answered HTTP 200", "valid 5 more days: the certificate expires in 5 days, renew it"]),
        ),
        (&defaults, served(200, 14), Status::Pass, Contains(&["valid 14 more days"])),
        (
            &month,
            served(200, 20),
            Status::Warn,
            Contains(&[": the certificate expires in 20 days, renew it"]),
        ),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &vpn_tls::judge(p, evidence), *status, says);
    }
}

#[test]
fn vpn_tcp_table() {
    let p: vpn_tcp::Params = params("");
    let evidence = |address: Option<SocketAddr>,
                    reach: Reach,
                    connect_ms: Option<f64>,
                    error: Option<&str>| {
        vpn_tcp::Evidence {
            gateway: "vpn.corp.example".into(),
            port: 1194,
            resolved: None,
            address,
            reach,
            connect_ms,
            error: error.map(String::from),
        }
    };
    let at = Some(sock("203.0.113.10:1194"));
    let rows = [
        (
            evidence(at, Reach::Open, Some(4.0), None),
            Status::Pass,
            Exactly("TCP 1194 open on vpn.corp.example (203.0.113.10) (4 ms)"),
        ),
        (
            evidence(at, Reach::Refused, None, Some("refused (TCP reset)")),
            Status::Fail,
            Exactly("TCP 1194 on vpn.corp.example (203.0.113.10) refused (TCP reset): the VPN client cannot reach the gateway"),
        ),
        (
            evidence(at, Reach::Silent, None, None),
            Status::Fail,
            Exactly("TCP 1194 on vpn.corp.example (203.0.113.10) no answer: the VPN client cannot reach the gateway"),
        ),
        (
            evidence(None, Reach::Unreachable, None, Some("NXDOMAIN: the device cannot find the VPN gateway")),
            Status::Fail,
            Exactly("NXDOMAIN: the device cannot find the VPN gateway"),
        ),
        (
            evidence(None, Reach::Unreachable, None, None),
            Status::Fail,
            Exactly("no answer"),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &vpn_tcp::judge(&p, evidence), *status, says);
    }
}

#[test]
fn wpad_table() {
    use wpad::{Asked, Mode, Outcome};
    let p: wpad::Params = params("");
    let evidence = |mode: Mode, outcome: Outcome| wpad::Evidence {
        mode,
        outcome,
        proxy: None,
        variable: None,
        asked: Vec::new(),
        url: None,
        address: None,
        error: None,
        fetch: None,
        trial: None,
        pac_error: None,
    };
    let named = |name: &str| Asked {
        name: s(name),
        answer: s("NXDOMAIN"),
        ..Asked::default()
    };
    let lease = Asked {
        dhcp_lease: s("/var/lib/dhcp/dhclient.eth0.leases"),
        ..Asked::default()
    };
    let url = "http://wpad.corp.example/wpad.dat";
    let fetched =
        |outcome: Outcome, status_line: &str, content_type: Option<&str>| wpad::Evidence {
            url: s(url),
            address: Some(sock("10.0.0.5:80")),
            fetch: Some(WpadFetch {
                url: url.into(),
                address: sock("10.0.0.5:80"),
                connect_ms: 1.0,
                status: status_line[9..12].parse().unwrap(),
                status_line: status_line.into(),
                content_type: content_type.map(String::from),
                bytes: 512,
                ms: 4.2,
                body: String::new(),
            }),
            ..evidence(Mode::Wpad, outcome)
        };
    let served = format!("{url} (10.0.0.5) answers HTTP/1.1 200 OK");
    let rows = [
        (
            wpad::Evidence {
                proxy: s("http://proxy.corp.example:3128"),
                variable: s("HTTPS_PROXY"),
                ..evidence(Mode::Environment, Outcome::Named)
            },
            Status::Pass,
            Exactly("HTTPS_PROXY=http://proxy.corp.example:3128 from the environment; WPAD is not consulted (Windows' machine context reads `netsh winhttp` instead)"),
        ),
        (
            wpad::Evidence {
                proxy: s("http://proxy.corp.example:3128"),
                ..evidence(Mode::Explicit, Outcome::Named)
            },
            Status::Pass,
            Exactly("explicit proxy http://proxy.corp.example:3128 from the profile; WPAD is not consulted"),
        ),
        (
            evidence(Mode::Direct, Outcome::Off),
            Status::Pass,
            Exactly("WPAD is off in the profile and no proxy is named: the device connects directly"),
        ),
        (
            wpad::Evidence {
                asked: vec![named("wpad.corp.example")],
                ..evidence(Mode::Direct, Outcome::NotFound)
            },
            Status::Pass,
            Exactly("no WPAD: wpad.corp.example does not resolve, so the device connects directly (Windows DNS servers block the name wpad unless it is removed from their global query block list)"),
        ),
        (
            wpad::Evidence {
                asked: vec![lease.clone(), named("wpad.eu.corp.example"), named("wpad.corp.example")],
                ..evidence(Mode::Direct, Outcome::NotFound)
            },
            Status::Pass,
            Contains(&["no WPAD: wpad.eu.corp.example and wpad.corp.example do not resolve, so the device connects directly"]),
        ),
        (
            wpad::Evidence {
                asked: vec![lease.clone()],
                ..evidence(Mode::Direct, Outcome::NotFound)
            },
            Status::Pass,
            Exactly("no WPAD: no DHCP option 252 and no DNS suffix to look for wpad under, so the device connects directly"),
        ),
        (
            wpad::Evidence {
                asked: vec![lease.clone()],
                url: s("https://pac.corp.example/proxy.pac"),
                ..evidence(Mode::Dhcp, Outcome::DhcpNotHttp)
            },
            Status::Warn,
            Exactly("DHCP option 252 in /var/lib/dhcp/dhclient.eth0.leases names https://pac.corp.example/proxy.pac, which is not an http:// URL WinHTTP fetches; Windows then tries DNS"),
        ),
        (
            wpad::Evidence {
                asked: vec![lease],
                url: s("http://pac.corp.example:8080/proxy.pac"),
                ..evidence(Mode::Dhcp, Outcome::DhcpUnresolved)
            },
            Status::Warn,
            Exactly("DHCP option 252 in /var/lib/dhcp/dhclient.eth0.leases names http://pac.corp.example:8080/proxy.pac, but pac.corp.example does not resolve"),
        ),
        (
            wpad::Evidence {
                url: s(url),
                address: Some(sock("10.0.0.5:80")),
                error: s("TCP 80 refused (TCP reset)"),
                ..evidence(Mode::Wpad, Outcome::FetchFailed)
            },
            Status::Warn,
            Owned(format!("WPAD names {url} (10.0.0.5) but fetching it failed: TCP 80 refused (TCP reset); Windows then connects directly")),
        ),
        (
            fetched(Outcome::NotServed, "HTTP/1.1 404 Not Found", Some("text/html")),
            Status::Warn,
            Owned(format!("WPAD: {url} (10.0.0.5) answers HTTP/1.1 404 Not Found (text/html, 512 bytes, 4 ms): no PAC file there, so Windows connects directly")),
        ),
        (
            fetched(Outcome::ScriptRuns, "HTTP/1.1 200 OK", Some(PAC_MIME)),
            Status::Pass,
            Owned(format!("WPAD: {served} ({PAC_MIME}, 512 bytes, 4 ms); the PAC script runs")),
        ),
        (
            fetched(Outcome::ScriptRuns, "HTTP/1.1 200 OK", Some("application/x-ns-proxy-autoconfig; charset=utf-8")),
            Status::Pass,
            Owned(format!("WPAD: {served} (application/x-ns-proxy-autoconfig; charset=utf-8, 512 bytes, 4 ms); the PAC script runs")),
        ),
        (
            fetched(Outcome::ScriptRuns, "HTTP/1.1 200 OK", Some("text/plain")),
            Status::Pass,
            Owned(format!("WPAD: {served} (text/plain, 512 bytes, 4 ms); the PAC script runs (served without the type {PAC_MIME}; WinHTTP accepts it, some browsers do not)")),
        ),
        (
            fetched(Outcome::ScriptRuns, "HTTP/1.1 200 OK", None),
            Status::Pass,
            Contains(&["(no content type, 512 bytes, 4 ms); the PAC script runs (served without the type"]),
        ),
        (
            wpad::Evidence {
                pac_error: Some(crate::pac::PacError::NoFunction),
                ..fetched(Outcome::ScriptFails, "HTTP/1.1 200 OK", Some(PAC_MIME))
            },
            Status::Warn,
            Owned(format!("WPAD: {served} ({PAC_MIME}, 512 bytes, 4 ms), but the PAC script fails: the PAC script defines no function FindProxyForURL(url, host); Windows then connects directly")),
        ),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &wpad::judge(&p, evidence), *status, says);
    }
}

fn endpoint_def(
    host: &str,
    protocol: EndpointProtocol,
    tls_inspection: TlsInspection,
) -> EndpointDef {
    EndpointDef {
        host: host.into(),
        port: match protocol {
            EndpointProtocol::Https => 443,
            EndpointProtocol::Http => 80,
            EndpointProtocol::Ntp => 123,
        },
        protocol,
        path: "/".into(),
        sets: vec!["hybrid_join".into()],
        purpose: "device registration".into(),
        source: "https://learn.microsoft.com/".into(),
        tls_inspection,
        wildcard: None,
        optional: false,
        expect_body: None,
    }
}

fn attempt(hop: &str, broken_link: Option<endpoint::Link>) -> endpoint::Attempt {
    endpoint::Attempt {
        hop: hop.into(),
        broken_link,
        error: None,
        evidence: None,
    }
}

fn inspection(public_root: bool, ends_at: &str) -> Inspection {
    Inspection {
        public_root,
        ends_at: ends_at.into(),
        public_roots: "webpki-roots".into(),
        profile_root: false,
        error: (!public_root).then(|| "UnknownIssuer".to_string()),
    }
}

/// A direct HTTPS request that reached the endpoint through a public chain.
fn reached(def: EndpointDef) -> endpoint::Evidence {
    endpoint::Evidence {
        url: format!("https://{}/", def.host),
        endpoint: def,
        route: Some(endpoint::RouteEvidence {
            source: "direct".into(),
            pac_result: None,
            hops: vec!["DIRECT".into()],
            skipped: Vec::new(),
        }),
        pac: None,
        tried: vec![attempt("DIRECT", None)],
        hop: endpoint::HopEvidence {
            address: Some(sock("20.190.151.68:443")),
            reach: Some(Reach::Open),
            http: Some(endpoint::HttpStatus {
                status: 200,
                status_line: "HTTP/1.1 200 OK".into(),
                total_ms: 85.2,
            }),
            tls: Some(tls(None, 200)),
            tls_version: s("TLSv1_3"),
            tls_ms: Some(40.0),
            ..endpoint::HopEvidence::default()
        },
        inspection: Some(inspection(true, "DigiCert Global Root G2")),
        authenticated: false,
        broken_link: None,
        broken: None,
        ntp: None,
        revocation: Vec::new(),
    }
}

fn broken(
    def: EndpointDef,
    tried: Vec<endpoint::Attempt>,
    link: endpoint::Link,
    what: &str,
) -> endpoint::Evidence {
    let base = reached(def);
    endpoint::Evidence {
        tried,
        hop: endpoint::HopEvidence::default(),
        inspection: None,
        broken_link: Some(link),
        broken: s(what),
        ..base
    }
}

fn ntp_endpoint(offset_ms: Option<f64>, broken: Option<&str>) -> endpoint::Evidence {
    let def = endpoint_def(
        "time.windows.com",
        EndpointProtocol::Ntp,
        TlsInspection::Allowed,
    );
    endpoint::Evidence {
        url: "ntp://time.windows.com".into(),
        endpoint: def,
        route: None,
        pac: None,
        tried: Vec::new(),
        hop: endpoint::HopEvidence {
            address: Some(sock("51.145.123.29:123")),
            reach: Some(if offset_ms.is_some() {
                Reach::Open
            } else {
                Reach::Silent
            }),
            ..endpoint::HopEvidence::default()
        },
        inspection: None,
        authenticated: false,
        broken_link: broken.map(|_| endpoint::Link::Ntp),
        broken: broken.map(String::from),
        ntp: offset_ms.map(|offset_ms| ntp::NtpAnswer {
            stratum: 2,
            offset_ms,
            delay_ms: 20.0,
            reference: "GPS".into(),
            synchronized: true,
        }),
        revocation: Vec::new(),
    }
}

#[test]
fn endpoint_table() {
    use endpoint::Link;
    let defaults: endpoint::Params = params("");
    let tight: endpoint::Params = params(r#"clock_warn_at = "30s""#);
    let host = "enterpriseregistration.windows.net";
    let forbidden = || endpoint_def(host, EndpointProtocol::Https, TlsInspection::Forbidden);
    let allowed = || endpoint_def(host, EndpointProtocol::Https, TlsInspection::Allowed);
    let via_pac = |evidence: endpoint::Evidence| endpoint::Evidence {
        route: Some(endpoint::RouteEvidence {
            source: "PAC http://wpad.corp.example/wpad.dat".into(),
            pac_result: s("PROXY proxy.corp.example:3128; DIRECT"),
            hops: vec!["PROXY proxy.corp.example:3128".into(), "DIRECT".into()],
            skipped: Vec::new(),
        }),
        tried: vec![attempt("PROXY proxy.corp.example:3128", None)],
        ..evidence
    };
    let pac_head = "PAC http://wpad.corp.example/wpad.dat says PROXY proxy.corp.example:3128; DIRECT for this URL; PROXY proxy.corp.example:3128";
    let answers = format!(
        "{host} answers HTTP/1.1 200 OK in 85 ms; TLSv1_3, chain ends at DigiCert Global Root G2"
    );
    let inspected = |def: EndpointDef| endpoint::Evidence {
        inspection: Some(inspection(false, "CN=Corp Proxy Inspection CA")),
        // As observe leaves a route followed to its end: the link named, no `broken` text.
        broken_link: Some(Link::TlsInspection),
        ..via_pac(reached(def))
    };
    let said = format!("{pac_head}: TLS inspection: the certificate chain for {host} ends at CN=Corp Proxy Inspection CA, not a public root");
    let rows = [
        (&defaults, reached(forbidden()), Status::Pass, Owned(format!("DIRECT (direct): {answers}"))),
        (&defaults, via_pac(reached(forbidden())), Status::Pass, Owned(format!("{pac_head}: {answers}"))),
        (
            &defaults,
            endpoint::Evidence {
                hop: endpoint::HopEvidence {
                    http: Some(endpoint::HttpStatus {
                        status: 200,
                        status_line: "HTTP/1.1 200 OK".into(),
                        total_ms: 12.0,
                    }),
                    ..endpoint::HopEvidence::default()
                },
                inspection: None,
                ..reached(endpoint_def("www.msftconnecttest.com", EndpointProtocol::Http, TlsInspection::Allowed))
            },
            Status::Pass,
            Exactly("DIRECT (direct): www.msftconnecttest.com answers HTTP/1.1 200 OK in 12 ms"),
        ),
        (
            &defaults,
            endpoint::Evidence {
                route: None,
                tried: Vec::new(),
                ..broken(forbidden(), Vec::new(), Link::Pac, "the PAC script fails for https://enterpriseregistration.windows.net/: ReferenceError: foo is not defined")
            },
            Status::Fail,
            Exactly("the PAC script fails for https://enterpriseregistration.windows.net/: ReferenceError: foo is not defined"),
        ),
        (
            &defaults,
            endpoint::Evidence {
                route: Some(endpoint::RouteEvidence {
                    source: "PAC http://wpad.corp.example/wpad.dat".into(),
                    pac_result: s("SOCKS socks.corp.example:1080"),
                    hops: Vec::new(),
                    skipped: vec!["SOCKS socks.corp.example:1080".into()],
                }),
                ..broken(forbidden(), Vec::new(), Link::Route, "no hop this tool can follow (SOCKS is not supported)")
            },
            Status::Fail,
            Exactly("PAC http://wpad.corp.example/wpad.dat: no hop this tool can follow (SOCKS is not supported)"),
        ),
        (
            &defaults,
            broken(forbidden(), vec![attempt("DIRECT", Some(Link::Tcp))], Link::Tcp, "TCP 443 to 20.190.151.68 refused (TCP reset)"),
            Status::Fail,
            Exactly("DIRECT (direct): TCP 443 to 20.190.151.68 refused (TCP reset)"),
        ),
        (
            &defaults,
            broken(forbidden(), vec![attempt("DIRECT", Some(Link::Tls))], Link::Tls, "TLS failed: the certificate is issued by CN=Corp Proxy Inspection CA"),
            Status::Fail,
            Owned(format!("DIRECT (direct): TLS failed: the certificate is issued by CN=Corp Proxy Inspection CA; {host} forbids TLS inspection")),
        ),
        (
            &defaults,
            broken(allowed(), vec![attempt("DIRECT", Some(Link::Tls))], Link::Tls, "TLS failed: the certificate is issued by CN=Corp Proxy Inspection CA"),
            Status::Fail,
            Exactly("DIRECT (direct): TLS failed: the certificate is issued by CN=Corp Proxy Inspection CA"),
        ),
        (
            &defaults,
            broken(
                forbidden(),
                vec![attempt("PROXY proxy1.corp.example:3128", Some(Link::ProxyTcp)), attempt("DIRECT", Some(Link::Dns))],
                Link::Dns,
                "enterpriseregistration.windows.net does not resolve",
            ),
            Status::Fail,
            Exactly("DIRECT (direct) (after 1 earlier hops failed): enterpriseregistration.windows.net does not resolve"),
        ),
        (
            &defaults,
            endpoint::Evidence {
                route: via_pac(reached(forbidden())).route,
                ..broken(forbidden(), vec![attempt("PROXY proxy.corp.example:3128", Some(Link::ProxyAuth))], Link::ProxyAuth, "the proxy asks for credentials (407, Negotiate NTLM)")
            },
            Status::Fail,
            Owned(format!("{pac_head}: the proxy asks for credentials (407, Negotiate NTLM)")),
        ),
        (
            &defaults,
            inspected(forbidden()),
            Status::Fail,
            Owned(format!("{said}; {host} forbids inspection (device registration)")),
        ),
        (
            &defaults,
            inspected(allowed()),
            Status::Warn,
            Owned(format!("{said} (tolerated here, but exclude Microsoft endpoints from inspection)")),
        ),
        (
            &defaults,
            endpoint::Evidence {
                authenticated: true,
                broken_link: Some(Link::ProxyAuth),
                ..via_pac(reached(forbidden()))
            },
            Status::Warn,
            Owned(format!("{pac_head}: {answers}, but only with Basic proxy credentials: device registration runs as SYSTEM and cannot authenticate; exempt {host} from proxy authentication")),
        ),
        (
            &defaults,
            ntp_endpoint(Some(35.4), None),
            Status::Pass,
            Exactly("direct (NTP): time.windows.com (51.145.123.29) answers, stratum 2, this device's clock is off by 35 ms"),
        ),
        (
            &defaults,
            ntp_endpoint(Some(-119_000.0), None),
            Status::Pass,
            Contains(&["this device's clock is off by -119000 ms"]),
        ),
        (
            &defaults,
            ntp_endpoint(Some(-150_000.0), None),
            Status::Warn,
            Exactly("direct (NTP): time.windows.com (51.145.123.29) answers, stratum 2, this device's clock is off by -150000 ms: correct the clock (over 2m)"),
        ),
        (
            &defaults,
            ntp_endpoint(Some(120_000.0), None),
            Status::Warn,
            Contains(&[": correct the clock (over 2m)"]),
        ),
        (
            &tight,
            ntp_endpoint(Some(45_000.0), None),
            Status::Warn,
            Exactly("direct (NTP): time.windows.com (51.145.123.29) answers, stratum 2, this device's clock is off by 45000 ms: correct the clock (over 30s)"),
        ),
        (&tight, ntp_endpoint(Some(29_000.0), None), Status::Pass, Contains(&["off by 29000 ms"])),
        (
            &defaults,
            ntp_endpoint(None, Some("time.windows.com (51.145.123.29): no answer within 2 s")),
            Status::Fail,
            Exactly("direct (NTP): time.windows.com (51.145.123.29): no answer within 2 s"),
        ),
    ];
    for (row, (p, evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &endpoint::judge(p, evidence), *status, says);
    }
}

#[test]
fn dispatcher_routes_to_the_kind_and_refuses_mismatched_evidence() {
    let table = |text: &str| -> toml::Table { toml::from_str(text).unwrap() };
    let tcp_params = Kind::Tcp.params(table("port = 88")).unwrap();
    let tcp_evidence = Evidence::Tcp(tcp::Evidence {
        address: sock("10.0.0.10:88"),
        reach: Reach::Open,
        connect_ms: Some(1.5),
        error: None,
    });
    assert_eq!(
        judge(&tcp_params, &tcp_evidence),
        Judgement::pass("TCP 88 open (1.5 ms)")
    );
    let icmp_evidence = Evidence::Icmp(icmp::Evidence {
        address: ip("10.0.0.10"),
        sent: 3,
        received: 3,
        rtt_ms: vec![1.0, 1.0, 1.0],
        socket: "raw".into(),
        errors: Vec::new(),
    });
    let judged = judge(&tcp_params, &icmp_evidence);
    assert_eq!(judged.status, Status::Error);
    assert_eq!(
        judged.finding,
        "the evidence is of another kind than the check"
    );
    let icmp_params = Kind::Icmp.params(table("")).unwrap();
    assert_eq!(judge(&icmp_params, &icmp_evidence).status, Status::Pass);
    assert_eq!(judge(&icmp_params, &tcp_evidence).status, Status::Error);
}

#[test]
fn census_table() {
    use super::shared_probes::PingAnswer;
    let p: census::Params = params("named = 2");
    let entry = |host: &str, answer: PingAnswer, site: Option<&str>| census::CensusEntry {
        host: host.into(),
        address: Some(ip("10.0.0.10")),
        answer,
        rtt_ms: (answer == PingAnswer::Answered).then_some(1.0),
        site: site.map(String::from),
    };
    let evidence = |dcs: Vec<census::CensusEntry>| census::Evidence {
        domain: "corp.example".into(),
        listed: dcs.len(),
        answered: dcs
            .iter()
            .filter(|e| e.answer == PingAnswer::Answered)
            .count(),
        dcs,
    };
    let live = |host: &str, site: &str| entry(host, PingAnswer::Answered, Some(site));
    let dead = |host: &str| entry(host, PingAnswer::Silent, None);
    let rows = [
        (
            evidence(vec![live("dc1", "HQ"), live("dc2", "Branch")]),
            Status::Pass,
            Exactly("all 2 DCs answer the LDAP ping in sites Branch, HQ"),
        ),
        (
            evidence(vec![live("dc1", "HQ"), dead("x1"), dead("x2"), dead("x3")]),
            Status::Warn,
            Exactly("3 of 4 DCs do not answer the LDAP ping from this network: x1, x2, and 1 more; the one that answers is in site HQ"),
        ),
        (
            evidence(vec![dead("x1"), entry("x2", PingAnswer::Unsent, None)]),
            Status::Fail,
            Contains(&["2 of 2 DCs do not answer", "x1, x2", "0x80070774"]),
        ),
        (evidence(vec![]), Status::Fail, Exactly("DNS lists no DC to ping")),
    ];
    for (row, (evidence, status, says)) in rows.iter().enumerate() {
        assert_row(row, &census::judge(&p, evidence), *status, says);
    }
}

#[test]
fn an_unreachable_revocation_url_only_warns_and_names_the_url() {
    use crate::check::revocation::RevocationKind;
    let def = endpoint_def(
        "login.microsoftonline.com",
        EndpointProtocol::Https,
        TlsInspection::Allowed,
    );
    let params: endpoint::Params = params("");
    let revocation = |kind, url: &str, status, error: Option<&str>| endpoint::RevocationCheck {
        kind,
        url: url.into(),
        named_by: "CN=login.microsoftonline.com".into(),
        status,
        broken_link: error.map(|_| endpoint::Link::Tcp),
        error: error.map(String::from),
    };
    let mut evidence = reached(def.clone());
    evidence.revocation = vec![
        revocation(
            RevocationKind::Crl,
            "http://crl.example/a.crl",
            Some(200),
            None,
        ),
        revocation(
            RevocationKind::Ocsp,
            "http://ocsp.example/",
            Some(400),
            None,
        ),
    ];
    let judged = endpoint::judge(&params, &evidence);
    assert_eq!(judged.status, Status::Pass, "{}", judged.finding);
    evidence.revocation = vec![
        revocation(
            RevocationKind::Crl,
            "http://crl.example/a.crl",
            None,
            Some("TCP 80 on crl.example (10.0.0.1) refused"),
        ),
        revocation(
            RevocationKind::Crl,
            "http://crl.example/b.crl",
            Some(404),
            None,
        ),
    ];
    let judged = endpoint::judge(&params, &evidence);
    assert_eq!(judged.status, Status::Warn);
    assert!(
        judged.finding.ends_with("; but its certificate's revocation list cannot be checked along the same route: CRL http://crl.example/a.crl: TCP 80 on crl.example (10.0.0.1) refused; CRL http://crl.example/b.crl answers HTTP 404"),
        "{}",
        judged.finding
    );
    assert!(judged
        .remedy
        .unwrap()
        .starts_with("Allow plain HTTP to the revocation hosts"));
    // A route that already fails stays a failure, unchanged.
    let mut failed = broken(
        def,
        vec![attempt("DIRECT", Some(endpoint::Link::Tcp))],
        endpoint::Link::Tcp,
        "TCP 443 refused",
    );
    failed.revocation = evidence.revocation.clone();
    assert_eq!(endpoint::judge(&params, &failed).status, Status::Fail);
}
