//! The machine's proxy as SYSTEM sees it during OOBE, as data: the WinHTTP default proxy
//! (`netsh winhttp set proxy` stores it in the registry value `WinHttpSettings` under
//! `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections`, a binary
//! structure) and the WinINET machine-wide settings (`ProxyServer`, `AutoConfigURL` under
//! `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings`, used when the policy
//! `ProxySettingsPerUser` is 0). Windows takes WinHTTP's named proxy first, then WinINET's
//! machine settings, then WPAD; `choose_proxy` keeps that order.
//!
//! The WinHttpSettings layout (little-endian DWORDs): a version/size word (0x18 or 0x28), a
//! change counter, the flags (1 = direct, 2 = named proxy; 3 = both), the proxy server's length
//! and ASCII text, the bypass list's length and text. Every length is checked against the bytes.

use super::cursor::Cursor;

/// A value larger than this is not a WinHttpSettings structure.
pub const MAX_SETTINGS_BYTES: usize = 64 * 1024;
const FLAG_NAMED_PROXY: u32 = 2;

/// What `WinHttpSettings` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinHttpProxy {
    /// The named proxy (`host:port`, or `http=host:port;https=host:port`); None when direct.
    pub proxy: Option<String>,
    pub bypass: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WinHttpSettingsError {
    #[error("WinHttpSettings is {size} bytes, more than {max}")]
    TooLarge { size: usize, max: usize },
    #[error("WinHttpSettings is cut short: {0}")]
    Short(#[from] super::cursor::WireError),
}

pub fn decode_winhttp_settings(bytes: &[u8]) -> Result<WinHttpProxy, WinHttpSettingsError> {
    if bytes.len() > MAX_SETTINGS_BYTES {
        return Err(WinHttpSettingsError::TooLarge {
            size: bytes.len(),
            max: MAX_SETTINGS_BYTES,
        });
    }
    let mut r = Cursor::new(bytes);
    let _version = r.u32_le("winhttp settings header")?;
    let _counter = r.u32_le("winhttp settings header")?;
    let flags = r.u32_le("winhttp settings flags")?;
    let mut text = |what: &'static str| -> Result<Option<String>, WinHttpSettingsError> {
        let length = r.u32_le(what)? as usize;
        let raw = r.take(length, what)?;
        let value = String::from_utf8_lossy(raw).trim().to_string();
        Ok((!value.is_empty()).then_some(value))
    };
    let proxy = text("winhttp proxy server")?;
    // The bypass list is absent in some short structures written by old tools.
    let bypass = text("winhttp bypass list").unwrap_or(None);
    Ok(WinHttpProxy {
        proxy: if flags & FLAG_NAMED_PROXY != 0 {
            proxy
        } else {
            None
        },
        bypass,
    })
}

/// The `host:port` to use for HTTPS out of a proxy setting: a plain `host:port`, or from a
/// per-scheme list (`http=a:80;https=b:443`) the https entry, else the http one.
pub fn https_proxy(setting: &str) -> Option<String> {
    let entries: Vec<&str> = setting
        .split([';', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let scheme = |name: &str| {
        entries.iter().find_map(|e| {
            let (key, value) = e.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    };
    scheme("https")
        .or_else(|| scheme("http"))
        .or_else(|| {
            entries
                .iter()
                .find(|e| !e.contains('='))
                .map(|e| e.to_string())
        })
        .filter(|p| !p.is_empty())
}

/// Where the machine proxy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyOrigin {
    WinHttp,
    WinInetMachine,
}

/// Windows' order: WinHTTP's named proxy, then WinINET's machine-wide proxy (only when the
/// policy makes proxy settings per machine and the proxy is enabled).
pub fn choose_proxy(
    winhttp: Option<&WinHttpProxy>,
    per_user: Option<u32>,
    wininet_enabled: Option<u32>,
    wininet_server: Option<&str>,
) -> Option<(String, ProxyOrigin)> {
    if let Some(proxy) = winhttp
        .and_then(|w| w.proxy.as_deref())
        .and_then(https_proxy)
    {
        return Some((proxy, ProxyOrigin::WinHttp));
    }
    if per_user == Some(0) && wininet_enabled == Some(1) {
        if let Some(proxy) = wininet_server.and_then(https_proxy) {
            return Some((proxy, ProxyOrigin::WinInetMachine));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(flags: u32, proxy: &str, bypass: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [0x18u32, 0, flags, proxy.len() as u32] {
            out.extend(word.to_le_bytes());
        }
        out.extend(proxy.as_bytes());
        out.extend((bypass.len() as u32).to_le_bytes());
        out.extend(bypass.as_bytes());
        out
    }

    #[test]
    fn netsh_winhttp_settings_decode() {
        let named =
            decode_winhttp_settings(&blob(3, "proxy.corp.example:8080", "<local>")).unwrap();
        assert_eq!(named.proxy.as_deref(), Some("proxy.corp.example:8080"));
        assert_eq!(named.bypass.as_deref(), Some("<local>"));
        // `netsh winhttp reset proxy`: direct, no proxy.
        let direct = decode_winhttp_settings(&blob(1, "", "")).unwrap();
        assert_eq!(
            direct,
            WinHttpProxy {
                proxy: None,
                bypass: None
            }
        );
        // A stale server left behind with the direct flag is not used.
        assert_eq!(
            decode_winhttp_settings(&blob(1, "old:80", ""))
                .unwrap()
                .proxy,
            None
        );
    }

    #[test]
    fn broken_settings_are_errors_not_panics() {
        let mut cut = blob(3, "proxy:8080", "");
        cut.truncate(16);
        assert!(matches!(
            decode_winhttp_settings(&cut),
            Err(WinHttpSettingsError::Short(_))
        ));
        let mut huge = blob(3, "p:1", "");
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_winhttp_settings(&huge).is_err());
        assert!(decode_winhttp_settings(&[]).is_err());
    }

    #[test]
    fn windows_order_and_per_scheme_lists() {
        assert_eq!(
            https_proxy("http=a:80;https=b:443").as_deref(),
            Some("b:443")
        );
        assert_eq!(https_proxy("http=a:80").as_deref(), Some("a:80"));
        assert_eq!(https_proxy("p:3128").as_deref(), Some("p:3128"));
        assert_eq!(https_proxy(" ; "), None);
        let winhttp = WinHttpProxy {
            proxy: Some("w:8080".into()),
            bypass: None,
        };
        assert_eq!(
            choose_proxy(Some(&winhttp), Some(0), Some(1), Some("i:80")),
            Some(("w:8080".to_string(), ProxyOrigin::WinHttp))
        );
        assert_eq!(
            choose_proxy(None, Some(0), Some(1), Some("i:80")),
            Some(("i:80".to_string(), ProxyOrigin::WinInetMachine))
        );
        // Per-user proxy settings (the default) are not what SYSTEM uses.
        assert_eq!(choose_proxy(None, None, Some(1), Some("i:80")), None);
        assert_eq!(choose_proxy(None, Some(0), Some(0), Some("i:80")), None);
    }
}
