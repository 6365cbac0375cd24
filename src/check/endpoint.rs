//! `endpoint`: an internet endpoint along this device's route (explicit proxy, the
//! environment's proxy variables, the PAC file, or direct), followed link by link: DNS, TCP,
//! proxy CONNECT, TLS (and whether its chain ends at a public root), HTTP. The finding names
//! the route and the first link that broke.

use super::context::{CheckContext, EndpointTrust, Inputs};
use super::revocation::{RevocationKind, RevocationUrl};
use super::route::{explicit_route, route_from_pac, Hop, Route};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::duration::{format_duration, TextDuration};
use crate::endpoints::{EndpointDef, EndpointProtocol, TlsInspection};
use crate::model::{Reach, Status};
use crate::probe::inspection::{judge as inspect, Inspection};
use crate::probe::portal::{exchange, exchange_with_body, Phase, PortalError};
use crate::probe::proxy::{connect_tunnel, http_get, ConnectAnswer};
use crate::probe::resolve::{resolve, Resolved};
use crate::probe::tcp::{connect, millis};
use crate::probe::tls::{CertificateProblem, TlsEvidence};
use crate::secret::Secret;
use crate::wire::url::{ProxyServer, WebUrl};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub const SPEC: KindSpec = KindSpec {
    name: "endpoint",
    fan_out: FanOut::Endpoint,
    needs: &[Fact::ProxyRoute],
    can_provide: &[],
    needs_password: false,
    summary: "an internet endpoint along the device's route: DNS, TCP, proxy CONNECT, TLS, HTTP",
};

/// Basic proxy credentials when the proxy URL carries none (only sent after a 407).
pub const PROXY_USER_ENV: &str = "JOINREADY_PROXY_USER";
pub const PROXY_PASSWORD_ENV: &str = "JOINREADY_PROXY_PASSWORD";

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A time server's answer this far off this device's clock is a warning.
    #[serde(default = "default_clock_warn_at")]
    pub clock_warn_at: TextDuration,
    /// Every `[[endpoint]]` entry the catalog loaded, filled in by the catalog so the runner
    /// can fan out over the profile's sets.
    #[serde(skip)]
    #[schemars(skip)]
    pub endpoints: Vec<EndpointDef>,
}

fn default_clock_warn_at() -> TextDuration {
    TextDuration(Duration::from_secs(120))
}

/// The links of a route, named where one broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// No route this tool can follow.
    Route,
    /// The PAC script fails for this URL.
    Pac,
    Dns,
    Tcp,
    ProxyDns,
    ProxyTcp,
    ProxyAuth,
    ProxyConnect,
    Tls,
    TlsInspection,
    Http,
    /// The answer is not the one the endpoint gives (`expect_body`): a captive portal or a
    /// proxy's block page answered instead.
    Content,
    Ntp,
}

/// The route, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RouteEvidence {
    pub source: String,
    pub pac_result: Option<String>,
    pub hops: Vec<String>,
    pub skipped: Vec<String>,
}

/// What following one hop showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HopEvidence {
    pub resolved: Option<Resolved>,
    pub address: Option<SocketAddr>,
    pub connect_ms: Option<f64>,
    pub proxy_address: Option<SocketAddr>,
    pub proxy_connect_ms: Option<f64>,
    /// How the endpoint's (or the proxy's) transport answered.
    pub reach: Option<Reach>,
    /// The proxy's answer to CONNECT, or to a plain HTTP request.
    pub connect: Option<ConnectAnswer>,
    pub http: Option<HttpStatus>,
    pub tls: Option<TlsEvidence>,
    pub tls_version: Option<String>,
    pub tls_ms: Option<f64>,
    /// The phase that failed, and its error.
    pub phase: Option<Phase>,
    pub error: Option<String>,
    /// The start of the body, when the endpoint's body is checked (`expect_body`).
    pub body: Option<String>,
}

/// The final HTTP answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HttpStatus {
    pub status: u16,
    pub status_line: String,
    pub total_ms: f64,
}

/// One hop tried, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub hop: String,
    /// The link that broke; None when the endpoint was reached this way.
    pub broken_link: Option<Link>,
    pub error: Option<String>,
    pub evidence: Option<HopEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "EndpointEvidence")]
