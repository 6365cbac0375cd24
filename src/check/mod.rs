//! Checks: give probe evidence a meaning for hybrid join — pass, warn or fail, a one-line
//! finding and the evidence. One file per probe kind; the catalog says which check uses which.

mod cldap;
mod clock;
mod directory;
mod endpoint;
mod ldap;
mod locator;
mod ping;
mod proxy;
mod srv;
mod tcp;
mod udp;
mod vpn;

use crate::catalog::{CheckDef, Params};
use crate::facts::{DomainController, Facts};
use crate::model::Outcome;
use crate::probe::tls::Trust;
use crate::profile::{Settings, VpnGateway};
use crate::secret::Secret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OnceCell;

/// What every check may read; built once per run.
pub struct CheckContext {
    pub settings: Arc<Settings>,
    /// The DNS servers asked, each separately; Err when the system has none.
    pub dns_servers: Result<Vec<SocketAddr>, String>,
    pub password: Option<Secret>,
    trust: OnceCell<Result<Trust, String>>,
    endpoint_trust: OnceCell<Result<endpoint::EndpointTrust, String>>,
    /// What `proxy.wpad` concluded for the endpoint checks: the PAC file it found, or why the
    /// PAC file WPAD named cannot be used. Unset: WPAD named no PAC file.
    pac: std::sync::OnceLock<Result<proxy::PacFile, &'static str>>,
}

impl CheckContext {
    pub fn new(
        settings: Arc<Settings>,
        dns_servers: Result<Vec<SocketAddr>, String>,
        password: Option<Secret>,
    ) -> CheckContext {
        CheckContext {
            settings,
            dns_servers,
            password,
            trust: OnceCell::new(),
            endpoint_trust: OnceCell::new(),
            pac: std::sync::OnceLock::new(),
        }
    }

