//! The access decision from tables: one DACL shape per row, the account's SIDs, the expected
//! decision and the ACE that makes it.

use super::*;
use crate::wire::security_descriptor::{
    Ace, AceType, CONTAINER_INHERIT_ACE, INHERITED_ACE, INHERIT_ONLY_ACE,
};

const MSA: &str = "S-1-5-21-1-2-3-1105";
const INNER: &str = "S-1-5-21-1-2-3-1201";
const OUTER: &str = "S-1-5-21-1-2-3-1202";
const OTHER: &str = "S-1-5-21-1-2-3-1300";
/// The user class: an ACE for another class than computer.
const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";

fn ace(kind: AceType, flags: u8, mask: u32, object: Option<&str>, sid: &str) -> Ace {
    Ace {
        ace_type: kind,
        flags,
        mask,
        object_type: object.and_then(Guid::parse),
        inherited_object_type: None,
        sid: Some(Sid::parse(sid).unwrap()),
        body: vec![],
    }
}

fn token() -> Vec<TokenSid> {
    let account = Sid::parse(MSA).unwrap();
    let mut token = well_known(&account, true);
    for (sid, via) in [
        (INNER, "member of CN=inner"),
        (OUTER, "member of CN=outer through CN=inner"),
    ] {
        token.push(TokenSid {
            sid: Sid::parse(sid).unwrap(),
            via: via.to_string(),
        });
    }
    token
}

use AceType::AccessDeniedObject as OD;
use AceType::{AccessAllowed as A, AccessAllowedObject as OA, AccessDenied as D};

/// (name, DACL, granted, index of the deciding ACE, the token SID it matched)
type Row = (
    &'static str,
    Vec<Ace>,
    bool,
    Option<usize>,
    Option<&'static str>,
);

#[test]
fn create_computer_decisions_follow_windows_order_and_scope() {
    let computer = Some(COMPUTER_CLASS);
    // (name, DACL, granted, index of the deciding ACE, the token SID it matched)
    let table: Vec<Row> = vec![
        ("empty DACL", vec![], false, None, None),
        (
            "object ACE for computer",
            vec![ace(OA, 0, 1, computer, MSA)],
            true,
            Some(0),
            Some(MSA),
        ),
        (
            "generic create-child (no object type)",
            vec![ace(A, 0, 1, None, MSA)],
            true,
            Some(0),
            Some(MSA),
        ),
        (
            "GENERIC_ALL",
            vec![ace(A, 0, 0x1000_0000, None, MSA)],
            true,
            Some(0),
            Some(MSA),
        ),
        (
            "GENERIC_WRITE does not include create-child",
            vec![ace(A, 0, 0x4000_0000, None, MSA)],
            false,
            None,
            None,
        ),
        (
            "deny before allow",
            vec![ace(OD, 0, 1, computer, MSA), ace(OA, 0, 1, computer, MSA)],
            false,
            Some(0),
            Some(MSA),
        ),
        (
            "allow before deny (non-canonical order: the first decides)",
            vec![ace(A, 0, 1, None, MSA), ace(D, 0, 1, None, MSA)],
            true,
            Some(0),
            Some(MSA),
        ),
        (
            "grant through a nested group",
            vec![ace(OA, 0, 1, computer, OUTER)],
            true,
            Some(0),
            Some(OUTER),
        ),
        (
            "inherit-only ACE",
            vec![ace(
                OA,
                CONTAINER_INHERIT_ACE | INHERIT_ONLY_ACE,
                1,
                computer,
                MSA,
            )],
            false,
            None,
            None,
        ),
        (
            "inherited ACE applies",
            vec![ace(OA, INHERITED_ACE, 1, computer, MSA)],
            true,
            Some(0),
            Some(MSA),
        ),
        (
            "ACE for a different class",
            vec![ace(OA, 0, 1, Some(USER_CLASS), MSA)],
            false,
            None,
            None,
        ),
        (
            "deny for another class does not block",
            vec![
                ace(OD, 0, 1, Some(USER_CLASS), MSA),
                ace(OA, 0, 1, computer, MSA),
            ],
            true,
            Some(1),
            Some(MSA),
        ),
        (
            "ACE for someone else",
            vec![ace(OA, 0, 1, computer, OTHER)],
            false,
            None,
            None,
        ),
        (
            "read rights only",
            vec![ace(A, 0, 0x0002_0094, None, MSA)],
            false,
            None,
            None,
        ),
        (
            "Authenticated Users",
            vec![ace(OA, 0, 1, computer, "S-1-5-11")],
            true,
            Some(0),
            Some("S-1-5-11"),
        ),
        (
            "Domain Computers",
            vec![ace(OA, 0, 1, computer, "S-1-5-21-1-2-3-515")],
            true,
            Some(0),
            Some("S-1-5-21-1-2-3-515"),
        ),
        (
            "deny to Everyone first",
            vec![ace(D, 0, 1, None, "S-1-1-0"), ace(OA, 0, 1, computer, MSA)],
            false,
            Some(0),
            Some("S-1-1-0"),
        ),
        (
            "unknown ACE types are passed over",
            vec![
                Ace {
                    ace_type: AceType::Unknown(0x11),
                    flags: 0,
                    mask: 1,
                    object_type: None,
                    inherited_object_type: None,
                    sid: None,
                    body: vec![0; 4],
                },
                ace(OA, 0, 1, computer, MSA),
            ],
            true,
            Some(1),
            Some(MSA),
        ),
    ];
    let token = token();
    for (name, aces, granted, index, matched) in table {
        let acl = Acl { revision: 4, aces };
        let decision = may_create_computer(Some(&acl), &token);
        assert_eq!(decision.granted, granted, "{name}");
        assert_eq!(decision.ace_index, index, "{name}");
        assert_eq!(
            decision.matched.map(|m| m.sid.to_string()),
            matched.map(str::to_string),
            "{name}"
        );
        if let Some(index) = index {
            assert_eq!(decision.ace, Some(acl.aces[index].sddl()), "{name}");
        }
    }
}