pub struct Evidence {
    pub endpoint: EndpointDef,
    pub url: String,
    pub route: Option<RouteEvidence>,
    /// The PAC file that decided (or failed to decide) the route.
    pub pac: Option<String>,
    pub tried: Vec<Attempt>,
    /// The last hop tried, in detail.
    #[serde(flatten)]
    pub hop: HopEvidence,
    /// Where the chain of the endpoint's certificate ends.
    pub inspection: Option<Inspection>,
    /// Basic proxy credentials were needed (and worked).
    pub authenticated: bool,
    /// The first link that broke on the last hop tried (or, on a route followed to its end,
    /// `tls_inspection` or `proxy_auth`), and what broke.
    pub broken_link: Option<Link>,
    pub broken: Option<String>,
    /// A time server's answer.
    pub ntp: Option<super::ntp::NtpAnswer>,
    /// The chain's CRL and OCSP URLs, each reached over HTTP along the same hop.
    #[serde(default)]
    pub revocation: Vec<RevocationCheck>,
}

/// One revocation URL of the endpoint's chain, reached along the endpoint's hop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RevocationCheck {
    pub kind: RevocationKind,
    pub url: String,
    /// The certificate that names it.
    pub named_by: String,
    /// The HTTP status it answered, when it answered.
    pub status: Option<u16>,
    /// The first link that broke on the way, and what broke.
    pub broken_link: Option<Link>,
    pub error: Option<String>,
}

/// Where the route ended and why: the first broken link.
#[derive(Debug)]
struct Broken {
    link: Link,
    finding: String,
    evidence: HopEvidence,
    /// The proxy could not be connected to: the next hop may be tried.
    failover: bool,
}

/// A completed request and what it showed.
struct Reached {
    evidence: HopEvidence,
    inspection: Option<Inspection>,
    authenticated: bool,
    /// The revocation URLs the chain names (HTTPS only).
    revocation: Vec<RevocationUrl>,
    /// The response body, when the caller asked for it (HTTPS only).
    body: Option<Vec<u8>>,
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

/// "host (ip)", or the address alone when the host is that address.
fn named(host: &str, ip: std::net::IpAddr) -> String {
    if host == ip.to_string() {
        host.to_string()
    } else {
        format!("{host} ({ip})")
    }
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
            link: Link::ProxyDns,
            finding: format!("the proxy's name does not resolve: {error}"),
            evidence: HopEvidence {
                reach: Some(Reach::Unreachable),
                error: Some(error.to_string()),
                ..HopEvidence::default()
            },
            failover: true,
        })?;
    let Some(ip) = resolved.first() else {
        return Err(Broken {
            link: Link::ProxyDns,
            finding: format!("the proxy's name {} resolved to no address", proxy.host),
            evidence: HopEvidence {
                resolved: Some(resolved),
                reach: Some(Reach::Unreachable),
                ..HopEvidence::default()
            },
            failover: true,
        });
    };
    let address = SocketAddr::new(ip, proxy.port);
    match connect(address, budget).await {
        Ok((stream, connected)) => Ok((stream, address, connected.connect_ms)),
        Err(error) => Err(Broken {
            link: Link::ProxyTcp,
            finding: format!(
                "the proxy does not accept connections: TCP {} {error}",
                proxy.port
            ),
            evidence: HopEvidence {
                proxy_address: Some(address),
                reach: Some(super::tcp::reach_of(&error)),
                error: Some(error.to_string()),
                ..HopEvidence::default()
            },
            failover: true,
        }),
    }
}

