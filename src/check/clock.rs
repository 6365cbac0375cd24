//! Clock skew against a DC: Kerberos refuses tickets when the clocks differ by more than
//! 5 minutes (its default tolerance, MS-KILE), and the join then fails.

use crate::model::Outcome;
use crate::probe::kerberos::{as_req, local_unix_micros, KerberosProbeError};
use crate::probe::ldap::read_rootdse;
use crate::probe::tcp::millis;
use crate::probe::udp::exchange;
use crate::wire::ber::parse_generalized_time;
use crate::wire::ntp;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// From here on a warning: half of Kerberos' tolerance is gone.
const WARN_MS: f64 = 2.0 * 60_000.0;
/// Kerberos' default maximum tolerance for computer clock synchronization.
const FAIL_MS: f64 = 5.0 * 60_000.0;

/// The KDC on UDP 88 answers an unauthenticated AS-REQ with a KRB-ERROR.
pub async fn kdc(address: IpAddr, realm: &str, deadline: Instant) -> Outcome {
    let target = SocketAddr::new(address, 88);
    match as_req(target, realm, deadline).await {
        Ok(answer) => {
            let name = answer.error.error_name().unwrap_or("an unnamed error");
            Outcome::pass(
                format!(
                    "the KDC answers on UDP 88 ({name}, {} ms)",
                    millis(answer.rtt)
                ),
                json!({
                    "address": target,
                    "rtt_ms": millis(answer.rtt),
                    "error_code": answer.error.error_code,
                    "error_name": name,
                    "realm": answer.error.realm,
                    "offset_ms": answer.offset_ms,
                }),
            )
        }
        Err(error) => {
            let consequence = match error {
                KerberosProbeError::Silent(..) | KerberosProbeError::Refused(_) => {
                    ": Kerberos over UDP fails (clients fall back to TCP 88 only for large tickets); join error 0x40 when TCP 88 is closed too"
                }
                _ => "",
            };
            Outcome::fail(
                format!("{error}{consequence}"),
                json!({ "address": target, "error": error.to_string() }),
            )
        }
    }
}

fn describe(offset_ms: f64) -> String {
    let seconds = offset_ms / 1_000.0;
    if seconds.abs() < 1.0 {
        return format!("this device's clock agrees with the DC's (offset {seconds:+.3} s)");
    }
    let direction = if seconds >= 0.0 { "behind" } else { "ahead of" };
    format!(
        "this device's clock is {:.1} s {direction} the DC",
        seconds.abs()
    )
}

pub async fn skew(address: IpAddr, realm: &str, deadline: Instant) -> Outcome {
    let kdc = as_req(SocketAddr::new(address, 88), realm, deadline);
    let ldap = async {
        let before = local_unix_micros();
        let rootdse = read_rootdse(SocketAddr::new(address, 389), deadline).await;
        let after = local_unix_micros();
        rootdse.ok().and_then(|rootdse| {
            let text = rootdse.first("currentTime")?.to_string();
            let time = parse_generalized_time(&text, "currentTime").ok()?;
            let dc_micros = time.unix_secs * 1_000_000 + i64::from(time.nanos / 1_000);
            // currentTime has one-second resolution: compare against the exchange's middle.
            Some((text, (dc_micros - (before + after) / 2) as f64 / 1_000.0))
        })
    };
    // Where the DC serves NTP, its answer is a third, sub-second view of its clock.
    let ntp = async {
        let since_epoch = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
        };
        let t1 = since_epoch();
        let reply = exchange(
            SocketAddr::new(address, 123),
            &ntp::encode_request(t1),
            deadline,
        )
        .await
        .ok()?;
        ntp::decode_response(&reply.bytes, t1, since_epoch())
            .ok()
            .map(|answer| answer.offset_ms)
    };
    let (kdc, ldap, ntp_offset) = tokio::join!(kdc, ldap, ntp);
    let kdc_offset = kdc.as_ref().ok().map(|answer| answer.offset_ms);
    let evidence = json!({
        "kdc_offset_ms": kdc_offset,
        "kdc_error": kdc.as_ref().err().map(ToString::to_string),
        "rootdse_current_time": ldap.as_ref().map(|(text, _)| text.clone()),
        "rootdse_offset_ms": ldap.as_ref().map(|(_, offset)| *offset),
        "ntp_offset_ms": ntp_offset,
        "warn_at_ms": WARN_MS,
        "fail_at_ms": FAIL_MS,
    });
    // The KDC's stime is what Kerberos itself compares; NTP and the rootDSE are fallbacks.
    let (offset, source) = match (kdc_offset, ntp_offset, &ldap) {
        (Some(offset), _, _) => (offset, "KDC time (KRB-ERROR stime)"),
        (None, Some(offset), _) => (offset, "DC's NTP answer"),
        (None, None, Some((_, offset))) => (*offset, "rootDSE currentTime"),
        (None, None, None) => {
            return Outcome::fail(
                "cannot read the DC's clock: neither the KDC (UDP 88), NTP (UDP 123) nor the rootDSE (TCP 389) answered",
                evidence,
            )
        }
    };
    let finding = format!("{} (from the {source})", describe(offset));
    let mut evidence = evidence;
    evidence["offset_ms"] = json!(offset);
    evidence["source"] = json!(source);
    if offset.abs() >= FAIL_MS {
        Outcome::fail(
            format!("{finding}: over Kerberos' 5-minute tolerance, the join and sign-in will fail"),
            evidence,
        )
    } else if offset.abs() >= WARN_MS {
        Outcome::warn(
            format!("{finding}: over 2 minutes, close to Kerberos' 5-minute limit"),
            evidence,
        )
    } else {
        Outcome::pass(finding, evidence)
    }
}
