//! CLDAP "LDAP ping" (MS-ADTS 6.3.3): the searchRequest a client sends to UDP 389 and the
//! NETLOGON_SAM_LOGON_RESPONSE(_EX) structure the DC returns in the `Netlogon` attribute.
//!
//! Layouts follow MS-ADTS 6.3.1.8–6.3.1.9 and Samba's `librpc/idl/nbt.idl`. As in Samba
//! (`ndr_pull_netlogon_samlogon_response`), the NtVersion trailer in the last 8 bytes of the
//! structure, not the NtVer the client asked for, decides which optional fields are present:
//! Samba answers 0x5 (V1|V5EX) or 0xd (V1|V5EX|V5EX_WITH_IP) whatever was requested, so it never
//! sends NextClosestSiteName.

use super::ber::{self, tag, BerError, BerReader};
use super::cursor::{Cursor, WireError};
use std::net::Ipv4Addr;
use thiserror::Error;

/// NETLOGON_NT_VERSION_* flags for the `NtVer` filter value and the reply trailer.
pub mod nt_version {
    /// NETLOGON_SAM_LOGON_RESPONSE_NT40 (NetBIOS names only).
    pub const V1: u32 = 0x0000_0001;
    /// NETLOGON_SAM_LOGON_RESPONSE (opcodes 19/21, UTF-16 NetBIOS names plus DNS names).
    pub const V5: u32 = 0x0000_0002;
    /// NETLOGON_SAM_LOGON_RESPONSE_EX (opcodes 23/25, with sites).
    pub const V5EX: u32 = 0x0000_0004;
    /// Add the DC's IPv4 sockaddr to the EX reply.
    pub const V5EX_WITH_IP: u32 = 0x0000_0008;
    /// Add NextClosestSiteName to the EX reply (Windows DCs only; Samba ignores it).
    pub const WITH_CLOSEST_SITE: u32 = 0x0000_0010;
    /// Do not emulate an NT4 DC.
    pub const AVOID_NT4EMUL: u32 = 0x0100_0000;
    /// Only the PDC should answer.
    pub const PDC: u32 = 0x1000_0000;
    /// The request came over IP.
    pub const IP: u32 = 0x2000_0000;
    /// The request is local.
    pub const LOCAL: u32 = 0x4000_0000;
    /// Only a global catalog should answer.
    pub const GC: u32 = 0x8000_0000;
}

/// NtVer the ping sends by default: V5 | V5EX | WITH_CLOSEST_SITE (0x16), as Windows' DC
/// locator does. V5EX_WITH_IP is left out because the sockaddr only repeats the address the
/// datagram was sent to; set it explicitly to see which address the DC thinks it has.
pub const DEFAULT_NT_VERSION: u32 =
    nt_version::V5 | nt_version::V5EX | nt_version::WITH_CLOSEST_SITE;

/// `AAC` sent with `User`: normal, workstation-trust and server-trust accounts (MS-SAMR
/// USER_NORMAL_ACCOUNT 0x10 | USER_WORKSTATION_TRUST_ACCOUNT 0x80 | USER_SERVER_TRUST_ACCOUNT
/// 0x100), so both people and computer accounts (`NAME$`) are looked up.
pub const USER_AAC: u32 = 0x10 | 0x80 | 0x100;

/// Most compression pointers followed in one name; real replies use one per name.
pub const MAX_POINTER_HOPS: usize = 16;

/// Longest name in wire form (RFC 1035 3.1), and the cap for UTF-16 NetBIOS strings.
pub const MAX_NAME_LEN: usize = 255;

/// What the client puts in the ping's filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingRequest {
    /// DNS name of the domain to locate (`DnsDomain`).
    pub dns_domain: String,
    /// NetBIOS name of the client computer (`Host`); lets the DC compute the client's site.
    pub host: Option<String>,
    /// Account name to check (`User`); an unknown one gets a USER_UNKNOWN reply. When set,
    /// the filter also carries `AAC` = [`USER_AAC`], without which Samba reports every user
    /// as unknown.
    pub user: Option<String>,
    /// `NtVer` flags (see [`nt_version`]); [`DEFAULT_NT_VERSION`] unless there is a reason.
    pub nt_version: u32,
}

impl PingRequest {
    /// A ping for `dns_domain` with no Host/User and [`DEFAULT_NT_VERSION`].
    pub fn new(dns_domain: impl Into<String>) -> Self {
        PingRequest {
            dns_domain: dns_domain.into(),
            host: None,
            user: None,
            nt_version: DEFAULT_NT_VERSION,
        }
    }
}

/// LDAP protocolOp tags used here (RFC 4511 4.5).
const OP_SEARCH_REQUEST: u8 = tag::application(3);
const OP_SEARCH_RESULT_ENTRY: u8 = tag::application(4);
/// SearchResultDone is `[APPLICATION 5] LDAPResult`, constructed.
const OP_SEARCH_RESULT_DONE: u8 = tag::application(5);
/// SearchResultReference is `[APPLICATION 19]`; tolerated and skipped.
const OP_SEARCH_RESULT_REFERENCE: u8 = tag::application(19);
const FILTER_AND: u8 = tag::context(0);
const FILTER_EQUALITY: u8 = tag::context(3);

/// LDAP message ids are 0..=2^31-1 (RFC 4511 4.1.1.1); larger values are reduced to 31 bits.
fn ldap_message_id(id: u32) -> u32 {
    id & 0x7fff_ffff
}

fn equality(attr: &str, value: &[u8]) -> Vec<u8> {
    ber::constructed(
        FILTER_EQUALITY,
        &[ber::octet_string(attr.as_bytes()), ber::octet_string(value)],
    )
}

/// Encodes the LDAP ping searchRequest (base "", scope base, attribute `Netlogon`).
///
/// `message_id` above 2^31-1 is reduced to 31 bits (LDAP's maxInt); [`decode_ping_reply`]
/// applies the same reduction when it checks the reply.
pub fn encode_ping(message_id: u32, request: &PingRequest) -> Vec<u8> {
    let mut terms = vec![equality("DnsDomain", request.dns_domain.as_bytes())];
    if let Some(host) = &request.host {
        terms.push(equality("Host", host.as_bytes()));
    }
    if let Some(user) = &request.user {
        terms.push(equality("User", user.as_bytes()));
        terms.push(equality("AAC", &USER_AAC.to_le_bytes()));
    }
    terms.push(equality("NtVer", &request.nt_version.to_le_bytes()));
    let search = ber::constructed(
        OP_SEARCH_REQUEST,
        &[
            ber::octet_string(b""), // baseObject: rootDSE
            ber::enumerated(0),     // scope: baseObject
            ber::enumerated(0),     // derefAliases: neverDerefAliases
            ber::integer(0),        // sizeLimit
            ber::integer(0),        // timeLimit
            ber::boolean(false),    // typesOnly
            ber::constructed(FILTER_AND, &terms),
            ber::constructed(tag::SEQUENCE, &[ber::octet_string(b"Netlogon")]),
        ],
    );
    ber::constructed(
        tag::SEQUENCE,
        &[ber::integer(i64::from(ldap_message_id(message_id))), search],
    )
}

