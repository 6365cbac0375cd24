//! The tenant checks' judges from tables of evidence values, with no socket (kept apart from
//! judge_tests.rs so the tenant kinds stay in files of their own).

use super::endpoint::{self, Attempt, HopEvidence, HttpStatus, Link, RouteEvidence};
use super::tenant_fetch::Asked;
use super::*;
use crate::endpoints::{EndpointDef, EndpointProtocol, TlsInspection};
use crate::model::Status;
use crate::wire::tenant::*;

fn assert_judged(row: usize, got: &Judgement, status: Status, parts: &[&str]) {
    assert_eq!(got.status, status, "row {row}: {}", got.finding);
    for part in parts {
        assert!(
            got.finding.contains(part),
            "row {row}: {:?} lacks {part:?}",
            got.finding
        );
    }
}

/// An HTTP status, or the link that broke and why.
type Answer<'a> = Result<u16, (Link, &'a str)>;

/// A request along a direct route: answered with `status`, or broken at `link` with `why`.
fn asked(url: &str, answer: Answer) -> Asked {
    let host = tenant_fetch::host_of(url);
    let (status, broken) = match answer {
        Ok(status) => (Some(status), None),
        Err((link, why)) => (None, Some((link, why.to_string()))),
    };
    let route = endpoint::Evidence {
        endpoint: EndpointDef {
            host: host.clone(),
            port: 443,
            protocol: EndpointProtocol::Https,
            path: "/".into(),
            sets: vec!["tenant".into()],
            purpose: "p".into(),
            source: "s".into(),
            tls_inspection: TlsInspection::Forbidden,
            wildcard: None,
            optional: false,
            expect_body: None,
        },
        url: url.into(),
        route: Some(RouteEvidence {
            source: "no proxy configured".into(),
            pac_result: None,
            hops: vec!["direct".into()],
            skipped: Vec::new(),
        }),
        pac: None,
        tried: vec![Attempt {
            hop: "direct".into(),
            broken_link: broken.as_ref().map(|(l, _)| *l),
            error: broken.as_ref().map(|(_, w)| w.clone()),
            evidence: None,
        }],
        hop: HopEvidence {
            http: status.map(|status| HttpStatus {
                status,
                status_line: format!("HTTP/1.1 {status}"),
                total_ms: 20.0,
            }),
            ..HopEvidence::default()
        },
        inspection: None,
        revocation: Vec::new(),
        authenticated: false,
        broken_link: broken.as_ref().map(|(l, _)| *l),
        broken: broken.map(|(_, w)| w),
        ntp: None,
    };
    Asked {
        url: url.into(),
        status,
        status_line: status.map(|s| format!("HTTP/1.1 {s}")),
        route,
    }
}

const ID: &str = "5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d";
const OTHER_ID: &str = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f";

#[test]
fn openid_discovery_is_judged_by_what_entra_answered() {
    let p = tenant_openid::Params {
        login_host: tenant_openid::default_login_host(),
    };
    let url = "https://login.microsoftonline.com/x/.well-known/openid-configuration";
    let base = |answer| tenant_openid::Evidence {
        tenant: "jrmanaged.onmicrosoft.com".into(),
        asked: asked(url, answer),
        configuration: None,
        error: None,
        unreadable: None,
    };
    let found = tenant_openid::Evidence {
        configuration: Some(OpenIdConfiguration {
            issuer: Some(format!("https://sts.windows.net/{ID}/")),
            token_endpoint: None,
            tenant_id: Some(ID.into()),
            tenant_region_scope: Some("EU".into()),
            cloud_instance_name: None,
        }),
        ..base(Ok(200))
    };
    let not_found = tenant_openid::Evidence {
        error: parse_aad_error(
            br#"{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found.","error_codes":[90002]}"#,
        ),
        tenant: "nosuch.onmicrosoft.com".into(),
        ..base(Ok(400))
    };
    let portal = tenant_openid::Evidence {
        unreadable: Some("the answer is not JSON: expected value at line 1 column 1".into()),
        ..base(Ok(200))
    };
    let no_id = tenant_openid::Evidence {
        configuration: Some(OpenIdConfiguration {
            issuer: Some("https://login.microsoftonline.com/{tenantid}/v2.0".into()),
            token_endpoint: None,
            tenant_id: None,
            tenant_region_scope: None,
            cloud_instance_name: None,
        }),
        ..base(Ok(200))
    };
    let rows: Vec<(tenant_openid::Evidence, Status, Vec<&str>)> = vec![
        (
            found,
            Status::Pass,
            vec!["tenant jrmanaged.onmicrosoft.com exists: tenant ID 5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d, region EU"],
        ),
        (
            not_found,
            Status::Fail,
            vec!["tenant `nosuch.onmicrosoft.com` (as the profile writes it) does not exist in Microsoft Entra ID", "HTTP/1.1 400", "AADSTS90002"],
        ),
        (
            base(Err((Link::Dns, "login.microsoftonline.com does not resolve: NXDOMAIN"))),
            Status::Fail,
            vec!["OpenID discovery for tenant jrmanaged.onmicrosoft.com did not answer", "direct", "NXDOMAIN"],
        ),
        (portal, Status::Fail, vec!["captive portal"]),
        (no_id, Status::Fail, vec!["names no tenant ID"]),
        (base(Ok(503)), Status::Fail, vec!["answers HTTP/1.1 503 with no document"]),
    ];
    for (row, (evidence, status, parts)) in rows.iter().enumerate() {
        assert_judged(row, &tenant_openid::judge(&p, evidence), *status, parts);
    }
    // A tenant that does not exist gets a remedy that names the key to correct.
    let judged = tenant_openid::judge(&p, &rows[1].0);
    assert!(judged
        .remedy
        .unwrap()
        .contains("`tenant = \"nosuch.onmicrosoft.com\"`"));
}

