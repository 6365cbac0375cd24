//! The technician's view: verdict first, one row per check, then the remedies for what failed.

use super::Report;
use crate::model::Status;
use crate::verdict::VerdictStatus;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

pub struct TableOptions {
    pub color: bool,
    /// Show evidence under each row.
    pub verbose: bool,
    /// Width to wrap to; None lets comfy-table decide (terminal width or unwrapped).
    pub width: Option<u16>,
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
        Status::Skip => Color::DarkGrey,
        Status::Error => Color::Magenta,
    }
}

fn verdict_color(status: VerdictStatus) -> Color {
    match status {
        VerdictStatus::Ready => Color::Green,
        VerdictStatus::Warnings => Color::Yellow,
        VerdictStatus::NotReady => Color::Red,
        VerdictStatus::Unknown => Color::Magenta,
    }
}

fn paint(text: &str, color: Color, enabled: bool) -> String {
    if !enabled {
        return text.to_string();
    }
    let code = match color {
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Red => 31,
        Color::Magenta => 35,
        _ => 90,
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// Just the verdict line, for `-q`.
pub fn verdict_line(report: &Report, color: bool) -> String {
    let verdict = &report.verdict;
    // Entra join has no AD domain to name: the line names the join type instead.
    let (domain, scenario) = if report.scenario == crate::model::Scenario::Entra {
        (
            String::new(),
            format!("{}: {}", report.scenario, verdict.join_type),
        )
    } else {
        (format!(" {}", report.domain), report.scenario.to_string())
    };
    format!(
        "{}{domain} ({scenario}, {}, {} ms): {}\n",
        paint(
            verdict.status.headline(),
            verdict_color(verdict.status),
            color
        ),
        if report.complete {
            "complete"
        } else {
            "incomplete"
        },
        report.duration_ms,
        verdict.summary
    )
}

pub fn render(report: &Report, options: &TableOptions) -> String {
    let mut out = verdict_line(report, options.color);
    out.push_str(&format!(
        "  checked: {} ({} scenario)\n",
        report.verdict.join_type, report.scenario
    ));
    for note in &report.verdict.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out.push('\n');

    let mut table = Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    match options.width {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
        }
    }
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(["area", "check", "target", "status", "time", "finding"]);
    for check in &report.checks {
        let mut status = Cell::new(check.status.as_str());
        if options.color {
            status = status
                .fg(status_color(check.status))
                .add_attribute(Attribute::Bold);
        }
        let mut finding = check.finding.clone();
        if let (true, Some(evidence)) = (options.verbose, &check.evidence) {
            let text = serde_json::to_string(evidence).unwrap_or_default();
            finding.push_str(&format!("\nevidence: {text}"));
        }
        table.add_row(vec![
            Cell::new(check.area.as_str()),
            Cell::new(&check.id),
            Cell::new(&check.target),
            status,
            Cell::new(format!("{} ms", check.duration_ms)),
            Cell::new(finding),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');

    let mut remedies: Vec<(&str, &str)> = Vec::new();
    for check in &report.checks {
        if matches!(check.status, Status::Fail | Status::Warn | Status::Error)
            && !check.remedy.is_empty()
            && !remedies.iter().any(|(id, _)| *id == check.id)
        {
            remedies.push((&check.id, &check.remedy));
        }
    }
    if !remedies.is_empty() {
        out.push_str("\nWhat to do:\n");
        for (id, remedy) in remedies {
            let remedy = remedy.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!(
                "  {}: {remedy}\n",
                paint(id, Color::Yellow, options.color)
            ));
        }
    }
    out
}