/// Failure to read an LDAP ping reply or its netlogon structure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CldapError {
    /// The LDAP envelope is not valid BER.
    #[error("malformed ldap reply: {0}")]
    Ber(#[from] BerError),
    /// The netlogon structure ended early or an offset pointed outside it.
    #[error("malformed netlogon structure: {0}")]
    Wire(#[from] WireError),
    /// The reply answers another request (stale, duplicated or spoofed datagram).
    #[error("reply carries message id {found}, not {expected}")]
    MessageIdMismatch { expected: u32, found: u32 },
    /// The reply holds an LDAP operation other than search results.
    #[error("reply holds ldap operation tag 0x{tag:02x}, not a search result")]
    UnexpectedOperation { tag: u8 },
    /// The DC answered the search with a non-zero resultCode.
    #[error("the dc answered the ping with ldap result {code} ({}){}", ldap_result_name(*code).unwrap_or("unknown"), if diagnostic.is_empty() { String::new() } else { format!(": {diagnostic}") })]
    LdapResult { code: u32, diagnostic: String },
    /// The datagram ends without the SearchResultDone every reply finishes with.
    #[error("reply ends without a search result done message (truncated datagram?)")]
    Incomplete,
    /// The search succeeded but no entry carried a `Netlogon` value (e.g. unknown domain).
    #[error("reply holds no netlogon attribute; the dc does not serve that domain or ignored the filter")]
    NoNetlogon,
    /// The netlogon opcode is not a logon response.
    #[error("netlogon opcode {0} is not a logon response")]
    UnknownOpcode(u16),
    /// The NtVersion trailer names no layout this decoder knows.
    #[error("netlogon version trailer 0x{0:08x} names no known response layout")]
    UnsupportedNtVersion(u32),
    /// LmNtToken/Lm20Token are not 0xffff, so the trailer is not where it should be.
    #[error("netlogon tokens are 0x{lm_nt:04x}/0x{lm20:04x}, not 0xffff (truncated or not a netlogon reply)")]
    BadTokens { lm_nt: u16, lm20: u16 },
    /// A compression pointer leads outside the structure.
    #[error("{field}: compression pointer at offset {at} leads to {target}, outside the {len}-byte structure")]
    PointerOutOfRange {
        field: &'static str,
        at: usize,
        target: usize,
        len: usize,
    },
    /// A compression pointer does not lead to earlier data (RFC 1035 4.1.4: "a prior occurrence").
    #[error("{field}: compression pointer at offset {at} leads forward to {target}; pointers must lead back")]
    PointerNotBackward {
        field: &'static str,
        at: usize,
        target: usize,
    },
    /// Following pointers revisits a place already read.
    #[error("{field}: compression pointer at offset {at} leads back to {target} again, a loop")]
    PointerLoop {
        field: &'static str,
        at: usize,
        target: usize,
    },
    /// More pointer hops than [`MAX_POINTER_HOPS`].
    #[error("{field}: more than {max} compression pointers in one name")]
    TooManyPointers { field: &'static str, max: usize },
    /// A length byte with the reserved top bits 01 or 10 (a label over 63 bytes).
    #[error("{field}: label length byte 0x{byte:02x} at offset {at} is over 63 and not a pointer")]
    BadLabelLength {
        field: &'static str,
        at: usize,
        byte: u8,
    },
    /// A name longer than [`MAX_NAME_LEN`].
    #[error("{field}: name is longer than {max} bytes")]
    NameTooLong { field: &'static str, max: usize },
    /// A name that is not valid UTF-8 (labels) or UTF-16 (NetBIOS strings).
    #[error("{field}: name is not valid {encoding}")]
    InvalidName {
        field: &'static str,
        encoding: &'static str,
    },
    /// The sockaddr size byte is too small for an IPv4 address.
    #[error("dc sockaddr size {size} is too small for an ipv4 address")]
    BadSockaddrSize { size: u8 },
    /// Fields do not end where the NtVersion trailer begins.
    #[error("netlogon fields end at offset {fields_end} but the version trailer starts at {trailer_start}")]
    LayoutMismatch {
        fields_end: usize,
        trailer_start: usize,
    },
}

/// Name of an LDAP resultCode (RFC 4511 appendix A), for messages.
pub fn ldap_result_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        16 => "noSuchAttribute",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => return None,
    })
}

/// Decodes a CLDAP reply datagram: SearchResultEntry (with `Netlogon`) then SearchResultDone.
pub fn decode_ping_reply(
    datagram: &[u8],
    expected_message_id: u32,
) -> Result<NetlogonResponse, CldapError> {
    let expected = ldap_message_id(expected_message_id);
    let mut reader = BerReader::new(datagram);
    let mut netlogon: Option<&[u8]> = None;
    let mut done: Option<(u32, String)> = None;
    while !reader.is_empty() && done.is_none() {
        let mut msg = reader.enter(tag::SEQUENCE, "ldap message")?;
        let found = msg.read_u32(tag::INTEGER, "ldap message id")?;
        if found != expected {
            return Err(CldapError::MessageIdMismatch { expected, found });
        }
        let (op, mut body) = msg.enter_any("ldap protocol op")?;
        // Anything after the op is the optional controls field, which a ping ignores.
        match op {
            OP_SEARCH_RESULT_ENTRY => {
                body.read(tag::OCTET_STRING, "entry object name")?;
                let mut attrs = body.enter(tag::SEQUENCE, "entry attributes")?;
                while !attrs.is_empty() {
                    let mut attr = attrs.enter(tag::SEQUENCE, "entry attribute")?;
                    let name = attr.read(tag::OCTET_STRING, "attribute type")?;
                    let mut vals = attr.enter(tag::SET, "attribute values")?;
                    if name.eq_ignore_ascii_case(b"netlogon")
                        && netlogon.is_none()
                        && !vals.is_empty()
                    {
                        netlogon = Some(vals.read(tag::OCTET_STRING, "netlogon value")?);
                    }
                }
            }
            OP_SEARCH_RESULT_DONE => {
                let code = body.read_u32(tag::ENUMERATED, "ldap result code")?;
                body.read(tag::OCTET_STRING, "matched dn")?;
                let diag = body.read(tag::OCTET_STRING, "diagnostic message")?;
                done = Some((code, String::from_utf8_lossy(diag).into_owned()));
            }
            OP_SEARCH_RESULT_REFERENCE => {}
            other => return Err(CldapError::UnexpectedOperation { tag: other }),
        }
    }
    match (done, netlogon) {
        (None, _) => Err(CldapError::Incomplete),
        (Some((code, diagnostic)), _) if code != 0 => {
            Err(CldapError::LdapResult { code, diagnostic })
        }
        (Some(_), None) => Err(CldapError::NoNetlogon),
        (Some(_), Some(value)) => decode_netlogon(value),
    }
}

/// DS_* flags the DC reports about itself (MS-ADTS 6.3.1.2; MS-NRPC DS_FLAG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DcFlags(pub u32);

impl DcFlags {
    /// Holds the PDC FSMO role.
    pub const PDC: u32 = 0x0000_0001;
    /// Global catalog.
    pub const GC: u32 = 0x0000_0004;
    /// LDAP server.
    pub const LDAP: u32 = 0x0000_0008;
    /// Directory service (an AD DC).
    pub const DS: u32 = 0x0000_0010;
    /// Runs a KDC.
    pub const KDC: u32 = 0x0000_0020;
    /// Runs the Windows time service.
    pub const TIMESERV: u32 = 0x0000_0040;
    /// In the site closest to the client.
    pub const CLOSEST: u32 = 0x0000_0080;
    /// Writable (not read-only).
    pub const WRITABLE: u32 = 0x0000_0100;
    /// Reliable time source.
    pub const GOOD_TIMESERV: u32 = 0x0000_0200;
    /// The domain is a non-domain naming context (application partition).
    pub const NDNC: u32 = 0x0000_0400;
    /// DS_SELECT_SECRET_DOMAIN_6: a read-only DC.
    pub const RODC: u32 = 0x0000_0800;
    /// DS_FULL_SECRET_DOMAIN_6: a writable 2008+ DC.
    pub const FULL_SECRET: u32 = 0x0000_1000;
    /// Active Directory Web Services present.
    pub const WS: u32 = 0x0000_2000;
    /// Windows Server 2012 or later.
    pub const DS_8: u32 = 0x0000_4000;
    /// Windows Server 2012 R2 or later.
    pub const DS_9: u32 = 0x0000_8000;
    /// Windows Server 2016 or later.
    pub const DS_10: u32 = 0x0001_0000;
    /// Supports key list requests (Windows Hello cloud trust).
    pub const KEY_LIST: u32 = 0x0002_0000;
    /// Windows Server 2025 or later.
    pub const DS_13: u32 = 0x0004_0000;
    /// The DC name is a DNS name.
    pub const DNS_CONTROLLER: u32 = 0x2000_0000;
    /// The domain name is a DNS name.
    pub const DNS_DOMAIN: u32 = 0x4000_0000;
    /// The forest name is a DNS name.
    pub const DNS_FOREST: u32 = 0x8000_0000;