#[test]
fn the_scp_must_carry_the_tenants_own_id() {
    let p = tenant_scp::Params::default();
    let evidence = |scp_id: Option<&str>| tenant_scp::Evidence {
        tenant: "jrmanaged.onmicrosoft.com".into(),
        tenant_id: ID.into(),
        scp_dn: "CN=62a0ff2e-…".into(),
        azure_ad_name: Some("jrmanaged.onmicrosoft.com".into()),
        azure_ad_id: scp_id.map(String::from),
    };
    let upper = ID.to_uppercase();
    let mismatch = format!(
        "tenant jrmanaged.onmicrosoft.com has ID {ID} (OpenID discovery), but the registration SCP says azureADId:{OTHER_ID}"
    );
    let rows: Vec<(tenant_scp::Evidence, Status, Vec<&str>)> = vec![
        (
            evidence(Some(&upper)),
            Status::Pass,
            vec!["is tenant jrmanaged.onmicrosoft.com's ID"],
        ),
        (
            evidence(Some(OTHER_ID)),
            Status::Fail,
            vec![&mismatch, "another tenant"],
        ),
        (evidence(None), Status::Fail, vec!["no azureADId"]),
    ];
    for (row, (evidence, status, parts)) in rows.iter().enumerate() {
        assert_judged(row, &tenant_scp::judge(&p, evidence), *status, parts);
    }
}

#[test]
fn registration_discovery_needs_the_documented_document() {
    let p: tenant_registration::Params = toml::from_str("").unwrap();
    let url =
        "https://enterpriseregistration.windows.net/x/enrollmentserver/contract?api-version=1.4";
    let base = |answer| tenant_registration::Evidence {
        tenant: "jrmanaged.onmicrosoft.com".into(),
        asked: asked(url, answer),
        discovery: None,
        unreadable: None,
    };
    let found = tenant_registration::Evidence {
        discovery: Some(
            parse_registration_discovery(
                br#"{"DeviceRegistrationService":{"RegistrationEndpoint":"https://enterpriseregistration.windows.net/EnrollmentServer/device/","RegistrationResourceId":"urn:ms-drs:enterpriseregistration.windows.net"}}"#,
            )
            .unwrap(),
        ),
        ..base(Ok(200))
    };
    let empty = tenant_registration::Evidence {
        discovery: Some(parse_registration_discovery(b"{}").unwrap()),
        ..base(Ok(200))
    };
    let unknown = tenant_registration::Evidence {
        unreadable: Some("{\"ErrorType\":\"ObjectNotFound\"}".into()),
        ..base(Ok(404))
    };
    let rows: Vec<(tenant_registration::Evidence, Status, Vec<&str>)> = vec![
        (
            found,
            Status::Pass,
            vec!["names the registration service https://enterpriseregistration.windows.net/EnrollmentServer/device/ (urn:ms-drs:enterpriseregistration.windows.net)"],
        ),
        (empty, Status::Fail, vec!["without a DeviceRegistrationService endpoint"]),
        (
            unknown,
            Status::Fail,
            vec!["the device registration service does not know jrmanaged.onmicrosoft.com: HTTP/1.1 404", "ObjectNotFound"],
        ),
        (
            base(Err((Link::ProxyAuth, "enterpriseregistration.windows.net answers 407 (Negotiate): device registration runs as SYSTEM and cannot authenticate"))),
            Status::Fail,
            vec!["did not answer", "407"],
        ),
        (base(Ok(200)), Status::Fail, vec!["not with the discovery document"]),
    ];
    for (row, (evidence, status, parts)) in rows.iter().enumerate() {
        assert_judged(
            row,
            &tenant_registration::judge(&p, evidence),
            *status,
            parts,
        );
    }
}

