//! The tenant discovery answers of Microsoft Entra ID, without I/O: the OpenID Connect discovery
//! document (and the AADSTS error body a tenant that does not exist gets), the device
//! registration discovery document (MS-DVRD 2.2.4), the user realm (api-version 1.0, and the
//! older `NameSpaceType` shape) and the WS-Trust addresses in a federation server's MEX
//! metadata. Text in, typed values out; every answer is capped in size before it is read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bodies larger than this are not discovery documents (real ones are a few KiB; an AD FS MEX
/// document is about 100 KiB).
pub const MAX_BODY: usize = 512 * 1024;
/// The MEX addresses kept; AD FS lists about 30.
const MAX_ADDRESSES: usize = 64;

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantWireError {
    #[error("the answer is {0} bytes, more than a discovery document can be")]
    TooLarge(usize),
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    #[error("the answer is JSON but not an object")]
    NotObject,
}

fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, TenantWireError> {
    if body.len() > MAX_BODY {
        return Err(TenantWireError::TooLarge(body.len()));
    }
    // serde_json bounds nesting at 128 levels, so a hostile body cannot exhaust the stack.
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TenantWireError::NotObject),
        Err(error) => Err(TenantWireError::NotJson(error.to_string())),
    }
}

fn text(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn child<'a>(
    map: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Option<&'a serde_json::Map<String, Value>> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_object())
}

/// Whether `text` is a GUID in its 8-4-4-4-12 hex form (how Entra writes a tenant ID).
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The first path segment of `url` that is a GUID: the tenant ID in
/// `https://login.microsoftonline.com/<id>/oauth2/token` or `https://sts.windows.net/<id>/`.
pub fn tenant_id_in_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#'])
        .skip(1)
        .take(8)
        .find(|segment| is_guid(segment))
        .map(str::to_ascii_lowercase)
}

/// What OpenID Connect discovery for a tenant said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpenIdConfiguration {
    pub issuer: Option<String>,
    pub token_endpoint: Option<String>,
    /// The tenant ID, from `issuer` (else `token_endpoint`).
    pub tenant_id: Option<String>,
    pub tenant_region_scope: Option<String>,
    pub cloud_instance_name: Option<String>,
}

/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 3).
pub fn parse_openid_configuration(body: &[u8]) -> Result<OpenIdConfiguration, TenantWireError> {
    let map = object(body)?;
    let issuer = text(&map, "issuer");
    let token_endpoint = text(&map, "token_endpoint");
    let tenant_id = issuer
        .as_deref()
        .and_then(tenant_id_in_url)
        .or_else(|| token_endpoint.as_deref().and_then(tenant_id_in_url));
    Ok(OpenIdConfiguration {
        issuer,
        token_endpoint,
        tenant_id,
        tenant_region_scope: text(&map, "tenant_region_scope"),
        cloud_instance_name: text(&map, "cloud_instance_name"),
    })
}

/// An Entra ID error answer (`{"error": …, "error_description": "AADSTS90002: …",
/// "error_codes": [90002], …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AadError {
    pub error: String,
    pub description: Option<String>,
    /// The AADSTS numbers, e.g. 90002 (tenant not found).
    pub codes: Vec<u64>,
}

impl AadError {
    /// AADSTS90002 "Tenant not found", or the `invalid_tenant` error it comes with.
    pub fn tenant_not_found(&self) -> bool {
        self.codes.contains(&90002) || self.error.eq_ignore_ascii_case("invalid_tenant")
    }

    /// The description's first sentence, which carries the AADSTS code and the reason (the
    /// rest is generic advice, trace and correlation IDs).
    pub fn headline(&self) -> String {
        let Some(line) = self.description.as_deref().and_then(|d| d.lines().next()) else {
            return self.error.clone();
        };
        let line = line.trim();
        let sentence = match line.find(". ") {
            Some(at) => &line[..=at],
            None => line,
        };
        sentence.chars().take(300).collect()
    }
}

