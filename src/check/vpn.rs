//! VPN gateways (the vpn scenario): placeholder until the IKEv2/TLS probes land.

use super::CheckContext;
use crate::catalog::{IkeParams, VpnTcpParams, VpnTlsParams};
use crate::model::Outcome;
use crate::profile::VpnGateway;
use std::time::Instant;

pub async fn ike(
    _params: &IkeParams,
    _gateway: &VpnGateway,
    _context: &CheckContext,
    _deadline: Instant,
) -> Outcome {
    Outcome::error("the ike probe is not implemented yet")
}

pub async fn tls(
    _params: &VpnTlsParams,
    _gateway: &VpnGateway,
    _context: &CheckContext,
    _deadline: Instant,
) -> Outcome {
    Outcome::error("the vpn.tls probe is not implemented yet")
}

pub async fn tcp(
    _params: &VpnTcpParams,
    _gateway: &VpnGateway,
    _context: &CheckContext,
    _deadline: Instant,
) -> Outcome {
    Outcome::error("the vpn.tcp probe is not implemented yet")
}
