//! The profile: one organisation's settings (TOML), validated with file:line errors, merged with
//! command-line overrides into the `Settings` a run uses.

use crate::duration::{format_duration, parse_duration};
use crate::endpoints::TlsInspection;
use crate::model::Scenario;
use crate::suggest::closest;
use crate::toml_errors::{explain_toml_message, locate};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A profile that cannot be used, located as precisely as the input allows.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: cannot read the profile: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
    #[error("{0}")]
    Setting(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub domain: Option<Spanned<String>>,
    pub forest: Option<Spanned<String>>,
    pub scenario: Option<Scenario>,
    #[serde(default)]
    pub dns_servers: Vec<Spanned<String>>,
    pub site: Option<String>,
    pub ou: Option<String>,
    pub tenant: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub deadline: Option<Spanned<String>>,
    #[serde(default)]
    pub ldap: LdapSection,
    #[serde(default)]
    pub proxy: ProxySection,
    #[serde(default)]
    pub endpoints: EndpointsSection,
    #[serde(default)]
    pub dc: DcSection,
    #[serde(default)]
    pub vpn: Vec<Spanned<VpnGateway>>,
    pub connector: Option<ConnectorSection>,
}

/// `[connector]`: the Intune Connector for Active Directory, whose rights on the OU are read
/// from the OU's ACL rather than asked of the bind account.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSection {
    /// Its account's sAMAccountName: `msaODJ12345$`, or the server's `CONNECTOR01$`.
    pub account: Option<Spanned<String>>,
}

/// The connector the profile names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectorSettings {
    /// None: every msaODJ* managed service account in the domain.
    pub account: Option<String>,
}

/// Checks `[connector] account`: a bare sAMAccountName ending in `$` (a managed service
/// account or a computer account), not a UPN, a down-level name or a DN.
pub fn check_connector_account(text: &str) -> Result<String, String> {
    let account = text.trim();
    let bare = account
        .rsplit_once('\\')
        .map(|(_, name)| name)
        .or_else(|| account.split_once('@').map(|(name, _)| name))
        .unwrap_or(account);
    if account.to_ascii_uppercase().starts_with("CN=") {
        return Err(format!(
            "[connector] account `{account}` is a distinguished name: write its sAMAccountName, e.g. `account = \"msaODJ12345$\"`"
        ));
    }
    if bare != account {
        return Err(format!(
            "[connector] account `{account}` names a domain: write the sAMAccountName alone, `account = \"{bare}\"`"
        ));
    }
    const FORBIDDEN: &[char] = &[
        '"', '/', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', ' ',
    ];
    if account.is_empty() || account.contains(FORBIDDEN) {
        return Err(format!(
            "[connector] account `{account}` is not a sAMAccountName: write e.g. `account = \"msaODJ12345$\"` (the connector's managed service account) or `\"CONNECTOR01$\"` (its server's computer account)"
        ));
    }
    if !account.ends_with('$') {
        return Err(format!(
            "[connector] account `{account}` lacks the trailing `$` of a managed service or computer account: write `account = \"{account}$\"`"
        ));
    }
    // sAMAccountName holds at most 20 characters (MS-ADTS 3.1.1.5.2.4).
    if account.chars().count() > 20 {
        return Err(format!(
            "[connector] account `{account}` is longer than the 20 characters of a sAMAccountName: copy the name from the account's properties"
        ));
    }
    Ok(account.to_string())
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct LdapSection {
    pub bind_user: Option<String>,
    pub bind_password_file: Option<Spanned<String>>,
    pub tls: Option<LdapTls>,
    pub ca_file: Option<Spanned<String>>,
}

/// `[dc]`: which domain controllers get every deep check.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct DcSection {
    /// The device's DCs (the locator's choice, then its site's) that get every check.
    pub max_checked: Option<Spanned<i64>>,
    /// DCs checked deeply whatever the locator chooses, by host name.
    #[serde(default)]
    pub always_check: Vec<String>,
}

/// Which DCs get every deep check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcSettings {
    pub max_checked: usize,
    /// Lowercase host names.
    pub always_check: Vec<String>,
}

/// DCs that get every check when the profile says nothing: the locator's choice and the
/// nearest of its site, enough to tell one DC's fault from the network's.
pub const DEFAULT_MAX_CHECKED_DCS: usize = 5;
/// More would turn a 200-DC domain back into thousands of rows.
pub const MAX_CHECKED_DCS: usize = 50;

