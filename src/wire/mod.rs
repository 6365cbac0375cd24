//! Byte formats with no I/O: each codec encodes requests and decodes replies from plain byte
//! slices and is unit-tested on bytes (hand-built and captured); probes do the I/O.

pub mod autopilot;
pub mod ber;
pub mod cldap;
pub mod cursor;
pub mod http;
pub mod ike;
pub mod kerberos;
pub mod ntp;
pub mod pac_result;
pub mod phonebook;
pub mod security_descriptor;
pub mod sid;
pub mod tenant;
pub mod text;
pub mod url;
pub mod winhttp_settings;
pub mod wpad;
