//! The HTTP/1.1 client every HTTP probe shares: it sends a request built by `wire::http` on a
//! stream the caller opened (TCP, TLS, a proxy tunnel) and reads the answer with size caps,
//! every read bounded by the caller's deadline.

use crate::duration::Human;
use crate::probe::tcp::millis;
use crate::wire::http::{dechunk, head_end, header, parse_head, Head, NotHttp, Request};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout_at;

/// The status line and headers are read up to this many bytes; real ones are far smaller.
pub const MAX_HEAD: usize = 16 * 1024;

/// Which half of the exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Request,
    Read,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Request => "HTTP request",
            Step::Read => "HTTP response",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no {step} within {}", Human(*.waited))]
    Silent { step: Step, waited: Duration },
    #[error("{step} failed: {reason}")]
    Io { step: Step, reason: String },
    /// The blank line that ends the head never came; the text says how it ended instead.
    #[error("the answer is not HTTP: {0}")]
    Unterminated(String),
    /// The head ended but its status line is not HTTP/1.x.
    #[error(transparent)]
    NotHttp(#[from] NotHttp),
    #[error("the body is larger than the {limit} bytes allowed")]
    TooLarge { limit: usize },
    #[error("malformed chunked body")]
    BadChunks,
}

/// A response head as parsed and as received.
#[derive(Debug)]
pub struct Answer {
    pub head: Head,
    /// Everything before the blank line, for headers `Head` does not keep.
    pub raw_head: Vec<u8>,
    /// From sending the request to the end of the head.
    pub ms: f64,
}

/// A whole response: head and decoded body.
#[derive(Debug)]
pub struct Response {
    pub head: Head,
    pub raw_head: Vec<u8>,
    pub body: Vec<u8>,
}

/// Writes `request`; returns when it started, which response timings count from.
pub async fn send<S>(
    stream: &mut S,
    request: &Request<'_>,
    deadline: Instant,
) -> Result<Instant, HttpError>
where
    S: AsyncWrite + Unpin,
{
    let sent = Instant::now();
    match timeout_at(
        tokio::time::Instant::from_std(deadline),
        stream.write_all(&request.encode()),
    )
    .await
    {
        Err(_) => Err(HttpError::Silent {
            step: Step::Request,
            waited: deadline.saturating_duration_since(sent),
        }),
        Ok(Err(error)) => Err(HttpError::Io {
            step: Step::Request,
            reason: error.to_string(),
        }),
        Ok(Ok(())) => Ok(sent),
    }
}

/// Sends `request` and reads the response head; the body is left unread (a CONNECT tunnel
/// starts right after the head).
pub async fn head<S>(
    stream: &mut S,
    request: &Request<'_>,
    deadline: Instant,
) -> Result<Answer, HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = send(stream, request, deadline).await?;
    let raw_head = read_head(stream, sent, deadline).await?;
    let ms = millis(sent.elapsed());
    let head = parse_head(&raw_head)?;
    Ok(Answer { head, raw_head, ms })
}