#[test]
fn no_dacl_grants_everything_and_says_so() {
    let decision = may_create_computer(None, &token());
    assert!(decision.granted && decision.null_dacl && decision.ace.is_none());
}

#[test]
fn the_deciding_ace_is_named_in_sddl() {
    let acl = Acl {
        revision: 4,
        aces: vec![ace(OA, 0, 1, Some(COMPUTER_CLASS), OUTER)],
    };
    let decision = may_create_computer(Some(&acl), &token());
    assert_eq!(
        decision.ace.as_deref(),
        Some("(OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1202)")
    );
    assert_eq!(
        decision.matched.unwrap().via,
        "member of CN=outer through CN=inner"
    );
}

/// The captured descriptors of fixtures/security_descriptors (see its README) and what Samba
/// decided for jr-probe, who holds the same grants as the MSA.
#[test]
fn descriptors_captured_from_samba_decide_as_samba_did() {
    let domain = "S-1-5-21-446377768-2960125579-1773015817";
    let msa = Sid::parse(&format!("{domain}-1109")).unwrap();
    let mut token = well_known(&msa, true);
    for (rid, via) in [
        (1107, "member of jr-grant-inner"),
        (1108, "member of jr-grant-outer"),
    ] {
        token.push(TokenSid {
            sid: Sid::parse(&format!("{domain}-{rid}")).unwrap(),
            via: via.to_string(),
        });
    }
    let computer = COMPUTER_CLASS;
    let cases = [
        (
            "Delegated",
            true,
            Some(format!("(OA;;CC;{computer};;{domain}-1109)")),
        ),
        (
            "DenyFirst",
            false,
            Some(format!("(OD;;CC;{computer};;{domain}-1109)")),
        ),
        ("InheritOnly", false, None),
        (
            "Nested",
            true,
            Some(format!("(OA;;CC;{computer};;{domain}-1108)")),
        ),
        ("NoDelegation", false, None),
    ];
    for (shape, granted, ace) in cases {
        let path = format!(
            "{}/fixtures/security_descriptors/{shape}.bin",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        let sd = crate::wire::security_descriptor::SecurityDescriptor::decode(&bytes).unwrap();
        let dacl = sd.dacl.as_ref().expect("a DACL");
        assert!(
            dacl.aces.len() > 10,
            "{shape}: the inherited ACEs are there too"
        );
        let decision = may_create_computer(Some(dacl), &token);
        assert_eq!(decision.granted, granted, "{shape}");
        assert_eq!(decision.ace, ace, "{shape}");
        // Every ACE renders, and an ACE Samba wrote decodes to the SDDL Samba showed.
        for ace in &dacl.aces {
            assert!(ace.sddl().starts_with('('), "{shape}");
        }
    }
}

/// Every single-byte change and every truncation of the captured descriptors decodes to a
/// value or an error, and whatever decodes can be rendered and decided: a deterministic sweep
/// that runs in every `cargo test`, beside the fuzz target.
#[test]
fn every_mutation_of_a_captured_descriptor_is_handled() {
    let token = token();
    for shape in ["Delegated", "DenyFirst", "Nested"] {
        let path = format!(
            "{}/fixtures/security_descriptors/{shape}.bin",
            env!("CARGO_MANIFEST_DIR")
        );
        let original = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8]| {
            if let Ok(sd) = crate::wire::security_descriptor::SecurityDescriptor::decode(bytes) {
                if let Some(dacl) = &sd.dacl {
                    for ace in &dacl.aces {
                        let _ = ace.sddl();
                    }
                }
                let _ = may_create_computer(sd.dacl.as_ref(), &token);
            }
        };
        for len in 0..original.len() {
            check(&original[..len]);
        }
        let mut bytes = original.clone();
        for at in 0..original.len() {
            for value in [
                0x00,
                0xff,
                original[at] ^ 0x80,
                original[at].wrapping_add(1),
            ] {
                bytes[at] = value;
                check(&bytes);
            }
            bytes[at] = original[at];
        }
    }
}
