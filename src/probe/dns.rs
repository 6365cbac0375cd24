//! DNS probe: one question to one server, with the exact answer code and timing as evidence.
//!
//! A resolver hides what joinready must show (which server said NXDOMAIN, which timed out), so
//! this speaks DNS directly: UDP first, TCP when the answer is truncated.

use crate::probe::datagram::{self, Failure, Sending, Verdict};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

/// Largest answer read over TCP; Samba and Windows answers for a domain fit many times over.
const MAX_TCP_ANSWER: usize = 65_535;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DnsError {
    #[error("no answer within {}", crate::duration::Human(*.0))]
    Timeout(Duration),
    #[error("the server refused the connection (nothing listens on port {port})")]
    Refused { port: u16 },
    #[error("network error: {0}")]
    Io(String),
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("invalid name `{0}`")]
    BadName(String),
    #[error("truncated answer over UDP and TCP failed: {0}")]
    TcpFallback(String),
}

/// The answer code as evidence; what matters to a technician is which of these it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rcode {
    NoError,
    NxDomain,
    ServFail,
    Refused,
    Other(u16),
}

impl Rcode {
    fn from_code(code: ResponseCode) -> Rcode {
        match code {
            ResponseCode::NoError => Rcode::NoError,
            ResponseCode::NXDomain => Rcode::NxDomain,
            ResponseCode::ServFail => Rcode::ServFail,
            ResponseCode::Refused => Rcode::Refused,
            other => Rcode::Other(u16::from(other)),
        }
    }

