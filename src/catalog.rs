//! The check catalog: `checks/*.toml` embedded at build time plus the user's own files.
//! Checks are data; each names the probe that answers it and that probe's parameters.

use crate::model::Area;
use crate::profile::{explain_toml_message, locate};
use crate::suggest::closest;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The built-in catalog, one file per area of the product.
const BUILTIN: &[(&str, &str)] = &[
    ("checks/dns.toml", include_str!("../checks/dns.toml")),
    ("checks/dc.toml", include_str!("../checks/dc.toml")),
    ("checks/ldap.toml", include_str!("../checks/ldap.toml")),
    ("checks/time.toml", include_str!("../checks/time.toml")),
    ("checks/vpn.toml", include_str!("../checks/vpn.toml")),
    ("checks/proxy.toml", include_str!("../checks/proxy.toml")),
    (
        "checks/endpoints.toml",
        include_str!("../checks/endpoints.toml"),
    ),
];

/// The endpoint sets of the built-in catalog that a profile's `[endpoints] sets` may name.
pub const ENDPOINT_SETS: &[&str] = &["autopilot", "hybrid-join", "intune"];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: cannot read checks: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

/// The probe that answers a check. Probes know nothing about Autopilot; checks give them meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProbeKind {
    /// SRV lookup against every DNS server, with A/AAAA of each target.
    #[serde(rename = "dns.srv")]
    DnsSrv,
    /// ICMP echo to a DC.
    #[serde(rename = "icmp")]
    Icmp,
    /// The CLDAP "LDAP ping" on UDP 389 that Windows' DC locator sends.
    #[serde(rename = "cldap")]
    Cldap,
    /// An unauthenticated Kerberos AS-REQ on UDP 88; the KRB-ERROR proves the KDC alive.
    #[serde(rename = "kerberos")]
    Kdc,
    /// The DC's clock (KRB-ERROR stime, rootDSE currentTime) against this device's.
    #[serde(rename = "clock")]
    Clock,
    /// The DC locator: site-aware LDAP pings over the DC list, first answer wins.
    #[serde(rename = "dc.locator")]
    Locator,
    /// An authenticated LDAP read on the chosen DC (OU, rights, quota, registration SCP).
    #[serde(rename = "ldap.directory")]
    Directory,
    /// TCP connect to a port of a DC.
    #[serde(rename = "tcp")]
    Tcp,
    /// A UDP service of a DC asked in its own protocol (kpasswd, NTP).
    #[serde(rename = "udp")]
    Udp,
    /// Anonymous rootDSE read over LDAP.
    #[serde(rename = "ldap.rootdse")]
    LdapRootDse,
    /// The bind the profile asks for (anonymous, or simple over StartTLS/LDAPS/plain).
    #[serde(rename = "ldap.bind")]
    LdapBind,
    /// IKEv2 IKE_SA_INIT to a VPN gateway (UDP 500, and 4500 with the non-ESP marker).
    #[serde(rename = "ike")]
    Ike,
    /// TCP, TLS handshake and HTTP status of an SSL VPN portal.
    #[serde(rename = "vpn.tls")]
    VpnTls,
    /// TCP connect to a VPN gateway of kind "tcp".
    #[serde(rename = "vpn.tcp")]
    VpnTcp,
    /// An internet endpoint along the device's route: DNS, TCP, proxy CONNECT, TLS, HTTP.
    #[serde(rename = "endpoint")]
    Endpoint,
    /// WPAD discovery (DNS devolution, wpad.dat) and a trial run of the PAC script.
    #[serde(rename = "wpad")]
    Wpad,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::DnsSrv => "dns.srv",
            ProbeKind::Icmp => "icmp",
            ProbeKind::Cldap => "cldap",
            ProbeKind::Kdc => "kerberos",
            ProbeKind::Clock => "clock",
            ProbeKind::Locator => "dc.locator",
            ProbeKind::Directory => "ldap.directory",
            ProbeKind::Tcp => "tcp",
            ProbeKind::Udp => "udp",
            ProbeKind::LdapRootDse => "ldap.rootdse",
            ProbeKind::LdapBind => "ldap.bind",
            ProbeKind::Ike => "ike",
            ProbeKind::VpnTls => "vpn.tls",
            ProbeKind::VpnTcp => "vpn.tcp",
            ProbeKind::Endpoint => "endpoint",
            ProbeKind::Wpad => "wpad",
        }
    }
}

