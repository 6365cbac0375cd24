//! Proxy discovery: the explicit proxy, or WPAD and its PAC file, as the machine context of
//! Windows finds them; and the route the PAC gives each endpoint.

use super::endpoint::{pac_route, Hop, Route};
use super::CheckContext;
use crate::catalog::{EndpointDef, WpadParams};
use crate::facts::Facts;
use crate::model::Outcome;
use crate::pac::{find_proxy, run_once, Environment, Limits};
use crate::probe::resolve::resolve;
use crate::probe::wpad::{dhcp_option_252, fetch_path, PAC_MIME};
use crate::wire::pac_result::parse_pac_result;
use crate::wire::url::redact;
use crate::wire::wpad::candidates;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

/// The PAC file WPAD found, for the endpoint checks.
#[derive(Debug, Clone)]
pub struct PacFile {
    pub url: String,
    pub source: Arc<str>,
}

/// The CPU time a PAC script gets per evaluation (its memory: `Limits::default`).
fn limits(deadline: Instant) -> Limits {
    let mut limits = Limits::default();
    limits.cpu = limits
        .cpu
        .min(deadline.saturating_duration_since(Instant::now()));
    limits
}

/// This device's address toward its (first) DNS server: what myIpAddress() answers. A UDP
/// socket is connected, which sends nothing.
fn my_ip(context: &CheckContext) -> Option<IpAddr> {
    let server = context.dns_servers.as_ref().ok()?.first().copied()?;
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(server).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

pub async fn wpad(params: &WpadParams, context: &CheckContext, deadline: Instant) -> Outcome {
    let settings = &context.settings;
    if let Some(proxy) = &settings.proxy.url {
        return Outcome::pass(
            format!("explicit proxy {proxy} from the profile; WPAD is not consulted"),
            json!({ "mode": "explicit", "proxy": proxy.to_string() }),
        );
    }
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
            return Outcome::pass(
                format!(
                    "{name}={} from the environment; WPAD is not consulted (Windows' machine context reads `netsh winhttp` instead)",
                    redact(&value)
                ),
                json!({ "mode": "environment", "variable": name, "proxy": redact(&value) }),
            );
        }
    }
    if !settings.proxy.wpad {
        return Outcome::pass(
            "WPAD is off in the profile and no proxy is named: the device connects directly",
            json!({ "mode": "direct" }),
        );
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
            asked.push(json!({ "dhcp": error }));
            Vec::new()
        });
    if let Some((lease, url)) = leases.first() {
        return dhcp_pac(params, context, lease, url, deadline).await;
    }
    let names = candidates(&settings.domain);
    for name in &names {
        match resolve(name, &context.dns_servers, deadline).await {
            Ok(resolved) => {
                let Some(ip) = resolved.first() else {
                    asked.push(json!({ "name": name, "answer": "no address" }));
                    continue;
                };
                asked.push(json!({ "name": name, "resolved": resolved }));
                return fetch_pac(
                    params,
                    context,
                    name,
                    "/wpad.dat",
                    SocketAddr::new(ip, 80),
                    asked,
                    deadline,
                )
                .await;
            }
            Err(error) => asked.push(json!({ "name": name, "answer": error.to_string() })),
        }
    }
    Outcome::pass(
        format!(
            "no WPAD: {} {} not resolve, so the device connects directly (Windows DNS servers block the name wpad unless it is removed from their global query block list)",
            names.join(" and "),
            if names.len() == 1 { "does" } else { "do" }
        ),
        json!({ "mode": "direct", "asked": asked }),
    )
}

/// The PAC file DHCP option 252 names.
async fn dhcp_pac(
    params: &WpadParams,
    context: &CheckContext,
    lease: &str,
    url: &str,
    deadline: Instant,
) -> Outcome {
    let origin = json!({ "dhcp_lease": lease, "option_252": url });
    let parsed = match crate::wire::url::parse_web_url(url) {
        Ok(parsed) if !parsed.https => parsed,
        _ => {
            return Outcome::warn(
                format!("DHCP option 252 in {lease} names {url}, which is not an http:// URL WinHTTP fetches; Windows then tries DNS"),
                json!({ "mode": "dhcp", "asked": [origin] }),
            )
        }
    };
    let resolved = resolve(&parsed.host, &context.dns_servers, deadline).await;
    let Some(ip) = resolved.as_ref().ok().and_then(|r| r.first()) else {
        return Outcome::warn(
            format!(
                "DHCP option 252 in {lease} names {url}, but {} does not resolve",
                parsed.host
            ),
            json!({ "mode": "dhcp", "asked": [origin] }),
        );
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
        vec![origin],
        deadline,
    )
    .await
}

