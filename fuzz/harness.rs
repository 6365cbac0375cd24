//! One function per fuzz target: what the target does with one input. Shared by the cargo fuzz
//! targets (fuzz/fuzz_targets/*.rs) and by tests/fuzz_regressions.rs, which replays the kept
//! corpus (fixtures/fuzz/<target>/) in a normal `cargo test`, so CI needs no cargo fuzz.
//!
//! Each function must never panic, whatever the bytes; it also renders every error and value
//! it gets (Display, Debug, JSON), since that is what the tool does with them.

#![allow(dead_code)]

use joinready::catalog::Catalog;
use joinready::duration::{format_duration, parse_duration};
use joinready::profile::{LoadedProfile, Overrides, Settings};
use joinready::wire::pac_result::parse_pac_result;
use joinready::wire::tenant as tenant_wire;
use joinready::wire::url::{parse_proxy_url, parse_web_url};
use joinready::wire::{autopilot, cldap, ike, kerberos, ntp, phonebook};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// The targets, by name: the names of their corpus directories under fixtures/fuzz/.
pub const TARGETS: &[(&str, Target)] = &[
    ("cldap", cldap),
    ("ike", ike),
    ("kerberos", kerberos),
    ("ntp", ntp),
    ("profile", profile),
    ("catalog", catalog),
    ("duration", duration),
    ("pac_result", pac_result),
    ("security_descriptor", security_descriptor),
    ("tenant", tenant),
    ("autopilot", autopilot),
    ("phonebook", phonebook),
    ("certreq", certreq),
    ("winhttp_settings", winhttp_settings),
];

