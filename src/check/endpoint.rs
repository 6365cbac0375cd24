//! Internet endpoints: the route this device takes to each (explicit proxy, the environment's
//! proxy variables, the PAC file, or direct), followed link by link; the finding names the
//! route and the first link that broke.

use super::CheckContext;
use crate::catalog::{EndpointDef, EndpointProtocol};
use crate::facts::Facts;
use crate::model::{Outcome, Status};
use crate::probe::inspection::{judge, Inspection, PublicRoots, PUBLIC_ROOTS_ENV};
use crate::probe::portal::{exchange, Exchange, PortalError};
use crate::probe::proxy::{connect_tunnel, http_get, ConnectAnswer};
use crate::probe::resolve::resolve;
use crate::probe::tcp::{connect, ConnectError};
use crate::probe::tls::{CertificateProblem, Trust};
use crate::profile::TlsInspection;
use crate::secret::Secret;
use crate::wire::pac_result::PacHop;
use crate::wire::url::{no_proxy_matches, parse_proxy_url, ProxyServer, WebUrl};
use serde::Serialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Basic proxy credentials when the proxy URL carries none (only sent after a 407).
pub const PROXY_USER_ENV: &str = "JOINREADY_PROXY_USER";
pub const PROXY_PASSWORD_ENV: &str = "JOINREADY_PROXY_PASSWORD";

/// The trust of endpoint checks: public roots, OS store, `[endpoints] ca_file` (and the
/// JOINREADY_PUBLIC_ROOTS stand-in), plus the public roots alone for inspection.
pub struct EndpointTrust {
    pub trust: Trust,
    pub public: PublicRoots,
}

impl EndpointTrust {
    pub fn load(ca_file: Option<&std::path::Path>) -> Result<EndpointTrust, String> {
        let override_path = std::env::var(PUBLIC_ROOTS_ENV).ok();
        let public = PublicRoots::load(override_path.as_deref())?;
        let trust = Trust::load(ca_file).map_err(|e| e.to_string())?;
        Ok(EndpointTrust {
            trust: trust.with_extra(public.override_certs.clone()),
            public,
        })
    }
}

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

/// Where the route ended and why: the first broken link.
#[derive(Debug)]
struct Broken {
    /// dns, tcp, proxy_dns, proxy_tcp, proxy_auth, proxy_connect, tls, http.
    link: &'static str,
    finding: String,
    evidence: Value,
    /// The proxy could not be connected to: the next hop may be tried.
    failover: bool,
}

/// A completed request and what it showed.
struct Reached {
    status: u16,
    status_line: String,
    total_ms: f64,
    exchange: Option<Exchange>,
    /// Basic credentials were needed (and worked) at the proxy.
    authenticated: bool,
    evidence: Value,
}

fn credentials(proxy: &ProxyServer) -> Option<(String, Secret)> {
    let user = proxy
        .user
        .clone()
        .or_else(|| std::env::var(PROXY_USER_ENV).ok())
        .filter(|u| !u.is_empty())?;
    let password = proxy
        .password
        .clone()
        .or_else(|| std::env::var(PROXY_PASSWORD_ENV).ok())
        .unwrap_or_default();
    Some((user, Secret::new(password)))
}

