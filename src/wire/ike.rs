//! IKEv2 `IKE_SA_INIT` codec for reachability probes (RFC 7296 §1.2, §3; NAT-T framing RFC 3948 §2.2).
//!
//! Bytes in, bytes out: no sockets, no clocks, no randomness. The caller supplies the initiator
//! SPI, the nonce and the key-exchange value, sends the datagram and hands the reply back to
//! [`decode_reply`].
//!
//! A gateway is alive when any reply echoes our initiator SPI with the response flag set: a full
//! `IKE_SA_INIT` response, or a lone notify (`INVALID_KE_PAYLOAD`, `NO_PROPOSAL_CHOSEN`,
//! `COOKIE`, ...). [`IkeReply::outcome`] summarises which, and [`IkeError::is_from_responder`]
//! tells whether a reply that failed to decode had nevertheless passed those checks.
//!
//! Every read is bounds-checked; no length taken from the network is used to index a slice.
//! Codes this file does not know are kept as `Unknown(code)` values, never errors.

use std::fmt;
use std::fmt::Write as _;

use thiserror::Error;

use crate::wire::cursor::{Cursor, WireError};

/// UDP port for IKE without NAT traversal.
pub const IKE_PORT: u16 = 500;
/// UDP port for IKE with NAT traversal; messages carry the [`NON_ESP_MARKER`] prefix.
pub const NAT_T_PORT: u16 = 4500;
/// Length of the fixed IKE header (RFC 7296 §3.1).
pub const HEADER_LEN: usize = 28;
/// The four zero bytes that prefix IKE messages on UDP 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// Upper bound on payloads walked in one message.
pub const MAX_PAYLOADS: usize = 32;
/// Length of a NAT_DETECTION_*_IP hash (SHA-1, RFC 7296 §2.23).
pub const NAT_HASH_LEN: usize = 20;
/// Nonce length bounds (RFC 7296 §3.9: at least 16 and at most 256 octets).
pub const NONCE_MIN: usize = 16;
/// See [`NONCE_MIN`].
pub const NONCE_MAX: usize = 256;

const VERSION_2_0: u8 = 0x20;
const EXCHANGE_IKE_SA_INIT: u8 = 34;
const FLAG_INITIATOR: u8 = 0x08;
const FLAG_RESPONSE: u8 = 0x20;
const GENERIC_HEADER_LEN: usize = 4;
/// A NAT-T keepalive is the single byte 0xff (RFC 3948 §2.3).
const NAT_KEEPALIVE: u8 = 0xff;
/// Protocol ID of an IKE SA proposal (RFC 7296 §3.3.1).
const PROTOCOL_IKE: u8 = 1;
/// Transform attribute type "Key Length", used in TV format (RFC 7296 §3.3.5).
const ATTR_KEY_LENGTH: u16 = 14;
const ATTR_FORMAT_TV: u16 = 0x8000;
/// "Last Substruc" values (RFC 7296 §3.3.1, §3.3.2).
const LAST: u8 = 0;
const MORE_PROPOSALS: u8 = 2;
const MORE_TRANSFORMS: u8 = 3;
const PROPOSAL_HEADER_LEN: usize = 8;
const TRANSFORM_HEADER_LEN: usize = 8;

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty), unknown = $unknown:literal {
            $($variant:ident = $code:literal => $label:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[doc = $label] $variant,)+
            /// A code this file has no name for, kept as its number.
            Unknown($repr),
        }

        impl $name {
            /// The value for a wire code; codes without a name become `Unknown`.
            pub fn from_code(code: $repr) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Unknown(other),
                }
            }

            /// The wire code.
            pub fn code(self) -> $repr {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Unknown(code) => code,
                }
            }

            /// The registered name, if this file knows it.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some($label),)+
                    Self::Unknown(_) => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(code: $repr) -> Self {
                Self::from_code(code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", $unknown, self.code()),
                }
            }
        }
    };
}

code_enum! {
    /// Payload types (RFC 7296 §3.2; SKF from RFC 7383).
    PayloadType(u8), unknown = "PAYLOAD" {
        Sa = 33 => "SA",
        Ke = 34 => "KE",
        IdI = 35 => "IDi",
        IdR = 36 => "IDr",
        Cert = 37 => "CERT",
        CertReq = 38 => "CERTREQ",
        Auth = 39 => "AUTH",
        Nonce = 40 => "NONCE",
        Notify = 41 => "NOTIFY",
        Delete = 42 => "DELETE",
        VendorId = 43 => "VENDOR_ID",
        TsI = 44 => "TSi",
        TsR = 45 => "TSr",
        Encrypted = 46 => "SK",
        Configuration = 47 => "CP",
        Eap = 48 => "EAP",
        EncryptedFragment = 53 => "SKF",
    }
}

code_enum! {
    /// Encryption algorithm transform IDs (transform type 1).
    EncrId(u16), unknown = "ENCR" {
        Des = 2 => "DES",
        TripleDes = 3 => "3DES",
        Null = 11 => "NULL",
        AesCbc = 12 => "AES_CBC",
        AesCtr = 13 => "AES_CTR",
        AesCcm8 = 14 => "AES_CCM_8",
        AesCcm12 = 15 => "AES_CCM_12",
        AesCcm16 = 16 => "AES_CCM_16",
        AesGcm8 = 18 => "AES_GCM_8",
        AesGcm12 = 19 => "AES_GCM_12",
        AesGcm16 = 20 => "AES_GCM_16",
        NullAesGmac = 21 => "NULL_AES_GMAC",
        CamelliaCbc = 23 => "CAMELLIA_CBC",
        ChaCha20Poly1305 = 28 => "CHACHA20_POLY1305",
    }
}

code_enum! {
    /// Pseudo-random function transform IDs (transform type 2).
    PrfId(u16), unknown = "PRF" {
        HmacMd5 = 1 => "PRF_HMAC_MD5",
        HmacSha1 = 2 => "PRF_HMAC_SHA1",
        Aes128Xcbc = 4 => "PRF_AES128_XCBC",
        HmacSha2_256 = 5 => "PRF_HMAC_SHA2_256",
        HmacSha2_384 = 6 => "PRF_HMAC_SHA2_384",
        HmacSha2_512 = 7 => "PRF_HMAC_SHA2_512",
        Aes128Cmac = 8 => "PRF_AES128_CMAC",
    }
}

code_enum! {
    /// Integrity algorithm transform IDs (transform type 3).
    IntegId(u16), unknown = "INTEG" {
        NoIntegrity = 0 => "NONE",
        HmacMd5_96 = 1 => "HMAC_MD5_96",
        HmacSha1_96 = 2 => "HMAC_SHA1_96",
        AesXcbc96 = 5 => "AES_XCBC_96",
        AesCmac96 = 8 => "AES_CMAC_96",
        HmacSha2_256_128 = 12 => "HMAC_SHA2_256_128",
        HmacSha2_384_192 = 13 => "HMAC_SHA2_384_192",
        HmacSha2_512_256 = 14 => "HMAC_SHA2_512_256",
    }
}

code_enum! {
    /// Diffie-Hellman / key-exchange group IDs (transform type 4).
    DhGroup(u16), unknown = "DH" {
        Modp768 = 1 => "MODP_768",
        Modp1024 = 2 => "MODP_1024",
        Modp1536 = 5 => "MODP_1536",
        Modp2048 = 14 => "MODP_2048",
        Modp3072 = 15 => "MODP_3072",
        Modp4096 = 16 => "MODP_4096",
        Modp6144 = 17 => "MODP_6144",
        Modp8192 = 18 => "MODP_8192",
        Ecp256 = 19 => "ECP_256",
        Ecp384 = 20 => "ECP_384",
        Ecp521 = 21 => "ECP_521",
        Modp1024s160 = 22 => "MODP_1024_160",
        Modp2048s224 = 23 => "MODP_2048_224",
        Modp2048s256 = 24 => "MODP_2048_256",
        Ecp192 = 25 => "ECP_192",
        Ecp224 = 26 => "ECP_224",
        Brainpool224 = 27 => "ECP_224_BP",
        Brainpool256 = 28 => "ECP_256_BP",
        Brainpool384 = 29 => "ECP_384_BP",
        Brainpool512 = 30 => "ECP_512_BP",
        Curve25519 = 31 => "CURVE_25519",
        Curve448 = 32 => "CURVE_448",
    }
}

code_enum! {
    /// Notify message types (RFC 7296 §3.10.1 and later registrations).
    /// Types below 16384 report errors; the rest report status.
    NotifyType(u16), unknown = "NOTIFY" {
        UnsupportedCriticalPayload = 1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        InvalidIkeSpi = 4 => "INVALID_IKE_SPI",
        InvalidMajorVersion = 5 => "INVALID_MAJOR_VERSION",
        InvalidSyntax = 7 => "INVALID_SYNTAX",
        InvalidMessageId = 9 => "INVALID_MESSAGE_ID",
        InvalidSpi = 11 => "INVALID_SPI",
        NoProposalChosen = 14 => "NO_PROPOSAL_CHOSEN",
        InvalidKePayload = 17 => "INVALID_KE_PAYLOAD",
        AuthenticationFailed = 24 => "AUTHENTICATION_FAILED",
        SinglePairRequired = 34 => "SINGLE_PAIR_REQUIRED",
        NoAdditionalSas = 35 => "NO_ADDITIONAL_SAS",
        InternalAddressFailure = 36 => "INTERNAL_ADDRESS_FAILURE",
        FailedCpRequired = 37 => "FAILED_CP_REQUIRED",
        TsUnacceptable = 38 => "TS_UNACCEPTABLE",
        InvalidSelectors = 39 => "INVALID_SELECTORS",
        TemporaryFailure = 43 => "TEMPORARY_FAILURE",
        ChildSaNotFound = 44 => "CHILD_SA_NOT_FOUND",
        InitialContact = 16384 => "INITIAL_CONTACT",
        SetWindowSize = 16385 => "SET_WINDOW_SIZE",
        AdditionalTsPossible = 16386 => "ADDITIONAL_TS_POSSIBLE",
        IpcompSupported = 16387 => "IPCOMP_SUPPORTED",
        NatDetectionSourceIp = 16388 => "NAT_DETECTION_SOURCE_IP",
        NatDetectionDestinationIp = 16389 => "NAT_DETECTION_DESTINATION_IP",
        Cookie = 16390 => "COOKIE",
        UseTransportMode = 16391 => "USE_TRANSPORT_MODE",
        HttpCertLookupSupported = 16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        RekeySa = 16393 => "REKEY_SA",
        EspTfcPaddingNotSupported = 16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        NonFirstFragmentsAlso = 16395 => "NON_FIRST_FRAGMENTS_ALSO",
        MobikeSupported = 16396 => "MOBIKE_SUPPORTED",
        MultipleAuthSupported = 16404 => "MULTIPLE_AUTH_SUPPORTED",
        RedirectSupported = 16406 => "REDIRECT_SUPPORTED",
        Redirect = 16407 => "REDIRECT",
        ChildlessIkev2Supported = 16418 => "CHILDLESS_IKEV2_SUPPORTED",
        FragmentationSupported = 16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        SignatureHashAlgorithms = 16431 => "SIGNATURE_HASH_ALGORITHMS",
    }
}

