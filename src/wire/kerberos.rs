//! Unauthenticated Kerberos AS-REQ and KRB-ERROR (RFC 4120 5.4.1, 5.9.1).
//!
//! An AS-REQ without pre-authentication makes a KDC answer with KRB-ERROR (PREAUTH_REQUIRED for
//! a real account, C_PRINCIPAL_UNKNOWN otherwise). Either way the error carries the KDC's clock
//! (`stime`/`susec`), which is how the tool measures Kerberos clock skew without credentials.

use super::ber::{self, tag, BerError, BerReader};
use thiserror::Error;

/// Encryption types offered, strongest first: AES256, AES128, RC4 (what Windows 10+ offers).
pub const ETYPES: [i32; 3] = [18, 17, 23];

/// KDC options: forwardable, renewable, canonicalize, renewable-ok (0x40810010, as Windows).
pub const KDC_OPTIONS: u32 = 0x4081_0010;

/// NT-PRINCIPAL name type (a user or computer account).
pub const NT_PRINCIPAL: i64 = 1;
/// NT-SRV-INST name type (a service such as krbtgt/REALM).
pub const NT_SRV_INST: i64 = 2;

/// Largest message accepted on TCP; real KRB-ERRORs are a few hundred bytes.
pub const MAX_TCP_MESSAGE: usize = 1 << 20;

const AS_REQ: u8 = tag::application(10);
const AS_REP: u8 = tag::application(11);
const TGS_REP: u8 = tag::application(13);
const KRB_ERROR: u8 = tag::application(30);

/// Failure to read a KDC reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KerberosError {
    /// The reply is not valid DER for the expected message.
    #[error("malformed kerberos reply: {0}")]
    Ber(#[from] BerError),
    /// The KDC sent something other than KRB-ERROR.
    #[error("kdc sent {} (tag 0x{tag:02x}), not a krb-error", message_name(*tag))]
    UnexpectedMessage { tag: u8 },
    /// `pvno` is not 5.
    #[error("krb-error has protocol version {0}, not 5")]
    BadProtocolVersion(i64),
    /// `msg-type` is not 30.
    #[error("krb-error has message type {0}, not 30")]
    BadMessageType(i64),
    /// A TCP record shorter than its 4-byte length prefix says.
    #[error("kerberos tcp record declares {declared} bytes but {available} follow the prefix")]
    TcpLength { declared: usize, available: usize },
    /// The reserved top bit of the TCP length is set (RFC 4120 7.2.2: must be rejected).
    #[error("kerberos tcp length has the reserved high bit set")]
    TcpReservedBit,
    /// A kpasswd reply whose framing (RFC 3244 section 2) does not hold.
    #[error("not a kpasswd reply: {0}")]
    KpasswdFrame(String),
    /// A TCP length larger than [`MAX_TCP_MESSAGE`].
    #[error("kerberos tcp record of {declared} bytes is larger than the {max}-byte limit")]
    TcpTooLarge { declared: usize, max: usize },
}

fn message_name(tag: u8) -> &'static str {
    match tag {
        AS_REP => "an as-rep (the account does not require pre-authentication)",
        TGS_REP => "a tgs-rep",
        AS_REQ => "an as-req",
        _ => "an unknown message",
    }
}

/// Names of common KRB-ERROR codes (RFC 4120 7.5.9, RFC 6806).
pub fn error_name(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "KDC_ERR_NONE",
        1 => "KDC_ERR_NAME_EXP",
        2 => "KDC_ERR_SERVICE_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        37 => "KRB_AP_ERR_SKEW",
        41 => "KRB_AP_ERR_MODIFIED",
        52 => "KRB_ERR_RESPONSE_TOO_BIG",
        60 => "KRB_ERR_GENERIC",
        68 => "KDC_ERR_WRONG_REALM",
        _ => return None,
    })
}

fn principal(name_type: i64, components: &[&str]) -> Vec<u8> {
    let strings: Vec<Vec<u8>> = components.iter().map(|c| ber::general_string(c)).collect();
    ber::constructed(
        tag::SEQUENCE,
        &[
            ber::explicit(0, &ber::integer(name_type)),
            ber::explicit(1, &ber::constructed(tag::SEQUENCE, &strings)),
        ],
    )
}

