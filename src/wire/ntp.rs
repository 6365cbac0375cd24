//! SNTPv4 client request and server reply (RFC 5905, RFC 4330).
//!
//! Times cross this module as [`Duration`]s since the unix epoch; NTP's 32-bit seconds wrap
//! every 136 years (era 1 starts 2036-02-07), so a reply is placed in the era closest to the
//! caller's own clock.

use super::cursor::{Cursor, WireError};
use std::time::Duration;
use thiserror::Error;

/// Size of an NTP header without extensions or MAC.
pub const PACKET_LEN: usize = 48;

/// Seconds from the NTP epoch (1900-01-01) to the unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

const ERA_SECS: i64 = 1 << 32;

/// Failure to use an NTP reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NtpError {
    /// Shorter than the 48-byte header.
    #[error("ntp reply is {len} bytes, shorter than the 48-byte header")]
    Short { len: usize },
    /// A field could not be read (should not happen after the length check).
    #[error("malformed ntp reply: {0}")]
    Wire(#[from] WireError),
    /// Not a server (mode 4) reply.
    #[error("ntp reply has mode {0}, not 4 (server)")]
    WrongMode(u8),
    /// Version other than 1–4.
    #[error("ntp reply has version {0}, not 1 to 4")]
    BadVersion(u8),
    /// Stratum 0: the server refuses service; the code says why (RATE, DENY, RSTR...).
    #[error("ntp server sent kiss-of-death {code:?}{}", kiss_hint(code))]
    KissOfDeath { code: String },
    /// The origin timestamp does not echo our transmit timestamp (stale or spoofed reply).
    #[error("ntp reply's origin timestamp does not match the request (stale or spoofed reply)")]
    OriginMismatch,
    /// The server left its transmit timestamp zero, so the reply carries no time.
    #[error("ntp reply has a zero transmit timestamp")]
    ZeroTransmit,
}

fn kiss_hint(code: &str) -> &'static str {
    match code {
        "RATE" => " (hint: the client asks too often; wait before retrying)",
        "DENY" | "RSTR" => " (hint: the server's access control refuses this client)",
        _ => "",
    }
}

/// An NTP 64-bit timestamp: seconds since 1900 (mod 2^32) and a binary fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NtpTimestamp {
    /// Whole seconds since 1900-01-01, modulo 2^32 (the era is implicit).
    pub seconds: u32,
    /// Fraction of a second in units of 2^-32 s.
    pub fraction: u32,
}

impl NtpTimestamp {
    /// Converts unix time (era 0 before 2036-02-07, era 1 after).
    pub fn from_unix(since_epoch: Duration) -> Self {
        // Truncating to u32 is the era wrap (mod 2^32) NTP itself performs.
        let secs = since_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET as u64) as u32;
        let fraction = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTimestamp {
            seconds: secs,
            fraction: fraction as u32,
        }
    }

    /// The 8 bytes on the wire (big-endian seconds then fraction).
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.seconds.to_be_bytes());
        b[4..].copy_from_slice(&self.fraction.to_be_bytes());
        b
    }

    /// True for the all-zero timestamp, which NTP uses for "unknown".
    pub fn is_zero(self) -> bool {
        self.seconds == 0 && self.fraction == 0
    }

    /// Unix time in nanoseconds, choosing the NTP era that lands closest to `near_unix_secs`.
    pub fn to_unix_nanos(self, near_unix_secs: i64) -> i128 {
        let era_secs = i128::from(ERA_SECS);
        let base = i128::from(self.seconds) - i128::from(NTP_UNIX_OFFSET);
        let era = (i128::from(near_unix_secs) - base + era_secs / 2).div_euclid(era_secs);
        let secs = base + era * era_secs;
        let nanos = (i128::from(self.fraction) * 1_000_000_000) >> 32;
        secs * 1_000_000_000 + nanos
    }

    fn read(cur: &mut Cursor<'_>, what: &'static str) -> Result<Self, WireError> {
        Ok(NtpTimestamp {
            seconds: cur.u32_be(what)?,
            fraction: cur.u32_be(what)?,
        })
    }
}