impl NotifyType {
    /// Whether this type reports an error (RFC 7296 §3.10.1: types 0..=16383).
    pub fn is_error(self) -> bool {
        self.code() < 16384
    }
}

impl DhGroup {
    /// Length in bytes of this group's key-exchange value, if known.
    pub fn ke_len(self) -> Option<usize> {
        let len = match self {
            // MODP groups (RFC 3526, RFC 2409): the public value is as long as the prime.
            Self::Modp768 => 96,
            Self::Modp1024 | Self::Modp1024s160 => 128,
            Self::Modp1536 => 192,
            Self::Modp2048 | Self::Modp2048s224 | Self::Modp2048s256 => 256,
            Self::Modp3072 => 384,
            Self::Modp4096 => 512,
            Self::Modp6144 => 768,
            Self::Modp8192 => 1024,
            // ECP groups (RFC 5903 §7, RFC 6954): x and y concatenated.
            Self::Ecp192 => 48,
            Self::Ecp224 | Self::Brainpool224 => 56,
            Self::Ecp256 | Self::Brainpool256 => 64,
            Self::Ecp384 | Self::Brainpool384 => 96,
            Self::Ecp521 => 132,
            Self::Brainpool512 => 128,
            // RFC 8031 §3.
            Self::Curve25519 => 32,
            Self::Curve448 => 56,
            Self::Unknown(_) => return None,
        };
        Some(len)
    }
}

/// Length in bytes of the KE payload's key-exchange data for `dh_group`, if the group is known.
/// For 19 (ECP-256) it is 64; for 14 (MODP-2048) it is 256.
pub fn ke_len(dh_group: u16) -> Option<usize> {
    DhGroup::from_code(dh_group).ke_len()
}

/// Errors from encoding checks and from decoding a reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IkeError {
    #[error("datagram is too short for the {what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("received a nat-t keepalive (0xff), not an ike message")]
    NatKeepalive,
    #[error(
        "non-esp marker must be four zero bytes, but found {} (hint: udp 4500 replies carry the marker, udp 500 replies do not; decode with nat_t matching the port)",
        hex(.found)
    )]
    NonEspMarker { found: [u8; 4] },
    #[error(
        "reply is not for our request: its initiator spi {} is not ours ({})",
        hex(.found),
        hex(.expected)
    )]
    NotOurs { expected: [u8; 8], found: [u8; 8] },
    #[error("message is not a response: flags {flags:#04x} lack the response bit 0x20")]
    NotResponse { flags: u8 },
    #[error(
        "unsupported ike version {}.{}, expected 2.x",
        .version >> 4,
        .version & 0x0f
    )]
    UnsupportedVersion { version: u8 },
    #[error("unexpected exchange type {exchange}, expected 34 (ike_sa_init)")]
    WrongExchange { exchange: u8 },
    #[error("unexpected message id {id}, an ike_sa_init response carries 0")]
    WrongMessageId { id: u32 },
    #[error("header length {declared} does not match the {received} bytes received")]
    LengthMismatch { declared: u32, received: usize },
    #[error("more than {max} payloads in one message")]
    TooManyPayloads { max: usize },
    #[error("payload {payload} has length {length}, below the minimum of {min}")]
    PayloadTooShort {
        payload: PayloadType,
        length: u16,
        min: usize,
    },
    #[error(
        "payload {payload} has length {length}, past the message end with {remaining} bytes left"
    )]
    PayloadOverrun {
        payload: PayloadType,
        length: u16,
        remaining: usize,
    },
    #[error("payload {payload} appears more than once")]
    DuplicatePayload { payload: PayloadType },
    #[error("trailing data: {count} bytes follow the last payload")]
    TrailingData { count: usize },
    #[error("{what} is too short: need {need} bytes, have {have}")]
    Short {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    #[error("sa payload carries {count} proposals, but a response must carry exactly one")]
    ProposalCount { count: usize },
    #[error("proposal declares {declared} transforms, but {found} are present")]
    TransformCount { declared: u8, found: usize },
    #[error("notify {notify} carries {length} data bytes, expected {expected}")]
    BadNotifyData {
        notify: NotifyType,
        length: usize,
        expected: usize,
    },
    #[error("initiator spi must not be zero (hint: use 8 random bytes)")]
    ZeroSpi,
    #[error("nonce is {length} bytes, but must be 16 to 256 (hint: use 32 random bytes)")]
    NonceLength { length: usize },
    #[error(
        "no known key-exchange length for dh group {group} (hint: use 19 for ecp_256 or 14 for modp_2048)"
    )]
    UnsupportedGroup { group: DhGroup },
    #[error(
        "dh group {group} needs a {expected}-byte key-exchange value, but {got} bytes were given"
    )]
    KeLength {
        group: DhGroup,
        expected: usize,
        got: usize,
    },
}