/// Builds an AS-REQ with no pre-authentication for `client_name@REALM` and `krbtgt/REALM`.
///
/// The realm is upper-cased (AD realms are the DNS domain in capitals); `client_name` may hold
/// `/`-separated components. `nonce` is reduced to 31 bits because Heimdal (Samba's KDC) reads
/// it as a signed 32-bit integer. `till` is `now_unix` plus one day.
pub fn encode_as_req(realm: &str, client_name: &str, nonce: u32, now_unix: i64) -> Vec<u8> {
    let realm = realm.to_ascii_uppercase();
    let cname: Vec<&str> = client_name.split('/').collect();
    let etypes: Vec<Vec<u8>> = ETYPES.iter().map(|e| ber::integer(i64::from(*e))).collect();
    let body = ber::constructed(
        tag::SEQUENCE,
        &[
            ber::explicit(0, &ber::bit_string(&KDC_OPTIONS.to_be_bytes())),
            ber::explicit(1, &principal(NT_PRINCIPAL, &cname)),
            ber::explicit(2, &ber::general_string(&realm)),
            ber::explicit(3, &principal(NT_SRV_INST, &["krbtgt", &realm])),
            ber::explicit(5, &ber::generalized_time(now_unix.saturating_add(86_400))),
            ber::explicit(7, &ber::integer(i64::from(nonce & 0x7fff_ffff))),
            ber::explicit(8, &ber::constructed(tag::SEQUENCE, &etypes)),
        ],
    );
    let kdc_req = ber::constructed(
        tag::SEQUENCE,
        &[
            ber::explicit(1, &ber::integer(5)),  // pvno
            ber::explicit(2, &ber::integer(10)), // msg-type AS-REQ
            ber::explicit(4, &body),
        ],
    );
    ber::tlv(AS_REQ, &kdc_req)
}

/// A decoded KRB-ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbError {
    /// error-code (see [`error_name`]).
    pub error_code: i32,
    /// KDC time, unix seconds.
    pub stime_unix: i64,
    /// Microseconds part of the KDC time.
    pub susec: u32,
    /// Client time echoed back, unix seconds, when present.
    pub ctime_unix: Option<i64>,
    /// Microseconds part of the client time, when present.
    pub cusec: Option<u32>,
    /// Client realm, when present.
    pub crealm: Option<String>,
    /// Client principal components, when present.
    pub cname: Option<Vec<String>>,
    /// Realm of the KDC that answered.
    pub realm: String,
    /// Server principal components (krbtgt/REALM for an AS-REQ).
    pub sname: Vec<String>,
    /// Human-readable text from the KDC, when present.
    pub e_text: Option<String>,
    /// Raw e-data (METHOD-DATA with the salt for PREAUTH_REQUIRED), when present.
    pub e_data: Option<Vec<u8>>,
}

impl KrbError {
    /// Name of the error code, e.g. `KDC_ERR_PREAUTH_REQUIRED`.
    pub fn error_name(&self) -> Option<&'static str> {
        error_name(self.error_code)
    }

    /// KDC time in microseconds since the unix epoch, for skew arithmetic.
    pub fn stime_unix_micros(&self) -> i64 {
        self.stime_unix
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(self.susec))
    }
}

fn read_kerberos_time(r: &mut BerReader<'_>, what: &'static str) -> Result<i64, KerberosError> {
    let s = r.read_string(tag::GENERALIZED_TIME, what)?;
    Ok(ber::parse_generalized_time(&s, what)?.unix_secs)
}

fn read_principal(r: &mut BerReader<'_>, what: &'static str) -> Result<Vec<String>, KerberosError> {
    let mut seq = r.enter(tag::SEQUENCE, what)?;
    seq.enter(tag::context(0), "name-type")?
        .read_integer(tag::INTEGER, "name-type")?;
    let mut strings = seq
        .enter(tag::context(1), "name-string")?
        .enter(tag::SEQUENCE, "name-string")?;
    let mut out = Vec::new();
    while !strings.is_empty() {
        out.push(strings.read_string(tag::GENERAL_STRING, "name component")?);
    }
    Ok(out)
}