#[test]
fn the_user_realm_says_managed_federated_or_unknown() {
    let p: tenant_realm::Params = toml::from_str("").unwrap();
    let url =
        "https://login.microsoftonline.com/common/UserRealm/?user=joinready@x&api-version=1.0";
    let realm = |body: &[u8]| tenant_realm::Evidence {
        tenant: "fabrikam-jr.test".into(),
        asked: asked(url, Ok(200)),
        realm: Some(parse_user_realm(body).unwrap()),
        unreadable: None,
    };
    let rows: Vec<(tenant_realm::Evidence, Status, Vec<&str>)> = vec![
        (
            realm(br#"{"account_type":"Managed"}"#),
            Status::Pass,
            vec!["fabrikam-jr.test is a managed domain"],
        ),
        (
            realm(br#"{"account_type":"Federated","federation_protocol":"WSTrust","federation_metadata_url":"https://sts.fabrikam-jr.test/adfs/services/trust/mex"}"#),
            Status::Pass,
            vec!["fabrikam-jr.test is federated (WSTrust) through sts.fabrikam-jr.test"],
        ),
        (
            realm(br#"{"account_type":"Federated"}"#),
            Status::Fail,
            vec!["names no federation server"],
        ),
        (
            realm(br#"{"account_type":"Unknown"}"#),
            Status::Fail,
            vec!["Entra ID knows no tenant with the domain fabrikam-jr.test"],
        ),
        (realm(br#"{"account_type":"Cloud"}"#), Status::Warn, vec!["`Cloud`"]),
        (
            tenant_realm::Evidence {
                realm: None,
                unreadable: Some("the answer is not JSON: x".into()),
                ..realm(b"{}")
            },
            Status::Fail,
            vec!["not Entra ID's answer", "not JSON"],
        ),
    ];
    for (row, (evidence, status, parts)) in rows.iter().enumerate() {
        assert_judged(row, &tenant_realm::judge(&p, evidence), *status, parts);
    }
}

#[test]
fn a_federation_server_needs_its_metadata_and_ws_trust_endpoints() {
    let p = tenant_federation::Params::default();
    let mex = "https://sts.fabrikam-jr.test/adfs/services/trust/mex";
    let wt = "https://sts.fabrikam-jr.test/adfs/services/trust/2005/windowstransport";
    let um = "https://sts.fabrikam-jr.test/adfs/services/trust/13/usernamemixed";
    let evidence = |metadata: Result<u16, (Link, &str)>,
                    listed: &[&str],
                    asked_ws: &[(WsTrustKind, &str, Answer)]| {
        tenant_federation::Evidence {
            domain: "fabrikam-jr.test".into(),
            sts_host: "sts.fabrikam-jr.test".into(),
            metadata_url: mex.into(),
            metadata: asked(mex, metadata),
            listed: listed.iter().map(|s| s.to_string()).collect(),
            ws_trust: asked_ws
                .iter()
                .map(|(kind, url, answer)| tenant_federation::WsTrustAsked {
                    kind: *kind,
                    asked: asked(url, *answer),
                })
                .collect(),
        }
    };
    let healthy = [
        (WsTrustKind::WindowsTransport, wt, Ok(401)),
        (WsTrustKind::UsernameMixed, um, Ok(400)),
    ];
    let rows: Vec<(tenant_federation::Evidence, Status, Vec<&str>)> = vec![
        (
            evidence(Ok(200), &[wt, um], &healthy),
            Status::Pass,
            vec!["the federation server sts.fabrikam-jr.test of fabrikam-jr.test answers: metadata and 2 WS-Trust endpoints (2005/windowstransport, 13/usernamemixed) reachable"],
        ),
        (
            evidence(Err((Link::Tcp, "TCP 443 on sts.fabrikam-jr.test (10.77.9.9) no answer within 2 s")), &[], &[]),
            Status::Fail,
            vec!["the federation server sts.fabrikam-jr.test of fabrikam-jr.test cannot be reached", "10.77.9.9", "stop there"],
        ),
        (
            evidence(Ok(503), &[], &[]),
            Status::Fail,
            vec!["answers HTTP/1.1 503", "not running"],
        ),
        (evidence(Ok(404), &[], &[]), Status::Fail, vec!["answers HTTP/1.1 404 for its metadata"]),
        (
            evidence(Ok(200), &[um], &[(WsTrustKind::UsernameMixed, um, Ok(400))]),
            Status::Fail,
            vec!["lists no WS-Trust windowstransport endpoint"],
        ),
        (
            evidence(
                Ok(200),
                &[wt, um],
                &[
                    (WsTrustKind::WindowsTransport, wt, Err((Link::Tls, "the certificate for sts.fabrikam-jr.test is issued by X"))),
                    (WsTrustKind::UsernameMixed, um, Ok(400)),
                ],
            ),
            Status::Fail,
            vec!["the WS-Trust endpoint https://sts.fabrikam-jr.test/adfs/services/trust/2005/windowstransport of sts.fabrikam-jr.test cannot be reached", "issued by X"],
        ),
    ];
    for (row, (evidence, status, parts)) in rows.iter().enumerate() {
        assert_judged(row, &tenant_federation::judge(&p, evidence), *status, parts);
    }
}
