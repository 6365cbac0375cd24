//! The LDAP ping to a DC: is it a DC of this domain, which site is it in, which site does it
//! put this device in, and what roles does it hold.

use super::CheckContext;
use crate::model::Outcome;
use crate::probe::cldap::{ping, CldapProbeError};
use crate::probe::tcp::millis;
use crate::wire::cldap::NetlogonOutcome;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub async fn run(address: IpAddr, context: &CheckContext, deadline: Instant) -> Outcome {
    let target = SocketAddr::new(address, 389);
    let domain = &context.settings.domain;
    let pong = match ping(target, domain, deadline).await {
        Ok(pong) => pong,
        Err(error) => {
            let hint = match error {
                CldapProbeError::Silent(..) | CldapProbeError::Refused(_) => {
                    ": the DC locator cannot use this DC (join error 0x80070774 if no DC answers)"
                }
                _ => "",
            };
            return Outcome::fail(
                format!("{error}{hint}"),
                json!({ "address": target, "error": error.to_string() }),
            );
        }
    };
    let r = &pong.response;
    let evidence = json!({
        "address": target,
        "rtt_ms": millis(pong.rtt),
        "opcode": r.opcode,
        "flags": format!("0x{:08x}", r.flags.0),
        "flag_names": r.flags.names(),
        "domain_guid": r.domain_guid,
        "forest": r.forest,
        "domain": r.domain,
        "host": r.host,
        "netbios_domain": r.netbios_domain,
        "netbios_computer": r.netbios_computer,
        "dc_site": r.dc_site,
        "client_site": r.client_site,
        "next_closest_site": r.next_closest_site,
        "nt_version": r.nt_version,
    });
    if r.outcome == NetlogonOutcome::Paused {
        return Outcome::fail(
            format!("{}: the DC's Netlogon service is paused", r.host),
            evidence,
        );
    }
    if !r.domain.eq_ignore_ascii_case(domain) {
        return Outcome::fail(
            format!("{} answers for domain {}, not {domain}", r.host, r.domain),
            evidence,
        );
    }
    let client_site = if r.client_site.is_empty() {
        "no site (this device's subnet is mapped to no AD site)".to_string()
    } else {
        r.client_site.clone()
    };
    let roles: Vec<&str> = r
        .flags
        .names()
        .into_iter()
        .filter(|name| {
            [
                "PDC",
                "GC",
                "KDC",
                "WRITABLE",
                "RODC",
                "CLOSEST",
                "GOOD_TIMESERV",
            ]
            .contains(name)
        })
        .collect();
    let summary = format!(
        "{} in site {}, puts this device in {client_site}; {} ({} ms)",
        r.host,
        r.dc_site,
        roles.join(" "),
        millis(pong.rtt)
    );
    match &context.settings.site {
        Some(expected) if !r.client_site.eq_ignore_ascii_case(expected) => Outcome::warn(
            format!("{summary}: the profile expects site {expected}, the DC says {client_site}"),
            evidence,
        ),
        _ if !r.flags.is_kdc() => Outcome::warn(format!("{summary}: not a KDC"), evidence),
        _ => Outcome::pass(summary, evidence),
    }
}
