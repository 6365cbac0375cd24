//! `joinready diff OLD.json NEW.json`: what changed between two reports. Reads reports
//! leniently (schema 2 and 3; unknown fields and evidence kinds are kept opaque) so a report
//! from a newer or older joinready still compares; refuses any other schema clearly.

use crate::model::Status;
use crate::verdict::VerdictStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The report schemas this diff reads: 2 (0.2) and 3 (2 plus the `entra` scenario and new
/// evidence kinds).
pub const READABLE_SCHEMAS: [u32; 2] = [2, 3];

/// Evidence fields that are round-trip or answer times (clock offsets are not: they are
/// judged by their own checks).
const RTT_FIELDS: [&str; 7] = [
    "rtt_ms",
    "connect_ms",
    "proxy_connect_ms",
    "answer_ms",
    "tls_ms",
    "bind_ms",
    "delay_ms",
];

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a joinready JSON report: {reason} (write one with `joinready run --format json --output FILE`)")]
    NotAReport { path: String, reason: String },
    #[error("{path} has schema_version {found}; this joinready reads {readable} (produce both reports with joinready 0.2 or later)")]
    Schema {
        path: String,
        found: u64,
        readable: String,
    },
}

/// The part of a report a diff reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Side {
    pub schema_version: u32,
    pub started_at: String,
    pub scenario: String,
    pub domain: String,
    pub verdict: SideVerdict,
    pub checks: Vec<SideCheck>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SideVerdict {
    pub status: VerdictStatus,
    pub summary: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SideCheck {
    pub id: String,
    pub target: String,
    pub status: Status,
    pub finding: String,
    #[serde(default)]
    pub evidence: Option<Value>,
}

/// Reads one report, naming the file in every error.
pub fn load(path: &Path) -> Result<Side, DiffError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DiffError::Read {
        path: name.clone(),
        source,
    })?;
    parse(&name, &text)
}