/// An Entra ID error body; None when the body is not one.
pub fn parse_aad_error(body: &[u8]) -> Option<AadError> {
    let map = object(body).ok()?;
    let error = text(&map, "error")?;
    let codes = map
        .get("error_codes")
        .and_then(Value::as_array)
        .map(|codes| codes.iter().take(16).filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    Some(AadError {
        error,
        description: text(&map, "error_description"),
        codes,
    })
}

/// The message of a JSON error body (`Message`, `message`, `error_description`), or None.
pub fn error_message(body: &[u8]) -> Option<String> {
    let map = object(body).ok()?;
    ["Message", "error_description", "ErrorType", "error"]
        .iter()
        .find_map(|key| text(&map, key))
        .map(|m| m.chars().take(200).collect())
}

/// The device registration discovery document (MS-DVRD 2.2.4: DeviceRegistrationService,
/// AuthenticationService, IdentityProviderService).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegistrationDiscovery {
    pub registration_endpoint: Option<String>,
    pub registration_resource_id: Option<String>,
    pub service_version: Option<String>,
    pub auth_code_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub passive_auth_endpoint: Option<String>,
}

pub fn parse_registration_discovery(body: &[u8]) -> Result<RegistrationDiscovery, TenantWireError> {
    let map = object(body)?;
    let drs = child(&map, "DeviceRegistrationService");
    let oauth = child(&map, "AuthenticationService").and_then(|a| child(a, "OAuth2"));
    let idp = child(&map, "IdentityProviderService");
    // ServiceVersion is a decimal in the schema; servers write it as a string or a number.
    let version = drs.and_then(|d| {
        d.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("ServiceVersion"))
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    });
    Ok(RegistrationDiscovery {
        registration_endpoint: drs.and_then(|d| text(d, "RegistrationEndpoint")),
        registration_resource_id: drs.and_then(|d| text(d, "RegistrationResourceId")),
        service_version: version,
        auth_code_endpoint: oauth.and_then(|o| text(o, "AuthCodeEndpoint")),
        token_endpoint: oauth.and_then(|o| text(o, "TokenEndpoint")),
        passive_auth_endpoint: idp.and_then(|i| text(i, "PassiveAuthEndpoint")),
    })
}

/// How a domain signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Namespace {
    /// Passwords (or their hashes) are checked by Entra ID itself.
    Managed,
    /// Sign-in goes to the organisation's federation server (AD FS or another STS).
    Federated,
    /// No tenant has this domain as a verified domain.
    Unknown,
    /// A value this tool does not know, as written.
    Other(String),
}

/// The user realm of a sign-in name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UserRealm {
    pub namespace: Namespace,
    pub domain_name: Option<String>,
    pub federation_protocol: Option<String>,
    /// The federation server's metadata (WS-MetadataExchange), e.g.
    /// `https://sts.contoso.com/adfs/services/trust/mex`.
    pub federation_metadata_url: Option<String>,
    /// The WS-Trust endpoint for user names and passwords.
    pub federation_active_auth_url: Option<String>,
    /// The federation server's passive sign-in page (older shape: `AuthURL`).
    pub auth_url: Option<String>,
    pub federation_brand_name: Option<String>,
}

/// `/common/UserRealm/?user=…&api-version=1.0` (`account_type`, `federation_metadata_url`, …)
/// or the older shape (`NameSpaceType`, `AuthURL`, …).
pub fn parse_user_realm(body: &[u8]) -> Result<UserRealm, TenantWireError> {
    let map = object(body)?;
    let kind = text(&map, "account_type")
        .or_else(|| text(&map, "NameSpaceType"))
        .unwrap_or_default();
    let namespace = match kind.to_ascii_lowercase().as_str() {
        "managed" => Namespace::Managed,
        "federated" => Namespace::Federated,
        "unknown" | "" => Namespace::Unknown,
        _ => Namespace::Other(kind.chars().take(64).collect()),
    };
    Ok(UserRealm {
        namespace,
        domain_name: text(&map, "domain_name").or_else(|| text(&map, "DomainName")),
        federation_protocol: text(&map, "federation_protocol"),
        federation_metadata_url: text(&map, "federation_metadata_url"),
        federation_active_auth_url: text(&map, "federation_active_auth_url"),
        auth_url: text(&map, "AuthURL"),
        federation_brand_name: text(&map, "FederationBrandName"),
    })
}

