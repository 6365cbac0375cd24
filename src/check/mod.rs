//! Check kinds: the one table of what a check can be, as blackbox_exporter maps a prober name to
//! one function. Each kind lives in its own file with the same shape (`shape.rs`): a `SPEC`
//! (fan-out, facts, password), typed `Params` read from the catalog, an `observe` that does all
//! the I/O and returns typed `Evidence`, and a pure `judge`.

pub mod census;
pub mod cldap;
pub mod clock;
pub mod connector;
pub mod context;
pub mod directory;
pub mod dns_srv;
pub mod endpoint;
mod gateway;
pub mod host_clock;
pub mod host_edition;
pub mod host_vpn;
pub mod host_vpn_certificate;
pub mod icmp;
pub mod ike;
pub mod kerberos;
pub mod kpasswd;
pub mod ldap_bind;
pub mod ldap_rootdse;
pub mod locator;
pub mod measure;
pub mod netlogon;
pub mod ntp;
pub mod revocation;
pub mod route;
pub mod shape;
pub mod shared_probes;
pub mod tcp;
pub mod tenant_federation;
pub mod tenant_fetch;
pub mod tenant_openid;
pub mod tenant_realm;
pub mod tenant_registration;
pub mod tenant_scp;
pub mod vpn_tcp;
pub mod vpn_tls;
pub mod wpad;

use crate::facts::{DomainController, ProxyDiscovery};
use context::{CheckContext, Inputs, Target};
use serde::{Deserialize, Serialize};
use shape::{Judgement, KindSpec, NotObserved};
use std::time::Instant;

/// Every check kind, by the name a catalog file gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    DnsSrv,
    Icmp,
    Cldap,
    Kerberos,
    Kpasswd,
    Ntp,
    Clock,
    Locator,
    Census,
    Tcp,
    LdapRootDse,
    LdapBind,
    Directory,
    Ike,
    VpnTls,
    VpnTcp,
    Wpad,
    Endpoint,
    Connector,
    TenantOpenId,
    TenantScp,
    TenantRegistration,
    TenantRealm,
    TenantFederation,
    HostEdition,
    HostClock,
    HostVpn,
    HostVpnCertificate,
}

impl Kind {
    pub const ALL: [Kind; 28] = [
        Kind::DnsSrv,
        Kind::Icmp,
        Kind::Cldap,
        Kind::Kerberos,
        Kind::Kpasswd,
        Kind::Ntp,
        Kind::Clock,
        Kind::Locator,
        Kind::Census,
        Kind::Tcp,
        Kind::LdapRootDse,
        Kind::LdapBind,
        Kind::Directory,
        Kind::Ike,
        Kind::VpnTls,
        Kind::VpnTcp,
        Kind::Wpad,
        Kind::Endpoint,
        Kind::Connector,
        Kind::TenantOpenId,
        Kind::TenantScp,
        Kind::TenantRegistration,
        Kind::TenantRealm,
        Kind::TenantFederation,
        Kind::HostEdition,
        Kind::HostClock,
        Kind::HostVpn,
        Kind::HostVpnCertificate,
    ];