fn schemes_text(schemes: &[String]) -> String {
    if schemes.is_empty() {
        "no scheme offered".to_string()
    } else {
        schemes.join(", ")
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Opens TCP to the proxy; on failure the next hop may be tried. A hop that is not the last
/// gets at most half the remaining time, so a black-holed proxy leaves time for the fallback.
async fn open_proxy(
    proxy: &ProxyServer,
    context: &CheckContext,
    deadline: Instant,
    last: bool,
) -> Result<(TcpStream, SocketAddr, f64), Broken> {
    let budget = if last {
        deadline
    } else {
        Instant::now() + remaining(deadline) / 2
    };
    let resolved = resolve(&proxy.host, &context.dns_servers, budget)
        .await
        .map_err(|error| Broken {
            link: "proxy_dns",
            finding: format!("the proxy's name does not resolve: {error}"),
            evidence: json!({ "error": error.to_string() }),
            failover: true,
        })?;
    let Some(ip) = resolved.first() else {
        return Err(Broken {
            link: "proxy_dns",
            finding: format!("the proxy's name {} resolved to no address", proxy.host),
            evidence: json!({ "resolved": resolved }),
            failover: true,
        });
    };
    let address = SocketAddr::new(ip, proxy.port);
    match connect(address, budget).await {
        Ok((stream, connected)) => Ok((stream, address, connected.connect_ms)),
        Err(error) => Err(Broken {
            link: "proxy_tcp",
            finding: format!(
                "the proxy does not accept connections: TCP {} {error}",
                proxy.port
            ),
            evidence: json!({ "proxy_address": address, "error": error.to_string(), "state": connect_state(&error) }),
            failover: true,
        }),
    }
}

/// "host (ip)", or the address alone when the host is that address.
fn named(host: &str, ip: std::net::IpAddr) -> String {
    if host == ip.to_string() {
        host.to_string()
    } else {
        format!("{host} ({ip})")
    }
}

fn connect_state(error: &ConnectError) -> &'static str {
    match error {
        ConnectError::Refused => "refused",
        ConnectError::Silent(_) => "filtered",
        ConnectError::Unreachable(_) => "unreachable",
    }
}

fn portal_broken(error: PortalError, host: &str) -> Broken {
    let tls = match &error {
        PortalError::Tls { evidence, .. } => evidence.as_deref().cloned(),
        _ => None,
    };
    let (link, finding) = match (&error, &tls) {
        (_, Some(tls)) if tls.problem == Some(CertificateProblem::UntrustedIssuer) => (
            "tls",
            format!(
                "the certificate for {host} is issued by {}, which is neither a public root nor trusted here: TLS inspection re-signing the site, or a wrong certificate",
                tls.chain.first().map_or("?", |leaf| leaf.issuer.as_str())
            ),
        ),
        (_, Some(tls)) if tls.problem == Some(CertificateProblem::NameMismatch) => (
            "tls",
            format!(
                "the certificate is for {} but the endpoint is {host}",
                tls.chain
                    .first()
                    .map(|leaf| leaf.subject_alt_names.join(", "))
                    .unwrap_or_default()
            ),
        ),
        (_, Some(tls)) if tls.problem.is_some() => ("tls", tls.summary()),
        (PortalError::Tls { .. } | PortalError::Trust(_), _) => ("tls", error.to_string()),
        (PortalError::Silent { phase, .. } | PortalError::Io { phase, .. }, _)
            if *phase == crate::probe::portal::Phase::Tls =>
        {
            ("tls", error.to_string())
        }
        _ => ("http", error.to_string()),
    };
    Broken {
        link,
        finding,
        evidence: json!({ "phase": error.phase(), "error": error.to_string(), "tls": tls }),
        failover: false,
    }
}

/// HTTPS or HTTP along one hop.
async fn web_hop(
    endpoint: &EndpointDef,
    hop: &Hop,
    last: bool,
    context: &CheckContext,
    trust: &EndpointTrust,
    deadline: Instant,
) -> Result<Reached, Broken> {
    let started = Instant::now();
    let https = endpoint.protocol == EndpointProtocol::Https;
    let url = WebUrl {
        https,
        host: endpoint.host.clone(),
        port: endpoint.port,
        path: endpoint.path.clone(),
    };
    let mut evidence = serde_json::Map::new();
    let (mut stream, authenticated) = match hop {
        Hop::Direct => {
            let resolved = resolve(&endpoint.host, &context.dns_servers, deadline)
                .await
                .map_err(|error| Broken {
                    link: "dns",
                    finding: format!("{error}"),
                    evidence: json!({ "error": error.to_string() }),
                    failover: false,
                })?;
            let Some(ip) = resolved.first() else {
                return Err(Broken {
                    link: "dns",
                    finding: format!("{} resolved to no address", endpoint.host),
                    evidence: json!({ "resolved": resolved }),
                    failover: false,
                });
            };
            let address = SocketAddr::new(ip, endpoint.port);
            evidence.insert("resolved".into(), json!(resolved));
            let (stream, connected) = connect(address, deadline).await.map_err(|error| Broken {
                link: "tcp",
                finding: format!(
                    "TCP {} on {} {error}",
                    endpoint.port,
                    named(&endpoint.host, ip)
                ),
                evidence: json!({ "address": address, "error": error.to_string(), "state": connect_state(&error) }),
                failover: false,
            })?;
            evidence.insert("address".into(), json!(address));
            evidence.insert("connect_ms".into(), json!(connected.connect_ms));
            if !https {
                let (answer, _) = {
                    let mut stream = stream;
                    http_get(&mut stream, &url, false, None, deadline)
                        .await
                        .map_err(|e| portal_broken(e, &endpoint.host))?
                };
                evidence.insert("http".into(), json!(answer));
                return Ok(Reached {
                    status: answer.status,
                    status_line: answer.status_line,
                    total_ms: crate::probe::tcp::millis(started.elapsed()),
                    exchange: None,
                    authenticated: false,
                    evidence: Value::Object(evidence),
                });
            }
            (stream, false)
        }
        Hop::Proxy(proxy) => {
            let (mut stream, address, connect_ms) =
                open_proxy(proxy, context, deadline, last).await?;
            evidence.insert("proxy_address".into(), json!(address));
            evidence.insert("proxy_connect_ms".into(), json!(connect_ms));
            if !https {
                let (answer, _) = http_get(&mut stream, &url, true, None, deadline)
                    .await
                    .map_err(|e| portal_broken(e, &endpoint.host))?;
                let answer = match (answer.status, credentials(proxy)) {
                    (407, Some((user, password)))
                        if answer
                            .auth_schemes
                            .iter()
                            .any(|s| s.eq_ignore_ascii_case("basic")) =>
                    {
                        let (mut again, _, _) = open_proxy(proxy, context, deadline, true).await?;
                        http_get(&mut again, &url, true, Some((&user, &password)), deadline)
                            .await
                            .map_err(|e| portal_broken(e, &endpoint.host))?
                            .0
                    }
                    _ => answer,
                };
                evidence.insert("http".into(), json!(answer));
                if let Some(broken) =
                    proxy_refusal(&answer, endpoint, &Value::Object(evidence.clone()))
                {
                    return Err(broken);
                }
                return Ok(Reached {
                    status: answer.status,
                    status_line: answer.status_line.clone(),
                    total_ms: crate::probe::tcp::millis(started.elapsed()),
                    exchange: None,
                    authenticated: answer.authenticated,
                    evidence: Value::Object(evidence),
                });
            }
            let mut answer =
                connect_tunnel(&mut stream, &endpoint.host, endpoint.port, None, deadline)
                    .await
                    .map_err(|e| Broken {
                        link: "proxy_connect",
                        finding: format!("the proxy did not answer CONNECT: {e}"),
                        evidence: json!({ "error": e.to_string() }),
                        failover: false,
                    })?;
            if answer.status == 407 {
                if let Some((user, password)) = credentials(proxy).filter(|_| {
                    answer
                        .auth_schemes
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case("basic"))
                }) {
                    let (again, _, _) = open_proxy(proxy, context, deadline, true).await?;
                    stream = again;
                    answer = connect_tunnel(
                        &mut stream,
                        &endpoint.host,
                        endpoint.port,
                        Some((&user, &password)),
                        deadline,
                    )
                    .await
                    .map_err(|e| Broken {
                        link: "proxy_connect",
                        finding: format!("the proxy did not answer CONNECT: {e}"),
                        evidence: json!({ "error": e.to_string() }),
                        failover: false,
                    })?;
                }
            }
            evidence.insert("connect".into(), json!(answer));
            if let Some(broken) = proxy_refusal(&answer, endpoint, &Value::Object(evidence.clone()))
            {
                return Err(broken);
            }
            (stream, answer.authenticated)
        }
    };
    let exchanged = exchange(
        &mut stream,
        &endpoint.host,
        endpoint.port,
        &endpoint.path,
        &trust.trust,
        deadline,
    )
    .await
    .map_err(|e| {
        let mut broken = portal_broken(e, &endpoint.host);
        if let Value::Object(more) = &mut broken.evidence {
            more.extend(evidence.clone());
        }
        broken
    })?;
    Ok(Reached {
        status: exchanged.head.status,
        status_line: exchanged.head.status_line.clone(),
        total_ms: crate::probe::tcp::millis(started.elapsed()),
        exchange: Some(exchanged),
        authenticated,
        evidence: Value::Object(evidence),
    })
}