/// Every `https://` address in a MEX document (`<soap12:address location="…"/>`,
/// `<wsa10:Address>…</wsa10:Address>`), in order, without repeats, at most 64. A scan for the
/// URLs rather than an XML parser: only the addresses matter, and a scan cannot be driven into
/// deep recursion or entity expansion.
pub fn mex_addresses(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml.get(..MAX_BODY).unwrap_or(xml));
    let mut found: Vec<String> = Vec::new();
    let mut rest: &str = &text;
    // Bounded: each pass consumes at least the matched prefix.
    while let Some(at) = rest.find("https://") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c == '"' || c == '\'' || c == '<' || c.is_whitespace())
            .unwrap_or(tail.len());
        let url = tail[..end].replace("&amp;", "&");
        if !found.contains(&url) {
            found.push(url);
            if found.len() >= MAX_ADDRESSES {
                break;
            }
        }
        rest = &tail[end.max("https://".len())..];
    }
    found
}

/// The WS-Trust endpoint kinds device registration of a federated tenant uses (entra-docs
/// how-to-hybrid-join-verify / "Configure hybrid join for federated domains":
/// `adfs/services/trust/2005/windowstransport`, `…/13/windowstransport`,
/// `…/2005/usernamemixed`, `…/13/usernamemixed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WsTrustKind {
    /// Integrated Windows authentication: how a domain-joined computer gets its token.
    WindowsTransport,
    /// User name and password.
    UsernameMixed,
}

impl WsTrustKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WsTrustKind::WindowsTransport => "windowstransport",
            WsTrustKind::UsernameMixed => "usernamemixed",
        }
    }
}