    pub fn spec(self) -> &'static KindSpec {
        match self {
            Kind::DnsSrv => &dns_srv::SPEC,
            Kind::Icmp => &icmp::SPEC,
            Kind::Cldap => &cldap::SPEC,
            Kind::Kerberos => &kerberos::SPEC,
            Kind::Kpasswd => &kpasswd::SPEC,
            Kind::Ntp => &ntp::SPEC,
            Kind::Clock => &clock::SPEC,
            Kind::Locator => &locator::SPEC,
            Kind::Census => &census::SPEC,
            Kind::Tcp => &tcp::SPEC,
            Kind::LdapRootDse => &ldap_rootdse::SPEC,
            Kind::LdapBind => &ldap_bind::SPEC,
            Kind::Directory => &directory::SPEC,
            Kind::Ike => &ike::SPEC,
            Kind::VpnTls => &vpn_tls::SPEC,
            Kind::VpnTcp => &vpn_tcp::SPEC,
            Kind::Wpad => &wpad::SPEC,
            Kind::Endpoint => &endpoint::SPEC,
            Kind::Connector => &connector::SPEC,
            Kind::TenantOpenId => &tenant_openid::SPEC,
            Kind::TenantScp => &tenant_scp::SPEC,
            Kind::TenantRegistration => &tenant_registration::SPEC,
            Kind::TenantRealm => &tenant_realm::SPEC,
            Kind::TenantFederation => &tenant_federation::SPEC,
            Kind::HostEdition => &host_edition::SPEC,
            Kind::HostClock => &host_clock::SPEC,
            Kind::HostVpn => &host_vpn::SPEC,
            Kind::HostVpnCertificate => &host_vpn_certificate::SPEC,
        }
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The `[[vpn]] kind` a per-gateway kind speaks.
    pub fn vpn_kind(self) -> Option<crate::profile::VpnKind> {
        use crate::profile::VpnKind;
        match self {
            Kind::Ike => Some(VpnKind::Ikev2),
            Kind::VpnTls => Some(VpnKind::Tls),
            Kind::VpnTcp => Some(VpnKind::Tcp),
            Kind::HostVpnCertificate => Some(VpnKind::Ikev2),
            _ => None,
        }
    }

    /// Reads a check's `params` table as this kind's typed parameters, with its defaults.
    pub fn params(self, table: toml::Table) -> Result<Params, toml::de::Error> {
        let value = toml::Value::Table(table);
        Ok(match self {
            Kind::DnsSrv => Params::DnsSrv(value.try_into()?),
            Kind::Icmp => Params::Icmp(value.try_into()?),
            Kind::Cldap => Params::Cldap(value.try_into()?),
            Kind::Kerberos => Params::Kerberos(value.try_into()?),
            Kind::Kpasswd => Params::Kpasswd(value.try_into()?),
            Kind::Ntp => Params::Ntp(value.try_into()?),
            Kind::Clock => Params::Clock(value.try_into()?),
            Kind::Locator => Params::Locator(value.try_into()?),
            Kind::Census => Params::Census(value.try_into()?),
            Kind::Tcp => Params::Tcp(value.try_into()?),
            Kind::LdapRootDse => Params::LdapRootDse(value.try_into()?),
            Kind::LdapBind => Params::LdapBind(value.try_into()?),
            Kind::Directory => Params::Directory(value.try_into()?),
            Kind::Ike => Params::Ike(value.try_into()?),
            Kind::VpnTls => Params::VpnTls(value.try_into()?),
            Kind::VpnTcp => Params::VpnTcp(value.try_into()?),
            Kind::Wpad => Params::Wpad(value.try_into()?),
            Kind::Endpoint => Params::Endpoint(value.try_into()?),
            Kind::Connector => Params::Connector(value.try_into()?),
            Kind::TenantOpenId => Params::TenantOpenId(value.try_into()?),
            Kind::TenantScp => Params::TenantScp(value.try_into()?),
            Kind::TenantRegistration => Params::TenantRegistration(value.try_into()?),
            Kind::TenantRealm => Params::TenantRealm(value.try_into()?),
            Kind::TenantFederation => Params::TenantFederation(value.try_into()?),
            Kind::HostEdition => Params::HostEdition(value.try_into()?),
            Kind::HostClock => Params::HostClock(value.try_into()?),
            Kind::HostVpn => Params::HostVpn(value.try_into()?),
            Kind::HostVpnCertificate => Params::HostVpnCertificate(value.try_into()?),
        })
    }
}