/// Builds a 48-byte SNTPv4 client request (LI 0, VN 4, mode 3) carrying `transmit` as T1.
///
/// Send the same `transmit` to [`decode_response`] as `t1`: the server echoes it as the origin
/// timestamp, which is how a reply is matched to its request.
pub fn encode_request(transmit: Duration) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    p[0] = (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    p[40..48].copy_from_slice(&NtpTimestamp::from_unix(transmit).to_bytes());
    p
}

/// Leap indicator (top two bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leap {
    /// 0: no warning.
    NoWarning,
    /// 1: last minute of the day has 61 seconds.
    AddSecond,
    /// 2: last minute of the day has 59 seconds.
    DeleteSecond,
    /// 3: the server's clock is not synchronized.
    Unsynchronized,
}

/// What a server reply says, and the clock offset and round-trip delay computed from it.
#[derive(Debug, Clone, PartialEq)]
pub struct NtpResponse {
    /// Leap indicator; `Unsynchronized` means the server's time should not be trusted.
    pub leap: Leap,
    /// Protocol version of the reply.
    pub version: u8,
    /// Stratum 1–15 (16 is unsynchronized).
    pub stratum: u8,
    /// Poll exponent (log2 seconds).
    pub poll: i8,
    /// Clock precision exponent (log2 seconds).
    pub precision: i8,
    /// Root delay in milliseconds.
    pub root_delay_ms: f64,
    /// Root dispersion in milliseconds.
    pub root_dispersion_ms: f64,
    /// Raw reference id.
    pub reference_id: [u8; 4],
    /// Reference id as text: the source code at stratum 1 (e.g. `GPS`), else a dotted IPv4.
    pub reference: String,
    /// Server transmit time (T3), unix nanoseconds.
    pub server_time_unix_nanos: i128,
    /// Server clock minus local clock in ms, ((T2-T1)+(T3-T4))/2; positive: local clock is behind.
    pub offset_ms: f64,
    /// Round-trip delay excluding server processing, ms (T4-T1)-(T3-T2).
    pub delay_ms: f64,
}