    const NAMED: [(u32, &'static str); 21] = [
        (Self::PDC, "PDC"),
        (Self::GC, "GC"),
        (Self::LDAP, "LDAP"),
        (Self::DS, "DS"),
        (Self::KDC, "KDC"),
        (Self::TIMESERV, "TIMESERV"),
        (Self::CLOSEST, "CLOSEST"),
        (Self::WRITABLE, "WRITABLE"),
        (Self::GOOD_TIMESERV, "GOOD_TIMESERV"),
        (Self::NDNC, "NDNC"),
        (Self::RODC, "RODC"),
        (Self::FULL_SECRET, "FULL_SECRET"),
        (Self::WS, "WS"),
        (Self::DS_8, "DS_8"),
        (Self::DS_9, "DS_9"),
        (Self::DS_10, "DS_10"),
        (Self::KEY_LIST, "KEY_LIST"),
        (Self::DS_13, "DS_13"),
        (Self::DNS_CONTROLLER, "DNS_CONTROLLER"),
        (Self::DNS_DOMAIN, "DNS_DOMAIN"),
        (Self::DNS_FOREST, "DNS_FOREST"),
    ];

    /// Hex names for bits without a name, so [`DcFlags::names`] can stay `&'static str`.
    const BIT_HEX: [&'static str; 32] = [
        "0x00000001",
        "0x00000002",
        "0x00000004",
        "0x00000008",
        "0x00000010",
        "0x00000020",
        "0x00000040",
        "0x00000080",
        "0x00000100",
        "0x00000200",
        "0x00000400",
        "0x00000800",
        "0x00001000",
        "0x00002000",
        "0x00004000",
        "0x00008000",
        "0x00010000",
        "0x00020000",
        "0x00040000",
        "0x00080000",
        "0x00100000",
        "0x00200000",
        "0x00400000",
        "0x00800000",
        "0x01000000",
        "0x02000000",
        "0x04000000",
        "0x08000000",
        "0x10000000",
        "0x20000000",
        "0x40000000",
        "0x80000000",
    ];

    /// Every set flag by name, lowest bit first; bits without a name appear as `0x...`.
    pub fn names(self) -> Vec<&'static str> {
        (0..32u32)
            .map(|i| 1u32 << i)
            .filter(|bit| self.0 & bit != 0)
            .map(|bit| {
                Self::NAMED
                    .iter()
                    .find(|(b, _)| *b == bit)
                    .map(|(_, n)| *n)
                    .or_else(|| Self::BIT_HEX.get(bit.trailing_zeros() as usize).copied())
                    .unwrap_or("0x?")
            })
            .collect()
    }

    /// True when every bit of `mask` is set.
    pub fn contains(self, mask: u32) -> bool {
        self.0 & mask == mask
    }

    /// Holds the PDC emulator role.
    pub fn is_pdc(self) -> bool {
        self.contains(Self::PDC)
    }

    /// Is a global catalog (needed for forest-wide lookups at sign-in).
    pub fn is_gc(self) -> bool {
        self.contains(Self::GC)
    }

    /// Runs a KDC (Kerberos will work against it).
    pub fn is_kdc(self) -> bool {
        self.contains(Self::KDC)
    }

    /// Is writable (a hybrid join's computer object can be created there).
    pub fn is_writable(self) -> bool {
        self.contains(Self::WRITABLE)
    }

    /// Is a read-only DC.
    pub fn is_rodc(self) -> bool {
        self.contains(Self::RODC)
    }

    /// Is in the client's closest site.
    pub fn is_closest(self) -> bool {
        self.contains(Self::CLOSEST)
    }

    /// Is a reliable time source.
    pub fn is_good_timeserv(self) -> bool {
        self.contains(Self::GOOD_TIMESERV)
    }
}

/// What the DC said about the ping as a whole, from the opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetlogonOutcome {
    /// SAM_LOGON_RESPONSE(_EX), opcodes 19 and 23: the DC serves the domain (and knows the user).
    Ok,
    /// SAM_USER_UNKNOWN(_EX), opcodes 21 and 25: the DC serves the domain but not the `User`.
    UserUnknown,
    /// SAM_PAUSE_RESPONSE(_EX), opcodes 20 and 24: the DC's netlogon service is paused.
    Paused,
}

/// Which response structure the trailer selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetlogonFormat {
    /// NETLOGON_SAM_LOGON_RESPONSE_EX (NtVersion has V5EX).
    Ex,
    /// NETLOGON_SAM_LOGON_RESPONSE (NtVersion has V5): no sites.
    Nt5,
    /// NETLOGON_SAM_LOGON_RESPONSE_NT40: NetBIOS names only.
    Nt40,
}

/// The DC's address as written in the reply (EX with V5EX_WITH_IP, or the NT5 DcIpAddress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DcSockaddr {
    /// Address family (2 = AF_INET).
    pub family: u16,
    /// Port (always 0 in practice).
    pub port: u16,
    /// IPv4 address, meaningful when `family` is 2.
    pub ipv4: Ipv4Addr,
}

/// A decoded netlogon response; fields the selected layout lacks are empty or `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlogonResponse {
    /// Raw opcode (19, 20, 21, 23, 24 or 25).
    pub opcode: u16,
    /// Meaning of the opcode.
    pub outcome: NetlogonOutcome,
    /// Layout that was decoded.
    pub format: NetlogonFormat,
    /// DS_* flags (zero in the NT40 layout).
    pub flags: DcFlags,
    /// Domain GUID as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (None in the NT40 layout).
    pub domain_guid: Option<String>,
    /// DNS forest name.
    pub forest: String,
    /// DNS domain name.
    pub domain: String,
    /// DNS host name of the DC.
    pub host: String,
    /// NetBIOS domain name.
    pub netbios_domain: String,
    /// NetBIOS computer name of the DC (a leading `\\` from the NT5 layout is removed).
    pub netbios_computer: String,
    /// The `User` echoed back (empty when none was sent).
    pub user: String,
    /// Site of the DC.
    pub dc_site: String,
    /// Site the DC maps the client's address to (empty when no subnet matches).
    pub client_site: String,
    /// The DC's address as the DC sees it, when present.
    pub dc_sockaddr: Option<DcSockaddr>,
    /// Next closest site (Windows DCs, WITH_CLOSEST_SITE), when present.
    pub next_closest_site: Option<String>,
    /// NtVersion trailer, which decides the layout.
    pub nt_version: u32,
    /// LmNtToken (0xffff).
    pub lm_nt_token: u16,
    /// Lm20Token (0xffff).
    pub lm20_token: u16,
}

impl NetlogonResponse {
    /// The DC's IPv4 address from the sockaddr, if it carried one of family AF_INET.
    pub fn dc_ipv4(&self) -> Option<Ipv4Addr> {
        self.dc_sockaddr.filter(|s| s.family == 2).map(|s| s.ipv4)
    }
}