/// A proxy's answer that ends the route: 407 without working credentials, 403, 5xx.
fn proxy_refusal(
    answer: &ConnectAnswer,
    endpoint: &EndpointDef,
    evidence: &Value,
) -> Option<Broken> {
    let target = format!("{}:{}", endpoint.host, endpoint.port);
    let (link, finding) = match answer.status {
        200..=299 => return None,
        // Plain HTTP through a proxy: the origin's own statuses pass through.
        status if endpoint.protocol == EndpointProtocol::Http && !matches!(status, 403 | 407 | 502..=504) => {
            return None
        }
        407 if answer.authenticated => (
            "proxy_auth",
            format!(
                "{} answers 407 ({}) even with the Basic credentials given: they are wrong, and device registration runs as SYSTEM and cannot authenticate anyway",
                endpoint.host,
                schemes_text(&answer.auth_schemes)
            ),
        ),
        407 => (
            "proxy_auth",
            format!(
                "{} answers 407 ({}): device registration runs as SYSTEM and cannot authenticate",
                endpoint.host,
                schemes_text(&answer.auth_schemes)
            ),
        ),
        403 => ("proxy_connect", format!("the proxy refuses {target}: {}", answer.status_line)),
        502..=504 => (
            "proxy_connect",
            format!("the proxy cannot reach {target}: {}", answer.status_line),
        ),
        _ => (
            "proxy_connect",
            format!("the proxy answers CONNECT {target} with {}", answer.status_line),
        ),
    };
    Some(Broken {
        link,
        finding,
        evidence: evidence.clone(),
        failover: false,
    })
}