fn ascii_code(id: [u8; 4]) -> String {
    id.iter()
        .take_while(|b| **b != 0)
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn short_format_ms(v: u32) -> f64 {
    // NTP short format: 16.16 fixed-point seconds.
    f64::from(v) * 1000.0 / 65536.0
}

/// Decodes a server reply; `t1` is the request's transmit time and `t4` when the reply arrived.
pub fn decode_response(bytes: &[u8], t1: Duration, t4: Duration) -> Result<NtpResponse, NtpError> {
    if bytes.len() < PACKET_LEN {
        return Err(NtpError::Short { len: bytes.len() });
    }
    let mut c = Cursor::new(bytes);
    let first = c.u8("flags")?;
    let leap = match first >> 6 {
        0 => Leap::NoWarning,
        1 => Leap::AddSecond,
        2 => Leap::DeleteSecond,
        _ => Leap::Unsynchronized,
    };
    let version = (first >> 3) & 0x7;
    let mode = first & 0x7;
    if mode != 4 {
        return Err(NtpError::WrongMode(mode));
    }
    if !(1..=4).contains(&version) {
        return Err(NtpError::BadVersion(version));
    }
    let stratum = c.u8("stratum")?;
    let poll = c.u8("poll")? as i8;
    let precision = c.u8("precision")? as i8;
    let root_delay_ms = short_format_ms(c.u32_be("root delay")?);
    let root_dispersion_ms = short_format_ms(c.u32_be("root dispersion")?);
    let reference_id = c.array::<4>("reference id")?;
    if stratum == 0 {
        return Err(NtpError::KissOfDeath {
            code: ascii_code(reference_id),
        });
    }
    let _reference_ts = NtpTimestamp::read(&mut c, "reference timestamp")?;
    let origin = NtpTimestamp::read(&mut c, "origin timestamp")?;
    let receive = NtpTimestamp::read(&mut c, "receive timestamp")?;
    let transmit = NtpTimestamp::read(&mut c, "transmit timestamp")?;
    if origin != NtpTimestamp::from_unix(t1) {
        return Err(NtpError::OriginMismatch);
    }
    if transmit.is_zero() {
        return Err(NtpError::ZeroTransmit);
    }
    let near = i64::try_from(t1.as_secs()).unwrap_or(i64::MAX);
    let t1n = t1.as_nanos() as i128;
    let t4n = t4.as_nanos() as i128;
    let t2n = receive.to_unix_nanos(near);
    let t3n = transmit.to_unix_nanos(near);
    let offset = ((t2n - t1n) + (t3n - t4n)) / 2;
    let delay = (t4n - t1n) - (t3n - t2n);
    let reference = if stratum == 1 {
        ascii_code(reference_id)
    } else {
        std::net::Ipv4Addr::from(reference_id).to_string()
    };
    Ok(NtpResponse {
        leap,
        version,
        stratum,
        poll,
        precision,
        root_delay_ms,
        root_dispersion_ms,
        reference_id,
        reference,
        server_time_unix_nanos: t3n,
        offset_ms: offset as f64 / 1e6,
        delay_ms: delay as f64 / 1e6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(secs: u64, nanos: u32) -> Duration {
        Duration::new(secs, nanos)
    }

    fn reply(
        first: u8,
        stratum: u8,
        refid: [u8; 4],
        t1: Duration,
        t2: Duration,
        t3: Duration,
    ) -> Vec<u8> {
        let mut p = vec![0u8; 48];
        p[0] = first;
        p[1] = stratum;
        p[2] = 6;
        p[3] = 0xe9; // -23
        p[4..8].copy_from_slice(&0x0001_8000u32.to_be_bytes()); // 1.5 s
        p[8..12].copy_from_slice(&0x0000_4000u32.to_be_bytes()); // 0.25 s
        p[12..16].copy_from_slice(&refid);
        p[24..32].copy_from_slice(&NtpTimestamp::from_unix(t1).to_bytes());
        p[32..40].copy_from_slice(&NtpTimestamp::from_unix(t2).to_bytes());
        p[40..48].copy_from_slice(&NtpTimestamp::from_unix(t3).to_bytes());
        p
    }

    #[test]
    fn request_layout() {
        let t1 = d(1_704_067_200, 500_000_000);
        let p = encode_request(t1);
        assert_eq!(p.len(), 48);
        assert_eq!(p[0], 0x23);
        assert!(p[1..40].iter().all(|b| *b == 0));
        // 2024-01-01 = 3_913_056_000 NTP seconds; .5 s = 0x80000000.
        assert_eq!(&p[40..44], &3_913_056_000u32.to_be_bytes());
        assert_eq!(&p[44..48], &0x8000_0000u32.to_be_bytes());
    }

    #[test]
    fn offset_and_delay() {
        // Server 2 s ahead, 20 ms each way, 1 ms processing.
        let t1 = d(1_704_067_200, 0);
        let t2 = d(1_704_067_202, 20_000_000);
        let t3 = d(1_704_067_202, 21_000_000);
        let t4 = d(1_704_067_200, 41_000_000);
        let p = reply(0x24, 2, [10, 77, 0, 1], t1, t2, t3);
        let r = decode_response(&p, t1, t4).unwrap();
        assert_eq!(r.leap, Leap::NoWarning);
        assert_eq!(r.version, 4);
        assert_eq!(r.stratum, 2);
        assert_eq!(r.poll, 6);
        assert_eq!(r.precision, -23);
        assert!((r.root_delay_ms - 1500.0).abs() < 1e-9);
        assert!((r.root_dispersion_ms - 250.0).abs() < 1e-9);
        assert_eq!(r.reference, "10.77.0.1");
        assert!((r.offset_ms - 2000.0).abs() < 0.001, "{}", r.offset_ms);
        assert!((r.delay_ms - 40.0).abs() < 0.001, "{}", r.delay_ms);
        // Server behind.
        let t2 = d(1_704_067_190, 20_000_000);
        let t3 = d(1_704_067_190, 21_000_000);
        let p = reply(0x1c, 1, *b"GPS\0", t1, t2, t3);
        let r = decode_response(&p, t1, t4).unwrap();
        assert!((r.offset_ms + 10_000.0).abs() < 0.001, "{}", r.offset_ms);
        assert_eq!(r.reference, "GPS");
        assert_eq!(r.version, 3);
    }

    #[test]
    fn era_conversion() {
        // 2036-02-07T06:28:16Z is NTP second 2^32, i.e. 0 in era 1.
        let wrap = 2_085_978_496u64;
        let ts = NtpTimestamp::from_unix(d(wrap, 0));
        assert_eq!(ts.seconds, 0);
        assert_eq!(
            ts.to_unix_nanos(wrap as i64),
            i128::from(wrap) * 1_000_000_000
        );
        // Just before the wrap, read with a pivot just after it.
        let ts = NtpTimestamp::from_unix(d(wrap - 1, 0));
        assert_eq!(ts.seconds, u32::MAX);
        assert_eq!(
            ts.to_unix_nanos(wrap as i64 + 5),
            i128::from(wrap - 1) * 1_000_000_000
        );
        // 1970 in era 0.
        let ts = NtpTimestamp::from_unix(d(0, 0));
        assert_eq!(ts.seconds, 2_208_988_800);
        assert_eq!(ts.to_unix_nanos(0), 0);
        // Offsets work across the wrap.
        let t1 = d(wrap - 1, 0);
        let t2 = d(wrap + 1, 0);
        let p = reply(0x24, 2, [0; 4], t1, t2, t2);
        let r = decode_response(&p, t1, t1).unwrap();
        assert!((r.offset_ms - 2000.0).abs() < 0.001);
        // Fraction round trip is within a nanosecond.
        let ts = NtpTimestamp::from_unix(d(5, 123_456_789));
        let back = ts.to_unix_nanos(5);
        assert!((back - 5_123_456_789).abs() <= 1);
    }

    #[test]
    fn errors() {
        let t1 = d(1_704_067_200, 0);
        for n in 0..48 {
            assert_eq!(
                decode_response(&vec![0x24; n], t1, t1),
                Err(NtpError::Short { len: n })
            );
        }
        let p = reply(0x23, 2, [0; 4], t1, t1, t1);
        assert_eq!(decode_response(&p, t1, t1), Err(NtpError::WrongMode(3)));
        let p = reply(0x3c, 2, [0; 4], t1, t1, t1);
        assert_eq!(decode_response(&p, t1, t1), Err(NtpError::BadVersion(7)));
        let p = reply(0xe4, 0, *b"RATE", t1, t1, t1);
        let e = decode_response(&p, t1, t1).unwrap_err();
        assert_eq!(
            e,
            NtpError::KissOfDeath {
                code: "RATE".into()
            }
        );
        assert!(e.to_string().contains("hint"));
        let p = reply(0x24, 2, [0; 4], d(1, 0), t1, t1);
        assert_eq!(decode_response(&p, t1, t1), Err(NtpError::OriginMismatch));
        let mut p = reply(0x24, 2, [0; 4], t1, t1, t1);
        p[40..48].fill(0);
        assert_eq!(decode_response(&p, t1, t1), Err(NtpError::ZeroTransmit));
        // Unsynchronized servers are reported, not rejected.
        let p = reply(0xe4, 16, [0; 4], t1, t1, t1);
        assert_eq!(
            decode_response(&p, t1, t1).unwrap().leap,
            Leap::Unsynchronized
        );
        // Extra bytes (extensions or a MAC) are ignored.
        let mut p = reply(0x24, 2, [0; 4], t1, t1, t1);
        p.extend_from_slice(&[0; 20]);
        assert!(decode_response(&p, t1, t1).is_ok());
    }

    #[test]
    fn kiss_codes_are_sanitised() {
        assert_eq!(ascii_code(*b"DENY"), "DENY");
        assert_eq!(ascii_code([b'A', 0x01, 0, 0]), "A?");
        assert_eq!(ascii_code([0; 4]), "");
    }
}