fn show<T: std::fmt::Debug, E: std::fmt::Display + std::fmt::Debug>(result: &Result<T, E>) {
    match result {
        Ok(value) => {
            let _ = format!("{value:?}");
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
}

/// A CLDAP reply datagram (the first 4 bytes choose the expected message id), and the same
/// bytes as a bare netlogon structure.
pub fn cldap(data: &[u8]) {
    let id = data
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(1);
    let reply = cldap::decode_ping_reply(data.get(4..).unwrap_or_default(), id);
    show(&reply);
    if let Ok(response) = &reply {
        let _ = response.flags.names();
        let _ = response.dc_ipv4();
    }
    let netlogon = cldap::decode_netlogon(data);
    show(&netlogon);
}

/// An IKE_SA_INIT reply: the initiator SPI is the datagram's own first 8 bytes (after the
/// non-ESP marker with NAT-T), so the decoder gets past the "not ours" check.
pub fn ike(data: &[u8]) {
    for nat_t in [false, true] {
        let offset = if nat_t { 4 } else { 0 };
        let mut spi = [0u8; 8];
        if let Some(bytes) = data.get(offset..offset + 8) {
            spi.copy_from_slice(bytes);
        }
        let reply = ike::decode_reply(data, spi, nat_t);
        show(&reply);
        match &reply {
            Ok(reply) => {
                let _ = format!("{:?}", reply.outcome());
                let _ = reply.notify_types();
                let _ = reply.invalid_ke_group();
                let _ = reply.cookie();
            }
            Err(error) => {
                let _ = error.is_from_responder();
            }
        }
    }
}

/// A KRB-ERROR over UDP, and the same bytes as a TCP record.
pub fn kerberos(data: &[u8]) {
    let error = kerberos::decode_krb_error(data);
    show(&error);
    if let Ok(error) = &error {
        let _ = error.error_name();
        let _ = error.stime_unix_micros();
    }
    if let Some(prefix) = data.get(..4) {
        let _ = kerberos::tcp_record_len([prefix[0], prefix[1], prefix[2], prefix[3]]);
    }
    if let Ok(message) = kerberos::unframe_tcp(data) {
        show(&kerberos::decode_krb_error(message));
    }
    show(&kerberos::decode_kpasswd_error(data));
}

/// An NTP reply; the request's send and receive times are taken from the first 16 bytes too,
/// so odd clocks (zero, far future) are tried.
pub fn ntp(data: &[u8]) {
    let number = |at: usize| {
        data.get(at..at + 8)
            .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .unwrap_or(0)
    };
    let t1 = Duration::from_nanos(number(data.len().saturating_sub(16)));
    let t4 = Duration::from_nanos(number(data.len().saturating_sub(8)));
    for (t1, t4) in [
        (
            Duration::from_secs(1_800_000_000),
            Duration::from_secs(1_800_000_001),
        ),
        (t1, t4),
    ] {
        let response = ntp::decode_response(data, t1, t4);
        show(&response);
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A profile: parsed, then merged and validated as `run` does (no search suffix, no flags).
pub fn profile(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let path = Path::new("fuzz.toml");
    match LoadedProfile::parse(path, text.to_string()) {
        Ok(profile) => show(&Settings::resolve(
            Some(&profile),
            &Overrides::default(),
            || None,
        )),
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// A user's catalog file next to the built-in checks, validated as `--checks DIR` does (in
/// memory: a directory per input made this target crawl).
pub fn catalog(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match Catalog::with_user_files(&[(PathBuf::from("fuzz.toml"), text.to_string())]) {
        Ok(catalog) => {
            for check in &catalog.checks {
                let _ = catalog.unknown_selector_message(&check.id);
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// A duration as written on the command line: parsed, and what parses formats back to itself.
pub fn duration(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match parse_duration(text) {
        Ok(value) => {
            let again = parse_duration(&format_duration(value));
            assert_eq!(again, Ok(value), "`{text}` does not survive a round trip");
            let _ = joinready::duration::Human(value).to_string();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// A PAC script's answer ("PROXY proxy:3128; DIRECT"), and the same text as a proxy URL and an
/// endpoint URL: the three strings joinready parses from PAC files, profiles and the environment.
pub fn pac_result(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    show(&parse_pac_result(&text));
    show(&parse_proxy_url(&text));
    show(&parse_web_url(&text));
}

/// An nTSecurityDescriptor value: decoded, every ACE rendered in SDDL, and "Create Computer
/// objects" decided for a token; the same bytes as a bare SID.
pub fn security_descriptor(data: &[u8]) {
    use joinready::access::{may_create_computer, well_known};
    use joinready::wire::security_descriptor::SecurityDescriptor;
    use joinready::wire::sid::Sid;
    let decoded = SecurityDescriptor::decode(data);
    show(&decoded);
    if let Ok(sd) = &decoded {
        let token = sd
            .owner
            .as_ref()
            .map(|owner| well_known(owner, true))
            .unwrap_or_default();
        if let Some(dacl) = &sd.dacl {
            for ace in &dacl.aces {
                let _ = ace.sddl();
            }
        }
        let _ = format!("{:?}", may_create_computer(sd.dacl.as_ref(), &token));
    }
    let sid = Sid::from_bytes(data);
    show(&sid);
    if let Ok(sid) = &sid {
        let _ = (
            sid.to_string(),
            sid.sddl(),
            sid.well_known_name(),
            sid.domain(),
        );
        let _ = Sid::parse(&sid.to_string());
    }
}

/// A tenant discovery answer (OpenID configuration, AADSTS error, registration discovery, user
/// realm) or a MEX document: every reader gets the same bytes.
pub fn tenant(data: &[u8]) {
    show(&tenant_wire::parse_openid_configuration(data));
    let _ = format!(
        "{:?}",
        tenant_wire::parse_aad_error(data).map(|e| (e.tenant_not_found(), e.headline()))
    );
    show(&tenant_wire::parse_registration_discovery(data));
    show(&tenant_wire::parse_user_realm(data));
    for address in tenant_wire::mex_addresses(data) {
        let _ = tenant_wire::ws_trust_kind(&address);
        let _ = tenant_wire::tenant_id_in_url(&address);
    }
    let text = String::from_utf8_lossy(data);
    let _ = tenant_wire::is_guid(&text);
    let _ = tenant_wire::tenant_id_in_url(&text);
}

/// An AutopilotDDSZTDFile.json, then the scenario joinready would take from it.
pub fn autopilot(data: &[u8]) {
    let profile = autopilot::parse_profile_json(data);
    show(&profile);
    if let Ok(profile) = &profile {
        let detected = joinready::device::detect::scenario_from_autopilot(Some(profile));
        let _ = format!("{detected:?}");
    }
}

/// A rasphone.pbk.
pub fn phonebook(data: &[u8]) {
    let book = phonebook::parse_phonebook(data);
    let _ = format!("{book:?}");
}

/// A CERTREQ payload's content.
pub fn certreq(data: &[u8]) {
    let request = ike::decode_cert_request(data);
    show(&request);
    if let Ok(request) = &request {
        let _ = request.authority_hex();
    }
}

/// A WinHttpSettings registry value, then the proxy joinready would take from it.
pub fn winhttp_settings(data: &[u8]) {
    let decoded = joinready::wire::winhttp_settings::decode_winhttp_settings(data);
    show(&decoded);
    if let Ok(settings) = &decoded {
        let chosen =
            joinready::wire::winhttp_settings::choose_proxy(Some(settings), Some(0), Some(1), None);
        let _ = format!("{chosen:?}");
    }
}
