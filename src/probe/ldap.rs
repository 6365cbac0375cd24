//! LDAP probe: anonymous rootDSE read and the bind the profile asks for, over plain LDAP,
//! StartTLS or LDAPS, with the DC's certificate as evidence.

use crate::probe::tcp::{connect, millis, ConnectError};
use crate::probe::tls::{TlsEvidence, Trust, TrustError};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, StdStream};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The rootDSE attributes joinready reports.
const ROOTDSE_ATTRIBUTES: &[&str] = &[
    "defaultNamingContext",
    "configurationNamingContext",
    "rootDomainNamingContext",
    "dnsHostName",
    "serverName",
    "currentTime",
    "supportedSASLMechanisms",
    "supportedLDAPVersion",
    "domainFunctionality",
    "forestFunctionality",
    "domainControllerFunctionality",
    "isSynchronized",
    "isGlobalCatalogReady",
];

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("TCP {port} {source}")]
    Connect { port: u16, source: ConnectError },
    #[error(
        "TCP {port} accepted the connection but no LDAP answer came within {} ({phase})", crate::duration::Human(*.waited)
    )]
    Silent {
        port: u16,
        waited: Duration,
        phase: Phase,
    },
    #[error("TLS failed: {0}")]
    Tls(String, Option<TlsEvidence>),
    #[error("the server answered resultCode {code} to the {phase}: {message}")]
    Result {
        code: u32,
        message: String,
        phase: Phase,
    },
    #[error("LDAP error during {phase}: {message}")]
    Protocol { phase: Phase, message: String },
    #[error("{0}")]
    Trust(#[from] TrustError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Connect,
    Tls,
    Bind,
    Search,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Tls => "TLS handshake",
            Phase::Bind => "bind",
            Phase::Search => "search",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RootDse {
    pub address: SocketAddr,
    pub connect_ms: f64,
    pub answer_ms: f64,
    /// Attribute name → values, as the DC returned them.
    pub attributes: HashMap<String, Vec<String>>,
}

impl RootDse {
    pub fn first(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

/// How the bind travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Plain,
    StartTls,
    Ldaps,
}

pub struct BindRequest<'a> {
    pub address: SocketAddr,
    /// The name TLS verifies: the DC's DNS name.
    pub hostname: &'a str,
    pub transport: Transport,
    /// None: anonymous.
    pub credentials: Option<(&'a str, &'a str)>,
    pub trust: &'a Trust,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BindEvidence {
    pub address: SocketAddr,
    pub transport: Transport,
    pub user: Option<String>,
    pub tls: Option<TlsEvidence>,
    pub bind_ms: f64,
}

fn ldap_failure(error: ldap3::LdapError, phase: Phase, port: u16, waited: Duration) -> LdapError {
    match error {
        ldap3::LdapError::Timeout { .. } => LdapError::Silent {
            port,
            waited,
            phase,
        },
        other => LdapError::Protocol {
            phase,
            message: other.to_string(),
        },
    }
}

/// Connects ourselves so that refused, silent and tarpit are told apart, then hands the socket
/// to ldap3.
async fn open(
    address: SocketAddr,
    url: &str,
    settings: LdapConnSettings,
    deadline: Instant,
) -> Result<(ldap3::Ldap, f64), LdapError> {
    let port = address.port();
    let (stream, connected) = connect(address, deadline)
        .await
        .map_err(|source| LdapError::Connect { port, source })?;
    let std_stream = stream.into_std().map_err(|e| LdapError::Protocol {
        phase: Phase::Connect,
        message: e.to_string(),
    })?;
    let remaining = deadline.saturating_duration_since(Instant::now());
    let settings = settings.set_std_stream(StdStream::Tcp(std_stream));
    let opened = tokio::time::timeout(remaining, LdapConnAsync::with_settings(settings, url)).await;
    let (conn, ldap) = match opened {
        Err(_) => {
            return Err(LdapError::Silent {
                port,
                waited: remaining,
                phase: Phase::Tls,
            })
        }
        Ok(Err(error)) => {
            return Err(LdapError::Tls(error.to_string(), None));
        }
        Ok(Ok(pair)) => pair,
    };
    tokio::spawn(async move {
        // The connection driver ends when the Ldap handle is dropped or the peer closes.
        let _ = conn.drive().await;
    });
    Ok((ldap, connected.connect_ms))
}

/// Results a base-scope search may bring (its one entry, a few referrals) before the answer
/// counts as endless.
const MAX_BASE_RESULTS: usize = 16;

/// A base-scope search, bounded as a whole by `deadline` and in the entries it collects:
/// ldap3's own timeout is per message and `search` gathers entries until SearchResultDone, so
/// a server streaming entries without end would hold the check to its timeout and fill memory.
async fn search_base(
    ldap: &mut ldap3::Ldap,
    dn: &str,
    attributes: &[&str],
    port: u16,
    deadline: Instant,
) -> Result<ldap3::SearchResult, LdapError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let end = tokio::time::Instant::from_std(deadline);
    let silent = || LdapError::Silent {
        port,
        waited: remaining,
        phase: Phase::Search,
    };
    let mut stream = tokio::time::timeout_at(
        end,
        ldap.with_timeout(remaining).streaming_search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            attributes.to_vec(),
        ),
    )
    .await
    .map_err(|_| silent())?
    .map_err(|e| ldap_failure(e, Phase::Search, port, remaining))?;
    let mut entries = Vec::new();
    for _ in 0..MAX_BASE_RESULTS {
        let next = tokio::time::timeout_at(end, stream.next())
            .await
            .map_err(|_| silent())?
            .map_err(|e| ldap_failure(e, Phase::Search, port, remaining))?;
        match next {
            None => {
                let result = tokio::time::timeout_at(end, stream.finish())
                    .await
                    .map_err(|_| silent())?;
                return Ok(ldap3::SearchResult(entries, result));
            }
            Some(item) if item.is_ref() || item.is_intermediate() => {}
            Some(_) if !entries.is_empty() => {
                return Err(LdapError::Protocol {
                    phase: Phase::Search,
                    message: format!(
                        "the server sent more than one entry for a base-scope search of `{dn}` (a broken or endless result)"
                    ),
                })
            }
            Some(entry) => entries.push(entry),
        }
    }
    Err(LdapError::Protocol {
        phase: Phase::Search,
        message: format!(
            "the server sent more than {MAX_BASE_RESULTS} results for a base-scope search of `{dn}` without ending it"
        ),
    })
}

