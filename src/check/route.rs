//! The route this device takes to a URL, in the order Windows' machine context decides it:
//! the profile's explicit proxy, the environment's proxy variables, the PAC file WPAD found,
//! or direct. Shared by `wpad` (its trial run) and `endpoint` (every endpoint's route).

use super::context::CheckContext;
use crate::endpoints::{EndpointDef, EndpointProtocol};
use crate::facts::ProxyDiscovery;
use crate::pac::{find_proxy, Limits};
use crate::probe::resolve::resolve;
use crate::wire::pac_result::{parse_pac_result, PacHop};
use crate::wire::url::{no_proxy_matches, parse_proxy_url, ProxyServer};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// One way out, in the order the device tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    Direct,
    Proxy(ProxyServer),
}

impl std::fmt::Display for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hop::Direct => f.write_str("direct"),
            Hop::Proxy(proxy) => write!(f, "via proxy {proxy}"),
        }
    }
}

/// The route for one endpoint and why it is that one.
#[derive(Debug, Clone)]
pub struct Route {
    pub hops: Vec<Hop>,
    /// "profile [proxy] url", "HTTPS_PROXY", "NO_PROXY", "PAC …", "no proxy configured".
    pub source: String,
    /// What FindProxyForURL returned, when a PAC decided.
    pub pac_result: Option<String>,
    /// PAC elements this tool does not speak (SOCKS, HTTPS), skipped.
    pub skipped: Vec<String>,
}

/// Why no route could be followed: the PAC file fails for this URL.
#[derive(Debug, Clone, PartialEq)]
pub struct PacFailure {
    pub pac: String,
    pub url: String,
    pub message: String,
}

/// The CPU time a PAC script gets per evaluation (its memory: `Limits::default`).
pub fn limits(deadline: Instant) -> Limits {
    let mut limits = Limits::default();
    limits.cpu = limits
        .cpu
        .min(deadline.saturating_duration_since(Instant::now()));
    limits
}

/// This device's address toward its (first) DNS server: what myIpAddress() answers. A UDP
/// socket is connected, which sends nothing.
pub fn my_ip(context: &CheckContext) -> Option<IpAddr> {
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

/// The route from the profile's explicit proxy, or else the environment's proxy variables.
/// None when neither names a proxy (then WPAD/PAC or direct decide). `env` is the
/// environment lookup, injectable for tests.
pub fn explicit_route(
    endpoint: &EndpointDef,
    profile_proxy: Option<&ProxyServer>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Route>, String> {
    if let Some(proxy) = profile_proxy {
        return Ok(Some(Route {
            hops: vec![Hop::Proxy(proxy.clone())],
            source: "profile [proxy] url".to_string(),
            pac_result: None,
            skipped: Vec::new(),
        }));
    }
    let names: &[&str] = match endpoint.protocol {
        EndpointProtocol::Https => &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"],
        EndpointProtocol::Http => &["HTTP_PROXY", "http_proxy"],
        EndpointProtocol::Ntp => return Ok(None),
    };
    let Some((name, value)) = names
        .iter()
        .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
    else {
        return Ok(None);
    };
    for no_proxy in ["NO_PROXY", "no_proxy"] {
        if let Some(list) = env(no_proxy) {
            if no_proxy_matches(&list, &endpoint.host) {
                return Ok(Some(Route {
                    hops: vec![Hop::Direct],
                    source: format!("{no_proxy} exempts it from {name}"),
                    pac_result: None,
                    skipped: Vec::new(),
                }));
            }
        }
    }
    let proxy = parse_proxy_url(&value).map_err(|m| format!("{name}: {m}"))?;
    Ok(Some(Route {
        hops: vec![Hop::Proxy(proxy)],
        source: name.to_string(),
        pac_result: None,
        skipped: Vec::new(),
    }))
}

/// A route from a PAC result (already parsed); unsupported elements are skipped and named.
pub fn pac_route(result: &str, hops: &[PacHop], origin: &str) -> Route {
    let mut route = Route {
        hops: Vec::new(),
        source: origin.to_string(),
        pac_result: Some(result.to_string()),
        skipped: Vec::new(),
    };
    for hop in hops {
        match hop {
            PacHop::Direct => route.hops.push(Hop::Direct),
            PacHop::Proxy { host, port } => route.hops.push(Hop::Proxy(ProxyServer {
                host: host.clone(),
                port: *port,
                user: None,
                password: None,
            })),
            PacHop::Unsupported { text } => route.skipped.push(text.clone()),
        }
    }
    route
}

/// The route when neither the profile nor the environment names a proxy: the PAC's list for
/// this URL when WPAD found one, else direct.
pub async fn route_from_pac(
    endpoint: &EndpointDef,
    discovery: &ProxyDiscovery,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Route, PacFailure> {
    let pac = match discovery {
        ProxyDiscovery::Pac(pac) => pac,
        other => {
            let source = match (context.settings.proxy.wpad, other) {
                (true, ProxyDiscovery::Unusable(why)) => {
                    format!("no proxy: {why}, see proxy.wpad")
                }
                (true, _) => "no proxy: WPAD found no PAC file".to_string(),
                (false, _) => "no proxy configured".to_string(),
            };
            return Ok(Route {
                hops: vec![Hop::Direct],
                source,
                pac_result: None,
                skipped: Vec::new(),
            });
        }
    };
    let url = endpoint.url();
    let environment = crate::pac::Environment {
        my_ip: my_ip(context),
        my_ips: my_ip(context).into_iter().collect(),
        now_ms: crate::pac::Environment::now(),
        ..crate::pac::Environment::default()
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
    let failed = |message: String| PacFailure {
        pac: pac.url.clone(),
        url: url.clone(),
        message,
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
