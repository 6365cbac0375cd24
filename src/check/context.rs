//! What every check may read while it observes, built once per run: the settings, the DNS
//! servers, the bind password and the trust stores (loaded on first use). Facts learnt during
//! the run are not here: they come from the runner's board as `Inputs`.

use super::shared_probes::SharedProbes;
use crate::facts::{DomainController, ProxyDiscovery};
use crate::probe::inspection::{PublicRoots, PUBLIC_ROOTS_ENV};
use crate::probe::tls::Trust;
use crate::profile::{Settings, VpnGateway};
use crate::secret::Secret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub struct CheckContext {
    pub settings: Arc<Settings>,
    /// The DNS servers asked, each separately; Err when the system has none.
    pub dns_servers: Result<Vec<SocketAddr>, String>,
    pub password: Option<Secret>,
    /// The KDC's and the time service's answers, asked once per DC and shared by the checks.
    pub probes: SharedProbes,
    trust: OnceCell<Result<Trust, String>>,
    endpoint_trust: OnceCell<Result<EndpointTrust, String>>,
}

/// The trust of endpoint checks: public roots, OS store, `[endpoints] ca_file` (and the public
/// roots a lab names in `[endpoints] public_roots` or JOINREADY_PUBLIC_ROOTS), plus the public
/// roots alone to tell TLS inspection, and the public roots with `ca_file` for the profile's
/// own endpoints, which may end at the organisation's root.
pub struct EndpointTrust {
    pub trust: Trust,
    pub public: PublicRoots,
    /// The public roots plus `[endpoints] ca_file`; None without a `ca_file`.
    pub profile: Option<Arc<rustls::RootCertStore>>,
}

impl EndpointTrust {
    pub fn load(
        ca_file: Option<&std::path::Path>,
        public_roots: Option<&std::path::Path>,
    ) -> Result<EndpointTrust, String> {
        let public = match public_roots {
            Some(path) => PublicRoots::load_named(
                Some(&path.display().to_string()),
                "[endpoints] public_roots",
            )?,
            None => PublicRoots::load(std::env::var(PUBLIC_ROOTS_ENV).ok().as_deref())?,
        };
        let trust = Trust::load(ca_file).map_err(|e| e.to_string())?;
        let profile = match ca_file {
            Some(path) => {
                let mut roots = (*public.roots).clone();
                let pem = std::fs::read(path)
                    .map_err(|e| format!("{}: cannot read the CA file: {e}", path.display()))?;
                let certs = rustls_pemfile::certs(&mut pem.as_slice())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{}: not PEM: {e}", path.display()))?;
                let _ = roots.add_parsable_certificates(certs);
                Some(Arc::new(roots))
            }
            None => None,
        };
        Ok(EndpointTrust {
            trust: trust.with_extra(public.override_certs.clone()),
            public,
            profile,
        })
    }
}

impl CheckContext {
    pub fn new(
        settings: Arc<Settings>,
        dns_servers: Result<Vec<SocketAddr>, String>,
        password: Option<Secret>,
    ) -> CheckContext {
        CheckContext {
            settings,
            dns_servers,
            password,
            probes: SharedProbes::default(),
            trust: OnceCell::new(),
            endpoint_trust: OnceCell::new(),
        }
    }

    /// The trust of the endpoint checks (public roots, OS store, `[endpoints] ca_file`).
    pub async fn endpoint_trust(&self) -> Result<&EndpointTrust, String> {
        let ca_file = self.settings.endpoints.ca_file.clone();
        let public_roots = self.settings.endpoints.public_roots.clone();
        self.endpoint_trust
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    EndpointTrust::load(ca_file.as_deref(), public_roots.as_deref())
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The trust store of DC and VPN checks, loaded on first use so runs without TLS never
    /// read the OS store.
    pub async fn trust(&self) -> Result<&Trust, String> {
        let ca_file = self.settings.ldap.ca_file.clone();
        self.trust
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || Trust::load(ca_file.as_deref()))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What a check runs against.
#[derive(Debug, Clone)]
pub enum Target {
    /// The check runs once.
    Once,
    Dc(DomainController),
    VpnGateway(VpnGateway),
    Endpoint(crate::endpoints::EndpointDef),
}

/// The facts a check reads, as the board held them when its needs were met.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Every DC DNS listed, in RFC 2782 order.
    pub dcs: Vec<DomainController>,
    /// The DC the DC locator chose.
    pub chosen_dc: Option<DomainController>,
    /// What proxy discovery found.
    pub proxy: ProxyDiscovery,
    /// What the tenant checks learnt.
    pub tenant: crate::facts::TenantFacts,
}