impl IkeError {
    /// True when the datagram echoed our initiator SPI with the response flag set, so the
    /// responder is alive even though the rest of the reply could not be decoded.
    pub fn is_from_responder(&self) -> bool {
        !matches!(
            self,
            Self::Truncated { .. }
                | Self::NatKeepalive
                | Self::NonEspMarker { .. }
                | Self::NotOurs { .. }
                | Self::NotResponse { .. }
                | Self::ZeroSpi
                | Self::NonceLength { .. }
                | Self::UnsupportedGroup { .. }
                | Self::KeLength { .. }
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// One transform as offered: type, ID and optional key length in bits.
type Offer = (u8, u16, Option<u16>);

const T_ENCR: u8 = 1;
const T_PRF: u8 = 2;
const T_INTEG: u8 = 3;
const T_DH: u8 = 4;
const T_ESN: u8 = 5;

/// Proposal 1: AES-CBC with HMAC integrity, the widest-deployed suite (Windows RRAS, strongSwan,
/// most appliances).
const PROPOSAL_CBC: &[Offer] = &[
    (T_ENCR, 12, Some(256)),
    (T_ENCR, 12, Some(128)),
    (T_PRF, 5, None),
    (T_PRF, 2, None),
    (T_INTEG, 12, None),
    (T_INTEG, 2, None),
];

/// Proposal 2: AES-GCM-16 (AEAD, so no integrity transform; RFC 5282 §8).
const PROPOSAL_GCM: &[Offer] = &[
    (T_ENCR, 20, Some(256)),
    (T_ENCR, 20, Some(128)),
    (T_PRF, 5, None),
    (T_PRF, 6, None),
];

/// An `IKE_SA_INIT` request with every field the caller may choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaInitRequest<'a> {
    /// Initiator SPI: 8 random bytes, not all zero.
    pub spi_i: [u8; 8],
    /// Nonce: 16 to 256 random bytes.
    pub nonce: &'a [u8],
    /// Key-exchange value, [`ke_len`]`(dh_group)` bytes long.
    pub ke_public: &'a [u8],
    /// The DH group offered in both proposals and used by the KE payload.
    pub dh_group: u16,
    /// Prefix the non-ESP marker for UDP 4500.
    pub nat_t: bool,
    /// NAT_DETECTION_SOURCE_IP data (SHA-1 of SPIi | SPIr | source IP | source port).
    pub nat_source_hash: [u8; NAT_HASH_LEN],
    /// NAT_DETECTION_DESTINATION_IP data.
    pub nat_destination_hash: [u8; NAT_HASH_LEN],
}

impl SaInitRequest<'_> {
    /// Check the caller's values: non-zero SPI, nonce length, and a KE value whose length
    /// matches the group.
    ///
    /// # Errors
    ///
    /// [`IkeError::ZeroSpi`], [`IkeError::NonceLength`], [`IkeError::UnsupportedGroup`] or
    /// [`IkeError::KeLength`], naming the first value that is wrong.
    pub fn validate(&self) -> Result<(), IkeError> {
        if self.spi_i == [0; 8] {
            return Err(IkeError::ZeroSpi);
        }
        if !(NONCE_MIN..=NONCE_MAX).contains(&self.nonce.len()) {
            return Err(IkeError::NonceLength {
                length: self.nonce.len(),
            });
        }
        let group = DhGroup::from_code(self.dh_group);
        let expected = group.ke_len().ok_or(IkeError::UnsupportedGroup { group })?;
        if self.ke_public.len() != expected {
            return Err(IkeError::KeLength {
                group,
                expected,
                got: self.ke_public.len(),
            });
        }
        Ok(())
    }

    /// Encode the request. Values are written as given; call [`Self::validate`] first to
    /// catch lengths a responder would reject.
    pub fn encode(&self) -> Vec<u8> {
        let payloads = [
            (PayloadType::Sa.code(), sa_body(self.dh_group)),
            (
                PayloadType::Ke.code(),
                ke_body(self.dh_group, self.ke_public),
            ),
            (PayloadType::Nonce.code(), self.nonce.to_vec()),
            (
                PayloadType::Notify.code(),
                notify_body(NotifyType::NatDetectionSourceIp, &self.nat_source_hash),
            ),
            (
                PayloadType::Notify.code(),
                notify_body(
                    NotifyType::NatDetectionDestinationIp,
                    &self.nat_destination_hash,
                ),
            ),
        ];
        let header = Header {
            spi_i: self.spi_i,
            spi_r: [0; 8],
            version: VERSION_2_0,
            exchange: EXCHANGE_IKE_SA_INIT,
            flags: FLAG_INITIATOR,
            message_id: 0,
        };
        write_message(&header, &payloads, self.nat_t)
    }
}

/// Encode an `IKE_SA_INIT` request offering AES-CBC and AES-GCM-16 proposals with `dh_group`,
/// a KE payload carrying `ke_public` (pass [`ke_len`]`(dh_group)` bytes), the nonce, and
/// NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP notifies with all-zero hashes
/// (a responder then assumes a NAT, which does not affect reachability). With `nat_t` the
/// four-byte non-ESP marker for UDP 4500 comes first. See [`SaInitRequest`] for real hashes
/// and input checks.
pub fn encode_sa_init(
    spi_i: [u8; 8],
    nonce: &[u8],
    ke_public: &[u8],
    dh_group: u16,
    nat_t: bool,
) -> Vec<u8> {
    SaInitRequest {
        spi_i,
        nonce,
        ke_public,
        dh_group,
        nat_t,
        nat_source_hash: [0; NAT_HASH_LEN],
        nat_destination_hash: [0; NAT_HASH_LEN],
    }
    .encode()
}

struct Header {
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    version: u8,
    exchange: u8,
    flags: u8,
    message_id: u32,
}

/// Lengths in this encoder are bounded by the caller's inputs; a value too large for its field
/// saturates instead of wrapping, so the responder sees a length error rather than a
/// misframed message.
fn len_u16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

fn write_message(header: &Header, payloads: &[(u8, Vec<u8>)], nat_t: bool) -> Vec<u8> {
    let body_len: usize = payloads
        .iter()
        .map(|(_, body)| GENERIC_HEADER_LEN + body.len())
        .sum();
    let total = HEADER_LEN + body_len;
    let mut out = Vec::with_capacity(total + NON_ESP_MARKER.len());
    if nat_t {
        out.extend_from_slice(&NON_ESP_MARKER);
    }
    out.extend_from_slice(&header.spi_i);
    out.extend_from_slice(&header.spi_r);
    out.push(payloads.first().map_or(0, |(kind, _)| *kind));
    out.push(header.version);
    out.push(header.exchange);
    out.push(header.flags);
    out.extend_from_slice(&header.message_id.to_be_bytes());
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    for (index, (_, body)) in payloads.iter().enumerate() {
        let next = payloads.get(index + 1).map_or(0, |(kind, _)| *kind);
        out.push(next);
        out.push(0);
        out.extend_from_slice(&len_u16(GENERIC_HEADER_LEN + body.len()).to_be_bytes());
        out.extend_from_slice(body);
    }
    out
}

fn sa_body(dh_group: u16) -> Vec<u8> {
    let proposals: [&[Offer]; 2] = [PROPOSAL_CBC, PROPOSAL_GCM];
    let mut out = Vec::new();
    for (index, offers) in proposals.iter().enumerate() {
        let mut transforms = offers.to_vec();
        transforms.push((T_DH, dh_group, None));
        let last = index + 1 == proposals.len();
        let number = u8::try_from(index + 1).unwrap_or(u8::MAX);
        out.extend_from_slice(&proposal_bytes(number, last, &transforms));
    }
    out
}

fn proposal_bytes(number: u8, last: bool, transforms: &[Offer]) -> Vec<u8> {
    let mut body = Vec::new();
    for (index, &(kind, id, key_bits)) in transforms.iter().enumerate() {
        let more = index + 1 < transforms.len();
        let len = TRANSFORM_HEADER_LEN + if key_bits.is_some() { 4 } else { 0 };
        body.push(if more { MORE_TRANSFORMS } else { LAST });
        body.push(0);
        body.extend_from_slice(&len_u16(len).to_be_bytes());
        body.push(kind);
        body.push(0);
        body.extend_from_slice(&id.to_be_bytes());
        if let Some(bits) = key_bits {
            body.extend_from_slice(&(ATTR_FORMAT_TV | ATTR_KEY_LENGTH).to_be_bytes());
            body.extend_from_slice(&bits.to_be_bytes());
        }
    }
    let mut out = Vec::with_capacity(PROPOSAL_HEADER_LEN + body.len());
    out.push(if last { LAST } else { MORE_PROPOSALS });
    out.push(0);
    out.extend_from_slice(&len_u16(PROPOSAL_HEADER_LEN + body.len()).to_be_bytes());
    out.push(number);
    out.push(PROTOCOL_IKE);
    out.push(0); // SPI size: none in IKE_SA_INIT (RFC 7296 §3.3.1)
    out.push(u8::try_from(transforms.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&body);
    out
}

fn ke_body(dh_group: u16, ke_public: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + ke_public.len());
    out.extend_from_slice(&dh_group.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(ke_public);
    out
}

fn notify_body(kind: NotifyType, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + data.len());
    out.push(0); // protocol ID: none, the notify concerns the IKE SA being set up
    out.push(0); // SPI size
    out.extend_from_slice(&kind.code().to_be_bytes());
    out.extend_from_slice(data);
    out
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// One transform of the chosen proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    Encr {
        id: EncrId,
        key_bits: Option<u16>,
    },
    Prf(PrfId),
    Integ(IntegId),
    Dh(DhGroup),
    /// Extended sequence numbers (0 = off, 1 = on); not expected for an IKE SA.
    Esn(u16),
    Other {
        kind: u8,
        id: u16,
    },
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encr { id, key_bits } => {
                write!(f, "{id}")?;
                match key_bits {
                    Some(bits) => write!(f, "_{bits}"),
                    None => Ok(()),
                }
            }
            Self::Prf(id) => write!(f, "{id}"),
            Self::Integ(id) => write!(f, "{id}"),
            Self::Dh(group) => write!(f, "{group}"),
            Self::Esn(0) => f.write_str("NO_EXT_SEQ"),
            Self::Esn(1) => f.write_str("EXT_SEQ"),
            Self::Esn(id) => write!(f, "ESN({id})"),
            Self::Other { kind, id } => write!(f, "TRANSFORM({kind}:{id})"),
        }
    }
}

/// The proposal the responder chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub number: u8,
    /// Protocol ID; 1 (IKE) in an `IKE_SA_INIT` response.
    pub protocol: u8,
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// The encryption algorithm and key length in bits, if present.
    pub fn encr(&self) -> Option<(EncrId, Option<u16>)> {
        self.transforms.iter().find_map(|t| match t {
            Transform::Encr { id, key_bits } => Some((*id, *key_bits)),
            _ => None,
        })
    }

    pub fn prf(&self) -> Option<PrfId> {
        self.transforms.iter().find_map(|t| match t {
            Transform::Prf(id) => Some(*id),
            _ => None,
        })
    }

    pub fn integ(&self) -> Option<IntegId> {
        self.transforms.iter().find_map(|t| match t {
            Transform::Integ(id) => Some(*id),
            _ => None,
        })
    }

    pub fn dh(&self) -> Option<DhGroup> {
        self.transforms.iter().find_map(|t| match t {
            Transform::Dh(group) => Some(*group),
            _ => None,
        })
    }
}

impl fmt::Display for Proposal {
    /// The transforms joined by `/`, e.g. `AES_CBC_256/PRF_HMAC_SHA2_256/HMAC_SHA2_256_128/ECP_256`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.transforms.is_empty() {
            return f.write_str("(no transforms)");
        }
        for (index, transform) in self.transforms.iter().enumerate() {
            if index > 0 {
                f.write_str("/")?;
            }
            write!(f, "{transform}")?;
        }
        Ok(())
    }
}

/// A notify payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    pub kind: NotifyType,
    pub protocol: u8,
    pub spi: Vec<u8>,
    pub data: Vec<u8>,
}

/// The responder's KE payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyExchange {
    pub group: DhGroup,
    /// Length of the key-exchange value in bytes.
    pub len: usize,
}

/// A decoded `IKE_SA_INIT` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeReply {
    pub spi_r: [u8; 8],
    /// Raw version byte (0x20 for IKEv2.0).
    pub version: u8,
    /// Raw flags byte; always has the response bit 0x20.
    pub flags: u8,
    /// The chosen proposal, when the reply carries an SA payload.
    pub proposal: Option<Proposal>,
    pub ke: Option<KeyExchange>,
    pub nonce_len: Option<usize>,
    /// Notifies in message order.
    pub notifies: Vec<Notify>,
    /// Vendor ID payloads as lowercase hex.
    pub vendor_ids: Vec<String>,
    /// Other payload types seen, in message order.
    pub other_payloads: Vec<PayloadType>,
    /// The CERTREQ payloads: which CAs the responder trusts for certificate authentication.
    pub cert_requests: Vec<CertRequest>,
}

/// Certificate Encoding 4, "X.509 Certificate - Signature" (RFC 7296 §3.6): the only one whose
/// Certification Authority field this decoder splits into hashes.
pub const CERT_ENCODING_X509_SIGNATURE: u8 = 4;

/// Length of one CA hash in a CERTREQ of encoding 4: a SHA-1 digest.
pub const CA_HASH_LEN: usize = 20;

/// Upper bound on CA hashes kept from one CERTREQ (a real gateway names a handful).
pub const MAX_CA_HASHES: usize = 64;

/// A CERTREQ payload (RFC 7296 §3.7). For encoding 4 the Certification Authority field is a
/// concatenation of SHA-1 hashes of the trusted CAs' SubjectPublicKeyInfo, 20 bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    /// The Certificate Encoding byte (4 for X.509 signature certificates).
    pub encoding: u8,
    /// For encoding 4: each CA's SHA-1(SubjectPublicKeyInfo), in payload order, at most
    /// [`MAX_CA_HASHES`].
    pub authorities: Vec<[u8; CA_HASH_LEN]>,
    /// Bytes of the Certification Authority field not read as hashes: a partial last hash,
    /// hashes past the bound, or the whole field of another encoding.
    pub unread: usize,
}

impl CertRequest {
    /// The CA hashes as lowercase hex, for evidence and comparison with a certificate store.
    pub fn authority_hex(&self) -> Vec<String> {
        self.authorities.iter().map(|h| hex(h)).collect()
    }
}

/// Decodes one CERTREQ payload's content (after the generic payload header).
///
/// # Errors
///
/// [`IkeError::Short`] when the content lacks even the encoding byte. A Certification Authority
/// field that does not divide into whole hashes is not an error (gateways pad and vary): the
/// remainder is counted in [`CertRequest::unread`].
pub fn decode_cert_request(content: &[u8]) -> Result<CertRequest, IkeError> {
    let mut r = Cursor::new(content);
    let encoding = r.u8("certreq payload")?;
    let field = r.rest();
    if encoding != CERT_ENCODING_X509_SIGNATURE {
        return Ok(CertRequest {
            encoding,
            authorities: Vec::new(),
            unread: field.len(),
        });
    }
    let mut authorities = Vec::new();
    let mut chunks = field.chunks_exact(CA_HASH_LEN);
    for chunk in chunks.by_ref().take(MAX_CA_HASHES) {
        let mut hash = [0u8; CA_HASH_LEN];
        hash.copy_from_slice(chunk);
        authorities.push(hash);
    }
    let unread = field.len() - authorities.len() * CA_HASH_LEN;
    Ok(CertRequest {
        encoding,
        authorities,
        unread,
    })
}