pub async fn read_rootdse(address: SocketAddr, deadline: Instant) -> Result<RootDse, LdapError> {
    let url = format!("ldap://{address}");
    let (mut ldap, connect_ms) = open(address, &url, LdapConnSettings::new(), deadline).await?;
    let started = Instant::now();
    let remaining = deadline.saturating_duration_since(started);
    let search = search_base(&mut ldap, "", ROOTDSE_ATTRIBUTES, address.port(), deadline).await?;
    let (entries, result) = search.success().map_err(|e| match e {
        ldap3::LdapError::LdapResult { result } => LdapError::Result {
            code: result.rc,
            message: result.text,
            phase: Phase::Search,
        },
        other => ldap_failure(other, Phase::Search, address.port(), remaining),
    })?;
    let _ = result;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| LdapError::Protocol {
            phase: Phase::Search,
            message: "the rootDSE search returned no entry".to_string(),
        })?;
    let attributes = SearchEntry::construct(entry).attrs;
    let answer_ms = millis(started.elapsed());
    let _ = ldap.unbind().await;
    Ok(RootDse {
        address,
        connect_ms,
        answer_ms,
        attributes,
    })
}

/// Binds as `request` says and keeps the session open for further reads.
pub async fn bind_session(
    request: BindRequest<'_>,
    deadline: Instant,
) -> Result<(ldap3::Ldap, BindEvidence), LdapError> {
    let BindRequest {
        address,
        hostname,
        transport,
        credentials,
        trust,
    } = request;
    let (config, verifier) = trust.recording_config()?;
    let (scheme, starttls) = match transport {
        Transport::Plain => ("ldap", false),
        Transport::StartTls => ("ldap", true),
        Transport::Ldaps => ("ldaps", false),
    };
    // TLS verifies the URL's host, so the URL names the DC while the socket goes to its address.
    let url = format!("{scheme}://{hostname}:{}", address.port());
    let settings = LdapConnSettings::new()
        .set_config(config)
        .set_starttls(starttls);
    let started = Instant::now();
    let opened = open(address, &url, settings, deadline).await;
    let tls = (transport != Transport::Plain)
        .then(|| verifier.evidence())
        .flatten();
    let (mut ldap, _) = opened.map_err(|error| match error {
        LdapError::Tls(message, None) => LdapError::Tls(message, tls.clone()),
        other => other,
    })?;
    let remaining = deadline.saturating_duration_since(Instant::now());
    let (user, password) = credentials.unwrap_or(("", ""));
    let result = ldap
        .with_timeout(remaining)
        .simple_bind(user, password)
        .await
        .map_err(|e| ldap_failure(e, Phase::Bind, address.port(), remaining))?;
    if result.rc != 0 {
        let _ = ldap.unbind().await;
        return Err(LdapError::Result {
            code: result.rc,
            message: result.text,
            phase: Phase::Bind,
        });
    }
    Ok((
        ldap,
        BindEvidence {
            address,
            transport,
            user: credentials.map(|(user, _)| user.to_string()),
            tls,
            bind_ms: millis(started.elapsed()),
        },
    ))
}

