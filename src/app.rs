//! The commands behind the CLI: validate input first, then build the working objects, run,
//! render. Errors here are the user's to fix and end with exit code 3.

use crate::catalog::Catalog;
use crate::cli::{CatalogArgs, Command, Format, RunArgs};
use crate::endpoints::TlsInspection;
use crate::preflight::{preflight, PreflightRequest};
use crate::report;
use crate::report::table::TableOptions;
use anyhow::{bail, Context};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Exit code for bad input and tool failures, as monitoring plugins read "unknown".
pub const EXIT_UNKNOWN: u8 = 3;

pub fn execute(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(args) => run(args),
        Command::Serve(args) => crate::serve::serve(args),
        Command::Diff(args) => diff(&args),
        Command::Completions { shell } => {
            write_stdout(&crate::cli::completions(shell))?;
            Ok(0)
        }
        Command::Man { command } => {
            write_stdout(&crate::cli::man_page(command.as_deref())?)?;
            Ok(0)
        }
        Command::Checks(args) => list_checks(&args),
        Command::Explain { id, catalog } => explain(&id, &catalog),
        Command::Schema => {
            write_stdout(&crate::report::schema::render())?;
            Ok(0)
        }
    }
}

fn list_checks(args: &CatalogArgs) -> anyhow::Result<u8> {
    let catalog = Catalog::load(&args.checks)?;
    let mut out = String::new();
    let width = catalog.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in &catalog.checks {
        let per = check
            .fan_out()
            .per()
            .map(|per| format!(" ({per})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<width$}  {:<9}  {}{per}\n",
            check.id,
            check.area.as_str(),
            check.title
        ));
    }
    write_stdout(&out)?;
    Ok(0)
}

fn explain(id: &str, args: &CatalogArgs) -> anyhow::Result<u8> {
    let catalog = Catalog::load(&args.checks)?;
    let Some(check) = catalog.get(id) else {
        if crate::error_codes::looks_like_code(id) {
            return explain_code(id, &catalog);
        }
        bail!("{}", catalog.unknown_selector_message(id));
    };
    // The endpoint catalog is data too long for one line: list it, one endpoint a line.
    let (params, endpoints) = match &check.params {
        crate::check::Params::Endpoint(endpoint) => {
            let mut listing = String::from("\nEndpoints (set: host, what it is for, source):\n");
            for e in &endpoint.endpoints {
                let mut notes = Vec::new();
                if let Some(wildcard) = &e.wildcard {
                    notes.push(format!("stands for {wildcard}"));
                }
                if e.tls_inspection == TlsInspection::Forbidden {
                    notes.push("no TLS inspection".to_string());
                }
                if e.optional {
                    notes.push("optional".to_string());
                }
                if let Some(body) = &e.expect_body {
                    notes.push(format!("answers exactly {body:?}"));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", notes.join("; "))
                };
                listing.push_str(&format!(
                    "  {}: {} {}{notes}, {} ({})\n",
                    e.sets.join("/"),
                    e.protocol.as_str(),
                    e.label(),
                    e.purpose,
                    e.source
                ));
            }
            (
                format!("({} endpoints, listed below)", endpoint.endpoints.len()),
                listing,
            )
        }
        other => (
            serde_json::to_string(other).unwrap_or_default(),
            String::new(),
        ),
    };
    let needs = if check.needs.is_empty() {
        "nothing".to_string()
    } else {
        check.needs.join(", ")
    };
    let runs = check.fan_out().runs();
    let text = format!(
        "{id}: {title}\n\narea: {area}\nkind: {kind} {params}\n  ({summary})\nruns: {runs}\nneeds: {needs}\ndefined in: {source}\n\nWhy it matters:\n{why}\n\nHow to fix a failure:\n{remedy}\n{endpoints}",
        title = check.title,
        area = check.area,
        kind = check.kind.name(),
        summary = check.kind.spec().summary,
        source = check.location,
        why = wrap(&check.why),
        remedy = wrap(&check.remedy),
    );
    write_stdout(&text)?;
    Ok(0)
}