#[derive(Serialize)]
struct RouteEvidence<'a> {
    source: &'a str,
    pac_result: Option<&'a str>,
    hops: Vec<String>,
    skipped: &'a [String],
}

/// Runs the check for one endpoint.
pub async fn run(
    endpoint: &EndpointDef,
    context: &CheckContext,
    facts: &Facts,
    deadline: Instant,
) -> Outcome {
    let mut outcome = judge_endpoint(endpoint, context, facts, deadline).await;
    if endpoint.optional && outcome.status == Status::Fail {
        outcome.status = Status::Warn;
        outcome.finding = format!("{} (optional: {})", outcome.finding, endpoint.purpose);
    }
    outcome
}

async fn judge_endpoint(
    endpoint: &EndpointDef,
    context: &CheckContext,
    facts: &Facts,
    deadline: Instant,
) -> Outcome {
    let base = json!({ "endpoint": endpoint, "url": endpoint.url() });
    if endpoint.protocol == EndpointProtocol::Ntp {
        return ntp(endpoint, context, deadline, base).await;
    }
    let env = |name: &str| std::env::var(name).ok();
    let route = match explicit_route(endpoint, context.settings.proxy.url.as_ref(), &env) {
        Ok(Some(route)) => route,
        Ok(None) => match super::proxy::route_from_pac(endpoint, facts, context, deadline).await {
            Ok(route) => route,
            Err(outcome) => return outcome,
        },
        Err(message) => {
            return Outcome::error(format!(
                "{message}: fix the variable or unset it (joinready reads it as Windows' WinHTTP would read `netsh winhttp` settings)"
            ))
        }
    };
    let trust = match context.endpoint_trust().await {
        Ok(trust) => trust,
        Err(reason) => return Outcome::error(reason),
    };
    let route_evidence = RouteEvidence {
        source: &route.source,
        pac_result: route.pac_result.as_deref(),
        hops: route.hops.iter().map(ToString::to_string).collect(),
        skipped: &route.skipped,
    };
    let mut value = base;
    value["route"] = json!(route_evidence);
    if route.hops.is_empty() {
        value["broken_link"] = json!("route");
        return Outcome::fail(
            format!(
                "{}: {} names no route this tool can follow ({})",
                route.source,
                route.pac_result.as_deref().unwrap_or("the route"),
                route.skipped.join("; ")
            ),
            value,
        );
    }
    let mut tried: Vec<Value> = Vec::new();
    let count = route.hops.len();
    let mut last_broken: Option<(Hop, Broken)> = None;
    for (i, hop) in route.hops.iter().enumerate() {
        let last = i + 1 == count;
        match web_hop(endpoint, hop, last, context, trust, deadline).await {
            Ok(reached) => {
                tried.push(json!({ "hop": hop.to_string(), "result": "reached" }));
                value["tried"] = json!(tried);
                return reached_outcome(endpoint, hop, &route, reached, trust, value);
            }
            Err(broken) => {
                tried.push(json!({ "hop": hop.to_string(), "result": broken.link, "error": broken.finding, "evidence": broken.evidence }));
                let failover = broken.failover;
                last_broken = Some((hop.clone(), broken));
                if !failover || remaining(deadline).is_zero() {
                    break;
                }
            }
        }
    }
    value["tried"] = json!(tried);
    let Some((hop, broken)) = last_broken else {
        return Outcome::error("no route was tried");
    };
    value["broken_link"] = json!(broken.link);
    if let Value::Object(more) = &broken.evidence {
        for (key, item) in more {
            value[key] = item.clone();
        }
    }
    let earlier = if tried.len() > 1 {
        format!(" (after {} earlier hops failed)", tried.len() - 1)
    } else {
        String::new()
    };
    let finding = format!("{}{earlier}: {}", route_head(&hop, &route), broken.finding);
    let forbidden = endpoint.tls_inspection == TlsInspection::Forbidden;
    let finding = if broken.link == "tls" && forbidden {
        format!("{finding}; {} forbids TLS inspection", endpoint.host)
    } else {
        finding
    };
    Outcome::fail(finding, value)
}

