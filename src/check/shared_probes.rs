//! One probe per (DC, port) and run. The KDC on UDP 88 and the time service on UDP 123 are each
//! asked by two checks (the port's own and the clock's); DCs rate-limit their ICMP "port
//! unreachable" and some answer only the first of two quick requests, so the second check would
//! wait out its whole timeout. Here the first check to ask sends the request, and every other
//! check of the run reads the same answer. The same holds for the round of LDAP pings to every
//! DC of the domain: the DC locator reads it as the answers come, the census when it ends.

use super::netlogon::NetlogonReply;
use crate::facts::DomainController;
use crate::model::Reach;
use crate::probe::cldap::{ping_many, PingOutcome};
use crate::probe::kerberos::{as_req, KerberosProbeError};
use crate::probe::ntp::{query, NtpProbeError};
use crate::probe::tcp::millis;
use crate::wire::ntp::NtpResponse;
use std::collections::HashMap;
use std::net::IpAddr;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, OnceCell};

/// What the KDC's KRB-ERROR said.
#[derive(Debug, Clone)]
pub struct KdcSeen {
    pub error_code: i32,
    pub error_name: Option<String>,
    pub realm: String,
    /// The KDC's clock minus this device's, in milliseconds.
    pub offset_ms: f64,
    pub rtt: Duration,
}

/// How an exchange failed: the reach, and the probe's own words.
pub type Failed = (Reach, String);

type Cells<T> = Mutex<HashMap<SocketAddr, Arc<OnceCell<Result<T, Failed>>>>>;

#[derive(Default)]
pub struct SharedProbes {
    kdc: Cells<KdcSeen>,
    ntp: Cells<(NtpResponse, Duration)>,
    ldap_round: Mutex<Option<watch::Receiver<Round>>>,
}

/// The round of LDAP pings to every DC, as it stands.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// One per DC, in the DC list's order; `Silent` until an answer comes.
    pub pings: Vec<PingResult>,
    /// Every DC answered, or the round's time is up.
    pub done: bool,
}

impl Round {
    pub fn answered(&self) -> usize {
        self.pings
            .iter()
            .filter(|p| p.answer == PingAnswer::Answered)
            .count()
    }
}

fn cell<T>(cells: &Cells<T>, address: SocketAddr) -> Arc<OnceCell<Result<T, Failed>>> {
    let mut map = match cells.lock() {
        Ok(map) => map,
        // A panicking check cannot leave a half-written map that matters here.
        Err(poisoned) => poisoned.into_inner(),
    };
    map.entry(address).or_default().clone()
}

impl SharedProbes {
    /// The round of LDAP pings to `dcs`, started by the first caller (ending at its
    /// `deadline`) and shared with every later one, which watches it fill.
    pub fn ldap_round(
        &self,
        dcs: &[DomainController],
        domain: &str,
        port: u16,
        deadline: Instant,
    ) -> watch::Receiver<Round> {
        let mut slot = match self.ldap_round.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(round) = slot.as_ref() {
            return round.clone();
        }
        let pings: Vec<PingResult> = dcs
            .iter()
            .map(|dc| PingResult {
                host: dc.hostname.clone(),
                address: dc.address(),
                answer: if dc.address().is_some() {
                    PingAnswer::Silent
                } else {
                    PingAnswer::Unsent
                },
                rtt_ms: 0.0,
                reply: None,
            })
            .collect();
        let (sender, receiver) = watch::channel(Round {
            pings,
            done: dcs.is_empty(),
        });
        *slot = Some(receiver.clone());
        let targets: Vec<(usize, SocketAddr)> = dcs
            .iter()
            .enumerate()
            .filter_map(|(i, dc)| Some((i, SocketAddr::new(dc.address()?, port))))
            .collect();
        let domain = domain.to_string();
        // Its own task: the round outlives whichever check started it, so a check that
        // concludes early never cuts the census short.
        tokio::spawn(async move {
            let addresses: Vec<SocketAddr> = targets.iter().map(|(_, a)| *a).collect();
            let outcomes = ping_many(&addresses, &domain, deadline, |index, pong| {
                if let Some((dc, _)) = targets.get(index) {
                    let reply = NetlogonReply::from_pong(pong);
                    let rtt_ms = millis(pong.rtt);
                    sender.send_modify(|round| {
                        if let Some(ping) = round.pings.get_mut(*dc) {
                            ping.answer = PingAnswer::Answered;
                            ping.rtt_ms = rtt_ms;
                            ping.reply = Some(reply);
                        }
                    });
                }
                false
            })
            .await;
            sender.send_modify(|round| {
                for ((dc, _), outcome) in targets.iter().zip(outcomes) {
                    if let Some(ping) = round.pings.get_mut(*dc) {
                        ping.answer = match outcome {
                            PingOutcome::Answered(_) => PingAnswer::Answered,
                            PingOutcome::Silent => PingAnswer::Silent,
                            PingOutcome::Malformed(_) => PingAnswer::Malformed,
                            PingOutcome::Unsent(_) => PingAnswer::Unsent,
                        };
                    }
                }
                round.done = true;
            });
        });
        receiver
    }

    /// An unauthenticated AS-REQ to the KDC at `address`, once per run.
    pub async fn kdc(
        &self,
        address: SocketAddr,
        realm: &str,
        deadline: Instant,
    ) -> Result<KdcSeen, Failed> {
        cell(&self.kdc, address)
            .get_or_init(|| async move {
                as_req(address, realm, deadline)
                    .await
                    .map(|answer| KdcSeen {
                        error_code: answer.error.error_code,
                        error_name: answer.error.error_name().map(String::from),
                        realm: answer.error.realm.clone(),
                        offset_ms: answer.offset_ms,
                        rtt: answer.rtt,
                    })
                    .map_err(|error| {
                        let reach = match &error {
                            KerberosProbeError::Silent(..) => Reach::Silent,
                            KerberosProbeError::Refused(_) => Reach::Refused,
                            KerberosProbeError::Io(_) => Reach::Unreachable,
                            KerberosProbeError::Malformed(_) => Reach::Malformed,
                        };
                        (reach, error.to_string())
                    })
            })
            .await
            .clone()
    }

    /// One SNTP exchange with `address`, once per run.
    pub async fn ntp(
        &self,
        address: SocketAddr,
        deadline: Instant,
    ) -> Result<(NtpResponse, Duration), Failed> {
        cell(&self.ntp, address)
            .get_or_init(|| async move {
                query(address, deadline)
                    .await
                    .map(|reply| (reply.response, reply.rtt))
                    .map_err(|error| {
                        let reach = match &error {
                            NtpProbeError::Refused(_) => Reach::Refused,
                            NtpProbeError::Silent { .. } => Reach::Silent,
                            NtpProbeError::Malformed(_) => Reach::Malformed,
                            NtpProbeError::Io(_) => Reach::Unreachable,
                        };
                        (reach, error.to_string())
                    })
            })
            .await
            .clone()
    }
}

/// How one DC answered the one LDAP ping the DC locator sent it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PingAnswer {
    Answered,
    Silent,
    Malformed,
    /// The ping could not be sent, or DNS gave the DC no address.
    Unsent,
}

/// One DC's LDAP ping, for the census of a large domain.
#[derive(Debug, Clone, PartialEq)]
pub struct PingResult {
    pub host: String,
    pub address: Option<IpAddr>,
    pub answer: PingAnswer,
    pub rtt_ms: f64,
    pub reply: Option<NetlogonReply>,
}
