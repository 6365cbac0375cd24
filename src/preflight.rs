//! One preflight run, whoever asks for it (`joinready run`, `serve`): load the catalog and
//! profile, select the checks, run them, weigh the results and decide the verdict.

use crate::catalog::{Catalog, CheckDef};
use crate::check::context::CheckContext;
use crate::check::shape::{Fact, FanOut};
use crate::cli::RunArgs;
use crate::device::detect::{scenario_from_autopilot, Detected, OriginSource, SettingOrigin};
use crate::duration::parse_duration;
use crate::model::Area;
use crate::probe::dns::system_servers;
use crate::profile::{system_search_suffix, LoadedProfile, Overrides, Settings};
use crate::report::{self, HostFacts, ProfileSummary, Report, Tool, SCHEMA_VERSION};
use crate::runner::{self, RunOptions};
use crate::secret::{bind_password, PASSWORD_ENV};
use crate::verdict::{self, policy};
use crate::wire::autopilot::JoinMethod;
use anyhow::{bail, Context};
use std::collections::BTreeSet;
use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Applies `--only`/`--skip`: ids or areas; the checks a selected check needs come along, and
/// a per-DC check brings the check that picks the DCs to check (else it would run against
/// every DC of the domain).
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
        let picks_dcs = catalog
            .checks
            .iter()
            .find(|c| c.provides.contains(&Fact::CheckedDcs))
            .map(|c| c.id.clone());
        while let Some(id) = queue.pop() {
            if chosen.insert(id.clone()) {
                if let Some(check) = catalog.get(&id) {
                    queue.extend(check.needs.iter().cloned());
                    if check.fan_out() == FanOut::Dc {
                        queue.extend(picks_dcs.iter().cloned());
                    }
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
    /// Take the scenario and tenant from the device's Autopilot profile when neither a profile
    /// nor a flag names them (`run` on Windows; `serve` always runs a named profile).
    pub autodetect: bool,
}

impl PreflightRequest {
    pub fn from_run_args(args: &RunArgs) -> anyhow::Result<PreflightRequest> {
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
            autodetect: cfg!(windows),
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
    let mut overrides = request.overrides.clone();
    let detected = (request.autodetect && profile.is_none() && overrides.scenario.is_none())
        .then(device_autopilot);
    if let Some(detected) = &detected {
        overrides.scenario = detected.scenario;
    }
    let mut settings = Settings::resolve(profile.as_ref(), &overrides, system_search_suffix)?;
    let mut origins = match &detected {
        Some(detected) => origins_from(detected, &mut settings),
        None => Vec::new(),
    };
    if request.autodetect && profile.is_none() {
        origins.extend(machine_proxy(&mut settings));
    }
    if let Some(cap) = request.deadline_cap {
        settings.deadline = settings.deadline.min(cap);
    }

    let dns_servers = if settings.dns_servers.is_empty() {
        system_servers()
    } else {
        Ok(settings.dns_servers.clone())
    };
    // Checks this scenario does not need are listed with the reason, never run.
    let (checks, not_run): (Vec<CheckDef>, Vec<CheckDef>) = checks
        .into_iter()
        .partition(|c| policy::not_run(c, settings.scenario).is_none());
    let wants_bind = checks.iter().any(|c| c.kind.spec().needs_password);
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
    let interchangeable = policy::interchangeable(&checks);
    let weighing = checks.clone();
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

    let mut results = output.results;
    policy::apply(&mut results, &weighing, settings.scenario);
    results.extend(
        not_run
            .iter()
            .map(|def| not_run_row(def, settings.scenario)),
    );
    let verdict = verdict::decide(
        &results,
        &interchangeable,
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
        checks: results,
        origins,
    })
}

/// The row of a check the scenario does not need: listed as skipped, with the reason.
fn not_run_row(def: &CheckDef, scenario: crate::model::Scenario) -> crate::result::CheckResult {
    crate::result::CheckResult {
        id: def.id.clone(),
        area: def.area,
        title: def.title.clone(),
        target: "(not needed)".to_string(),
        status: crate::model::Status::Skip,
        started_ms: 0,
        duration_ms: 0,
        finding: policy::not_run(def, scenario).unwrap_or_default(),
        remedy: String::new(),
        needs: def.needs.clone(),
        cut_short: false,
        evidence: None,
    }
}

/// What the device's own Autopilot profile implies; a profile that cannot be read is said in
/// the detail and counts as none (the run goes on, on-prem).
fn device_autopilot() -> Detected {
    match crate::device::autopilot_profile() {
        Ok(found) => {
            let mut detected = scenario_from_autopilot(found.as_ref().map(|f| &f.profile));
            if let Some(found) = found {
                detected.detail = format!("{} ({})", detected.detail, found.location);
            }
            detected
        }
        Err((location, error)) => {
            let mut detected = scenario_from_autopilot(None);
            detected.detail = format!(
                "scenario on-prem: the Autopilot profile {location} cannot be read: {error}"
            );
            detected
        }
    }
}

/// The proxy SYSTEM uses (WinHTTP, then WinINET machine-wide) when the run names none; WPAD
/// stays the fallback, as on Windows.
fn machine_proxy(settings: &mut Settings) -> Option<SettingOrigin> {
    if settings.proxy.url.is_some() {
        return None;
    }
    #[cfg(windows)]
    {
        use crate::wire::winhttp_settings::ProxyOrigin;
        let (proxy, origin) = crate::device::registry::machine_proxy()?;
        let server = crate::wire::url::parse_proxy_url(&proxy).ok()?;
        settings.proxy.url = Some(server);
        let from = match origin {
            ProxyOrigin::WinHttp => "the WinHTTP default proxy (netsh winhttp show proxy)",
            ProxyOrigin::WinInetMachine => {
                "the machine-wide WinINET proxy (ProxySettingsPerUser = 0, ProxyServer)"
            }
        };
        Some(SettingOrigin {
            setting: "proxy".to_string(),
            value: proxy.clone(),
            source: OriginSource::MachineProxy,
            detail: format!("proxy {proxy}, from {from}"),
        })
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// The settings the Autopilot profile gave, with their origin; fills the tenant when neither
/// the profile nor a flag named one.
fn origins_from(detected: &Detected, settings: &mut Settings) -> Vec<SettingOrigin> {
    let from_autopilot = detected.join.is_some();
    let mut origins = vec![SettingOrigin {
        setting: "scenario".to_string(),
        value: settings.scenario.as_str().to_string(),
        source: if from_autopilot {
            OriginSource::AutopilotProfile
        } else {
            OriginSource::Default
        },
        detail: detected.detail.clone(),
    }];
    if let Some(join) = detected.join {
        let value = match join {
            JoinMethod::HybridJoin => "hybrid",
            JoinMethod::EntraJoin => "entra",
        };
        origins.push(SettingOrigin {
            setting: "join_type".to_string(),
            value: value.to_string(),
            source: OriginSource::AutopilotProfile,
            detail: format!(
                "join type {value}, from the Autopilot profile: CloudAssignedDomainJoinMethod"
            ),
        });
    }
    if let (None, Some(tenant)) = (&settings.tenant, &detected.tenant) {
        settings.tenant = Some(tenant.clone());
        origins.push(SettingOrigin {
            setting: "tenant".to_string(),
            value: tenant.clone(),
            source: OriginSource::AutopilotProfile,
            detail: format!(
                "tenant {tenant}, from the Autopilot profile: CloudAssignedTenantDomain"
            ),
        });
    }
    origins
}

/// Resolves when the user presses Ctrl-C; never, if the handler cannot be installed (rather
/// than cancel at once).
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