/// What a reply says about our request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The responder chose a proposal.
    Accepted { proposal: Proposal },
    /// The responder wants the KE payload in another group (RFC 7296 §1.3).
    InvalidKe { group: DhGroup },
    /// None of our proposals is acceptable to the responder.
    NoProposalChosen,
    /// The responder is under load and asks us to retry with a cookie (RFC 7296 §2.6).
    Cookie,
    /// Another error notify, by its code.
    OtherNotify(u16),
    /// A response with neither an SA payload nor an error notify.
    MissingSa,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted { proposal } => write!(f, "proposal accepted: {proposal}"),
            Self::InvalidKe { group } => write!(
                f,
                "responder wants the key exchange in dh group {group} ({})",
                group.code()
            ),
            Self::NoProposalChosen => f.write_str("no proposal chosen by the responder"),
            Self::Cookie => f.write_str("responder asks for a cookie"),
            Self::OtherNotify(code) => write!(
                f,
                "responder sent error notify {} ({code})",
                NotifyType::from_code(*code)
            ),
            Self::MissingSa => {
                f.write_str("response has neither an sa payload nor an error notify")
            }
        }
    }
}

impl IkeReply {
    /// Summarise the reply. Precedence: COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, any other
    /// error notify, then the chosen proposal.
    pub fn outcome(&self) -> Outcome {
        if self.notify(NotifyType::Cookie).is_some() {
            return Outcome::Cookie;
        }
        if let Some(group) = self.invalid_ke_group() {
            return Outcome::InvalidKe { group };
        }
        if self.notify(NotifyType::NoProposalChosen).is_some() {
            return Outcome::NoProposalChosen;
        }
        if let Some(error) = self.notifies.iter().find(|n| n.kind.is_error()) {
            return Outcome::OtherNotify(error.kind.code());
        }
        match &self.proposal {
            Some(proposal) => Outcome::Accepted {
                proposal: proposal.clone(),
            },
            None => Outcome::MissingSa,
        }
    }

    /// The first notify of `kind`.
    pub fn notify(&self, kind: NotifyType) -> Option<&Notify> {
        self.notifies.iter().find(|n| n.kind == kind)
    }

    /// The COOKIE notify's data, to echo in a retried request.
    pub fn cookie(&self) -> Option<&[u8]> {
        self.notify(NotifyType::Cookie).map(|n| n.data.as_slice())
    }

    /// The group an INVALID_KE_PAYLOAD notify asks for.
    pub fn invalid_ke_group(&self) -> Option<DhGroup> {
        let notify = self.notify(NotifyType::InvalidKePayload)?;
        let bytes: [u8; 2] = notify.data.as_slice().try_into().ok()?;
        Some(DhGroup::from_code(u16::from_be_bytes(bytes)))
    }

    /// The notify types in message order.
    pub fn notify_types(&self) -> Vec<NotifyType> {
        self.notifies.iter().map(|n| n.kind).collect()
    }
}

impl From<WireError> for IkeError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::Truncated {
                what,
                needed,
                available,
            } => IkeError::Short {
                what,
                need: needed,
                have: available,
            },
            WireError::OffsetOutOfRange { what, offset, len } => IkeError::Short {
                what,
                need: offset,
                have: len,
            },
        }
    }
}

/// Decode a reply to our `IKE_SA_INIT` request.
///
/// With `nat_t` the datagram must start with the four-byte non-ESP marker, which is stripped.
/// The header must echo `spi_i` ([`IkeError::NotOurs`] otherwise), carry the response flag,
/// version 2, exchange 34 and message ID 0, and its length must equal the message received.
/// Then at most [`MAX_PAYLOADS`] payloads are walked, each length checked against the bytes
/// left.
///
/// # Errors
///
/// Framing and header errors ([`IkeError::Truncated`], [`IkeError::NatKeepalive`],
/// [`IkeError::NonEspMarker`], [`IkeError::NotOurs`], [`IkeError::NotResponse`]) mean the
/// datagram is not a response to this request. Every other error means it is, but could not
/// be decoded; [`IkeError::is_from_responder`] tells the two apart.
pub fn decode_reply(datagram: &[u8], spi_i: [u8; 8], nat_t: bool) -> Result<IkeReply, IkeError> {
    let message = if nat_t {
        strip_marker(datagram)?
    } else {
        datagram
    };
    let header_bytes = message.get(..HEADER_LEN).ok_or(IkeError::Truncated {
        what: "ike header",
        need: HEADER_LEN,
        have: message.len(),
    })?;
    let mut header = Cursor::new(header_bytes);
    let found_spi_i: [u8; 8] = header.array("ike header")?;
    let spi_r: [u8; 8] = header.array("ike header")?;
    let first_payload = header.u8("ike header")?;
    let version = header.u8("ike header")?;
    let exchange = header.u8("ike header")?;
    let flags = header.u8("ike header")?;
    let message_id = header.u32_be("ike header")?;
    let declared = header.u32_be("ike header")?;

    // RFC 7296 §2.1: the response is matched to the request by the SPIs and message ID;
    // anything else is someone else's traffic.
    if found_spi_i != spi_i {
        return Err(IkeError::NotOurs {
            expected: spi_i,
            found: found_spi_i,
        });
    }
    if flags & FLAG_RESPONSE == 0 {
        return Err(IkeError::NotResponse { flags });
    }
    if version >> 4 != VERSION_2_0 >> 4 {
        return Err(IkeError::UnsupportedVersion { version });
    }
    if exchange != EXCHANGE_IKE_SA_INIT {
        return Err(IkeError::WrongExchange { exchange });
    }
    if message_id != 0 {
        return Err(IkeError::WrongMessageId { id: message_id });
    }
    let length_matches = usize::try_from(declared).is_ok_and(|d| d == message.len());
    if !length_matches {
        return Err(IkeError::LengthMismatch {
            declared,
            received: message.len(),
        });
    }
    let payloads = message.get(HEADER_LEN..).unwrap_or_default();

    let mut reply = IkeReply {
        spi_r,
        version,
        flags,
        proposal: None,
        ke: None,
        nonce_len: None,
        notifies: Vec::new(),
        vendor_ids: Vec::new(),
        other_payloads: Vec::new(),
        cert_requests: Vec::new(),
    };
    walk_payloads(first_payload, payloads, &mut reply)?;
    Ok(reply)
}

fn strip_marker(datagram: &[u8]) -> Result<&[u8], IkeError> {
    if datagram == [NAT_KEEPALIVE] {
        return Err(IkeError::NatKeepalive);
    }
    let (marker, rest) = datagram
        .split_first_chunk::<4>()
        .ok_or(IkeError::Truncated {
            what: "non-esp marker",
            need: NON_ESP_MARKER.len(),
            have: datagram.len(),
        })?;
    if *marker != NON_ESP_MARKER {
        return Err(IkeError::NonEspMarker { found: *marker });
    }
    Ok(rest)
}

fn walk_payloads(first: u8, bytes: &[u8], reply: &mut IkeReply) -> Result<(), IkeError> {
    let mut chain = Cursor::new(bytes);
    let mut next = first;
    let mut count = 0usize;
    while next != 0 {
        if count == MAX_PAYLOADS {
            return Err(IkeError::TooManyPayloads { max: MAX_PAYLOADS });
        }
        count += 1;
        let payload = PayloadType::from_code(next);
        let following = chain.u8("payload header")?;
        let _critical_and_reserved = chain.u8("payload header")?;
        let length = chain.u16_be("payload header")?;
        let content_len = usize::from(length).checked_sub(GENERIC_HEADER_LEN).ok_or(
            IkeError::PayloadTooShort {
                payload,
                length,
                min: GENERIC_HEADER_LEN,
            },
        )?;
        if content_len > chain.remaining() {
            return Err(IkeError::PayloadOverrun {
                payload,
                length,
                remaining: chain.remaining().saturating_add(GENERIC_HEADER_LEN),
            });
        }
        let content = chain.take(content_len, "payload header")?;
        read_payload(payload, content, reply)?;
        // The Next Payload field of SK/SKF names the first payload inside the ciphertext
        // (RFC 7296 §3.14), so the clear chain ends here.
        if matches!(
            payload,
            PayloadType::Encrypted | PayloadType::EncryptedFragment
        ) {
            return Ok(());
        }
        next = following;
    }
    if chain.is_empty() {
        Ok(())
    } else {
        Err(IkeError::TrailingData {
            count: chain.remaining(),
        })
    }
}

fn read_payload(
    payload: PayloadType,
    content: &[u8],
    reply: &mut IkeReply,
) -> Result<(), IkeError> {
    match payload {
        PayloadType::Sa => {
            if reply.proposal.is_some() {
                return Err(IkeError::DuplicatePayload { payload });
            }
            let mut proposals = read_sa(content)?;
            if proposals.len() != 1 {
                return Err(IkeError::ProposalCount {
                    count: proposals.len(),
                });
            }
            reply.proposal = proposals.pop();
        }
        PayloadType::Ke => {
            if reply.ke.is_some() {
                return Err(IkeError::DuplicatePayload { payload });
            }
            let mut r = Cursor::new(content);
            let group = DhGroup::from_code(r.u16_be("ke payload")?);
            let _reserved = r.u16_be("ke payload")?;
            reply.ke = Some(KeyExchange {
                group,
                len: r.rest().len(),
            });
        }
        PayloadType::Nonce => {
            if reply.nonce_len.is_some() {
                return Err(IkeError::DuplicatePayload { payload });
            }
            reply.nonce_len = Some(content.len());
        }
        PayloadType::Notify => reply.notifies.push(read_notify(content)?),
        PayloadType::VendorId => reply.vendor_ids.push(hex(content)),
        PayloadType::CertReq => {
            reply.other_payloads.push(payload);
            // A CERTREQ too short to name its encoding says nothing; the rest of the reply
            // still counts.
            if let Ok(request) = decode_cert_request(content) {
                if reply.cert_requests.len() < MAX_PAYLOADS {
                    reply.cert_requests.push(request);
                }
            }
        }
        other => reply.other_payloads.push(other),
    }
    Ok(())
}

