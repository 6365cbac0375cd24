//! `wpad`: proxy discovery as the machine context of Windows does it. The explicit proxy, or
//! WPAD (DHCP option 252 first, then DNS devolution) and its PAC file, with a trial run of the
//! script. Provides the PAC file the endpoint routes come from.

use super::context::CheckContext;
use super::route::{limits, my_ip};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::facts::{PacFile, ProxyDiscovery};
use crate::pac::{run_once, Environment, PacError};
use crate::probe::resolve::{resolve, Resolved};
use crate::probe::wpad::{dhcp_option_252, fetch_path, WpadFetch, PAC_MIME};
use crate::wire::url::{parse_web_url, redact};
use crate::wire::wpad::candidates;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "wpad",
    fan_out: FanOut::Once,
    needs: &[],
    can_provide: &[Fact::ProxyRoute],
    needs_password: false,
    summary: "WPAD discovery (DHCP option 252, DNS devolution, wpad.dat) and a trial run of the PAC script",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The largest PAC file accepted.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

fn default_max_bytes() -> usize {
    1024 * 1024
}

/// How the device finds its proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "WpadMode")]
pub enum Mode {
    /// The profile names the proxy.
    Explicit,
    /// A proxy variable of this process's environment names it.
    Environment,
    /// No proxy.
    Direct,
    /// DHCP option 252 names the PAC file.
    Dhcp,
    /// DNS (wpad.<suffix>) finds the PAC file.
    Wpad,
}

/// Where discovery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "WpadOutcome")]
pub enum Outcome {
    /// A proxy is named outright: WPAD is not consulted.
    Named,
    /// WPAD is off in the profile.
    Off,
    /// No wpad name resolves.
    NotFound,
    /// DHCP option 252 names a URL WinHTTP does not fetch.
    DhcpNotHttp,
    /// DHCP option 252 names a host that does not resolve.
    DhcpUnresolved,
    /// The PAC file could not be fetched.
    FetchFailed,
    /// The PAC URL answers, but not with a PAC file (not 200).
    NotServed,
    /// The PAC script compiles and runs.
    ScriptRuns,
    /// The PAC script fails.
    ScriptFails,
}

/// One place WPAD looked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Asked {
    /// A wpad name asked of DNS, and its answer.
    pub name: Option<String>,
    pub answer: Option<String>,
    pub resolved: Option<Resolved>,
    /// The DHCP lease that carried option 252, and the URL in it; or why the leases could not
    /// be read.
    pub dhcp_lease: Option<String>,
    pub option_252: Option<String>,
    pub dhcp: Option<String>,
}

/// The trial run of the PAC script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trial {
    pub url: String,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "WpadEvidence")]
pub struct Evidence {
    pub mode: Mode,
    pub outcome: Outcome,
    /// The proxy named outright (credentials redacted), and the variable that named it.
    pub proxy: Option<String>,
    pub variable: Option<String>,
    pub asked: Vec<Asked>,
    /// The PAC URL, where it was fetched from, and why the fetch failed.
    pub url: Option<String>,
    pub address: Option<SocketAddr>,
    pub error: Option<String>,
    pub fetch: Option<WpadFetch>,
    pub trial: Option<Trial>,
    pub pac_error: Option<PacError>,
}

impl Evidence {
    fn new(mode: Mode, outcome: Outcome) -> Evidence {
        Evidence {
            mode,
            outcome,
            proxy: None,
            variable: None,
            asked: Vec::new(),
            url: None,
            address: None,
            error: None,
            fetch: None,
            trial: None,
            pac_error: None,
        }
    }
}

