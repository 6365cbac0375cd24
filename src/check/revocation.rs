//! The revocation URLs of a certificate chain: CRL distribution points and OCSP responders
//! (RFC 5280 4.2.1.13, 4.2.2.1). Windows fetches them over plain HTTP along the device's route
//! while it validates a chain; a device that cannot reach them may refuse the certificate or
//! wait for the fetch to time out. The endpoint check reaches each one along the hop that
//! reached the endpoint; this file only reads them from the certificates (no I/O).

use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_OCSP;
use x509_parser::prelude::{FromDer, X509Certificate};

/// At most this many revocation URLs are reached per endpoint: real chains carry two to four.
pub const MAX_URLS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationKind {
    /// A CRL distribution point.
    Crl,
    /// An OCSP responder (authority information access).
    Ocsp,
}

impl RevocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationKind::Crl => "CRL",
            RevocationKind::Ocsp => "OCSP",
        }
    }
}

/// One revocation URL and the certificate that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationUrl {
    pub kind: RevocationKind,
    pub url: String,
    /// The subject of the certificate that names it.
    pub named_by: String,
}

/// The plain-HTTP revocation URLs of `chain` (leaf first), each once, in chain order, at most
/// MAX_URLS. Certificates that do not parse and URLs of other schemes (ldap, https) are left out.
pub fn urls(chain: &[CertificateDer<'_>]) -> Vec<RevocationUrl> {
    let mut found: Vec<RevocationUrl> = Vec::new();
    for der in chain {
        let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
            continue;
        };
        let subject = cert.subject().to_string();
        for extension in cert.extensions() {
            let named: Vec<(RevocationKind, &str)> = match extension.parsed_extension() {
                ParsedExtension::CRLDistributionPoints(points) => points
                    .iter()
                    .filter_map(|point| match &point.distribution_point {
                        Some(DistributionPointName::FullName(names)) => Some(names),
                        _ => None,
                    })
                    .flatten()
                    .filter_map(|name| match name {
                        GeneralName::URI(uri) => Some((RevocationKind::Crl, *uri)),
                        _ => None,
                    })
                    .collect(),
                ParsedExtension::AuthorityInfoAccess(access) => access
                    .iter()
                    .filter(|d| d.access_method == OID_PKIX_ACCESS_DESCRIPTOR_OCSP)
                    .filter_map(|d| match &d.access_location {
                        GeneralName::URI(uri) => Some((RevocationKind::Ocsp, *uri)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (kind, uri) in named {
                let http = uri
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
                if http && !found.iter().any(|f| f.url == uri) && found.len() < MAX_URLS {
                    found.push(RevocationUrl {
                        kind,
                        url: uri.to_string(),
                        named_by: subject.clone(),
                    });
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crl_and_ocsp_urls_come_from_the_certificate_http_only() {
        // openssl: crlDistributionPoints=URI:http://crl.example.test/a.crl,URI:ldap://x/y;
        // authorityInfoAccess=OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://ca.example.test/ca.crt
        let der = include_bytes!("../../fixtures/certs/revocation-urls.der").to_vec();
        let chain = [CertificateDer::from(der.clone()), CertificateDer::from(der)];
        let found = urls(&chain);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.kind, f.url.as_str()))
                .collect::<Vec<_>>(),
            [
                (RevocationKind::Crl, "http://crl.example.test/a.crl"),
                (RevocationKind::Ocsp, "http://ocsp.example.test/"),
            ],
            "the ldap CRL and the caIssuers URL are not revocation URLs over HTTP; a repeated certificate adds nothing"
        );
        assert_eq!(found[0].named_by, "CN=t");
        assert!(urls(&[CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01])]).is_empty());
        assert!(urls(&[]).is_empty());
    }
}