/// "via proxy 10.77.0.30:3128 (HTTPS_PROXY)" or "PAC says PROXY p:3128; DIRECT: via proxy …".
fn route_head(hop: &Hop, route: &Route) -> String {
    match &route.pac_result {
        Some(result) => format!("{} says {result} for this URL; {hop}", route.source),
        None => format!("{hop} ({})", route.source),
    }
}

fn reached_outcome(
    endpoint: &EndpointDef,
    hop: &Hop,
    route: &Route,
    reached: Reached,
    trust: &EndpointTrust,
    mut value: Value,
) -> Outcome {
    let head = route_head(hop, route);
    if let Value::Object(more) = &reached.evidence {
        for (key, item) in more {
            value[key] = item.clone();
        }
    }
    value["http"] = json!({ "status": reached.status, "status_line": reached.status_line, "total_ms": reached.total_ms });
    let mut inspection: Option<Inspection> = None;
    let mut certificate = String::new();
    if let Some(exchanged) = &reached.exchange {
        let found = judge(&trust.public, &exchanged.chain, &endpoint.host);
        certificate = match &exchanged.tls {
            Some(_) => format!(
                "; {}, chain ends at {}",
                exchanged.tls_version.as_deref().unwrap_or("TLS"),
                found.ends_at
            ),
            None => String::new(),
        };
        value["tls"] = json!(exchanged.tls);
        value["tls_version"] = json!(exchanged.tls_version);
        value["tls_ms"] = json!(exchanged.tls_ms);
        value["inspection"] = json!(found);
        inspection = Some(found);
    }
    let summary = format!(
        "{head}: {} answers {} in {:.0} ms{certificate}",
        endpoint.host, reached.status_line, reached.total_ms
    );
    if let Some(found) = inspection.filter(|i| !i.public_root) {
        value["broken_link"] = json!("tls_inspection");
        let said = format!(
            "{head}: TLS inspection: the certificate chain for {} ends at {}, not a public root",
            endpoint.host, found.ends_at
        );
        return match endpoint.tls_inspection {
            TlsInspection::Forbidden => Outcome::fail(
                format!(
                    "{said}; {} forbids inspection ({})",
                    endpoint.host, endpoint.purpose
                ),
                value,
            ),
            TlsInspection::Allowed => Outcome::warn(
                format!("{said} (tolerated here, but exclude Microsoft endpoints from inspection)"),
                value,
            ),
        };
    }
    if reached.authenticated {
        value["broken_link"] = json!("proxy_auth");
        return Outcome::warn(
            format!(
                "{summary}, but only with Basic proxy credentials: device registration runs as SYSTEM and cannot authenticate; exempt {} from proxy authentication",
                endpoint.host
            ),
            value,
        );
    }
    Outcome::pass(summary, value)
}

