//! `clock`: this device's clock against a DC's. Kerberos refuses tickets when the clocks
//! differ by more than its tolerance (5 minutes by default, MS-KILE), and the join then fails.

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::duration::{format_duration, TextDuration};
use crate::probe::kerberos::local_unix_micros;
use crate::probe::ldap::read_rootdse;
use crate::wire::ber::parse_generalized_time;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

pub const SPEC: KindSpec = KindSpec {
    name: "clock",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "the DC's clock (KRB-ERROR stime, NTP, rootDSE currentTime) against this device's",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// From this difference on, a warning: half of Kerberos' tolerance is gone.
    #[serde(default = "default_warn_at")]
    pub warn_at: TextDuration,
    /// Kerberos' maximum tolerance for computer clock synchronization.
    #[serde(default = "default_fail_at")]
    pub fail_at: TextDuration,
    #[serde(default = "default_kdc_port")]
    pub kdc_port: u16,
    #[serde(default = "default_ntp_port")]
    pub ntp_port: u16,
    #[serde(default = "default_ldap_port")]
    pub ldap_port: u16,
}

fn default_warn_at() -> TextDuration {
    TextDuration(Duration::from_secs(2 * 60))
}

fn default_fail_at() -> TextDuration {
    TextDuration(Duration::from_secs(5 * 60))
}

fn default_kdc_port() -> u16 {
    88
}

fn default_ntp_port() -> u16 {
    123
}

fn default_ldap_port() -> u16 {
    389
}

/// Where the DC's time was read; the first that answered, in this order, decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The KRB-ERROR's stime: what Kerberos itself compares.
    Kdc,
    /// The DC's SNTP answer.
    Ntp,
    /// The rootDSE's currentTime (one-second resolution).
    Rootdse,
}

impl ClockSource {
    fn describe(self) -> &'static str {
        match self {
            ClockSource::Kdc => "KDC time (KRB-ERROR stime)",
            ClockSource::Ntp => "DC's NTP answer",
            ClockSource::Rootdse => "rootDSE currentTime",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ClockEvidence")]
pub struct Evidence {
    pub address: IpAddr,
    pub kdc_offset_ms: Option<f64>,
    pub kdc_error: Option<String>,
    pub rootdse_current_time: Option<String>,
    pub rootdse_offset_ms: Option<f64>,
    pub ntp_offset_ms: Option<f64>,
    /// The offset the judgement used (the DC's clock minus this device's), and its source.
    pub offset_ms: Option<f64>,
    pub source: Option<ClockSource>,
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let realm = &context.settings.domain;
    let kdc = context
        .probes
        .kdc(SocketAddr::new(address, params.kdc_port), realm, deadline);
    let ldap = async {
        let before = local_unix_micros();
        let rootdse = read_rootdse(SocketAddr::new(address, params.ldap_port), deadline).await;
        let after = local_unix_micros();
        rootdse.ok().and_then(|rootdse| {
            let text = rootdse.first("currentTime")?.to_string();
            let time = parse_generalized_time(&text, "currentTime").ok()?;
            let dc_micros = time.unix_secs * 1_000_000 + i64::from(time.nanos / 1_000);
            // currentTime has one-second resolution: compare against the exchange's middle.
            Some((text, (dc_micros - (before + after) / 2) as f64 / 1_000.0))
        })
    };
    // Where the DC serves NTP, its answer is a second, sub-second view of its clock.
    let ntp = async {
        context
            .probes
            .ntp(SocketAddr::new(address, params.ntp_port), deadline)
            .await
            .ok()
            .map(|(answer, _)| answer.offset_ms)
    };
    tokio::pin!(kdc, ldap, ntp);
    // All three are asked at once; the first authoritative answer ends the wait: the KDC's
    // stime (what Kerberos itself compares), else NTP, else the rootDSE.
    let (mut kdc_seen, mut ntp_seen, mut ldap_seen) = (None, None, None);
    loop {
        let decided = matches!(
            (&kdc_seen, &ntp_seen, &ldap_seen),
            (Some(Ok(_)), _, _)
                | (Some(Err(_)), Some(Some(_)), _)
                | (Some(Err(_)), Some(None), Some(_))
        );
        if decided {
            break;
        }
        tokio::select! {
            answer = &mut kdc, if kdc_seen.is_none() => kdc_seen = Some(answer),
            answer = &mut ntp, if ntp_seen.is_none() => ntp_seen = Some(answer),
            answer = &mut ldap, if ldap_seen.is_none() => ldap_seen = Some(answer),
        }
    }
    let kdc_offset = match &kdc_seen {
        Some(Ok(seen)) => Some(seen.offset_ms),
        _ => None,
    };
    let ntp_offset = ntp_seen.flatten();
    let ldap = ldap_seen.flatten();
    let (offset_ms, source) = match (kdc_offset, ntp_offset, &ldap) {
        (Some(offset), _, _) => (Some(offset), Some(ClockSource::Kdc)),
        (None, Some(offset), _) => (Some(offset), Some(ClockSource::Ntp)),
        (None, None, Some((_, offset))) => (Some(*offset), Some(ClockSource::Rootdse)),
        (None, None, None) => (None, None),
    };
    Ok(Evidence {
        address,
        kdc_offset_ms: kdc_offset,
        kdc_error: match kdc_seen {
            Some(Err((_, error))) => Some(error),
            _ => None,
        },
        rootdse_current_time: ldap.as_ref().map(|(text, _)| text.clone()),
        rootdse_offset_ms: ldap.as_ref().map(|(_, offset)| *offset),
        ntp_offset_ms: ntp_offset,
        offset_ms,
        source,
    })
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

/// "5-minute" or "2 minutes" for whole minutes, else the duration as written ("90s").
fn length(duration: Duration, minutes: &str) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 && seconds.is_multiple_of(60) && duration.subsec_nanos() == 0 {
        let count = seconds / 60;
        // "1-minute" reads right, "1 minutes" does not.
        let unit = if count == 1 {
            minutes.trim_end_matches('s')
        } else {
            minutes
        };
        format!("{count}{unit}")
    } else {
        format_duration(duration)
    }
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let (Some(offset), Some(source)) = (evidence.offset_ms, evidence.source) else {
        return Judgement::fail(
            "cannot read the DC's clock: neither the KDC (UDP 88), NTP (UDP 123) nor the rootDSE (TCP 389) answered",
        );
    };
    let finding = format!("{} (from the {})", describe(offset), source.describe());
    let fail_ms = params.fail_at.0.as_secs_f64() * 1_000.0;
    let warn_ms = params.warn_at.0.as_secs_f64() * 1_000.0;
    if offset.abs() >= fail_ms {
        Judgement::fail(format!(
            "{finding}: over Kerberos' {} tolerance, the join and sign-in will fail",
            length(params.fail_at.0, "-minute")
        ))
    } else if offset.abs() >= warn_ms {
        Judgement::warn(format!(
            "{finding}: over {}, close to Kerberos' {} limit",
            length(params.warn_at.0, " minutes"),
            length(params.fail_at.0, "-minute")
        ))
    } else {
        Judgement::pass(finding)
    }
}