pub async fn observe(
    params: &Params,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Evidence, ProxyDiscovery), NotObserved> {
    let settings = &context.settings;
    if let Some(proxy) = &settings.proxy.url {
        let mut evidence = Evidence::new(Mode::Explicit, Outcome::Named);
        evidence.proxy = Some(proxy.to_string());
        return Ok((evidence, ProxyDiscovery::NoPac));
    }
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
            let mut evidence = Evidence::new(Mode::Environment, Outcome::Named);
            evidence.proxy = Some(redact(&value));
            evidence.variable = Some(name.to_string());
            return Ok((evidence, ProxyDiscovery::NoPac));
        }
    }
    if !settings.proxy.wpad {
        return Ok((
            Evidence::new(Mode::Direct, Outcome::Off),
            ProxyDiscovery::NoPac,
        ));
    }
    // DHCP option 252 first, as Windows does; JOINREADY_DHCP_LEASES (lease directories
    // separated by `:`) replaces where the OS keeps it, on every OS.
    let lease_places = std::env::var("JOINREADY_DHCP_LEASES").ok().map(|list| {
        list.split(':')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect()
    });
    let budget = deadline.saturating_duration_since(Instant::now()) / 2;
    let mut asked = Vec::new();
    let leases = dhcp_option_252(lease_places, budget)
        .await
        .unwrap_or_else(|error| {
            asked.push(Asked {
                dhcp: Some(error),
                ..Asked::default()
            });
            Vec::new()
        });
    if let Some((lease, url)) = leases.first() {
        return Ok(dhcp_pac(params, context, lease, url, deadline).await);
    }
    let names = candidates(&settings.domain);
    for name in &names {
        match resolve(name, &context.dns_servers, deadline).await {
            Ok(resolved) => {
                let Some(ip) = resolved.first() else {
                    asked.push(Asked {
                        name: Some(name.to_string()),
                        answer: Some("no address".to_string()),
                        ..Asked::default()
                    });
                    continue;
                };
                asked.push(Asked {
                    name: Some(name.to_string()),
                    resolved: Some(resolved),
                    ..Asked::default()
                });
                let mut evidence = Evidence::new(Mode::Wpad, Outcome::FetchFailed);
                evidence.asked = asked;
                let address = SocketAddr::new(ip, 80);
                return Ok(fetch_pac(
                    params,
                    context,
                    name,
                    "/wpad.dat",
                    address,
                    evidence,
                    deadline,
                )
                .await);
            }
            Err(error) => asked.push(Asked {
                name: Some(name.to_string()),
                answer: Some(error.to_string()),
                ..Asked::default()
            }),
        }
    }
    let mut evidence = Evidence::new(Mode::Direct, Outcome::NotFound);
    evidence.asked = asked;
    Ok((evidence, ProxyDiscovery::NoPac))
}

/// The PAC file DHCP option 252 names.
async fn dhcp_pac(
    params: &Params,
    context: &CheckContext,
    lease: &str,
    url: &str,
    deadline: Instant,
) -> (Evidence, ProxyDiscovery) {
    let mut evidence = Evidence::new(Mode::Dhcp, Outcome::DhcpNotHttp);
    evidence.asked.push(Asked {
        dhcp_lease: Some(lease.to_string()),
        option_252: Some(url.to_string()),
        ..Asked::default()
    });
    evidence.url = Some(url.to_string());
    let parsed = match parse_web_url(url) {
        Ok(parsed) if !parsed.https => parsed,
        _ => return (evidence, ProxyDiscovery::NoPac),
    };
    let resolved = resolve(&parsed.host, &context.dns_servers, deadline).await;
    let Some(ip) = resolved.as_ref().ok().and_then(|r| r.first()) else {
        evidence.outcome = Outcome::DhcpUnresolved;
        evidence.error = resolved.err().map(|e| e.to_string());
        return (evidence, ProxyDiscovery::NoPac);
    };
    let host = if parsed.port == 80 {
        parsed.host.clone()
    } else {
        format!("{}:{}", parsed.host, parsed.port)
    };
    let address = SocketAddr::new(ip, parsed.port);
    fetch_pac(
        params,
        context,
        &host,
        &parsed.path,
        address,
        evidence,
        deadline,
    )
    .await
}

