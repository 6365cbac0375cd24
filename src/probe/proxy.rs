//! Forward proxies on the wire: the HTTP CONNECT handshake with what a 407 offered, and a
//! plain-HTTP GET through a proxy. Their strings (URLs, PAC results) are parsed in `wire`.

use crate::probe::http;
use crate::probe::portal::PortalError;
use crate::secret::Secret;
use crate::wire::http::{auth_schemes, Method, Request};
use crate::wire::url::WebUrl;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tokio::net::TcpStream;

/// What the proxy said to CONNECT.
#[derive(Debug, Clone, Serialize, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct ConnectAnswer {
    pub status: u16,
    pub status_line: String,
    /// The schemes of Proxy-Authenticate on a 407.
    pub auth_schemes: Vec<String>,
    /// Whether this answer came to a request with Basic credentials.
    pub authenticated: bool,
    pub ms: f64,
}

/// Sends `CONNECT host:port` on an open connection to a proxy and reads its answer head.
/// On 2xx the stream is a tunnel to the target.
pub async fn connect_tunnel(
    stream: &mut TcpStream,
    host: &str,
    port: u16,
    credentials: Option<(&str, &Secret)>,
    deadline: Instant,
) -> Result<ConnectAnswer, PortalError> {
    let authority = format!("{host}:{port}");
    let request = Request {
        method: Method::Connect,
        target: &authority,
        host: &authority,
        proxy_credentials: credentials.map(|(user, password)| (user, password.expose())),
    };
    let answer = http::head(stream, &request, deadline).await?;
    Ok(ConnectAnswer {
        status: answer.head.status,
        status_line: answer.head.status_line,
        auth_schemes: auth_schemes(&answer.raw_head),
        authenticated: credentials.is_some(),
        ms: answer.ms,
    })
}

/// A plain-HTTP `GET` of `url` through a proxy (absolute form), or directly when `absolute` is
/// false (origin form, Host header from the URL). With `body_limit`, the body is read too (at
/// most that many bytes) and returned; without, only the head is read and the body is empty.
pub async fn http_get(
    stream: &mut TcpStream,
    url: &WebUrl,
    absolute: bool,
    credentials: Option<(&str, &Secret)>,
    body_limit: Option<usize>,
    deadline: Instant,
) -> Result<(ConnectAnswer, Vec<u8>), PortalError> {
    let authority = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let target = if absolute {
        format!("http://{authority}{}", url.path)
    } else {
        url.path.clone()
    };
    let request = Request {
        method: Method::Get,
        target: &target,
        host: &authority,
        proxy_credentials: credentials.map(|(user, password)| (user, password.expose())),
    };
    if let Some(limit) = body_limit {
        let sent = Instant::now();
        let response = http::fetch(stream, &request, limit, deadline).await?;
        return Ok((
            ConnectAnswer {
                status: response.head.status,
                status_line: response.head.status_line,
                auth_schemes: auth_schemes(&response.raw_head),
                authenticated: credentials.is_some(),
                ms: crate::probe::tcp::millis(sent.elapsed()),
            },
            response.body,
        ));
    }
    let answer = http::head(stream, &request, deadline).await?;
    Ok((
        ConnectAnswer {
            status: answer.head.status,
            status_line: answer.head.status_line,
            auth_schemes: auth_schemes(&answer.raw_head),
            authenticated: credentials.is_some(),
            ms: answer.ms,
        },
        Vec::new(),
    ))
}
