//! One probe per (DC, port) and run. The KDC on UDP 88 and the time service on UDP 123 are each
//! asked by two checks (the port's own and the clock's); DCs rate-limit their ICMP "port
//! unreachable" and some answer only the first of two quick requests, so the second check would
//! wait out its whole timeout. Here the first check to ask sends the request, and every other
//! check of the run reads the same answer.

use crate::model::Reach;
use crate::probe::kerberos::{as_req, KerberosProbeError};
use crate::probe::ntp::{query, NtpProbeError};
use crate::wire::ntp::NtpResponse;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

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