fn portal_broken(error: PortalError, host: &str, mut evidence: HopEvidence) -> Broken {
    let tls = match &error {
        PortalError::Tls { evidence, .. } => evidence.as_deref().cloned(),
        _ => None,
    };
    let (link, finding) = match (&error, &tls) {
        (_, Some(tls)) if tls.problem == Some(CertificateProblem::UntrustedIssuer) => (
            Link::Tls,
            format!(
                "the certificate for {host} is issued by {}, which is neither a public root nor trusted here: TLS inspection re-signing the site, or a wrong certificate",
                tls.chain.first().map_or("?", |leaf| leaf.issuer.as_str())
            ),
        ),
        (_, Some(tls)) if tls.problem == Some(CertificateProblem::NameMismatch) => (
            Link::Tls,
            format!(
                "the certificate is for {} but the endpoint is {host}",
                tls.chain
                    .first()
                    .map(|leaf| leaf.subject_alt_names.join(", "))
                    .unwrap_or_default()
            ),
        ),
        (_, Some(tls)) if tls.problem.is_some() => (Link::Tls, tls.summary()),
        (PortalError::Tls { .. } | PortalError::Trust(_), _) => (Link::Tls, error.to_string()),
        (PortalError::Silent { phase, .. } | PortalError::Io { phase, .. }, _)
            if *phase == Phase::Tls =>
        {
            (Link::Tls, error.to_string())
        }
        _ => (Link::Http, error.to_string()),
    };
    evidence.phase = Some(error.phase());
    evidence.error = Some(error.to_string());
    evidence.tls = tls;
    Broken {
        link,
        finding,
        evidence,
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
    body_limit: Option<usize>,
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
    let mut evidence = HopEvidence::default();
    // A checked body (`expect_body`) is read even when the caller did not ask for one.
    let body_limit = body_limit.or(endpoint.expect_body.as_ref().map(|_| BODY_LIMIT));
    let reached_http = |evidence: HopEvidence, answer: &ConnectAnswer| Reached {
        revocation: Vec::new(),
        evidence: HopEvidence {
            http: Some(HttpStatus {
                status: answer.status,
                status_line: answer.status_line.clone(),
                total_ms: millis(started.elapsed()),
            }),
            ..evidence
        },
        inspection: None,
        authenticated: answer.authenticated,
        body: None,
    };
    let (mut stream, authenticated) = match hop {
        Hop::Direct => {
            let resolved = resolve(&endpoint.host, &context.dns_servers, deadline)
                .await
                .map_err(|error| Broken {
                    link: Link::Dns,
                    finding: format!("{error}"),
                    evidence: HopEvidence {
                        reach: Some(Reach::Unreachable),
                        error: Some(error.to_string()),
                        ..HopEvidence::default()
                    },
                    failover: false,
                })?;
            let Some(ip) = resolved.first() else {
                return Err(Broken {
                    link: Link::Dns,
                    finding: format!("{} resolved to no address", endpoint.host),
                    evidence: HopEvidence {
                        resolved: Some(resolved),
                        reach: Some(Reach::Unreachable),
                        ..HopEvidence::default()
                    },
                    failover: false,
                });
            };
            let address = SocketAddr::new(ip, endpoint.port);
            evidence.resolved = Some(resolved);
            let connected = connect(address, deadline).await;
            let (stream, connected) = match connected {
                Ok(found) => found,
                Err(error) => {
                    evidence.address = Some(address);
                    evidence.reach = Some(super::tcp::reach_of(&error));
                    evidence.error = Some(error.to_string());
                    return Err(Broken {
                        link: Link::Tcp,
                        finding: format!(
                            "TCP {} on {} {error}",
                            endpoint.port,
                            named(&endpoint.host, ip)
                        ),
                        evidence,
                        failover: false,
                    });
                }
            };
            evidence.address = Some(address);
            evidence.connect_ms = Some(connected.connect_ms);
            evidence.reach = Some(Reach::Open);
            if !https {
                let mut stream = stream;
                let (answer, body) =
                    match http_get(&mut stream, &url, false, None, body_limit, deadline).await {
                        Ok(answered) => answered,
                        Err(e) => return Err(portal_broken(e, &endpoint.host, evidence)),
                    };
                if let Some(finding) = content(endpoint, &answer, &body, &mut evidence) {
                    return Err(content_broken(finding, evidence));
                }
                let reached = reached_http(evidence, &answer);
                return Ok(Reached {
                    authenticated: false,
                    ..reached
                });
            }
            (stream, false)
        }
        Hop::Proxy(proxy) => {
            let (mut stream, address, connect_ms) =
                open_proxy(proxy, context, deadline, last).await?;
            evidence.proxy_address = Some(address);
            evidence.proxy_connect_ms = Some(connect_ms);
            evidence.reach = Some(Reach::Open);
            if !https {
                let answer =
                    match http_get(&mut stream, &url, true, None, body_limit, deadline).await {
                        Ok(answered) => answered,
                        Err(e) => return Err(portal_broken(e, &endpoint.host, evidence)),
                    };
                let (answer, body) = match (answer.0.status, credentials(proxy)) {
                    (407, Some((user, password)))
                        if answer
                            .0
                            .auth_schemes
                            .iter()
                            .any(|s| s.eq_ignore_ascii_case("basic")) =>
                    {
                        let (mut again, _, _) = open_proxy(proxy, context, deadline, true).await?;
                        match http_get(
                            &mut again,
                            &url,
                            true,
                            Some((&user, &password)),
                            body_limit,
                            deadline,
                        )
                        .await
                        {
                            Ok(answered) => answered,
                            Err(e) => return Err(portal_broken(e, &endpoint.host, evidence)),
                        }
                    }
                    _ => answer,
                };
                evidence.connect = Some(answer.clone());
                if let Some((link, finding)) = proxy_refusal(&answer, endpoint) {
                    return Err(Broken {
                        link,
                        finding,
                        evidence,
                        failover: false,
                    });
                }
                if let Some(finding) = content(endpoint, &answer, &body, &mut evidence) {
                    return Err(content_broken(finding, evidence));
                }
                return Ok(reached_http(evidence, &answer));
            }
            let no_answer = |e: PortalError, evidence: &HopEvidence| Broken {
                link: Link::ProxyConnect,
                finding: format!("the proxy did not answer CONNECT: {e}"),
                evidence: HopEvidence {
                    phase: Some(e.phase()),
                    error: Some(e.to_string()),
                    ..evidence.clone()
                },
                failover: false,
            };
            let mut answer =
                match connect_tunnel(&mut stream, &endpoint.host, endpoint.port, None, deadline)
                    .await
                {
                    Ok(answer) => answer,
                    Err(e) => return Err(no_answer(e, &evidence)),
                };
            if answer.status == 407 {
                if let Some((user, password)) = credentials(proxy).filter(|_| {
                    answer
                        .auth_schemes
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case("basic"))
                }) {
                    let (again, _, _) = open_proxy(proxy, context, deadline, true).await?;
                    stream = again;
                    answer = match connect_tunnel(
                        &mut stream,
                        &endpoint.host,
                        endpoint.port,
                        Some((&user, &password)),
                        deadline,
                    )
                    .await
                    {
                        Ok(answer) => answer,
                        Err(e) => return Err(no_answer(e, &evidence)),
                    };
                }
            }
            evidence.connect = Some(answer.clone());
            if let Some((link, finding)) = proxy_refusal(&answer, endpoint) {
                return Err(Broken {
                    link,
                    finding,
                    evidence,
                    failover: false,
                });
            }
            (stream, answer.authenticated)
        }
    };
    let exchanged = match body_limit {
        None => exchange(
            &mut stream,
            &endpoint.host,
            endpoint.port,
            &endpoint.path,
            &trust.trust,
            deadline,
        )
        .await
        .map(|exchanged| (exchanged, None)),
        Some(limit) => exchange_with_body(
            &mut stream,
            &endpoint.host,
            endpoint.port,
            &endpoint.path,
            &trust.trust,
            limit,
            deadline,
        )
        .await
        .map(|(exchanged, body)| (exchanged, Some(body))),
    };
    let (exchanged, body) = match exchanged {
        Ok(exchanged) => exchanged,
        Err(e) => return Err(portal_broken(e, &endpoint.host, evidence)),
    };
    // Only the profile's own endpoints may end at its CA; Microsoft's must end at a public root.
    let profile_roots = trust
        .profile
        .as_ref()
        .filter(|_| endpoint.sets.iter().any(|s| s == "extra"));
    let inspection = inspect(
        &trust.public,
        profile_roots,
        &exchanged.chain,
        &endpoint.host,
    );
    evidence.tls = exchanged.tls.clone();
    evidence.tls_version = exchanged.tls_version.clone();
    evidence.tls_ms = Some(exchanged.tls_ms);
    evidence.http = Some(HttpStatus {
        status: exchanged.head.status,
        status_line: exchanged.head.status_line.clone(),
        total_ms: millis(started.elapsed()),
    });
    Ok(Reached {
        revocation: super::revocation::urls(&exchanged.chain),
        evidence,
        inspection: Some(inspection),
        authenticated,
        body,
    })
}