impl Default for DcSettings {
    fn default() -> Self {
        DcSettings {
            max_checked: DEFAULT_MAX_CHECKED_DCS,
            always_check: Vec::new(),
        }
    }
}

/// How the bind travels; "none" is a plain simple bind that most DCs refuse (resultCode 8).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapTls {
    Starttls,
    Ldaps,
    #[default]
    None,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    #[serde(default = "default_true")]
    pub wpad: bool,
    pub url: Option<Spanned<String>>,
}

impl Default for ProxySection {
    fn default() -> Self {
        ProxySection {
            wpad: true,
            url: None,
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct EndpointsSection {
    #[serde(default)]
    pub sets: Vec<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    /// A PEM bundle that replaces the built-in public roots (webpki-roots), for labs that
    /// simulate the internet with their own CA.
    pub public_roots: Option<Spanned<String>>,
    #[serde(default)]
    pub extra: Vec<ExtraEndpoint>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExtraEndpoint {
    pub url: Spanned<String>,
    pub tls_inspection: Option<TlsInspection>,
}

/// `[proxy]` as a run uses it.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    pub wpad: bool,
    /// An explicit proxy; it overrides WPAD.
    pub url: Option<crate::wire::url::ProxyServer>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            wpad: true,
            url: None,
        }
    }
}

/// `[endpoints]` as a run uses it: the chosen sets, extra trust anchors, the profile's own.
#[derive(Debug, Clone, Default)]
pub struct EndpointSettings {
    pub sets: Vec<String>,
    pub ca_file: Option<PathBuf>,
    /// Replaces webpki-roots as "the public roots" (`[endpoints] public_roots`).
    pub public_roots: Option<PathBuf>,
    pub extra: Vec<crate::endpoints::EndpointDef>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct VpnGateway {
    pub host: String,
    pub kind: VpnKind,
    pub port: Option<u16>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VpnKind {
    Ikev2,
    Tls,
    Tcp,
}

impl VpnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VpnKind::Ikev2 => "ikev2",
            VpnKind::Tls => "tls",
            VpnKind::Tcp => "tcp",
        }
    }
}

/// Where the domain came from, so the report can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainSource {
    Flag,
    Profile,
    SearchSuffix,
    /// The entra scenario needs no AD domain, and none was given.
    None,
}

impl DomainSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainSource::Flag => "flag",
            DomainSource::Profile => "profile",
            DomainSource::SearchSuffix => "search_suffix",
            DomainSource::None => "none",
        }
    }
}

/// Command-line values that override the profile.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub domain: Option<String>,
    pub dns_servers: Vec<String>,
    pub scenario: Option<Scenario>,
    pub timeout: Option<Duration>,
    pub deadline: Option<Duration>,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile_path: Option<PathBuf>,
    pub domain: String,
    pub domain_source: DomainSource,
    pub forest: String,
    pub scenario: Scenario,
    /// Empty means: the system's resolvers.
    pub dns_servers: Vec<SocketAddr>,
    pub site: Option<String>,
    pub ou: Option<String>,
    pub tenant: Option<String>,
    pub timeout: Duration,
    pub deadline: Duration,
    pub ldap: LdapSettings,
    pub proxy: ProxySettings,
    pub endpoints: EndpointSettings,
    pub vpn: Vec<VpnGateway>,
    pub dc: DcSettings,
    /// `[connector]`; None when the profile has no such section.
    pub connector: Option<ConnectorSettings>,
}

#[derive(Debug, Clone, Default)]
pub struct LdapSettings {
    pub bind_user: Option<String>,
    pub bind_password_file: Option<PathBuf>,
    /// As the profile says; without `tls`, StartTLS when there is a password to protect and
    /// plain LDAP for an anonymous bind.
    pub tls: LdapTls,
    pub ca_file: Option<PathBuf>,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(20);

/// A parsed profile together with its text, so later validation can point at lines.
pub struct LoadedProfile {
    pub path: PathBuf,
    text: String,
    pub file: ProfileFile,
}

impl LoadedProfile {
    pub fn read(path: &Path) -> Result<LoadedProfile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<LoadedProfile, ProfileError> {
        let file: ProfileFile = toml::from_str(&text).map_err(|error| ProfileError::Invalid {
            location: locate(path, &text, error.span()),
            message: explain_toml_message(error.message()),
        })?;
        Ok(LoadedProfile {
            path: path.to_path_buf(),
            text,
            file,
        })
    }

