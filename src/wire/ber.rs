//! Minimal BER/DER helpers for LDAP (CLDAP ping) and Kerberos.
//!
//! Only single-byte tags and definite lengths are supported: neither LDAP (RFC 4511 5.1) nor
//! Kerberos (RFC 4120 5.1, DER) uses anything else. Encoding is DER (minimal lengths and
//! integers); decoding also accepts non-minimal BER lengths and integers. Decoding is bounded:
//! every length is checked against the bytes that remain and nesting stops at [`MAX_DEPTH`].

use super::cursor::{Cursor, WireError};
use thiserror::Error;

/// Universal and helper tag values (class and constructed bits included).
pub mod tag {
    /// BOOLEAN.
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING.
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING.
    pub const OCTET_STRING: u8 = 0x04;
    /// ENUMERATED.
    pub const ENUMERATED: u8 = 0x0a;
    /// GeneralizedTime.
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// GeneralString (Kerberos strings).
    pub const GENERAL_STRING: u8 = 0x1b;
    /// SEQUENCE / SEQUENCE OF (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// SET / SET OF (constructed).
    pub const SET: u8 = 0x31;

    /// Constructed context-specific tag `[n]` (explicit tagging, LDAP filters); `n` below 31.
    pub const fn context(n: u8) -> u8 {
        0xa0 | (n & 0x1f)
    }

    /// Primitive context-specific tag `[n]`; `n` below 31.
    pub const fn context_primitive(n: u8) -> u8 {
        0x80 | (n & 0x1f)
    }

    /// Constructed application tag `[APPLICATION n]`; `n` below 31.
    pub const fn application(n: u8) -> u8 {
        0x60 | (n & 0x1f)
    }
}

/// Deepest nesting [`BerReader::enter`] allows; LDAP and Kerberos messages stay well below it.
pub const MAX_DEPTH: usize = 16;