fn read_notify(content: &[u8]) -> Result<Notify, IkeError> {
    let mut r = Cursor::new(content);
    let protocol = r.u8("notify payload")?;
    let spi_size = r.u8("notify payload")?;
    let kind = NotifyType::from_code(r.u16_be("notify payload")?);
    let spi = r.take(usize::from(spi_size), "notify payload")?.to_vec();
    let data = r.rest().to_vec();
    // RFC 7296 §3.10.1: INVALID_KE_PAYLOAD carries the accepted group as two octets.
    if kind == NotifyType::InvalidKePayload && data.len() != 2 {
        return Err(IkeError::BadNotifyData {
            notify: kind,
            length: data.len(),
            expected: 2,
        });
    }
    Ok(Notify {
        kind,
        protocol,
        spi,
        data,
    })
}

/// Read the proposals of an SA payload, checking each "Last Substruc" marker against the data
/// that follows it.
fn read_sa(content: &[u8]) -> Result<Vec<Proposal>, IkeError> {
    let mut r = Cursor::new(content);
    let mut proposals = Vec::new();
    let mut more_expected = false;
    while !r.is_empty() {
        if !proposals.is_empty() && !more_expected {
            return Err(IkeError::Malformed {
                what: "sa payload",
                reason: "data follows the proposal marked last",
            });
        }
        let last = r.u8("sa payload")?;
        let _reserved = r.u8("sa payload")?;
        let length = usize::from(r.u16_be("sa payload")?);
        let body_len = length
            .checked_sub(4)
            .filter(|_| length >= PROPOSAL_HEADER_LEN)
            .ok_or(IkeError::Malformed {
                what: "proposal",
                reason: "proposal length is below 8",
            })?;
        let body = r.take(body_len, "sa payload")?;
        proposals.push(read_proposal(body)?);
        more_expected = match last {
            LAST => false,
            MORE_PROPOSALS => true,
            _ => {
                return Err(IkeError::Malformed {
                    what: "proposal",
                    reason: "last substruc must be 0 or 2",
                })
            }
        };
    }
    if more_expected {
        return Err(IkeError::Malformed {
            what: "sa payload",
            reason: "a proposal is marked as followed by another, but none follows",
        });
    }
    Ok(proposals)
}

fn read_proposal(body: &[u8]) -> Result<Proposal, IkeError> {
    let mut r = Cursor::new(body);
    let number = r.u8("proposal")?;
    let protocol = r.u8("proposal")?;
    let spi_size = r.u8("proposal")?;
    let declared = r.u8("proposal")?;
    let spi = r.take(usize::from(spi_size), "proposal")?.to_vec();
    let mut transforms = Vec::new();
    let mut more_expected = false;
    while !r.is_empty() {
        if !transforms.is_empty() && !more_expected {
            return Err(IkeError::Malformed {
                what: "proposal",
                reason: "data follows the transform marked last",
            });
        }
        let last = r.u8("proposal")?;
        let _reserved = r.u8("proposal")?;
        let length = usize::from(r.u16_be("proposal")?);
        let body_len = length
            .checked_sub(4)
            .filter(|_| length >= TRANSFORM_HEADER_LEN)
            .ok_or(IkeError::Malformed {
                what: "transform",
                reason: "transform length is below 8",
            })?;
        let transform = r.take(body_len, "proposal")?;
        transforms.push(read_transform(transform)?);
        more_expected = match last {
            LAST => false,
            MORE_TRANSFORMS => true,
            _ => {
                return Err(IkeError::Malformed {
                    what: "transform",
                    reason: "last substruc must be 0 or 3",
                })
            }
        };
    }
    if more_expected {
        return Err(IkeError::Malformed {
            what: "proposal",
            reason: "a transform is marked as followed by another, but none follows",
        });
    }
    if transforms.len() != usize::from(declared) {
        return Err(IkeError::TransformCount {
            declared,
            found: transforms.len(),
        });
    }
    Ok(Proposal {
        number,
        protocol,
        spi,
        transforms,
    })
}