pub async fn bind(request: BindRequest<'_>, deadline: Instant) -> Result<BindEvidence, LdapError> {
    let (mut ldap, evidence) = bind_session(request, deadline).await?;
    let _ = ldap.unbind().await;
    Ok(evidence)
}

/// Reads one entry by DN (scope base). Ok(None) when the entry does not exist (noSuchObject).
pub async fn read_entry(
    ldap: &mut ldap3::Ldap,
    dn: &str,
    attributes: &[&str],
    port: u16,
    deadline: Instant,
) -> Result<Option<HashMap<String, Vec<String>>>, LdapError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let search = search_base(ldap, dn, attributes, port, deadline).await?;
    // resultCode 32 noSuchObject: the DN names nothing.
    if search.1.rc == 32 {
        return Ok(None);
    }
    let (entries, _) = search.success().map_err(|e| match e {
        ldap3::LdapError::LdapResult { result } => LdapError::Result {
            code: result.rc,
            message: result.text,
            phase: Phase::Search,
        },
        other => ldap_failure(other, Phase::Search, port, remaining),
    })?;
    Ok(entries
        .into_iter()
        .next()
        .map(|entry| SearchEntry::construct(entry).attrs))
}

/// What a bounded search brought back.
#[derive(Debug, Default)]
pub struct Found {
    pub entries: Vec<SearchEntry>,
    /// The server had more entries than the caller's limit; the rest were not read.
    pub truncated: bool,
    /// resultCode 32 noSuchObject: the base names nothing.
    pub no_such_object: bool,
}

/// A search of any scope with request controls, bounded by `deadline` and by `max_entries`
/// (a larger answer is cut, with `truncated` set, and the search abandoned), for reads whose
/// size depends on the directory (accounts, groups, the computers an account created).
#[allow(clippy::too_many_arguments)]
pub async fn search(
    ldap: &mut ldap3::Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attributes: &[&str],
    controls: Vec<ldap3::controls::RawControl>,
    max_entries: usize,
    port: u16,
    deadline: Instant,
) -> Result<Found, LdapError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let end = tokio::time::Instant::from_std(deadline);
    let silent = || LdapError::Silent {
        port,
        waited: remaining,
        phase: Phase::Search,
    };
    let mut stream = tokio::time::timeout_at(
        end,
        ldap.with_controls(controls)
            .with_timeout(remaining)
            .streaming_search(
                base,
                scope,
                filter,
                attributes.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ),
    )
    .await
    .map_err(|_| silent())?
    .map_err(|e| ldap_failure(e, Phase::Search, port, remaining))?;
    let mut found = Found::default();
    // Referrals and intermediate messages count toward the bound too, so it holds whatever
    // the server sends.
    for _ in 0..max_entries.saturating_add(MAX_BASE_RESULTS) {
        let next = tokio::time::timeout_at(end, stream.next())
            .await
            .map_err(|_| silent())?
            .map_err(|e| ldap_failure(e, Phase::Search, port, remaining))?;
        match next {
            None => {
                let result = tokio::time::timeout_at(end, stream.finish())
                    .await
                    .map_err(|_| silent())?;
                match result.rc {
                    0 => {}
                    32 => found.no_such_object = true,
                    // 4 sizeLimitExceeded: the server's own limit; what came is kept.
                    4 => found.truncated = true,
                    code => {
                        return Err(LdapError::Result {
                            code,
                            message: result.text,
                            phase: Phase::Search,
                        })
                    }
                }
                return Ok(found);
            }
            Some(item) if item.is_ref() || item.is_intermediate() => {}
            Some(_) if found.entries.len() >= max_entries => {
                found.truncated = true;
                abandon(&mut stream).await;
                return Ok(found);
            }
            Some(entry) => found.entries.push(SearchEntry::construct(entry)),
        }
    }
    found.truncated = true;
    abandon(&mut stream).await;
    Ok(found)
}

/// Tells the server to stop a search whose rest is not wanted.
async fn abandon<S, A>(stream: &mut ldap3::SearchStream<'_, S, A>)
where
    S: AsRef<str> + Send + Sync + 'static,
    A: AsRef<[S]> + Send + Sync + 'static,
{
    let handle = stream.ldap_handle();
    let id = handle.last_id();
    let _ = handle.abandon(id).await;
}

/// Every value of attribute `name` (any case) as bytes, whether ldap3 read it as text or not:
/// binary attributes such as objectSid land in either map depending on their bytes.
pub fn values_bytes(entry: &SearchEntry, name: &str) -> Vec<Vec<u8>> {
    let text = entry
        .attrs
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().map(|v| v.clone().into_bytes()));
    let binary = entry
        .bin_attrs
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().cloned());
    text.chain(binary).collect()
}

/// Every text value of attribute `name` (any case).
pub fn values_text(entry: &SearchEntry, name: &str) -> Vec<String> {
    entry
        .attrs
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}