/// Reads an HTTP response head (up to the blank line, which is not returned) from `stream`.
/// A read may take a little of the body with it; the body is never used.
pub async fn read_head<S>(
    stream: &mut S,
    sent: Instant,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError>
where
    S: AsyncRead + Unpin,
{
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    // Bounded: each pass adds at least one byte or ends, and MAX_HEAD caps the total.
    let end = loop {
        if let Some(at) = head_end(&head) {
            break at;
        }
        if head.len() >= MAX_HEAD {
            return Err(HttpError::Unterminated(format!(
                "no end of the headers within {MAX_HEAD} bytes"
            )));
        }
        let read = read_some(stream, &mut chunk, sent, deadline).await?;
        if read == 0 {
            // Closed early: whatever came is all there is; a bare status line still counts.
            if head.is_empty() {
                return Err(HttpError::Io {
                    step: Step::Read,
                    reason: "the server closed the connection without answering".to_string(),
                });
            }
            break head.len();
        }
        head.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    head.truncate(end);
    Ok(head)
}

/// One read by `deadline`; silence is named with the time waited since the request was `sent`.
async fn read_some<S>(
    stream: &mut S,
    chunk: &mut [u8],
    sent: Instant,
    deadline: Instant,
) -> Result<usize, HttpError>
where
    S: AsyncRead + Unpin,
{
    match timeout_at(tokio::time::Instant::from_std(deadline), stream.read(chunk)).await {
        Err(_) => Err(HttpError::Silent {
            step: Step::Read,
            waited: deadline.saturating_duration_since(sent),
        }),
        Ok(result) => result.map_err(|e| HttpError::Io {
            step: Step::Read,
            reason: e.to_string(),
        }),
    }
}

/// Sends a `Connection: close` request and reads the whole response: until the peer closes or
/// Content-Length bytes came, never more than `body_limit` bytes of body plus MAX_HEAD of head.
pub async fn fetch<S>(
    stream: &mut S,
    request: &Request<'_>,
    body_limit: usize,
    deadline: Instant,
) -> Result<Response, HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = send(stream, request, deadline).await?;
    let too_large = HttpError::TooLarge { limit: body_limit };
    let cap = body_limit.saturating_add(MAX_HEAD);
    let mut received = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    // Bounded by the byte cap and the deadline.
    loop {
        let read = read_some(stream, &mut chunk, sent, deadline).await?;
        if read == 0 {
            break;
        }
        received.extend_from_slice(chunk.get(..read).unwrap_or_default());
        if received.len() > cap {
            return Err(too_large);
        }
        if let Some(end) = head_end(&received) {
            let head = String::from_utf8_lossy(received.get(..end).unwrap_or_default());
            if let Some(length) = content_length(&head) {
                if length > body_limit {
                    return Err(too_large);
                }
                if received.len() >= end + 4 + length {
                    break;
                }
            }
        }
    }
    let end = head_end(&received)
        .ok_or_else(|| HttpError::Unterminated("no end of the headers".to_string()))?;
    let raw_head = received.get(..end).unwrap_or_default().to_vec();
    let head = parse_head(&raw_head)?;
    let text = String::from_utf8_lossy(&raw_head).into_owned();
    let mut body = received.get(end + 4..).unwrap_or_default().to_vec();
    if header(&text, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body).ok_or(HttpError::BadChunks)?;
    }
    if let Some(length) = content_length(&text) {
        body.truncate(length);
    }
    if body.len() > body_limit {
        return Err(too_large);
    }
    Ok(Response {
        head,
        raw_head,
        body,
    })
}

fn content_length(head: &str) -> Option<usize> {
    header(head, "content-length").and_then(|v| v.parse::<usize>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::http::Method;
    use tokio::io::AsyncWriteExt;

    const GET: Request<'static> = Request {
        method: Method::Get,
        target: "/",
        host: "h",
        proxy_credentials: None,
    };

    /// A stream whose peer has already written `reply` and closed.
    async fn answered(reply: &[u8]) -> tokio::io::DuplexStream {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        server.write_all(reply).await.unwrap();
        drop(server);
        client
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(2)
    }

    #[tokio::test]
    async fn a_head_without_its_blank_line_still_counts_when_the_peer_closes() {
        let mut stream = answered(b"HTTP/1.1 204 No Content").await;
        let raw = read_head(&mut stream, Instant::now(), soon())
            .await
            .unwrap();
        assert_eq!(raw, b"HTTP/1.1 204 No Content");
        assert_eq!(parse_head(&raw).unwrap().status, 204);
    }

    #[tokio::test]
    async fn an_endless_head_is_cut_at_the_cap() {
        let mut stream = answered(&vec![b'x'; MAX_HEAD + 10]).await;
        let error = read_head(&mut stream, Instant::now(), soon())
            .await
            .unwrap_err();
        assert!(matches!(error, HttpError::Unterminated(_)), "{error}");
    }

    #[tokio::test]
    async fn chunked_and_sized_bodies_are_decoded() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        let peer = tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            let _ = server.read(&mut buffer).await;
            server
                .write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                )
                .await
                .unwrap();
        });
        let response = fetch(&mut client, &GET, 100, soon()).await.unwrap();
        peer.await.unwrap();
        assert_eq!(response.head.status, 200);
        assert_eq!(response.body, b"abc");

        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        let peer = tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            let _ = server.read(&mut buffer).await;
            server
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
                .await
                .unwrap();
        });
        let response = fetch(&mut client, &GET, 100, soon()).await.unwrap();
        peer.await.unwrap();
        assert_eq!(response.body, b"ok");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading_it() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            let _ = server.read(&mut buffer).await;
            let _ = server
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                .await;
            // Keep the stream open: the limit, not the close, must end the read.
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let error = fetch(&mut client, &GET, 100, soon()).await.unwrap_err();
        assert!(
            matches!(error, HttpError::TooLarge { limit: 100 }),
            "{error}"
        );
    }
}