    /// The trust of the endpoint checks (public roots, OS store, `[endpoints] ca_file`).
    pub async fn endpoint_trust(&self) -> Result<&endpoint::EndpointTrust, String> {
        let ca_file = self.settings.endpoints.ca_file.clone();
        self.endpoint_trust
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    endpoint::EndpointTrust::load(ca_file.as_deref())
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The trust store, loaded on first use so runs without TLS never read the OS store.
    pub async fn trust(&self) -> Result<&Trust, String> {
        let ca_file = self.settings.ldap.ca_file.clone();
        self.trust
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || Trust::load(ca_file.as_deref()))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What a check runs against.
#[derive(Debug, Clone)]
pub enum Target {
    /// The check runs once (its target label comes from its parameters).
    Once,
    Dc(DomainController),
    VpnGateway(VpnGateway),
    Endpoint(crate::catalog::EndpointDef),
}

/// A check's conclusion plus the facts it provides.
pub struct CheckOutput {
    pub outcome: Outcome,
    pub dcs: Option<Vec<DomainController>>,
    pub chosen_dc: Option<DomainController>,
}

impl From<Outcome> for CheckOutput {
    fn from(outcome: Outcome) -> Self {
        CheckOutput {
            outcome,
            dcs: None,
            chosen_dc: None,
        }
    }
}

/// Fills `{domain}`, `{forest}` and `{site}`; None when the template needs a site and the
/// profile names none.
pub fn expand(template: &str, settings: &Settings) -> Option<String> {
    if template.contains("{site}") && settings.site.is_none() {
        return None;
    }
    Some(
        template
            .replace("{domain}", &settings.domain)
            .replace("{forest}", &settings.forest)
            .replace("{site}", settings.site.as_deref().unwrap_or_default()),
    )
}

/// The row's target column.
pub fn target_label(def: &CheckDef, target: &Target, settings: &Settings) -> String {
    match (target, &def.params) {
        (Target::Dc(dc), _) => dc.hostname.clone(),
        (Target::VpnGateway(gateway), _) => gateway.host.clone(),
        (Target::Endpoint(endpoint), _) => endpoint.label(),
        (Target::Once, Params::DnsSrv(params)) => {
            expand(&params.name, settings).unwrap_or_else(|| {
                params
                    .name
                    .replace("{site}", "<site>")
                    .replace("{domain}", &settings.domain)
                    .replace("{forest}", &settings.forest)
            })
        }
        (Target::Once, _) => settings.domain.clone(),
    }
}

/// Runs one check against one target, within `deadline`.
pub async fn run(
    def: &CheckDef,
    target: &Target,
    context: &CheckContext,
    facts: &Facts,
    deadline: Instant,
) -> CheckOutput {
    match &def.params {
        Params::Locator(_) => return locator::run(facts, context, deadline).await,
        Params::Wpad(params) => return proxy::wpad(params, context, deadline).await.into(),
        Params::Directory(params) => {
            return directory::run(params.question, facts, context, deadline)
                .await
                .into()
        }
        _ => {}
    }
    let dc = match target {
        Target::Dc(dc) => match dc.address() {
            Some(address) => Some((dc, address)),
            None => {
                return Outcome::skip(format!("DNS gave no address for {}", dc.hostname)).into();
            }
        },
        Target::Once | Target::VpnGateway(_) => None,
        Target::Endpoint(endpoint) => {
            return match &def.params {
                Params::Endpoint(_) => endpoint::run(endpoint, context, facts, deadline)
                    .await
                    .into(),
                _ => Outcome::error(format!(
                    "probe `{}` does not run per endpoint",
                    def.probe.as_str()
                ))
                .into(),
            };
        }
    };
    if let Target::VpnGateway(gateway) = target {
        return match &def.params {
            Params::Ike(params) => vpn::ike(params, gateway, context, deadline).await.into(),
            Params::VpnTls(params) => vpn::tls(params, gateway, context, deadline).await.into(),
            Params::VpnTcp(params) => vpn::tcp(params, gateway, context, deadline).await.into(),
            _ => Outcome::error(format!(
                "probe `{}` does not run per VPN gateway",
                def.probe.as_str()
            ))
            .into(),
        };
    }
    match (&def.params, dc) {
        (Params::DnsSrv(params), _) => {
            srv::run(
                params,
                def.provides.contains(&crate::catalog::FactKind::Dcs),
                context,
                deadline,
            )
            .await
        }
        (Params::Cldap(_), Some((_, address))) => {
            cldap::run(address, context, deadline).await.into()
        }
        (Params::Kdc(_), Some((_, address))) => {
            clock::kdc(address, &context.settings.domain, deadline)
                .await
                .into()
        }
        (Params::Clock(_), Some((_, address))) => {
            clock::skew(address, &context.settings.domain, deadline)
                .await
                .into()
        }
        (Params::Icmp(params), Some((_, address))) => {
            ping::run(params, address, deadline).await.into()
        }
        (Params::Udp(params), Some((_, address))) => {
            udp::run(params, address, deadline).await.into()
        }
        (Params::Tcp(params), Some((_, address))) => {
            tcp::run(params, address, deadline).await.into()
        }
        (Params::LdapRootDse(_), Some((_, address))) => {
            ldap::rootdse(address, deadline).await.into()
        }
        (Params::LdapBind(_), Some((dc, address))) => {
            ldap::bind(dc, address, context, deadline).await.into()
        }
        (Params::Ike(_) | Params::VpnTls(_) | Params::VpnTcp(_), _) => Outcome::error(format!(
            "probe `{}` runs per VPN gateway: add `for_each = \"vpn_gateway\"`",
            def.probe.as_str()
        ))
        .into(),
        (Params::Endpoint(_), _) => Outcome::error(
            "probe `endpoint` runs per endpoint: add `for_each = \"endpoint\"`".to_string(),
        )
        .into(),
        (Params::Locator(_) | Params::Directory(_) | Params::Wpad(_), Some(_)) => {
            Outcome::error(format!(
                "probe `{}` runs once, not per DC: remove `for_each`",
                def.probe.as_str()
            ))
            .into()
        }
        (_, None) => Outcome::error(format!(
            "probe `{}` runs per DC: add `for_each = \"dc\"` to check `{}`",
            def.probe.as_str(),
            def.id
        ))
        .into(),
    }
}
