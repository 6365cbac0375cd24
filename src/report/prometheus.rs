//! Prometheus text exposition (format 0.0.4): one run as gauges, named the way
//! blackbox_exporter names its probe metrics, in base units (seconds), so a fleet can be
//! watched with the Prometheus set-up people already run — scraped from `joinready serve` or
//! read by node_exporter's textfile collector from `--output`.
//!
//! Every series is a gauge. `joinready_check_success` is 1 for pass and warn — the check's
//! question was answered well enough for the join to go on, as `joinready_ready` counts
//! warnings as ready — and 0 for fail, skip and error; `joinready_check_status` says which.

use super::Report;
use crate::model::Status;
use crate::result::CheckResult;
use crate::verdict::VerdictStatus;
use std::collections::HashSet;
use std::fmt::Write;

/// One metric family: its name, help text and samples. All of ours are gauges.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Family {
    pub fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }

    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        // Non-finite values cannot come from a sane report; leaving the sample out beats
        // exporting a NaN someone alerts on.
        if value.is_finite() {
            self.samples.push(Sample { labels, value });
        }
    }
}

const STATUSES: [Status; 5] = [
    Status::Pass,
    Status::Warn,
    Status::Fail,
    Status::Skip,
    Status::Error,
];

const VERDICTS: [VerdictStatus; 4] = [
    VerdictStatus::Ready,
    VerdictStatus::Warnings,
    VerdictStatus::NotReady,
    VerdictStatus::Unknown,
];

fn verdict_name(status: VerdictStatus) -> &'static str {
    match status {
        VerdictStatus::Ready => "ready",
        VerdictStatus::Warnings => "warnings",
        VerdictStatus::NotReady => "not_ready",
        VerdictStatus::Unknown => "unknown",
    }
}

fn check_labels(check: &CheckResult) -> Vec<(&'static str, String)> {
    vec![
        ("check", check.id.clone()),
        ("area", check.area.as_str().to_string()),
        ("target", check.target.clone()),
    ]
}

fn with(
    mut labels: Vec<(&'static str, String)>,
    name: &'static str,
    value: String,
) -> Vec<(&'static str, String)> {
    labels.push((name, value));
    labels
}

fn bool_value(value: bool) -> f64 {
    if value {
        1.0
    } else {
        0.0
    }
}

/// Milliseconds (as the evidence has them) to seconds, rounded to the nanosecond so that
/// 0.141 ms prints as 0.000141 rather than 0.00014099999999999998.
fn seconds(ms: f64) -> f64 {
    (ms * 1e6).round() / 1e9
}

fn unix_seconds(rfc3339: &str) -> Option<f64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp() as f64)
}