async fn fetch_pac(
    params: &Params,
    context: &CheckContext,
    name: &str,
    path: &str,
    address: SocketAddr,
    mut evidence: Evidence,
    deadline: Instant,
) -> (Evidence, ProxyDiscovery) {
    let url = format!("http://{name}{path}");
    evidence.url = Some(url.clone());
    evidence.address = Some(address);
    let fetched = match fetch_path(address, name, path, params.max_bytes, deadline).await {
        Ok(fetched) => fetched,
        Err(error) => {
            evidence.outcome = Outcome::FetchFailed;
            evidence.error = Some(error.to_string());
            return (
                evidence,
                ProxyDiscovery::Unusable("WPAD's PAC file could not be fetched"),
            );
        }
    };
    if fetched.status != 200 {
        evidence.outcome = Outcome::NotServed;
        evidence.fetch = Some(fetched);
        return (
            evidence,
            ProxyDiscovery::Unusable("WPAD's PAC URL serves no PAC file"),
        );
    }
    let source: Arc<str> = Arc::from(fetched.body.as_str());
    evidence.fetch = Some(fetched);
    // Compile and run once on a name of no consequence; names it asks for are not resolved.
    let check_source = source.clone();
    let environment = Environment {
        my_ip: my_ip(context),
        now_ms: Environment::now(),
        ..Environment::default()
    };
    let limits = limits(deadline);
    let trial = tokio::task::spawn_blocking(move || {
        run_once(
            &check_source,
            "wpad.dat",
            "http://joinready.invalid/",
            "joinready.invalid",
            &environment,
            limits,
        )
    })
    .await;
    match trial {
        Ok(Ok(run)) => {
            evidence.outcome = Outcome::ScriptRuns;
            evidence.trial = Some(Trial {
                url: "http://joinready.invalid/".to_string(),
                result: run.result,
            });
            (evidence, ProxyDiscovery::Pac(PacFile { url, source }))
        }
        Ok(Err(error)) => {
            evidence.outcome = Outcome::ScriptFails;
            evidence.pac_error = Some(error);
            (
                evidence,
                ProxyDiscovery::Unusable("WPAD's PAC script fails"),
            )
        }
        Err(error) => {
            evidence.outcome = Outcome::ScriptFails;
            evidence.pac_error = Some(PacError::Engine {
                message: error.to_string(),
            });
            (
                evidence,
                ProxyDiscovery::Unusable("WPAD's PAC script fails"),
            )
        }
    }
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let url = evidence.url.as_deref().unwrap_or_default();
    let lease = evidence
        .asked
        .iter()
        .find_map(|a| a.dhcp_lease.as_deref())
        .unwrap_or_default();
    let ip = evidence
        .address
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let served = evidence.fetch.as_ref().map(|fetched| {
        format!(
            "{url} ({ip}) answers {} ({}, {} bytes, {:.0} ms)",
            fetched.status_line,
            fetched.content_type.as_deref().unwrap_or("no content type"),
            fetched.bytes,
            fetched.ms
        )
    });
    let served = served.unwrap_or_default();
    let proxy = evidence.proxy.as_deref().unwrap_or_default();
    match evidence.outcome {
        Outcome::Named if evidence.mode == Mode::Environment => Judgement::pass(format!(
            "{}={proxy} from the environment; WPAD is not consulted (Windows' machine context reads `netsh winhttp` instead)",
            evidence.variable.as_deref().unwrap_or_default()
        )),
        Outcome::Named => Judgement::pass(format!(
            "explicit proxy {proxy} from the profile; WPAD is not consulted"
        )),
        Outcome::Off => Judgement::pass(
            "WPAD is off in the profile and no proxy is named: the device connects directly",
        ),
        Outcome::NotFound => {
            let names: Vec<&str> = evidence
                .asked
                .iter()
                .filter_map(|a| a.name.as_deref())
                .collect();
            if names.is_empty() {
                // An entra device without a DNS search suffix: WPAD has no name to try.
                return Judgement::pass(
                    "no WPAD: no DHCP option 252 and no DNS suffix to look for wpad under, so the device connects directly",
                );
            }
            Judgement::pass(format!(
                "no WPAD: {} {} not resolve, so the device connects directly (Windows DNS servers block the name wpad unless it is removed from their global query block list)",
                names.join(" and "),
                if names.len() == 1 { "does" } else { "do" }
            ))
        }
        Outcome::DhcpNotHttp => Judgement::warn(format!(
            "DHCP option 252 in {lease} names {url}, which is not an http:// URL WinHTTP fetches; Windows then tries DNS"
        )),
        Outcome::DhcpUnresolved => {
            let host = parse_web_url(url).map(|u| u.host).unwrap_or_default();
            Judgement::warn(format!(
                "DHCP option 252 in {lease} names {url}, but {host} does not resolve"
            ))
        }
        Outcome::FetchFailed => Judgement::warn(format!(
            "WPAD names {url} ({ip}) but fetching it failed: {}; Windows then connects directly",
            evidence.error.as_deref().unwrap_or("no answer")
        )),
        Outcome::NotServed => Judgement::warn(format!(
            "WPAD: {served}: no PAC file there, so Windows connects directly"
        )),
        Outcome::ScriptRuns => {
            let content_type = evidence.fetch.as_ref().and_then(|f| f.content_type.as_deref());
            let mime = match content_type {
                Some(kind) if kind.starts_with(PAC_MIME) => String::new(),
                _ => format!(" (served without the type {PAC_MIME}; WinHTTP accepts it, some browsers do not)"),
            };
            Judgement::pass(format!("WPAD: {served}; the PAC script runs{mime}"))
        }
        Outcome::ScriptFails => Judgement::warn(format!(
            "WPAD: {served}, but the PAC script fails: {}; Windows then connects directly",
            evidence
                .pac_error
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )),
    }
}
