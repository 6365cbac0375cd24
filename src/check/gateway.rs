//! Finding a VPN gateway: its name resolved with the run's DNS servers, as every per-gateway
//! kind needs first.

use super::context::CheckContext;
use crate::probe::resolve::{resolve, Resolved};
use crate::profile::VpnGateway;
use std::net::SocketAddr;
use std::time::Instant;

/// The gateway's address, or why there is none (its finding text).
pub async fn address_of(
    gateway: &VpnGateway,
    port: u16,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Resolved, SocketAddr), String> {
    let resolved = resolve(&gateway.host, &context.dns_servers, deadline)
        .await
        .map_err(|error| format!("{error}: the device cannot find the VPN gateway"))?;
    let Some(ip) = resolved.first() else {
        return Err(format!("{} resolved to no address", gateway.host));
    };
    Ok((resolved, SocketAddr::new(ip, port)))
}

/// "vpn.corp.example (10.0.0.20)", or just the address when the profile gave one.
pub fn named(host: &str, address: SocketAddr) -> String {
    let ip = address.ip().to_string();
    if host.trim_matches(['[', ']']) == ip {
        ip
    } else {
        format!("{host} ({ip})")
    }
}
