//! One GET of a tenant discovery URL (or a federation server's) along the device's route,
//! through the endpoint check's route following (`endpoint::follow`): the same proxy, PAC,
//! DNS and TLS chain as every other internet endpoint, so a tenant check can never reach a
//! service the device itself could not. The tenant checks judge what came back; whether the
//! chain ends at a public root stays the endpoint checks' question.

use super::context::{CheckContext, Inputs};
use super::endpoint;
use super::shape::NotObserved;
use crate::endpoints::{EndpointDef, EndpointProtocol, TlsInspection};
use crate::wire::tenant::MAX_BODY;
use crate::wire::url::parse_web_url;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One request and the route it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Asked {
    pub url: String,
    /// The route followed, link by link, as the endpoint check reports it.
    pub route: endpoint::Evidence,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    pub status_line: Option<String>,
}

impl Asked {
    /// Why no answer came (the first broken link, with the route), or None when one did.
    pub fn broken(&self) -> Option<String> {
        // A route followed to its end only through inspection or with proxy credentials still
        // answered (`broken` stays empty): those are the endpoint checks' findings.
        self.route.broken.as_ref()?;
        let params = endpoint::Params {
            clock_warn_at: crate::duration::TextDuration(std::time::Duration::from_secs(120)),
            endpoints: Vec::new(),
        };
        Some(endpoint::judge(&params, &self.route).finding)
    }

    /// "HTTP 400 Bad Request", for findings.
    pub fn answered(&self) -> String {
        match (&self.status_line, self.status) {
            (Some(line), _) => line.clone(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "nothing".to_string(),
        }
    }
}

/// The endpoint `url` is, for the route machinery.
fn endpoint_for(url: &str, purpose: &str, source: &str) -> Result<EndpointDef, NotObserved> {
    let parsed = parse_web_url(url).map_err(NotObserved::Error)?;
    let protocol = if parsed.https {
        EndpointProtocol::Https
    } else {
        EndpointProtocol::Http
    };
    Ok(EndpointDef {
        host: parsed.host,
        port: parsed.port,
        protocol,
        path: parsed.path,
        sets: vec!["tenant".to_string()],
        purpose: purpose.to_string(),
        source: source.to_string(),
        tls_inspection: TlsInspection::Forbidden,
        wildcard: None,
        optional: false,
        expect_body: None,
    })
}

/// GETs `url` along the device's route; the body comes back when `read_body` and the
/// answer came over HTTPS.
pub async fn ask(
    url: &str,
    purpose: &str,
    source: &str,
    read_body: bool,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Asked, Option<Vec<u8>>), NotObserved> {
    let target = endpoint_for(url, purpose, source)?;
    let limit = read_body.then_some(MAX_BODY);
    let (route, body) = endpoint::follow(&target, inputs, context, limit, false, deadline).await?;
    let http = route.hop.http.clone().filter(|_| route.broken.is_none());
    Ok((
        Asked {
            url: url.to_string(),
            status: http.as_ref().map(|h| h.status),
            status_line: http.map(|h| h.status_line),
            route,
        },
        body,
    ))
}

/// `text` made safe for a URL path segment or query value (RFC 3986 unreserved kept).
pub fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The host of a URL, for findings ("sts.contoso.com").
pub fn host_of(url: &str) -> String {
    parse_web_url(url)
        .map(|u| u.host)
        .unwrap_or_else(|_| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_names_and_quotes_the_rest() {
        assert_eq!(escape("joinready@contoso.com"), "joinready@contoso.com");
        assert_eq!(escape("a b/c?d"), "a%20b%2Fc%3Fd");
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            host_of("https://sts.contoso.com/adfs/services/trust/mex"),
            "sts.contoso.com"
        );
        assert_eq!(host_of("not a url"), "not a url");
    }
}