    fn invalid(&self, span: Range<usize>, message: String) -> ProfileError {
        ProfileError::Invalid {
            location: locate(&self.path, &self.text, Some(span)),
            message,
        }
    }
}

/// Parses `IP` or `IP:PORT` (`[v6]:PORT` for IPv6), defaulting to port 53.
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("invalid DNS server `{text}`: write an IP address, optionally with a port, e.g. 10.0.0.10, 10.0.0.10:53 or [2001:db8::10]:53")
    })
}

fn check_domain(text: &str) -> Result<String, String> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(domain)
    } else {
        Err(format!(
            "invalid domain name `{text}`: write the AD DNS domain name, e.g. corp.example.com"
        ))
    }
}

/// The tenant as `tenant` writes it: a domain of the tenant (two labels at least) or its ID;
/// None when empty. Lowercase, as Entra ID compares both without case.
fn check_tenant(text: &str) -> Result<Option<String>, String> {
    let tenant = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if tenant.is_empty() {
        return Ok(None);
    }
    let domain = crate::wire::url::valid_host_name(&tenant)
        && !tenant.contains('*')
        && !tenant.contains('_')
        && tenant.contains('.');
    if domain || crate::wire::tenant::is_guid(&tenant) {
        Ok(Some(tenant))
    } else {
        Err(format!(
            "invalid tenant `{text}`: write the tenant's domain, e.g. `tenant = \"contoso.onmicrosoft.com\"`, or its tenant ID, e.g. `tenant = \"00000000-0000-0000-0000-000000000000\"`"
        ))
    }
}

/// The DNS search suffix of this machine, used when neither a profile nor `--domain` names one.
pub fn system_search_suffix() -> Option<String> {
    // Windows: the connection-specific suffix the network gave comes first, as Windows
    // itself appends it first (src/device/adapters.rs).
    #[cfg(windows)]
    if let Some(suffix) = crate::device::adapters::connection_suffixes()
        .into_iter()
        .find(|name| name.contains('.'))
    {
        return Some(suffix);
    }
    let (config, _) = hickory_resolver::system_conf::read_system_conf().ok()?;
    config
        .domain()
        .into_iter()
        .chain(config.search())
        .map(|name| name.to_ascii().trim_end_matches('.').to_string())
        .find(|name| !name.is_empty() && name.contains('.'))
}

impl Settings {
    /// Fills `{domain}`, `{forest}` and `{site}`; None when the template needs a site and the
    /// profile names none.
    pub fn expand(&self, template: &str) -> Option<String> {
        if template.contains("{site}") && self.site.is_none() {
            return None;
        }
        Some(self.expand_or_placeholder(template))
    }

    /// Like `expand`, with `<site>` standing in for a site the profile does not name.
    pub fn expand_or_placeholder(&self, template: &str) -> String {
        template
            .replace("{domain}", &self.domain)
            .replace("{forest}", &self.forest)
            .replace("{site}", self.site.as_deref().unwrap_or("<site>"))
    }

