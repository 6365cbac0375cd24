//! Security identifiers (MS-DTYP 2.4.2): the binary form AD returns in `objectSid`,
//! `tokenGroups` and ACEs, and the `S-1-5-21-…` string form people read.

use super::cursor::{Cursor, WireError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// MS-DTYP 2.4.2.2: at most 15 sub-authorities.
pub const MAX_SUB_AUTHORITIES: usize = 15;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    pub revision: u8,
    /// The 48-bit identifier authority (big-endian on the wire).
    pub authority: u64,
    pub sub_authorities: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("a SID has {0} sub-authorities, more than the 15 MS-DTYP allows")]
    TooManySubAuthorities(u8),
    #[error("`{0}` is not a SID: write it as S-1-5-21-…")]
    BadText(String),
}

impl Sid {
    /// Reads one SID at the cursor.
    pub fn read(cursor: &mut Cursor<'_>) -> Result<Sid, SidError> {
        let revision = cursor.u8("SID revision")?;
        let count = cursor.u8("SID sub-authority count")?;
        if usize::from(count) > MAX_SUB_AUTHORITIES {
            return Err(SidError::TooManySubAuthorities(count));
        }
        let authority = cursor
            .take(6, "SID identifier authority")?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let mut sub_authorities = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            sub_authorities.push(cursor.u32_le("SID sub-authority")?);
        }
        Ok(Sid {
            revision,
            authority,
            sub_authorities,
        })
    }

    /// A SID that is the whole of `bytes` (an `objectSid` or `tokenGroups` value).
    pub fn from_bytes(bytes: &[u8]) -> Result<Sid, SidError> {
        let mut cursor = Cursor::new(bytes);
        Sid::read(&mut cursor)
    }

    /// The binary form, for LDAP filters on `objectSid` and `mS-DS-CreatorSID`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.revision, self.sub_authorities.len() as u8];
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        out
    }

    /// Parses `S-1-5-21-…`.
    pub fn parse(text: &str) -> Result<Sid, SidError> {
        let bad = || SidError::BadText(text.to_string());
        let mut parts = text.trim().split('-');
        if !parts.next().is_some_and(|s| s.eq_ignore_ascii_case("S")) {
            return Err(bad());
        }
        let revision = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let authority: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if authority >= 1 << 48 {
            return Err(bad());
        }
        let sub_authorities = parts
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(bad());
        }
        Ok(Sid {
            revision,
            authority,
            sub_authorities,
        })
    }

    /// The SID of relative identifier `rid` in this (domain) SID.
    pub fn with_rid(&self, rid: u32) -> Sid {
        let mut sid = self.clone();
        sid.sub_authorities.push(rid);
        sid
    }

    /// The domain part of an account SID (everything but the last sub-authority).
    pub fn domain(&self) -> Option<Sid> {
        let (_, domain) = self.sub_authorities.split_last()?;
        Some(Sid {
            revision: self.revision,
            authority: self.authority,
            sub_authorities: domain.to_vec(),
        })
    }

    /// The name of a well-known SID that means the same in every domain, if it is one.
    pub fn well_known_name(&self) -> Option<&'static str> {
        let text = self.to_string();
        Some(match text.as_str() {
            EVERYONE => "Everyone",
            AUTHENTICATED_USERS => "Authenticated Users",
            "S-1-5-15" => "This Organization",
            "S-1-5-18" => "Local System",
            "S-1-5-10" => "Principal Self",
            "S-1-3-0" => "Creator Owner",
            "S-1-5-9" => "Enterprise Domain Controllers",
            "S-1-5-32-544" => "Administrators",
            "S-1-5-32-548" => "Account Operators",
            "S-1-5-32-554" => "Pre-Windows 2000 Compatible Access",
            _ => {
                return match self.sub_authorities.last() {
                    Some(512) if self.is_domain_relative() => Some("Domain Admins"),
                    Some(513) if self.is_domain_relative() => Some("Domain Users"),
                    Some(515) if self.is_domain_relative() => Some("Domain Computers"),
                    Some(519) if self.is_domain_relative() => Some("Enterprise Admins"),
                    _ => None,
                }
            }
        })
    }

    /// S-1-5-21-a-b-c-RID: an account or group of a domain.
    fn is_domain_relative(&self) -> bool {
        self.authority == 5
            && self.sub_authorities.len() == 5
            && self.sub_authorities.first() == Some(&21)
    }

    /// The SDDL alias of a domain-independent SID (MS-DTYP 2.5.1.1), else the S- form.
    pub fn sddl(&self) -> String {
        let text = self.to_string();
        let alias = match text.as_str() {
            EVERYONE => "WD",
            AUTHENTICATED_USERS => "AU",
            "S-1-5-18" => "SY",
            "S-1-5-10" => "PS",
            "S-1-3-0" => "CO",
            "S-1-5-9" => "ED",
            "S-1-5-32-544" => "BA",
            "S-1-5-32-548" => "AO",
            "S-1-5-32-554" => "RU",
            _ => return text,
        };
        alias.to_string()
    }
}

pub const EVERYONE: &str = "S-1-1-0";
pub const AUTHENTICATED_USERS: &str = "S-1-5-11";
/// The RID of Domain Computers, the primary group of computer and managed service accounts.
pub const DOMAIN_COMPUTERS_RID: u32 = 515;

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-{}", self.revision, self.authority)?;
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sid::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Sid {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sid".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "description": "a SID, S-1-5-21-…"})
    }
}

/// The escaped form of binary bytes in an LDAP filter (RFC 4515): `\01\05…`.
pub fn filter_escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_text_forms_round_trip() {
        let bytes = [
            1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08,
            0x99, 0xaa, 0xbb, 0x0c, 0x50, 0x04, 0, 0,
        ];
        let sid = Sid::from_bytes(&bytes).unwrap();
        assert_eq!(
            sid.to_string(),
            "S-1-5-21-1144201745-142042709-213625497-1104"
        );
        assert_eq!(sid.to_bytes(), bytes);
        assert_eq!(Sid::parse(&sid.to_string()).unwrap(), sid);
        assert_eq!(
            sid.domain().unwrap().with_rid(515).well_known_name(),
            Some("Domain Computers")
        );
    }

    #[test]
    fn bad_sids_are_errors_not_panics() {
        assert!(matches!(
            Sid::from_bytes(&[1, 16, 0, 0, 0, 0, 0, 5]),
            Err(SidError::TooManySubAuthorities(16))
        ));
        assert!(matches!(
            Sid::from_bytes(&[1, 2, 0, 0, 0, 0, 0, 5, 1]),
            Err(SidError::Wire(_))
        ));
        for text in ["", "S-1", "X-1-5", "S-1-5-x", "S-1-281474976710656"] {
            assert!(Sid::parse(text).is_err(), "{text}");
        }
        assert_eq!(Sid::parse("S-1-1-0").unwrap().sddl(), "WD");
        assert_eq!(
            Sid::parse("S-1-5-11").unwrap().well_known_name(),
            Some("Authenticated Users")
        );
    }

    #[test]
    fn filter_escape_writes_every_byte() {
        assert_eq!(filter_escape(&[1, 0xab]), "\\01\\ab");
    }
}
