//! The technician's view (the default `--format table`): the verdict, then one row per check
//! with the per-DC, per-gateway and per-endpoint results folded into one mark per target, then
//! the findings of what did not pass, the remedies, a legend, and on a terminal the verdict
//! again, so it is on screen when the output stops. Every line fits the width given; words are
//! never broken (but for a single word wider than the whole line).

use super::Report;
use crate::model::{Area, Status};
use crate::verdict::VerdictStatus;

pub struct ConsoleOptions {
    pub color: bool,
    /// ASCII marks instead of ✓ ✗ (see [`wants_ascii`]).
    pub ascii: bool,
    /// 0: findings of what did not pass; 1: every finding; 2: and the evidence.
    pub verbosity: u8,
    /// Columns to fit.
    pub width: usize,
    /// Repeat the verdict as the last line (on a terminal, where the first has scrolled away).
    pub verdict_last: bool,
}

/// Narrower than this, nothing useful fits; the view then overflows rather than stacking words.
const MIN_WIDTH: usize = 40;
/// Ids longer than this do not widen the id column further (their row starts one line lower).
const MAX_ID_COLUMN: usize = 28;

/// Whether the terminal asks for ASCII: `--ascii`, `TERM=dumb`, or a locale whose character
/// set is not UTF-8 (LC_ALL, then LC_CTYPE, then LANG; none set is the C locale). On Windows,
/// whose console font lacks ✓ and ✗, only Windows Terminal (`WT_SESSION`) gets them.
pub fn wants_ascii(
    flag: bool,
    term: Option<&str>,
    locale: Option<&str>,
    windows: bool,
    windows_terminal: bool,
) -> bool {
    if flag || term == Some("dumb") {
        return true;
    }
    if windows {
        return !windows_terminal;
    }
    let locale = locale.unwrap_or("C").to_ascii_lowercase();
    !(locale.contains("utf-8") || locale.contains("utf8"))
}

/// The locale that decides the character set, as the C library picks it.
pub fn locale_from_env() -> Option<String> {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
}

fn mark(status: Status, ascii: bool) -> &'static str {
    match (status, ascii) {
        (Status::Pass, false) => "✓",
        (Status::Pass, true) => "+",
        (Status::Warn, _) => "!",
        (Status::Fail, false) => "✗",
        (Status::Fail, true) => "X",
        (Status::Skip, false) => "·",
        (Status::Skip, true) => "-",
        (Status::Error, _) => "?",
    }
}

fn color_code(status: Status) -> u8 {
    match status {
        Status::Pass => 32,
        Status::Warn => 33,
        Status::Fail => 31,
        Status::Skip => 90,
        Status::Error => 35,
    }
}

fn verdict_code(status: VerdictStatus) -> u8 {
    match status {
        VerdictStatus::Ready => 32,
        VerdictStatus::Warnings => 33,
        VerdictStatus::NotReady => 31,
        VerdictStatus::Unknown => 35,
    }
}

/// How bad a status is for the row's own mark: a fail anywhere makes the row a fail; a row
/// of passes with one skipped target is still a pass.
fn rank(status: Status) -> u8 {
    match status {
        Status::Skip => 0,
        Status::Pass => 1,
        Status::Warn => 2,
        Status::Error => 3,
        Status::Fail => 4,
    }
}

/// One unbreakable piece of a line: its visible text (for the width) and what is printed.
struct Token {
    plain: String,
    painted: String,
}

impl Token {
    fn plain(text: &str) -> Token {
        Token {
            plain: text.to_string(),
            painted: text.to_string(),
        }
    }

