//! The connection-specific DNS suffix the network gave (DHCP option 15, or set on the adapter),
//! as `ipconfig /all` shows it: GetAdaptersAddresses' DnsSuffix of the adapters that are up.
//! hickory's Windows configuration reads only the machine-wide SearchList and Domain registry
//! values, which a device in OOBE, not yet joined, usually lacks. The FFI is here and only here.
#![allow(unsafe_code)]

use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetAdaptersAddresses, GAA_FLAG_SKIP_ANYCAST, GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST,
    IP_ADAPTER_ADDRESSES_LH,
};
use windows_sys::Win32::NetworkManagement::Ndis::IfOperStatusUp;

const ERROR_BUFFER_OVERFLOW: u32 = 111;
/// Bounds: adapters walked, tries as the list grows between calls, a suffix's length.
const MAX_ADAPTERS: usize = 128;
const MAX_TRIES: usize = 3;
const MAX_SUFFIX_UNITS: usize = 256;

/// The DNS suffixes of the adapters that are up, in the order Windows lists them.
pub fn connection_suffixes() -> Vec<String> {
    let mut size: u32 = 16 * 1024;
    for _ in 0..MAX_TRIES {
        // u64 units: the list's structures need 8-byte alignment.
        let mut buffer = vec![0u64; (size as usize).div_ceil(8)];
        let first = buffer.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
        // SAFETY: `buffer` holds `size` bytes, aligned for the structure; `size` is updated
        // with the length needed when the buffer is too small.
        let status = unsafe {
            GetAdaptersAddresses(
                0,
                GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
                std::ptr::null(),
                first,
                &mut size,
            )
        };
        if status == ERROR_BUFFER_OVERFLOW {
            continue;
        }
        if status != 0 {
            return Vec::new();
        }
        let mut suffixes = Vec::new();
        let mut adapter = first.cast_const();
        for _ in 0..MAX_ADAPTERS {
            if adapter.is_null() {
                break;
            }
            // SAFETY: `adapter` is the list's head or a `Next` link inside `buffer`, which
            // GetAdaptersAddresses filled and which lives until the end of this loop.
            let (status, suffix, next) =
                unsafe { ((*adapter).OperStatus, (*adapter).DnsSuffix, (*adapter).Next) };
            if status == IfOperStatusUp && !suffix.is_null() {
                // SAFETY: DnsSuffix is a NUL-terminated wide string inside the buffer; the
                // length is bounded so a missing terminator cannot run away.
                let text = unsafe {
                    let mut length = 0usize;
                    while length < MAX_SUFFIX_UNITS && *suffix.add(length) != 0 {
                        length += 1;
                    }
                    String::from_utf16_lossy(std::slice::from_raw_parts(suffix, length))
                };
                let text = text.trim().trim_end_matches('.').to_string();
                if !text.is_empty() && !suffixes.contains(&text) {
                    suffixes.push(text);
                }
            }
            adapter = next.cast_const();
        }
        return suffixes;
    }
    Vec::new()
}
