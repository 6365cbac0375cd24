//! `host.vpn_certificate`: when a `[[vpn]]` IKEv2 gateway authenticates devices by certificate
//! (its IKE_SA_INIT answer carries CERTREQ payloads naming the CAs it trusts), the device needs
//! a machine certificate in LocalMachine\My with the Client Authentication EKU, valid now, that
//! chains to one of those CAs. A device tunnel or an always-on machine VPN fails without one,
//! and with "Skip domain connectivity check" the user then never reaches a DC at sign-in.
//! Windows only (the certificate store): elsewhere a skip.

use super::context::CheckContext;
use super::gateway::address_of;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::probe::ike::probe as ike_probe;
use crate::profile::VpnGateway;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

pub const SPEC: KindSpec = KindSpec {
    name: "host.vpn_certificate",
    fan_out: FanOut::VpnGateway,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "a machine certificate (LocalMachine\\My, Client Authentication) from a CA the IKEv2 gateway names in CERTREQ",
};

/// Bound on the chain walked from a machine certificate to its root.
const MAX_CHAIN: usize = 8;

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The IKE port asked, unless the `[[vpn]]` entry names one.
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    500
}

/// One certificate of LocalMachine\My, as the judgement sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MachineCertificate {
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    pub valid_now: bool,
    /// Client Authentication EKU (or no EKU restriction at all).
    pub client_auth: bool,
    /// The CA of its chain the gateway asked for (its SHA-1 SubjectPublicKeyInfo hash), if any.
    pub requested_ca: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "HostVpnCertificateEvidence")]
pub struct Evidence {
    pub gateway: String,
    /// The CAs the gateway's CERTREQ names, SHA-1 of SubjectPublicKeyInfo in hex.
    pub requested_cas: Vec<String>,
    /// Those the device's CA stores know, by subject.
    pub requested_ca_names: Vec<String>,
    pub certificates: Vec<MachineCertificate>,
}

pub async fn observe(
    params: &Params,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    if !cfg!(windows) {
        return Err(NotObserved::Skip(format!(
            "reads the Windows certificate store: runs on the Windows device only (this is {})",
            std::env::consts::OS
        )));
    }
    let port = gateway.port.unwrap_or(params.port);
    let (_, address) = address_of(gateway, port, context, deadline)
        .await
        .map_err(NotObserved::Skip)?;
    let answer = ike_probe(address, false, deadline).await.map_err(|e| {
        NotObserved::Skip(format!(
            "the gateway did not answer IKE_SA_INIT ({e}): vpn.ike says why"
        ))
    })?;
    if answer.certificate_authorities.is_empty() {
        return Err(NotObserved::Skip(
            "the gateway names no CA (no CERTREQ): it does not ask for a certificate here"
                .to_string(),
        ));
    }
    let stores = read_stores().map_err(NotObserved::Error)?;
    Ok(evidence_from(
        &gateway.host,
        &answer.certificate_authorities,
        &stores.mine,
        &stores.cas,
        ASN1Time::now(),
    ))
}

/// The device's certificates as DER: LocalMachine\My, and LocalMachine\Root + CA.
struct Stores {
    mine: Vec<Vec<u8>>,
    cas: Vec<Vec<u8>>,
}

#[cfg(windows)]
fn read_stores() -> Result<Stores, String> {
    use crate::device::certstore::certificates;
    let mine = certificates("My")?;
    let mut cas = certificates("Root")?;
    cas.extend(certificates("CA")?);
    Ok(Stores { mine, cas })
}

#[cfg(not(windows))]
fn read_stores() -> Result<Stores, String> {
    Ok(Stores {
        mine: Vec::new(),
        cas: Vec::new(),
    })
}