/// Failure while decoding BER.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BerError {
    /// The input ended early or a length pointed past it.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Tag number 31 and above (multi-byte tags) never appears in LDAP or Kerberos.
    #[error("{what} uses a multi-byte tag (0x{first:02x}), which ldap and kerberos never use")]
    HighTagNumber { what: &'static str, first: u8 },
    /// Indefinite lengths are forbidden in LDAP and DER.
    #[error("{what} uses an indefinite length, which ldap and kerberos forbid")]
    IndefiniteLength { what: &'static str },
    /// A long-form length with more octets than any real message needs.
    #[error("{what} has a {octets}-octet length field, more than this decoder accepts")]
    LengthTooLong { what: &'static str, octets: usize },
    /// A different element than the one the grammar requires.
    #[error("expected tag 0x{expected:02x} for {what}, found 0x{found:02x}")]
    UnexpectedTag {
        what: &'static str,
        expected: u8,
        found: u8,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("{what} is nested more than {max} levels deep")]
    TooDeep { what: &'static str, max: usize },
    /// An INTEGER with no content octets.
    #[error("{what} is an integer with no content octets")]
    EmptyInteger { what: &'static str },
    /// An INTEGER that does not fit the field it fills.
    #[error("{what} is an integer too large for its field ({len} octets)")]
    IntegerOutOfRange { what: &'static str, len: usize },
    /// A BOOLEAN whose content is not exactly one octet.
    #[error("{what} is a boolean of {len} octets, not 1")]
    BadBoolean { what: &'static str, len: usize },
    /// A string that should be UTF-8 (or ASCII) is not.
    #[error("{what} is not valid utf-8")]
    NotUtf8 { what: &'static str },
    /// A GeneralizedTime that is not `YYYYMMDDhhmmss[.fff]Z`.
    #[error("{what} {value:?} is not a utc generalized time: {reason}")]
    BadTime {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    /// Bytes left over inside an element after its last field.
    #[error("{what} has {extra} unexpected trailing bytes")]
    TrailingData { what: &'static str, extra: usize },
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Appends a DER definite length (short form below 128, else long form).
pub fn encode_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// One element: tag, length and content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    encode_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A constructed element (SEQUENCE, SET, `[n]`, `[APPLICATION n]`) holding encoded children.
pub fn constructed(tag: u8, children: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &children.concat())
}

/// Explicit context tag `[n]` around one encoded element (Kerberos style).
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(tag::context(n), inner)
}

/// Minimal two's-complement content octets of an integer.
pub fn integer_content(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
            break;
        };
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or(&[0]).to_vec()
}

/// INTEGER with the given tag (use [`tag::INTEGER`] or [`tag::ENUMERATED`], or an implicit tag).
pub fn integer_with_tag(tag: u8, value: i64) -> Vec<u8> {
    tlv(tag, &integer_content(value))
}

/// INTEGER.
pub fn integer(value: i64) -> Vec<u8> {
    integer_with_tag(tag::INTEGER, value)
}

/// ENUMERATED.
pub fn enumerated(value: i64) -> Vec<u8> {
    integer_with_tag(tag::ENUMERATED, value)
}

/// BOOLEAN (DER: true is 0xff).
pub fn boolean(value: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

/// OCTET STRING.
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

/// GeneralString (Kerberos realm and name components).
pub fn general_string(s: &str) -> Vec<u8> {
    tlv(tag::GENERAL_STRING, s.as_bytes())
}

/// BIT STRING with no unused bits.
pub fn bit_string(bits: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bits.len() + 1);
    content.push(0);
    content.extend_from_slice(bits);
    tlv(tag::BIT_STRING, &content)
}

/// GeneralizedTime `YYYYMMDDhhmmssZ` for a unix time (Kerberos time, RFC 4120 5.2.3).
pub fn generalized_time(unix_secs: i64) -> Vec<u8> {
    tlv(
        tag::GENERALIZED_TIME,
        format_generalized_time(unix_secs).as_bytes(),
    )
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// One decoded element: its tag and its content octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The single tag byte (class, constructed bit and number).
    pub tag: u8,
    /// Content octets, already checked to lie inside the input.
    pub value: &'a [u8],
}

/// Reads consecutive elements from a byte slice, with a nesting depth limit.
#[derive(Debug, Clone)]
pub struct BerReader<'a> {
    cur: Cursor<'a>,
    depth: usize,
}

impl<'a> BerReader<'a> {
    /// Reader at depth 0 over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        BerReader {
            cur: Cursor::new(data),
            depth: 0,
        }
    }

    /// True when no bytes remain.
    pub fn is_empty(&self) -> bool {
        self.cur.is_empty()
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.cur.remaining()
    }

    /// Offset of the next element within this reader's slice.
    pub fn position(&self) -> usize {
        self.cur.position()
    }

    /// Tag of the next element, if any, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.cur.peek_u8()
    }

    /// Reads the next element whatever its tag.
    pub fn read_tlv(&mut self, what: &'static str) -> Result<Tlv<'a>, BerError> {
        let tag = self.cur.u8(what)?;
        if tag & 0x1f == 0x1f {
            return Err(BerError::HighTagNumber { what, first: tag });
        }
        let first = self.cur.u8(what)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(BerError::IndefiniteLength { what });
        } else {
            let octets = usize::from(first & 0x7f);
            // Four octets already describe 4 GiB; anything longer is hostile or broken.
            if octets > 4 {
                return Err(BerError::LengthTooLong { what, octets });
            }
            let mut len: usize = 0;
            for b in self.cur.take(octets, what)? {
                len = (len << 8) | usize::from(*b);
            }
            len
        };
        let value = self.cur.take(len, what)?;
        Ok(Tlv { tag, value })
    }

    /// Reads the next element, which must carry `expected`; returns its content.
    pub fn read(&mut self, expected: u8, what: &'static str) -> Result<&'a [u8], BerError> {
        let tlv = self.read_tlv(what)?;
        if tlv.tag != expected {
            return Err(BerError::UnexpectedTag {
                what,
                expected,
                found: tlv.tag,
            });
        }
        Ok(tlv.value)
    }

    /// Reads the next element only if it carries `expected` (OPTIONAL fields).
    pub fn read_optional(
        &mut self,
        expected: u8,
        what: &'static str,
    ) -> Result<Option<&'a [u8]>, BerError> {
        if self.peek_tag() == Some(expected) {
            self.read(expected, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Opens a constructed element with tag `expected` and returns a reader over its content.
    pub fn enter(&mut self, expected: u8, what: &'static str) -> Result<BerReader<'a>, BerError> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep {
                what,
                max: MAX_DEPTH,
            });
        }
        let value = self.read(expected, what)?;
        Ok(BerReader {
            cur: Cursor::new(value),
            depth,
        })
    }

    /// Opens the next constructed element whatever its tag (CHOICE); returns the tag and a reader.
    pub fn enter_any(&mut self, what: &'static str) -> Result<(u8, BerReader<'a>), BerError> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep {
                what,
                max: MAX_DEPTH,
            });
        }
        let tlv = self.read_tlv(what)?;
        Ok((
            tlv.tag,
            BerReader {
                cur: Cursor::new(tlv.value),
                depth,
            },
        ))
    }

    /// Like [`BerReader::enter`] for an OPTIONAL constructed element.
    pub fn enter_optional(
        &mut self,
        expected: u8,
        what: &'static str,
    ) -> Result<Option<BerReader<'a>>, BerError> {
        if self.peek_tag() == Some(expected) {
            self.enter(expected, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads an INTEGER-like element (any tag with integer content) as i64.
    pub fn read_integer(&mut self, expected: u8, what: &'static str) -> Result<i64, BerError> {
        decode_integer(self.read(expected, what)?, what)
    }

    /// Reads an INTEGER-like element that must fit in u32 (message ids, nonces, microseconds).
    pub fn read_u32(&mut self, expected: u8, what: &'static str) -> Result<u32, BerError> {
        let content = self.read(expected, what)?;
        let v = decode_integer(content, what)?;
        u32::try_from(v).map_err(|_| BerError::IntegerOutOfRange {
            what,
            len: content.len(),
        })
    }

    /// Reads a BOOLEAN (any non-zero octet is true, as BER allows).
    pub fn read_bool(&mut self, what: &'static str) -> Result<bool, BerError> {
        match self.read(tag::BOOLEAN, what)? {
            [b] => Ok(*b != 0),
            other => Err(BerError::BadBoolean {
                what,
                len: other.len(),
            }),
        }
    }

    /// Reads a string element with the given tag as UTF-8.
    pub fn read_string(&mut self, expected: u8, what: &'static str) -> Result<String, BerError> {
        let bytes = self.read(expected, what)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| BerError::NotUtf8 { what })
    }

    /// Fails when bytes remain (the element had more fields than the grammar allows).
    pub fn finish(&self, what: &'static str) -> Result<(), BerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(BerError::TrailingData {
                what,
                extra: self.remaining(),
            })
        }
    }
}

