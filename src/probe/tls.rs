//! TLS evidence: which certificate chain a server showed, whether it verifies, and if not, why
//! in words a technician can act on (no subjectAltName, expired, unknown issuer, wrong name).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Arc, Mutex};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: cannot read the CA file: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot build the TLS verifier: {0}")]
    Verifier(String),
}

/// The trust anchors of a run: public roots, the OS store and the profile's CA file.
#[derive(Clone)]
pub struct Trust {
    roots: Arc<RootCertStore>,
}

impl Trust {
    pub fn load(ca_file: Option<&Path>) -> Result<Trust, TrustError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // A broken certificate in the OS store must not stop the run; the rest still count.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        if let Some(path) = ca_file {
            let fail = |reason: String| TrustError::CaFile {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
            let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<_, _>>()
                .map_err(|e| fail(format!("not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(fail(
                    "no certificate in it: give a PEM file with -----BEGIN CERTIFICATE-----".into(),
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| fail(format!("unusable certificate: {e}")))?;
            }
        }
        Ok(Trust {
            roots: Arc::new(roots),
        })
    }

    /// These trust anchors plus `extra` (certificates that do not parse are left out).
    pub fn with_extra(&self, extra: Vec<CertificateDer<'static>>) -> Trust {
        let mut roots = (*self.roots).clone();
        let _ = roots.add_parsable_certificates(extra);
        Trust {
            roots: Arc::new(roots),
        }
    }

    /// A client config whose verifier records what it saw, so a failed handshake still leaves
    /// the certificate chain as evidence.
    pub fn recording_config(
        &self,
    ) -> Result<(Arc<ClientConfig>, Arc<RecordingVerifier>), TrustError> {
        // ring is the provider ldap3 is built with; two providers in one process make rustls
        // refuse to pick a default, so joinready uses ring everywhere.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner =
            WebPkiServerVerifier::builder_with_provider(self.roots.clone(), provider.clone())
                .build()
                .map_err(|e| TrustError::Verifier(e.to_string()))?;
        let verifier = Arc::new(RecordingVerifier {
            inner,
            seen: Mutex::new(None),
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrustError::Verifier(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        Ok((Arc::new(config), verifier))
    }
}

/// The chain a server showed and what webpki made of it.
type Seen = (Vec<CertificateDer<'static>>, Result<(), rustls::Error>);

/// Delegates every decision to webpki and keeps a copy of the chain and the verdict.
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Seen>>,
}

impl RecordingVerifier {
    /// The evidence of the last handshake, if the server got as far as sending certificates.
    pub fn evidence(&self) -> Option<TlsEvidence> {
        let seen = self.seen.lock().ok()?;
        let (chain, result) = seen.as_ref()?;
        Some(TlsEvidence::new(chain, result.as_ref().err()))
    }

    /// The certificates of the last handshake as the server sent them, leaf first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.seen
            .lock()
            .ok()
            .and_then(|seen| seen.as_ref().map(|(chain, _)| chain.clone()))
            .unwrap_or_default()
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((chain, result.as_ref().map(|_| ()).map_err(Clone::clone)));
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why a certificate was not accepted, in the terms of the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateProblem {
    NoSubjectAltName,
    NameMismatch,
    Expired,
    NotYetValid,
    UntrustedIssuer,
    Revoked,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    pub subject_alt_names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub serial: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsEvidence {
    pub verified: bool,
    pub problem: Option<CertificateProblem>,
    pub error: Option<String>,
    pub chain: Vec<CertificateInfo>,
}

impl TlsEvidence {
    fn new(chain: &[CertificateDer<'static>], error: Option<&rustls::Error>) -> TlsEvidence {
        let chain: Vec<CertificateInfo> = chain.iter().filter_map(|der| describe(der)).collect();
        let leaf_has_no_san = chain
            .first()
            .is_some_and(|leaf| leaf.subject_alt_names.is_empty());
        let problem = error.map(|error| match error {
            rustls::Error::InvalidCertificate(certificate_error) => match certificate_error {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    if leaf_has_no_san {
                        CertificateProblem::NoSubjectAltName
                    } else {
                        CertificateProblem::NameMismatch
                    }
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    CertificateProblem::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    CertificateProblem::NotYetValid
                }
                CertificateError::UnknownIssuer => CertificateProblem::UntrustedIssuer,
                CertificateError::Revoked => CertificateProblem::Revoked,
                _ => CertificateProblem::Other,
            },
            _ => CertificateProblem::Other,
        });
        TlsEvidence {
            verified: error.is_none(),
            problem,
            error: error.map(ToString::to_string),
            chain,
        }
    }

    /// One line a technician can act on.
    pub fn summary(&self) -> String {
        let leaf = self.chain.first();
        let subject = leaf.map_or("?", |l| l.subject.as_str());
        let issuer = leaf.map_or("?", |l| l.issuer.as_str());
        match self.problem {
            None => format!(
                "certificate {subject} (SAN {}) from {issuer}, valid {} more days",
                leaf.map(|l| l.subject_alt_names.join(", ")).unwrap_or_default(),
                leaf.map_or(0, |l| l.days_left)
            ),
            Some(CertificateProblem::NoSubjectAltName) => format!(
                "the certificate has no subjectAltName (subject {subject}): TLS clients that follow RFC 6125 reject it even from a trusted CA"
            ),
            Some(CertificateProblem::NameMismatch) => format!(
                "the certificate is for {} but the DC was reached as another name",
                leaf.map(|l| l.subject_alt_names.join(", ")).unwrap_or_default()
            ),
            Some(CertificateProblem::Expired) => format!(
                "the certificate {subject} expired on {}",
                leaf.map_or("?", |l| l.not_after.as_str())
            ),
            Some(CertificateProblem::NotYetValid) => format!(
                "the certificate {subject} is valid only from {} (or this device's clock is wrong)",
                leaf.map_or("?", |l| l.not_before.as_str())
            ),
            Some(CertificateProblem::UntrustedIssuer) => format!(
                "the certificate {subject} is issued by {issuer}, which this device does not trust"
            ),
            Some(CertificateProblem::Revoked) => format!("the certificate {subject} is revoked"),
            Some(CertificateProblem::Other) => format!(
                "the certificate {subject} was refused: {}",
                self.error.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

fn describe(der: &CertificateDer<'_>) -> Option<CertificateInfo> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let subject_alt_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|name| match name {
                    GeneralName::DNSName(dns) => format!("DNS:{dns}"),
                    GeneralName::IPAddress(bytes) => match bytes.len() {
                        4 => {
                            let octets: [u8; 4] = [bytes[0], bytes[1], bytes[2], bytes[3]];
                            format!("IP:{}", std::net::Ipv4Addr::from(octets))
                        }
                        16 => {
                            let mut octets = [0u8; 16];
                            octets.copy_from_slice(bytes);
                            format!("IP:{}", std::net::Ipv6Addr::from(octets))
                        }
                        _ => "IP:?".to_string(),
                    },
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let validity = cert.validity();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Some(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        subject_alt_names,
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(validity.not_after.timestamp()),
        days_left: (validity.not_after.timestamp() - now).div_euclid(86_400),
        serial: cert.raw_serial_as_string(),
    })
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
