//! DHCP option 252 on Windows: WinHTTP asks the DHCP client (a DHCPINFORM when the lease has no
//! cached answer), exactly the step WPAD auto-detection takes before it tries DNS.

use windows_sys::Win32::Foundation::{GetLastError, GlobalFree};
use windows_sys::Win32::Networking::WinHttp::{
    WinHttpDetectAutoProxyConfigUrl, WINHTTP_AUTO_DETECT_TYPE_DHCP,
};

/// WinHTTP's "auto-detection found nothing": no DHCP server offered option 252.
const ERROR_WINHTTP_AUTODETECTION_FAILED: u32 = 12180;

/// The PAC URL the DHCP server hands out in option 252, `None` when it offers none.
///
/// Blocking (WinHTTP may wait for the DHCP server): call it from `spawn_blocking`.
pub fn option_252_url() -> Result<Option<String>, String> {
    let mut url: *mut u16 = std::ptr::null_mut();
    // SAFETY: `url` is a valid out-pointer; on success WinHTTP stores a NUL-terminated wide
    // string allocated with GlobalAlloc, which is read once and freed below.
    let ok = unsafe { WinHttpDetectAutoProxyConfigUrl(WINHTTP_AUTO_DETECT_TYPE_DHCP, &mut url) };
    if ok == 0 {
        // SAFETY: reads the calling thread's last error, set by the call above.
        let code = unsafe { GetLastError() };
        return match code {
            ERROR_WINHTTP_AUTODETECTION_FAILED => Ok(None),
            other => Err(format!(
                "WinHTTP could not ask DHCP for option 252 (error {other})"
            )),
        };
    }
    if url.is_null() {
        return Ok(None);
    }
    // SAFETY: WinHTTP returned a NUL-terminated string; the length is found before the slice is
    // made, and bounded so a missing terminator cannot run away.
    let text = unsafe {
        let mut length = 0usize;
        while length < 8192 && *url.add(length) != 0 {
            length += 1;
        }
        let text = String::from_utf16_lossy(std::slice::from_raw_parts(url, length));
        GlobalFree(url.cast());
        text
    };
    let text = text.trim().to_string();
    Ok((!text.is_empty()).then_some(text))
}
