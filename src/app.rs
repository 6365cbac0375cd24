//! The commands behind the CLI: validate input first, then build the working objects, run,
//! render. Errors here are the user's to fix and end with exit code 3.

use crate::catalog::{Catalog, CheckDef};
use crate::check::CheckContext;
use crate::cli::{CatalogArgs, Command, Format, RunArgs};
use crate::duration::parse_duration;
use crate::model::Area;
use crate::probe::dns::system_servers;
use crate::profile::{system_search_suffix, LoadedProfile, Overrides, Settings};
use crate::report::table::TableOptions;
use crate::report::{self, HostFacts, ProfileSummary, Report, Tool, SCHEMA_VERSION};
use crate::runner::{self, RunOptions};
use crate::secret::{bind_password, PASSWORD_ENV};
use crate::verdict;
use anyhow::{bail, Context};
use std::collections::BTreeSet;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit code for bad input and tool failures, as monitoring plugins read "unknown".
pub const EXIT_UNKNOWN: u8 = 3;

pub fn execute(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(args) => run(args),
        Command::Serve(args) => crate::serve::serve(args),
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
            .for_each
            .map(|each| format!(" ({})", each.per()))
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
        bail!("{}", catalog.unknown_selector_message(id));
    };
    // The endpoint catalog is data too long for one line: list it, one endpoint a line.
    let (params, endpoints) = match &check.params {
        crate::catalog::Params::Endpoint(endpoint) => {
            let mut listing = String::from("\nEndpoints (set: host, what it is for, source):\n");
            for e in &endpoint.endpoints {
                let mut notes = Vec::new();
                if let Some(wildcard) = &e.wildcard {
                    notes.push(format!("stands for {wildcard}"));
                }
                if e.tls_inspection == crate::profile::TlsInspection::Forbidden {
                    notes.push("no TLS inspection".to_string());
                }
                if e.optional {
                    notes.push("optional".to_string());
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
    let runs = check.for_each.map_or("once", |each| each.runs());
    let text = format!(
        "{id}: {title}\n\narea: {area}\nprobe: {probe} {params}\nruns: {runs}\nneeds: {needs}\ndefined in: {source}\n\nWhy it matters:\n{why}\n\nHow to fix a failure:\n{remedy}\n{endpoints}",
        title = check.title,
        area = check.area,
        probe = check.probe.as_str(),
        source = check.source,
        why = wrap(&check.why),
        remedy = wrap(&check.remedy),
    );
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

/// Applies `--only`/`--skip`: ids or areas; the checks a selected check needs come along.
pub fn select(
    catalog: &Catalog,
    only: &[String],
    skip: &[String],
) -> anyhow::Result<Vec<CheckDef>> {
    let matches = |selector: &str| -> anyhow::Result<Vec<String>> {
        if let Some(area) = Area::from_name(selector) {
            return Ok(catalog
                .checks
                .iter()
                .filter(|c| c.area == area)
                .map(|c| c.id.clone())
                .collect());
        }
        if catalog.get(selector).is_some() {
            return Ok(vec![selector.to_string()]);
        }
        bail!("{}", catalog.unknown_selector_message(selector))
    };
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    if only.is_empty() {
        chosen.extend(catalog.checks.iter().map(|c| c.id.clone()));
    } else {
        let mut queue = Vec::new();
        for selector in only {
            queue.extend(matches(selector)?);
        }
        while let Some(id) = queue.pop() {
            if chosen.insert(id.clone()) {
                if let Some(check) = catalog.get(&id) {
                    queue.extend(check.needs.iter().cloned());
                }
            }
        }
    }
    for selector in skip {
        for id in matches(selector)? {
            chosen.remove(&id);
        }
    }
    Ok(catalog
        .checks
        .iter()
        .filter(|c| chosen.contains(&c.id))
        .cloned()
        .collect())
}

/// What one preflight needs, whoever asks for it: `run` from its flags, `serve` from a profile
/// named in a scrape.
#[derive(Debug, Clone, Default)]
pub struct PreflightRequest {
    pub profile: Option<PathBuf>,
    pub overrides: Overrides,
    /// Extra catalog directories (`--checks`).
    pub checks: Vec<PathBuf>,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    /// Whether the bind password may be asked for on the terminal.
    pub may_prompt: bool,
    /// A live progress line on stderr.
    pub show_progress: bool,
    /// Caps the run's deadline (serve: the scrape timeout), whatever the profile says.
    pub deadline_cap: Option<Duration>,
}

impl PreflightRequest {
    fn from_run_args(args: &RunArgs) -> anyhow::Result<PreflightRequest> {
        let overrides = Overrides {
            domain: args.domain.clone(),
            dns_servers: args.dns_servers.clone(),
            scenario: args.scenario.map(Into::into),
            timeout: args
                .timeout
                .as_deref()
                .map(parse_duration)
                .transpose()
                .context("--timeout")?,
            deadline: args
                .deadline
                .as_deref()
                .map(parse_duration)
                .transpose()
                .context("--deadline")?,
        };
        Ok(PreflightRequest {
            profile: args.profile.clone(),
            overrides,
            checks: args.catalog.checks.clone(),
            only: args.only.clone(),
            skip: args.skip.clone(),
            may_prompt: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            show_progress: std::io::stderr().is_terminal() && !args.quiet,
            deadline_cap: None,
        })
    }
}

/// Validates the request, runs the checks until they finish, the deadline hits or `cancel`
/// resolves, and builds the report. Errors are bad input (exit 3); a failed check is not one.
pub async fn preflight(
    request: &PreflightRequest,
    cancel: impl Future<Output = ()>,
) -> anyhow::Result<Report> {
    let catalog = Catalog::load(&request.checks)?;
    let checks = select(&catalog, &request.only, &request.skip)?;
    let profile = request
        .profile
        .as_deref()
        .map(LoadedProfile::read)
        .transpose()?;
    let mut settings =
        Settings::resolve(profile.as_ref(), &request.overrides, system_search_suffix)?;
    if let Some(cap) = request.deadline_cap {
        settings.deadline = settings.deadline.min(cap);
    }

    let dns_servers = if settings.dns_servers.is_empty() {
        system_servers()
    } else {
        Ok(settings.dns_servers.clone())
    };
    let wants_bind = checks.iter().any(|c| c.probe.needs_bind_password());
    let password = match (&settings.ldap.bind_user, wants_bind) {
        (Some(user), true) => bind_password(
            user,
            settings.ldap.bind_password_file.as_deref(),
            std::env::var(PASSWORD_ENV).ok(),
            request.may_prompt,
        )?,
        _ => None,
    };
    let password_source = password
        .as_ref()
        .map(|(_, source)| format!("{source:?}").to_lowercase());

    let started_at = now_rfc3339();
    let started = Instant::now();
    let settings = Arc::new(settings);
    let context = Arc::new(CheckContext::new(
        settings.clone(),
        dns_servers.clone(),
        password.map(|(secret, _)| secret),
    ));
    // Targets that stand in for one another: any DC (the DC locator moves on) or any of the
    // profile's VPN gateways will do. Every internet endpoint is needed on its own.
    let per_dc: Vec<String> = checks
        .iter()
        .filter(|c| {
            matches!(
                c.for_each,
                Some(crate::catalog::ForEach::Dc | crate::catalog::ForEach::VpnGateway)
            )
        })
        .map(|c| c.id.clone())
        .collect();
    let total = checks.len();

    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let progress = request
        .show_progress
        .then(|| tokio::spawn(report::progress::draw(receiver, total)));
    let options = RunOptions {
        timeout: settings.timeout,
        deadline: settings.deadline,
        scenario: settings.scenario,
    };
    let output = runner::run(
        checks,
        context,
        options,
        request.show_progress.then_some(sender),
        cancel,
    )
    .await;
    if let Some(progress) = progress {
        let _ = progress.await;
    }

    let verdict = verdict::decide(
        &output.results,
        &per_dc,
        settings.scenario,
        output.incomplete.as_deref(),
        settings.vpn.len(),
    );
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "joinready".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        started_at,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        scenario: settings.scenario,
        domain: settings.domain.clone(),
        complete: output.incomplete.is_none(),
        incomplete_reason: output.incomplete.clone(),
        host: HostFacts {
            hostname: hostname(),
            os: std::env::consts::OS.to_string(),
            dns_servers: dns_servers
                .map(|servers| servers.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            running_as_root: running_as_root(),
        },
        profile: ProfileSummary {
            path: settings
                .profile_path
                .as_ref()
                .map(|p| p.display().to_string()),
            domain: settings.domain.clone(),
            domain_source: settings.domain_source.as_str().to_string(),
            forest: settings.forest.clone(),
            site: settings.site.clone(),
            ou: settings.ou.clone(),
            tenant: settings.tenant.clone(),
            timeout_ms: u64::try_from(settings.timeout.as_millis()).unwrap_or(u64::MAX),
            deadline_ms: u64::try_from(settings.deadline.as_millis()).unwrap_or(u64::MAX),
            ldap_bind_user: settings.ldap.bind_user.clone(),
            ldap_tls: format!("{:?}", settings.ldap.tls).to_lowercase(),
            ldap_password_source: password_source,
        },
        verdict,
        checks: output.results,
    })
}

/// Resolves when the user presses Ctrl-C; never, if the handler cannot be installed (rather
/// than cancel at once).
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
        Format::Table => report::table::render(
            &report,
            &TableOptions {
                color,
                verbose: args.verbose > 0,
                width: if to_terminal { None } else { Some(160) },
            },
        ),
    };
    if report.profile.domain_source == "search_suffix"
        && args.format == Format::Table
        && !args.quiet
    {
        eprintln!(
            "joinready: checking {} (from this machine's DNS search suffix; use --domain or a profile to choose)",
            report.domain
        );
    }
    match &args.output {
        Some(path) => write_atomically(path, &text)?,
        None => write_stdout(&text)?,
    }
    Ok(exit_code)
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

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn hostname() -> String {
    std::env::var("COMPUTERNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

fn running_as_root() -> bool {
    // /proc/self/status "Uid:" holds real, effective, saved, fs uids; the effective one decides.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