async fn fetch_pac(
    params: &WpadParams,
    context: &CheckContext,
    name: &str,
    path: &str,
    address: SocketAddr,
    asked: Vec<serde_json::Value>,
    deadline: Instant,
) -> Outcome {
    let url = format!("http://{name}{path}");
    let fetched = match fetch_path(address, name, path, params.max_bytes, deadline).await {
        Ok(fetched) => fetched,
        Err(error) => {
            let _ = context.pac.set(Err("WPAD's PAC file could not be fetched"));
            return Outcome::warn(
                format!(
                    "WPAD names {url} ({}) but fetching it failed: {error}; Windows then connects directly",
                    address.ip()
                ),
                json!({ "mode": "wpad", "asked": asked, "url": url, "address": address, "error": error.to_string() }),
            );
        }
    };
    let mut value = json!({ "mode": "wpad", "asked": asked, "fetch": fetched });
    let served = format!(
        "{url} ({}) answers {} ({}, {} bytes, {:.0} ms)",
        address.ip(),
        fetched.status_line,
        fetched.content_type.as_deref().unwrap_or("no content type"),
        fetched.bytes,
        fetched.ms
    );
    if fetched.status != 200 {
        let _ = context.pac.set(Err("WPAD's PAC URL serves no PAC file"));
        return Outcome::warn(
            format!("WPAD: {served}: no PAC file there, so Windows connects directly"),
            value,
        );
    }
    let source: Arc<str> = Arc::from(fetched.body.as_str());
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
    let trial = match trial {
        Ok(result) => result,
        Err(error) => return Outcome::error(format!("the PAC engine failed: {error}")),
    };
    match trial {
        Ok(run) => {
            value["trial"] = json!({ "url": "http://joinready.invalid/", "result": run.result });
            let mime = match fetched.content_type.as_deref() {
                Some(kind) if kind.starts_with(PAC_MIME) => String::new(),
                _ => format!(" (served without the type {PAC_MIME}; WinHTTP accepts it, some browsers do not)"),
            };
            let _ = context.pac.set(Ok(PacFile {
                url: url.clone(),
                source,
            }));
            Outcome::pass(format!("WPAD: {served}; the PAC script runs{mime}"), value)
        }
        Err(error) => {
            let _ = context.pac.set(Err("WPAD's PAC script fails"));
            value["pac_error"] = json!(error);
            Outcome::warn(
                format!("WPAD: {served}, but the PAC script fails: {error}; Windows then connects directly"),
                value,
            )
        }
    }
}

/// The route when neither the profile nor the environment names a proxy: the PAC's list for
/// this URL when WPAD found one, else direct.
pub async fn route_from_pac(
    endpoint: &EndpointDef,
    _facts: &Facts,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Route, Outcome> {
    let Some(Ok(pac)) = context.pac.get() else {
        let source = match (context.settings.proxy.wpad, context.pac.get()) {
            (true, Some(Err(why))) => format!("no proxy: {why}, see proxy.wpad"),
            (true, _) => "no proxy: WPAD found no PAC file".to_string(),
            (false, _) => "no proxy configured".to_string(),
        };
        return Ok(Route {
            hops: vec![Hop::Direct],
            source,
            pac_result: None,
            skipped: Vec::new(),
        });
    };
    let url = endpoint.url();
    let environment = Environment {
        my_ip: my_ip(context),
        my_ips: my_ip(context).into_iter().collect(),
        now_ms: Environment::now(),
        ..Environment::default()
    };
    let servers = &context.dns_servers;
    let decided = find_proxy(
        pac.source.clone(),
        "wpad.dat",
        &url,
        &endpoint.host,
        environment,
        limits(deadline),
        |name| async move {
            // Half the remaining time at most: the route itself needs the rest.
            let budget = Instant::now() + deadline.saturating_duration_since(Instant::now()) / 2;
            resolve(&name, servers, budget)
                .await
                .map(|r| r.addresses)
                .unwrap_or_default()
        },
    )
    .await;
    let failed = |message: String| {
        Outcome::fail(
            message,
            json!({ "endpoint": endpoint, "url": url, "pac": pac.url, "broken_link": "pac" }),
        )
    };
    let decision = decided.map_err(|error| {
        failed(format!(
            "the PAC {} fails for {url}: {error}; Windows then connects directly",
            pac.url
        ))
    })?;
    let hops = parse_pac_result(&decision.result).map_err(|error| {
        failed(format!(
            "the PAC {} returns `{}` for {url}, which is not a proxy list: {error}",
            pac.url, decision.result
        ))
    })?;
    Ok(pac_route(
        &decision.result,
        &hops,
        &format!("PAC {}", pac.url),
    ))
}