    /// Merges the profile (if any), the overrides and the system's search suffix.
    pub fn resolve(
        profile: Option<&LoadedProfile>,
        overrides: &Overrides,
        search_suffix: impl FnOnce() -> Option<String>,
    ) -> Result<Settings, ProfileError> {
        let empty = ProfileFile::default();
        let file = profile.map_or(&empty, |p| &p.file);
        let invalid = |span: Range<usize>, message: String| match profile {
            Some(p) => p.invalid(span, message),
            None => ProfileError::Setting(message),
        };

        let scenario = overrides.scenario.or(file.scenario).unwrap_or_default();
        let (domain, domain_source) = if let Some(domain) = &overrides.domain {
            (
                check_domain(domain)
                    .map_err(|m| ProfileError::Setting(format!("--domain: {m}")))?,
                DomainSource::Flag,
            )
        } else if let Some(domain) = &file.domain {
            (
                check_domain(domain.get_ref()).map_err(|m| invalid(domain.span(), m))?,
                DomainSource::Profile,
            )
        } else if let Some(suffix) = search_suffix() {
            (
                check_domain(&suffix).map_err(|m| {
                    ProfileError::Setting(format!("the system's DNS search suffix: {m}"))
                })?,
                DomainSource::SearchSuffix,
            )
        } else if scenario == Scenario::Entra {
            // Entra join has no AD domain; without a search suffix WPAD has none to try either.
            (String::new(), DomainSource::None)
        } else {
            return Err(ProfileError::Setting(
                "no domain to check: give --domain corp.example.com, a profile with `domain = \"corp.example.com\"`, or set a DNS search suffix on this machine".to_string(),
            ));
        };

        let forest = match &file.forest {
            Some(forest) => {
                check_domain(forest.get_ref()).map_err(|m| invalid(forest.span(), m))?
            }
            None => domain.clone(),
        };

        let dns_servers = if !overrides.dns_servers.is_empty() {
            overrides
                .dns_servers
                .iter()
                .map(|s| {
                    parse_dns_server(s)
                        .map_err(|m| ProfileError::Setting(format!("--dns-server: {m}")))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            file.dns_servers
                .iter()
                .map(|s| parse_dns_server(s.get_ref()).map_err(|m| invalid(s.span(), m)))
                .collect::<Result<Vec<_>, _>>()?
        };

        let duration = |value: &Option<Spanned<String>>, fallback: Duration| match value {
            Some(text) => {
                parse_duration(text.get_ref()).map_err(|e| invalid(text.span(), e.to_string()))
            }
            None => Ok(fallback),
        };
        let timeout = match overrides.timeout {
            Some(timeout) => timeout,
            None => duration(&file.timeout, DEFAULT_TIMEOUT)?,
        };
        let deadline = match overrides.deadline {
            Some(deadline) => deadline,
            None => duration(&file.deadline, DEFAULT_DEADLINE)?,
        };
        if deadline < timeout {
            return Err(ProfileError::Setting(format!(
                "the deadline ({}) is shorter than the per-check timeout ({}): make the deadline at least as long, e.g. --deadline {}",
                format_duration(deadline),
                format_duration(timeout),
                format_duration(timeout * 4)
            )));
        }

        let base_dir = profile
            .and_then(|p| p.path.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let relative =
            |value: &Option<Spanned<String>>| value.as_ref().map(|v| base_dir.join(v.get_ref()));
        let bind_user = file.ldap.bind_user.clone().filter(|u| !u.trim().is_empty());
        let default_tls = if bind_user.is_some() {
            LdapTls::Starttls
        } else {
            LdapTls::None
        };
        let ldap = LdapSettings {
            bind_user,
            bind_password_file: relative(&file.ldap.bind_password_file),
            tls: file.ldap.tls.unwrap_or(default_tls),
            ca_file: relative(&file.ldap.ca_file),
        };

        let proxy = ProxySettings {
            wpad: file.proxy.wpad,
            url: match &file.proxy.url {
                Some(url) => Some(
                    crate::wire::url::parse_proxy_url(url.get_ref())
                        .map_err(|m| invalid(url.span(), m))?,
                ),
                None => None,
            },
        };
        let mut endpoints = endpoint_settings(&file.endpoints, &base_dir, &invalid)?;
        if scenario == Scenario::Entra && file.endpoints.sets.is_empty() {
            endpoints.sets = crate::endpoints::ENTRA_DEFAULT_SETS
                .iter()
                .map(ToString::to_string)
                .collect();
        }
        let max_checked = match &file.dc.max_checked {
            None => DEFAULT_MAX_CHECKED_DCS,
            Some(value) => usize::try_from(*value.get_ref())
                .ok()
                .filter(|n| (1..=MAX_CHECKED_DCS).contains(n))
                .ok_or_else(|| {
                    invalid(
                        value.span(),
                        format!(
                            "[dc] max_checked must be 1 to {MAX_CHECKED_DCS}, e.g. `max_checked = {DEFAULT_MAX_CHECKED_DCS}`"
                        ),
                    )
                })?,
        };
        let dc = DcSettings {
            max_checked,
            always_check: file
                .dc
                .always_check
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        };

        let vpn = file
            .vpn
            .iter()
            .map(|gateway| {
                let value = gateway.get_ref();
                if value.host.trim().is_empty() {
                    return Err(invalid(
                        gateway.span(),
                        "a [[vpn]] gateway needs `host = \"vpn.example.com\"`".to_string(),
                    ));
                }
                if value.kind == VpnKind::Tcp && value.port.is_none() {
                    return Err(invalid(
                        gateway.span(),
                        format!(
                            "[[vpn]] gateway {} of kind \"tcp\" needs a port, e.g. `port = 443`",
                            value.host
                        ),
                    ));
                }
                Ok(value.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;

        let connector = match &file.connector {
            None => None,
            Some(section) => Some(ConnectorSettings {
                account: match &section.account {
                    Some(account) => Some(
                        check_connector_account(account.get_ref())
                            .map_err(|m| invalid(account.span(), m))?,
                    ),
                    None => None,
                },
            }),
        };

        Ok(Settings {
            profile_path: profile.map(|p| p.path.clone()),
            domain,
            domain_source,
            forest,
            scenario,
            dns_servers,
            site: file.site.clone().filter(|s| !s.trim().is_empty()),
            ou: file.ou.clone().filter(|s| !s.trim().is_empty()),
            tenant: match &file.tenant {
                Some(tenant) => {
                    check_tenant(tenant.get_ref()).map_err(|m| invalid(tenant.span(), m))?
                }
                None => None,
            },
            timeout,
            deadline,
            ldap,
            proxy,
            endpoints,
            vpn,
            dc,
            connector,
        })
    }
}

/// Validates `[endpoints]`: known set names, parseable URLs, each error at its line.
fn endpoint_settings(
    section: &EndpointsSection,
    base_dir: &Path,
    invalid: &dyn Fn(Range<usize>, String) -> ProfileError,
) -> Result<EndpointSettings, ProfileError> {
    use crate::endpoints::{EndpointDef, EndpointProtocol, ENDPOINT_SETS};
    let mut sets = Vec::new();
    for set in &section.sets {
        let name = set.get_ref().trim();
        if !ENDPOINT_SETS.contains(&name) {
            let hint = closest(name, ENDPOINT_SETS.iter().copied())
                .map(|b| format!("did you mean `{b}`? "))
                .unwrap_or_default();
            return Err(invalid(
                set.span(),
                format!(
                    "unknown endpoint set `{name}`: {hint}the sets are {}; add your own endpoints with [[endpoints.extra]]",
                    ENDPOINT_SETS.join(", ")
                ),
            ));
        }
        if !sets.iter().any(|s: &String| s == name) {
            sets.push(name.to_string());
        }
    }
    let mut extra: Vec<EndpointDef> = Vec::new();
    for entry in &section.extra {
        let url = crate::wire::url::parse_web_url(entry.url.get_ref())
            .map_err(|m| invalid(entry.url.span(), m))?;
        let protocol = if url.https {
            EndpointProtocol::Https
        } else {
            EndpointProtocol::Http
        };
        extra.push(EndpointDef {
            host: url.host,
            port: url.port,
            protocol,
            path: url.path,
            sets: vec!["extra".to_string()],
            purpose: "the profile's own endpoint".to_string(),
            source: "profile [[endpoints.extra]]".to_string(),
            tls_inspection: entry.tls_inspection.unwrap_or(TlsInspection::Allowed),
            wildcard: None,
            optional: false,
            expect_body: None,
        });
    }
    Ok(EndpointSettings {
        sets,
        ca_file: section.ca_file.as_ref().map(|f| base_dir.join(f.get_ref())),
        public_roots: section
            .public_roots
            .as_ref()
            .map(|f| base_dir.join(f.get_ref())),
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedProfile, ProfileError> {
        LoadedProfile::parse(Path::new("p.toml"), text.to_string())
    }

    fn resolve(text: &str) -> Result<Settings, ProfileError> {
        let profile = parse(text)?;
        Settings::resolve(Some(&profile), &Overrides::default(), || None)
    }

    #[test]
    fn the_dc_section_bounds_how_many_dcs_get_every_check() {
        let settings = resolve("domain = \"a.test\"\n").unwrap();
        assert_eq!(settings.dc, DcSettings::default());
        assert_eq!(settings.dc.max_checked, 5);
        let settings = resolve(
            "domain = \"a.test\"\n[dc]\nmax_checked = 2\nalways_check = [\"DC9.A.test.\"]\n",
        )
        .unwrap();
        assert_eq!(settings.dc.max_checked, 2);
        assert_eq!(settings.dc.always_check, vec!["dc9.a.test".to_string()]);
        for bad in ["0", "51", "-1"] {
            let error = resolve(&format!("domain = \"a.test\"\n[dc]\nmax_checked = {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(":3:15:") && error.contains("[dc] max_checked must be 1 to 50"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn full_contract_profile_loads() {
        let settings = resolve(include_str!("../fixtures/profiles/full.toml")).unwrap();
        assert_eq!(settings.domain, "corp.example.com");
        assert_eq!(settings.scenario, Scenario::OnPrem);
        assert_eq!(settings.dns_servers, vec!["10.0.0.10:53".parse().unwrap()]);
        assert_eq!(settings.site.as_deref(), Some("Branch"));
        assert_eq!(settings.ldap.tls, LdapTls::Starttls);
        assert_eq!(settings.vpn.len(), 1);
    }

    #[test]
    fn a_tenant_is_a_domain_or_an_id() {
        let tenant = |text: &str| {
            resolve(&format!("domain = \"a.b\"\ntenant = \"{text}\"\n"))
                .unwrap()
                .tenant
        };
        assert_eq!(
            tenant("Contoso.onmicrosoft.com."),
            Some("contoso.onmicrosoft.com".to_string())
        );
        assert_eq!(
            tenant("5F3C2A4E-8B1D-4C6E-9A7F-2D1E0B3C4A5D"),
            Some("5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d".to_string())
        );
        assert_eq!(tenant(" "), None);
    }

    #[test]
    fn unknown_key_names_line_and_suggestion() {
        let error = parse("scenario = \"vpn\"\ndomian = \"corp.example.com\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("p.toml:2:1: unknown field `domian`"),
            "{error}"
        );
        assert!(error.ends_with("did you mean `domain`?"), "{error}");
    }

    #[test]
    fn bad_values_point_at_their_line() {
        let cases = [
            (
                "domain = \"corp.example.com\"\ndns_servers = [\"10.0.0\"]\n",
                "p.toml:2:16: invalid DNS server `10.0.0`",
            ),
            (
                "domain = \"corp example\"\n",
                "p.toml:1:10: invalid domain name `corp example`",
            ),
            (
                "domain = \"a.b\"\ntimeout = \"2 seconds\"\n",
                "p.toml:2:11: invalid duration `2 seconds`",
            ),
            (
                "domain = \"a.b\"\nscenario = \"onprem\"\n",
                "p.toml:2:12: unknown variant `onprem`, expected one of `on-prem`, `vpn`, `entra`",
            ),
            (
                "domain = \"a.b\"\n[ldap]\ntls = \"yes\"\n",
                "p.toml:3:7: unknown variant `yes`",
            ),
            (
                "domain = \"a.b\"\n[[vpn]]\nhost = \"v\"\nkind = \"ipsec\"\n",
                "p.toml:4:8: unknown variant `ipsec`",
            ),
            (
                "domain = \"a.b\"\n[[vpn]]\nhost = \"v\"\nkind = \"tcp\"\n",
                "p.toml:2:1: [[vpn]] gateway v of kind \"tcp\" needs a port",
            ),
            (
                "domain = \"a.b\"\n[ldap]\nbind_usr = \"x\"\n",
                "p.toml:3:1: unknown field `bind_usr`",
            ),
            ("domain = = 1", "p.toml:1:10:"),
            (
                "domain = \"a.b\"\n[endpoints]\nsets = [\"autopilot\", \"hybrid_join\"]\n",
                "p.toml:3:22: unknown endpoint set `hybrid_join`: did you mean `hybrid-join`?",
            ),
            (
                "domain = \"a.b\"\n[[endpoints.extra]]\nurl = \"sts.corp.example\"\n",
                "p.toml:3:7: `sts.corp.example` is not an http:// or https:// URL",
            ),
            (
                "domain = \"a.b\"\n[proxy]\nurl = \"socks5://p:1080\"\n",
                "p.toml:3:7: proxy `socks5://p:1080`: only http:// proxies",
            ),
            (
                "domain = \"a.b\"\n[[endpoints.extra]]\nurl = \"https://a.b/\"\ntls_inspection = \"off\"\n",
                "p.toml:4:18: unknown variant `off`",
            ),
            (
                "domain = \"a.b\"\ntenant = \"contoso onmicrosoft com\"\n",
                "p.toml:2:10: invalid tenant `contoso onmicrosoft com`: write the tenant's domain",
            ),
            (
                "domain = \"a.b\"\ntenant = \"contoso\"\n",
                "p.toml:2:10: invalid tenant `contoso`",
            ),
            (
                "domain = \"a.b\"\ntenant = \"https://login.microsoftonline.com/contoso.com\"\n",
                "p.toml:2:10: invalid tenant `https://login.microsoftonline.com/contoso.com`",
            ),
        ];
        for (text, expected) in cases {
            let error = match resolve(text) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {text}"),
            };
            assert!(
                error.starts_with(expected),
                "{text:?}\n got: {error}\nwant: {expected}"
            );
        }
    }

    #[test]
    fn overrides_win_and_domain_comes_from_search_suffix() {
        let overrides = Overrides {
            dns_servers: vec!["127.0.0.1:5353".into()],
            scenario: Some(Scenario::Vpn),
            ..Overrides::default()
        };
        let settings = Settings::resolve(None, &overrides, || Some("corp.jr.test".into())).unwrap();
        assert_eq!(settings.domain, "corp.jr.test");
        assert_eq!(settings.domain_source, DomainSource::SearchSuffix);
        assert_eq!(settings.scenario, Scenario::Vpn);
        assert_eq!(
            settings.dns_servers,
            vec!["127.0.0.1:5353".parse().unwrap()]
        );
        assert_eq!(settings.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn no_domain_anywhere_says_what_to_do() {
        let error = Settings::resolve(None, &Overrides::default(), || None).unwrap_err();
        assert!(error.to_string().contains("--domain corp.example.com"));
    }

    #[test]
    fn deadline_shorter_than_timeout_is_refused() {
        let overrides = Overrides {
            domain: Some("a.b".into()),
            timeout: Some(Duration::from_secs(5)),
            deadline: Some(Duration::from_secs(1)),
            ..Overrides::default()
        };
        let error = Settings::resolve(None, &overrides, || None).unwrap_err();
        assert!(error
            .to_string()
            .contains("shorter than the per-check timeout"));
    }

    #[test]
    fn connector_account_is_a_bare_sam_account_name_with_its_dollar() {
        let settings =
            resolve("domain = \"a.b\"\n[connector]\naccount = \"msaODJ12345$\"\n").unwrap();
        assert_eq!(
            settings.connector,
            Some(ConnectorSettings {
                account: Some("msaODJ12345$".to_string())
            })
        );
        let settings = resolve("domain = \"a.b\"\n[connector]\n").unwrap();
        assert_eq!(
            settings.connector,
            Some(ConnectorSettings { account: None })
        );
        assert_eq!(resolve("domain = \"a.b\"\n").unwrap().connector, None);
        let cases = [
            (
                "msaODJ12345",
                "p.toml:3:11: [connector] account `msaODJ12345` lacks the trailing `$` of a managed service or computer account: write `account = \"msaODJ12345$\"`",
            ),
            (
                "CORP\\\\msaODJ12345$",
                "p.toml:3:11: [connector] account `CORP\\msaODJ12345$` names a domain: write the sAMAccountName alone, `account = \"msaODJ12345$\"`",
            ),
            (
                "msaODJ12345$@corp.example.com",
                "p.toml:3:11: [connector] account `msaODJ12345$@corp.example.com` names a domain",
            ),
            (
                "CN=msaODJ12345,CN=Managed Service Accounts,DC=a,DC=b",
                "p.toml:3:11: [connector] account `CN=msaODJ12345,CN=Managed Service Accounts,DC=a,DC=b` is a distinguished name",
            ),
            ("", "p.toml:3:11: [connector] account `` is not a sAMAccountName"),
            (
                "averyveryverylongname$",
                "p.toml:3:11: [connector] account `averyveryverylongname$` is longer than the 20 characters",
            ),
        ];
        for (account, expected) in cases {
            let text = format!("domain = \"a.b\"\n[connector]\naccount = \"{account}\"\n");
            let error = match resolve(&text) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {account}"),
            };
            assert!(
                error.starts_with(expected),
                "{account}\n got: {error}\nwant: {expected}"
            );
        }
    }
}

#[cfg(test)]
#[path = "profile_entra_tests.rs"]
mod entra_tests;