/// A check's parameters, typed per kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Params {
    DnsSrv(dns_srv::Params),
    Icmp(icmp::Params),
    Cldap(cldap::Params),
    Kerberos(kerberos::Params),
    Kpasswd(kpasswd::Params),
    Ntp(ntp::Params),
    Clock(clock::Params),
    Locator(locator::Params),
    Census(census::Params),
    Tcp(tcp::Params),
    LdapRootDse(ldap_rootdse::Params),
    LdapBind(ldap_bind::Params),
    Directory(directory::Params),
    Ike(ike::Params),
    VpnTls(vpn_tls::Params),
    VpnTcp(vpn_tcp::Params),
    Wpad(wpad::Params),
    Endpoint(endpoint::Params),
    Connector(connector::Params),
    TenantOpenId(tenant_openid::Params),
    TenantScp(tenant_scp::Params),
    TenantRegistration(tenant_registration::Params),
    TenantRealm(tenant_realm::Params),
    TenantFederation(tenant_federation::Params),
    HostEdition(host_edition::Params),
    HostClock(host_clock::Params),
    HostVpn(host_vpn::Params),
    HostVpnCertificate(host_vpn_certificate::Params),
}

/// What a check observed, tagged by its kind in the report (`"kind": "tcp"`).
// One value per report row, built once and moved: the size of the largest variant costs less
// than a box in every pattern that reads one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind")]
pub enum Evidence {
    #[serde(rename = "dns.srv")]
    DnsSrv(dns_srv::Evidence),
    #[serde(rename = "icmp")]
    Icmp(icmp::Evidence),
    #[serde(rename = "cldap")]
    Cldap(cldap::Evidence),
    #[serde(rename = "kerberos")]
    Kerberos(kerberos::Evidence),
    #[serde(rename = "kpasswd")]
    Kpasswd(kpasswd::Evidence),
    #[serde(rename = "ntp")]
    Ntp(ntp::Evidence),
    #[serde(rename = "clock")]
    Clock(clock::Evidence),
    #[serde(rename = "dc.locator")]
    Locator(locator::Evidence),
    #[serde(rename = "dc.census")]
    Census(census::Evidence),
    #[serde(rename = "tcp")]
    Tcp(tcp::Evidence),
    #[serde(rename = "ldap.rootdse")]
    LdapRootDse(ldap_rootdse::Evidence),
    #[serde(rename = "ldap.bind")]
    LdapBind(ldap_bind::Evidence),
    #[serde(rename = "ldap.directory")]
    Directory(directory::Evidence),
    #[serde(rename = "ike")]
    Ike(ike::Evidence),
    #[serde(rename = "vpn.tls")]
    VpnTls(vpn_tls::Evidence),
    #[serde(rename = "vpn.tcp")]
    VpnTcp(vpn_tcp::Evidence),
    #[serde(rename = "wpad")]
    Wpad(wpad::Evidence),
    #[serde(rename = "endpoint")]
    Endpoint(endpoint::Evidence),
    #[serde(rename = "ldap.connector")]
    Connector(connector::Evidence),
    #[serde(rename = "tenant.openid")]
    TenantOpenId(tenant_openid::Evidence),
    #[serde(rename = "tenant.scp")]
    TenantScp(tenant_scp::Evidence),
    #[serde(rename = "tenant.registration")]
    TenantRegistration(tenant_registration::Evidence),
    #[serde(rename = "tenant.realm")]
    TenantRealm(tenant_realm::Evidence),
    #[serde(rename = "tenant.federation")]
    TenantFederation(tenant_federation::Evidence),
    #[serde(rename = "host.edition")]
    HostEdition(host_edition::Evidence),
    #[serde(rename = "host.clock")]
    HostClock(host_clock::Evidence),
    #[serde(rename = "host.vpn")]
    HostVpn(host_vpn::Evidence),
    #[serde(rename = "host.vpn_certificate")]
    HostVpnCertificate(host_vpn_certificate::Evidence),
}