fn read_transform(body: &[u8]) -> Result<Transform, IkeError> {
    let mut r = Cursor::new(body);
    let kind = r.u8("transform")?;
    let _reserved = r.u8("transform")?;
    let id = r.u16_be("transform")?;
    let mut attrs = Cursor::new(r.rest());
    let mut key_bits = None;
    while !attrs.is_empty() {
        let attr = attrs.u16_be("transform attribute")?;
        if attr & ATTR_FORMAT_TV != 0 {
            let value = attrs.u16_be("transform attribute")?;
            if attr & !ATTR_FORMAT_TV == ATTR_KEY_LENGTH {
                key_bits = Some(value);
            }
        } else {
            let len = attrs.u16_be("transform attribute")?;
            attrs.take(usize::from(len), "transform attribute")?;
        }
    }
    Ok(match kind {
        T_ENCR => Transform::Encr {
            id: EncrId::from_code(id),
            key_bits,
        },
        T_PRF => Transform::Prf(PrfId::from_code(id)),
        T_INTEG => Transform::Integ(IntegId::from_code(id)),
        T_DH => Transform::Dh(DhGroup::from_code(id)),
        T_ESN => Transform::Esn(id),
        other => Transform::Other { kind: other, id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPI_I: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    const SPI_R: [u8; 8] = [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8];

    fn be16(bytes: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([bytes[at], bytes[at + 1]])
    }

    fn be32(bytes: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }

    /// Walk a payload chain by hand: (type, offset of the generic header, payload length).
    fn chain(message: &[u8]) -> Vec<(u8, usize, usize)> {
        let mut out = Vec::new();
        let mut next = message[16];
        let mut at = HEADER_LEN;
        while next != 0 {
            let len = usize::from(be16(message, at + 2));
            out.push((next, at, len));
            next = message[at];
            at += len;
        }
        assert_eq!(at, message.len(), "chain must end at the message end");
        out
    }

    fn request(group: u16, nat_t: bool) -> Vec<u8> {
        let ke = vec![0xee; ke_len(group).unwrap()];
        encode_sa_init(SPI_I, &[0x5a; 32], &ke, group, nat_t)
    }

    fn response_header() -> Header {
        Header {
            spi_i: SPI_I,
            spi_r: SPI_R,
            version: VERSION_2_0,
            exchange: EXCHANGE_IKE_SA_INIT,
            flags: FLAG_RESPONSE,
            message_id: 0,
        }
    }

    fn notify(kind: u16, data: &[u8]) -> (u8, Vec<u8>) {
        (41, notify_body(NotifyType::from_code(kind), data))
    }

    fn accepted_payloads() -> Vec<(u8, Vec<u8>)> {
        let chosen = proposal_bytes(
            1,
            true,
            &[
                (T_ENCR, 12, Some(256)),
                (T_PRF, 5, None),
                (T_INTEG, 12, None),
                (T_DH, 19, None),
            ],
        );
        vec![
            (33, chosen),
            (34, ke_body(19, &[0x42; 64])),
            (40, vec![0x99; 32]),
            notify(16388, &[1; 20]),
            notify(16389, &[2; 20]),
            (38, vec![4; 20]),
            notify(16430, &[]),
            notify(16431, &[0, 2, 0, 3, 0, 4]),
            notify(16404, &[]),
            (43, vec![0x88, 0x2f, 0xe5, 0x6d]),
        ]
    }

    fn reply(payloads: &[(u8, Vec<u8>)]) -> Vec<u8> {
        write_message(&response_header(), payloads, false)
    }

    fn accepted() -> Vec<u8> {
        reply(&accepted_payloads())
    }

    fn invalid_ke() -> Vec<u8> {
        reply(&[notify(17, &14u16.to_be_bytes())])
    }

    fn no_proposal() -> Vec<u8> {
        reply(&[notify(14, &[])])
    }

    fn cookie() -> Vec<u8> {
        reply(&[notify(16390, &[0xc0; 16])])
    }

    fn invalid_syntax() -> Vec<u8> {
        reply(&[notify(7, &[])])
    }

    fn all_replies() -> Vec<Vec<u8>> {
        vec![
            accepted(),
            invalid_ke(),
            no_proposal(),
            cookie(),
            invalid_syntax(),
        ]
    }

    /// Overwrite the generic header length of the payload that starts at `at`.
    fn set_payload_len(message: &mut [u8], at: usize, len: u16) {
        message[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    // ---- encoding -------------------------------------------------------------------------

    #[test]
    fn encode_header_fields() {
        let msg = request(19, false);
        assert_eq!(&msg[0..8], &SPI_I);
        assert_eq!(&msg[8..16], &[0; 8], "spi_r is zero");
        assert_eq!(msg[16], 33, "first payload is sa");
        assert_eq!(msg[17], 0x20, "version 2.0");
        assert_eq!(msg[18], 34, "ike_sa_init");
        assert_eq!(msg[19], 0x08, "initiator flag");
        assert_eq!(be32(&msg, 20), 0, "message id");
        assert_eq!(be32(&msg, 24) as usize, msg.len());
    }

    #[test]
    fn encode_payload_chain_and_lengths() {
        let msg = request(19, false);
        let payloads = chain(&msg);
        let kinds: Vec<u8> = payloads.iter().map(|p| p.0).collect();
        assert_eq!(kinds, [33, 34, 40, 41, 41]);
        // SA: 4 + proposal 1 (8 + 2*12 + 5*8 = 72) + proposal 2 (8 + 2*12 + 3*8 = 56).
        assert_eq!(payloads[0], (33, 28, 132));
        assert_eq!(payloads[1], (34, 160, 4 + 4 + 64));
        assert_eq!(payloads[2], (40, 232, 4 + 32));
        assert_eq!(payloads[3], (41, 268, 4 + 4 + 20));
        assert_eq!(payloads[4], (41, 296, 4 + 4 + 20));
        assert_eq!(msg.len(), 324);
        for &(_, at, _) in &payloads {
            assert_eq!(msg[at + 1], 0, "critical bit and reserved are clear");
        }
    }

    #[test]
    fn encode_sa_proposals() {
        let msg = request(14, false);
        // Proposal 1 header.
        assert_eq!(&msg[32..40], &[2, 0, 0, 72, 1, 1, 0, 7]);
        // First transform: ENCR AES_CBC with key length 256 (TV attribute 0x800e).
        assert_eq!(
            &msg[40..52],
            &[3, 0, 0, 12, 1, 0, 0, 12, 0x80, 0x0e, 0x01, 0x00]
        );
        // Last transform of proposal 1: DH group 14, marked last.
        assert_eq!(&msg[96..104], &[0, 0, 0, 8, 4, 0, 0, 14]);
        // Proposal 2 header: last, number 2, 5 transforms.
        assert_eq!(&msg[104..112], &[0, 0, 0, 56, 2, 1, 0, 5]);
        assert_eq!(
            &msg[112..124],
            &[3, 0, 0, 12, 1, 0, 0, 20, 0x80, 0x0e, 0x01, 0x00]
        );
        assert_eq!(&msg[152..160], &[0, 0, 0, 8, 4, 0, 0, 14]);
        // The SA decodes with this file's own reader into the two proposals.
        let proposals = read_sa(&msg[32..160]).unwrap();
        assert_eq!(proposals.len(), 2);
        assert_eq!(
            proposals[0].to_string(),
            "AES_CBC_256/AES_CBC_128/PRF_HMAC_SHA2_256/PRF_HMAC_SHA1/HMAC_SHA2_256_128/HMAC_SHA1_96/MODP_2048"
        );
        assert_eq!(
            proposals[1].to_string(),
            "AES_GCM_16_256/AES_GCM_16_128/PRF_HMAC_SHA2_256/PRF_HMAC_SHA2_384/MODP_2048"
        );
    }

    #[test]
    fn encode_ke_payload_matches_group() {
        for (group, len) in [(19u16, 64usize), (14, 256)] {
            let msg = request(group, false);
            let (_, at, plen) = chain(&msg)[1];
            assert_eq!(plen, 8 + len);
            assert_eq!(be16(&msg, at + 4), group);
            assert_eq!(be16(&msg, at + 6), 0, "reserved");
            assert!(msg[at + 8..at + plen].iter().all(|&b| b == 0xee));
        }
    }

    #[test]
    fn encode_nonce_and_nat_notifies() {
        let msg = request(19, false);
        let payloads = chain(&msg);
        let (_, at, len) = payloads[2];
        assert_eq!(&msg[at + 4..at + len], &[0x5a; 32]);
        for (index, kind) in [(3, 16388u16), (4, 16389)] {
            let (_, at, _) = payloads[index];
            assert_eq!(&msg[at + 4..at + 8], &[0, 0, (kind >> 8) as u8, kind as u8]);
            assert_eq!(&msg[at + 8..at + 28], &[0; 20]);
        }
    }

    #[test]
    fn encode_caller_nat_hashes() {
        let request = SaInitRequest {
            spi_i: SPI_I,
            nonce: &[1; 16],
            ke_public: &[2; 32],
            dh_group: 31,
            nat_t: false,
            nat_source_hash: [0xaa; 20],
            nat_destination_hash: [0xbb; 20],
        };
        assert_eq!(request.validate(), Ok(()));
        let msg = request.encode();
        let payloads = chain(&msg);
        assert_eq!(&msg[payloads[3].1 + 8..payloads[3].1 + 28], &[0xaa; 20]);
        assert_eq!(&msg[payloads[4].1 + 8..payloads[4].1 + 28], &[0xbb; 20]);
    }

    #[test]
    fn encode_nat_t_prepends_marker() {
        let plain = request(19, false);
        let marked = request(19, true);
        assert_eq!(&marked[..4], &NON_ESP_MARKER);
        assert_eq!(&marked[4..], plain.as_slice());
        assert_eq!(
            be32(&marked, 4 + 24) as usize,
            plain.len(),
            "marker not counted"
        );
    }

    #[test]
    fn ke_len_table() {
        assert_eq!(ke_len(19), Some(64));
        assert_eq!(ke_len(14), Some(256));
        assert_eq!(ke_len(2), Some(128));
        assert_eq!(ke_len(20), Some(96));
        assert_eq!(ke_len(21), Some(132));
        assert_eq!(ke_len(31), Some(32));
        assert_eq!(ke_len(32), Some(56));
        assert_eq!(ke_len(0), None);
        assert_eq!(ke_len(999), None);
    }

    #[test]
    fn validate_rejects_bad_inputs() {
        let good = SaInitRequest {
            spi_i: SPI_I,
            nonce: &[1; 32],
            ke_public: &[2; 64],
            dh_group: 19,
            nat_t: false,
            nat_source_hash: [0; 20],
            nat_destination_hash: [0; 20],
        };
        assert_eq!(good.validate(), Ok(()));
        let zero = SaInitRequest {
            spi_i: [0; 8],
            ..good.clone()
        };
        assert_eq!(zero.validate(), Err(IkeError::ZeroSpi));
        let short_nonce = SaInitRequest {
            nonce: &[1; 15],
            ..good.clone()
        };
        assert_eq!(
            short_nonce.validate(),
            Err(IkeError::NonceLength { length: 15 })
        );
        let long_nonce = [1; 257];
        let long_nonce = SaInitRequest {
            nonce: &long_nonce,
            ..good.clone()
        };
        assert_eq!(
            long_nonce.validate(),
            Err(IkeError::NonceLength { length: 257 })
        );
        let wrong_ke = SaInitRequest {
            ke_public: &[2; 256],
            ..good.clone()
        };
        assert_eq!(
            wrong_ke.validate(),
            Err(IkeError::KeLength {
                group: DhGroup::Ecp256,
                expected: 64,
                got: 256
            })
        );
        let unknown = SaInitRequest {
            dh_group: 4000,
            ..good
        };
        assert_eq!(
            unknown.validate(),
            Err(IkeError::UnsupportedGroup {
                group: DhGroup::Unknown(4000)
            })
        );
    }

    #[test]
    fn encode_oversized_ke_saturates_without_panic() {
        let huge = vec![0u8; 70_000];
        let msg = encode_sa_init(SPI_I, &[0; 32], &huge, 19, false);
        // The KE payload starts at 160, after the 28-byte header and the 132-byte SA.
        assert_eq!(msg[160 - 132], 34, "sa names ke next");
        assert_eq!(be16(&msg, 162), u16::MAX);
    }

    // ---- decoding: outcomes -----------------------------------------------------------------

    #[test]
    fn decode_accepted() {
        let reply = decode_reply(&accepted(), SPI_I, false).unwrap();
        assert_eq!(reply.spi_r, SPI_R);
        assert_eq!(reply.version, 0x20);
        assert_eq!(reply.flags, 0x20);
        let proposal = reply.proposal.clone().unwrap();
        assert_eq!(proposal.number, 1);
        assert_eq!(proposal.protocol, 1);
        assert_eq!(proposal.encr(), Some((EncrId::AesCbc, Some(256))));
        assert_eq!(proposal.prf(), Some(PrfId::HmacSha2_256));
        assert_eq!(proposal.integ(), Some(IntegId::HmacSha2_256_128));
        assert_eq!(proposal.dh(), Some(DhGroup::Ecp256));
        assert_eq!(
            reply.ke,
            Some(KeyExchange {
                group: DhGroup::Ecp256,
                len: 64
            })
        );
        assert_eq!(reply.nonce_len, Some(32));
        assert_eq!(
            reply.notify_types(),
            [
                NotifyType::NatDetectionSourceIp,
                NotifyType::NatDetectionDestinationIp,
                NotifyType::FragmentationSupported,
                NotifyType::SignatureHashAlgorithms,
                NotifyType::MultipleAuthSupported,
            ]
        );
        assert_eq!(
            reply.notify(NotifyType::NatDetectionSourceIp).unwrap().data,
            [1; 20]
        );
        assert_eq!(reply.vendor_ids, ["882fe56d"]);
        assert_eq!(reply.other_payloads, [PayloadType::CertReq]);
        // The fixture's CERTREQ is encoding 4 with 19 bytes: no whole hash.
        assert_eq!(
            reply.cert_requests,
            [CertRequest {
                encoding: 4,
                authorities: vec![],
                unread: 19
            }]
        );
        let outcome = reply.outcome();
        assert_eq!(outcome, Outcome::Accepted { proposal });
        assert_eq!(
            outcome.to_string(),
            "proposal accepted: AES_CBC_256/PRF_HMAC_SHA2_256/HMAC_SHA2_256_128/ECP_256"
        );
    }

    #[test]
    fn decode_accepted_over_nat_t() {
        let mut datagram = NON_ESP_MARKER.to_vec();
        datagram.extend_from_slice(&accepted());
        let reply = decode_reply(&datagram, SPI_I, true).unwrap();
        assert!(matches!(reply.outcome(), Outcome::Accepted { .. }));
    }

    #[test]
    fn decode_invalid_ke() {
        let reply = decode_reply(&invalid_ke(), SPI_I, false).unwrap();
        assert_eq!(reply.invalid_ke_group(), Some(DhGroup::Modp2048));
        assert_eq!(
            reply.outcome(),
            Outcome::InvalidKe {
                group: DhGroup::Modp2048
            }
        );
        assert_eq!(
            reply.outcome().to_string(),
            "responder wants the key exchange in dh group MODP_2048 (14)"
        );
    }

    #[test]
    fn decode_no_proposal_chosen() {
        let reply = decode_reply(&no_proposal(), SPI_I, false).unwrap();
        assert_eq!(reply.outcome(), Outcome::NoProposalChosen);
        assert_eq!(reply.spi_r, SPI_R);
    }

    #[test]
    fn decode_cookie() {
        let reply = decode_reply(&cookie(), SPI_I, false).unwrap();
        assert_eq!(reply.outcome(), Outcome::Cookie);
        assert_eq!(reply.cookie(), Some(&[0xc0; 16][..]));
    }

    #[test]
    fn decode_other_error_notify() {
        let reply = decode_reply(&invalid_syntax(), SPI_I, false).unwrap();
        assert_eq!(reply.outcome(), Outcome::OtherNotify(7));
        assert_eq!(
            reply.outcome().to_string(),
            "responder sent error notify INVALID_SYNTAX (7)"
        );
        let unknown = reply_with(&[notify(9999, &[])]);
        assert_eq!(unknown.outcome(), Outcome::OtherNotify(9999));
        assert_eq!(
            unknown.outcome().to_string(),
            "responder sent error notify NOTIFY(9999) (9999)"
        );
    }

    fn reply_with(payloads: &[(u8, Vec<u8>)]) -> IkeReply {
        decode_reply(&reply(payloads), SPI_I, false).unwrap()
    }

    #[test]
    fn decode_missing_sa() {
        let status_only = reply_with(&[notify(16388, &[0; 20])]);
        assert_eq!(status_only.outcome(), Outcome::MissingSa);
        let empty = reply_with(&[]);
        assert_eq!(empty.outcome(), Outcome::MissingSa);
    }

    #[test]
    fn outcome_precedence() {
        let mut payloads = accepted_payloads();
        payloads.push(notify(16390, &[1; 8]));
        assert_eq!(reply_with(&payloads).outcome(), Outcome::Cookie);
        let both = reply_with(&[notify(14, &[]), notify(17, &19u16.to_be_bytes())]);
        assert_eq!(
            both.outcome(),
            Outcome::InvalidKe {
                group: DhGroup::Ecp256
            }
        );
        let error_and_sa = {
            let mut payloads = accepted_payloads();
            payloads.push(notify(7, &[]));
            reply_with(&payloads)
        };
        assert_eq!(error_and_sa.outcome(), Outcome::OtherNotify(7));
    }

    #[test]
    fn decode_unknown_codes_are_values() {
        let chosen = proposal_bytes(
            1,
            true,
            &[
                (T_ENCR, 1234, Some(192)),
                (T_PRF, 99, None),
                (T_INTEG, 77, None),
                (T_DH, 4000, None),
                (T_ESN, 0, None),
                (9, 5, None),
            ],
        );
        let reply = reply_with(&[(33, chosen), (99, vec![1, 2, 3]), notify(40000, &[9])]);
        let proposal = reply.proposal.clone().unwrap();
        assert_eq!(
            proposal.transforms,
            [
                Transform::Encr {
                    id: EncrId::Unknown(1234),
                    key_bits: Some(192)
                },
                Transform::Prf(PrfId::Unknown(99)),
                Transform::Integ(IntegId::Unknown(77)),
                Transform::Dh(DhGroup::Unknown(4000)),
                Transform::Esn(0),
                Transform::Other { kind: 9, id: 5 },
            ]
        );
        assert_eq!(
            proposal.to_string(),
            "ENCR(1234)_192/PRF(99)/INTEG(77)/DH(4000)/NO_EXT_SEQ/TRANSFORM(9:5)"
        );
        assert_eq!(reply.other_payloads, [PayloadType::Unknown(99)]);
        assert_eq!(reply.notifies[0].kind, NotifyType::Unknown(40000));
        assert!(!reply.notifies[0].kind.is_error());
        assert_eq!(PayloadType::Unknown(99).to_string(), "PAYLOAD(99)");
    }

    #[test]
    fn code_tables_round_trip() {
        for code in 0..=u16::from(u8::MAX) {
            assert_eq!(NotifyType::from_code(code).code(), code);
            assert_eq!(EncrId::from_code(code).code(), code);
            assert_eq!(PrfId::from_code(code).code(), code);
            assert_eq!(IntegId::from_code(code).code(), code);
            assert_eq!(DhGroup::from_code(code).code(), code);
        }
        for code in 16384..=16500u16 {
            assert_eq!(NotifyType::from_code(code).code(), code);
        }
        for code in 0..=u8::MAX {
            assert_eq!(PayloadType::from_code(code).code(), code);
        }
        assert_eq!(NotifyType::from_code(16390), NotifyType::Cookie);
        assert_eq!(
            NotifyType::from_code(16431),
            NotifyType::SignatureHashAlgorithms
        );
        assert_eq!(DhGroup::from_code(19).to_string(), "ECP_256");
    }

    #[test]
    fn decode_attribute_tlv_skipped_and_transform_attrs() {
        // A TLV attribute (format bit clear) is skipped by its own length.
        let mut transform = vec![0, 0, 0, 0, T_ENCR, 0, 0, 12];
        transform.extend_from_slice(&[0x00, 0x05, 0x00, 0x02, 0xab, 0xcd]);
        transform.extend_from_slice(&[0x80, 0x0e, 0x00, 0x80]);
        let len = transform.len() as u16;
        transform[2..4].copy_from_slice(&len.to_be_bytes());
        let mut proposal = vec![0, 0, 0, 0, 1, 1, 0, 1];
        proposal.extend_from_slice(&transform);
        let plen = proposal.len() as u16;
        proposal[2..4].copy_from_slice(&plen.to_be_bytes());
        let reply = reply_with(&[(33, proposal)]);
        assert_eq!(
            reply.proposal.unwrap().encr(),
            Some((EncrId::AesCbc, Some(128)))
        );
    }

    #[test]
    fn decode_sk_payload_ends_clear_chain() {
        // SK's next payload names the first inner payload; the walk must not follow it.
        let mut msg = reply(&[notify(14, &[]), (46, vec![0; 40])]);
        let sk_at = chain(&msg)[1].1;
        msg[sk_at] = 35; // IDi, inside the ciphertext
        let reply = decode_reply(&msg, SPI_I, false).unwrap();
        assert_eq!(reply.other_payloads, [PayloadType::Encrypted]);
        assert_eq!(reply.outcome(), Outcome::NoProposalChosen);
    }

    // ---- decoding: robustness ---------------------------------------------------------------

    #[test]
    fn every_truncation_errors() {
        for full in all_replies() {
            for len in 0..full.len() {
                let result = decode_reply(&full[..len], SPI_I, false);
                assert!(result.is_err(), "prefix {len} of {} decoded", full.len());
            }
            let mut marked = NON_ESP_MARKER.to_vec();
            marked.extend_from_slice(&full);
            for len in 0..marked.len() {
                assert!(decode_reply(&marked[..len], SPI_I, true).is_err());
            }
        }
    }

    #[test]
    fn truncation_errors_are_typed() {
        let full = accepted();
        assert_eq!(
            decode_reply(&full[..10], SPI_I, false),
            Err(IkeError::Truncated {
                what: "ike header",
                need: 28,
                have: 10
            })
        );
        let err = decode_reply(&full[..100], SPI_I, false).unwrap_err();
        assert_eq!(
            err,
            IkeError::LengthMismatch {
                declared: full.len() as u32,
                received: 100
            }
        );
        assert!(err.is_from_responder());
        assert_eq!(
            decode_reply(&[0, 0], SPI_I, true),
            Err(IkeError::Truncated {
                what: "non-esp marker",
                need: 4,
                have: 2
            })
        );
    }

    #[test]
    fn payload_length_zero() {
        for bad in [0u16, 3] {
            let mut msg = no_proposal();
            set_payload_len(&mut msg, HEADER_LEN, bad);
            assert_eq!(
                decode_reply(&msg, SPI_I, false),
                Err(IkeError::PayloadTooShort {
                    payload: PayloadType::Notify,
                    length: bad,
                    min: 4
                })
            );
        }
    }

    #[test]
    fn payload_length_beyond_message() {
        let mut msg = no_proposal();
        let real = be16(&msg, HEADER_LEN + 2);
        set_payload_len(&mut msg, HEADER_LEN, real + 1);
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::PayloadOverrun {
                payload: PayloadType::Notify,
                length: real + 1,
                remaining: usize::from(real)
            })
        );
        set_payload_len(&mut msg, HEADER_LEN, u16::MAX);
        assert!(matches!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::PayloadOverrun { .. })
        ));
    }

    #[test]
    fn payload_header_cut_short() {
        // The chain names a next payload, but only 2 bytes remain for its header.
        let mut msg = no_proposal();
        msg[HEADER_LEN] = 43;
        msg.extend_from_slice(&[0, 0]);
        let total = msg.len() as u32;
        msg[24..28].copy_from_slice(&total.to_be_bytes());
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::Short {
                what: "payload header",
                need: 2,
                have: 0
            })
        );
    }

    #[test]
    fn too_many_payloads() {
        let vendor = (43u8, vec![1u8, 2, 3, 4]);
        let at_limit = vec![vendor.clone(); MAX_PAYLOADS];
        assert_eq!(reply_with(&at_limit).vendor_ids.len(), MAX_PAYLOADS);
        let over = vec![vendor; MAX_PAYLOADS + 1];
        assert_eq!(
            decode_reply(&reply(&over), SPI_I, false),
            Err(IkeError::TooManyPayloads { max: MAX_PAYLOADS })
        );
    }

    #[test]
    fn self_referencing_empty_payloads_stop_at_limit() {
        // Many 4-byte payloads each naming another: bounded by MAX_PAYLOADS, not by bytes.
        let payloads = vec![(43u8, Vec::new()); 200];
        let err = decode_reply(&reply(&payloads), SPI_I, false).unwrap_err();
        assert_eq!(err, IkeError::TooManyPayloads { max: MAX_PAYLOADS });
        assert!(err.is_from_responder());
    }

    #[test]
    fn wrong_spi_is_not_ours() {
        let other = [9; 8];
        let err = decode_reply(&accepted(), other, false).unwrap_err();
        assert_eq!(
            err,
            IkeError::NotOurs {
                expected: other,
                found: SPI_I
            }
        );
        assert!(!err.is_from_responder());
        assert_eq!(
            err.to_string(),
            "reply is not for our request: its initiator spi 1122334455667788 is not ours (0909090909090909)"
        );
    }

    #[test]
    fn request_is_not_a_response() {
        let err = decode_reply(&request(19, false), SPI_I, false).unwrap_err();
        assert_eq!(err, IkeError::NotResponse { flags: 0x08 });
        assert!(!err.is_from_responder());
    }

    #[test]
    fn header_checks() {
        let mut msg = no_proposal();
        msg[18] = 37;
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::WrongExchange { exchange: 37 })
        );
        let mut msg = no_proposal();
        msg[17] = 0x10;
        let err = decode_reply(&msg, SPI_I, false).unwrap_err();
        assert_eq!(err, IkeError::UnsupportedVersion { version: 0x10 });
        assert_eq!(err.to_string(), "unsupported ike version 1.0, expected 2.x");
        let mut msg = no_proposal();
        msg[17] = 0x21; // minor version changes are accepted
        assert!(decode_reply(&msg, SPI_I, false).is_ok());
        let mut msg = no_proposal();
        msg[20..24].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::WrongMessageId { id: 1 })
        );
    }

    #[test]
    fn header_length_must_match() {
        let mut msg = no_proposal();
        let real = msg.len();
        msg[24..28].copy_from_slice(&20u32.to_be_bytes());
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::LengthMismatch {
                declared: 20,
                received: real
            })
        );
        let mut msg = no_proposal();
        msg.push(0);
        assert!(matches!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn trailing_data_after_chain() {
        let mut msg = no_proposal();
        // Grow the message by 3 bytes that no payload covers.
        msg.extend_from_slice(&[1, 2, 3]);
        let total = msg.len() as u32;
        msg[24..28].copy_from_slice(&total.to_be_bytes());
        assert_eq!(
            decode_reply(&msg, SPI_I, false),
            Err(IkeError::TrailingData { count: 3 })
        );
    }

    #[test]
    fn nat_t_marker_missing_or_nonzero() {
        let plain = accepted();
        // Marker missing: the first four bytes are the SPI, not zeros.
        assert_eq!(
            decode_reply(&plain, SPI_I, true),
            Err(IkeError::NonEspMarker {
                found: [0x11, 0x22, 0x33, 0x44]
            })
        );
        let mut nonzero = vec![0, 0, 0, 1];
        nonzero.extend_from_slice(&plain);
        let err = decode_reply(&nonzero, SPI_I, true).unwrap_err();
        assert_eq!(
            err,
            IkeError::NonEspMarker {
                found: [0, 0, 0, 1]
            }
        );
        assert!(err.to_string().contains("(hint:"));
        // Marker present but decoded as port 500: the SPI is shifted, so not ours.
        let mut marked = NON_ESP_MARKER.to_vec();
        marked.extend_from_slice(&plain);
        assert!(matches!(
            decode_reply(&marked, SPI_I, false),
            Err(IkeError::NotOurs { .. })
        ));
        assert_eq!(
            decode_reply(&[0xff], SPI_I, true),
            Err(IkeError::NatKeepalive)
        );
    }

    #[test]
    fn sa_structure_errors() {
        let one = || proposal_bytes(1, true, &[(T_ENCR, 12, Some(256)), (T_DH, 19, None)]);
        // Two proposals in a response.
        let mut two = proposal_bytes(1, false, &[(T_DH, 19, None)]);
        two.extend_from_slice(&one());
        assert_eq!(
            decode_reply(&reply(&[(33, two)]), SPI_I, false),
            Err(IkeError::ProposalCount { count: 2 })
        );
        // Empty SA payload.
        assert_eq!(
            decode_reply(&reply(&[(33, Vec::new())]), SPI_I, false),
            Err(IkeError::ProposalCount { count: 0 })
        );
        // Declared transform count disagrees.
        let mut miscount = one();
        miscount[7] = 3;
        assert_eq!(
            decode_reply(&reply(&[(33, miscount)]), SPI_I, false),
            Err(IkeError::TransformCount {
                declared: 3,
                found: 2
            })
        );
        // Proposal says more follow, but none does.
        let mut dangling = one();
        dangling[0] = MORE_PROPOSALS;
        assert!(matches!(
            decode_reply(&reply(&[(33, dangling)]), SPI_I, false),
            Err(IkeError::Malformed {
                what: "sa payload",
                ..
            })
        ));
        // Bad last-substruc value.
        let mut bad_last = one();
        bad_last[0] = 7;
        assert!(matches!(
            decode_reply(&reply(&[(33, bad_last)]), SPI_I, false),
            Err(IkeError::Malformed {
                what: "proposal",
                ..
            })
        ));
        // Proposal length below its header, and beyond the payload.
        for bad in [0u16, 7, 200] {
            let mut p = one();
            p[2..4].copy_from_slice(&bad.to_be_bytes());
            let err = decode_reply(&reply(&[(33, p)]), SPI_I, false).unwrap_err();
            assert!(
                matches!(
                    err,
                    IkeError::Malformed {
                        what: "proposal",
                        ..
                    } | IkeError::Short {
                        what: "sa payload",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.is_from_responder());
        }
        // Transform length below 8 and beyond the proposal.
        for bad in [0u16, 4, 7, 300] {
            let mut p = one();
            p[10..12].copy_from_slice(&bad.to_be_bytes());
            let err = decode_reply(&reply(&[(33, p)]), SPI_I, false).unwrap_err();
            assert!(
                matches!(
                    err,
                    IkeError::Malformed {
                        what: "transform",
                        ..
                    } | IkeError::Short {
                        what: "proposal",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        // SPI size beyond the proposal.
        let mut spi = one();
        spi[6] = 200;
        assert!(matches!(
            decode_reply(&reply(&[(33, spi)]), SPI_I, false),
            Err(IkeError::Short {
                what: "proposal",
                ..
            })
        ));
        // Duplicate SA payload.
        assert_eq!(
            decode_reply(&reply(&[(33, one()), (33, one())]), SPI_I, false),
            Err(IkeError::DuplicatePayload {
                payload: PayloadType::Sa
            })
        );
    }

    #[test]
    fn attribute_overrun() {
        let mut transform = vec![0, 0, 0, 12, T_ENCR, 0, 0, 12];
        transform.extend_from_slice(&[0x00, 0x05, 0x00, 0x10]); // TLV claiming 16 bytes
        let mut proposal = vec![0, 0, 0, 20, 1, 1, 0, 1];
        proposal.extend_from_slice(&transform);
        assert_eq!(
            decode_reply(&reply(&[(33, proposal)]), SPI_I, false),
            Err(IkeError::Short {
                what: "transform attribute",
                need: 16,
                have: 0
            })
        );
    }

    #[test]
    fn notify_and_ke_errors() {
        assert_eq!(
            decode_reply(&reply(&[notify(17, &[0, 19, 0])]), SPI_I, false),
            Err(IkeError::BadNotifyData {
                notify: NotifyType::InvalidKePayload,
                length: 3,
                expected: 2
            })
        );
        assert_eq!(
            decode_reply(&reply(&[(41, vec![0, 0, 0])]), SPI_I, false),
            Err(IkeError::Short {
                what: "notify payload",
                need: 2,
                have: 1
            })
        );
        // SPI size larger than the notify.
        assert!(matches!(
            decode_reply(&reply(&[(41, vec![1, 9, 0, 14])]), SPI_I, false),
            Err(IkeError::Short {
                what: "notify payload",
                ..
            })
        ));
        assert!(matches!(
            decode_reply(&reply(&[(34, vec![0, 19])]), SPI_I, false),
            Err(IkeError::Short {
                what: "ke payload",
                ..
            })
        ));
        // Notify with an SPI is kept.
        let with_spi = reply_with(&[(41, vec![3, 4, 0, 14, 1, 2, 3, 4])]);
        assert_eq!(with_spi.notifies[0].protocol, 3);
        assert_eq!(with_spi.notifies[0].spi, [1, 2, 3, 4]);
        assert_eq!(with_spi.outcome(), Outcome::NoProposalChosen);
    }

    #[test]
    fn error_messages_are_lowercase_without_period() {
        let samples = [
            IkeError::Truncated {
                what: "ike header",
                need: 28,
                have: 3,
            },
            IkeError::NatKeepalive,
            IkeError::NotResponse { flags: 8 },
            IkeError::WrongExchange { exchange: 35 },
            IkeError::TooManyPayloads { max: 32 },
            IkeError::TrailingData { count: 1 },
            IkeError::ProposalCount { count: 2 },
            IkeError::ZeroSpi,
            IkeError::NonceLength { length: 1 },
            IkeError::LengthMismatch {
                declared: 1,
                received: 2,
            },
        ];
        for err in samples {
            let text = err.to_string();
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
        assert_eq!(
            IkeError::PayloadTooShort {
                payload: PayloadType::Notify,
                length: 0,
                min: 4
            }
            .to_string(),
            "payload NOTIFY has length 0, below the minimum of 4"
        );
    }

    /// Deterministic xorshift so the mutation test needs no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn mutated_replies_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let seeds = all_replies();
        for round in 0..20_000 {
            let mut msg = seeds[round % seeds.len()].clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(msg.len());
                msg[at] = rng.next() as u8;
            }
            if rng.below(4) == 0 {
                let cut = rng.below(msg.len() + 1);
                msg.truncate(cut);
            }
            // Keep the header mostly valid so the payload walk is exercised.
            if msg.len() >= HEADER_LEN && rng.below(2) == 0 {
                msg[..8].copy_from_slice(&SPI_I);
                msg[19] = FLAG_RESPONSE;
                let total = msg.len() as u32;
                msg[24..28].copy_from_slice(&total.to_be_bytes());
            }
            let _ = decode_reply(&msg, SPI_I, false);
            let _ = decode_reply(&msg, SPI_I, true);
        }
        for len in 0..200 {
            let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = decode_reply(&noise, SPI_I, false);
        }
    }

    #[test]
    fn certreq_names_cas_by_sha1_of_their_public_key() {
        // Two CA hashes as strongSwan sends them, plus a stray byte.
        let mut content = vec![CERT_ENCODING_X509_SIGNATURE];
        content.extend([0xAB; 20]);
        content.extend([0x01; 20]);
        content.push(0xFF);
        let request = decode_cert_request(&content).unwrap();
        assert_eq!(request.encoding, 4);
        assert_eq!(request.authorities, [[0xAB; 20], [0x01; 20]]);
        assert_eq!(request.unread, 1);
        assert_eq!(
            request.authority_hex()[1],
            "0101010101010101010101010101010101010101"
        );
    }

    #[test]
    fn certreq_edge_cases_are_values_not_panics() {
        // Empty: no encoding byte at all.
        assert!(decode_cert_request(&[]).is_err());
        // Encoding 4 with an empty CA field: the responder wants a certificate from any CA.
        assert_eq!(
            decode_cert_request(&[4]).unwrap(),
            CertRequest {
                encoding: 4,
                authorities: vec![],
                unread: 0
            }
        );
        // Another encoding (12, hash and URL): kept as unread bytes.
        let other = decode_cert_request(&[12, 1, 2, 3]).unwrap();
        assert_eq!(
            (other.encoding, other.authorities.len(), other.unread),
            (12, 0, 3)
        );
        // More hashes than the bound: the rest is counted, not kept.
        let mut many = vec![4];
        many.extend(std::iter::repeat_n(7u8, CA_HASH_LEN * (MAX_CA_HASHES + 2)));
        let many = decode_cert_request(&many).unwrap();
        assert_eq!(many.authorities.len(), MAX_CA_HASHES);
        assert_eq!(many.unread, 2 * CA_HASH_LEN);
    }
}