fn sha1_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Pure: the machine certificates judged against the requested CAs, with the CA stores to walk
/// each chain up to its root.
pub fn evidence_from(
    gateway: &str,
    requested: &[String],
    machine: &[Vec<u8>],
    ca_store: &[Vec<u8>],
    now: ASN1Time,
) -> Evidence {
    let cas: Vec<X509Certificate> = ca_store
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    let wanted = |cert: &X509Certificate| {
        let hash = sha1_hex(cert.tbs_certificate.subject_pki.raw);
        requested
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&hash))
            .then_some(hash)
    };
    let requested_ca_names = cas
        .iter()
        .filter(|ca| wanted(ca).is_some())
        .map(|ca| ca.subject().to_string())
        .collect();
    let certificates = machine
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .map(|cert| {
            let client_auth = match cert.extended_key_usage() {
                Ok(Some(eku)) => eku.value.client_auth || eku.value.any,
                Ok(None) => true,
                Err(_) => false,
            };
            // Walk up by issuer name; the first CA on the way that the gateway names counts.
            let mut requested_ca = None;
            let mut current = cert.issuer().as_raw();
            for _ in 0..MAX_CHAIN {
                let Some(ca) = cas.iter().find(|ca| ca.subject().as_raw() == current) else {
                    break;
                };
                if let Some(hash) = wanted(ca) {
                    requested_ca = Some(hash);
                    break;
                }
                if ca.issuer().as_raw() == ca.subject().as_raw() {
                    break;
                }
                current = ca.issuer().as_raw();
            }
            MachineCertificate {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_after: cert.validity().not_after.to_string(),
                valid_now: cert.validity().is_valid_at(now),
                client_auth,
                requested_ca,
            }
        })
        .collect();
    Evidence {
        gateway: gateway.to_string(),
        requested_cas: requested.to_vec(),
        requested_ca_names,
        certificates,
    }
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let cas = if evidence.requested_ca_names.is_empty() {
        format!(
            "CA(s) {} (not in this device's Root or CA store)",
            evidence.requested_cas.join(", ")
        )
    } else {
        evidence.requested_ca_names.join(", ")
    };
    let good = evidence
        .certificates
        .iter()
        .find(|c| c.client_auth && c.valid_now && c.requested_ca.is_some());
    if let Some(cert) = good {
        return Judgement::pass(format!(
            "machine certificate {} (Client Authentication, valid until {}) chains to {cas}, which {} asks for",
            cert.subject, cert.not_after, evidence.gateway
        ));
    }
    let near: Vec<String> = evidence
        .certificates
        .iter()
        .filter(|c| c.requested_ca.is_some())
        .map(|c| {
            let why = if !c.client_auth {
                "no Client Authentication EKU"
            } else {
                "not valid now"
            };
            format!("{} ({why})", c.subject)
        })
        .collect();
    let detail = if near.is_empty() {
        format!(
            "LocalMachine\\My holds {} certificate(s), none from those CAs",
            evidence.certificates.len()
        )
    } else {
        format!("unusable: {}", near.join("; "))
    };
    Judgement::fail(format!(
        "{} asks for a machine certificate from {cas}, and this device has none: {detail}",
        evidence.gateway
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn der(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/certs/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn hash(name: &str) -> String {
        String::from_utf8(der(name)).unwrap().trim().to_string()
    }

    fn now() -> ASN1Time {
        ASN1Time::from_timestamp(1_830_000_000).unwrap()
    }

    #[test]
    fn a_client_auth_certificate_from_the_requested_ca_passes() {
        let evidence = evidence_from(
            "vpn.contoso.com",
            &[hash("ca1.spki-sha1")],
            &[
                der("machine-server-auth.der"),
                der("machine-client-auth.der"),
            ],
            &[der("ca2.der"), der("ca1.der")],
            now(),
        );
        assert_eq!(evidence.requested_ca_names, ["CN=Contoso VPN Root CA"]);
        let client = &evidence.certificates[1];
        assert!(client.client_auth && client.valid_now);
        assert_eq!(
            client.requested_ca.as_deref(),
            Some(hash("ca1.spki-sha1").as_str())
        );
        assert!(!evidence.certificates[0].client_auth);
        let judgement = judge(&Params { port: 500 }, &evidence);
        assert_eq!(judgement.status, Status::Pass, "{}", judgement.finding);
        assert!(judgement.finding.contains("CN=DESKTOP-client.corp.jr.test"));
    }

    #[test]
    fn wrong_eku_or_another_ca_fails_and_says_which() {
        let only_server = evidence_from(
            "vpn.contoso.com",
            &[hash("ca1.spki-sha1")],
            &[der("machine-server-auth.der")],
            &[der("ca1.der")],
            now(),
        );
        let judgement = judge(&Params { port: 500 }, &only_server);
        assert_eq!(judgement.status, Status::Fail);
        assert!(
            judgement.finding.contains("no Client Authentication EKU"),
            "{}",
            judgement.finding
        );
        let other_ca = evidence_from(
            "vpn.contoso.com",
            &[hash("ca2.spki-sha1")],
            &[der("machine-client-auth.der")],
            &[der("ca1.der"), der("ca2.der")],
            now(),
        );
        let judgement = judge(&Params { port: 500 }, &other_ca);
        assert_eq!(judgement.status, Status::Fail);
        assert!(
            judgement.finding.contains("from CN=Other Root CA")
                && judgement.finding.contains("none from those CAs"),
            "{}",
            judgement.finding
        );
    }

    #[test]
    fn an_expired_certificate_fails_and_garbage_is_ignored() {
        let later = ASN1Time::from_timestamp(4_102_444_800).unwrap(); // 2100
        let evidence = evidence_from(
            "vpn.contoso.com",
            &[hash("ca1.spki-sha1")],
            &[der("machine-client-auth.der"), vec![0x30, 0x03, 0x01]],
            &[der("ca1.der"), vec![0xff]],
            later,
        );
        assert_eq!(evidence.certificates.len(), 1);
        let judgement = judge(&Params { port: 500 }, &evidence);
        assert_eq!(judgement.status, Status::Fail);
        assert!(
            judgement.finding.contains("not valid now"),
            "{}",
            judgement.finding
        );
    }
}