/// SNTP to the endpoint on UDP (never through a proxy): the answer and the clock offset.
async fn ntp(
    endpoint: &EndpointDef,
    context: &CheckContext,
    deadline: Instant,
    mut value: Value,
) -> Outcome {
    use crate::wire::ntp::{decode_response, encode_request};
    let resolved = match resolve(&endpoint.host, &context.dns_servers, deadline).await {
        Ok(resolved) => resolved,
        Err(error) => {
            value["broken_link"] = json!("dns");
            return Outcome::fail(format!("direct (NTP): {error}"), value);
        }
    };
    let Some(ip) = resolved.first() else {
        value["broken_link"] = json!("dns");
        return Outcome::fail(
            format!("direct (NTP): {} resolved to no address", endpoint.host),
            value,
        );
    };
    let address = SocketAddr::new(ip, endpoint.port);
    value["resolved"] = json!(resolved);
    value["address"] = json!(address);
    let exchanged = async {
        let bind: SocketAddr = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
            .parse()
            .map_err(|_| "bad bind address".to_string())?;
        let socket = tokio::net::UdpSocket::bind(bind)
            .await
            .map_err(|e| e.to_string())?;
        socket.connect(address).await.map_err(|e| e.to_string())?;
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        };
        let t1 = now();
        socket
            .send(&encode_request(t1))
            .await
            .map_err(|e| e.to_string())?;
        let mut buffer = [0u8; 512];
        let read = tokio::time::timeout_at(
            tokio::time::Instant::from_std(deadline),
            socket.recv(&mut buffer),
        )
        .await
        .map_err(|_| {
            format!(
                "no NTP answer within {}",
                crate::duration::Human(remaining(deadline))
            )
        })?
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                "UDP 123 is closed (ICMP port unreachable)".to_string()
            } else {
                e.to_string()
            }
        })?;
        let t4 = now();
        decode_response(buffer.get(..read).unwrap_or_default(), t1, t4).map_err(|e| e.to_string())
    }
    .await;
    match exchanged {
        Ok(reply) => {
            value["ntp"] = json!({ "stratum": reply.stratum, "offset_ms": reply.offset_ms, "delay_ms": reply.delay_ms, "reference": reply.reference });
            let finding = format!(
                "direct (NTP): {} answers, stratum {}, this device's clock is off by {:.0} ms",
                named(&endpoint.host, ip),
                reply.stratum,
                reply.offset_ms
            );
            if reply.offset_ms.abs() >= 120_000.0 {
                Outcome::warn(format!("{finding}: correct the clock"), value)
            } else {
                Outcome::pass(finding, value)
            }
        }
        Err(error) => {
            value["broken_link"] = json!("ntp");
            Outcome::fail(
                format!("direct (NTP): {} ({ip}): {error}", endpoint.host),
                value,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::TlsInspection;

    fn endpoint(host: &str, protocol: EndpointProtocol) -> EndpointDef {
        EndpointDef {
            host: host.into(),
            port: protocol.default_port(),
            protocol,
            path: "/".into(),
            sets: vec!["extra".into()],
            purpose: "test".into(),
            source: "test".into(),
            tls_inspection: TlsInspection::Forbidden,
            wildcard: None,
            optional: false,
        }
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_profile_proxy_wins_over_the_environment() {
        let profile = parse_proxy_url("http://10.77.0.30:3128").unwrap();
        let env = env_of(&[("HTTPS_PROXY", "http://other:1")]);
        let route = explicit_route(
            &endpoint("a.test", EndpointProtocol::Https),
            Some(&profile),
            &env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(route.hops, vec![Hop::Proxy(profile)]);
        assert_eq!(route.source, "profile [proxy] url");
    }

    #[test]
    fn environment_variables_and_no_proxy() {
        let env = env_of(&[
            ("https_proxy", "http://p.test:3128"),
            ("HTTP_PROXY", "http://h.test:8080"),
            ("NO_PROXY", ".corp.test"),
        ]);
        let https = explicit_route(&endpoint("a.test", EndpointProtocol::Https), None, &env)
            .unwrap()
            .unwrap();
        assert_eq!(https.source, "https_proxy");
        assert_eq!(https.hops[0].to_string(), "via proxy p.test:3128");
        let http = explicit_route(&endpoint("a.test", EndpointProtocol::Http), None, &env)
            .unwrap()
            .unwrap();
        assert_eq!(http.hops[0].to_string(), "via proxy h.test:8080");
        let exempt = explicit_route(
            &endpoint("x.corp.test", EndpointProtocol::Https),
            None,
            &env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(exempt.hops, vec![Hop::Direct]);
        assert_eq!(exempt.source, "NO_PROXY exempts it from https_proxy");
        assert!(
            explicit_route(&endpoint("a.test", EndpointProtocol::Ntp), None, &env)
                .unwrap()
                .is_none()
        );
        let none = env_of(&[]);
        assert!(
            explicit_route(&endpoint("a.test", EndpointProtocol::Https), None, &none)
                .unwrap()
                .is_none()
        );
        let bad = env_of(&[("HTTPS_PROXY", "socks5://s:1080")]);
        let error =
            explicit_route(&endpoint("a.test", EndpointProtocol::Https), None, &bad).unwrap_err();
        assert!(
            error.starts_with("HTTPS_PROXY: proxy `socks5://s:1080`"),
            "{error}"
        );
    }

    #[test]
    fn a_pac_route_keeps_order_and_names_what_it_skips() {
        let hops = crate::wire::pac_result::parse_pac_result("SOCKS s:1080; PROXY p:3128; DIRECT")
            .unwrap();
        let route = pac_route("SOCKS s:1080; PROXY p:3128; DIRECT", &hops, "PAC");
        assert_eq!(
            route
                .hops
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec!["via proxy p:3128", "direct"]
        );
        assert_eq!(route.skipped, vec!["SOCKS s:1080"]);
    }

    fn context(profile: &str) -> CheckContext {
        use crate::profile::{LoadedProfile, Overrides, Settings};
        let profile =
            LoadedProfile::parse(std::path::Path::new("p.toml"), profile.to_string()).unwrap();
        let settings = Settings::resolve(Some(&profile), &Overrides::default(), || None).unwrap();
        CheckContext::new(std::sync::Arc::new(settings), Ok(Vec::new()), None)
    }

    /// A loopback stand-in for a proxy: answers every request with `reply`, counts requests.
    async fn fake_proxy(
        reply: &'static str,
        requests: usize,
    ) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..requests {
                let Ok(Ok((mut stream, _))) =
                    tokio::time::timeout(Duration::from_secs(3), listener.accept()).await
                else {
                    break;
                };
                let mut buffer = vec![0u8; 4096];
                let read = stream.read(&mut buffer).await.unwrap_or(0);
                seen.push(String::from_utf8_lossy(&buffer[..read]).into_owned());
                let _ = stream.write_all(reply.as_bytes()).await;
            }
            seen
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_proxy_that_demands_authentication_fails_and_names_its_schemes() {
        let (port, seen) = fake_proxy(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"jr\"\r\nContent-Length: 0\r\n\r\n",
            1,
        )
        .await;
        let context = context(&format!(
            "domain = \"corp.jr.test\"\n[proxy]\nurl = \"http://127.0.0.1:{port}\"\n"
        ));
        let outcome = run(
            &endpoint("registration.corp.jr.test", EndpointProtocol::Https),
            &context,
            &Facts::default(),
            Instant::now() + Duration::from_secs(2),
        )
        .await;
        assert_eq!(outcome.status, Status::Fail, "{}", outcome.finding);
        assert_eq!(
            outcome.finding,
            format!("via proxy 127.0.0.1:{port} (profile [proxy] url): registration.corp.jr.test answers 407 (Basic): device registration runs as SYSTEM and cannot authenticate")
        );
        assert_eq!(outcome.evidence["broken_link"], "proxy_auth");
        assert_eq!(outcome.evidence["connect"]["auth_schemes"][0], "Basic");
        let seen = seen.await.unwrap();
        assert!(
            seen[0].starts_with("CONNECT registration.corp.jr.test:443 HTTP/1.1\r\n"),
            "{seen:?}"
        );
        assert!(
            !seen[0].contains("Proxy-Authorization"),
            "credentials only after a 407"
        );
    }

    #[tokio::test]
    async fn basic_credentials_are_sent_only_after_a_407() {
        let (port, seen) = fake_proxy(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"jr\"\r\n\r\n",
            2,
        )
        .await;
        let context = context(&format!(
            "domain = \"corp.jr.test\"\n[proxy]\nurl = \"http://u:wrong@127.0.0.1:{port}\"\n"
        ));
        let outcome = run(
            &endpoint("registration.corp.jr.test", EndpointProtocol::Https),
            &context,
            &Facts::default(),
            Instant::now() + Duration::from_secs(2),
        )
        .await;
        assert_eq!(outcome.status, Status::Fail, "{}", outcome.finding);
        assert!(
            outcome
                .finding
                .contains("even with the Basic credentials given"),
            "{}",
            outcome.finding
        );
        assert!(!outcome.finding.contains("wrong@"));
        let seen = seen.await.unwrap();
        assert_eq!(seen.len(), 2);
        assert!(!seen[0].contains("Proxy-Authorization"));
        assert!(
            seen[1].contains("Proxy-Authorization: Basic dTp3cm9uZw==\r\n"),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_proxy_fails_over_to_the_next_hop_and_says_so() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = free.local_addr().unwrap().port();
        drop(free);
        let (port, _seen) = fake_proxy("HTTP/1.1 403 Filtered\r\n\r\n", 1).await;
        let context = context("domain = \"corp.jr.test\"\n");
        let hops = crate::wire::pac_result::parse_pac_result(&format!(
            "PROXY 127.0.0.1:{dead}; PROXY 127.0.0.1:{port}; DIRECT"
        ))
        .unwrap();
        let route = pac_route("r", &hops, "PAC");
        let trust = context.endpoint_trust().await.unwrap();
        let endpoint = endpoint("a.corp.jr.test", EndpointProtocol::Https);
        let deadline = Instant::now() + Duration::from_secs(2);
        let first = web_hop(&endpoint, &route.hops[0], false, &context, trust, deadline)
            .await
            .err()
            .unwrap();
        assert!(first.failover && first.link == "proxy_tcp", "{first:?}");
        let second = web_hop(&endpoint, &route.hops[1], false, &context, trust, deadline)
            .await
            .err()
            .unwrap();
        assert!(!second.failover, "a proxy that answers ends the route");
        assert_eq!(
            second.finding,
            "the proxy refuses a.corp.jr.test:443: HTTP/1.1 403 Filtered"
        );
    }

    #[test]
    fn a_407_is_explained_with_its_schemes() {
        let answer = ConnectAnswer {
            status: 407,
            status_line: "HTTP/1.1 407 Proxy Authentication Required".into(),
            auth_schemes: vec!["Negotiate".into(), "NTLM".into()],
            authenticated: false,
            ms: 1.0,
        };
        let broken = proxy_refusal(
            &answer,
            &endpoint(
                "enterpriseregistration.windows.net",
                EndpointProtocol::Https,
            ),
            &json!({}),
        )
        .unwrap();
        assert_eq!(broken.link, "proxy_auth");
        assert_eq!(
            broken.finding,
            "enterpriseregistration.windows.net answers 407 (Negotiate, NTLM): device registration runs as SYSTEM and cannot authenticate"
        );
        let ok = ConnectAnswer {
            status: 200,
            ..answer.clone()
        };
        assert!(proxy_refusal(
            &ok,
            &endpoint("a.test", EndpointProtocol::Https),
            &json!({})
        )
        .is_none());
        let origin_404 = ConnectAnswer {
            status: 404,
            ..answer
        };
        assert!(proxy_refusal(
            &origin_404,
            &endpoint("a.test", EndpointProtocol::Http),
            &json!({})
        )
        .is_none());
    }
}