    fn painted(text: &str, code: u8, color: bool) -> Token {
        Token {
            plain: text.to_string(),
            painted: if color {
                format!("\x1b[1;{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            },
        }
    }

    fn width(&self) -> usize {
        self.plain.chars().count()
    }
}

fn words(text: &str) -> Vec<Token> {
    text.split_whitespace().map(Token::plain).collect()
}

/// Fills lines of at most `width` columns with `tokens` separated by `gap` spaces: the first
/// line starts with `first`, the others with `rest` (same visible width or not). A token
/// wider than a whole line is cut, the one case where a word must break.
fn fill(tokens: Vec<Token>, gap: usize, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut used = first.chars().count();
    let mut empty = true;
    let rest_width = rest.chars().count();
    for token in tokens {
        let room = width.saturating_sub(rest_width).max(1);
        let pieces: Vec<Token> = if token.width() > room && token.plain == token.painted {
            let chars: Vec<char> = token.plain.chars().collect();
            chars
                .chunks(room)
                .map(|c| Token::plain(&c.iter().collect::<String>()))
                .collect()
        } else {
            vec![token]
        };
        for piece in pieces {
            let needed = if empty {
                piece.width()
            } else {
                gap + piece.width()
            };
            if !empty && used + needed > width {
                lines.push(line);
                line = rest.to_string();
                used = rest_width;
                empty = true;
            }
            if !empty {
                line.push_str(&" ".repeat(gap));
                used += gap;
            }
            line.push_str(&piece.painted);
            used += piece.width();
            empty = false;
        }
    }
    lines.push(line);
    lines
}

/// A target as short as it can be said in its row: a DC without the domain it is in.
/// Endpoints and gateways keep their full names (`ep.corp.example.com` is not "ep").
fn short_target(row: &crate::result::CheckResult, domain: &str) -> String {
    let target = row.target.as_str();
    if !matches!(row.area, Area::Dns | Area::Dc | Area::Ldap | Area::Time) {
        return target.to_string();
    }
    let suffix = format!(".{domain}");
    match target.strip_suffix(&suffix) {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => target.to_string(),
    }
}

/// The report's rows grouped by check, in the report's order.
pub(crate) fn groups(report: &Report) -> Vec<(&str, Vec<&crate::result::CheckResult>)> {
    let mut groups: Vec<(&str, Vec<&crate::result::CheckResult>)> = Vec::new();
    for check in &report.checks {
        match groups.iter_mut().find(|(id, _)| *id == check.id) {
            Some((_, rows)) => rows.push(check),
            None => groups.push((&check.id, vec![check])),
        }
    }
    // By name, so dc1 comes before dc2 in every row and every run, whatever the SRV order.
    for (_, rows) in &mut groups {
        rows.sort_by(|a, b| a.target.cmp(&b.target));
    }
    groups
}

/// Whether a check ran once for the whole domain (its target is the domain or a DNS name
/// asked), not once per DC, gateway or endpoint; or had nothing to fan out over ("(no DC)").
pub(crate) fn runs_once(rows: &[&crate::result::CheckResult], domain: &str) -> bool {
    rows.len() == 1
        && (rows[0].target == domain
            || rows[0].target.starts_with('_')
            || rows[0].target.starts_with('('))
}

fn worst(rows: &[&crate::result::CheckResult]) -> Status {
    rows.iter()
        .map(|r| r.status)
        .max_by_key(|s| rank(*s))
        .unwrap_or(Status::Skip)
}

fn verdict_lines(report: &Report, color: bool, width: usize) -> Vec<String> {
    let verdict = &report.verdict;
    let mut tokens = vec![Token::painted(
        verdict.status.headline(),
        verdict_code(verdict.status),
        color,
    )];
    let state = if report.complete {
        "complete"
    } else {
        "incomplete"
    };
    // The join type is named in every scenario; Entra join has no AD domain to name.
    let domain = if report.scenario == crate::model::Scenario::Entra {
        String::new()
    } else {
        format!("{} ", report.domain)
    };
    tokens.extend(words(&format!(
        "{domain}({}: {}, {state}, {} ms): {}",
        report.scenario, verdict.join_type, report.duration_ms, verdict.summary
    )));
    fill(tokens, 1, "", "  ", width)
}

/// Evidence as `path = value` lines: JSON has no spaces to wrap at, paths do.
fn flatten(value: &serde_json::Value, path: String, out: &mut Vec<String>) {
    const MAX_LINES: usize = 200;
    if out.len() >= MAX_LINES {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(value, path, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, value) in items.iter().enumerate() {
                flatten(value, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::String(text) => out.push(format!("{path} = {text}")),
        other => out.push(format!("{path} = {other}")),
    }
}

pub fn render(report: &Report, options: &ConsoleOptions) -> String {
    let width = options.width.max(MIN_WIDTH);
    let mut lines = verdict_lines(report, options.color, width);
    for note in &report.verdict.notes {
        lines.extend(fill(words(note), 1, "  note: ", "        ", width));
    }
    lines.push(String::new());

    let groups = groups(report);
    let id_width = groups
        .iter()
        .map(|(id, _)| id.chars().count())
        .filter(|w| *w <= MAX_ID_COLUMN)
        .max()
        .unwrap_or(0);
    let detail_indent = " ".repeat(2 + id_width + 2);
    // Checks that were skipped for every target (no [connector], no tenant, not on Windows, a
    // scenario that does not need them) say nothing at a glance: one line names them all,
    // and -v gives each its row and reason.
    let mut skipped: Vec<&str> = Vec::new();
    for (id, rows) in &groups {
        let status = worst(rows);
        if status == Status::Skip && options.verbosity == 0 {
            skipped.push(id);
            continue;
        }
        let once = runs_once(rows, &report.domain);
        let head = format!(
            "{} {id:<id_width$}  ",
            Token::painted(
                mark(status, options.ascii),
                color_code(status),
                options.color
            )
            .painted
        );
        // The head's visible width, for `fill`, is the mark, a space, the padded id and a gap.
        let head_plain = format!("{} {id:<id_width$}  ", mark(status, options.ascii));
        let mut detail: Vec<Token> = Vec::new();
        // Words of a title sit one space apart; target marks two, to read as separate items.
        let gap = if once { 1 } else { 2 };
        if once {
            detail = words(&rows[0].title);
        } else {
            for row in rows {
                let name = short_target(row, &report.domain);
                let mark = mark(row.status, options.ascii);
                detail.push(Token {
                    plain: format!("{name} {mark}"),
                    painted: format!(
                        "{name} {}",
                        Token::painted(mark, color_code(row.status), options.color).painted
                    ),
                });
            }
        }
        let row_lines = if head_plain.chars().count() > 2 + id_width + 2 {
            // An id wider than the column: the detail goes under it.
            let mut out = vec![head.trim_end().to_string()];
            out.extend(fill(detail, gap, &detail_indent, &detail_indent, width));
            out
        } else {
            let mut out = fill(detail, gap, &head_plain, &detail_indent, width);
            if let Some(first) = out.first_mut() {
                *first = first.replacen(&head_plain, &head, 1);
            }
            out
        };
        lines.extend(row_lines);

        for row in rows {
            let shown = match row.status {
                Status::Pass | Status::Skip => options.verbosity >= 1,
                Status::Warn | Status::Fail | Status::Error => true,
            };
            if !shown {
                continue;
            }
            let mut tokens = Vec::new();
            if !once {
                tokens.push(Token::plain(&format!(
                    "{}:",
                    short_target(row, &report.domain)
                )));
            }
            tokens.extend(words(&row.finding));
            lines.extend(fill(tokens, 1, "    ", "      ", width));
            if options.verbosity >= 2 {
                if let Some(evidence) = &row.evidence {
                    let value = serde_json::to_value(evidence).unwrap_or_default();
                    let mut flat = Vec::new();
                    flatten(&value, String::new(), &mut flat);
                    for entry in flat {
                        lines.extend(fill(words(&entry), 1, "      | ", "      |   ", width));
                    }
                }
            }
        }
    }

    if !skipped.is_empty() {
        let mut tokens = vec![Token::painted(
            mark(Status::Skip, options.ascii),
            color_code(Status::Skip),
            options.color,
        )];
        tokens.extend(words(&format!("skipped ({}, -v says why):", skipped.len())));
        tokens.extend(skipped.iter().map(|id| Token::plain(id)));
        lines.extend(fill(tokens, 1, "", "    ", width));
    }

    let remedies = remedies(report);
    if !remedies.is_empty() {
        lines.push(String::new());
        lines.push("What to do:".to_string());
        for (id, remedy) in remedies {
            let mut tokens = vec![Token::painted(&format!("{id}:"), 33, options.color)];
            tokens.extend(words(remedy));
            lines.extend(fill(tokens, 1, "  ", "    ", width));
        }
    }

    lines.push(String::new());
    let legend: Vec<Token> = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Skip,
        Status::Error,
    ]
    .into_iter()
    .map(|status| {
        let mark = mark(status, options.ascii);
        Token {
            plain: format!("{mark} {status}"),
            painted: format!(
                "{} {status}",
                Token::painted(mark, color_code(status), options.color).painted
            ),
        }
    })
    .chain(std::iter::once(Token::plain(match options.verbosity {
        0 => "(-v every finding, -vv evidence)",
        1 => "(-vv evidence)",
        _ => "",
    })))
    .filter(|t| !t.plain.is_empty())
    .collect();
    lines.extend(fill(legend, 2, "", "", width));
    if options.verdict_last {
        lines.extend(verdict_lines(report, options.color, width));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The remedy of every check that did not pass, the root cause's first, each once.
pub(crate) fn remedies(report: &Report) -> Vec<(&str, &str)> {
    let mut remedies: Vec<(&str, &str)> = Vec::new();
    let root = report.verdict.root_cause.as_ref().map(|r| r.check.as_str());
    let mut checks: Vec<&crate::result::CheckResult> = report.checks.iter().collect();
    // Stable: the root cause first, the rest in the report's order.
    checks.sort_by_key(|c| Some(c.id.as_str()) != root);
    for check in checks {
        if matches!(check.status, Status::Fail | Status::Warn | Status::Error)
            && !check.remedy.trim().is_empty()
            && !remedies.iter().any(|(id, _)| *id == check.id)
        {
            remedies.push((&check.id, &check.remedy));
        }
    }
    remedies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_report::report;
    use crate::result::CheckResult;

    fn row(id: &str, target: &str, status: Status, finding: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            area: Area::Dc,
            title: format!("the title of {id}"),
            target: target.into(),
            status,
            started_ms: 0,
            duration_ms: 3,
            finding: finding.into(),
            remedy: if status == Status::Pass {
                String::new()
            } else {
                format!("fix {id} like this")
            },
            needs: vec![],
            cut_short: false,
            evidence: None,
        }
    }

    fn two_dcs() -> Report {
        let mut report = report(
            vec![
                row(
                    "dc.srv",
                    "_ldap._tcp.dc._msdcs.corp.example.com",
                    Status::Pass,
                    "found",
                ),
                row("dc.ping", "dc1.corp.example.com", Status::Pass, "answers"),
                row(
                    "dc.ping",
                    "dc2.corp.example.com",
                    Status::Fail,
                    "no echo reply from dc2.corp.example.com within 3 s, and a long tail of words that must wrap somewhere sensible",
                ),
                row("ldap.ou", "corp.example.com", Status::Skip, "no ou in the profile"),
            ],
            VerdictStatus::NotReady,
        );
        report.verdict.summary = "dc.ping: no echo reply from dc2".into();
        report
    }

    fn options(width: usize, ascii: bool, verbosity: u8) -> ConsoleOptions {
        ConsoleOptions {
            color: false,
            ascii,
            verbosity,
            width,
            verdict_last: true,
        }
    }

    #[test]
    fn per_dc_results_fold_into_one_row_with_a_mark_each() {
        let text = render(&two_dcs(), &options(120, false, 0));
        let row = text
            .lines()
            .find(|l| l.starts_with("✗ dc.ping"))
            .expect("a dc.ping row");
        assert_eq!(row.trim_end(), "✗ dc.ping  dc1 ✓  dc2 ✗");
        assert_eq!(
            text.matches("dc.ping ").count(),
            2,
            "one row + one remedy: {text}"
        );
        assert!(text.contains("\n    dc2: no echo reply"), "{text}");
        // The passing DC's finding and the skip's stay folded away.
        assert!(!text.contains("answers"), "{text}");
        assert!(!text.contains("no ou in the profile"), "{text}");
        // A check skipped everywhere is named on the one "skipped" line, not given a row.
        assert!(!text.contains("· ldap.ou  the title"), "{text}");
        assert!(
            text.contains("\n· skipped (1, -v says why): ldap.ou\n"),
            "{text}"
        );
        assert!(text.contains("✓ pass  ! warn  ✗ fail  · skip  ? error"));
        // -v gives it its row and its reason back.
        let verbose = render(&two_dcs(), &options(120, false, 1));
        assert!(
            verbose.contains("· ldap.ou  the title of ldap.ou"),
            "{verbose}"
        );
        assert!(verbose.contains("no ou in the profile"), "{verbose}");
        assert!(!verbose.contains("skipped ("), "{verbose}");
    }

    #[test]
    fn verdict_first_and_last_and_remedies_root_cause_first() {
        let text = render(&two_dcs(), &options(80, false, 0));
        let lines: Vec<&str> = text.lines().collect();
        // At 80 columns the verdict wraps: its words are read across the first lines.
        let head = lines[..3]
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            head.starts_with(
                "NOT READY corp.example.com (on-prem: Microsoft Entra hybrid join, complete, 2000 ms)"
            ),
            "{head}"
        );
        assert!(text.ends_with("no echo reply from dc2\n"), "{text}");
        let last_start = lines
            .iter()
            .rposition(|l| l.starts_with("NOT READY"))
            .expect("the verdict again");
        assert!(last_start > 5);
        // test_report's root cause is dc.ping: its remedy comes first.
        assert!(
            text.contains("What to do:\n  dc.ping: fix dc.ping like this\n"),
            "{text}"
        );
        let no_repeat = render(
            &two_dcs(),
            &ConsoleOptions {
                verdict_last: false,
                ..options(80, false, 0)
            },
        );
        assert_eq!(no_repeat.matches("NOT READY").count(), 1);
    }

    #[test]
    fn fits_the_width_without_breaking_words() {
        for width in [80, 120, 50] {
            let text = render(&two_dcs(), &options(width, false, 2));
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{width}: {line:?} is {} wide",
                    line.chars().count()
                );
            }
            // Every word of the long finding is whole somewhere in the output.
            let tokens: Vec<&str> = text.split_whitespace().collect();
            for word in "a long tail of words that must wrap somewhere sensible".split(' ') {
                assert!(tokens.contains(&word), "{width}: {word} broken in\n{text}");
            }
        }
    }

    #[test]
    fn verbosity_shows_every_finding_then_evidence() {
        let one = render(&two_dcs(), &options(120, false, 1));
        assert!(one.contains("    dc1: answers"), "{one}");
        assert!(one.contains("    no ou in the profile"), "{one}");
        assert!(one.contains("(-vv evidence)"));
        let mut report = two_dcs();
        report.checks[1].evidence = Some(crate::check::Evidence::Tcp(
            serde_json::from_value(serde_json::json!({
                "address": "10.0.0.1:88", "reach": "open", "connect_ms": 0.4, "error": null
            }))
            .unwrap_or_else(|e| panic!("tcp evidence: {e}")),
        ));
        let two = render(&report, &options(120, false, 2));
        assert!(two.contains("      | kind = tcp"), "{two}");
        assert!(two.contains("      | address = 10.0.0.1:88"), "{two}");
    }

    #[test]
    fn ascii_marks() {
        let text = render(&two_dcs(), &options(120, true, 0));
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains("X dc.ping  dc1 +  dc2 X"), "{text}");
        assert!(text.contains("+ pass  ! warn  X fail  - skip  ? error"));
    }