/// The report's metric families, in a fixed order; families without samples are kept so
/// that HELP and TYPE stay stable from run to run.
pub fn families(report: &Report) -> Vec<Family> {
    let mut success = Family::new(
        "joinready_check_success",
        "Whether the check passed (1 for pass or warn, 0 for fail, skip or error).",
    );
    let mut status = Family::new(
        "joinready_check_status",
        "The check's status, one-hot over pass, warn, fail, skip and error.",
    );
    let mut duration = Family::new(
        "joinready_check_duration_seconds",
        "How long the check took.",
    );
    let mut icmp = Family::new(
        "joinready_icmp_rtt_seconds",
        "Median round trip of the ICMP echo replies.",
    );
    let mut dns = Family::new(
        "joinready_dns_rtt_seconds",
        "Round trip of the DNS query, per DNS server that answered.",
    );
    let mut rtt = Family::new(
        "joinready_rtt_seconds",
        "Round trip of one phase of the check (label phase: connect, tls, bind, answer, ldap_ping, kerberos, kpasswd, ntp, ike, fetch, response, proxy_connect, total).",
    );
    let mut clock = Family::new(
        "joinready_clock_offset_seconds",
        "The DC's clock minus this device's clock.",
    );
    let mut expiry = Family::new(
        "joinready_tls_certificate_expiry_timestamp_seconds",
        "When the certificate the server showed (chain[0]) expires, as a Unix time.",
    );

    // Prometheus refuses a scrape with two samples of one series; a row repeated by a
    // custom catalog must not make the whole scrape fail.
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for check in &report.checks {
        if !seen.insert((check.id.as_str(), check.target.as_str())) {
            continue;
        }
        let labels = check_labels(check);
        success.push(
            labels.clone(),
            bool_value(check.status.lets_dependents_run()),
        );
        for each in STATUSES {
            status.push(
                with(labels.clone(), "status", each.as_str().to_string()),
                bool_value(check.status == each),
            );
        }
        duration.push(labels.clone(), seconds(check.duration_ms as f64));
        evidence_metrics(
            check,
            &labels,
            &mut icmp,
            &mut dns,
            &mut rtt,
            &mut clock,
            &mut expiry,
        );
    }

    let verdict_status = report.verdict.status;
    let mut ready = Family::new(
        "joinready_ready",
        "Whether the device is ready for hybrid join (1 ready or ready with warnings, 0 otherwise).",
    );
    ready.push(
        vec![],
        bool_value(matches!(
            verdict_status,
            VerdictStatus::Ready | VerdictStatus::Warnings
        )),
    );
    let mut verdict = Family::new(
        "joinready_verdict",
        "The verdict, one-hot over ready, warnings, not_ready and unknown.",
    );
    for each in VERDICTS {
        verdict.push(
            vec![("status", verdict_name(each).to_string())],
            bool_value(verdict_status == each),
        );
    }
    let mut complete = Family::new(
        "joinready_run_complete",
        "Whether every check finished before the deadline (0: the run was cut short).",
    );
    complete.push(vec![], bool_value(report.complete));
    let mut run_duration = Family::new(
        "joinready_run_duration_seconds",
        "How long the whole run took.",
    );
    let run_seconds = seconds(report.duration_ms as f64);
    run_duration.push(vec![], run_seconds);
    let mut last_run = Family::new(
        "joinready_last_run_timestamp_seconds",
        "When the run ended, as a Unix time.",
    );
    if let Some(started) = unix_seconds(&report.started_at) {
        last_run.push(vec![], started + run_seconds);
    }
    let mut info = Family::new(
        "joinready_run_info",
        "What the run checked: the domain, the scenario and the tool's version (always 1).",
    );
    info.push(
        vec![
            ("domain", report.domain.clone()),
            ("scenario", report.scenario.as_str().to_string()),
            ("version", report.tool.version.clone()),
        ],
        1.0,
    );

    vec![
        ready,
        verdict,
        complete,
        run_duration,
        last_run,
        info,
        success,
        status,
        duration,
        icmp,
        dns,
        rtt,
        clock,
        expiry,
    ]
}