/// At most this much of a checked body is read: the connectivity test's is 22 bytes, a captive
/// portal's login page a few KiB.
const BODY_LIMIT: usize = 64 * 1024;
/// How much of an unexpected body the evidence keeps.
const BODY_SHOWN: usize = 120;

/// Checks the body against `expect_body`: anything else answered in the endpoint's place.
fn content(
    endpoint: &EndpointDef,
    answer: &ConnectAnswer,
    body: &[u8],
    evidence: &mut HopEvidence,
) -> Option<String> {
    let expected = endpoint.expect_body.as_ref()?;
    let text = String::from_utf8_lossy(body);
    let shown: String = text.trim().chars().take(BODY_SHOWN).collect();
    evidence.body = Some(shown.clone());
    if answer.status == 200 && text.trim() == expected.trim() {
        return None;
    }
    let got = if shown.is_empty() {
        "an empty body".to_string()
    } else {
        format!("{shown:?}")
    };
    Some(format!(
        "{} answers {} with {got}, not {:?}: a captive portal or a proxy's block page answers in its place, and Windows then believes it is offline ({})",
        endpoint.host,
        answer.status_line,
        expected.trim(),
        endpoint.purpose
    ))
}

/// The route ends at a checked body that is not the endpoint's.
fn content_broken(finding: String, evidence: HopEvidence) -> Broken {
    Broken {
        link: Link::Content,
        finding,
        evidence,
        failover: false,
    }
}

