//! Self-relative security descriptors (MS-DTYP 2.4.6), as AD returns `nTSecurityDescriptor`:
//! header, owner and group SIDs, and the DACL's ACEs (MS-DTYP 2.4.4), with SDDL rendering of an
//! ACE (MS-DTYP 2.5.1) for findings. Unknown ACE types are kept as values; every offset and
//! size from the input is checked before use.

use super::cursor::{Cursor, WireError};
use super::sid::{Sid, SidError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// SE_DACL_PRESENT (MS-DTYP 2.4.6): without it there is no DACL, which grants everything.
pub const SE_DACL_PRESENT: u16 = 0x0004;
pub const SE_SELF_RELATIVE: u16 = 0x8000;

/// ACE flags (MS-DTYP 2.4.4.1).
pub const OBJECT_INHERIT_ACE: u8 = 0x01;
pub const CONTAINER_INHERIT_ACE: u8 = 0x02;
pub const NO_PROPAGATE_INHERIT_ACE: u8 = 0x04;
pub const INHERIT_ONLY_ACE: u8 = 0x08;
pub const INHERITED_ACE: u8 = 0x10;

/// ACCESS_ALLOWED_OBJECT_ACE Flags (MS-DTYP 2.4.4.3).
const ACE_OBJECT_TYPE_PRESENT: u32 = 0x1;
const ACE_INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// A DACL holds at most 64 KiB (AclSize is a u16), so at most 16384 four-byte ACE headers.
const MAX_ACES: usize = 65536 / 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdError {
    #[error("security descriptor: {0}")]
    Wire(#[from] WireError),
    #[error("security descriptor: {0}")]
    Sid(#[from] SidError),
    #[error("security descriptor revision {0} is not 1")]
    Revision(u8),
    #[error(
        "security descriptor control {0:#06x} lacks SE_SELF_RELATIVE: not the form AD returns"
    )]
    NotSelfRelative(u16),
    #[error("ACL size {size} is smaller than its 8-byte header")]
    AclSize { size: u16 },
    #[error("ACE {index} declares size {size}: an ACE needs at least {min} bytes")]
    AceSize { index: usize, size: u16, min: usize },
}

/// A GUID as AD stores it (MS-DTYP 2.3.4.2: the first three fields little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Parses the usual `bf967a86-0de6-11d0-a285-00aa003049e2` form.
    pub fn parse(text: &str) -> Option<Guid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || text.len() != 36 {
            return None;
        }
        let mut be = [0u8; 16];
        for (i, byte) in be.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let mut le = be;
        le[0..4].reverse();
        le[4..6].reverse();
        le[6..8].reverse();
        Some(Guid(le))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
        )
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Guid, D::Error> {
        let text = String::deserialize(deserializer)?;
        Guid::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a GUID")))
    }
}

/// The ACE types the access check reads; every other type is kept by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AceType {
    AccessAllowed,
    AccessDenied,
    AccessAllowedObject,
    AccessDeniedObject,
    Unknown(u8),
}

impl AceType {
    fn from_u8(value: u8) -> AceType {
        match value {
            0x00 => AceType::AccessAllowed,
            0x01 => AceType::AccessDenied,
            0x05 => AceType::AccessAllowedObject,
            0x06 => AceType::AccessDeniedObject,
            other => AceType::Unknown(other),
        }
    }

    pub fn is_allow(self) -> bool {
        matches!(self, AceType::AccessAllowed | AceType::AccessAllowedObject)
    }

    pub fn is_deny(self) -> bool {
        matches!(self, AceType::AccessDenied | AceType::AccessDeniedObject)
    }

    fn sddl(self) -> String {
        match self {
            AceType::AccessAllowed => "A".to_string(),
            AceType::AccessDenied => "D".to_string(),
            AceType::AccessAllowedObject => "OA".to_string(),
            AceType::AccessDeniedObject => "OD".to_string(),
            // Audit, alarm and callback ACEs by their SDDL names; the rest by number.
            AceType::Unknown(0x02) => "AU".to_string(),
            AceType::Unknown(0x07) => "OU".to_string(),
            AceType::Unknown(0x11) => "ML".to_string(),
            AceType::Unknown(other) => format!("{other:#04x}"),
        }
    }
}

/// One ACE. For an unknown type only the header and the raw body are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    pub ace_type: AceType,
    pub flags: u8,
    pub mask: u32,
    pub object_type: Option<Guid>,
    pub inherited_object_type: Option<Guid>,
    pub sid: Option<Sid>,
    /// The body after the 4-byte header, kept for unknown types only.
    pub body: Vec<u8>,
}

