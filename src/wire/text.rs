//! Text files written by Windows: UTF-8 with or without a BOM, UTF-16LE (with a BOM, or without
//! one as some tools write it), UTF-16BE with a BOM, or an ANSI code page. Decoded without I/O
//! and without failing: what cannot be read becomes U+FFFD, so a parser sees text it can judge.

/// Which encoding the bytes were read as, for evidence ("rasphone.pbk is UTF-16LE").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    /// UTF-16LE without a byte order mark, recognised by the zero high bytes of ASCII.
    Utf16Le,
    /// Not valid UTF-8: read byte by byte as Latin-1 (the ANSI code page's ASCII part is exact).
    Latin1,
}

/// Decodes `bytes` as Windows writes text; never fails.
pub fn decode_windows_text(bytes: &[u8]) -> (String, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            TextEncoding::Utf8Bom,
        );
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (utf16(rest, u16::from_le_bytes), TextEncoding::Utf16LeBom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (utf16(rest, u16::from_be_bytes), TextEncoding::Utf16BeBom);
    }
    if looks_like_utf16le(bytes) {
        return (utf16(bytes, u16::from_le_bytes), TextEncoding::Utf16Le);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), TextEncoding::Utf8),
        Err(_) => (
            bytes.iter().map(|&b| char::from(b)).collect(),
            TextEncoding::Latin1,
        ),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

/// Text whose first characters (up to 8) each have a zero high byte: Latin text in UTF-16LE.
/// UTF-8 and ANSI text hold no zero bytes.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && bytes
            .chunks_exact(2)
            .take(8)
            .all(|pair| pair[1] == 0 && pair[0] != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn every_encoding_windows_writes_reads_back() {
        let text = "[Büro VPN]\r\nPhoneNumber=vpn.example.com\r\n";
        assert_eq!(
            decode_windows_text(&utf16le(text, true)),
            (text.to_string(), TextEncoding::Utf16LeBom)
        );
        assert_eq!(
            decode_windows_text(&utf16le(text, false)),
            (text.to_string(), TextEncoding::Utf16Le)
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(
            decode_windows_text(&be),
            (text.to_string(), TextEncoding::Utf16BeBom)
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(text.as_bytes());
        assert_eq!(
            decode_windows_text(&bom),
            (text.to_string(), TextEncoding::Utf8Bom)
        );
        assert_eq!(
            decode_windows_text(text.as_bytes()),
            (text.to_string(), TextEncoding::Utf8)
        );
        // Windows-1252 "ü" (0xFC) is not UTF-8.
        let (latin, encoding) = decode_windows_text(b"[B\xFCro]");
        assert_eq!((latin.as_str(), encoding), ("[Büro]", TextEncoding::Latin1));
    }

    #[test]
    fn broken_utf16_becomes_replacement_characters() {
        // A lone high surrogate and an odd trailing byte.
        let (text, _) = decode_windows_text(&[0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0, 0x41]);
        assert_eq!(text, "a\u{FFFD}b\u{FFFD}");
    }
}