/// A proxy's answer that ends the route: 407 without working credentials, 403, 5xx.
fn proxy_refusal(answer: &ConnectAnswer, endpoint: &EndpointDef) -> Option<(Link, String)> {
    let target = format!("{}:{}", endpoint.host, endpoint.port);
    Some(match answer.status {
        200..=299 => return None,
        // Plain HTTP through a proxy: the origin's own statuses pass through.
        status
            if endpoint.protocol == EndpointProtocol::Http
                && !matches!(status, 403 | 407 | 502..=504) =>
        {
            return None
        }
        407 if answer.authenticated => (
            Link::ProxyAuth,
            format!(
                "{} answers 407 ({}) even with the Basic credentials given: they are wrong, and device registration runs as SYSTEM and cannot authenticate anyway",
                endpoint.host,
                schemes_text(&answer.auth_schemes)
            ),
        ),
        407 => (
            Link::ProxyAuth,
            format!(
                "{} answers 407 ({}): device registration runs as SYSTEM and cannot authenticate",
                endpoint.host,
                schemes_text(&answer.auth_schemes)
            ),
        ),
        403 => (
            Link::ProxyConnect,
            format!("the proxy refuses {target}: {}", answer.status_line),
        ),
        502..=504 => (
            Link::ProxyConnect,
            format!("the proxy cannot reach {target}: {}", answer.status_line),
        ),
        _ => (
            Link::ProxyConnect,
            format!("the proxy answers CONNECT {target} with {}", answer.status_line),
        ),
    })
}

pub(crate) fn new_evidence(endpoint: &EndpointDef) -> Evidence {
    Evidence {
        endpoint: endpoint.clone(),
        url: endpoint.url(),
        route: None,
        pac: None,
        tried: Vec::new(),
        hop: HopEvidence::default(),
        inspection: None,
        authenticated: false,
        broken_link: None,
        broken: None,
        ntp: None,
        revocation: Vec::new(),
    }
}

/// Reaches each revocation URL over plain HTTP along `hop`, all at once, within part of the
/// time left: the endpoint's own answer must not be lost to a silent CRL host.
async fn reach_revocation(
    urls: &[RevocationUrl],
    hop: &Hop,
    context: &CheckContext,
    trust: &EndpointTrust,
    deadline: Instant,
) -> Vec<RevocationCheck> {
    let budget = Instant::now() + remaining(deadline) * 3 / 4;
    let checks = urls.iter().map(|found| async move {
        let mut check = RevocationCheck {
            kind: found.kind,
            url: found.url.clone(),
            named_by: found.named_by.clone(),
            status: None,
            broken_link: None,
            error: None,
        };
        let url = match crate::wire::url::parse_web_url(&found.url) {
            Ok(url) => url,
            Err(error) => {
                check.broken_link = Some(Link::Route);
                check.error = Some(error);
                return check;
            }
        };
        let def = EndpointDef {
            host: url.host,
            port: url.port,
            protocol: EndpointProtocol::Http,
            path: url.path,
            sets: Vec::new(),
            purpose: format!("{} of a certificate", found.kind.as_str()),
            source: found.named_by.clone(),
            tls_inspection: TlsInspection::Allowed,
            wildcard: None,
            optional: true,
            expect_body: None,
        };
        match web_hop(&def, hop, true, context, trust, None, budget).await {
            Ok(reached) => check.status = reached.evidence.http.map(|h| h.status),
            Err(broken) => {
                check.broken_link = Some(broken.link);
                check.error = Some(broken.finding);
            }
        }
        check
    });
    futures::future::join_all(checks).await
}