    pub fn label(self) -> String {
        match self {
            Rcode::NoError => "NOERROR".into(),
            Rcode::NxDomain => "NXDOMAIN".into(),
            Rcode::ServFail => "SERVFAIL".into(),
            Rcode::Refused => "REFUSED".into(),
            Rcode::Other(code) => format!("RCODE {code}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// What one server answered to one question.
#[derive(Debug, Clone)]
pub struct DnsAnswer {
    pub rcode: Rcode,
    pub authoritative: bool,
    pub over_tcp: bool,
    pub rtt: Duration,
    pub srv: Vec<SrvRecord>,
    pub addresses: Vec<IpAddr>,
    /// A/AAAA records from the additional section, keyed by owner name.
    pub glue: Vec<(String, IpAddr)>,
}

/// Asks `server` for `name`/`record_type` before `deadline`.
pub async fn query(
    server: SocketAddr,
    name: &str,
    record_type: RecordType,
    deadline: Instant,
) -> Result<DnsAnswer, DnsError> {
    let started = Instant::now();
    let fqdn = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|_| DnsError::BadName(name.to_string()))?;
    let id: u16 = rand::random();
    let mut request = Message::new(id, MessageType::Query, OpCode::Query);
    request.metadata.recursion_desired = true;
    request.add_query(Query::query(fqdn, record_type));
    let bytes = request
        .to_vec()
        .map_err(|e| DnsError::Malformed(format!("cannot encode the question: {e}")))?;

    let wait = deadline.saturating_duration_since(started);
    let tokio_deadline = tokio::time::Instant::from_std(deadline);
    let reply = udp_exchange(server, &bytes, id, deadline, wait).await?;
    let (message, over_tcp) = if reply.metadata.truncation {
        let message = timeout_at(tokio_deadline, tcp_exchange(server, &bytes, id))
            .await
            .map_err(|_| {
                DnsError::TcpFallback(format!(
                    "no answer over TCP within {}",
                    crate::duration::Human(wait)
                ))
            })?
            .map_err(|e| DnsError::TcpFallback(e.to_string()))?;
        (message, true)
    } else {
        (reply, false)
    };
    Ok(summarise(message, over_tcp, started.elapsed()))
}

fn summarise(message: Message, over_tcp: bool, rtt: Duration) -> DnsAnswer {
    let mut srv = Vec::new();
    let mut addresses = Vec::new();
    for record in &message.answers {
        match &record.data {
            RData::SRV(s) => srv.push(SrvRecord {
                priority: s.priority,
                weight: s.weight,
                port: s.port,
                target: s
                    .target
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
            }),
            RData::A(a) => addresses.push(IpAddr::V4(a.0)),
            RData::AAAA(a) => addresses.push(IpAddr::V6(a.0)),
            _ => {}
        }
    }
    let glue = message
        .additionals
        .iter()
        .filter_map(|record| {
            let owner = record
                .name
                .to_ascii()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            match &record.data {
                RData::A(a) => Some((owner, IpAddr::V4(a.0))),
                RData::AAAA(a) => Some((owner, IpAddr::V6(a.0))),
                _ => None,
            }
        })
        .collect();
    DnsAnswer {
        rcode: Rcode::from_code(message.metadata.response_code),
        authoritative: message.metadata.authoritative,
        over_tcp,
        rtt,
        srv,
        addresses,
        glue,
    }
}

fn io_error(error: std::io::Error, port: u16) -> DnsError {
    if error.kind() == std::io::ErrorKind::ConnectionRefused {
        DnsError::Refused { port }
    } else {
        DnsError::Io(error.to_string())
    }
}

/// Sends the question and waits until `deadline` for our answer. Datagrams that are not it
/// (garbage, another id) are skipped, but named when no answer comes: a server that answers
/// wrongly is not a silent one.
/// A lost datagram (a busy server's full socket buffer, a congested link) is asked again, as
/// resolvers do, rather than waited out for the whole timeout: after 400 ms, then 800 ms.
const RETRANSMIT: Sending = Sending {
    max_sends: 3,
    first_retransmit: Duration::from_millis(400),
    max_datagram: datagram::DEFAULT_MAX_DATAGRAM,
};

async fn udp_exchange(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    deadline: Instant,
    wait: Duration,
) -> Result<Message, DnsError> {
    let classify = |datagram: &[u8]| match Message::from_vec(datagram) {
        Ok(message) if message.metadata.id == id => Verdict::Accept(message),
        Ok(message) => Verdict::Malformed(format!(
            "answer with id {} instead of {id}",
            message.metadata.id
        )),
        Err(e) => Verdict::Malformed(e.to_string()),
    };
    match datagram::exchange(server, request, RETRANSMIT, deadline, classify).await {
        Ok(reply) => Ok(reply.value),
        Err(Failure::Refused { .. }) => Err(DnsError::Refused {
            port: server.port(),
        }),
        Err(Failure::Io { error, .. }) => Err(DnsError::Io(error.to_string())),
        Err(Failure::NoReply {
            malformed: Some(problem),
            ..
        }) => Err(DnsError::Malformed(problem)),
        Err(Failure::NoReply {
            exhausted: true, ..
        }) => Err(DnsError::Malformed("no usable answer".to_string())),
        Err(Failure::NoReply { .. }) => Err(DnsError::Timeout(wait)),
    }
}

async fn tcp_exchange(server: SocketAddr, request: &[u8], id: u16) -> Result<Message, DnsError> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| io_error(e, server.port()))?;
    let length = u16::try_from(request.len())
        .map_err(|_| DnsError::Malformed("question too long".to_string()))?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(request);
    stream
        .write_all(&framed)
        .await
        .map_err(|e| io_error(e, server.port()))?;
    let answer_length = usize::from(
        stream
            .read_u16()
            .await
            .map_err(|e| io_error(e, server.port()))?,
    );
    if answer_length > MAX_TCP_ANSWER {
        return Err(DnsError::Malformed("answer too long".to_string()));
    }
    let mut buffer = vec![0u8; answer_length];
    stream
        .read_exact(&mut buffer)
        .await
        .map_err(|e| io_error(e, server.port()))?;
    let message = Message::from_vec(&buffer).map_err(|e| DnsError::Malformed(e.to_string()))?;
    if message.metadata.id != id {
        return Err(DnsError::Malformed(format!(
            "answer with id {} instead of {id}",
            message.metadata.id
        )));
    }
    Ok(message)
}

/// The system's resolvers, for runs without `--dns-server` or `dns_servers`.
pub fn system_servers() -> Result<Vec<SocketAddr>, String> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for server in config.name_servers() {
        let address = SocketAddr::new(server.ip, 53);
        if !servers.contains(&address) {
            servers.push(address);
        }
    }
    if servers.is_empty() {
        return Err("the system has no DNS server configured".to_string());
    }
    Ok(servers)
}