/// Decodes a KRB-ERROR message (UDP payload, or a TCP record after [`unframe_tcp`]).
pub fn decode_krb_error(bytes: &[u8]) -> Result<KrbError, KerberosError> {
    let mut top = BerReader::new(bytes);
    match top.peek_tag() {
        Some(KRB_ERROR) | None => {}
        Some(other) => return Err(KerberosError::UnexpectedMessage { tag: other }),
    }
    let mut app = top.enter(KRB_ERROR, "krb-error")?;
    let mut s = app.enter(tag::SEQUENCE, "krb-error")?;

    let pvno = s
        .enter(tag::context(0), "pvno")?
        .read_integer(tag::INTEGER, "pvno")?;
    if pvno != 5 {
        return Err(KerberosError::BadProtocolVersion(pvno));
    }
    let msg_type = s
        .enter(tag::context(1), "msg-type")?
        .read_integer(tag::INTEGER, "msg-type")?;
    if msg_type != 30 {
        return Err(KerberosError::BadMessageType(msg_type));
    }
    let ctime_unix = match s.enter_optional(tag::context(2), "ctime")? {
        Some(mut c) => Some(read_kerberos_time(&mut c, "ctime")?),
        None => None,
    };
    let cusec = match s.enter_optional(tag::context(3), "cusec")? {
        Some(mut c) => Some(c.read_u32(tag::INTEGER, "cusec")?),
        None => None,
    };
    let stime_unix = read_kerberos_time(&mut s.enter(tag::context(4), "stime")?, "stime")?;
    let susec = s
        .enter(tag::context(5), "susec")?
        .read_u32(tag::INTEGER, "susec")?;
    let code = s
        .enter(tag::context(6), "error-code")?
        .read_integer(tag::INTEGER, "error-code")?;
    let error_code = i32::try_from(code).map_err(|_| BerError::IntegerOutOfRange {
        what: "error-code",
        len: 8,
    })?;
    let crealm = match s.enter_optional(tag::context(7), "crealm")? {
        Some(mut c) => Some(c.read_string(tag::GENERAL_STRING, "crealm")?),
        None => None,
    };
    let cname = match s.enter_optional(tag::context(8), "cname")? {
        Some(mut c) => Some(read_principal(&mut c, "cname")?),
        None => None,
    };
    let realm = s
        .enter(tag::context(9), "realm")?
        .read_string(tag::GENERAL_STRING, "realm")?;
    let sname = read_principal(&mut s.enter(tag::context(10), "sname")?, "sname")?;
    let e_text = match s.enter_optional(tag::context(11), "e-text")? {
        // Free text for people: tolerate odd bytes rather than lose the whole error.
        Some(mut c) => {
            Some(String::from_utf8_lossy(c.read(tag::GENERAL_STRING, "e-text")?).into_owned())
        }
        None => None,
    };
    let e_data = match s.enter_optional(tag::context(12), "e-data")? {
        Some(mut c) => Some(c.read(tag::OCTET_STRING, "e-data")?.to_vec()),
        None => None,
    };
    Ok(KrbError {
        error_code,
        stime_unix,
        susec,
        ctime_unix,
        cusec,
        crealm,
        cname,
        realm,
        sname,
        e_text,
        e_data,
    })
}

/// Prefixes a message with the 4-byte big-endian length Kerberos uses on TCP (RFC 4120 7.2.2).
pub fn frame_tcp(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 4);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// Reads the length from a TCP record prefix, so a reader knows how many bytes to wait for.
pub fn tcp_record_len(prefix: [u8; 4]) -> Result<usize, KerberosError> {
    let n = u32::from_be_bytes(prefix);
    if n & 0x8000_0000 != 0 {
        return Err(KerberosError::TcpReservedBit);
    }
    let declared = n as usize;
    if declared > MAX_TCP_MESSAGE {
        return Err(KerberosError::TcpTooLarge {
            declared,
            max: MAX_TCP_MESSAGE,
        });
    }
    Ok(declared)
}

/// Strips the TCP length prefix from a complete record and returns the message.
pub fn unframe_tcp(record: &[u8]) -> Result<&[u8], KerberosError> {
    let (Some(prefix), Some(rest)) = (record.get(..4), record.get(4..)) else {
        return Err(BerError::from(super::cursor::WireError::Truncated {
            what: "kerberos tcp length prefix",
            needed: 4,
            available: record.len(),
        })
        .into());
    };
    let mut p = [0u8; 4];
    p.copy_from_slice(prefix);
    let declared = tcp_record_len(p)?;
    if rest.len() != declared {
        return Err(KerberosError::TcpLength {
            declared,
            available: rest.len(),
        });
    }
    Ok(rest)
}