/// What is wrong with the revocation URLs, if anything: one that did not answer, or a CRL
/// that is not there (an OCSP responder answers a bare GET with any status).
fn revocation_problems(evidence: &Evidence) -> Vec<String> {
    evidence
        .revocation
        .iter()
        .filter_map(|check| match (check.status, &check.error) {
            (_, Some(error)) => Some(format!("{} {}: {error}", check.kind.as_str(), check.url)),
            (Some(status), None) if check.kind == RevocationKind::Crl && status != 200 => {
                Some(format!(
                    "{} {} answers HTTP {status}",
                    check.kind.as_str(),
                    check.url
                ))
            }
            _ => None,
        })
        .collect()
}

pub async fn observe(
    _params: &Params,
    endpoint: &EndpointDef,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    if endpoint.protocol == EndpointProtocol::Ntp {
        let mut evidence = new_evidence(endpoint);
        ntp(endpoint, context, deadline, &mut evidence).await;
        return Ok(evidence);
    }
    follow(endpoint, inputs, context, None, true, deadline)
        .await
        .map(|(evidence, _)| evidence)
}

/// Follows the device's route to an HTTP(S) `endpoint` as `observe` does and, with
/// `body_limit`, reads the HTTPS answer's body too: the one HTTP path for every check that
/// asks an internet service something (the tenant checks read discovery documents this way).
/// `with_revocation` also reaches the chain's CRL and OCSP URLs: `endpoints.reach` judges
/// them; the tenant checks ask the same hosts and would only fetch them again.
pub async fn follow(
    endpoint: &EndpointDef,
    inputs: &Inputs,
    context: &CheckContext,
    body_limit: Option<usize>,
    with_revocation: bool,
    deadline: Instant,
) -> Result<(Evidence, Option<Vec<u8>>), NotObserved> {
    let mut evidence = new_evidence(endpoint);
    let env = |name: &str| std::env::var(name).ok();
    let route = match explicit_route(endpoint, context.settings.proxy.url.as_ref(), &env) {
        Ok(Some(route)) => route,
        Ok(None) => match route_from_pac(endpoint, &inputs.proxy, context, deadline).await {
            Ok(route) => route,
            Err(failure) => {
                evidence.pac = Some(failure.pac);
                evidence.broken_link = Some(Link::Pac);
                evidence.broken = Some(failure.message);
                return Ok((evidence, None));
            }
        },
        Err(message) => {
            return Err(NotObserved::Error(format!(
                "{message}: fix the variable or unset it (joinready reads it as Windows' WinHTTP would read `netsh winhttp` settings)"
            )))
        }
    };
    let trust = context.endpoint_trust().await.map_err(NotObserved::Error)?;
    evidence.route = Some(route_evidence(&route));
    if route.hops.is_empty() {
        evidence.broken_link = Some(Link::Route);
        evidence.broken = Some(format!(
            "{} names no route this tool can follow ({})",
            route.pac_result.as_deref().unwrap_or("the route"),
            route.skipped.join("; ")
        ));
        return Ok((evidence, None));
    }
    let count = route.hops.len();
    for (i, hop) in route.hops.iter().enumerate() {
        let last = i + 1 == count;
        match web_hop(endpoint, hop, last, context, trust, body_limit, deadline).await {
            Ok(reached) => {
                evidence.tried.push(Attempt {
                    hop: hop.to_string(),
                    broken_link: None,
                    error: None,
                    evidence: None,
                });
                evidence.hop = reached.evidence;
                evidence.authenticated = reached.authenticated;
                // A route followed to its end can still be wrong: inspected, or only with
                // credentials SYSTEM does not have.
                evidence.broken_link = if reached
                    .inspection
                    .as_ref()
                    .is_some_and(Inspection::inspected)
                {
                    Some(Link::TlsInspection)
                } else if reached.authenticated {
                    Some(Link::ProxyAuth)
                } else {
                    None
                };
                evidence.inspection = reached.inspection;
                if with_revocation {
                    evidence.revocation =
                        reach_revocation(&reached.revocation, hop, context, trust, deadline).await;
                }
                return Ok((evidence, reached.body));
            }
            Err(broken) => {
                evidence.tried.push(Attempt {
                    hop: hop.to_string(),
                    broken_link: Some(broken.link),
                    error: Some(broken.finding.clone()),
                    evidence: Some(broken.evidence.clone()),
                });
                evidence.hop = broken.evidence;
                evidence.broken_link = Some(broken.link);
                evidence.broken = Some(broken.finding);
                if !broken.failover || remaining(deadline).is_zero() {
                    break;
                }
            }
        }
    }
    Ok((evidence, None))
}

