//! The output of `joinready diff`: a table for people, JSON for scripts, HTML for tickets.

use super::html::{esc, head};
use crate::diff::{Change, ChangeKind, Diff, Outcome};
use crate::model::Status;

fn headline(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Unchanged => "UNCHANGED",
        Outcome::Changed => "CHANGED",
        Outcome::Worse => "WORSE",
    }
}

fn status_text(status: Option<Status>) -> &'static str {
    status.map(Status::as_str).unwrap_or("absent")
}

/// One change in words: `pass → fail: <new finding>`, or the times for an RTT change.
fn describe(change: &Change) -> String {
    if let Some(rtt) = &change.rtt {
        return format!("{} {:.1} ms → {:.1} ms", rtt.field, rtt.old_ms, rtt.new_ms);
    }
    let finding = change
        .new_finding
        .as_deref()
        .or(change.old_finding.as_deref())
        .unwrap_or("");
    match change.kind {
        ChangeKind::FindingChanged => format!(
            "was: {}; now: {finding}",
            change.old_finding.as_deref().unwrap_or("")
        ),
        _ => format!(
            "{} → {}: {finding}",
            status_text(change.old_status),
            status_text(change.new_status)
        ),
    }
}

fn counts(diff: &Diff) -> String {
    let worse = diff.changes.iter().filter(|c| c.worse).count();
    let fixed = diff
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Fixed | ChangeKind::Improved))
        .count();
    let other = diff.changes.len() - worse - fixed;
    format!("{worse} worse, {fixed} better, {other} other changes")
}

pub fn table(diff: &Diff, width: usize) -> String {
    let width = width.max(40);
    let mut out = Vec::new();
    let verdict = if diff.old.verdict == diff.new.verdict {
        format!("verdict {} in both", diff.new.verdict.headline())
    } else {
        format!(
            "verdict {} → {}",
            diff.old.verdict.headline(),
            diff.new.verdict.headline()
        )
    };
    out.extend(wrap(
        &format!(
            "{} {}: {}, {verdict}",
            headline(diff.outcome),
            diff.new.domain,
            counts(diff)
        ),
        width,
        "",
        "  ",
    ));
    for (label, side) in [("old", &diff.old), ("new", &diff.new)] {
        out.extend(wrap(
            &format!(
                "{label}: {} ({}, {} {}, schema {}): {}",
                side.file,
                side.started_at,
                side.domain,
                side.scenario,
                side.schema_version,
                side.summary
            ),
            width,
            "  ",
            "      ",
        ));
    }
    if diff.old.domain != diff.new.domain || diff.old.scenario != diff.new.scenario {
        out.push("  note: the reports are of different domains or scenarios".to_string());
    }
    let mut current: Option<ChangeKind> = None;
    for change in &diff.changes {
        if current != Some(change.kind) {
            current = Some(change.kind);
            out.push(String::new());
            out.push(format!(
                "{}{}:",
                change.kind.heading(),
                if change.kind == ChangeKind::RttChanged {
                    format!(" (by more than {} ms)", diff.rtt_threshold_ms)
                } else {
                    String::new()
                }
            ));
        }
        out.extend(wrap(
            &format!("{} {}: {}", change.id, change.target, describe(change)),
            width,
            "  ",
            "      ",
        ));
    }
    if diff.changes.is_empty() {
        out.push(String::new());
        out.push("No check changed.".to_string());
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Words into lines of at most `width` columns (a word wider than a line stands alone).
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut fresh = true;
    for word in text.split_whitespace() {
        if !fresh && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(line);
            line = rest.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    lines.push(line);
    lines
}

pub fn json(diff: &Diff) -> String {
    let mut text = serde_json::to_string_pretty(diff)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize the diff: {e}\"}}"));
    text.push('\n');
    text
}

pub fn html(diff: &Diff) -> String {
    let mut out = head(&format!(
        "joinready diff: {} {}",
        headline(diff.outcome),
        diff.new.domain
    ));
    let class = match diff.outcome {
        Outcome::Unchanged => "v-ready",
        Outcome::Changed => "v-warnings",
        Outcome::Worse => "v-not_ready",
    };
    out.push_str(&format!(
        "<body>\n<header class=\"verdict {class}\" id=\"verdict\"><h1>{} <span class=\"mono\">{}</span></h1><p>{}</p>",
        headline(diff.outcome),
        esc(&diff.new.domain),
        esc(&counts(diff))
    ));
    for (label, side) in [("old", &diff.old), ("new", &diff.new)] {
        out.push_str(&format!(
            "<p class=\"meta\">{label}: <code>{}</code> {} · {} · {}: {}</p>",
            esc(&side.file),
            esc(&side.started_at),
            esc(&side.scenario),
            esc(side.verdict.headline()),
            esc(&side.summary)
        ));
    }
    out.push_str("</header>\n<section id=\"changes\"><h2>Changes</h2><div class=\"scroll\"><table class=\"changes\"><thead><tr><th>change</th><th>check</th><th>target</th><th>what</th></tr></thead><tbody>");
    for change in &diff.changes {
        let class = if change.worse {
            "s-fail"
        } else if matches!(change.kind, ChangeKind::Fixed | ChangeKind::Improved) {
            "s-pass"
        } else {
            "s-warn"
        };
        out.push_str(&format!(
            "<tr class=\"change\" data-kind=\"{}\"><td class=\"{class}\">{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            serde_json::to_value(change.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            esc(change.kind.heading()),
            esc(&change.id),
            esc(&change.target),
            esc(&describe(change))
        ));
    }
    if diff.changes.is_empty() {
        out.push_str("<tr><td colspan=\"4\">No check changed.</td></tr>");
    }
    out.push_str("</tbody></table></div></section>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{compare, parse};
    use serde_json::json;

    fn side(verdict: &str, status: &str) -> String {
        json!({
            "schema_version": 2, "started_at": "2026-12-01T08:00:00Z", "scenario": "on-prem",
            "domain": "corp.example.com",
            "verdict": {"status": verdict, "summary": "dc.port.smb_tcp: TCP 445 on dc2 silent"},
            "checks": [{"id": "dc.port.smb_tcp", "target": "dc2.corp.example.com",
                        "status": status, "finding": "TCP 445 <silent>"}]
        })
        .to_string()
    }

    fn worse() -> Diff {
        let old = parse("old.json", &side("ready", "pass")).unwrap_or_else(|e| panic!("{e}"));
        let new = parse("new.json", &side("not_ready", "fail")).unwrap_or_else(|e| panic!("{e}"));
        compare("old.json", &old, "new.json", &new, 20.0)
    }

    #[test]
    fn table_leads_with_the_outcome_and_groups_by_kind() {
        let narrow = table(&worse(), 80);
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        let text = table(&worse(), 120);
        assert!(text.starts_with(
            "WORSE corp.example.com: 1 worse, 0 better, 0 other changes, verdict READY → NOT READY\n"
        ), "{text}");
        assert!(text.contains("\nStarted failing:\n  dc.port.smb_tcp dc2.corp.example.com: pass → fail: TCP 445 <silent>\n"), "{text}");
    }

    #[test]
    fn json_and_html_carry_the_same_changes() {
        let diff = worse();
        let value: serde_json::Value =
            serde_json::from_str(&json(&diff)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["outcome"], "worse");
        assert_eq!(value["changes"][0]["kind"], "started_failing");
        assert_eq!(value["changes"][0]["worse"], true);
        let page = html(&diff);
        assert!(page.contains("data-kind=\"started_failing\""));
        assert!(page.contains("TCP 445 &lt;silent&gt;"));
        assert!(page.contains("default-src 'none'"));
    }
}
