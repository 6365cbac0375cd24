//! The all-users phonebook, `%ProgramData%\Microsoft\Network\Connections\Pbk\rasphone.pbk`:
//! the per-machine ("all user") VPN connections that `Get-VpnConnection -AllUserConnection`
//! lists and that Autopilot's hybrid join with "Skip domain connectivity check" needs before
//! the user signs in. INI-like: one `[Name]` section per connection, `Key=Value` lines, keys
//! may repeat (each device block has its own `PhoneNumber`); `PhoneNumber` holds the gateway,
//! `VpnStrategy` the tunnel type.
//!
//! Windows writes it as UTF-16LE or UTF-8 (with or without a BOM, CRLF line ends) and VPN client
//! installers write it in other ways still: parsing never fails, lines it cannot read are
//! counted with their line number so the check can say so.

use super::text::{decode_windows_text, TextEncoding};
use serde::{Deserialize, Serialize};

/// Bounds: a phonebook this large is not one a person wrote.
pub const MAX_PHONEBOOK_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_ENTRIES: usize = 256;
pub const MAX_VALUES_PER_ENTRY: usize = 512;
pub const MAX_PROBLEMS: usize = 10;

/// `VpnStrategy` (RASENTRY dwVpnStrategy, ras.h): which tunnel types the connection tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VpnStrategy {
    Automatic,
    PptpOnly,
    PptpFirst,
    L2tpOnly,
    L2tpFirst,
    SstpOnly,
    SstpFirst,
    Ikev2Only,
    Ikev2First,
    Other,
}

impl VpnStrategy {
    pub fn from_code(code: u32) -> VpnStrategy {
        match code {
            0 => VpnStrategy::Automatic,
            1 => VpnStrategy::PptpOnly,
            2 => VpnStrategy::PptpFirst,
            3 => VpnStrategy::L2tpOnly,
            4 => VpnStrategy::L2tpFirst,
            5 => VpnStrategy::SstpOnly,
            6 => VpnStrategy::SstpFirst,
            7 => VpnStrategy::Ikev2Only,
            8 => VpnStrategy::Ikev2First,
            _ => VpnStrategy::Other,
        }
    }

    /// Whether the connection can use IKEv2 (and so what a `kind = "ikev2"` gateway answers).
    pub fn may_use_ikev2(self) -> bool {
        matches!(
            self,
            VpnStrategy::Automatic | VpnStrategy::Ikev2Only | VpnStrategy::Ikev2First
        )
    }
}

/// `Type=2` is a VPN connection (1 phone, 3 direct, 4 broadband).
pub const ENTRY_TYPE_VPN: u32 = 2;

/// One `[Name]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhonebookEntry {
    pub name: String,
    /// `Type`: 2 for VPN.
    pub entry_type: Option<u32>,
    /// The first non-empty `PhoneNumber`: the VPN gateway's host name or address.
    pub gateway: Option<String>,
    pub vpn_strategy: Option<VpnStrategy>,
    /// The 1-based line of its `[Name]`.
    pub line: usize,
}

impl PhonebookEntry {
    pub fn is_vpn(&self) -> bool {
        self.entry_type == Some(ENTRY_TYPE_VPN)
    }
}

/// The whole phonebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phonebook {
    pub encoding: TextEncoding,
    pub entries: Vec<PhonebookEntry>,
    /// "line N: …" for lines that are neither a section, a `Key=Value`, a comment nor blank.
    pub problems: Vec<String>,
    /// Whether the bounds cut the file short.
    pub truncated: bool,
}