/// Decodes two's-complement content octets (BER allows redundant leading octets).
pub fn decode_integer(content: &[u8], what: &'static str) -> Result<i64, BerError> {
    let Some(&first) = content.first() else {
        return Err(BerError::EmptyInteger { what });
    };
    // Strip redundant sign octets so that e.g. a 5-octet positive u32 still fits.
    let mut body = content;
    while let [b, next, ..] = body {
        if (*b == 0x00 && next & 0x80 == 0) || (*b == 0xff && next & 0x80 != 0) {
            body = body.get(1..).unwrap_or(&[]);
        } else {
            break;
        }
    }
    if body.len() > 8 {
        return Err(BerError::IntegerOutOfRange {
            what,
            len: content.len(),
        });
    }
    let mut v: i64 = if first & 0x80 != 0 { -1 } else { 0 };
    for b in body {
        v = (v << 8) | i64::from(*b);
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// GeneralizedTime
// ---------------------------------------------------------------------------------------------

/// A UTC GeneralizedTime as unix seconds plus a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneralizedTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_secs: i64,
    /// Fractional second from an optional `.fff` part, in nanoseconds.
    pub nanos: u32,
}

/// Parses `YYYYMMDDhhmmss[.f+]Z` (Kerberos uses no fraction; LDAP `currentTime` uses `.0Z`).
pub fn parse_generalized_time(
    value: &str,
    what: &'static str,
) -> Result<GeneralizedTime, BerError> {
    let bad = |reason: &'static str| BerError::BadTime {
        what,
        value: value.chars().take(40).collect(),
        reason,
    };
    let b = value.as_bytes();
    let Some(body) = b.strip_suffix(b"Z") else {
        return Err(bad("it does not end in Z"));
    };
    let (digits, fraction) = match body.iter().position(|c| *c == b'.' || *c == b',') {
        Some(dot) => (
            body.get(..dot).unwrap_or(&[]),
            body.get(dot + 1..).unwrap_or(&[]),
        ),
        None => (body, &[][..]),
    };
    if digits.len() != 14 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad("expected 14 digits YYYYMMDDhhmmss"));
    }
    let num = |from: usize, len: usize| -> i64 {
        digits
            .get(from..from + len)
            .unwrap_or(&[])
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(4, 2), num(6, 2));
    let (hour, minute, second) = (num(8, 2), num(10, 2), num(12, 2));
    if !(1..=12).contains(&month) {
        return Err(bad("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(bad("day out of range"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad("time of day out of range"));
    }
    let nanos = if fraction.is_empty() {
        if body.len() != digits.len() {
            return Err(bad("empty fraction"));
        }
        0
    } else {
        if fraction.len() > 9 || !fraction.iter().all(u8::is_ascii_digit) {
            return Err(bad("fraction must be 1 to 9 digits"));
        }
        let mut n: u32 = 0;
        for i in 0..9 {
            let d = fraction.get(i).map_or(0, |d| u32::from(d - b'0'));
            n = n * 10 + d;
        }
        n
    };
    let days = days_from_civil(year, month, day);
    Ok(GeneralizedTime {
        unix_secs: days * 86_400 + hour * 3_600 + minute * 60 + second,
        nanos,
    })
}

/// Formats unix seconds as `YYYYMMDDhhmmssZ`, clamped to years 0000–9999.
pub fn format_generalized_time(unix_secs: i64) -> String {
    let min = days_from_civil(0, 1, 1) * 86_400;
    let max = days_from_civil(9999, 12, 31) * 86_400 + 86_399;
    let t = unix_secs.clamp(min, max);
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long_form() {
        let table: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (0x7f, &[0x7f]),
            (0x80, &[0x81, 0x80]),
            (0xff, &[0x81, 0xff]),
            (0x100, &[0x82, 0x01, 0x00]),
            (0x1_0000, &[0x83, 0x01, 0x00, 0x00]),
        ];
        for (len, bytes) in table {
            let mut out = Vec::new();
            encode_length(&mut out, *len);
            assert_eq!(&out, bytes, "length {len}");
            let mut enc = vec![tag::OCTET_STRING];
            enc.extend_from_slice(bytes);
            enc.extend(std::iter::repeat_n(0u8, *len));
            let mut r = BerReader::new(&enc);
            assert_eq!(r.read(tag::OCTET_STRING, "s").unwrap().len(), *len);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn non_minimal_length_accepted() {
        // Windows AD writes 0x84-prefixed four-octet lengths even for short values.
        let enc = [0x04, 0x84, 0, 0, 0, 2, b'h', b'i'];
        assert_eq!(BerReader::new(&enc).read(0x04, "s").unwrap(), b"hi");
    }

    #[test]
    fn integers_table() {
        let table: &[(i64, &[u8])] = &[
            (0, &[0x02, 0x01, 0x00]),
            (1, &[0x02, 0x01, 0x01]),
            (127, &[0x02, 0x01, 0x7f]),
            (128, &[0x02, 0x02, 0x00, 0x80]),
            (256, &[0x02, 0x02, 0x01, 0x00]),
            (-1, &[0x02, 0x01, 0xff]),
            (-128, &[0x02, 0x01, 0x80]),
            (-129, &[0x02, 0x02, 0xff, 0x7f]),
            (0x7fff_ffff, &[0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]),
            (0xffff_ffff, &[0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]),
            (i64::MIN, &[0x02, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ];
        for (v, bytes) in table {
            assert_eq!(&integer(*v), bytes, "encode {v}");
            assert_eq!(
                BerReader::new(bytes)
                    .read_integer(tag::INTEGER, "i")
                    .unwrap(),
                *v,
                "decode {v}"
            );
        }
        // Redundant leading octets are tolerated on decode.
        assert_eq!(decode_integer(&[0x00, 0x00, 0x05], "i").unwrap(), 5);
        assert_eq!(decode_integer(&[0xff, 0xff, 0xfe], "i").unwrap(), -2);
        assert_eq!(
            decode_integer(&[], "i"),
            Err(BerError::EmptyInteger { what: "i" })
        );
        assert!(matches!(
            decode_integer(&[1, 2, 3, 4, 5, 6, 7, 8, 9], "i"),
            Err(BerError::IntegerOutOfRange { len: 9, .. })
        ));
        assert!(matches!(
            BerReader::new(&[0x02, 0x01, 0xff]).read_u32(tag::INTEGER, "u"),
            Err(BerError::IntegerOutOfRange { .. })
        ));
    }

    #[test]
    fn decode_errors_are_typed() {
        assert!(matches!(
            BerReader::new(&[0x30, 0x80, 0, 0]).read_tlv("seq"),
            Err(BerError::IndefiniteLength { what: "seq" })
        ));
        assert!(matches!(
            BerReader::new(&[0x1f, 0x81, 0x01, 0x00]).read_tlv("t"),
            Err(BerError::HighTagNumber { .. })
        ));
        assert!(matches!(
            BerReader::new(&[0x04, 0x85, 1, 0, 0, 0, 0]).read_tlv("t"),
            Err(BerError::LengthTooLong { octets: 5, .. })
        ));
        assert!(matches!(
            BerReader::new(&[0x04, 0x05, 1, 2]).read_tlv("t"),
            Err(BerError::Wire(WireError::Truncated {
                needed: 5,
                available: 2,
                ..
            }))
        ));
        // A four-octet length claiming ~4 GiB must fail cleanly, not allocate or overflow.
        assert!(matches!(
            BerReader::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0]).read_tlv("t"),
            Err(BerError::Wire(WireError::Truncated { .. }))
        ));
        assert!(matches!(
            BerReader::new(&[0x31, 0x00]).read(tag::SEQUENCE, "seq"),
            Err(BerError::UnexpectedTag {
                expected: 0x30,
                found: 0x31,
                ..
            })
        ));
        assert!(matches!(
            BerReader::new(&[0x01, 0x02, 0, 0]).read_bool("b"),
            Err(BerError::BadBoolean { len: 2, .. })
        ));
        assert!(matches!(
            BerReader::new(&[0x04, 0x01, 0xff]).read_string(tag::OCTET_STRING, "s"),
            Err(BerError::NotUtf8 { .. })
        ));
        let r = BerReader::new(&[0x05, 0x00]);
        assert_eq!(
            r.finish("x"),
            Err(BerError::TrailingData {
                what: "x",
                extra: 2
            })
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut enc = octet_string(b"x");
        for _ in 0..(MAX_DEPTH + 2) {
            enc = constructed(tag::SEQUENCE, &[enc]);
        }
        fn descend(r: &mut BerReader<'_>) -> Result<(), BerError> {
            if r.peek_tag() == Some(tag::SEQUENCE) {
                let mut inner = r.enter(tag::SEQUENCE, "nest")?;
                descend(&mut inner)
            } else {
                r.read(tag::OCTET_STRING, "leaf").map(|_| ())
            }
        }
        assert_eq!(
            descend(&mut BerReader::new(&enc)),
            Err(BerError::TooDeep {
                what: "nest",
                max: MAX_DEPTH
            })
        );
        let mut ok = octet_string(b"x");
        for _ in 0..MAX_DEPTH {
            ok = constructed(tag::SEQUENCE, &[ok]);
        }
        assert!(descend(&mut BerReader::new(&ok)).is_ok());
    }

    #[test]
    fn constructed_and_optional() {
        let enc = constructed(
            tag::SEQUENCE,
            &[explicit(1, &integer(5)), explicit(3, &general_string("A"))],
        );
        let mut outer = BerReader::new(&enc);
        let mut seq = outer.enter(tag::SEQUENCE, "seq").unwrap();
        assert_eq!(
            seq.enter_optional(tag::context(0), "c0")
                .unwrap()
                .map(|_| ()),
            None
        );
        let mut c1 = seq.enter(tag::context(1), "c1").unwrap();
        assert_eq!(c1.read_integer(tag::INTEGER, "i").unwrap(), 5);
        assert!(seq.read_optional(tag::context(2), "c2").unwrap().is_none());
        let mut c3 = seq.enter(tag::context(3), "c3").unwrap();
        assert_eq!(c3.read_string(tag::GENERAL_STRING, "s").unwrap(), "A");
        seq.finish("seq").unwrap();
        assert_eq!(boolean(true), [0x01, 0x01, 0xff]);
        assert_eq!(bit_string(&[0x40, 0, 0, 0]), [0x03, 0x05, 0, 0x40, 0, 0, 0]);
        assert!(BerReader::new(&boolean(true)).read_bool("b").unwrap());
        assert_eq!(enumerated(3), [0x0a, 0x01, 0x03]);
    }

    #[test]
    fn generalized_time_round_trip() {
        let table: &[(&str, i64)] = &[
            ("19700101000000Z", 0),
            ("20000229120000Z", 951_825_600),
            ("20240101000000Z", 1_704_067_200),
            ("20370913024805Z", 2_136_422_885),
            ("19691231235959Z", -1),
        ];
        for (s, unix) in table {
            let t = parse_generalized_time(s, "t").unwrap();
            assert_eq!(t.unix_secs, *unix, "{s}");
            assert_eq!(t.nanos, 0);
            assert_eq!(format_generalized_time(*unix), *s);
        }
        let t = parse_generalized_time("20240101000000.5Z", "t").unwrap();
        assert_eq!((t.unix_secs, t.nanos), (1_704_067_200, 500_000_000));
        let t = parse_generalized_time("20240101000000.0Z", "t").unwrap();
        assert_eq!(t.nanos, 0);
        assert_eq!(generalized_time(0), b"\x18\x0f19700101000000Z");
        for bad in [
            "20240101000000",
            "2024010100000Z",
            "20241301000000Z",
            "20230229000000Z",
            "20240101250000Z",
            "20240101000000.Z",
            "2024010100000aZ",
            "20240101000000.1234567890Z",
            "",
            "Z",
        ] {
            assert!(
                matches!(
                    parse_generalized_time(bad, "t"),
                    Err(BerError::BadTime { .. })
                ),
                "{bad}"
            );
        }
        // Clamped, never panics.
        assert_eq!(format_generalized_time(i64::MAX), "99991231235959Z");
        assert_eq!(format_generalized_time(i64::MIN), "00000101000000Z");
    }
}