/// The kind of a WS-Trust address (by its last path segment), when it is one device
/// registration uses.
pub fn ws_trust_kind(url: &str) -> Option<WsTrustKind> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    if last.eq_ignore_ascii_case("windowstransport") {
        Some(WsTrustKind::WindowsTransport)
    } else if last.eq_ignore_ascii_case("usernamemixed") {
        Some(WsTrustKind::UsernameMixed)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/tenant")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn openid_discovery_gives_the_tenant_id_from_the_issuer() {
        let config = parse_openid_configuration(&fixture("openid-configuration.json")).unwrap();
        assert_eq!(
            config.tenant_id.as_deref(),
            Some("5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d")
        );
        assert_eq!(
            config.issuer.as_deref(),
            Some("https://sts.windows.net/5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d/")
        );
        assert_eq!(config.tenant_region_scope.as_deref(), Some("EU"));
    }

    #[test]
    fn the_token_endpoint_gives_the_id_when_the_issuer_has_none() {
        let body = br#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","token_endpoint":"https://login.microsoftonline.com/5F3C2A4E-8B1D-4C6E-9A7F-2D1E0B3C4A5D/oauth2/token"}"#;
        let config = parse_openid_configuration(body).unwrap();
        assert_eq!(
            config.tenant_id.as_deref(),
            Some("5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5d")
        );
    }

    #[test]
    fn a_tenant_that_does_not_exist_is_aadsts90002() {
        let body = fixture("openid-tenant-not-found.json");
        let error = parse_aad_error(&body).unwrap();
        assert!(error.tenant_not_found());
        assert_eq!(error.codes, vec![90002]);
        assert_eq!(
            error.headline(),
            "AADSTS90002: Tenant 'nosuchtenant-jr.onmicrosoft.com' not found."
        );
        // The error body is no configuration: it has no tenant ID.
        assert_eq!(parse_openid_configuration(&body).unwrap().tenant_id, None);
    }

    #[test]
    fn registration_discovery_has_the_documented_three_services() {
        let found = parse_registration_discovery(&fixture("drs-contract.json")).unwrap();
        assert_eq!(
            found.registration_endpoint.as_deref(),
            Some("https://enterpriseregistration.windows.net/EnrollmentServer/device/")
        );
        assert_eq!(
            found.registration_resource_id.as_deref(),
            Some("urn:ms-drs:enterpriseregistration.windows.net")
        );
        assert_eq!(found.service_version.as_deref(), Some("1.0"));
        assert_eq!(
            error_message(&fixture("drs-not-found.json")).as_deref(),
            Some("The tenant 'nosuchtenant-jr.onmicrosoft.com' was not found.")
        );
        assert_eq!(error_message(b"<html>"), None);
        assert!(found.token_endpoint.unwrap().contains("/oauth2/token"));
        assert!(found.passive_auth_endpoint.is_some());
        let numeric = br#"{"DeviceRegistrationService":{"ServiceVersion":1.0}}"#;
        assert_eq!(
            parse_registration_discovery(numeric)
                .unwrap()
                .service_version
                .as_deref(),
            Some("1.0")
        );
    }

    #[test]
    fn user_realms_in_both_shapes() {
        let managed = parse_user_realm(&fixture("userrealm-managed.json")).unwrap();
        assert_eq!(managed.namespace, Namespace::Managed);
        let federated = parse_user_realm(&fixture("userrealm-federated.json")).unwrap();
        assert_eq!(federated.namespace, Namespace::Federated);
        assert_eq!(
            federated.federation_metadata_url.as_deref(),
            Some("https://sts.fabrikam-jr.test/adfs/services/trust/mex")
        );
        let unknown = parse_user_realm(&fixture("userrealm-unknown.json")).unwrap();
        assert_eq!(unknown.namespace, Namespace::Unknown);
        let old = br#"{"NameSpaceType":"Federated","DomainName":"contoso.com","AuthURL":"https://sts.contoso.com/adfs/ls/?username=x"}"#;
        let old = parse_user_realm(old).unwrap();
        assert_eq!(old.namespace, Namespace::Federated);
        assert_eq!(old.domain_name.as_deref(), Some("contoso.com"));
        assert!(old.auth_url.is_some());
        let odd = parse_user_realm(br#"{"account_type":"Cloud"}"#).unwrap();
        assert_eq!(odd.namespace, Namespace::Other("Cloud".into()));
    }

    #[test]
    fn mex_lists_the_ws_trust_addresses() {
        let addresses = mex_addresses(&fixture("mex.xml"));
        let kinds: Vec<(WsTrustKind, &str)> = addresses
            .iter()
            .filter_map(|a| ws_trust_kind(a).map(|k| (k, a.as_str())))
            .collect();
        assert!(kinds.contains(&(
            WsTrustKind::WindowsTransport,
            "https://sts.fabrikam-jr.test/adfs/services/trust/2005/windowstransport"
        )));
        assert!(kinds.contains(&(
            WsTrustKind::UsernameMixed,
            "https://sts.fabrikam-jr.test/adfs/services/trust/13/usernamemixed"
        )));
        // Each address once, though MEX names it in the WSDL port and the endpoint reference.
        let unique: std::collections::HashSet<_> = addresses.iter().collect();
        assert_eq!(unique.len(), addresses.len());
    }

    #[test]
    fn hostile_answers_are_errors_not_panics() {
        assert!(matches!(
            parse_user_realm(b"<html>captive portal</html>"),
            Err(TenantWireError::NotJson(_))
        ));
        assert_eq!(parse_user_realm(b"[1,2]"), Err(TenantWireError::NotObject));
        let deep = "[".repeat(10_000);
        assert!(parse_openid_configuration(deep.as_bytes()).is_err());
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(
            parse_registration_discovery(&big),
            Err(TenantWireError::TooLarge(MAX_BODY + 1))
        );
        let many: String = (0..500).map(|i| format!("<a>https://h/{i}</a>")).collect();
        assert_eq!(mex_addresses(many.as_bytes()).len(), 64);
        assert!(mex_addresses(b"https://").len() <= 1);
        assert!(!is_guid("5f3c2a4e-8b1d-4c6e-9a7f-2d1e0b3c4a5"));
        assert!(is_guid("5F3C2A4E-8B1D-4C6E-9A7F-2D1E0B3C4A5D"));
        assert_eq!(tenant_id_in_url("https://"), None);
    }
}