fn route_evidence(route: &Route) -> RouteEvidence {
    RouteEvidence {
        source: route.source.clone(),
        pac_result: route.pac_result.clone(),
        hops: route.hops.iter().map(ToString::to_string).collect(),
        skipped: route.skipped.clone(),
    }
}

/// "via proxy 10.77.0.30:3128 (HTTPS_PROXY)" or "PAC … says PROXY p:3128; DIRECT for this
/// URL; via proxy …".
fn route_head(hop: &str, route: &RouteEvidence) -> String {
    match &route.pac_result {
        Some(result) => format!("{} says {result} for this URL; {hop}", route.source),
        None => format!("{hop} ({})", route.source),
    }
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let judgement = judge_route(params, evidence);
    let problems = revocation_problems(evidence);
    if problems.is_empty() || judgement.status == Status::Fail {
        return judgement;
    }
    // The endpoint answers, but Windows cannot check its certificate is not revoked: it may
    // wait for the fetch to time out or refuse the chain. A warning, not a failure.
    Judgement {
        remedy: Some(format!(
            "Allow plain HTTP to the revocation hosts the finding names, along the same route as {} (proxy or firewall): Windows fetches CRLs and asks OCSP responders while it validates the certificate, as SYSTEM during OOBE.",
            evidence.endpoint.host
        )),
        ..Judgement::warn(format!(
            "{}; but its certificate's revocation list cannot be checked along the same route: {}",
            judgement.finding,
            problems.join("; ")
        ))
    }
}

fn judge_route(params: &Params, evidence: &Evidence) -> Judgement {
    let endpoint = &evidence.endpoint;
    if endpoint.protocol == EndpointProtocol::Ntp {
        return judge_ntp(params, evidence);
    }
    let broken = evidence.broken.as_deref().unwrap_or_default();
    let Some(route) = &evidence.route else {
        // The PAC failed before any route existed.
        return Judgement::fail(broken);
    };
    let hop = evidence
        .tried
        .last()
        .map(|attempt| attempt.hop.as_str())
        .unwrap_or_default();
    if let (Some(link), Some(_)) = (evidence.broken_link, &evidence.broken) {
        if link == Link::Route {
            return Judgement::fail(format!("{}: {broken}", route.source));
        }
        let earlier = if evidence.tried.len() > 1 {
            format!(" (after {} earlier hops failed)", evidence.tried.len() - 1)
        } else {
            String::new()
        };
        let finding = format!("{}{earlier}: {broken}", route_head(hop, route));
        return Judgement::fail(
            if link == Link::Tls && endpoint.tls_inspection == TlsInspection::Forbidden {
                format!("{finding}; {} forbids TLS inspection", endpoint.host)
            } else {
                finding
            },
        );
    }
    let head = route_head(hop, route);
    let certificate = match (&evidence.hop.tls, &evidence.inspection) {
        (Some(_), Some(found)) if found.profile_root => format!(
            "; {}, chain ends at {}, a root of the profile's [endpoints] ca_file (trusted for its own endpoints)",
            evidence.hop.tls_version.as_deref().unwrap_or("TLS"),
            found.ends_at
        ),
        (Some(_), Some(found)) => format!(
            "; {}, chain ends at {}",
            evidence.hop.tls_version.as_deref().unwrap_or("TLS"),
            found.ends_at
        ),
        _ => String::new(),
    };
    let (status_line, total_ms) = evidence
        .hop
        .http
        .as_ref()
        .map(|http| (http.status_line.as_str(), http.total_ms))
        .unwrap_or_default();
    let summary = format!(
        "{head}: {} answers {status_line} in {total_ms:.0} ms{certificate}",
        endpoint.host
    );
    if let Some(found) = evidence.inspection.as_ref().filter(|i| i.inspected()) {
        let said = format!(
            "{head}: TLS inspection: the certificate chain for {} ends at {}, not a public root",
            endpoint.host, found.ends_at
        );
        return match endpoint.tls_inspection {
            TlsInspection::Forbidden => Judgement::fail(format!(
                "{said}; {} forbids inspection ({})",
                endpoint.host, endpoint.purpose
            )),
            TlsInspection::Allowed => Judgement::warn(format!(
                "{said} (tolerated here, but exclude Microsoft endpoints from inspection)"
            )),
        };
    }
    if evidence.authenticated {
        return Judgement::warn(format!(
            "{summary}, but only with Basic proxy credentials: device registration runs as SYSTEM and cannot authenticate; exempt {} from proxy authentication",
            endpoint.host
        ));
    }
    Judgement::pass(summary)
}