/// What `observe` found: the evidence, and the facts it learnt for the board.
#[derive(Debug)]
pub struct Observation {
    pub evidence: Evidence,
    pub dcs: Option<Vec<DomainController>>,
    pub chosen_dc: Option<DomainController>,
    pub checked_dcs: Option<Vec<DomainController>>,
    pub proxy: Option<ProxyDiscovery>,
    /// What the tenant checks (and the registration SCP's reader) learnt.
    pub tenant: crate::facts::TenantFacts,
}

impl From<Evidence> for Observation {
    fn from(evidence: Evidence) -> Observation {
        Observation {
            evidence,
            dcs: None,
            chosen_dc: None,
            checked_dcs: None,
            proxy: None,
            tenant: crate::facts::TenantFacts::default(),
        }
    }
}

/// Asks the network `params`' question about `target`, within `deadline`.
pub async fn observe(
    params: &Params,
    provides: &[shape::Fact],
    target: &Target,
    context: &CheckContext,
    inputs: &Inputs,
    deadline: Instant,
) -> Result<Observation, NotObserved> {
    // Per-DC kinds need the DC's address first.
    let dc = match target {
        Target::Dc(dc) => match dc.address() {
            Some(address) => Some((dc, address)),
            None => {
                return Err(NotObserved::Skip(format!(
                    "DNS gave no address for {}",
                    dc.hostname
                )))
            }
        },
        _ => None,
    };
    let mismatch = || {
        NotObserved::Error(format!(
            "this kind does not run against {}",
            match target {
                Target::Once => "nothing (it runs per target)",
                Target::Dc(_) => "a DC",
                Target::VpnGateway(_) => "a VPN gateway",
                Target::Endpoint(_) => "an endpoint",
            }
        ))
    };
    Ok(match (params, target, dc) {
        (Params::DnsSrv(p), Target::Once, _) => {
            let lists_dcs = provides.contains(&shape::Fact::Dcs);
            let evidence = dns_srv::observe(p, lists_dcs, context, deadline).await?;
            Observation {
                dcs: lists_dcs.then(|| evidence.targets.clone()),
                ..Evidence::DnsSrv(evidence).into()
            }
        }
        (Params::Locator(p), Target::Once, _) => {
            let located = locator::observe(p, inputs, context, deadline).await?;
            Observation {
                chosen_dc: located.chosen,
                checked_dcs: Some(located.checked),
                ..Evidence::Locator(located.evidence).into()
            }
        }
        (Params::Census(p), Target::Once, _) => {
            Evidence::Census(census::observe(p, inputs, context, deadline).await?).into()
        }
        (Params::Directory(p), Target::Once, _) => {
            let evidence = directory::observe(p, inputs, context, deadline).await?;
            Observation {
                tenant: crate::facts::TenantFacts {
                    registration_scp: directory::registration_scp(&evidence),
                    ..Default::default()
                },
                ..Evidence::Directory(evidence).into()
            }
        }
        (Params::Connector(p), Target::Once, _) => {
            Evidence::Connector(connector::observe(p, inputs, context, deadline).await?).into()
        }
        (Params::TenantOpenId(p), Target::Once, _) => {
            let (evidence, tenant_id) =
                tenant_openid::observe(p, inputs, context, deadline).await?;
            Observation {
                tenant: crate::facts::TenantFacts {
                    tenant_id,
                    ..Default::default()
                },
                ..Evidence::TenantOpenId(evidence).into()
            }
        }
        (Params::TenantScp(p), Target::Once, _) => {
            Evidence::TenantScp(tenant_scp::observe(p, inputs)?).into()
        }
        (Params::TenantRegistration(p), Target::Once, _) => Evidence::TenantRegistration(
            tenant_registration::observe(p, inputs, context, deadline).await?,
        )
        .into(),
        (Params::TenantRealm(p), Target::Once, _) => {
            let (evidence, user_realm) =
                tenant_realm::observe(p, inputs, context, deadline).await?;
            Observation {
                tenant: crate::facts::TenantFacts {
                    user_realm,
                    ..Default::default()
                },
                ..Evidence::TenantRealm(evidence).into()
            }
        }
        (Params::TenantFederation(p), Target::Once, _) => Evidence::TenantFederation(
            tenant_federation::observe(p, inputs, context, deadline).await?,
        )
        .into(),
        (Params::Wpad(p), Target::Once, _) => {
            let (evidence, proxy) = wpad::observe(p, context, deadline).await?;
            Observation {
                proxy: Some(proxy),
                ..Evidence::Wpad(evidence).into()
            }
        }
        (Params::Icmp(p), _, Some((_, address))) => {
            Evidence::Icmp(icmp::observe(p, address, deadline).await?).into()
        }
        (Params::Cldap(p), _, Some((_, address))) => {
            Evidence::Cldap(cldap::observe(p, address, context, deadline).await?).into()
        }
        (Params::Kerberos(p), _, Some((_, address))) => {
            Evidence::Kerberos(kerberos::observe(p, address, context, deadline).await?).into()
        }
        (Params::Kpasswd(p), _, Some((_, address))) => {
            Evidence::Kpasswd(kpasswd::observe(p, address, deadline).await?).into()
        }
        (Params::Ntp(p), _, Some((_, address))) => {
            Evidence::Ntp(ntp::observe(p, address, context, deadline).await?).into()
        }
        (Params::Clock(p), _, Some((_, address))) => {
            Evidence::Clock(clock::observe(p, address, context, deadline).await?).into()
        }
        (Params::Tcp(p), _, Some((_, address))) => {
            Evidence::Tcp(tcp::observe(p, address, deadline).await?).into()
        }
        (Params::LdapRootDse(p), _, Some((_, address))) => {
            Evidence::LdapRootDse(ldap_rootdse::observe(p, address, deadline).await?).into()
        }
        (Params::LdapBind(p), _, Some((dc, address))) => {
            Evidence::LdapBind(ldap_bind::observe(p, dc, address, context, deadline).await?).into()
        }
        (Params::Ike(p), Target::VpnGateway(gateway), _) => {
            Evidence::Ike(ike::observe(p, gateway, context, deadline).await?).into()
        }
        (Params::VpnTls(p), Target::VpnGateway(gateway), _) => {
            Evidence::VpnTls(vpn_tls::observe(p, gateway, context, deadline).await?).into()
        }
        (Params::VpnTcp(p), Target::VpnGateway(gateway), _) => {
            Evidence::VpnTcp(vpn_tcp::observe(p, gateway, context, deadline).await?).into()
        }
        (Params::Endpoint(p), Target::Endpoint(endpoint), _) => {
            Evidence::Endpoint(endpoint::observe(p, endpoint, inputs, context, deadline).await?)
                .into()
        }
        (Params::HostEdition(p), Target::Once, _) => {
            Evidence::HostEdition(host_edition::observe(p, context).await?).into()
        }
        (Params::HostClock(_), Target::Once, _) => {
            Evidence::HostClock(host_clock::observe()).into()
        }
        (Params::HostVpn(p), Target::Once, _) => {
            Evidence::HostVpn(host_vpn::observe(p, context).await?).into()
        }
        (Params::HostVpnCertificate(p), Target::VpnGateway(gateway), _) => {
            Evidence::HostVpnCertificate(
                host_vpn_certificate::observe(p, gateway, context, deadline).await?,
            )
            .into()
        }
        // The catalog validates kind against fan-out at load time; this cannot happen.
        _ => return Err(mismatch()),
    })
}

