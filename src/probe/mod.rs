//! Probes: network I/O that asks one kind of question and returns typed evidence or a typed
//! error. Probes know nothing about Autopilot and decide nothing; checks give them meaning.

pub mod cldap;
pub mod datagram;
#[cfg(windows)]
#[allow(unsafe_code)]
pub mod dhcp_windows;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod ike;
pub mod inspection;
pub mod kerberos;
pub mod ldap;
pub mod ntp;
pub mod portal;
pub mod proxy;
pub mod resolve;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod wpad;