/// SNTP to the endpoint on UDP (never through a proxy): the answer and the clock offset.
async fn ntp(
    endpoint: &EndpointDef,
    context: &CheckContext,
    deadline: Instant,
    evidence: &mut Evidence,
) {
    let resolved = match resolve(&endpoint.host, &context.dns_servers, deadline).await {
        Ok(resolved) => resolved,
        Err(error) => {
            evidence.broken_link = Some(Link::Dns);
            evidence.broken = Some(error.to_string());
            return;
        }
    };
    let Some(ip) = resolved.first() else {
        evidence.broken_link = Some(Link::Dns);
        evidence.broken = Some(format!("{} resolved to no address", endpoint.host));
        evidence.hop.resolved = Some(resolved);
        return;
    };
    let address = SocketAddr::new(ip, endpoint.port);
    evidence.hop.resolved = Some(resolved);
    evidence.hop.address = Some(address);
    match context.probes.ntp(address, deadline).await {
        Ok((answer, _)) => {
            evidence.hop.reach = Some(Reach::Open);
            evidence.ntp = Some(super::ntp::answer_of(&answer));
        }
        Err((reach, error)) => {
            evidence.hop.reach = Some(reach);
            evidence.hop.error = Some(error.clone());
            evidence.broken_link = Some(Link::Ntp);
            evidence.broken = Some(format!("{} ({ip}): {error}", endpoint.host));
        }
    }
}

fn judge_ntp(params: &Params, evidence: &Evidence) -> Judgement {
    let broken = evidence.broken.as_deref().unwrap_or_default();
    let (Some(answer), Some(address)) = (&evidence.ntp, evidence.hop.address) else {
        return Judgement::fail(format!("direct (NTP): {broken}"));
    };
    let finding = format!(
        "direct (NTP): {} answers, stratum {}, this device's clock is off by {:.0} ms",
        named(&evidence.endpoint.host, address.ip()),
        answer.stratum,
        answer.offset_ms
    );
    if !answer.synchronized {
        return Judgement::warn(format!(
            "{finding}, but its own clock is not synchronized (stratum {}): Windows does not take time from it",
            answer.stratum
        ));
    }
    if answer.offset_ms.abs() >= params.clock_warn_at.0.as_secs_f64() * 1_000.0 {
        Judgement::warn(format!(
            "{finding}: correct the clock (over {})",
            format_duration(params.clock_warn_at.0)
        ))
    } else {
        Judgement::pass(finding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_test() -> EndpointDef {
        crate::catalog::builtin_endpoints()
            .into_iter()
            .find(|e| e.host == "www.msftconnecttest.com")
            .expect("the catalog lists the connectivity test")
    }

    fn answer(status: u16) -> ConnectAnswer {
        ConnectAnswer {
            status,
            status_line: format!("HTTP/1.1 {status} X"),
            auth_schemes: Vec::new(),
            authenticated: false,
            ms: 1.0,
        }
    }

    #[test]
    fn the_connectivity_test_passes_only_with_its_exact_body() {
        let endpoint = connect_test();
        assert_eq!(
            endpoint.expect_body.as_deref(),
            Some("Microsoft Connect Test")
        );
        let mut good = HopEvidence::default();
        assert_eq!(
            content(
                &endpoint,
                &answer(200),
                b"Microsoft Connect Test\n",
                &mut good
            ),
            None
        );
        assert_eq!(good.body.as_deref(), Some("Microsoft Connect Test"));
        let page = b"<html><title>Hotel Wi-Fi: please log in</title></html>";
        let portal = content(&endpoint, &answer(200), page, &mut HopEvidence::default()).unwrap();
        assert!(
            portal.starts_with("www.msftconnecttest.com answers HTTP/1.1 200 X with \"<html><title>Hotel Wi-Fi: please log in</title></html>\", not \"Microsoft Connect Test\": a captive portal"),
            "{portal}"
        );
        let empty = content(&endpoint, &answer(204), b"", &mut HopEvidence::default()).unwrap();
        assert!(empty.contains("with an empty body"), "{empty}");
        // An endpoint without expect_body is never read for its body.
        let mut plain = endpoint.clone();
        plain.expect_body = None;
        let mut evidence = HopEvidence::default();
        assert_eq!(
            content(&plain, &answer(200), b"anything", &mut evidence),
            None
        );
        assert!(evidence.body.is_none());
    }
}