/// The judgement of `evidence` under `params`: pure, testable from a table of evidence values.
pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    match (params, evidence) {
        (Params::DnsSrv(p), Evidence::DnsSrv(e)) => dns_srv::judge(p, e),
        (Params::Icmp(p), Evidence::Icmp(e)) => icmp::judge(p, e),
        (Params::Cldap(p), Evidence::Cldap(e)) => cldap::judge(p, e),
        (Params::Kerberos(p), Evidence::Kerberos(e)) => kerberos::judge(p, e),
        (Params::Kpasswd(p), Evidence::Kpasswd(e)) => kpasswd::judge(p, e),
        (Params::Ntp(p), Evidence::Ntp(e)) => ntp::judge(p, e),
        (Params::Clock(p), Evidence::Clock(e)) => clock::judge(p, e),
        (Params::Locator(p), Evidence::Locator(e)) => locator::judge(p, e),
        (Params::Census(p), Evidence::Census(e)) => census::judge(p, e),
        (Params::Tcp(p), Evidence::Tcp(e)) => tcp::judge(p, e),
        (Params::LdapRootDse(p), Evidence::LdapRootDse(e)) => ldap_rootdse::judge(p, e),
        (Params::LdapBind(p), Evidence::LdapBind(e)) => ldap_bind::judge(p, e),
        (Params::Directory(p), Evidence::Directory(e)) => directory::judge(p, e),
        (Params::Ike(p), Evidence::Ike(e)) => ike::judge(p, e),
        (Params::VpnTls(p), Evidence::VpnTls(e)) => vpn_tls::judge(p, e),
        (Params::VpnTcp(p), Evidence::VpnTcp(e)) => vpn_tcp::judge(p, e),
        (Params::Wpad(p), Evidence::Wpad(e)) => wpad::judge(p, e),
        (Params::Endpoint(p), Evidence::Endpoint(e)) => endpoint::judge(p, e),
        (Params::Connector(p), Evidence::Connector(e)) => connector::judge(p, e),
        (Params::TenantOpenId(p), Evidence::TenantOpenId(e)) => tenant_openid::judge(p, e),
        (Params::TenantScp(p), Evidence::TenantScp(e)) => tenant_scp::judge(p, e),
        (Params::TenantRegistration(p), Evidence::TenantRegistration(e)) => {
            tenant_registration::judge(p, e)
        }
        (Params::TenantRealm(p), Evidence::TenantRealm(e)) => tenant_realm::judge(p, e),
        (Params::TenantFederation(p), Evidence::TenantFederation(e)) => {
            tenant_federation::judge(p, e)
        }
        (Params::HostEdition(p), Evidence::HostEdition(e)) => host_edition::judge(p, e),
        (Params::HostClock(p), Evidence::HostClock(e)) => host_clock::judge(p, e),
        (Params::HostVpn(p), Evidence::HostVpn(e)) => host_vpn::judge(p, e),
        (Params::HostVpnCertificate(p), Evidence::HostVpnCertificate(e)) => {
            host_vpn_certificate::judge(p, e)
        }
        _ => Judgement::error("the evidence is of another kind than the check"),
    }
}

/// The row's target column.
pub fn target_label(
    params: &Params,
    target: &Target,
    settings: &crate::profile::Settings,
) -> String {
    match (target, params) {
        (Target::Dc(dc), _) => dc.hostname.clone(),
        (Target::VpnGateway(gateway), _) => gateway.host.clone(),
        (Target::Endpoint(endpoint), _) => endpoint.label(),
        (Target::Once, Params::DnsSrv(params)) => settings.expand_or_placeholder(&params.name),
        (
            Target::Once,
            Params::TenantOpenId(_)
            | Params::TenantScp(_)
            | Params::TenantRegistration(_)
            | Params::TenantRealm(_)
            | Params::TenantFederation(_),
        ) => settings
            .tenant
            .clone()
            .unwrap_or_else(|| "(no tenant)".to_string()),
        (Target::Once, _) => settings.domain.clone(),
    }
}
#[cfg(test)]
mod judge_tests;
#[cfg(test)]
mod tenant_judge_tests;
