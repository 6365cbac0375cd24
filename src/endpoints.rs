//! The internet endpoints' vocabulary, shared by the catalog (its `[[endpoint]]` entries) and
//! the profile (its `[[endpoints.extra]]`).

use serde::{Deserialize, Serialize};

/// The endpoint sets of the built-in catalog that a profile's `[endpoints] sets` may name.
pub const ENDPOINT_SETS: &[&str] = &[
    "autopilot",
    "hybrid-join",
    "intune",
    "entra-id",
    "activation",
];

/// The sets the entra scenario checks when the profile names none: what a Microsoft Entra
/// join needs before the user signs in (FACTS: memdocs autopilot/requirements.md).
pub const ENTRA_DEFAULT_SETS: &[&str] = &["autopilot", "entra-id", "intune", "activation"];

/// Whether a TLS-inspecting proxy may re-sign the endpoint's certificate.
#[derive(Debug, Deserialize, Serialize, Clone, Copy, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsInspection {
    Forbidden,
    Allowed,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EndpointProtocol {
    #[default]
    Https,
    Http,
    /// SNTP on UDP.
    Ntp,
}

impl EndpointProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointProtocol::Https => "https",
            EndpointProtocol::Http => "http",
            EndpointProtocol::Ntp => "ntp",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            EndpointProtocol::Https => 443,
            EndpointProtocol::Http => 80,
            EndpointProtocol::Ntp => 123,
        }
    }
}

/// One internet endpoint, from the catalog or the profile's `[[endpoints.extra]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EndpointDef {
    /// The host probed; for a wildcard entry, its representative host.
    pub host: String,
    pub port: u16,
    pub protocol: EndpointProtocol,
    pub path: String,
    /// The sets it belongs to; `["extra"]` for the profile's own endpoints.
    pub sets: Vec<String>,
    /// What it is for, named in findings.
    pub purpose: String,
    /// The document that requires it.
    pub source: String,
    pub tls_inspection: TlsInspection,
    /// The wildcard the host stands for, e.g. `*.manage.microsoft.com`.
    pub wildcard: Option<String>,
    /// A failure only warns.
    pub optional: bool,
    /// The exact body (surrounding white space aside) a plain-HTTP answer must carry, as
    /// Windows' connectivity test expects; anything else is a captive portal or a block page.
    #[serde(default)]
    pub expect_body: Option<String>,
}

impl EndpointDef {
    /// The row's target: the host, with the port when it is not the protocol's own.
    pub fn label(&self) -> String {
        if self.port == self.protocol.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL requested (http and https).
    pub fn url(&self) -> String {
        let port = if self.port == self.protocol.default_port() {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!(
            "{}://{}{port}{}",
            self.protocol.as_str(),
            self.host,
            self.path
        )
    }
}
