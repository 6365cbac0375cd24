//! The HTML report: one self-contained file a support engineer opens from a ticket. Inline CSS
//! only; a Content-Security-Policy that forbids every fetch, so it renders the same offline and
//! can never call home. No scripts: the detail is in <details> elements. Prints to PDF.

use super::console::{groups, remedies, runs_once};
use super::Report;
use crate::model::{Area, Status};
use crate::result::CheckResult;
use serde_json::Value;
use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values alike.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skip => "·",
        Status::Error => "?",
    }
}

/// The stylesheet, shared with the diff's HTML.
pub(crate) const STYLE: &str = r#"
:root { --pass:#1a7f37; --warn:#9a6700; --fail:#cf222e; --skip:#6e7781; --error:#8250df; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color:#1f2328; margin:0 auto; padding:16px; max-width:1200px; }
h1 { font-size:1.6em; margin:0 0 4px; } h2 { font-size:1.2em; margin:28px 0 8px; border-bottom:1px solid var(--line); padding-bottom:4px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Consolas, monospace; font-size:0.92em; overflow-wrap:anywhere; }
.verdict { border-radius:8px; padding:14px 18px; color:#fff; }
.v-ready { background:var(--pass); } .v-warnings { background:var(--warn); } .v-not_ready { background:var(--fail); } .v-unknown { background:var(--error); }
.verdict p { margin:4px 0; } .verdict .meta { opacity:0.9; font-size:0.92em; }
.rootcause { background:rgba(255,255,255,0.15); border-radius:6px; padding:8px 10px; margin-top:8px; }
.s-pass { color:var(--pass); } .s-warn { color:var(--warn); } .s-fail { color:var(--fail); } .s-skip { color:var(--skip); } .s-error { color:var(--error); }
table { border-collapse:collapse; width:100%; } th, td { border:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:#f6f8fa; }
.scroll { overflow-x:auto; }
td.cell { text-align:center; font-weight:bold; font-size:1.1em; }
td.cell.s-pass { background:#dafbe1; } td.cell.s-warn { background:#fff8c5; } td.cell.s-fail { background:#ffebe9; } td.cell.s-error { background:#fbefff; } td.cell.s-skip { background:#f6f8fa; }
ol.remedies li { margin-bottom:6px; }
.route { border:1px solid var(--line); border-radius:6px; padding:8px 12px; margin:8px 0; }
.route ol { margin:4px 0; }
.timeline .row { display:grid; grid-template-columns: minmax(120px, 32%) 1fr; gap:8px; align-items:center; min-height:18px; border-bottom:1px dotted #eaeef2; }
.timeline .label { font-size:0.85em; overflow-wrap:anywhere; }
.timeline .track { position:relative; height:12px; background:#f6f8fa; }
.timeline .bar { position:absolute; top:1px; height:10px; min-width:2px; border-radius:2px; }
.bar.s-pass { background:var(--pass); } .bar.s-warn { background:var(--warn); } .bar.s-fail { background:var(--fail); } .bar.s-skip { background:var(--skip); } .bar.s-error { background:var(--error); }
.bar.critical { outline:2px solid #0969da; outline-offset:1px; }
.axis { display:flex; justify-content:space-between; font-size:0.8em; color:var(--skip); margin-left:calc(32% + 8px); }
dl.profile { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; } dl.profile dt { font-weight:600; } dl.profile dd { margin:0; overflow-wrap:anywhere; }
details pre { white-space:pre-wrap; overflow-wrap:anywhere; font-size:0.85em; background:#f6f8fa; padding:6px; }
.legend span { margin-right:12px; }
@media (max-width: 640px) { body { padding:8px; font-size:13px; } .timeline .row { grid-template-columns: 40% 1fr; } .axis { margin-left:calc(40% + 8px); } }
@media print {
  body { max-width:none; padding:0; font-size:10pt; }
  * { -webkit-print-color-adjust:exact; print-color-adjust:exact; }
  h2 { break-after:avoid; } tr, .route, .timeline .row { break-inside:avoid; }
  .scroll { overflow:visible; } details > pre { display:none; }
  a { color:inherit; text-decoration:none; }
}
"#;

/// The document head: no fetch of any kind is allowed, whatever the report contains.
pub(crate) fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n",
        esc(title)
    )
}

fn verdict_class(report: &Report) -> &'static str {
    match report.verdict.status {
        crate::verdict::VerdictStatus::Ready => "v-ready",
        crate::verdict::VerdictStatus::Warnings => "v-warnings",
        crate::verdict::VerdictStatus::NotReady => "v-not_ready",
        crate::verdict::VerdictStatus::Unknown => "v-unknown",
    }
}

/// The DCs the per-DC checks ran against, in the report's order, and those checks' ids.
fn dc_matrix(report: &Report) -> (Vec<&str>, Vec<&str>) {
    let mut dcs: Vec<&str> = Vec::new();
    let mut checks: Vec<&str> = Vec::new();
    for (id, rows) in groups(report) {
        let per_dc = matches!(rows[0].area, Area::Dns | Area::Dc | Area::Ldap | Area::Time)
            && !runs_once(&rows, &report.domain)
            // A placeholder row ("(no gateway)") is not a DC.
            && rows.iter().all(|r| !r.target.starts_with('('));
        if !per_dc {
            continue;
        }
        checks.push(id);
        for row in rows {
            if !dcs.contains(&row.target.as_str()) {
                dcs.push(&row.target);
            }
        }
    }
    dcs.sort();
    (dcs, checks)
}

/// The chain of results that ended last: the check that finished last, then, through its
/// `needs`, whichever needed result finished last, and so on. Its bars are the slowest link.
fn critical_path(report: &Report) -> Vec<usize> {
    let end = |c: &CheckResult| c.started_ms.saturating_add(c.duration_ms);
    let mut path = Vec::new();
    let mut current = report
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.status != Status::Skip)
        .max_by_key(|(_, c)| end(c))
        .map(|(i, _)| i);
    // Bounded by the number of rows: each step moves to a different, earlier-ending row.
    while let Some(index) = current {
        if path.contains(&index) || path.len() > report.checks.len() {
            break;
        }
        path.push(index);
        let check = &report.checks[index];
        current = report
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                check.needs.contains(&c.id)
                    && (c.target == check.target || runs_once(&[c], &report.domain))
                    && end(c) <= check.started_ms.saturating_add(1)
            })
            .max_by_key(|(_, c)| end(c))
            .map(|(i, _)| i);
    }
    path
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One endpoint's route: how it was chosen, each hop tried, and the TLS chain it met.
fn route(out: &mut String, check: &CheckResult) {
    let evidence = check.evidence_json();
    let _ = write!(
        out,
        "<div class=\"route\" data-endpoint=\"{}\"><p><span class=\"s-{}\">{}</span> <b>{}</b> <code>{}</code></p><p>{}</p>",
        esc(&check.target),
        check.status,
        mark(check.status),
        esc(&check.target),
        esc(&text_of(&evidence["url"])),
        esc(&check.finding)
    );
    let route = &evidence["route"];
    if route.is_object() {
        let hops: Vec<String> = route["hops"]
            .as_array()
            .map(|h| h.iter().map(text_of).collect())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<p>Route from <b>{}</b>{}: {}</p>",
            esc(&text_of(&route["source"])),
            match route["pac_result"].as_str() {
                Some(rule) => format!(", PAC rule <code>{}</code>", esc(rule)),
                None => String::new(),
            },
            esc(&hops.join(" → "))
        );
    }
    if let Some(pac) = evidence["pac"].as_str() {
        let _ = write!(out, "<p>PAC file: <code>{}</code></p>", esc(pac));
    }
    if let Some(tried) = evidence["tried"].as_array().filter(|t| !t.is_empty()) {
        out.push_str("<ol class=\"hops\">");
        for attempt in tried {
            let outcome = match attempt["broken_link"].as_str() {
                Some(link) => format!(
                    "<span class=\"s-fail\">broke at {}</span>: {}",
                    esc(link),
                    esc(&text_of(&attempt["error"]))
                ),
                None => "<span class=\"s-pass\">reached</span>".to_string(),
            };
            let _ = write!(
                out,
                "<li><code>{}</code> {outcome}</li>",
                esc(&text_of(&attempt["hop"]))
            );
        }
        out.push_str("</ol>");
    }
    if let Some(chain) = evidence["tls"]["chain"]
        .as_array()
        .filter(|c| !c.is_empty())
    {
        let verified = evidence["tls"]["verified"].as_bool().unwrap_or(false);
        let _ = write!(
            out,
            "<p>TLS chain ({}{}):</p><ol class=\"chain\">",
            if verified { "verified" } else { "not verified" },
            match evidence["inspection"]["public_root"].as_bool() {
                Some(true) => ", ends at a public root".to_string(),
                Some(false) => format!(
                    ", <span class=\"s-fail\">ends at {}: not a public root (TLS inspection?)</span>",
                    esc(&text_of(&evidence["inspection"]["ends_at"]))
                ),
                None => String::new(),
            }
        );
        for cert in chain {
            let _ = write!(
                out,
                "<li><code>{}</code> issued by <code>{}</code>, until {}</li>",
                esc(&text_of(&cert["subject"])),
                esc(&text_of(&cert["issuer"])),
                esc(&text_of(&cert["not_after"]))
            );
        }
        out.push_str("</ol>");
    }
    out.push_str("</div>\n");
}

pub fn render(report: &Report) -> String {
    let mut out = head(&format!(
        "joinready: {} {}",
        report.verdict.status.headline(),
        report.domain
    ));
    out.push_str("<body>\n");

    // Verdict and root cause.
    let _ = write!(
        out,
        "<header class=\"verdict {}\" id=\"verdict\"><h1>{} <span class=\"mono\">{}</span></h1>\
         <p class=\"summary\">{}</p><p class=\"meta\">scenario {} · started {} · {} ms · {} · {} {}</p>",
        verdict_class(report),
        esc(report.verdict.status.headline()),
        esc(&report.domain),
        esc(&report.verdict.summary),
        esc(report.scenario.as_str()),
        esc(&report.started_at),
        report.duration_ms,
        if report.complete {
            "complete".to_string()
        } else {
            format!(
                "incomplete: {}",
                esc(report.incomplete_reason.as_deref().unwrap_or("cut short"))
            )
        },
        esc(&report.tool.name),
        esc(&report.tool.version),
    );
    if let Some(root) = &report.verdict.root_cause {
        let _ = write!(
            out,
            "<div class=\"rootcause\" id=\"root-cause\"><b>Root cause:</b> <code>{}</code> on <code>{}</code>: {}</div>",
            esc(&root.check),
            esc(&root.target),
            esc(&root.finding)
        );
    }
    for note in &report.verdict.notes {
        let _ = write!(out, "<p class=\"note\">Note: {}</p>", esc(note));
    }
    out.push_str("</header>\n");

    // Remedies.
    let remedies = remedies(report);
    if !remedies.is_empty() {
        out.push_str("<section id=\"remedies\"><h2>What to do</h2><ol class=\"remedies\">");
        for (id, remedy) in remedies {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(id),
                esc(&remedy.split_whitespace().collect::<Vec<_>>().join(" "))
            );
        }
        out.push_str("</ol></section>\n");
    }

    // DC × check matrix.
    let (dcs, matrix_checks) = dc_matrix(report);
    if !dcs.is_empty() {
        out.push_str("<section id=\"matrix\"><h2>Domain controllers × checks</h2><div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>check</th>");
        for dc in &dcs {
            let _ = write!(out, "<th class=\"dc\">{}</th>", esc(dc));
        }
        out.push_str("</tr></thead><tbody>");
        for id in &matrix_checks {
            let _ = write!(out, "<tr><th><code>{}</code></th>", esc(id));
            for dc in &dcs {
                match report
                    .checks
                    .iter()
                    .find(|c| c.id == *id && c.target == *dc)
                {
                    Some(c) => {
                        let _ = write!(
                            out,
                            "<td class=\"cell s-{}\" data-check=\"{}\" data-dc=\"{}\" title=\"{}\">{}</td>",
                            c.status,
                            esc(id),
                            esc(dc),
                            esc(&format!("{}: {}", c.status, c.finding)),
                            mark(c.status)
                        );
                    }
                    None => {
                        let _ = write!(
                            out,
                            "<td class=\"cell s-none\" data-check=\"{}\" data-dc=\"{}\" title=\"not run against this DC\">–</td>",
                            esc(id),
                            esc(dc)
                        );
                    }
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
        out.push_str("<p class=\"legend\"><span class=\"s-pass\">✓ pass</span><span class=\"s-warn\">! warn</span><span class=\"s-fail\">✗ fail</span><span class=\"s-skip\">· skip</span><span class=\"s-error\">? error</span><span>– not run</span></p></section>\n");
    }

    // Timeline.
    let total = report
        .checks
        .iter()
        .map(|c| c.started_ms.saturating_add(c.duration_ms))
        .max()
        .unwrap_or(0)
        .max(report.duration_ms)
        .max(1);
    let critical = critical_path(report);
    let mut order: Vec<usize> = (0..report.checks.len()).collect();
    order.sort_by_key(|i| (report.checks[*i].started_ms, *i));
    let _ = write!(
        out,
        "<section id=\"timeline\"><h2>Timeline</h2><p>Every check from its start to its end; \
         the outlined bars are the chain that finished last (the slowest link). Total {total} ms.</p>\
         <div class=\"timeline\">"
    );
    for index in order {
        let check = &report.checks[index];
        let left = check.started_ms as f64 * 100.0 / total as f64;
        let width = check.duration_ms as f64 * 100.0 / total as f64;
        let _ = write!(
            out,
            "<div class=\"row\"><div class=\"label\"><code>{}</code> {}</div><div class=\"track\">\
             <div class=\"bar s-{}{}\" data-check=\"{}\" data-target=\"{}\" style=\"left:{left:.2}%;width:{width:.2}%\" \
             title=\"{}\"></div></div></div>",
            esc(&check.id),
            esc(&check.target),
            check.status,
            if critical.contains(&index) {
                " critical"
            } else {
                ""
            },
            esc(&check.id),
            esc(&check.target),
            esc(&format!(
                "{} {}: {} ms from {} ms, {}",
                check.id, check.target, check.duration_ms, check.started_ms, check.status
            ))
        );
    }
    let _ = write!(
        out,
        "</div><div class=\"axis\"><span>0 ms</span><span>{} ms</span><span>{} ms</span><span>{} ms</span><span>{total} ms</span></div></section>",
        total / 4,
        total / 2,
        total * 3 / 4
    );
    out.push('\n');

    // Endpoint routes.
    let endpoints: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| c.evidence_json()["kind"] == "endpoint")
        .collect();
    if !endpoints.is_empty() {
        out.push_str("<section id=\"routes\"><h2>Endpoints and their routes</h2>");
        for check in endpoints {
            route(&mut out, check);
        }
        out.push_str("</section>\n");
    }

    // Every check, every finding.
    out.push_str("<section id=\"checks\"><h2>Every check</h2><div class=\"scroll\"><table class=\"checks\"><thead><tr><th></th><th>check</th><th>target</th><th>ms</th><th>finding</th></tr></thead><tbody>");
    for (id, rows) in groups(report) {
        for check in rows {
            let evidence = match &check.evidence {
                Some(evidence) => format!(
                    "<details><summary>evidence</summary><pre>{}</pre></details>",
                    esc(&serde_json::to_string_pretty(evidence).unwrap_or_default())
                ),
                None => String::new(),
            };
            let _ = write!(
                out,
                "<tr class=\"s-{}\"><td class=\"s-{}\">{}</td><td><code>{}</code><br><small>{}</small></td><td><code>{}</code></td><td>{}</td><td>{}{}</td></tr>",
                check.status,
                check.status,
                mark(check.status),
                esc(id),
                esc(&check.title),
                esc(&check.target),
                check.duration_ms,
                esc(&check.finding),
                evidence
            );
        }
    }
    out.push_str("</tbody></table></div></section>\n");

    // Profile and host: the profile summary never holds a secret (only where one came from).
    let p = &report.profile;
    let rows: Vec<(&str, String)> = vec![
        ("profile", p.path.clone().unwrap_or_else(|| "(none)".into())),
        ("domain", format!("{} (from {})", p.domain, p.domain_source)),
        ("forest", p.forest.clone()),
        ("site", p.site.clone().unwrap_or_else(|| "(any)".into())),
        ("OU", p.ou.clone().unwrap_or_else(|| "(not set)".into())),
        (
            "tenant",
            p.tenant.clone().unwrap_or_else(|| "(not set)".into()),
        ),
        (
            "timeout / deadline",
            format!("{} ms / {} ms", p.timeout_ms, p.deadline_ms),
        ),
        (
            "LDAP bind",
            match &p.ldap_bind_user {
                Some(user) => format!(
                    "{user} over {}, password from {}",
                    p.ldap_tls,
                    p.ldap_password_source.as_deref().unwrap_or("nowhere")
                ),
                None => format!("anonymous ({})", p.ldap_tls),
            },
        ),
        (
            "host",
            format!("{} ({})", report.host.hostname, report.host.os),
        ),
        ("DNS servers", report.host.dns_servers.join(", ")),
        ("as root", report.host.running_as_root.to_string()),
    ];
    out.push_str("<section id=\"profile\"><h2>Profile and host</h2><dl class=\"profile\">");
    for (key, value) in rows {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(key), esc(&value));
    }
    out.push_str("</dl></section>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_report::report;
    use crate::verdict::VerdictStatus;

    fn row(id: &str, area: Area, target: &str, status: Status, start: u64) -> CheckResult {
        CheckResult {
            id: id.into(),
            area,
            title: "title".into(),
            target: target.into(),
            status,
            started_ms: start,
            duration_ms: 10,
            finding: format!("{id} <b>on</b> {target}"),
            remedy: "do this".into(),
            needs: if id == "dc.ping" {
                vec!["dc.srv".into()]
            } else {
                vec![]
            },
            cut_short: false,
            evidence: None,
        }
    }

    fn sample() -> Report {
        report(
            vec![
                row(
                    "dc.srv",
                    Area::Dns,
                    "_ldap._tcp.dc._msdcs.corp.example.com",
                    Status::Pass,
                    0,
                ),
                row(
                    "dc.ping",
                    Area::Dc,
                    "dc1.corp.example.com",
                    Status::Pass,
                    10,
                ),
                row(
                    "dc.ping",
                    Area::Dc,
                    "dc2.corp.example.com",
                    Status::Fail,
                    10,
                ),
                row(
                    "ldap.bind",
                    Area::Ldap,
                    "dc1.corp.example.com",
                    Status::Pass,
                    25,
                ),
                row("ldap.ou", Area::Ldap, "corp.example.com", Status::Skip, 0),
                row("vpn.ike", Area::Vpn, "(no gateway)", Status::Skip, 0),
            ],
            VerdictStatus::NotReady,
        )
    }

    #[test]
    fn matrix_has_a_cell_per_dc_and_per_dc_check() {
        let html = render(&sample());
        assert_eq!(
            html.matches("<td class=\"cell ").count(),
            4,
            "2 checks × 2 DCs"
        );
        assert!(html.contains("data-check=\"ldap.bind\" data-dc=\"dc2.corp.example.com\" title=\"not run against this DC\""));
        assert!(html.contains(
            "<td class=\"cell s-fail\" data-check=\"dc.ping\" data-dc=\"dc2.corp.example.com\""
        ));
        assert!(!html.contains("data-dc=\"(no gateway)\""));
    }

    #[test]
    fn one_bar_per_result_and_the_slowest_chain_outlined() {
        let html = render(&sample());
        assert_eq!(html.matches("<div class=\"bar ").count(), 6);
        // ldap.bind ends last (35 ms); it needs nothing, so the chain is itself alone.
        assert!(
            html.contains("class=\"bar s-pass critical\" data-check=\"ldap.bind\""),
            "{html}"
        );
        let mut later = sample();
        later.checks[1].started_ms = 40;
        let html = render(&later);
        assert!(html.contains("class=\"bar s-pass critical\" data-check=\"dc.ping\""));
        assert!(html.contains("class=\"bar s-pass critical\" data-check=\"dc.srv\""));
        assert!(!html.contains("critical\" data-check=\"ldap.bind\""));
    }

    #[test]
    fn text_is_escaped_and_nothing_is_fetched() {
        let html = render(&sample());
        assert!(html.contains("dc.ping &lt;b&gt;on&lt;/b&gt;"));
        assert!(!html.contains("<b>on</b>"));
        assert!(html.contains("default-src 'none'"));
        for needle in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
            assert!(!html.contains(needle), "{needle}");
        }
        assert!(html.contains("<h1>NOT READY"));
        assert!(html.contains("id=\"root-cause\""));
    }
}
