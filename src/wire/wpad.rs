//! WPAD names and DHCP option 252 text: which `wpad.<suffix>` names Windows asks, and the PAC
//! URL a DHCP client's lease file carries. The probe reads the files and fetches the URLs.

/// The names Windows asks, in order: `corp.example.com` → wpad.corp.example.com,
/// wpad.example.com (a two-label suffix is the last one tried).
pub fn candidates(suffix: &str) -> Vec<String> {
    let labels: Vec<&str> = suffix
        .trim()
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| format!("wpad.{}", labels[i..].join(".")))
        .collect()
}

/// The PAC URL of DHCP option 252 in one lease file's text, if it has one: dhclient writes
/// `option wpad "URL";` (when declared) or `option unknown-252 "URL";` / hex bytes, the last
/// lease last; systemd-networkd writes private options as `OPTION_252=<hex>`.
pub fn option_252(text: &str) -> Option<String> {
    let mut found = None;
    for line in text.lines().map(str::trim) {
        let value = if let Some(rest) = line
            .strip_prefix("option wpad ")
            .or_else(|| line.strip_prefix("option unknown-252 "))
            .or_else(|| line.strip_prefix("option wpad-url "))
        {
            let rest = rest.trim_end_matches(';').trim();
            if let Some(quoted) = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(quoted.to_string())
            } else {
                hex_text(&rest.replace(':', ""))
            }
        } else if let Some(hex) = line.strip_prefix("OPTION_252=") {
            hex_text(hex.trim())
        } else {
            None
        };
        if let Some(url) = value.map(|v| v.trim_end_matches('\0').trim().to_string()) {
            if url.starts_with("http://") || url.starts_with("https://") {
                found = Some(url);
            }
        }
    }
    found
}

fn hex_text(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_252_in_the_forms_dhcp_clients_write() {
        let dhclient = "lease {\n  interface \"eth0\";\n  option wpad \"http://old.corp/wpad.dat\";\n}\nlease {\n  option unknown-252 \"http://wpad.corp.jr.test/proxy.pac\";\n}\n";
        assert_eq!(
            option_252(dhclient).as_deref(),
            Some("http://wpad.corp.jr.test/proxy.pac")
        );
        // "http://a/p.pac" as dhclient prints bytes it cannot name, and as networkd stores them.
        assert_eq!(
            option_252("  option unknown-252 68:74:74:70:3a:2f:2f:61:2f:70:2e:70:61:63:00;")
                .as_deref(),
            Some("http://a/p.pac")
        );
        assert_eq!(
            option_252("ADDRESS=10.0.0.5\nOPTION_252=687474703a2f2f612f702e706163\n").as_deref(),
            Some("http://a/p.pac")
        );
        assert_eq!(option_252("option wpad \"not a url\";"), None);
        assert_eq!(option_252("OPTION_252=zz"), None);
        assert_eq!(option_252(""), None);
    }

    #[test]
    fn devolution_stops_at_two_labels() {
        assert_eq!(
            candidates("corp.jr.test"),
            vec!["wpad.corp.jr.test", "wpad.jr.test"]
        );
        assert_eq!(
            candidates("a.b.corp.example.com."),
            vec![
                "wpad.a.b.corp.example.com",
                "wpad.b.corp.example.com",
                "wpad.corp.example.com",
                "wpad.example.com"
            ]
        );
        assert_eq!(candidates("example.com"), vec!["wpad.example.com"]);
        assert!(candidates("localdomain").is_empty());
        assert!(candidates("").is_empty());
    }
}
