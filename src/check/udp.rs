//! A UDP service of a DC asked in its own protocol: kpasswd (464) gets a malformed password
//! change request, which a live kpasswd service answers with an error; NTP (123) gets an SNTP
//! request, whose answer also gives the DC's clock.

use crate::catalog::{UdpParams, UdpPayload};
use crate::model::Outcome;
use crate::probe::tcp::millis;
use crate::probe::udp::{exchange, UdpError};
use crate::wire::{kerberos, ntp};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A kpasswd request (RFC 3244) with an empty AP-REQ: too short to change anything, long
/// enough for the service to answer with its error reply.
const KPASSWD_PROBE: [u8; 16] = [
    0x00, 0x10, 0xff, 0x80, 0x00, 0x00, 0x30, 0x03, 0x02, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The result the kpasswd service put in the KRB-ERROR's e-data (RFC 3244 section 2: a 16-bit
/// result code, then the service's own text), when it did.
fn kpasswd_result(e_data: Option<&[u8]>) -> serde_json::Value {
    match e_data {
        Some([high, low, text @ ..]) => json!({
            "code": u16::from_be_bytes([*high, *low]),
            "text": String::from_utf8_lossy(text).trim(),
        }),
        _ => serde_json::Value::Null,
    }
}

fn since_epoch() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub async fn run(params: &UdpParams, address: IpAddr, deadline: Instant) -> Outcome {
    let target = SocketAddr::new(address, params.port);
    let t1 = since_epoch();
    let request: Vec<u8> = match params.payload {
        UdpPayload::Kpasswd => KPASSWD_PROBE.to_vec(),
        UdpPayload::Ntp => ntp::encode_request(t1).to_vec(),
    };
    let consequence = if params.consequence.is_empty() {
        String::new()
    } else {
        format!(": {}", params.consequence)
    };
    let reply = match exchange(target, &request, deadline).await {
        Ok(reply) => reply,
        Err(error) => {
            let state = match error {
                UdpError::Refused(_) => "closed",
                UdpError::Silent { .. } => "silent",
                UdpError::Io(_) => "error",
            };
            return Outcome::fail(
                format!("{error}{consequence}"),
                json!({ "address": target, "state": state, "error": error.to_string() }),
            );
        }
    };
    let t4 = since_epoch();
    let rtt_ms = millis(reply.rtt);
    match params.payload {
        // Only a Kerberos answer proves kpasswd: a UDP echo service would also "answer".
        UdpPayload::Kpasswd => match kerberos::decode_kpasswd_error(&reply.bytes) {
            Ok(error) => {
                let code = error
                    .error_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("error {}", error.error_code));
                Outcome::pass(
                    format!(
                        "the kpasswd service answers on UDP {} ({rtt_ms} ms, {code} to the empty request)",
                        params.port
                    ),
                    json!({ "address": target, "state": "open", "rtt_ms": rtt_ms, "reply_bytes": reply.bytes.len(), "krb_error": code, "realm": error.realm, "kpasswd_result": kpasswd_result(error.e_data.as_deref()) }),
                )
            }
            Err(error) => Outcome::fail(
                format!(
                    "UDP {} answered, but not as kpasswd: {error}{consequence}",
                    params.port
                ),
                json!({ "address": target, "state": "open", "reply_bytes": reply.bytes.len(), "error": error.to_string() }),
            ),
        },
        UdpPayload::Ntp => match ntp::decode_response(&reply.bytes, t1, t4) {
            Ok(answer) => Outcome::pass(
                format!(
                    "NTP answers on UDP {}: stratum {}, offset {:+.1} ms",
                    params.port, answer.stratum, answer.offset_ms
                ),
                json!({ "address": target, "state": "open", "rtt_ms": rtt_ms, "stratum": answer.stratum, "offset_ms": answer.offset_ms, "reference": answer.reference }),
            ),
            Err(error) => Outcome::fail(
                format!(
                    "UDP {} answered, but not with usable NTP: {error}",
                    params.port
                ),
                json!({ "address": target, "state": "open", "error": error.to_string() }),
            ),
        },
    }
}
