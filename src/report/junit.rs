//! JUnit XML for pipelines: one testsuite, one testcase per check row (classname = area,
//! name = "id target"); fail is a `<failure>`, error an `<error>`, skip `<skipped>`; pass and
//! warn pass. It follows the Ant/Jenkins JUnit schema (fixtures/junit/junit.xsd), which CI
//! servers (Jenkins, GitLab, Azure Pipelines) read.

use super::Report;
use crate::model::Status;
use crate::result::CheckResult;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let count = |status: Status| report.checks.iter().filter(|c| c.status == status).count();
    let (failures, errors, skipped) = (
        count(Status::Fail),
        count(Status::Error),
        count(Status::Skip),
    );
    let tests = report.checks.len();
    let time = seconds(report.duration_ms);
    let name = format!("joinready {}", report.domain);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time}\">",
        escape(&name)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\" timestamp=\"{}\" hostname=\"{}\">",
        escape(&name),
        escape(&ant_timestamp(&report.started_at)),
        escape(&report.host.hostname),
    );
    out.push_str("    <properties>\n");
    let verdict = serde_json::to_value(report.verdict.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    for (key, value) in [
        ("verdict", verdict),
        ("summary", report.verdict.summary.clone()),
        ("domain", report.domain.clone()),
        ("scenario", report.scenario.as_str().to_string()),
        ("complete", report.complete.to_string()),
        ("tool_version", report.tool.version.clone()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{key}\" value=\"{}\"/>",
            escape(&value)
        );
    }
    out.push_str("    </properties>\n");
    for check in &report.checks {
        testcase(&mut out, check);
    }
    let _ = writeln!(
        out,
        "    <system-out>{}: {}</system-out>",
        report.verdict.status.headline(),
        escape(&report.verdict.summary)
    );
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, check: &CheckResult) {
    let name = if check.target.is_empty() {
        check.id.clone()
    } else {
        format!("{} {}", check.id, check.target)
    };
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
        check.area.as_str(),
        escape(&name),
        seconds(check.duration_ms)
    );
    let finding = escape(&check.finding);
    let detail = if check.remedy.is_empty() {
        escape_text(&check.finding)
    } else {
        format!(
            "{}\n\nWhat to do: {}",
            escape_text(&check.finding),
            escape_text(&check.remedy)
        )
    };
    match check.status {
        Status::Fail => {
            let _ = writeln!(
                out,
                "      <failure type=\"fail\" message=\"{finding}\">{detail}</failure>"
            );
        }
        Status::Error => {
            let _ = writeln!(
                out,
                "      <error type=\"error\" message=\"{finding}\">{detail}</error>"
            );
        }
        Status::Skip => {
            let _ = writeln!(out, "      <skipped message=\"{finding}\"/>");
        }
        Status::Pass | Status::Warn => {}
    }
    let _ = writeln!(
        out,
        "      <system-out>{}: {finding}</system-out>",
        check.status
    );
    out.push_str("    </testcase>\n");
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Ant writes the local time without a zone (`2026-11-26T20:00:00`), and its schema's pattern
/// allows nothing else; ours is UTC, so the `Z` goes.
fn ant_timestamp(rfc3339: &str) -> String {
    rfc3339
        .strip_suffix('Z')
        .unwrap_or(rfc3339)
        .chars()
        .take(19)
        .collect()
}

/// Escapes element text; line feeds stay as they are.
fn escape_text(text: &str) -> String {
    escape(text).replace("&#10;", "\n")
}

/// Escapes for attribute values (and text), and drops characters XML 1.0 cannot carry at all
/// (control characters other than tab, line feed and carriage return).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // In attributes a raw line feed would be normalised to a space by readers.
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Area;
    use crate::report::test_report::report;
    use crate::verdict::VerdictStatus;

    fn row(id: &str, target: &str, status: Status, finding: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            area: Area::Dns,
            title: String::new(),
            target: target.into(),
            status,
            started_ms: 0,
            duration_ms: 1234,
            finding: finding.into(),
            remedy: "fix it".into(),
            needs: vec![],
            cut_short: false,
            evidence: None,
        }
    }

    #[test]
    fn statuses_map_to_junit_elements() {
        let xml = render(&report(
            vec![
                row(
                    "dc.srv",
                    "_ldap",
                    Status::Fail,
                    "NXDOMAIN from <10.0.0.1> & \"x\"",
                ),
                row("dc.ping", "dc1", Status::Error, "needs privilege"),
                row("ldap.bind", "dc1", Status::Skip, "dc.srv failed"),
                row("dc.gc_srv", "", Status::Pass, "ok"),
            ],
            VerdictStatus::NotReady,
        ));
        assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"2.000\" timestamp=\"2026-11-26T20:00:00\""), "{xml}");
        assert!(
            xml.contains("<testcase classname=\"dns\" name=\"dc.srv _ldap\" time=\"1.234\">"),
            "{xml}"
        );
        assert!(xml.contains("<failure type=\"fail\" message=\"NXDOMAIN from &lt;10.0.0.1&gt; &amp; &quot;x&quot;\">"), "{xml}");
        assert!(xml.contains("<error type=\"error\" message=\"needs privilege\">needs privilege\n\nWhat to do: fix it</error>"), "{xml}");
        assert!(
            xml.contains("<skipped message=\"dc.srv failed\"/>"),
            "{xml}"
        );
        assert!(xml.contains("name=\"dc.gc_srv\" time"), "{xml}");
        assert_eq!(xml.matches("<testsuite ").count(), 1);
    }

    #[test]
    fn control_characters_are_dropped_and_line_feeds_kept() {
        assert_eq!(escape("a\u{1}b\nc'"), "ab&#10;c&apos;");
    }
}
