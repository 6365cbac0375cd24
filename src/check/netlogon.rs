//! A DC's answer to the LDAP ping (NETLOGON_SAM_LOGON_RESPONSE), as evidence: shared by the
//! checks that ping DCs and by the round of pings the locator and the census share.

use crate::probe::cldap::Pong;
use crate::wire::cldap::NetlogonOutcome;
use serde::{Deserialize, Serialize};

/// The DC's NETLOGON_SAM_LOGON_RESPONSE, as evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NetlogonReply {
    pub opcode: u16,
    /// The DC's Netlogon service is paused (opcodes 20 and 24).
    pub paused: bool,
    pub flags: String,
    pub flag_names: Vec<String>,
    pub kdc: bool,
    pub closest: bool,
    pub domain_guid: Option<String>,
    pub forest: String,
    pub domain: String,
    pub host: String,
    pub netbios_domain: String,
    pub netbios_computer: String,
    pub dc_site: String,
    /// The site the DC maps this device's address to; empty when no subnet matches.
    pub client_site: String,
    pub next_closest_site: Option<String>,
    pub nt_version: u32,
}

impl NetlogonReply {
    pub fn from_pong(pong: &Pong) -> NetlogonReply {
        let r = &pong.response;
        NetlogonReply {
            opcode: r.opcode,
            paused: r.outcome == NetlogonOutcome::Paused,
            flags: format!("0x{:08x}", r.flags.0),
            flag_names: r.flags.names().into_iter().map(String::from).collect(),
            kdc: r.flags.is_kdc(),
            closest: r.flags.is_closest(),
            domain_guid: r.domain_guid.clone(),
            forest: r.forest.clone(),
            domain: r.domain.clone(),
            host: r.host.clone(),
            netbios_domain: r.netbios_domain.clone(),
            netbios_computer: r.netbios_computer.clone(),
            dc_site: r.dc_site.clone(),
            client_site: r.client_site.clone(),
            next_closest_site: r.next_closest_site.clone(),
            nt_version: r.nt_version,
        }
    }
}