pub fn parse(name: &str, text: &str) -> Result<Side, DiffError> {
    let not = |reason: String| DiffError::NotAReport {
        path: name.to_string(),
        reason,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        not(format!(
            "not JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let version = value
        .get("schema_version")
        .ok_or_else(|| not("it has no schema_version".to_string()))?;
    let found = version
        .as_u64()
        .ok_or_else(|| not(format!("schema_version is {version}, not a number")))?;
    if !READABLE_SCHEMAS.iter().any(|v| u64::from(*v) == found) {
        return Err(DiffError::Schema {
            path: name.to_string(),
            found,
            readable: READABLE_SCHEMAS
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" and "),
        });
    }
    serde_json::from_value(value).map_err(|e| not(e.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Was not failing (pass, warn, skip), now fails or errors.
    StartedFailing,
    /// Worse without failing: a pass now warns.
    GotWorse,
    /// A new row that does not pass (a new DC that is down).
    AppearedFailing,
    /// Failed, errored or warned; now passes.
    Fixed,
    /// Better without passing (a fail now warns), or a skipped check that now runs.
    Improved,
    /// Same status, another finding (numbers aside).
    FindingChanged,
    Appeared,
    Disappeared,
    /// A round-trip or answer time moved by more than the threshold.
    RttChanged,
}

impl ChangeKind {
    pub fn worse(self) -> bool {
        matches!(
            self,
            ChangeKind::StartedFailing | ChangeKind::GotWorse | ChangeKind::AppearedFailing
        )
    }

    pub fn heading(self) -> &'static str {
        match self {
            ChangeKind::StartedFailing => "Started failing",
            ChangeKind::GotWorse => "Got worse",
            ChangeKind::AppearedFailing => "Appeared, not passing",
            ChangeKind::Fixed => "Fixed",
            ChangeKind::Improved => "Improved",
            ChangeKind::FindingChanged => "Finding changed",
            ChangeKind::Appeared => "Appeared",
            ChangeKind::Disappeared => "Disappeared",
            ChangeKind::RttChanged => "Round-trip time changed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rtt {
    /// The evidence field, as a path (`tried[0].connect_ms`).
    pub field: String,
    pub old_ms: f64,
    pub new_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub worse: bool,
    pub id: String,
    pub target: String,
    pub old_status: Option<Status>,
    pub new_status: Option<Status>,
    pub old_finding: Option<String>,
    pub new_finding: Option<String>,
    pub rtt: Option<Rtt>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Unchanged,
    Changed,
    Worse,
}

impl Outcome {
    /// 0 nothing changed, 1 changed but nothing worse, 2 something worse (3 is bad input).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Unchanged => 0,
            Outcome::Changed => 1,
            Outcome::Worse => 2,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SideSummary {
    pub file: String,
    pub schema_version: u32,
    pub started_at: String,
    pub domain: String,
    pub scenario: String,
    pub verdict: VerdictStatus,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub outcome: Outcome,
    pub old: SideSummary,
    pub new: SideSummary,
    pub verdict_worse: bool,
    pub rtt_threshold_ms: f64,
    pub changes: Vec<Change>,
}

/// How bad a status is for a diff: skip counts as pass (a skip follows from another row,
/// which the diff shows on its own).
fn badness(status: Status) -> u8 {
    match status {
        Status::Pass | Status::Skip => 0,
        Status::Warn => 1,
        Status::Error => 2,
        Status::Fail => 3,
    }
}

fn verdict_badness(status: VerdictStatus) -> u8 {
    match status {
        VerdictStatus::Ready => 0,
        VerdictStatus::Warnings => 1,
        VerdictStatus::NotReady | VerdictStatus::Unknown => 2,
    }
}

/// A finding with its numbers blanked: "echo reply in 0.4 ms" and "in 0.6 ms" say the same.
pub fn normalise(finding: &str) -> String {
    let mut out = String::with_capacity(finding.len());
    let mut in_number = false;
    for c in finding.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// Every round-trip time in `evidence`, by path; a list of samples counts as its mean.
fn rtts(value: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    const MAX: usize = 1000;
    if out.len() >= MAX {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if RTT_FIELDS.contains(&key.as_str()) {
                    let sample = match value {
                        Value::Number(n) => n.as_f64(),
                        Value::Array(items) if !items.is_empty() => {
                            let numbers: Vec<f64> =
                                items.iter().filter_map(Value::as_f64).collect();
                            (!numbers.is_empty())
                                .then(|| numbers.iter().sum::<f64>() / numbers.len() as f64)
                        }
                        _ => None,
                    };
                    if let Some(ms) = sample {
                        out.push((here, ms));
                        continue;
                    }
                }
                rtts(value, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                rtts(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn summary(file: &str, side: &Side) -> SideSummary {
    SideSummary {
        file: file.to_string(),
        schema_version: side.schema_version,
        started_at: side.started_at.clone(),
        domain: side.domain.clone(),
        scenario: side.scenario.clone(),
        verdict: side.verdict.status,
        summary: side.verdict.summary.clone(),
    }
}

pub fn compare(
    old_name: &str,
    old: &Side,
    new_name: &str,
    new: &Side,
    rtt_threshold_ms: f64,
) -> Diff {
    let key = |c: &SideCheck| (c.id.clone(), c.target.clone());
    let mut changes = Vec::new();
    for before in &old.checks {
        let Some(after) = new.checks.iter().find(|c| key(c) == key(before)) else {
            changes.push(Change {
                kind: ChangeKind::Disappeared,
                worse: false,
                id: before.id.clone(),
                target: before.target.clone(),
                old_status: Some(before.status),
                new_status: None,
                old_finding: Some(before.finding.clone()),
                new_finding: None,
                rtt: None,
            });
            continue;
        };
        let (was, is) = (badness(before.status), badness(after.status));
        let kind = if is > was && is >= badness(Status::Error) {
            Some(ChangeKind::StartedFailing)
        } else if is > was {
            Some(ChangeKind::GotWorse)
        } else if is < was && is == 0 {
            Some(ChangeKind::Fixed)
        } else if is < was || (before.status == Status::Skip && after.status == Status::Pass) {
            Some(ChangeKind::Improved)
        } else if before.status != after.status
            || normalise(&before.finding) != normalise(&after.finding)
        {
            Some(ChangeKind::FindingChanged)
        } else {
            None
        };
        if let Some(kind) = kind {
            changes.push(Change {
                kind,
                worse: kind.worse(),
                id: before.id.clone(),
                target: before.target.clone(),
                old_status: Some(before.status),
                new_status: Some(after.status),
                old_finding: Some(before.finding.clone()),
                new_finding: Some(after.finding.clone()),
                rtt: None,
            });
        }
        let (mut old_rtts, mut new_rtts) = (Vec::new(), Vec::new());
        if let (Some(a), Some(b)) = (&before.evidence, &after.evidence) {
            rtts(a, "", &mut old_rtts);
            rtts(b, "", &mut new_rtts);
        }
        for (field, old_ms) in old_rtts {
            let Some((_, new_ms)) = new_rtts.iter().find(|(f, _)| *f == field) else {
                continue;
            };
            if (new_ms - old_ms).abs() > rtt_threshold_ms {
                changes.push(Change {
                    kind: ChangeKind::RttChanged,
                    worse: false,
                    id: before.id.clone(),
                    target: before.target.clone(),
                    old_status: Some(before.status),
                    new_status: Some(after.status),
                    old_finding: None,
                    new_finding: None,
                    rtt: Some(Rtt {
                        field,
                        old_ms,
                        new_ms: *new_ms,
                    }),
                });
            }
        }
    }
    for after in &new.checks {
        if old.checks.iter().any(|c| key(c) == key(after)) {
            continue;
        }
        let kind = if badness(after.status) > 0 {
            ChangeKind::AppearedFailing
        } else {
            ChangeKind::Appeared
        };
        changes.push(Change {
            kind,
            worse: kind.worse(),
            id: after.id.clone(),
            target: after.target.clone(),
            old_status: None,
            new_status: Some(after.status),
            old_finding: None,
            new_finding: Some(after.finding.clone()),
            rtt: None,
        });
    }
    // Stable: by kind (worst first), each kind in the reports' order.
    changes.sort_by_key(|c| c.kind);
    let verdict_worse = verdict_badness(new.verdict.status) > verdict_badness(old.verdict.status);
    let outcome = if verdict_worse || changes.iter().any(|c| c.worse) {
        Outcome::Worse
    } else if changes.is_empty() && old.verdict.status == new.verdict.status {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    Diff {
        outcome,
        old: summary(old_name, old),
        new: summary(new_name, new),
        verdict_worse,
        rtt_threshold_ms,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(version: u32, verdict: &str, checks: Value) -> String {
        json!({
            "schema_version": version, "tool": {"name": "joinready", "version": "0.2.0"},
            "started_at": "2026-12-01T08:00:00Z", "duration_ms": 900, "scenario": "on-prem",
            "domain": "corp.example.com", "complete": true, "incomplete_reason": null,
            "verdict": {"status": verdict, "summary": "s", "root_cause": null, "notes": []},
            "checks": checks
        })
        .to_string()
    }

    fn check(id: &str, target: &str, status: &str, finding: &str, evidence: Value) -> Value {
        json!({"id": id, "target": target, "status": status, "finding": finding,
               "area": "dc", "title": "t", "duration_ms": 1, "remedy": "", "needs": [],
               "cut_short": false, "evidence": evidence})
    }

    fn diff(old: &str, new: &str) -> Diff {
        let old = parse("old.json", old).unwrap_or_else(|e| panic!("{e}"));
        let new = parse("new.json", new).unwrap_or_else(|e| panic!("{e}"));
        compare("old.json", &old, "new.json", &new, 20.0)
    }

    fn kinds(diff: &Diff) -> Vec<(ChangeKind, &str)> {
        diff.changes
            .iter()
            .map(|c| (c.kind, c.target.as_str()))
            .collect()
    }

    #[test]
    fn identical_reports_are_unchanged_and_numbers_in_findings_are_noise() {
        let old = report(
            2,
            "ready",
            json!([check(
                "dc.ping",
                "dc1",
                "pass",
                "echo reply in 0.4 ms",
                json!({"kind": "icmp", "rtt_ms": [0.4, 0.5]})
            )]),
        );
        let new = report(
            2,
            "ready",
            json!([check(
                "dc.ping",
                "dc1",
                "pass",
                "echo reply in 1.7 ms",
                json!({"kind": "icmp", "rtt_ms": [1.5, 1.9]})
            )]),
        );
        let d = diff(&old, &new);
        assert_eq!(d.outcome, Outcome::Unchanged, "{:?}", d.changes);
        assert_eq!(d.outcome.exit_code(), 0);
    }

    #[test]
    fn a_port_that_starts_failing_is_worse_and_exits_2() {
        let old = report(
            2,
            "ready",
            json!([
                check("dc.port.smb_tcp", "dc1", "pass", "open", Value::Null),
                check("dc.port.smb_tcp", "dc2", "pass", "open", Value::Null),
                check("ldap.ou", "corp", "fail", "no such OU", Value::Null),
            ]),
        );
        let new = report(
            2,
            "not_ready",
            json!([
                check("dc.port.smb_tcp", "dc1", "pass", "open", Value::Null),
                check("dc.port.smb_tcp", "dc2", "fail", "silent", Value::Null),
                check("ldap.ou", "corp", "pass", "exists", Value::Null),
                check("dc.ping", "dc3", "fail", "no echo", Value::Null),
            ]),
        );
        let d = diff(&old, &new);
        assert_eq!(d.outcome, Outcome::Worse);
        assert_eq!(d.outcome.exit_code(), 2);
        assert!(d.verdict_worse);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::StartedFailing, "dc2"),
                (ChangeKind::AppearedFailing, "dc3"),
                (ChangeKind::Fixed, "corp"),
            ]
        );
    }

    #[test]
    fn better_or_different_but_not_worse_exits_1() {
        let old = report(
            2,
            "not_ready",
            json!([
                check("dc.ping", "dc1", "fail", "no echo", Value::Null),
                check("dc.srv", "_ldap", "pass", "found dc1 and dc2", Value::Null),
                check(
                    "endpoints.reach",
                    "ep",
                    "pass",
                    "ok",
                    json!({"kind": "endpoint", "tried": [{"evidence": {"connect_ms": 3.0}}]})
                ),
                check("vpn.ike", "gw", "pass", "answers", Value::Null),
            ]),
        );
        let new = report(
            3,
            "warnings",
            json!([
                check(
                    "dc.ping",
                    "dc1",
                    "warn",
                    "no echo but LDAP answers",
                    Value::Null
                ),
                check("dc.srv", "_ldap", "pass", "found dc1", Value::Null),
                check(
                    "endpoints.reach",
                    "ep",
                    "pass",
                    "ok",
                    json!({"kind": "endpoint", "tried": [{"evidence": {"connect_ms": 80.0}}]})
                ),
                check(
                    "entra.discovery",
                    "tenant",
                    "pass",
                    "found",
                    json!({"kind": "some.future.kind", "x": 1})
                ),
            ]),
        );
        let d = diff(&old, &new);
        assert_eq!(d.outcome, Outcome::Changed, "{:?}", d.changes);
        assert_eq!(d.outcome.exit_code(), 1);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Improved, "dc1"),
                (ChangeKind::FindingChanged, "_ldap"),
                (ChangeKind::Appeared, "tenant"),
                (ChangeKind::Disappeared, "gw"),
                (ChangeKind::RttChanged, "ep"),
            ]
        );
        let rtt = d.changes[4].rtt.as_ref().expect("an rtt");
        assert_eq!(rtt.field, "tried[0].evidence.connect_ms");
        assert_eq!((rtt.old_ms, rtt.new_ms), (3.0, 80.0));
    }

    #[test]
    fn other_schemas_and_non_reports_are_refused_with_the_file_named() {
        let v1 = report(1, "ready", json!([]));
        let e = parse("old.json", &v1).expect_err("schema 1");
        assert_eq!(
            e.to_string(),
            "old.json has schema_version 1; this joinready reads 2 and 3 (produce both reports with joinready 0.2 or later)"
        );
        let e = parse("x.json", "{\"checks\": [").expect_err("not JSON");
        assert!(
            e.to_string()
                .starts_with("x.json is not a joinready JSON report: not JSON at line 1 column 12"),
            "{e}"
        );
        let e = parse("x.json", "{\"a\": 1}").expect_err("no version");
        assert!(e.to_string().contains("it has no schema_version"), "{e}");
        let e = parse("x.json", &report(2, "sunny", json!([]))).expect_err("bad verdict");
        assert!(
            e.to_string()
                .starts_with("x.json is not a joinready JSON report: unknown variant `sunny`"),
            "{e}"
        );
    }

    #[test]
    fn normalise_blanks_numbers_only() {
        assert_eq!(
            normalise("reply in 0.42 ms from 10.0.0.1"),
            "reply in # ms from #"
        );
        assert_eq!(normalise("dc2 silent"), "dc# silent");
    }
}