/// The kpasswd reply (RFC 3244 section 2) to a request the service cannot use: the KRB-ERROR,
/// either bare or inside the framing (length, version, an empty AP-REP). Anything else, such
/// as our own request echoed back by a UDP echo service, is an error.
pub fn decode_kpasswd_error(bytes: &[u8]) -> Result<KrbError, KerberosError> {
    if bytes.first() == Some(&KRB_ERROR) {
        return decode_krb_error(bytes);
    }
    let field = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| KerberosError::KpasswdFrame(format!("{} bytes, too short", bytes.len())))
    };
    let (length, version, ap_rep_length) = (field(0)?, field(2)?, field(4)?);
    if length != bytes.len() {
        return Err(KerberosError::KpasswdFrame(format!(
            "declares {length} bytes but {} came",
            bytes.len()
        )));
    }
    // 0x0001 is RFC 3244's reply version; some services answer with the request's 0xff80.
    if version != 0x0001 && version != 0xff80 {
        return Err(KerberosError::KpasswdFrame(format!(
            "version 0x{version:04x}, not 0x0001"
        )));
    }
    let rest = bytes.get(6 + ap_rep_length..).ok_or_else(|| {
        KerberosError::KpasswdFrame(format!(
            "its AP-REP of {ap_rep_length} bytes runs past the end"
        ))
    })?;
    decode_krb_error(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A KRB-ERROR like Samba's Heimdal sends for an unknown client, built field by field.
    fn krb_error(with_optional: bool) -> Vec<u8> {
        let sname = principal(NT_SRV_INST, &["krbtgt", "CORP.JR.TEST"]);
        let mut fields = vec![
            ber::explicit(0, &ber::integer(5)),
            ber::explicit(1, &ber::integer(30)),
        ];
        if with_optional {
            fields.push(ber::explicit(2, &ber::generalized_time(1_704_067_100)));
            fields.push(ber::explicit(3, &ber::integer(42)));
        }
        fields.push(ber::explicit(
            4,
            &ber::tlv(tag::GENERALIZED_TIME, b"20240101000000Z"),
        ));
        fields.push(ber::explicit(5, &ber::integer(123_456)));
        fields.push(ber::explicit(6, &ber::integer(6)));
        if with_optional {
            fields.push(ber::explicit(7, &ber::general_string("CORP.JR.TEST")));
            fields.push(ber::explicit(8, &principal(NT_PRINCIPAL, &["nobody"])));
        }
        fields.push(ber::explicit(9, &ber::general_string("CORP.JR.TEST")));
        fields.push(ber::explicit(10, &sname));
        if with_optional {
            fields.push(ber::explicit(11, &ber::general_string("Client not found")));
            fields.push(ber::explicit(12, &ber::octet_string(&[0x30, 0x00])));
        }
        ber::tlv(KRB_ERROR, &ber::constructed(tag::SEQUENCE, &fields))
    }

    #[test]
    fn decodes_minimal_krb_error() {
        let e = decode_krb_error(&krb_error(false)).unwrap();
        assert_eq!(e.error_code, 6);
        assert_eq!(e.error_name(), Some("KDC_ERR_C_PRINCIPAL_UNKNOWN"));
        assert_eq!(e.stime_unix, 1_704_067_200);
        assert_eq!(e.susec, 123_456);
        assert_eq!(e.stime_unix_micros(), 1_704_067_200_123_456);
        assert_eq!(e.realm, "CORP.JR.TEST");
        assert_eq!(e.sname, ["krbtgt", "CORP.JR.TEST"]);
        assert_eq!(e.ctime_unix, None);
        assert_eq!(e.e_text, None);
    }

    #[test]
    fn decodes_all_optional_fields() {
        let e = decode_krb_error(&krb_error(true)).unwrap();
        assert_eq!(e.ctime_unix, Some(1_704_067_100));
        assert_eq!(e.cusec, Some(42));
        assert_eq!(e.crealm.as_deref(), Some("CORP.JR.TEST"));
        assert_eq!(e.cname, Some(vec!["nobody".to_string()]));
        assert_eq!(e.e_text.as_deref(), Some("Client not found"));
        assert_eq!(e.e_data, Some(vec![0x30, 0x00]));
    }

    #[test]
    fn hand_written_bytes() {
        // 7e LEN 30 LEN a0 03 02 01 05 a1 03 02 01 1e a4 11 18 0f "20240101000000Z"
        // a5 03 02 01 00 a6 03 02 01 19 a9 03 1b 01 "R" aa 0e 30 0c a0 03 02 01 02 a1 05 30 03 1b 01 "k"
        let mut body = vec![0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x1e];
        body.extend_from_slice(&[0xa4, 0x11, 0x18, 0x0f]);
        body.extend_from_slice(b"20240101000000Z");
        body.extend_from_slice(&[0xa5, 0x03, 0x02, 0x01, 0x00]);
        body.extend_from_slice(&[0xa6, 0x03, 0x02, 0x01, 0x19]);
        body.extend_from_slice(&[0xa9, 0x03, 0x1b, 0x01, b'R']);
        body.extend_from_slice(&[
            0xaa, 0x0e, 0x30, 0x0c, 0xa0, 0x03, 0x02, 0x01, 0x02, 0xa1, 0x05, 0x30, 0x03, 0x1b,
            0x01, b'k',
        ]);
        let mut seq = vec![0x30, body.len() as u8];
        seq.extend_from_slice(&body);
        let mut msg = vec![0x7e, seq.len() as u8];
        msg.extend_from_slice(&seq);
        let e = decode_krb_error(&msg).unwrap();
        assert_eq!(e.error_code, 25);
        assert_eq!(e.error_name(), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(e.realm, "R");
        assert_eq!(e.sname, ["k"]);
        for n in 0..msg.len() {
            assert!(decode_krb_error(&msg[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for full in [krb_error(false), krb_error(true)] {
            for n in 0..full.len() {
                assert!(decode_krb_error(&full[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn wrong_messages_are_typed() {
        let as_rep = ber::tlv(AS_REP, &ber::constructed(tag::SEQUENCE, &[]));
        let err = decode_krb_error(&as_rep).unwrap_err();
        assert_eq!(err, KerberosError::UnexpectedMessage { tag: 0x6b });
        assert!(err
            .to_string()
            .contains("does not require pre-authentication"));
        let bad_pvno = ber::tlv(
            KRB_ERROR,
            &ber::constructed(tag::SEQUENCE, &[ber::explicit(0, &ber::integer(4))]),
        );
        assert_eq!(
            decode_krb_error(&bad_pvno),
            Err(KerberosError::BadProtocolVersion(4))
        );
        let bad_type = ber::tlv(
            KRB_ERROR,
            &ber::constructed(
                tag::SEQUENCE,
                &[
                    ber::explicit(0, &ber::integer(5)),
                    ber::explicit(1, &ber::integer(11)),
                ],
            ),
        );
        assert_eq!(
            decode_krb_error(&bad_type),
            Err(KerberosError::BadMessageType(11))
        );
        let mut bad_time = krb_error(false);
        let pos = bad_time.windows(4).position(|w| w == b"2024").unwrap();
        bad_time[pos + 4] = b'1';
        bad_time[pos + 5] = b'3'; // month 13
        assert!(matches!(
            decode_krb_error(&bad_time),
            Err(KerberosError::Ber(BerError::BadTime { what: "stime", .. }))
        ));
        assert!(decode_krb_error(&[]).is_err());
    }

    #[test]
    fn as_req_structure() {
        let req = encode_as_req(
            "corp.jr.test",
            "joinready-probe",
            0xdead_beef,
            1_704_067_200,
        );
        let mut top = BerReader::new(&req);
        let mut app = top.enter(AS_REQ, "as-req").unwrap();
        top.finish("top").unwrap();
        let mut s = app.enter(tag::SEQUENCE, "kdc-req").unwrap();
        let mut c = s.enter(tag::context(1), "pvno").unwrap();
        assert_eq!(c.read_integer(tag::INTEGER, "pvno").unwrap(), 5);
        let mut c = s.enter(tag::context(2), "msg-type").unwrap();
        assert_eq!(c.read_integer(tag::INTEGER, "msg-type").unwrap(), 10);
        assert!(s
            .enter_optional(tag::context(3), "padata")
            .unwrap()
            .is_none());
        let mut body = s
            .enter(tag::context(4), "body")
            .unwrap()
            .enter(tag::SEQUENCE, "body")
            .unwrap();
        s.finish("kdc-req").unwrap();
        let opts = body
            .enter(tag::context(0), "opts")
            .unwrap()
            .read(tag::BIT_STRING, "opts")
            .unwrap()
            .to_vec();
        assert_eq!(opts, [0x00, 0x40, 0x81, 0x00, 0x10]);
        let cname = read_principal(&mut body.enter(tag::context(1), "cname").unwrap(), "c");
        assert_eq!(cname.unwrap(), ["joinready-probe"]);
        let realm = body
            .enter(tag::context(2), "realm")
            .unwrap()
            .read_string(tag::GENERAL_STRING, "realm")
            .unwrap();
        assert_eq!(realm, "CORP.JR.TEST");
        let sname = read_principal(&mut body.enter(tag::context(3), "sname").unwrap(), "s");
        assert_eq!(sname.unwrap(), ["krbtgt", "CORP.JR.TEST"]);
        let till = read_kerberos_time(&mut body.enter(tag::context(5), "till").unwrap(), "till");
        assert_eq!(till.unwrap(), 1_704_067_200 + 86_400);
        let nonce = body
            .enter(tag::context(7), "nonce")
            .unwrap()
            .read_integer(tag::INTEGER, "nonce")
            .unwrap();
        assert_eq!(nonce, 0x5ead_beef);
        let mut et = body
            .enter(tag::context(8), "etype")
            .unwrap()
            .enter(tag::SEQUENCE, "etype")
            .unwrap();
        let mut etypes = Vec::new();
        while !et.is_empty() {
            etypes.push(et.read_integer(tag::INTEGER, "e").unwrap());
        }
        assert_eq!(etypes, [18, 17, 23]);
        body.finish("body").unwrap();
        // Multi-component client names split on '/'.
        let req = encode_as_req("R", "host/pc1", 1, 0);
        assert!(req.windows(4).any(|w| w == b"host"));
    }

    #[test]
    fn tcp_framing() {
        let msg = krb_error(false);
        let framed = frame_tcp(&msg);
        assert_eq!(&framed[..4], &(msg.len() as u32).to_be_bytes());
        assert_eq!(unframe_tcp(&framed).unwrap(), &msg[..]);
        assert!(matches!(
            unframe_tcp(&framed[..framed.len() - 1]),
            Err(KerberosError::TcpLength { .. })
        ));
        assert!(unframe_tcp(&framed[..3]).is_err());
        assert_eq!(
            tcp_record_len([0x80, 0, 0, 1]),
            Err(KerberosError::TcpReservedBit)
        );
        assert!(matches!(
            tcp_record_len([0x10, 0, 0, 0]),
            Err(KerberosError::TcpTooLarge { .. })
        ));
        assert_eq!(tcp_record_len([0, 0, 1, 0]), Ok(256));
    }

    #[test]
    fn names_for_common_codes() {
        for (code, name) in [
            (6, "KDC_ERR_C_PRINCIPAL_UNKNOWN"),
            (7, "KDC_ERR_S_PRINCIPAL_UNKNOWN"),
            (24, "KDC_ERR_PREAUTH_FAILED"),
            (25, "KDC_ERR_PREAUTH_REQUIRED"),
            (37, "KRB_AP_ERR_SKEW"),
            (68, "KDC_ERR_WRONG_REALM"),
        ] {
            assert_eq!(error_name(code), Some(name));
        }
        assert_eq!(error_name(9999), None);
    }

    /// KRB-ERRORs captured from DC1 of the Samba test environment (Heimdal KDC).
    /// RFC 3244 framing around `message`: length, version, an empty AP-REP.
    fn kpasswd_frame(version: u16, message: &[u8]) -> Vec<u8> {
        let mut out = ((message.len() + 6) as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(message);
        out
    }

    #[test]
    fn kpasswd_error_bare_or_framed() {
        let bare = krb_error(false);
        let expected = decode_krb_error(&bare).unwrap();
        assert_eq!(decode_kpasswd_error(&bare).unwrap(), expected);
        for version in [0x0001, 0xff80] {
            let framed = kpasswd_frame(version, &bare);
            assert_eq!(decode_kpasswd_error(&framed).unwrap(), expected);
            for n in 0..framed.len() {
                assert!(decode_kpasswd_error(&framed[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn kpasswd_echo_and_bad_framing_are_not_kpasswd() {
        // Our own probe, as a UDP echo service returns it.
        let echo = [
            0x00, 0x10, 0xff, 0x80, 0x00, 0x00, 0x30, 0x03, 0x02, 0x01, 0x05, 0x00, 0x00, 0x00,
            0x00, 0x00,
        ];
        assert!(matches!(
            decode_kpasswd_error(&echo),
            Err(KerberosError::UnexpectedMessage { tag: 0x30 })
        ));
        let bare = krb_error(false);
        let mut wrong_version = kpasswd_frame(0x0002, &bare);
        assert!(decode_kpasswd_error(&wrong_version)
            .unwrap_err()
            .to_string()
            .contains("version 0x0002"));
        wrong_version[1] ^= 1;
        assert!(decode_kpasswd_error(&wrong_version)
            .unwrap_err()
            .to_string()
            .contains("declares"));
        let mut long_ap_rep = kpasswd_frame(1, &bare);
        long_ap_rep[4] = 0xff;
        assert!(decode_kpasswd_error(&long_ap_rep)
            .unwrap_err()
            .to_string()
            .contains("runs past the end"));
        assert!(decode_kpasswd_error(&[]).is_err());
    }

    mod captured {
        use super::super::*;

        const UNKNOWN: &[u8] = include_bytes!("../../fixtures/kerberos/dc1-krb-error.bin");
        const PREAUTH: &[u8] =
            include_bytes!("../../fixtures/kerberos/dc1-krb-preauth-required.bin");
        /// Samba's kpasswd answer to joinready's empty change request on UDP 464.
        const KPASSWD: &[u8] = include_bytes!("../../fixtures/kerberos/dc1-kpasswd-error.bin");

        #[test]
        fn kpasswd_error_from_samba() {
            // RFC 3244 framing: length, reply version 1, no AP-REP, then the KRB-ERROR.
            assert_eq!(&KPASSWD[..6], &[0x00, 0x99, 0x00, 0x01, 0x00, 0x00]);
            let e = decode_kpasswd_error(KPASSWD).unwrap();
            assert_eq!(e.realm, "CORP.JR.TEST");
            assert!(e.error_name().is_some(), "code {}", e.error_code);
            for n in 0..KPASSWD.len() {
                assert!(decode_kpasswd_error(&KPASSWD[..n]).is_err(), "prefix {n}");
            }
        }

        #[test]
        fn unknown_client() {
            let e = decode_krb_error(UNKNOWN).unwrap();
            assert_eq!(e.error_code, 6);
            assert_eq!(e.error_name(), Some("KDC_ERR_C_PRINCIPAL_UNKNOWN"));
            // 2026-12-05T07:29:38Z
            assert_eq!(e.stime_unix, 1_796_455_778);
            assert_eq!(e.susec, 863_914);
            assert_eq!(e.ctime_unix, None);
            assert_eq!(e.realm, "CORP.JR.TEST");
            assert_eq!(e.sname, ["krbtgt", "CORP.JR.TEST"]);
            // Heimdal echoes the client's realm and name.
            assert_eq!(e.crealm.as_deref(), Some("CORP.JR.TEST"));
            assert_eq!(e.cname, Some(vec!["joinready-probe".to_string()]));
            assert_eq!(e.e_text, None);
            for n in 0..UNKNOWN.len() {
                assert!(decode_krb_error(&UNKNOWN[..n]).is_err(), "prefix {n}");
            }
        }

        #[test]
        fn preauth_required() {
            let e = decode_krb_error(PREAUTH).unwrap();
            assert_eq!(e.error_code, 25);
            assert_eq!(e.error_name(), Some("KDC_ERR_PREAUTH_REQUIRED"));
            assert_eq!(e.stime_unix, 1_796_455_778);
            assert_eq!(e.susec, 872_591);
            assert_eq!(e.cname, Some(vec!["svc-join".to_string()]));
            assert_eq!(
                e.e_text.as_deref(),
                Some("Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ")
            );
            assert_eq!(e.e_data.as_ref().map(Vec::len), Some(123));
            let framed = frame_tcp(PREAUTH);
            assert_eq!(decode_krb_error(unframe_tcp(&framed).unwrap()).unwrap(), e);
            for n in 0..PREAUTH.len() {
                assert!(decode_krb_error(&PREAUTH[..n]).is_err(), "prefix {n}");
            }
        }
    }
}