/// An error code a technician read off the screen or a log: what it means, what predicts it,
/// what to run. A code joinready does not know is bad input (exit 3), as an unknown check id is.
fn explain_code(typed: &str, catalog: &Catalog) -> anyhow::Result<u8> {
    let codes = crate::error_codes::ErrorCodes::load(catalog)?;
    let found = codes.find(typed);
    if found.is_empty() {
        bail!("{}", codes.unknown_message(typed));
    }
    let mut text = String::new();
    if found.len() > 1 {
        text.push_str(&format!(
            "`{typed}` can be read as {} codes:\n\n",
            found.len()
        ));
    }
    for code in found {
        let predicted = if code.predicted_by.is_empty() {
            "  no network check predicts it".to_string()
        } else {
            code.predicted_by
                .iter()
                .map(|id| match catalog.get(id) {
                    Some(check) => format!("  {id}: {}", check.title),
                    None => format!("  {id}"),
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        text.push_str(&format!(
            "{code}: {name}\n\nDuring Autopilot:\n{meaning}\n\nPredicted by these checks (joinready explain ID for each):\n{predicted}\n\nRun:\n  {run}\n\nSource: {source}\n",
            code = code.code,
            name = code.name,
            meaning = wrap(&code.meaning),
            run = code.run,
            source = code.source,
        ));
    }
    write_stdout(&text)?;
    Ok(0)
}

/// Joins the catalog's hard-wrapped paragraphs and re-wraps them for a terminal.
fn wrap(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut lines = vec![String::from("  ")];
    for word in words {
        let line = lines.last_mut().map(|l| l.len()).unwrap_or(0);
        if line + word.len() > 92 && line > 2 {
            lines.push(String::from("  "));
        }
        if let Some(last) = lines.last_mut() {
            if last.len() > 2 {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines.join("\n")
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn run(args: RunArgs) -> anyhow::Result<u8> {
    let request = PreflightRequest::from_run_args(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(preflight(&request, ctrl_c()));
    // Probe tasks abandoned at the deadline must not hold the process open.
    runtime.shutdown_background();
    let report = report?;
    let exit_code = report.verdict.status.exit_code();

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match args.format {
        Format::Json => report::json::render(&report),
        Format::Prometheus => report::prometheus::render(&report),
        Format::Junit => report::junit::render(&report),
        Format::Table if args.quiet => report::table::verdict_line(&report, color),
        Format::Table => report::console::render(
            &report,
            &report::console::ConsoleOptions {
                color,
                ascii: report::console::wants_ascii(
                    args.ascii,
                    std::env::var("TERM").ok().as_deref(),
                    report::console::locale_from_env().as_deref(),
                    cfg!(windows),
                    std::env::var_os("WT_SESSION").is_some(),
                ),
                verbosity: args.verbose,
                width: console_width(to_terminal),
                verdict_last: to_terminal,
            },
        ),
        Format::Html => report::html::render(&report),
        Format::Wide => report::table::render(
            &report,
            &TableOptions {
                color,
                verbose: args.verbose > 0,
                width: if to_terminal { None } else { Some(160) },
            },
        ),
    };
    if report.profile.domain_source == "search_suffix"
        && report.scenario != crate::model::Scenario::Entra
        && args.format == Format::Table
        && !args.quiet
    {
        eprintln!(
            "joinready: checking {} (from this machine's DNS search suffix; use --domain or a profile to choose)",
            report.domain
        );
    }
    // Where the scenario came from when the device chose it (Windows zero-config): one line.
    if let (Some(origin), Format::Table, false) = (report.origins.first(), args.format, args.quiet)
    {
        eprintln!("joinready: {}", origin.detail);
    }
    match &args.output {
        Some(path) => write_atomically(path, &text)?,
        None => write_stdout(&text)?,
    }
    Ok(exit_code)
}

fn diff(args: &crate::cli::DiffArgs) -> anyhow::Result<u8> {
    let threshold = crate::duration::parse_duration(&args.rtt_threshold)
        .with_context(|| format!("--rtt-threshold {}", args.rtt_threshold))?;
    let old = crate::diff::load(&args.old)?;
    let new = crate::diff::load(&args.new)?;
    let diff = crate::diff::compare(
        &args.old.display().to_string(),
        &old,
        &args.new.display().to_string(),
        &new,
        threshold.as_secs_f64() * 1000.0,
    );
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let text = match args.format {
        crate::cli::DiffFormat::Table => report::diff::table(&diff, console_width(to_terminal)),
        crate::cli::DiffFormat::Json => report::diff::json(&diff),
        crate::cli::DiffFormat::Html => report::diff::html(&diff),
    };
    match &args.output {
        Some(path) => write_atomically(path, &text)?,
        None => write_stdout(&text)?,
    }
    Ok(diff.outcome.exit_code())
}

/// The terminal's width; elsewhere $COLUMNS, else the 120 columns of the OOBE command prompt.
fn console_width(to_terminal: bool) -> usize {
    // comfy-table already asks the terminal (through crossterm); no second dependency for it.
    let terminal = comfy_table::Table::new().width().filter(|_| to_terminal);
    terminal
        .map(usize::from)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .filter(|w| *w > 0)
        .unwrap_or(120)
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        // A closed pipe (`joinready run | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Temp file in the same directory, then rename: readers never see half a report.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot move the report into place at {}", path.display())
    })
}
