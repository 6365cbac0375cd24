//! The numbers in typed evidence, named, for the Prometheus report: every round trip (by
//! phase), every DNS server's answer time, every clock offset and the certificate each server
//! showed. Reports never guess them from the evidence's shape.

use super::Evidence;
use crate::probe::tls::TlsEvidence;

/// What one row's evidence measured, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    /// Round trips by phase: "connect", "tls", "bind", "answer", "ldap_ping", ….
    pub rtts: Vec<(&'static str, f64)>,
    /// The median ICMP echo round trip.
    pub icmp_median: Option<f64>,
    /// Per DNS server that answered.
    pub dns: Vec<(String, f64)>,
    /// The other clock minus this device's.
    pub clock_offset: Option<f64>,
    /// When the certificate the server showed (chain[0]) expires, as RFC 3339.
    pub certificate_not_after: Option<String>,
}

impl Measurements {
    fn rtt(&mut self, phase: &'static str, ms: Option<f64>) {
        if let Some(ms) = ms {
            self.rtts.push((phase, ms));
        }
    }

    fn certificate(&mut self, tls: Option<&TlsEvidence>) {
        if let Some(leaf) = tls.and_then(|tls| tls.chain.first()) {
            self.certificate_not_after = Some(leaf.not_after.clone());
        }
    }
}

impl Evidence {
    pub fn measurements(&self) -> Measurements {
        let mut m = Measurements::default();
        match self {
            Evidence::DnsSrv(e) => {
                m.dns = e
                    .servers
                    .iter()
                    .filter_map(|s| Some((s.server.to_string(), s.rtt_ms?)))
                    .collect();
            }
            Evidence::Icmp(e) => m.icmp_median = super::icmp::median_ms(e),
            Evidence::Cldap(e) => m.rtt("ldap_ping", e.rtt_ms),
            Evidence::Kerberos(e) => {
                m.rtt("kerberos", e.rtt_ms);
                m.clock_offset = e.offset_ms;
            }
            Evidence::Kpasswd(e) => m.rtt("kpasswd", e.rtt_ms),
            Evidence::Ntp(e) => {
                m.rtt("ntp", e.rtt_ms);
                m.clock_offset = e.answer.as_ref().map(|a| a.offset_ms);
            }
            Evidence::Clock(e) => m.clock_offset = e.offset_ms,
            Evidence::Locator(e) => m.rtt("ldap_ping", e.rtt_ms),
            Evidence::Census(_) => {}
            Evidence::Tcp(e) => m.rtt("connect", e.connect_ms),
            Evidence::LdapRootDse(e) => {
                m.rtt("connect", e.connect_ms);
                m.rtt("answer", e.answer_ms);
            }
            Evidence::LdapBind(e) => {
                m.rtt("bind", e.bind_ms);
                m.certificate(e.tls.as_ref());
            }
            Evidence::Directory(_) => {}
            Evidence::Connector(_) => {}
            // Host checks read the device itself: nothing timed.
            Evidence::HostEdition(_)
            | Evidence::HostClock(_)
            | Evidence::HostVpn(_)
            | Evidence::HostVpnCertificate(_) => {}
            Evidence::Ike(e) => m.rtt("ike", e.ike.as_ref().map(|ike| ike.rtt_ms)),
            Evidence::VpnTls(e) => {
                if let Some(portal) = &e.portal {
                    m.rtt("connect", Some(portal.connect_ms));
                    m.rtt("tls", Some(portal.tls_ms));
                    m.rtt("response", Some(portal.response_ms));
                }
                m.certificate(e.tls.as_ref());
            }
            Evidence::VpnTcp(e) => m.rtt("connect", e.connect_ms),
            Evidence::Wpad(e) => m.rtt("fetch", e.fetch.as_ref().map(|f| f.ms)),
            Evidence::Endpoint(e) => {
                m.rtt("proxy_connect", e.hop.proxy_connect_ms);
                m.rtt("connect", e.hop.connect_ms);
                m.rtt("tls", e.hop.tls_ms);
                m.rtt("total", e.hop.http.as_ref().map(|h| h.total_ms));
                m.clock_offset = e.ntp.as_ref().map(|n| n.offset_ms);
                m.certificate(e.hop.tls.as_ref());
            }
            Evidence::TenantOpenId(e) => m.route(&e.asked.route),
            Evidence::TenantRegistration(e) => m.route(&e.asked.route),
            Evidence::TenantRealm(e) => m.route(&e.asked.route),
            Evidence::TenantFederation(e) => m.route(&e.metadata.route),
            Evidence::TenantScp(_) => {}
        }
        m
    }
}

impl Measurements {
    /// The round trips of one request along the route, as the tenant checks made it.
    fn route(&mut self, e: &super::endpoint::Evidence) {
        self.rtt("proxy_connect", e.hop.proxy_connect_ms);
        self.rtt("connect", e.hop.connect_ms);
        self.rtt("tls", e.hop.tls_ms);
        self.rtt("total", e.hop.http.as_ref().map(|h| h.total_ms));
        self.certificate(e.hop.tls.as_ref());
    }
}