impl Ace {
    pub fn inherit_only(&self) -> bool {
        self.flags & INHERIT_ONLY_ACE != 0
    }

    pub fn inherited(&self) -> bool {
        self.flags & INHERITED_ACE != 0
    }

    /// The ACE in SDDL (MS-DTYP 2.5.1.1), e.g.
    /// `(OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-…-1104)`.
    pub fn sddl(&self) -> String {
        let guid = |g: &Option<Guid>| g.map(|g| g.to_string()).unwrap_or_default();
        let sid = self.sid.as_ref().map(Sid::sddl).unwrap_or_default();
        format!(
            "({};{};{};{};{};{})",
            self.ace_type.sddl(),
            flags_sddl(self.flags),
            rights_sddl(self.mask),
            guid(&self.object_type),
            guid(&self.inherited_object_type),
            sid
        )
    }
}

fn flags_sddl(flags: u8) -> String {
    const NAMES: [(u8, &str); 7] = [
        (OBJECT_INHERIT_ACE, "OI"),
        (CONTAINER_INHERIT_ACE, "CI"),
        (NO_PROPAGATE_INHERIT_ACE, "NP"),
        (INHERIT_ONLY_ACE, "IO"),
        (INHERITED_ACE, "ID"),
        (0x40, "SA"),
        (0x80, "FA"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// The access rights of a directory object by their SDDL names (MS-DTYP 2.5.1.1); a mask with
/// bits outside them is written in hex, which SDDL also accepts.
pub fn rights_sddl(mask: u32) -> String {
    const NAMES: [(u32, &str); 19] = [
        (0x1000_0000, "GA"),
        (0x8000_0000, "GR"),
        (0x4000_0000, "GW"),
        (0x2000_0000, "GX"),
        (0x0000_0001, "CC"),
        (0x0000_0002, "DC"),
        (0x0000_0004, "LC"),
        (0x0000_0008, "SW"),
        (0x0000_0010, "RP"),
        (0x0000_0020, "WP"),
        (0x0000_0040, "DT"),
        (0x0000_0080, "LO"),
        (0x0000_0100, "CR"),
        (0x0001_0000, "SD"),
        (0x0002_0000, "RC"),
        (0x0004_0000, "WD"),
        (0x0008_0000, "WO"),
        (0x0100_0000, "AS"),
        (0x0200_0000, "MA"),
    ];
    let known: u32 = NAMES.iter().map(|(bit, _)| bit).fold(0, |a, b| a | b);
    if mask & !known != 0 {
        return format!("{mask:#x}");
    }
    NAMES
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub revision: u8,
    pub aces: Vec<Ace>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityDescriptor {
    pub revision: u8,
    pub control: u16,
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    /// None when SE_DACL_PRESENT is clear or the DACL offset is 0 (not asked for).
    pub dacl: Option<Acl>,
}

impl SecurityDescriptor {
    /// Decodes a self-relative security descriptor. The SACL is not read: the access check
    /// never needs it, and ordinary accounts are not given it.
    pub fn decode(data: &[u8]) -> Result<SecurityDescriptor, SdError> {
        let mut cursor = Cursor::new(data);
        let revision = cursor.u8("revision")?;
        if revision != 1 {
            return Err(SdError::Revision(revision));
        }
        let _sbz1 = cursor.u8("Sbz1")?;
        let control = cursor.u16_le("control")?;
        if control & SE_SELF_RELATIVE == 0 {
            return Err(SdError::NotSelfRelative(control));
        }
        let owner_offset = cursor.u32_le("OffsetOwner")?;
        let group_offset = cursor.u32_le("OffsetGroup")?;
        let _sacl_offset = cursor.u32_le("OffsetSacl")?;
        let dacl_offset = cursor.u32_le("OffsetDacl")?;
        let sid_at = |offset: u32, what: &'static str| -> Result<Option<Sid>, SdError> {
            if offset == 0 {
                return Ok(None);
            }
            let mut at = Cursor::new(data);
            at.seek(offset as usize, what)?;
            Ok(Some(Sid::read(&mut at)?))
        };
        let owner = sid_at(owner_offset, "owner SID")?;
        let group = sid_at(group_offset, "group SID")?;
        let dacl = if control & SE_DACL_PRESENT != 0 && dacl_offset != 0 {
            Some(decode_acl(data, dacl_offset as usize)?)
        } else {
            None
        };
        Ok(SecurityDescriptor {
            revision,
            control,
            owner,
            group,
            dacl,
        })
    }
}

fn decode_acl(data: &[u8], offset: usize) -> Result<Acl, SdError> {
    let mut cursor = Cursor::new(data);
    cursor.seek(offset, "DACL")?;
    let revision = cursor.u8("ACL revision")?;
    let _sbz1 = cursor.u8("ACL Sbz1")?;
    let size = cursor.u16_le("AclSize")?;
    let count = cursor.u16_le("AceCount")?;
    let _sbz2 = cursor.u16_le("ACL Sbz2")?;
    if size < 8 {
        return Err(SdError::AclSize { size });
    }
    // The ACEs must lie within AclSize, and AclSize within the input.
    let mut cursor = Cursor::new(data);
    cursor.seek(offset, "DACL")?;
    let acl = cursor.take(usize::from(size), "ACL")?;
    let mut aces_cursor = Cursor::new(acl);
    aces_cursor.seek(8, "ACL body")?;
    let mut aces = Vec::new();
    for index in 0..usize::from(count).min(MAX_ACES) {
        let ace_type = AceType::from_u8(aces_cursor.u8("AceType")?);
        let flags = aces_cursor.u8("AceFlags")?;
        let ace_size = aces_cursor.u16_le("AceSize")?;
        if usize::from(ace_size) < 4 {
            return Err(SdError::AceSize {
                index,
                size: ace_size,
                min: 4,
            });
        }
        let body = aces_cursor.take(usize::from(ace_size) - 4, "ACE body")?;
        aces.push(decode_ace(ace_type, flags, body, index, ace_size)?);
    }
    Ok(Acl { revision, aces })
}

fn decode_ace(
    ace_type: AceType,
    flags: u8,
    body: &[u8],
    index: usize,
    size: u16,
) -> Result<Ace, SdError> {
    let mut ace = Ace {
        ace_type,
        flags,
        mask: 0,
        object_type: None,
        inherited_object_type: None,
        sid: None,
        body: Vec::new(),
    };
    let mut cursor = Cursor::new(body);
    let too_small = |min: usize| SdError::AceSize { index, size, min };
    match ace_type {
        AceType::AccessAllowed | AceType::AccessDenied => {
            ace.mask = cursor.u32_le("ACE mask").map_err(|_| too_small(8))?;
            ace.sid = Some(Sid::read(&mut cursor)?);
        }
        AceType::AccessAllowedObject | AceType::AccessDeniedObject => {
            ace.mask = cursor.u32_le("ACE mask").map_err(|_| too_small(12))?;
            let object_flags = cursor
                .u32_le("object ACE flags")
                .map_err(|_| too_small(12))?;
            if object_flags & ACE_OBJECT_TYPE_PRESENT != 0 {
                ace.object_type = Some(Guid(cursor.array("ObjectType")?));
            }
            if object_flags & ACE_INHERITED_OBJECT_TYPE_PRESENT != 0 {
                ace.inherited_object_type = Some(Guid(cursor.array("InheritedObjectType")?));
            }
            ace.sid = Some(Sid::read(&mut cursor)?);
        }
        AceType::Unknown(_) => ace.body = body.to_vec(),
    }
    Ok(ace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes an ACE the way Windows does, for hand-built descriptors.
    pub(crate) fn encode_ace(ace: &Ace) -> Vec<u8> {
        let mut body = Vec::new();
        let type_byte = match ace.ace_type {
            AceType::AccessAllowed => 0,
            AceType::AccessDenied => 1,
            AceType::AccessAllowedObject => 5,
            AceType::AccessDeniedObject => 6,
            AceType::Unknown(t) => t,
        };
        match ace.ace_type {
            AceType::Unknown(_) => body.extend_from_slice(&ace.body),
            AceType::AccessAllowed | AceType::AccessDenied => {
                body.extend_from_slice(&ace.mask.to_le_bytes());
                body.extend(ace.sid.as_ref().unwrap().to_bytes());
            }
            _ => {
                body.extend_from_slice(&ace.mask.to_le_bytes());
                let flags = u32::from(ace.object_type.is_some())
                    | (u32::from(ace.inherited_object_type.is_some()) << 1);
                body.extend_from_slice(&flags.to_le_bytes());
                for guid in [ace.object_type, ace.inherited_object_type]
                    .into_iter()
                    .flatten()
                {
                    body.extend_from_slice(&guid.0);
                }
                body.extend(ace.sid.as_ref().unwrap().to_bytes());
            }
        }
        let mut out = vec![type_byte, ace.flags];
        out.extend_from_slice(&((body.len() + 4) as u16).to_le_bytes());
        out.extend(body);
        out
    }

    pub(crate) fn encode_dacl_only(aces: &[Ace]) -> Vec<u8> {
        let body: Vec<u8> = aces.iter().flat_map(encode_ace).collect();
        let mut out = vec![1, 0];
        out.extend_from_slice(&(SE_SELF_RELATIVE | SE_DACL_PRESENT).to_le_bytes());
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&20u32.to_le_bytes());
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&((body.len() + 8) as u16).to_le_bytes());
        out.extend_from_slice(&(aces.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend(body);
        out
    }

    fn sid(text: &str) -> Sid {
        Sid::parse(text).unwrap()
    }

    const COMPUTER: &str = "bf967a86-0de6-11d0-a285-00aa003049e2";

    #[test]
    fn guids_print_as_ad_shows_them() {
        let guid = Guid::parse(COMPUTER).unwrap();
        assert_eq!(guid.0[0], 0x86, "the first field is little-endian");
        assert_eq!(guid.to_string(), COMPUTER);
        assert_eq!(Guid::parse("bf967a86-0de6-11d0-a285-00aa003049e"), None);
    }

    #[test]
    fn hand_built_descriptor_decodes_to_its_aces_and_sddl() {
        let aces = vec![
            Ace {
                ace_type: AceType::AccessAllowedObject,
                flags: 0,
                mask: 1,
                object_type: Guid::parse(COMPUTER),
                inherited_object_type: None,
                sid: Some(sid("S-1-5-21-1-2-3-1104")),
                body: vec![],
            },
            Ace {
                ace_type: AceType::AccessDenied,
                flags: CONTAINER_INHERIT_ACE | INHERIT_ONLY_ACE | INHERITED_ACE,
                mask: 0x10000000,
                object_type: None,
                inherited_object_type: None,
                sid: Some(sid("S-1-1-0")),
                body: vec![],
            },
            Ace {
                ace_type: AceType::Unknown(0x11),
                flags: 0,
                mask: 0,
                object_type: None,
                inherited_object_type: None,
                sid: None,
                body: vec![1, 2, 3, 4],
            },
        ];
        let sd = SecurityDescriptor::decode(&encode_dacl_only(&aces)).unwrap();
        assert_eq!(sd.owner, None);
        let dacl = sd.dacl.unwrap();
        assert_eq!(dacl.aces, aces);
        assert_eq!(
            dacl.aces[0].sddl(),
            format!("(OA;;CC;{COMPUTER};;S-1-5-21-1-2-3-1104)")
        );
        assert_eq!(dacl.aces[1].sddl(), "(D;CIIOID;GA;;;WD)");
        assert!(dacl.aces[1].inherit_only() && dacl.aces[1].inherited());
        assert_eq!(dacl.aces[2].ace_type, AceType::Unknown(0x11));
    }

    #[test]
    fn rights_with_unnamed_bits_are_written_in_hex() {
        assert_eq!(rights_sddl(0xF01FF), "CCDCLCSWRPWPDTLOCRSDRCWDWO");
        assert_eq!(rights_sddl(0x0400_0000), "0x4000000");
    }

    #[test]
    fn broken_descriptors_are_errors_not_panics() {
        let good = encode_dacl_only(&[Ace {
            ace_type: AceType::AccessAllowed,
            flags: 0,
            mask: 1,
            object_type: None,
            inherited_object_type: None,
            sid: Some(sid("S-1-5-11")),
            body: vec![],
        }]);
        // Every truncation fails cleanly.
        for len in 0..good.len() {
            assert!(SecurityDescriptor::decode(&good[..len]).is_err(), "{len}");
        }
        let mut bad = good.clone();
        bad[16] = 0xff; // the DACL offset beyond the input
        assert!(matches!(
            SecurityDescriptor::decode(&bad),
            Err(SdError::Wire(_))
        ));
        let mut bad = good.clone();
        bad[22] = 0xff; // the ACL larger than the input
        bad[23] = 0xff;
        assert!(SecurityDescriptor::decode(&bad).is_err());
        let mut bad = good.clone();
        bad[30] = 2; // an ACE smaller than its header
        bad[31] = 0;
        assert!(matches!(
            SecurityDescriptor::decode(&bad),
            Err(SdError::AceSize { .. })
        ));
        let mut bad = good;
        bad[2] = 0x04; // not self-relative
        bad[3] = 0;
        assert!(matches!(
            SecurityDescriptor::decode(&bad),
            Err(SdError::NotSelfRelative(_))
        ));
    }
}
