//! TLS-inspection evidence: does the chain a server showed end in a *public* root?
//!
//! An intercepting proxy re-signs every site with its own CA, which devices trust through the
//! OS store or a deployed CA file; the chain then verifies but no longer ends in a public root.
//! "Public" is webpki-roots (Mozilla's list), or the PEM bundle the profile names in
//! `[endpoints] public_roots` (or JOINREADY_PUBLIC_ROOTS), for labs that simulate the internet
//! with their own CA. The profile's own endpoints (`[[endpoints.extra]]`) may also end at a
//! root of `[endpoints] ca_file`: the profile trusts it for them, so that is no inspection.

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Names a PEM file whose certificates replace webpki-roots as "the public roots".
pub const PUBLIC_ROOTS_ENV: &str = "JOINREADY_PUBLIC_ROOTS";

/// The public roots and where they came from.
#[derive(Clone)]
pub struct PublicRoots {
    pub roots: Arc<RootCertStore>,
    /// The certificates of the override file, so the run's trust can include them too.
    pub override_certs: Vec<CertificateDer<'static>>,
    /// "webpki-roots" or the override file's path.
    pub origin: String,
}

impl PublicRoots {
    /// webpki-roots, or the file `override_path` names (JOINREADY_PUBLIC_ROOTS).
    pub fn load(override_path: Option<&str>) -> Result<PublicRoots, String> {
        Self::load_named(override_path, PUBLIC_ROOTS_ENV)
    }

    /// webpki-roots, or the file `path` names; `setting` says where it was named, for errors.
    pub fn load_named(path: Option<&str>, setting: &str) -> Result<PublicRoots, String> {
        let mut roots = RootCertStore::empty();
        let override_path = path;
        let Some(path) = override_path.filter(|p| !p.is_empty()) else {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            return Ok(PublicRoots {
                roots: Arc::new(roots),
                override_certs: Vec::new(),
                origin: "webpki-roots".to_string(),
            });
        };
        let pem =
            std::fs::read(path).map_err(|e| format!("{setting}={path}: cannot read it: {e}"))?;
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{setting}={path}: not PEM: {e}"))?;
        let (added, _) = roots.add_parsable_certificates(certs.clone());
        if added == 0 {
            return Err(format!(
                "{setting}={path}: no usable certificate in it: give a PEM file with -----BEGIN CERTIFICATE-----"
            ));
        }
        Ok(PublicRoots {
            roots: Arc::new(roots),
            override_certs: certs,
            origin: path.to_string(),
        })
    }
}

/// What the chain says about inspection.
#[derive(Debug, Clone, Serialize, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct Inspection {
    /// The chain verifies against the public roots alone.
    pub public_root: bool,
    /// The issuer of the last certificate sent: the root (or its CA) the chain ends at.
    pub ends_at: String,
    /// Where "public" came from.
    pub public_roots: String,
    /// Not public, but the chain ends at a root of the profile's `[endpoints] ca_file`, which
    /// the profile trusts for its own endpoints (checked for `[[endpoints.extra]]` only).
    #[serde(default)]
    pub profile_root: bool,
    /// Why webpki refused the chain against the public roots, when it did.
    pub error: Option<String>,
}

impl Inspection {
    /// The chain ends neither at a public root nor at one the profile trusts for this endpoint.
    pub fn inspected(&self) -> bool {
        !self.public_root && !self.profile_root
    }
}

/// Verifies `chain` (leaf first, as the server sent it) for `host` against the public roots,
/// then, when it fails there and `profile` is given, against the public roots plus the
/// profile's `[endpoints] ca_file`.
pub fn judge(
    public: &PublicRoots,
    profile: Option<&Arc<RootCertStore>>,
    chain: &[CertificateDer<'static>],
    host: &str,
) -> Inspection {
    let ends_at = chain
        .last()
        .and_then(|der| {
            use x509_parser::prelude::{FromDer, X509Certificate};
            X509Certificate::from_der(der.as_ref())
                .ok()
                .map(|(_, cert)| cert.issuer().to_string())
        })
        .unwrap_or_default();
    let result = verify(&public.roots, chain, host);
    let profile_root =
        result.is_err() && profile.is_some_and(|roots| verify(roots, chain, host).is_ok());
    Inspection {
        public_root: result.is_ok(),
        ends_at,
        public_roots: public.origin.clone(),
        profile_root,
        error: result.err(),
    }
}

fn verify(
    roots: &Arc<RootCertStore>,
    chain: &[CertificateDer<'static>],
    host: &str,
) -> Result<(), String> {
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or_else(|| "the server sent no certificate".to_string())?;
    // ring, as everywhere in joinready (see probe/tls.rs).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider)
        .build()
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_override_is_named() {
        let error = PublicRoots::load(Some("/nonexistent/roots.pem"))
            .err()
            .unwrap();
        assert!(error.starts_with("JOINREADY_PUBLIC_ROOTS=/nonexistent/roots.pem: cannot read it"));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e.pem");
        std::fs::write(&empty, "nothing").unwrap();
        let error = PublicRoots::load(empty.to_str()).err().unwrap();
        assert!(error.contains("no usable certificate"), "{error}");
        assert_eq!(PublicRoots::load(None).unwrap().origin, "webpki-roots");
    }

    #[test]
    fn no_chain_is_not_public() {
        let public = PublicRoots::load(None).unwrap();
        let inspection = judge(&public, None, &[], "a.example");
        assert!(!inspection.public_root);
        assert_eq!(
            inspection.error.as_deref(),
            Some("the server sent no certificate")
        );
    }
}