/// Parses a phonebook; never fails (see the module note).
pub fn parse_phonebook(bytes: &[u8]) -> Phonebook {
    let truncated_bytes = bytes.len() > MAX_PHONEBOOK_BYTES;
    let bytes = bytes.get(..MAX_PHONEBOOK_BYTES).unwrap_or(bytes);
    let (text, encoding) = decode_windows_text(bytes);
    let mut book = Phonebook {
        encoding,
        entries: Vec::new(),
        problems: Vec::new(),
        truncated: truncated_bytes,
    };
    let mut values_in_entry = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\0');
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                note(
                    &mut book,
                    format!("line {number}: `[` without a closing `]`"),
                );
                continue;
            };
            if book.entries.len() == MAX_ENTRIES {
                book.truncated = true;
                break;
            }
            book.entries.push(PhonebookEntry {
                name: name.trim().to_string(),
                entry_type: None,
                gateway: None,
                vpn_strategy: None,
                line: number,
            });
            values_in_entry = 0;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            note(
                &mut book,
                format!("line {number}: neither `[Name]` nor `Key=Value`"),
            );
            continue;
        };
        let Some(entry) = book.entries.last_mut() else {
            note(
                &mut book,
                format!("line {number}: `{}` before the first `[Name]`", key.trim()),
            );
            continue;
        };
        values_in_entry += 1;
        if values_in_entry > MAX_VALUES_PER_ENTRY {
            book.truncated = true;
            continue;
        }
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case("Type") {
            entry.entry_type = value.parse().ok();
        } else if key.eq_ignore_ascii_case("PhoneNumber") {
            if entry.gateway.is_none() && !value.is_empty() {
                entry.gateway = Some(value.to_string());
            }
        } else if key.eq_ignore_ascii_case("VpnStrategy") {
            entry.vpn_strategy = value.parse().ok().map(VpnStrategy::from_code);
        }
    }
    book
}

fn note(book: &mut Phonebook, problem: String) {
    if book.problems.len() < MAX_PROBLEMS {
        book.problems.push(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/phonebook/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_utf16_phonebook_with_several_entries() {
        let book = parse_phonebook(&fixture("two-vpns-utf16.pbk"));
        assert_eq!(book.encoding, TextEncoding::Utf16LeBom);
        assert!(book.problems.is_empty(), "{:?}", book.problems);
        let names: Vec<&str> = book.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Contoso Device Tunnel", "Büro (SSTP)", "Dial-up"]);
        let first = &book.entries[0];
        assert!(first.is_vpn());
        assert_eq!(first.gateway.as_deref(), Some("vpn.contoso.com"));
        assert_eq!(first.vpn_strategy, Some(VpnStrategy::Ikev2Only));
        assert!(first.vpn_strategy.is_some_and(VpnStrategy::may_use_ikev2));
        assert_eq!(book.entries[1].vpn_strategy, Some(VpnStrategy::SstpOnly));
        assert!(!book.entries[2].is_vpn());
    }

    #[test]
    fn a_utf8_phonebook_as_an_installer_writes_it() {
        let book = parse_phonebook(&fixture("one-vpn-utf8.pbk"));
        assert_eq!(book.encoding, TextEncoding::Utf8);
        assert_eq!(book.entries.len(), 1);
        // The first PhoneNumber is empty; the gateway is the next one.
        assert_eq!(book.entries[0].gateway.as_deref(), Some("10.77.0.40"));
        assert_eq!(book.entries[0].line, 2);
    }

    #[test]
    fn a_broken_phonebook_reads_what_it_can_and_names_the_lines() {
        let book = parse_phonebook(&fixture("broken.pbk"));
        assert_eq!(book.encoding, TextEncoding::Latin1);
        let names: Vec<&str> = book.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Über VPN"]);
        assert_eq!(book.entries[0].vpn_strategy, Some(VpnStrategy::Other));
        assert_eq!(book.entries[0].entry_type, None);
        assert_eq!(
            book.problems,
            [
                "line 1: `PhoneNumber` before the first `[Name]`",
                "line 2: `[` without a closing `]`",
                "line 5: neither `[Name]` nor `Key=Value`",
            ]
        );
    }

    #[test]
    fn bounds_hold_on_huge_input() {
        let many: String = (0..MAX_ENTRIES + 5)
            .map(|i| format!("[e{i}]\nType=2\n"))
            .collect();
        let book = parse_phonebook(many.as_bytes());
        assert_eq!(book.entries.len(), MAX_ENTRIES);
        assert!(book.truncated);
        let book = parse_phonebook(&vec![b'x'; MAX_PHONEBOOK_BYTES + 1]);
        assert!(book.truncated && book.entries.is_empty());
        assert!(book.problems.len() <= MAX_PROBLEMS);
    }
}