/// Formats a GUID in its standard string form: the first three groups are little-endian.
pub fn format_guid(b: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let d2 = u16::from_le_bytes([b[4], b[5]]);
    let d3 = u16::from_le_bytes([b[6], b[7]]);
    format!(
        "{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// Reads one RFC 1035 name whose pointers count from the first byte of `cur`'s input.
///
/// RFC 1035 4.1.4: a pointer replaces "a prior occurance of the same name", so a pointer must
/// lead to an offset before itself; revisits are loops. Hops, length and labels are bounded.
fn read_name(cur: &mut Cursor<'_>, field: &'static str) -> Result<String, CldapError> {
    let data = cur.data();
    let mut pos = cur.position();
    let mut resume: Option<usize> = None;
    let mut visited: Vec<usize> = Vec::new();
    let mut wire_len = 1usize; // the terminating zero
    let mut name = String::new();
    loop {
        let Some(&len) = data.get(pos) else {
            return Err(WireError::Truncated {
                what: field,
                needed: 1,
                available: 0,
            }
            .into());
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                pos += 1;
                break;
            }
            0x00 => {
                let n = usize::from(len);
                let start = pos + 1;
                let Some(label) = data.get(start..start + n) else {
                    return Err(WireError::Truncated {
                        what: field,
                        needed: n,
                        available: data.len().saturating_sub(start),
                    }
                    .into());
                };
                wire_len += n + 1;
                if wire_len > MAX_NAME_LEN {
                    return Err(CldapError::NameTooLong {
                        field,
                        max: MAX_NAME_LEN,
                    });
                }
                let label = std::str::from_utf8(label).map_err(|_| CldapError::InvalidName {
                    field,
                    encoding: "utf-8",
                })?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(label);
                pos = start + n;
            }
            0xc0 => {
                let Some(&lo) = data.get(pos + 1) else {
                    return Err(WireError::Truncated {
                        what: field,
                        needed: 2,
                        available: 1,
                    }
                    .into());
                };
                let target = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                if target >= data.len() {
                    return Err(CldapError::PointerOutOfRange {
                        field,
                        at: pos,
                        target,
                        len: data.len(),
                    });
                }
                if visited.contains(&target) {
                    return Err(CldapError::PointerLoop {
                        field,
                        at: pos,
                        target,
                    });
                }
                if target >= pos {
                    return Err(CldapError::PointerNotBackward {
                        field,
                        at: pos,
                        target,
                    });
                }
                if visited.len() >= MAX_POINTER_HOPS {
                    return Err(CldapError::TooManyPointers {
                        field,
                        max: MAX_POINTER_HOPS,
                    });
                }
                visited.push(target);
                resume.get_or_insert(pos + 2);
                pos = target;
            }
            _ => {
                return Err(CldapError::BadLabelLength {
                    field,
                    at: pos,
                    byte: len,
                })
            }
        }
    }
    cur.seek(resume.unwrap_or(pos), field)?;
    Ok(name)
}

/// Reads a NUL-terminated UTF-16LE string (the NT5 and NT40 layouts' NetBIOS names).
fn read_utf16z(cur: &mut Cursor<'_>, field: &'static str) -> Result<String, CldapError> {
    let mut units = Vec::new();
    loop {
        let u = cur.u16_le(field)?;
        if u == 0 {
            break;
        }
        if units.len() >= MAX_NAME_LEN {
            return Err(CldapError::NameTooLong {
                field,
                max: MAX_NAME_LEN,
            });
        }
        units.push(u);
    }
    String::from_utf16(&units).map_err(|_| CldapError::InvalidName {
        field,
        encoding: "utf-16",
    })
}

/// Decodes the `Netlogon` attribute value (NETLOGON_SAM_LOGON_RESPONSE_EX and its older forms).
pub fn decode_netlogon(bytes: &[u8]) -> Result<NetlogonResponse, CldapError> {
    let mut cur = Cursor::new(bytes);
    let opcode = cur.u16_le("netlogon opcode")?;
    let (outcome, ex) = match opcode {
        19 => (NetlogonOutcome::Ok, false),
        20 => (NetlogonOutcome::Paused, false),
        21 => (NetlogonOutcome::UserUnknown, false),
        23 => (NetlogonOutcome::Ok, true),
        24 => (NetlogonOutcome::Paused, true),
        25 => (NetlogonOutcome::UserUnknown, true),
        other => return Err(CldapError::UnknownOpcode(other)),
    };
    let trailer = Trailer::read(bytes)?;
    let mut r = if ex {
        decode_ex(&mut cur, &trailer)?
    } else if trailer.nt_version & nt_version::V5 != 0 {
        decode_nt5(&mut cur)?
    } else if trailer.nt_version & nt_version::V1 != 0 {
        decode_nt40(&mut cur)?
    } else {
        return Err(CldapError::UnsupportedNtVersion(trailer.nt_version));
    };
    if cur.position() != trailer.start {
        return Err(CldapError::LayoutMismatch {
            fields_end: cur.position(),
            trailer_start: trailer.start,
        });
    }
    r.opcode = opcode;
    r.outcome = outcome;
    r.nt_version = trailer.nt_version;
    r.lm_nt_token = trailer.lm_nt;
    r.lm20_token = trailer.lm20;
    Ok(r)
}

/// NtVersion, LmNtToken and Lm20Token: the last 8 bytes of every layout.
struct Trailer {
    start: usize,
    nt_version: u32,
    lm_nt: u16,
    lm20: u16,
}

impl Trailer {
    fn read(bytes: &[u8]) -> Result<Self, CldapError> {
        // Opcode (2) + trailer (8) is the smallest possible structure.
        if bytes.len() < 10 {
            return Err(WireError::Truncated {
                what: "netlogon structure",
                needed: 10,
                available: bytes.len(),
            }
            .into());
        }
        let start = bytes.len() - 8;
        let mut t = Cursor::new(bytes);
        t.seek(start, "netlogon version trailer")?;
        let nt_version = t.u32_le("netlogon nt version")?;
        let lm_nt = t.u16_le("lm nt token")?;
        let lm20 = t.u16_le("lm20 token")?;
        if lm_nt != 0xffff || lm20 != 0xffff {
            return Err(CldapError::BadTokens { lm_nt, lm20 });
        }
        Ok(Trailer {
            start,
            nt_version,
            lm_nt,
            lm20,
        })
    }
}

fn empty_response(format: NetlogonFormat) -> NetlogonResponse {
    NetlogonResponse {
        opcode: 0,
        outcome: NetlogonOutcome::Ok,
        format,
        flags: DcFlags(0),
        domain_guid: None,
        forest: String::new(),
        domain: String::new(),
        host: String::new(),
        netbios_domain: String::new(),
        netbios_computer: String::new(),
        user: String::new(),
        dc_site: String::new(),
        client_site: String::new(),
        dc_sockaddr: None,
        next_closest_site: None,
        nt_version: 0,
        lm_nt_token: 0,
        lm20_token: 0,
    }
}

/// NETLOGON_SAM_LOGON_RESPONSE_EX after the opcode (MS-ADTS 6.3.1.9).
fn decode_ex(cur: &mut Cursor<'_>, trailer: &Trailer) -> Result<NetlogonResponse, CldapError> {
    let mut r = empty_response(NetlogonFormat::Ex);
    cur.u16_le("sbz")?;
    r.flags = DcFlags(cur.u32_le("dc flags")?);
    r.domain_guid = Some(format_guid(&cur.array::<16>("domain guid")?));
    r.forest = read_name(cur, "forest name")?;
    r.domain = read_name(cur, "domain name")?;
    r.host = read_name(cur, "dc host name")?;
    r.netbios_domain = read_name(cur, "netbios domain name")?;
    r.netbios_computer = read_name(cur, "netbios computer name")?;
    r.user = read_name(cur, "user name")?;
    r.dc_site = read_name(cur, "dc site name")?;
    r.client_site = read_name(cur, "client site name")?;
    if trailer.nt_version & nt_version::V5EX_WITH_IP != 0 {
        let size = cur.u8("dc sockaddr size")?;
        if size < 8 {
            return Err(CldapError::BadSockaddrSize { size });
        }
        // Samba writes u32 family (LE) + IPv4 (network order) + 8 zero bytes; with port 0
        // that is byte-for-byte the SOCKADDR_IN Windows sends (u16 family LE, u16 port BE).
        let mut sa = Cursor::new(cur.take(usize::from(size), "dc sockaddr")?);
        let family = sa.u16_le("sockaddr family")?;
        let port = sa.u16_be("sockaddr port")?;
        let ipv4 = Ipv4Addr::from(sa.array::<4>("sockaddr address")?);
        r.dc_sockaddr = Some(DcSockaddr { family, port, ipv4 });
    }
    if trailer.nt_version & nt_version::WITH_CLOSEST_SITE != 0 {
        r.next_closest_site = Some(read_name(cur, "next closest site name")?);
    }
    Ok(r)
}

/// NETLOGON_SAM_LOGON_RESPONSE after the opcode (MS-ADTS 6.3.1.8).
fn decode_nt5(cur: &mut Cursor<'_>) -> Result<NetlogonResponse, CldapError> {
    let mut r = empty_response(NetlogonFormat::Nt5);
    let pdc = read_utf16z(cur, "netbios computer name")?;
    r.netbios_computer = pdc.strip_prefix("\\\\").unwrap_or(&pdc).to_owned();
    r.user = read_utf16z(cur, "user name")?;
    r.netbios_domain = read_utf16z(cur, "netbios domain name")?;
    r.domain_guid = Some(format_guid(&cur.array::<16>("domain guid")?));
    cur.array::<16>("null guid")?;
    r.forest = read_name(cur, "forest name")?;
    r.domain = read_name(cur, "domain name")?;
    r.host = read_name(cur, "dc host name")?;
    // Samba pushes this as a little-endian u32 of the host-order address (ndr_push_ipv4address),
    // so the four bytes arrive reversed.
    let ip = cur.u32_le("dc ip address")?;
    r.dc_sockaddr = Some(DcSockaddr {
        family: 2,
        port: 0,
        ipv4: Ipv4Addr::from(ip),
    });
    r.flags = DcFlags(cur.u32_le("dc flags")?);
    Ok(r)
}

/// NETLOGON_SAM_LOGON_RESPONSE_NT40 after the opcode (MS-ADTS 6.3.1.7).
fn decode_nt40(cur: &mut Cursor<'_>) -> Result<NetlogonResponse, CldapError> {
    let mut r = empty_response(NetlogonFormat::Nt40);
    let pdc = read_utf16z(cur, "netbios computer name")?;
    r.netbios_computer = pdc.strip_prefix("\\\\").unwrap_or(&pdc).to_owned();
    r.user = read_utf16z(cur, "user name")?;
    r.netbios_domain = read_utf16z(cur, "netbios domain name")?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: [u8; 16] = [
        0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];

    fn label_name(out: &mut Vec<u8>, name: &str) {
        for label in name.split('.').filter(|l| !l.is_empty()) {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }

    fn pointer(out: &mut Vec<u8>, target: usize) {
        out.push(0xc0 | (target >> 8) as u8);
        out.push(target as u8);
    }

    fn header(opcode: u16, flags: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&opcode.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&GUID);
        b
    }

    fn trailer(out: &mut Vec<u8>, nt_version: u32) {
        out.extend_from_slice(&nt_version.to_le_bytes());
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    }

    /// A Windows-style EX reply built byte by byte, with compression pointers.
    fn synthetic_ex() -> Vec<u8> {
        let mut b = header(23, 0x0000_f3fd);
        assert_eq!(b.len(), 24);
        // forest "corp.jr.test" at 24
        label_name(&mut b, "corp.jr.test");
        // domain = pointer to forest
        pointer(&mut b, 24);
        // host "dc1" + pointer to forest
        b.push(3);
        b.extend_from_slice(b"dc1");
        pointer(&mut b, 24);
        label_name(&mut b, "CORP");
        label_name(&mut b, "DC1");
        b.push(0); // user: empty
        let dc_site = b.len();
        label_name(&mut b, "Default-First-Site-Name");
        pointer(&mut b, dc_site); // client site = dc site
        b.push(16);
        b.extend_from_slice(&[2, 0, 0, 0, 10, 77, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0]);
        pointer(&mut b, dc_site); // next closest site
        trailer(&mut b, 0x1d);
        b
    }

    #[test]
    fn guid_is_mixed_endian() {
        assert_eq!(format_guid(&GUID), "00112233-4455-6677-8899-aabbccddeeff");
    }

    #[test]
    fn decodes_synthetic_ex_reply() {
        let r = decode_netlogon(&synthetic_ex()).unwrap();
        assert_eq!(r.opcode, 23);
        assert_eq!(r.outcome, NetlogonOutcome::Ok);
        assert_eq!(r.format, NetlogonFormat::Ex);
        assert_eq!(r.flags, DcFlags(0x0000_f3fd));
        assert_eq!(
            r.domain_guid.as_deref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        assert_eq!(r.forest, "corp.jr.test");
        assert_eq!(r.domain, "corp.jr.test");
        assert_eq!(r.host, "dc1.corp.jr.test");
        assert_eq!(r.netbios_domain, "CORP");
        assert_eq!(r.netbios_computer, "DC1");
        assert_eq!(r.user, "");
        assert_eq!(r.dc_site, "Default-First-Site-Name");
        assert_eq!(r.client_site, "Default-First-Site-Name");
        assert_eq!(
            r.dc_sockaddr,
            Some(DcSockaddr {
                family: 2,
                port: 0,
                ipv4: Ipv4Addr::new(10, 77, 0, 11)
            })
        );
        assert_eq!(r.dc_ipv4(), Some(Ipv4Addr::new(10, 77, 0, 11)));
        assert_eq!(
            r.next_closest_site.as_deref(),
            Some("Default-First-Site-Name")
        );
        assert_eq!(r.nt_version, 0x1d);
        assert_eq!((r.lm_nt_token, r.lm20_token), (0xffff, 0xffff));
    }

    #[test]
    fn ex_without_optional_parts() {
        let mut b = header(25, DcFlags::DS | DcFlags::KDC);
        label_name(&mut b, "a.test");
        pointer(&mut b, 24);
        label_name(&mut b, "dc.a.test");
        label_name(&mut b, "A");
        label_name(&mut b, "DC");
        label_name(&mut b, "nobody");
        label_name(&mut b, "S");
        b.push(0); // client site unknown
        trailer(&mut b, nt_version::V1 | nt_version::V5EX);
        let r = decode_netlogon(&b).unwrap();
        assert_eq!(r.outcome, NetlogonOutcome::UserUnknown);
        assert_eq!(r.user, "nobody");
        assert_eq!(r.client_site, "");
        assert_eq!(r.dc_sockaddr, None);
        assert_eq!(r.next_closest_site, None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = synthetic_ex();
        for n in 0..full.len() {
            assert!(decode_netlogon(&full[..n]).is_err(), "prefix {n} decoded");
        }
        // And one byte too many.
        let mut long = full.clone();
        long.insert(long.len() - 8, 0);
        assert!(matches!(
            decode_netlogon(&long),
            Err(CldapError::LayoutMismatch { .. })
        ));
    }

    #[test]
    fn truncated_fixed_part_says_truncated() {
        let full = synthetic_ex();
        // Cut inside the GUID but keep a valid-looking trailer so only truncation remains.
        let mut b = full[..12].to_vec();
        trailer(&mut b, 0x5);
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::Wire(WireError::Truncated { .. }))
                | Err(CldapError::BadLabelLength { .. })
                | Err(CldapError::LayoutMismatch { .. })
        ));
        assert!(matches!(
            decode_netlogon(&[23]),
            Err(CldapError::Wire(WireError::Truncated {
                what: "netlogon opcode",
                ..
            }))
        ));
    }

    fn ex_with_forest(forest_bytes: &[u8]) -> Vec<u8> {
        let mut b = header(23, 0);
        b.extend_from_slice(forest_bytes);
        b.extend([0u8; 7]);
        trailer(&mut b, 0x5);
        b
    }

    #[test]
    fn pointer_loop_is_an_error() {
        // 24: "corp" then a pointer back to 24: reads "corp" forever without the check.
        let b = ex_with_forest(&[4, b'c', b'o', b'r', b'p', 0xc0, 24]);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::PointerLoop {
                field: "forest name",
                at: 29,
                target: 24
            })
        );
        // A pointer to itself.
        let b = ex_with_forest(&[0xc0, 24]);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::PointerNotBackward {
                field: "forest name",
                at: 24,
                target: 24
            })
        );
    }

    #[test]
    fn forward_and_out_of_range_pointers_are_errors() {
        let b = ex_with_forest(&[0xc0, 27, 0, 1, b'a', 0]);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::PointerNotBackward {
                field: "forest name",
                at: 24,
                target: 27
            })
        );
        let b = ex_with_forest(&[0xff, 0xff]);
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::PointerOutOfRange {
                at: 24,
                target: 0x3fff,
                ..
            })
        ));
    }

    #[test]
    fn pointer_hops_are_bounded() {
        // The chain hides in the sockaddr bytes (skipped by the decoder): an empty name, then
        // MAX_POINTER_HOPS + 1 pointers each leading to the previous one. NextClosestSiteName
        // points at the last, so following it takes one hop too many.
        let mut b = header(23, 0);
        label_name(&mut b, "x");
        b.extend([0u8; 7]);
        let size_at = b.len();
        b.push(0);
        b.extend_from_slice(&[2, 0, 0, 0, 10, 77, 0, 11]);
        let mut prev = b.len();
        b.push(0);
        for _ in 0..=MAX_POINTER_HOPS {
            let here = b.len();
            pointer(&mut b, prev);
            prev = here;
        }
        b[size_at] = (b.len() - size_at - 1) as u8;
        pointer(&mut b, prev);
        trailer(&mut b, 0x1d);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::TooManyPointers {
                field: "next closest site name",
                max: MAX_POINTER_HOPS
            })
        );
        // One hop fewer decodes.
        let n = b.len();
        b[n - 9] = (prev - 4) as u8; // 16 hops: exactly the limit
        assert_eq!(
            decode_netlogon(&b).unwrap().next_closest_site.as_deref(),
            Some("")
        );
    }

    #[test]
    fn bad_labels_and_long_names() {
        let b = ex_with_forest(&[0x40, b'a', 0]);
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::BadLabelLength {
                byte: 0x40,
                at: 24,
                ..
            })
        ));
        let b = ex_with_forest(&[0x80, 0]);
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::BadLabelLength { byte: 0x80, .. })
        ));
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend(std::iter::repeat_n(b'x', 63));
        }
        long.push(0);
        assert!(matches!(
            decode_netlogon(&ex_with_forest(&long)),
            Err(CldapError::NameTooLong { max: 255, .. })
        ));
        assert!(matches!(
            decode_netlogon(&ex_with_forest(&[2, 0xff, 0xfe, 0])),
            Err(CldapError::InvalidName {
                encoding: "utf-8",
                ..
            })
        ));
    }

    #[test]
    fn bad_opcode_tokens_and_version() {
        let mut b = synthetic_ex();
        b[0] = 18;
        assert_eq!(decode_netlogon(&b), Err(CldapError::UnknownOpcode(18)));
        let mut b = synthetic_ex();
        let n = b.len();
        b[n - 1] = 0;
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::BadTokens { lm20: 0x00ff, .. })
        ));
        let mut b = vec![19, 0];
        trailer(&mut b, 0x40);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::UnsupportedNtVersion(0x40))
        );
        let mut b = header(23, 0);
        label_name(&mut b, "x");
        b.extend([0u8; 7]);
        b.push(4); // sockaddr size below 8
        b.extend_from_slice(&[2, 0, 0, 0]);
        trailer(&mut b, 0xd);
        assert_eq!(
            decode_netlogon(&b),
            Err(CldapError::BadSockaddrSize { size: 4 })
        );
    }

    fn utf16z(out: &mut Vec<u8>, s: &str) {
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
    }

    #[test]
    fn decodes_nt5_and_nt40_layouts() {
        let mut b = 21u16.to_le_bytes().to_vec();
        utf16z(&mut b, "\\\\DC1");
        utf16z(&mut b, "bob");
        utf16z(&mut b, "CORP");
        b.extend_from_slice(&GUID);
        b.extend_from_slice(&[0; 16]);
        let forest = b.len();
        label_name(&mut b, "corp.jr.test");
        pointer(&mut b, forest);
        b.extend_from_slice(b"\x03dc1");
        pointer(&mut b, forest);
        b.extend_from_slice(&[11, 0, 77, 10]); // 10.77.0.11, reversed as Samba writes it
        b.extend_from_slice(&0x1fdu32.to_le_bytes());
        trailer(&mut b, nt_version::V1 | nt_version::V5);
        let r = decode_netlogon(&b).unwrap();
        assert_eq!(r.format, NetlogonFormat::Nt5);
        assert_eq!(r.outcome, NetlogonOutcome::UserUnknown);
        assert_eq!(r.netbios_computer, "DC1");
        assert_eq!(r.user, "bob");
        assert_eq!(r.netbios_domain, "CORP");
        assert_eq!(r.host, "dc1.corp.jr.test");
        assert_eq!(r.domain, "corp.jr.test");
        assert_eq!(r.dc_ipv4(), Some(Ipv4Addr::new(10, 77, 0, 11)));
        assert_eq!(r.flags, DcFlags(0x1fd));
        for n in 0..b.len() {
            assert!(decode_netlogon(&b[..n]).is_err(), "nt5 prefix {n}");
        }

        let mut b = 19u16.to_le_bytes().to_vec();
        utf16z(&mut b, "\\\\DC1");
        utf16z(&mut b, "");
        utf16z(&mut b, "CORP");
        trailer(&mut b, nt_version::V1);
        let r = decode_netlogon(&b).unwrap();
        assert_eq!(r.format, NetlogonFormat::Nt40);
        assert_eq!(r.netbios_computer, "DC1");
        assert_eq!(r.domain_guid, None);
        for n in 0..b.len() {
            assert!(decode_netlogon(&b[..n]).is_err(), "nt40 prefix {n}");
        }
        let mut b = 19u16.to_le_bytes().to_vec();
        b.extend_from_slice(&[0x00, 0xd8, 0, 0]); // lone high surrogate
        utf16z(&mut b, "");
        utf16z(&mut b, "");
        trailer(&mut b, nt_version::V1);
        assert!(matches!(
            decode_netlogon(&b),
            Err(CldapError::InvalidName {
                encoding: "utf-16",
                ..
            })
        ));
    }

    #[test]
    fn dc_flag_names() {
        let f = DcFlags(0x0000_f3fd);
        assert_eq!(
            f.names(),
            [
                "PDC",
                "GC",
                "LDAP",
                "DS",
                "KDC",
                "TIMESERV",
                "CLOSEST",
                "WRITABLE",
                "GOOD_TIMESERV",
                "FULL_SECRET",
                "WS",
                "DS_8",
                "DS_9"
            ]
        );
        assert!(f.is_pdc() && f.is_gc() && f.is_kdc() && f.is_writable());
        assert!(f.is_closest() && f.is_good_timeserv() && !f.is_rodc());
        assert_eq!(
            DcFlags(0x0000_0002 | 0x0800).names(),
            ["0x00000002", "RODC"]
        );
        assert_eq!(
            DcFlags(0xe000_0000).names(),
            ["DNS_CONTROLLER", "DNS_DOMAIN", "DNS_FOREST"]
        );
        assert_eq!(DcFlags(u32::MAX).names().len(), 32);
        assert!(DcFlags(0).names().is_empty());
    }

    /// Builds an LDAP reply datagram: an entry holding `netlogon`, then SearchResultDone.
    fn ldap_reply(id: i64, netlogon: &[u8], attr_name: &str, code: i64) -> Vec<u8> {
        let entry = ber::constructed(
            tag::SEQUENCE,
            &[
                ber::integer(id),
                ber::constructed(
                    OP_SEARCH_RESULT_ENTRY,
                    &[
                        ber::octet_string(b""),
                        ber::constructed(
                            tag::SEQUENCE,
                            &[ber::constructed(
                                tag::SEQUENCE,
                                &[
                                    ber::octet_string(attr_name.as_bytes()),
                                    ber::constructed(tag::SET, &[ber::octet_string(netlogon)]),
                                ],
                            )],
                        ),
                    ],
                ),
            ],
        );
        let mut out = entry;
        out.extend(done(id, code, ""));
        out
    }

    fn done(id: i64, code: i64, diag: &str) -> Vec<u8> {
        ber::constructed(
            tag::SEQUENCE,
            &[
                ber::integer(id),
                ber::constructed(
                    OP_SEARCH_RESULT_DONE,
                    &[
                        ber::enumerated(code),
                        ber::octet_string(b""),
                        ber::octet_string(diag.as_bytes()),
                    ],
                ),
            ],
        )
    }

    #[test]
    fn decodes_full_ldap_reply() {
        let dgram = ldap_reply(7, &synthetic_ex(), "netlogon", 0);
        let r = decode_ping_reply(&dgram, 7).unwrap();
        assert_eq!(r.host, "dc1.corp.jr.test");
        let dgram = ldap_reply(7, &synthetic_ex(), "NETLOGON", 0);
        assert!(decode_ping_reply(&dgram, 7).is_ok());
        assert_eq!(
            decode_ping_reply(&dgram, 8),
            Err(CldapError::MessageIdMismatch {
                expected: 8,
                found: 7
            })
        );
        for n in 0..dgram.len() {
            assert!(decode_ping_reply(&dgram[..n], 7).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn ldap_reply_error_paths() {
        assert_eq!(
            decode_ping_reply(&done(3, 53, "no"), 3),
            Err(CldapError::LdapResult {
                code: 53,
                diagnostic: "no".into()
            })
        );
        let msg = decode_ping_reply(&done(3, 53, "no"), 3)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "the dc answered the ping with ldap result 53 (unwillingToPerform): no"
        );
        assert_eq!(
            decode_ping_reply(&done(3, 0, ""), 3),
            Err(CldapError::NoNetlogon)
        );
        let other_attr = ldap_reply(3, &synthetic_ex(), "cn", 0);
        assert_eq!(
            decode_ping_reply(&other_attr, 3),
            Err(CldapError::NoNetlogon)
        );
        // A Netlogon attribute with an empty value set is no value at all.
        let mut empty_set = ber::constructed(
            tag::SEQUENCE,
            &[
                ber::integer(3),
                ber::constructed(
                    OP_SEARCH_RESULT_ENTRY,
                    &[
                        ber::octet_string(b""),
                        ber::constructed(
                            tag::SEQUENCE,
                            &[ber::constructed(
                                tag::SEQUENCE,
                                &[ber::octet_string(b"Netlogon"), ber::tlv(tag::SET, &[])],
                            )],
                        ),
                    ],
                ),
            ],
        );
        empty_set.extend(done(3, 0, ""));
        assert_eq!(
            decode_ping_reply(&empty_set, 3),
            Err(CldapError::NoNetlogon)
        );
        assert_eq!(decode_ping_reply(&[], 3), Err(CldapError::Incomplete));
        let bind_response = ber::constructed(
            tag::SEQUENCE,
            &[ber::integer(3), ber::constructed(tag::application(1), &[])],
        );
        assert_eq!(
            decode_ping_reply(&bind_response, 3),
            Err(CldapError::UnexpectedOperation { tag: 0x61 })
        );
        // A good envelope around a bad netlogon value surfaces the netlogon error.
        let mut bad = synthetic_ex();
        bad[0] = 99;
        assert_eq!(
            decode_ping_reply(&ldap_reply(3, &bad, "Netlogon", 0), 3),
            Err(CldapError::UnknownOpcode(99))
        );
    }

    #[test]
    fn encoded_ping_parses_back() {
        let req = PingRequest {
            dns_domain: "corp.jr.test".into(),
            host: Some("CLIENT1".into()),
            user: Some("alice".into()),
            nt_version: DEFAULT_NT_VERSION,
        };
        assert_eq!(DEFAULT_NT_VERSION, 0x16);
        let bytes = encode_ping(0x8000_0005, &req);
        let mut top = BerReader::new(&bytes);
        let mut msg = top.enter(tag::SEQUENCE, "msg").unwrap();
        top.finish("top").unwrap();
        assert_eq!(msg.read_integer(tag::INTEGER, "id").unwrap(), 5);
        let mut s = msg.enter(OP_SEARCH_REQUEST, "search").unwrap();
        msg.finish("msg").unwrap();
        assert_eq!(s.read(tag::OCTET_STRING, "base").unwrap(), b"");
        assert_eq!(s.read_integer(tag::ENUMERATED, "scope").unwrap(), 0);
        assert_eq!(s.read_integer(tag::ENUMERATED, "deref").unwrap(), 0);
        assert_eq!(s.read_integer(tag::INTEGER, "size").unwrap(), 0);
        assert_eq!(s.read_integer(tag::INTEGER, "time").unwrap(), 0);
        assert!(!s.read_bool("typesOnly").unwrap());
        let mut and = s.enter(FILTER_AND, "and").unwrap();
        let mut terms = Vec::new();
        while !and.is_empty() {
            let mut eq = and.enter(FILTER_EQUALITY, "eq").unwrap();
            let a = eq.read(tag::OCTET_STRING, "attr").unwrap().to_vec();
            let v = eq.read(tag::OCTET_STRING, "value").unwrap().to_vec();
            eq.finish("eq").unwrap();
            terms.push((String::from_utf8(a).unwrap(), v));
        }
        assert_eq!(
            terms,
            [
                ("DnsDomain".to_string(), b"corp.jr.test".to_vec()),
                ("Host".to_string(), b"CLIENT1".to_vec()),
                ("User".to_string(), b"alice".to_vec()),
                ("AAC".to_string(), vec![0x90, 0x01, 0, 0]),
                ("NtVer".to_string(), vec![0x16, 0, 0, 0]),
            ]
        );
        let mut attrs = s.enter(tag::SEQUENCE, "attrs").unwrap();
        assert_eq!(attrs.read(tag::OCTET_STRING, "attr").unwrap(), b"Netlogon");
        attrs.finish("attrs").unwrap();
        s.finish("search").unwrap();

        // Minimal request, byte for byte.
        let bytes = encode_ping(1, &PingRequest::new("a"));
        let expected: &[u8] = &[
            0x30, 0x43, 0x02, 0x01, 0x01, 0x63, 0x3e, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01,
            0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0xa0, 0x1f, 0xa3, 0x0e,
            0x04, 0x09, b'D', b'n', b's', b'D', b'o', b'm', b'a', b'i', b'n', 0x04, 0x01, b'a',
            0xa3, 0x0d, 0x04, 0x05, b'N', b't', b'V', b'e', b'r', 0x04, 0x04, 0x16, 0x00, 0x00,
            0x00, 0x30, 0x0a, 0x04, 0x08, b'N', b'e', b't', b'l', b'o', b'g', b'o', b'n',
        ];
        assert_eq!(bytes, expected);
    }

    /// Replies captured from the Samba test environment (see fixtures/cldap). Message ids are
    /// those the capture used; the client at 10.77.0.100 is in no site's subnet, the branch
    /// client at 10.77.1.100 is in site Branch.
    mod captured {
        use super::super::*;

        const DC1_DEFAULT: &[u8] = include_bytes!("../../fixtures/cldap/dc1-default-site.bin");
        const DC2_DEFAULT: &[u8] = include_bytes!("../../fixtures/cldap/dc2-from-default-site.bin");
        const DC1_BRANCH: &[u8] = include_bytes!("../../fixtures/cldap/dc1-from-branch.bin");
        const DC2_BRANCH: &[u8] = include_bytes!("../../fixtures/cldap/dc2-from-branch.bin");
        const DC1_WITH_IP: &[u8] = include_bytes!("../../fixtures/cldap/dc1-with-ip.bin");
        const DC1_USER_UNKNOWN: &[u8] = include_bytes!("../../fixtures/cldap/dc1-user-unknown.bin");
        const DC1_USER_KNOWN: &[u8] = include_bytes!("../../fixtures/cldap/dc1-user-known.bin");
        const DC1_USER_NO_AAC: &[u8] =
            include_bytes!("../../fixtures/cldap/dc1-user-known-no-aac.bin");
        const DC1_NTVER5: &[u8] = include_bytes!("../../fixtures/cldap/dc1-ntver5.bin");
        const DC1_WRONG_DOMAIN: &[u8] = include_bytes!("../../fixtures/cldap/dc1-wrong-domain.bin");

        const GUID: &str = "cc200e02-4824-45fc-b047-a8821d736c89";

        fn common(r: &NetlogonResponse) {
            assert_eq!(r.format, NetlogonFormat::Ex);
            assert_eq!(r.forest, "corp.jr.test");
            assert_eq!(r.domain, "corp.jr.test");
            assert_eq!(r.netbios_domain, "CORP");
            assert_eq!(r.domain_guid.as_deref(), Some(GUID));
            // Samba answers V1|V5EX although V5|V5EX|WITH_CLOSEST_SITE was asked for.
            assert_eq!(r.nt_version, nt_version::V1 | nt_version::V5EX);
            assert_eq!(r.next_closest_site, None);
            assert_eq!(r.dc_sockaddr, None);
            let f = r.flags;
            assert!(f.is_kdc() && f.is_writable() && f.is_gc() && !f.is_rodc());
            assert!(f.contains(DcFlags::LDAP | DcFlags::DS | DcFlags::FULL_SECRET));
            // Samba sets the time-service flags because ntp_signd runs, not because it
            // serves NTP.
            assert!(f.is_good_timeserv() && f.contains(DcFlags::TIMESERV));
        }

        #[test]
        fn dc1_from_default_client() {
            let r = decode_ping_reply(DC1_DEFAULT, 1).unwrap();
            common(&r);
            assert_eq!(r.opcode, 23);
            assert_eq!(r.outcome, NetlogonOutcome::Ok);
            assert_eq!(r.host, "dc1.corp.jr.test");
            assert_eq!(r.netbios_computer, "DC1");
            assert_eq!(r.user, "");
            assert_eq!(r.dc_site, "Default-First-Site-Name");
            // 10.77.0.0/24 is mapped to no site, so the client has none and nothing is closest.
            assert_eq!(r.client_site, "");
            assert!(r.flags.is_pdc());
            assert!(!r.flags.is_closest());
            assert_eq!(r.flags, DcFlags(0x0000_137d));
            assert_eq!(
                r.flags.names(),
                [
                    "PDC",
                    "GC",
                    "LDAP",
                    "DS",
                    "KDC",
                    "TIMESERV",
                    "WRITABLE",
                    "GOOD_TIMESERV",
                    "FULL_SECRET"
                ]
            );
        }

        #[test]
        fn dc2_from_default_client() {
            let r = decode_ping_reply(DC2_DEFAULT, 2).unwrap();
            common(&r);
            assert_eq!(r.host, "dc2.corp.jr.test");
            assert_eq!(r.netbios_computer, "DC2");
            assert_eq!(r.dc_site, "Branch");
            assert_eq!(r.client_site, "");
            assert!(!r.flags.is_pdc() && !r.flags.is_closest());
        }

        #[test]
        fn dc2_from_branch_client() {
            let r = decode_ping_reply(DC2_BRANCH, 3).unwrap();
            common(&r);
            assert_eq!(r.host, "dc2.corp.jr.test");
            assert_eq!(r.dc_site, "Branch");
            // Samba compresses the client site into a pointer to the DC site.
            assert_eq!(r.client_site, "Branch");
            assert!(r.flags.is_closest());
            assert!(!r.flags.is_pdc());
            assert_eq!(r.flags, DcFlags(0x0000_13fc));
        }

        #[test]
        fn dc1_from_branch_client() {
            let r = decode_ping_reply(DC1_BRANCH, 4).unwrap();
            common(&r);
            assert_eq!(r.host, "dc1.corp.jr.test");
            assert_eq!(r.dc_site, "Default-First-Site-Name");
            assert_eq!(r.client_site, "Branch");
            assert!(!r.flags.is_closest());
            assert!(r.flags.is_pdc());
        }

        #[test]
        fn dc1_with_ip() {
            let r = decode_ping_reply(DC1_WITH_IP, 5).unwrap();
            assert_eq!(
                r.nt_version,
                nt_version::V1 | nt_version::V5EX | nt_version::V5EX_WITH_IP
            );
            assert_eq!(
                r.dc_sockaddr,
                Some(DcSockaddr {
                    family: 2,
                    port: 0,
                    ipv4: Ipv4Addr::new(10, 77, 0, 11)
                })
            );
            assert_eq!(r.dc_ipv4(), Some(Ipv4Addr::new(10, 77, 0, 11)));
            assert_eq!(r.host, "dc1.corp.jr.test");
        }

        #[test]
        fn user_known_and_unknown() {
            let r = decode_ping_reply(DC1_USER_UNKNOWN, 11).unwrap();
            assert_eq!(r.opcode, 25);
            assert_eq!(r.outcome, NetlogonOutcome::UserUnknown);
            assert_eq!(r.user, "nobody-here");
            let r = decode_ping_reply(DC1_USER_KNOWN, 10).unwrap();
            assert_eq!(r.opcode, 23);
            assert_eq!(r.outcome, NetlogonOutcome::Ok);
            assert_eq!(r.user, "svc-join");
            // Without AAC in the filter Samba matches no account, so a real user is "unknown".
            let r = decode_ping_reply(DC1_USER_NO_AAC, 7).unwrap();
            assert_eq!(r.outcome, NetlogonOutcome::UserUnknown);
            assert_eq!(r.user, "svc-join");
        }

        #[test]
        fn dc1_nt5_layout() {
            let r = decode_ping_reply(DC1_NTVER5, 8).unwrap();
            assert_eq!(r.opcode, 19);
            assert_eq!(r.format, NetlogonFormat::Nt5);
            assert_eq!(r.nt_version, nt_version::V1 | nt_version::V5);
            assert_eq!(r.netbios_computer, "DC1");
            assert_eq!(r.netbios_domain, "CORP");
            assert_eq!(r.host, "dc1.corp.jr.test");
            assert_eq!(r.forest, "corp.jr.test");
            assert_eq!(r.domain_guid.as_deref(), Some(GUID));
            // Written as a little-endian u32, i.e. byte-reversed on the wire.
            assert_eq!(r.dc_ipv4(), Some(Ipv4Addr::new(10, 77, 0, 11)));
            assert_eq!(r.flags, DcFlags(0x0000_137d));
        }

        #[test]
        fn wrong_domain_gets_no_netlogon() {
            assert_eq!(
                decode_ping_reply(DC1_WRONG_DOMAIN, 9),
                Err(CldapError::NoNetlogon)
            );
        }

        #[test]
        fn captured_replies_fail_cleanly_when_cut_or_misattributed() {
            for (bytes, id) in [
                (DC1_DEFAULT, 1),
                (DC2_BRANCH, 3),
                (DC1_WITH_IP, 5),
                (DC1_NTVER5, 8),
            ] {
                for n in 0..bytes.len() {
                    assert!(decode_ping_reply(&bytes[..n], id).is_err(), "prefix {n}");
                }
                assert!(matches!(
                    decode_ping_reply(bytes, id + 100),
                    Err(CldapError::MessageIdMismatch { .. })
                ));
            }
        }
    }
}
