//! Whether a DACL lets an account create computer objects, decided as Windows' access check
//! does for ADS_RIGHT_DS_CREATE_CHILD of class computer (MS-DTYP 2.5.3.2, MS-ADTS 5.1.3.3.3):
//! ACEs in DACL order, the first that matches the account and names the right decides (so an
//! explicit deny placed before an allow wins), generic rights mapped to directory rights, object
//! ACEs only for the computer class or for every class, INHERIT_ONLY ACEs not applied to the
//! object itself. Pure: the DACL and the account's SIDs in, the decision out.

use crate::wire::security_descriptor::{Acl, Guid};
use crate::wire::sid::Sid;
use serde::{Deserialize, Serialize};

/// schemaIDGUID of the computer class: the object type of "Create Computer objects".
pub const COMPUTER_CLASS: &str = "bf967a86-0de6-11d0-a285-00aa003049e2";
pub const ADS_RIGHT_DS_CREATE_CHILD: u32 = 0x1;
/// GENERIC_ALL maps to every directory right; GENERIC_READ, _WRITE and _EXECUTE map to
/// rights without CREATE_CHILD (MS-ADTS 5.1.3.3.3: RC|LC|RP|LO, RC|SW|WP, RC|LC).
const GENERIC_ALL: u32 = 0x1000_0000;

/// One SID of the account's token, and how the account holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenSid {
    pub sid: crate::wire::sid::Sid,
    /// "the account itself", "member of CN=…", "well-known: Everyone".
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decision {
    pub granted: bool,
    /// The ACE that decided, in SDDL, and its position in the DACL (0-based); None when no
    /// ACE named the right (nothing grants it) or the object has no DACL.
    pub ace: Option<String>,
    pub ace_index: Option<usize>,
    /// Whether that ACE was inherited from a parent container.
    pub inherited: bool,
    /// The token SID the ACE matched, and how the account holds it.
    pub matched: Option<TokenSid>,
    /// The object has no DACL at all, which grants everyone everything.
    pub null_dacl: bool,
}

/// The effective directory rights of an ACE mask.
fn mapped(mask: u32) -> u32 {
    if mask & GENERIC_ALL != 0 {
        mask | 0x000F_01FF
    } else {
        mask
    }
}

/// Decides ADS_RIGHT_DS_CREATE_CHILD for the computer class on the object `dacl` protects.
pub fn may_create_computer(dacl: Option<&Acl>, token: &[TokenSid]) -> Decision {
    let Some(dacl) = dacl else {
        return Decision {
            granted: true,
            ace: None,
            ace_index: None,
            inherited: false,
            matched: None,
            null_dacl: true,
        };
    };
    let computer = Guid::parse(COMPUTER_CLASS);
    for (index, ace) in dacl.aces.iter().enumerate() {
        if ace.inherit_only() || !(ace.ace_type.is_allow() || ace.ace_type.is_deny()) {
            continue;
        }
        if mapped(ace.mask) & ADS_RIGHT_DS_CREATE_CHILD == 0 {
            continue;
        }
        if ace.object_type.is_some() && ace.object_type != computer {
            continue;
        }
        let Some(matched) = ace
            .sid
            .as_ref()
            .and_then(|sid| token.iter().find(|t| &t.sid == sid))
        else {
            continue;
        };
        return Decision {
            granted: ace.ace_type.is_allow(),
            ace: Some(ace.sddl()),
            ace_index: Some(index),
            inherited: ace.inherited(),
            matched: Some(matched.clone()),
            null_dacl: false,
        };
    }
    Decision {
        granted: false,
        ace: None,
        ace_index: None,
        inherited: false,
        matched: None,
        null_dacl: false,
    }
}

/// The token SIDs every authenticated account has, whatever its groups.
pub fn well_known(account: &Sid, computer_class: bool) -> Vec<TokenSid> {
    let mut sids = vec![
        TokenSid {
            sid: account.clone(),
            via: "the account itself".to_string(),
        },
        TokenSid {
            sid: Sid::parse(crate::wire::sid::EVERYONE).unwrap_or_else(|_| account.clone()),
            via: "well-known: Everyone".to_string(),
        },
        TokenSid {
            sid: Sid::parse(crate::wire::sid::AUTHENTICATED_USERS)
                .unwrap_or_else(|_| account.clone()),
            via: "well-known: Authenticated Users".to_string(),
        },
    ];
    if computer_class {
        if let Some(domain) = account.domain() {
            sids.push(TokenSid {
                sid: domain.with_rid(crate::wire::sid::DOMAIN_COMPUTERS_RID),
                via: "well-known: Domain Computers (its primary group)".to_string(),
            });
        }
    }
    sids
}

#[cfg(test)]
mod tests;
