//! Typed facts: what one check learns that later checks use. They travel only through the
//! runner's board.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

/// A domain controller as DNS published it, in RFC 2782 order within the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct DomainController {
    pub hostname: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
    /// Every address the DNS servers gave for the hostname; empty when none resolved.
    pub addresses: Vec<IpAddr>,
    /// The DNS servers whose SRV answer listed this DC.
    pub listed_by: Vec<String>,
}

impl DomainController {
    /// The address probes use: IPv4 first, as Windows' DC locator prefers it on dual-stack LANs.
    pub fn address(&self) -> Option<IpAddr> {
        self.addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| self.addresses.first())
            .copied()
    }
}

/// The PAC file WPAD found, for the endpoint routes.
#[derive(Debug, Clone, PartialEq)]
pub struct PacFile {
    pub url: String,
    pub source: Arc<str>,
}

/// What proxy discovery concluded for the endpoint routes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ProxyDiscovery {
    /// Not discovered through WPAD: an explicit proxy, the environment, or WPAD off or empty.
    #[default]
    NoPac,
    /// WPAD named a PAC file that cannot be used, and why.
    Unusable(&'static str),
    /// WPAD's PAC file, fetched and runnable.
    Pac(PacFile),
}

/// The tenant ID that OpenID discovery gave for the profile's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantId {
    /// The tenant as the profile writes it (a domain or an ID).
    pub tenant: String,
    /// Lowercase GUID.
    pub id: String,
}

/// The tenant keywords of the Device Registration service connection point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationScp {
    pub dn: String,
    pub azure_ad_name: Option<String>,
    pub azure_ad_id: Option<String>,
}

/// What the tenant checks learnt, each part put there by the check that provides it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantFacts {
    pub tenant_id: Option<TenantId>,
    pub registration_scp: Option<RegistrationScp>,
    /// How the tenant's domain signs in, and its federation server.
    pub user_realm: Option<crate::wire::tenant::UserRealm>,
}

impl TenantFacts {
    /// Adds the parts `learnt` knows, keeping the others.
    pub fn merge(&mut self, learnt: TenantFacts) {
        if learnt.tenant_id.is_some() {
            self.tenant_id = learnt.tenant_id;
        }
        if learnt.registration_scp.is_some() {
            self.registration_scp = learnt.registration_scp;
        }
        if learnt.user_realm.is_some() {
            self.user_realm = learnt.user_realm;
        }
    }
}