/// The numbers the check's typed evidence measured.
fn evidence_metrics(
    check: &CheckResult,
    labels: &[(&'static str, String)],
    icmp: &mut Family,
    dns: &mut Family,
    rtt: &mut Family,
    clock: &mut Family,
    expiry: &mut Family,
) {
    let Some(evidence) = &check.evidence else {
        return;
    };
    let measured = evidence.measurements();
    if let Some(median) = measured.icmp_median {
        icmp.push(labels.to_vec(), seconds(median));
    }
    for (server, ms) in measured.dns {
        dns.push(with(labels.to_vec(), "server", server), seconds(ms));
    }
    for (phase, ms) in measured.rtts {
        rtt.push(
            with(labels.to_vec(), "phase", phase.to_string()),
            seconds(ms),
        );
    }
    if let Some(ms) = measured.clock_offset {
        clock.push(labels.to_vec(), seconds(ms));
    }
    if let Some(not_after) = measured
        .certificate_not_after
        .as_deref()
        .and_then(unix_seconds)
    {
        expiry.push(labels.to_vec(), not_after);
    }
}

/// Adds `labels` to every sample (serve: which profile a run belongs to).
pub fn add_labels(families: &mut [Family], labels: &[(&'static str, String)]) {
    for family in families {
        for sample in &mut family.samples {
            let mut all = labels.to_vec();
            all.append(&mut sample.labels);
            sample.labels = all;
        }
    }
}

/// Joins families of the same name (several runs in one exposition): a name may appear only
/// once, with its HELP and TYPE, or the scrape fails.
pub fn merge(groups: Vec<Vec<Family>>) -> Vec<Family> {
    let mut merged: Vec<Family> = Vec::new();
    for family in groups.into_iter().flatten() {
        match merged.iter_mut().find(|f| f.name == family.name) {
            Some(existing) => existing.samples.extend(family.samples),
            None => merged.push(family),
        }
    }
    merged
}

pub fn render(report: &Report) -> String {
    render_families(&families(report))
}

pub fn render_families(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for sample in &family.samples {
            out.push_str(family.name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", sample.value);
        }
    }
    out
}

/// Label values escape backslash, double quote and line feed (exposition format 0.0.4).
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escapes backslash and line feed only.
fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Evidence;
    use crate::model::Area;
    use crate::report::test_report::report;
    use serde_json::json;

    /// Typed evidence of `kind`, from the JSON the report would carry.
    fn evidence(value: serde_json::Value) -> Option<Evidence> {
        Some(serde_json::from_value(value).expect("well-formed evidence"))
    }

    fn row(id: &str, target: &str, status: Status, evidence: Option<Evidence>) -> CheckResult {
        CheckResult {
            id: id.into(),
            area: Area::Dc,
            title: String::new(),
            target: target.into(),
            status,
            started_ms: 0,
            duration_ms: 1500,
            finding: String::new(),
            remedy: String::new(),
            needs: vec![],
            cut_short: false,
            evidence,
        }
    }

    #[test]
    fn checks_and_verdict_become_gauges() {
        let text = render(&report(
            vec![
                row(
                    "dc.ping",
                    "dc1",
                    Status::Warn,
                    evidence(
                        json!({"kind": "icmp", "address": "10.0.0.11", "sent": 3, "received": 3,
                        "rtt_ms": [3.0, 1.0, 2.0], "socket": "raw", "errors": []}),
                    ),
                ),
                row("dc.srv", "_ldap", Status::Skip, None),
            ],
            VerdictStatus::Warnings,
        ));
        for line in [
            "# TYPE joinready_check_success gauge",
            "joinready_check_success{check=\"dc.ping\",area=\"dc\",target=\"dc1\"} 1",
            "joinready_check_success{check=\"dc.srv\",area=\"dc\",target=\"_ldap\"} 0",
            "joinready_check_status{check=\"dc.ping\",area=\"dc\",target=\"dc1\",status=\"warn\"} 1",
            "joinready_check_status{check=\"dc.ping\",area=\"dc\",target=\"dc1\",status=\"pass\"} 0",
            "joinready_check_duration_seconds{check=\"dc.ping\",area=\"dc\",target=\"dc1\"} 1.5",
            "joinready_icmp_rtt_seconds{check=\"dc.ping\",area=\"dc\",target=\"dc1\"} 0.002",
            "joinready_ready 1",
            "joinready_verdict{status=\"warnings\"} 1",
            "joinready_verdict{status=\"ready\"} 0",
            "joinready_run_complete 1",
            "joinready_run_duration_seconds 2",
            "joinready_last_run_timestamp_seconds 1795723202",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
    }

    #[test]
    fn not_ready_is_not_ready() {
        let text = render(&report(vec![], VerdictStatus::NotReady));
        assert!(text.contains("\njoinready_ready 0\n"), "{text}");
        assert!(
            text.contains("joinready_verdict{status=\"not_ready\"} 1"),
            "{text}"
        );
    }

    fn certificate(not_after: &str) -> serde_json::Value {
        json!({"subject": "CN=x", "issuer": "CN=ca", "subject_alt_names": ["x"],
               "not_before": "2026-01-01T00:00:00Z", "not_after": not_after, "days_left": 30,
               "serial": "01"})
    }

    #[test]
    fn numeric_evidence_is_exported_in_seconds() {
        let text = render(&report(
            vec![
                row(
                    "dc.srv",
                    "_ldap",
                    Status::Pass,
                    evidence(
                        json!({"kind": "dns.srv", "name": "_ldap", "lists_dcs": true, "addresses_looked_up": true, "targets": [],
                            "servers": [
                            {"server": "10.0.0.1:53", "reach": "open", "result": "records", "detail": "",
                             "rtt_ms": 4.0, "authoritative": true, "over_tcp": false, "records": []},
                            {"server": "10.0.0.2:53", "reach": "silent", "result": "none", "detail": "",
                             "rtt_ms": null, "authoritative": null, "over_tcp": null, "records": []}
                        ]}),
                    ),
                ),
                row(
                    "dc.cldap",
                    "dc1",
                    Status::Pass,
                    evidence(
                        json!({"kind": "cldap", "address": "10.0.0.11:389", "domain": "d",
                        "expected_site": null, "reach": "open", "error": null, "rtt_ms": 12.5, "reply": null}),
                    ),
                ),
                row(
                    "time.skew",
                    "dc1",
                    Status::Pass,
                    evidence(
                        json!({"kind": "clock", "address": "10.0.0.11", "kdc_offset_ms": -1500.0,
                        "kdc_error": null, "rootdse_current_time": null, "rootdse_offset_ms": null,
                        "ntp_offset_ms": null, "offset_ms": -1500.0, "source": "kdc"}),
                    ),
                ),
                row(
                    "ldap.bind",
                    "dc1",
                    Status::Pass,
                    evidence(
                        json!({"kind": "ldap.bind", "address": "10.0.0.11:636", "transport": "ldaps",
                        "user": null, "reach": "open", "error": null, "result_code": null,
                        "server_message": null, "bind_ms": 3.0, "tls": {"verified": true, "problem": null,
                        "error": null, "chain": [certificate("2027-01-01T00:00:00Z")]}}),
                    ),
                ),
                row(
                    "vpn.tls",
                    "vpn.example",
                    Status::Warn,
                    evidence(
                        json!({"kind": "vpn.tls", "gateway": "vpn.example", "port": 443,
                        "resolved": null, "address": "10.0.0.20:443", "reach": "open", "error": null,
                        "phase": null, "tls": {"verified": true, "problem": null, "error": null,
                        "chain": [certificate("2026-12-10T00:00:00Z")]},
                        "portal": {"address": "10.0.0.20:443", "url": "https://vpn.example/",
                        "connect_ms": 1.0, "tls_ms": 2.0, "tls_version": "TLSv1.3", "tls": null,
                        "response_ms": 3.0, "status": 200, "status_line": "HTTP/1.1 200 OK",
                        "server": null, "location": null}}),
                    ),
                ),
            ],
            VerdictStatus::Ready,
        ));
        for line in [
            "joinready_dns_rtt_seconds{check=\"dc.srv\",area=\"dc\",target=\"_ldap\",server=\"10.0.0.1:53\"} 0.004",
            "joinready_rtt_seconds{check=\"dc.cldap\",area=\"dc\",target=\"dc1\",phase=\"ldap_ping\"} 0.0125",
            "joinready_rtt_seconds{check=\"ldap.bind\",area=\"dc\",target=\"dc1\",phase=\"bind\"} 0.003",
            "joinready_rtt_seconds{check=\"vpn.tls\",area=\"dc\",target=\"vpn.example\",phase=\"tls\"} 0.002",
            "joinready_tls_certificate_expiry_timestamp_seconds{check=\"vpn.tls\",area=\"dc\",target=\"vpn.example\"} 1796860800",
            "joinready_clock_offset_seconds{check=\"time.skew\",area=\"dc\",target=\"dc1\"} -1.5",
            "joinready_tls_certificate_expiry_timestamp_seconds{check=\"ldap.bind\",area=\"dc\",target=\"dc1\"} 1798761600",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
        assert!(!text.contains("10.0.0.2:53"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let text = render(&report(
            vec![row("x", "a\"b\\c\nd", Status::Fail, None)],
            VerdictStatus::NotReady,
        ));
        assert!(text.contains("target=\"a\\\"b\\\\c\\nd\""), "{text}");
    }

    #[test]
    fn a_repeated_row_is_exported_once() {
        let text = render(&report(
            vec![
                row("dc.ping", "dc1", Status::Pass, None),
                row("dc.ping", "dc1", Status::Fail, None),
            ],
            VerdictStatus::Ready,
        ));
        assert_eq!(
            text.matches("joinready_check_success{").count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn merged_runs_share_one_help_and_type() {
        let mut a = families(&report(vec![], VerdictStatus::Ready));
        add_labels(&mut a, &[("profile", "a".into())]);
        let mut b = families(&report(vec![], VerdictStatus::NotReady));
        add_labels(&mut b, &[("profile", "b".into())]);
        let text = render_families(&merge(vec![a, b]));
        assert_eq!(text.matches("# TYPE joinready_ready gauge").count(), 1);
        assert!(text.contains("joinready_ready{profile=\"a\"} 1"), "{text}");
        assert!(text.contains("joinready_ready{profile=\"b\"} 0"), "{text}");
    }
}
