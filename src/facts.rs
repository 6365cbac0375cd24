//! Typed facts: what one check learns that later checks use.

use serde::Serialize;
use std::net::IpAddr;

/// What the checks of a run have learnt so far, as a check sees it when it starts.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Every DC DNS listed, in RFC 2782 order.
    pub dcs: Vec<DomainController>,
    /// The DC the DC locator would use, once `dc.locator` has chosen.
    pub chosen_dc: Option<DomainController>,
}

/// A domain controller as DNS published it, in RFC 2782 order within the list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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
