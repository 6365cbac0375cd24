//! A TCP port of a DC: open, refused or silent, and what a closed port breaks.

use crate::catalog::TcpParams;
use crate::model::Outcome;
use crate::probe::tcp::{connect, ConnectError};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub async fn run(params: &TcpParams, address: IpAddr, deadline: Instant) -> Outcome {
    let socket = SocketAddr::new(address, params.port);
    let consequence = if params.consequence.is_empty() {
        String::new()
    } else {
        format!(": {}", params.consequence)
    };
    match connect(socket, deadline).await {
        Ok((_, connected)) => Outcome::pass(
            format!("TCP {} open ({} ms)", params.port, connected.connect_ms),
            json!({ "address": socket, "state": "open", "connect_ms": connected.connect_ms }),
        ),
        Err(error) => {
            let state = match error {
                ConnectError::Refused => "refused",
                ConnectError::Silent(_) => "filtered",
                ConnectError::Unreachable(_) => "unreachable",
            };
            Outcome::fail(
                format!("TCP {} {error}{consequence}", params.port),
                json!({ "address": socket, "state": state, "error": error.to_string() }),
            )
        }
    }
}
