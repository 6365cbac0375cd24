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