/// What a check runs once per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForEach {
    /// Once per domain controller found by the check that provides `dcs`.
    Dc,
    /// Once per `[[vpn]]` gateway of the profile whose kind the check's probe speaks.
    VpnGateway,
    /// Once per internet endpoint: the catalog's `[[endpoint]]` entries of the sets the profile
    /// chose, then the profile's `[[endpoints.extra]]`.
    Endpoint,
}

impl ForEach {
    /// How often a check with this `for_each` runs, as `explain` and `checks` say it.
    pub fn runs(self) -> &'static str {
        match self {
            ForEach::Dc => "once per domain controller",
            ForEach::VpnGateway => "once per [[vpn]] gateway of its kind",
            ForEach::Endpoint => "once per internet endpoint",
        }
    }

    /// The short form for one-line listings.
    pub fn per(self) -> &'static str {
        match self {
            ForEach::Dc => "per DC",
            ForEach::VpnGateway => "per gateway",
            ForEach::Endpoint => "per endpoint",
        }
    }
}

/// Typed facts a check can provide to the checks after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// The list of domain controllers (with addresses) the per-DC checks fan out over.
    Dcs,
    /// The DC the DC locator chose, which the directory checks read.
    ChosenDc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    endpoint: Vec<Spanned<RawEndpoint>>,
}

/// An `[[endpoint]]` entry: an internet endpoint the device must reach, as data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    host: String,
    port: Option<u16>,
    #[serde(default)]
    protocol: EndpointProtocol,
    #[serde(default = "default_portal_path")]
    path: String,
    sets: Vec<String>,
    purpose: String,
    source: String,
    tls_inspection: crate::profile::TlsInspection,
    wildcard: Option<String>,
    #[serde(default)]
    optional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointProtocol {
    #[default]
    Https,
    Http,
    /// SNTP on UDP.
    Ntp,
}

impl EndpointProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointProtocol::Https => "https",
            EndpointProtocol::Http => "http",
            EndpointProtocol::Ntp => "ntp",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            EndpointProtocol::Https => 443,
            EndpointProtocol::Http => 80,
            EndpointProtocol::Ntp => 123,
        }
    }
}

/// One internet endpoint, from the catalog or the profile's `[[endpoints.extra]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointDef {
    /// The host probed; for a wildcard entry, its representative host.
    pub host: String,
    pub port: u16,
    pub protocol: EndpointProtocol,
    pub path: String,
    /// The sets it belongs to; `["extra"]` for the profile's own endpoints.
    pub sets: Vec<String>,
    /// What it is for, named in findings.
    pub purpose: String,
    /// The document that requires it.
    pub source: String,
    pub tls_inspection: crate::profile::TlsInspection,
    /// The wildcard the host stands for, e.g. `*.manage.microsoft.com`.
    pub wildcard: Option<String>,
    /// A failure only warns.
    pub optional: bool,
}