    #[test]
    fn colour_codes_do_not_count_towards_the_width() {
        let mut opts = options(80, false, 0);
        opts.color = true;
        let text = render(&two_dcs(), &opts);
        assert!(text.contains("\x1b[1;31m✗\x1b[0m dc.ping"), "{text}");
        let plain = render(&two_dcs(), &options(80, false, 0));
        assert_eq!(text.lines().count(), plain.lines().count());
    }

    #[test]
    fn the_terminal_decides_ascii() {
        assert!(wants_ascii(true, None, Some("C.UTF-8"), false, false));
        assert!(wants_ascii(
            false,
            Some("dumb"),
            Some("C.UTF-8"),
            false,
            false
        ));
        assert!(wants_ascii(false, Some("xterm"), None, false, false));
        assert!(wants_ascii(
            false,
            Some("xterm"),
            Some("POSIX"),
            false,
            false
        ));
        assert!(wants_ascii(
            false,
            Some("xterm"),
            Some("de_DE.ISO-8859-1"),
            false,
            false
        ));
        assert!(!wants_ascii(
            false,
            Some("xterm"),
            Some("en_US.UTF-8"),
            false,
            false
        ));
        assert!(!wants_ascii(
            false,
            Some("xterm"),
            Some("C.utf8"),
            false,
            false
        ));
        assert!(wants_ascii(false, None, None, true, false));
        assert!(!wants_ascii(false, None, None, true, true));
    }

    #[test]
    fn an_id_wider_than_the_column_puts_its_row_under_it() {
        let mut report = two_dcs();
        let long = "dc.a_check_id_that_is_longer_than_the_column";
        report
            .checks
            .push(row(long, "dc1.corp.example.com", Status::Pass, "ok"));
        report
            .checks
            .push(row(long, "dc2.corp.example.com", Status::Pass, "ok"));
        let text = render(&report, &options(80, false, 0));
        assert!(
            text.contains(&format!("\n✓ {long}\n           dc1 ✓  dc2 ✓\n")),
            "{text}"
        );
        // The other rows keep their narrow column.
        assert!(text.contains("\n✗ dc.ping  dc1 ✓  dc2 ✗\n"), "{text}");
    }

    #[test]
    fn fill_cuts_only_a_word_wider_than_the_line() {
        let long = "x".repeat(30);
        let lines = fill(words(&format!("a {long} b")), 1, "", "  ", 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        let joined: String = lines.concat().split_whitespace().collect();
        assert_eq!(joined, format!("a{long}b"));
    }
}
