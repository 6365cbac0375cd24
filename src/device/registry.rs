//! Registry values on Windows: the Autopilot diagnostics key, the edition/build, and the
//! machine proxy (WinHTTP, WinINET). The FFI is here and only here (the crate denies `unsafe`
//! elsewhere).
#![allow(unsafe_code)]

use super::detect::FoundProfile;
use crate::wire::autopilot::{profile_from_values, AutopilotError, AutopilotValue};
use crate::wire::winhttp_settings::{choose_proxy, decode_winhttp_settings, ProxyOrigin};
use windows_sys::Win32::System::Registry::{
    RegGetValueW, HKEY_LOCAL_MACHINE, REG_BINARY, REG_DWORD, REG_EXPAND_SZ, REG_QWORD, REG_SZ,
    RRF_NOEXPAND, RRF_RT_ANY,
};

/// A value larger than this is not one joinready reads.
const MAX_VALUE_BYTES: u32 = 64 * 1024;

pub const AUTOPILOT_KEY: &str = r"SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot";
pub const CURRENT_VERSION_KEY: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion";

/// The Autopilot values joinready reads from the diagnostics key.
const AUTOPILOT_VALUES: &[&str] = &[
    "CloudAssignedTenantDomain",
    "CloudAssignedTenantId",
    "CloudAssignedDomainJoinMethod",
    "HybridJoinSkipDCConnectivityCheck",
    "DeploymentProfileName",
    "IsAutopilotDisabled",
];

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The raw bytes and type of one value under HKLM\`key`; None when absent or too large.
fn raw(key: &str, name: &str) -> Option<(u32, Vec<u8>)> {
    let (key_w, name_w) = (wide(key), wide(name));
    let mut kind = 0u32;
    let mut size = 0u32;
    // SAFETY: the key and value names are NUL-terminated; a null data pointer asks for the size.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            key_w.as_ptr(),
            name_w.as_ptr(),
            RRF_RT_ANY | RRF_NOEXPAND,
            &mut kind,
            std::ptr::null_mut(),
            &mut size,
        )
    };
    if status != 0 || size == 0 || size > MAX_VALUE_BYTES {
        return None;
    }
    let mut buffer = vec![0u8; size as usize];
    // SAFETY: `buffer` holds `size` bytes, the size the registry just reported.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            key_w.as_ptr(),
            name_w.as_ptr(),
            RRF_RT_ANY | RRF_NOEXPAND,
            &mut kind,
            buffer.as_mut_ptr().cast(),
            &mut size,
        )
    };
    if status != 0 {
        return None;
    }
    buffer.truncate(size as usize);
    Some((kind, buffer))
}

/// One value under HKLM\`key`, as a number (DWORD, QWORD) or text (SZ, EXPAND_SZ); None when
/// absent or of another type.
pub fn read(key: &str, name: &str) -> Option<AutopilotValue> {
    let (kind, bytes) = raw(key, name)?;
    match kind {
        REG_DWORD => Some(AutopilotValue::Number(i64::from(u32::from_le_bytes(
            bytes.get(..4)?.try_into().ok()?,
        )))),
        REG_QWORD => Some(AutopilotValue::Number(i64::from_le_bytes(
            bytes.get(..8)?.try_into().ok()?,
        ))),
        REG_SZ | REG_EXPAND_SZ => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .take_while(|&unit| unit != 0)
                .collect();
            Some(AutopilotValue::Text(String::from_utf16_lossy(&units)))
        }
        _ => None,
    }
}

/// A REG_BINARY value's bytes.
pub fn read_binary(key: &str, name: &str) -> Option<Vec<u8>> {
    match raw(key, name)? {
        (REG_BINARY, bytes) => Some(bytes),
        _ => None,
    }
}

const INTERNET_SETTINGS: &str = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings";
const CONNECTIONS: &str =
    r"SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections";
const POLICY: &str = r"SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings";

/// The proxy SYSTEM uses, in Windows' order (WinHTTP, then WinINET machine-wide), and where.
pub fn machine_proxy() -> Option<(String, ProxyOrigin)> {
    let number = |key: &str, name: &str| match read(key, name) {
        Some(AutopilotValue::Number(n)) => u32::try_from(n).ok(),
        _ => None,
    };
    let winhttp = read_binary(CONNECTIONS, "WinHttpSettings")
        .and_then(|bytes| decode_winhttp_settings(&bytes).ok());
    let server = match read(INTERNET_SETTINGS, "ProxyServer") {
        Some(AutopilotValue::Text(text)) => Some(text),
        _ => None,
    };
    choose_proxy(
        winhttp.as_ref(),
        number(POLICY, "ProxySettingsPerUser"),
        number(INTERNET_SETTINGS, "ProxyEnable"),
        server.as_deref(),
    )
}

/// The Autopilot diagnostics key's values as a profile; None when the key holds none of them.
pub fn autopilot_values() -> Result<Option<FoundProfile>, (String, AutopilotError)> {
    let values: Vec<(String, AutopilotValue)> = AUTOPILOT_VALUES
        .iter()
        .filter_map(|name| read(AUTOPILOT_KEY, name).map(|v| (name.to_string(), v)))
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    let location = format!(r"HKLM\{AUTOPILOT_KEY}");
    profile_from_values(&values)
        .map(|profile| {
            Some(FoundProfile {
                profile,
                location: location.clone(),
            })
        })
        .map_err(|e| (location, e))
}