impl EndpointDef {
    /// The row's target: the host, with the port when it is not the protocol's own.
    pub fn label(&self) -> String {
        if self.port == self.protocol.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL requested (http and https).
    pub fn url(&self) -> String {
        let port = if self.port == self.protocol.default_port() {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!(
            "{}://{}{port}{}",
            self.protocol.as_str(),
            self.host,
            self.path
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    area: Area,
    title: String,
    probe: ProbeKind,
    #[serde(default)]
    params: toml::Table,
    #[serde(default)]
    needs: Vec<String>,
    for_each: Option<ForEach>,
    #[serde(default)]
    provides: Vec<FactKind>,
    downgrade_if_passed: Option<String>,
    #[serde(default)]
    corporate_network: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    required_in: Vec<crate::model::Scenario>,
    why: String,
    remedy: String,
}

/// Parameters of each probe, validated when the catalog loads.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Params {
    DnsSrv(DnsSrvParams),
    Icmp(IcmpParams),
    Cldap(LdapParams),
    Kdc(LdapParams),
    Clock(LdapParams),
    Locator(LdapParams),
    Directory(DirectoryParams),
    Tcp(TcpParams),
    Udp(UdpParams),
    LdapRootDse(LdapParams),
    LdapBind(LdapParams),
    Ike(IkeParams),
    VpnTls(VpnTlsParams),
    VpnTcp(VpnTcpParams),
    Endpoint(EndpointParams),
    Wpad(WpadParams),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSrvParams {
    /// The SRV owner name; `{domain}`, `{forest}` and `{site}` are filled from the profile.
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IcmpParams {
    #[serde(default = "default_ping_count")]
    pub count: u8,
}

fn default_ping_count() -> u8 {
    3
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TcpParams {
    pub port: u16,
    /// What breaks when this port is closed, named in the finding.
    #[serde(default)]
    pub consequence: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LdapParams {}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UdpParams {
    pub port: u16,
    /// Which protocol's request to send.
    pub payload: UdpPayload,
    /// What breaks when this port is closed, named in the finding.
    #[serde(default)]
    pub consequence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UdpPayload {
    Kpasswd,
    Ntp,
}

/// Which directory question an `ldap.directory` check asks of the chosen DC.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryParams {
    pub question: DirectoryQuestion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryQuestion {
    /// The Domain Join profile's OU exists.
    OuExists,
    /// The bound account may create computer objects in the OU.
    OuCreateComputer,
    /// ms-DS-MachineAccountQuota on the domain head.
    MachineAccountQuota,
    /// The Device Registration service connection point and its tenant keywords.
    RegistrationScp,
}

/// IKEv2 probe: which UDP port (500 plain, 4500 with the non-ESP marker).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IkeParams {
    /// Used when the gateway names no port.
    #[serde(default = "default_ike_port")]
    pub port: u16,
    /// Prefix the 4 zero bytes of the non-ESP marker (RFC 3948), as on UDP 4500.
    #[serde(default)]
    pub nat_t: bool,
}

fn default_ike_port() -> u16 {
    500
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VpnTlsParams {
    /// Used when the gateway names no port.
    #[serde(default = "default_tls_port")]
    pub port: u16,
    /// The path of the portal page requested after the handshake.
    #[serde(default = "default_portal_path")]
    pub path: String,
}

fn default_tls_port() -> u16 {
    443
}

fn default_portal_path() -> String {
    "/".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VpnTcpParams {}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WpadParams {
    /// The largest PAC file accepted.
    #[serde(default = "default_pac_bytes")]
    pub max_bytes: usize,
}

fn default_pac_bytes() -> usize {
    1024 * 1024
}

/// The `endpoint` probe takes no parameters of its own; the catalog fills in every
/// `[[endpoint]]` entry it loaded, so the runner can fan out over the profile's sets.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointParams {
    #[serde(skip_deserializing)]
    pub endpoints: Vec<EndpointDef>,
}

impl ProbeKind {
    /// Whether the probe binds as the profile's account, so the password must be at hand.
    pub fn needs_bind_password(self) -> bool {
        matches!(self, ProbeKind::LdapBind | ProbeKind::Directory)
    }

    /// The `[[vpn]] kind` a per-gateway probe speaks; None for probes that are not per gateway.
    pub fn vpn_kind(self) -> Option<crate::profile::VpnKind> {
        use crate::profile::VpnKind;
        match self {
            ProbeKind::Ike => Some(VpnKind::Ikev2),
            ProbeKind::VpnTls => Some(VpnKind::Tls),
            ProbeKind::VpnTcp => Some(VpnKind::Tcp),
            _ => None,
        }
    }
}

/// One check of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct CheckDef {
    pub id: String,
    pub area: Area,
    pub title: String,
    pub probe: ProbeKind,
    pub params: Params,
    pub needs: Vec<String>,
    pub for_each: Option<ForEach>,
    pub provides: Vec<FactKind>,
    /// A failure of this check is only a warning when the named check passed on the same target
    /// (ICMP dropped while LDAP answers: the DC is up, a firewall filters ping).
    pub downgrade_if_passed: Option<String>,
    /// Only reachable from the corporate network: in the vpn scenario a failure is expected.
    pub corporate_network: bool,
    /// Nice to have: a failure is reported as a warning.
    pub optional: bool,
    /// The scenarios in which a failure makes the device not ready; elsewhere it only warns.
    /// Empty: every scenario.
    pub required_in: Vec<crate::model::Scenario>,
    pub why: String,
    pub remedy: String,
    /// Which file defined it, for errors and `explain`.
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub checks: Vec<CheckDef>,
}

impl Catalog {
    /// The built-in checks plus every `*.toml` in `extra_dirs`, validated as one whole.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut user_files = Vec::new();
        for dir in extra_dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|source| CatalogError::Read {
                    path: dir.display().to_string(),
                    source,
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                user_files.push((path, text));
            }
        }
        Catalog::with_user_files(&user_files)
    }

    /// The built-in checks plus the given (path, text) files, validated as one whole; `load`
    /// without the file system (the fuzz target uses it).
    pub fn with_user_files(user_files: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
        let mut checks = Vec::new();
        let mut endpoints = Vec::new();
        let builtin = BUILTIN.iter().map(|(path, text)| (Path::new(*path), *text));
        let user = user_files
            .iter()
            .map(|(path, text)| (path.as_path(), text.as_str()));
        for (path, text) in builtin.chain(user) {
            let (more, more_endpoints) = parse_file(path, text)?;
            checks.extend(more);
            endpoints.extend(more_endpoints);
        }
        validate(&checks)?;
        for check in &mut checks {
            if let Params::Endpoint(params) = &mut check.params {
                params.endpoints = endpoints.clone();
            }
        }
        Ok(Catalog { checks })
    }

    pub fn get(&self, id: &str) -> Option<&CheckDef> {
        self.checks.iter().find(|check| check.id == id)
    }

    /// "did you mean" for a mistyped id or area, with the valid choices.
    pub fn unknown_selector_message(&self, typed: &str) -> String {
        let ids = self.checks.iter().map(|c| c.id.as_str());
        let areas = Area::ALL.iter().map(|a| a.as_str());
        let hint = closest(typed, ids.chain(areas))
            .map(|best| format!("did you mean `{best}`? "))
            .unwrap_or_default();
        let areas: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
        format!(
            "unknown check or area `{typed}`: {hint}areas are {}; check ids are listed by `joinready checks`",
            areas.join(", ")
        )
    }
}

fn invalid(path: &Path, text: &str, span: std::ops::Range<usize>, message: String) -> CatalogError {
    CatalogError::Invalid {
        location: locate(path, text, Some(span)),
        message,
    }
}

/// The built-in `[[endpoint]]` entries (for unit tests and for listing).
pub fn builtin_endpoints() -> Vec<EndpointDef> {
    BUILTIN
        .iter()
        .filter_map(|(path, text)| parse_file(Path::new(path), text).ok())
        .flat_map(|(_, endpoints)| endpoints)
        .collect()
}

fn parse_endpoint(
    path: &Path,
    text: &str,
    spanned: Spanned<RawEndpoint>,
) -> Result<EndpointDef, CatalogError> {
    let span = spanned.span();
    let raw = spanned.into_inner();
    let fail = |message: String| {
        invalid(
            path,
            text,
            span.clone(),
            format!("endpoint `{}`: {message}", raw.host),
        )
    };
    if !crate::wire::url::valid_host_name(&raw.host) || raw.host.contains('*') {
        return Err(fail(
            "the host must be a DNS name; for a wildcard write `wildcard = \"*.example.com\"` and a representative `host = \"a.example.com\"`".to_string(),
        ));
    }
    if let Some(wildcard) = &raw.wildcard {
        let suffix = wildcard.strip_prefix('*').unwrap_or_default();
        if !wildcard.starts_with("*.")
            || !raw.host.ends_with(suffix)
            || raw.host.len() <= suffix.len()
        {
            return Err(fail(format!(
                "the wildcard `{wildcard}` must look like `*.example.com` and cover the host"
            )));
        }
    }
    if raw.sets.is_empty() {
        return Err(fail(format!(
            "name its sets, e.g. `sets = [\"{}\"]`",
            ENDPOINT_SETS[0]
        )));
    }
    for set in &raw.sets {
        if !ENDPOINT_SETS.contains(&set.as_str()) {
            let hint = closest(set, ENDPOINT_SETS.iter().copied())
                .map(|b| format!("did you mean `{b}`? "))
                .unwrap_or_default();
            return Err(fail(format!(
                "unknown set `{set}`: {hint}sets are {}",
                ENDPOINT_SETS.join(", ")
            )));
        }
    }
    if !raw.path.starts_with('/') {
        return Err(fail(format!("path `{}` must start with `/`", raw.path)));
    }
    Ok(EndpointDef {
        port: raw.port.unwrap_or(raw.protocol.default_port()),
        host: raw.host.to_ascii_lowercase(),
        protocol: raw.protocol,
        path: raw.path,
        sets: raw.sets,
        purpose: raw.purpose.trim().to_string(),
        source: raw.source,
        tls_inspection: raw.tls_inspection,
        wildcard: raw.wildcard,
        optional: raw.optional,
    })
}

type Parsed = (Vec<CheckDef>, Vec<EndpointDef>);

fn parse_file(path: &Path, text: &str) -> Result<Parsed, CatalogError> {
    let file: CatalogFile = toml::from_str(text).map_err(|error| CatalogError::Invalid {
        location: locate(path, text, error.span()),
        message: explain_toml_message(error.message()),
    })?;
    let mut endpoints: Vec<EndpointDef> = Vec::new();
    for spanned in file.endpoint {
        let span = spanned.span();
        let endpoint = parse_endpoint(path, text, spanned)?;
        if endpoints
            .iter()
            .any(|e| e.host == endpoint.host && e.port == endpoint.port)
        {
            return Err(invalid(
                path,
                text,
                span,
                format!(
                    "endpoint `{}` port {} is listed twice: add the sets to the first entry",
                    endpoint.host, endpoint.port
                ),
            ));
        }
        endpoints.push(endpoint);
    }
    let checks = file
        .check
        .into_iter()
        .map(|spanned| {
            let span = spanned.span();
            let raw = spanned.into_inner();
            let params = typed_params(raw.probe, raw.params).map_err(|message| {
                invalid(
                    path,
                    text,
                    span.clone(),
                    format!(
                        "check `{}`: params of probe `{}`: {message}",
                        raw.id,
                        raw.probe.as_str()
                    ),
                )
            })?;
            if !valid_id(&raw.id) {
                return Err(invalid(
                    path,
                    text,
                    span,
                    format!(
                        "check id `{}` must be lowercase words joined by `.` or `_`, e.g. `dc.srv`",
                        raw.id
                    ),
                ));
            }
            Ok(CheckDef {
                id: raw.id,
                area: raw.area,
                title: raw.title,
                probe: raw.probe,
                params,
                needs: raw.needs,
                for_each: raw.for_each,
                provides: raw.provides,
                downgrade_if_passed: raw.downgrade_if_passed,
                corporate_network: raw.corporate_network,
                optional: raw.optional,
                required_in: raw.required_in,
                why: raw.why.trim().to_string(),
                remedy: raw.remedy.trim().to_string(),
                source: path.display().to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((checks, endpoints))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        && !id.starts_with('.')
        && !id.ends_with('.')
}

fn typed_params(probe: ProbeKind, table: toml::Table) -> Result<Params, String> {
    let value = toml::Value::Table(table);
    let explain = |e: toml::de::Error| explain_toml_message(e.message());
    Ok(match probe {
        ProbeKind::DnsSrv => Params::DnsSrv(value.try_into().map_err(explain)?),
        ProbeKind::Icmp => Params::Icmp(value.try_into().map_err(explain)?),
        ProbeKind::Cldap => Params::Cldap(value.try_into().map_err(explain)?),
        ProbeKind::Kdc => Params::Kdc(value.try_into().map_err(explain)?),
        ProbeKind::Clock => Params::Clock(value.try_into().map_err(explain)?),
        ProbeKind::Locator => Params::Locator(value.try_into().map_err(explain)?),
        ProbeKind::Directory => Params::Directory(value.try_into().map_err(explain)?),
        ProbeKind::Tcp => Params::Tcp(value.try_into().map_err(explain)?),
        ProbeKind::Udp => Params::Udp(value.try_into().map_err(explain)?),
        ProbeKind::LdapRootDse => Params::LdapRootDse(value.try_into().map_err(explain)?),
        ProbeKind::LdapBind => Params::LdapBind(value.try_into().map_err(explain)?),
        ProbeKind::Ike => Params::Ike(value.try_into().map_err(explain)?),
        ProbeKind::VpnTls => Params::VpnTls(value.try_into().map_err(explain)?),
        ProbeKind::VpnTcp => Params::VpnTcp(value.try_into().map_err(explain)?),
        ProbeKind::Endpoint => Params::Endpoint(value.try_into().map_err(explain)?),
        ProbeKind::Wpad => Params::Wpad(value.try_into().map_err(explain)?),
    })
}

fn validate(checks: &[CheckDef]) -> Result<(), CatalogError> {
    let fail = |check: &CheckDef, message: String| CatalogError::Invalid {
        location: check.source.clone(),
        message: format!("check `{}`: {message}", check.id),
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for check in checks {
        if let Some(first) = seen.insert(&check.id, &check.source) {
            return Err(fail(
                check,
                format!("the id is already defined in {first}: choose another id"),
            ));
        }
    }
    let by_id: HashMap<&str, &CheckDef> = checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let providers = checks
        .iter()
        .filter(|c| c.provides.contains(&FactKind::Dcs))
        .count();
    if providers > 1 {
        let check = checks
            .iter()
            .filter(|c| c.provides.contains(&FactKind::Dcs))
            .nth(1);
        if let Some(check) = check {
            return Err(fail(check, "only one check may provide `dcs`".to_string()));
        }
    }
    for check in checks {
        for need in check.needs.iter().chain(check.downgrade_if_passed.iter()) {
            let Some(needed) = by_id.get(need.as_str()) else {
                let hint = closest(need, by_id.keys().copied())
                    .map(|b| format!(": did you mean `{b}`?"))
                    .unwrap_or_default();
                return Err(fail(
                    check,
                    format!("it refers to unknown check `{need}`{hint}"),
                ));
            };
            if needed.for_each.is_some() && check.for_each != needed.for_each {
                return Err(fail(
                    check,
                    format!(
                        "it needs `{need}`, which runs per target: give it the same `for_each`"
                    ),
                ));
            }
        }
        if (check.for_each == Some(ForEach::VpnGateway)) != check.probe.vpn_kind().is_some() {
            return Err(fail(
                check,
                format!(
                    "probe `{}` and `for_each = \"vpn_gateway\"` go together: per-gateway checks use the ike, vpn.tls or vpn.tcp probe",
                    check.probe.as_str()
                ),
            ));
        }
        if (check.for_each == Some(ForEach::Endpoint)) != (check.probe == ProbeKind::Endpoint) {
            return Err(fail(
                check,
                "probe `endpoint` and `for_each = \"endpoint\"` go together".to_string(),
            ));
        }
        if check.for_each == Some(ForEach::Dc) && providers == 0 {
            return Err(fail(
                check,
                "it runs per DC but no check provides `dcs`".to_string(),
            ));
        }
    }
    // Dependencies must form no cycle, or the runner would wait forever.
    let mut done: HashSet<&str> = HashSet::new();
    let mut visiting: Vec<&str> = Vec::new();
    fn visit<'a>(
        id: &'a str,
        by_id: &HashMap<&'a str, &'a CheckDef>,
        done: &mut HashSet<&'a str>,
        visiting: &mut Vec<&'a str>,
    ) -> Result<(), String> {
        if done.contains(id) {
            return Ok(());
        }
        if visiting.contains(&id) {
            visiting.push(id);
            return Err(visiting.join(" → "));
        }
        visiting.push(id);
        if let Some(check) = by_id.get(id) {
            for need in check.needs.iter().chain(check.downgrade_if_passed.iter()) {
                visit(need, by_id, done, visiting)?;
            }
        }
        visiting.pop();
        done.insert(id);
        Ok(())
    }
    for check in checks {
        visit(&check.id, &by_id, &mut done, &mut visiting)
            .map_err(|cycle| fail(check, format!("its dependencies form a cycle: {cycle}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_is_valid_and_complete() {
        let catalog = Catalog::load(&[]).unwrap();
        for id in ["dc.srv", "dc.ping", "ldap.rootdse", "ldap.bind"] {
            let check = catalog.get(id).unwrap();
            assert!(!check.remedy.is_empty() && !check.why.is_empty(), "{id}");
        }
    }

    #[test]
    fn user_checks_are_added_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("extra.toml"),
            "[[check]]\nid = \"dc.smb\"\narea = \"dc\"\ntitle = \"SMB\"\nprobe = \"tcp\"\nparams = { port = 445 }\nfor_each = \"dc\"\nneeds = [\"dc.srv\"]\nwhy = \"w\"\nremedy = \"r\"\n",
        )
        .unwrap();
        let catalog = Catalog::load(&[dir.path().to_path_buf()]).unwrap();
        assert!(catalog.get("dc.smb").is_some());
    }

    #[test]
    fn broken_user_checks_name_file_line_and_fix() {
        let cases = [
            ("[[check]]\nid = \"x.y\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"tcp\"\nparams = { prt = 1 }\nwhy = \"w\"\nremedy = \"r\"\n",
             ":1:1: check `x.y`: params of probe `tcp`: unknown field `prt`"),
            ("[[check]]\nid = \"x.y\"\narea = \"dnss\"\n", ":3:8: unknown variant `dnss`"),
            ("[[check]]\nid = \"dc.srv\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"icmp\"\nwhy = \"w\"\nremedy = \"r\"\n",
             "check `dc.srv`: the id is already defined in checks/dns.toml"),
            ("[[check]]\nid = \"x.y\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"icmp\"\nneeds = [\"dc.svr\"]\nwhy = \"w\"\nremedy = \"r\"\n",
             "unknown check `dc.svr`: did you mean `dc.srv`?"),
            ("[[check]]\nid = \"X\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"icmp\"\nwhy = \"w\"\nremedy = \"r\"\n",
             "check id `X` must be lowercase"),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("bad.toml"), text).unwrap();
            let error = Catalog::load(&[dir.path().to_path_buf()])
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "got: {error}\nwant: {expected}");
        }
    }

    #[test]
    fn cycles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.toml"),
            "[[check]]\nid = \"a.a\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"icmp\"\nneeds = [\"b.b\"]\nwhy = \"w\"\nremedy = \"r\"\n[[check]]\nid = \"b.b\"\narea = \"dns\"\ntitle = \"t\"\nprobe = \"icmp\"\nneeds = [\"a.a\"]\nwhy = \"w\"\nremedy = \"r\"\n",
        )
        .unwrap();
        let error = Catalog::load(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("cycle: a.a → b.b → a.a"), "{error}");
    }

    #[test]
    fn builtin_endpoints_cover_every_set_with_sources() {
        let endpoints = builtin_endpoints();
        for set in ENDPOINT_SETS {
            assert!(
                endpoints.iter().any(|e| e.sets.iter().any(|s| s == set)),
                "set {set} is empty"
            );
        }
        let get = |host: &str| endpoints.iter().find(|e| e.host == host).unwrap();
        use crate::profile::TlsInspection::{Allowed, Forbidden};
        assert_eq!(
            get("device.login.microsoftonline.com").tls_inspection,
            Forbidden
        );
        assert_eq!(
            get("enterpriseregistration.windows.net").tls_inspection,
            Allowed
        );
        assert_eq!(get("manage.microsoft.com").tls_inspection, Forbidden);
        assert_eq!(get("time.windows.com").protocol, EndpointProtocol::Ntp);
        assert_eq!(get("time.windows.com").port, 123);
        assert_eq!(
            get("www.msftconnecttest.com").url(),
            "http://www.msftconnecttest.com/connecttest.txt"
        );
        assert!(get("autologon.microsoftazuread-sso.com").optional);
        for endpoint in &endpoints {
            assert!(!endpoint.source.is_empty() && !endpoint.purpose.is_empty());
            if let Some(wildcard) = &endpoint.wildcard {
                assert!(endpoint.host.ends_with(&wildcard[1..]), "{wildcard}");
            }
        }
        let catalog = Catalog::load(&[]).unwrap();
        let check = catalog.get("endpoints.reach").unwrap();
        assert_eq!(check.for_each, Some(ForEach::Endpoint));
        let Params::Endpoint(params) = &check.params else {
            panic!("endpoint params")
        };
        assert_eq!(params.endpoints, endpoints);
    }

    #[test]
    fn broken_endpoints_name_file_line_and_fix() {
        let entry = |body: &str| {
            format!("[[endpoint]]\nhost = \"a.example\"\npurpose = \"p\"\nsource = \"s\"\n{body}")
        };
        let cases = [
            (entry("sets = [\"intune\"]\ntls_inspection = \"forbiden\"\n"), ":6:18: unknown variant `forbiden`"),
            (entry("sets = [\"hybrid_join\"]\ntls_inspection = \"allowed\"\n"), ":1:1: endpoint `a.example`: unknown set `hybrid_join`: did you mean `hybrid-join`?"),
            (entry("sets = []\ntls_inspection = \"allowed\"\n"), "name its sets"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\nwildcard = \"*.other.example\"\n"), "must look like `*.example.com` and cover the host"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\nprotcol = \"http\"\n"), "unknown field `protcol`"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\n").replace("a.example", "*.example"), "the host must be a DNS name"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\n").repeat(2), ":7:1: endpoint `a.example` port 443 is listed twice"),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("bad.toml"), &text).unwrap();
            let error = Catalog::load(&[dir.path().to_path_buf()])
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "got: {error}\nwant: {expected}");
        }
    }

    #[test]
    fn selector_typo_lists_choices() {
        let catalog = Catalog::load(&[]).unwrap();
        let message = catalog.unknown_selector_message("ldpa");
        assert!(message.contains("did you mean `ldap`?"), "{message}");
        assert!(message.contains("dns, dc, ldap, proxy, endpoints, vpn, time, host"));
    }
}
