//! Fake and hostile servers on loopback, for tests that need no test environment: a DNS server
//! whose zone names DCs on 127.x.y.z addresses (all local on Linux), LDAP on TCP 389/636, and
//! UDP responders (CLDAP 389, Kerberos 88, IKE 500) that answer whatever the test says.
//!
//! Everything binds and connects on 127.0.0.0/8 only. Each server runs on its own threads,
//! stops when dropped and after [`LIFETIME`] at the latest, and every loop is bounded in count
//! and time. Ports below 1024 need root (CAP_NET_BIND_SERVICE): the tests that bind them are
//! `#[ignore = "needs root to bind ports below 1024 on loopback: ..."]`, and run without root
//! (`cargo test -- --include-ignored` as a user) they fail here saying so, never pass unrun.

use joinready::wire::ber::{self, tag, BerReader};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any fake server lives, whatever the test does.
pub const LIFETIME: Duration = Duration::from_secs(60);
/// How often server threads look at their stop flag.
const TICK: Duration = Duration::from_millis(50);
/// Connections one TCP server accepts in its life.
const MAX_CONNECTIONS: usize = 1024;
/// Areas whose checks aim at hosts outside the profile's DCs (WPAD, Microsoft endpoints):
/// skipped so that nothing leaves loopback.
pub const STAY_LOCAL: [&str; 4] = ["--skip", "proxy", "--skip", "endpoints"];
/// The domain every fake zone serves.
pub const DOMAIN: &str = "corp.jr.test";
/// The DC name every fake zone lists (each test has its own zone and address).
pub const DC_NAME: &str = "dc1.corp.jr.test";

/// Set when the owner drops; server threads poll it.
#[derive(Clone, Default)]
struct Stop(Arc<AtomicBool>);

impl Stop {
    fn stopped(&self, born: Instant) -> bool {
        self.0.load(Ordering::Relaxed) || born.elapsed() > LIFETIME
    }
}

/// Stops its threads when dropped.
pub struct Guard(Stop);

impl Guard {
    /// A guard for a server thread of a test's own that polls `flag`.
    pub fn from_flag(flag: Arc<AtomicBool>) -> Guard {
        Guard(Stop(flag))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}

/// A port that cannot be bound fails the test, a privileged one with what it takes to run it.
fn bound<T>(what: &str, address: SocketAddr, result: std::io::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => panic!(
            "binding {what} {address} is not permitted ({e}): this test needs root for ports below \
             1024. Run it as root (`cargo test -- --include-ignored`, or \
             `bash fixtures/test-all.sh`); a plain `cargo test` leaves it out as ignored"
        ),
        Err(e) => panic!("cannot bind {what} {address}: {e}"),
    }
}

pub fn bind_udp(address: SocketAddr) -> UdpSocket {
    let socket = bound("UDP", address, UdpSocket::bind(address));
    socket.set_read_timeout(Some(TICK)).expect("read timeout");
    socket
}

pub fn bind_tcp(address: SocketAddr) -> TcpListener {
    let listener = bound("TCP", address, TcpListener::bind(address));
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    listener
}

/// Accepts up to [`MAX_CONNECTIONS`] and hands each to `serve` on its own thread.
fn accept_loop(
    listener: TcpListener,
    serve: impl Fn(TcpStream, Stop, Instant) + Send + Sync + 'static,
) -> Guard {
    let stop = Stop::default();
    let born = Instant::now();
    let serve = Arc::new(serve);
    let thread_stop = stop.clone();
    std::thread::spawn(move || {
        let mut accepted = 0;
        while !thread_stop.stopped(born) && accepted < MAX_CONNECTIONS {
            match listener.accept() {
                Ok((stream, _)) => {
                    accepted += 1;
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(TICK));
                    let (serve, stop) = (serve.clone(), thread_stop.clone());
                    std::thread::spawn(move || serve(stream, stop, born));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    Guard(stop)
}

/// Answers each datagram with what `reply` returns (several datagrams, or none).
pub fn udp_responder(
    socket: UdpSocket,
    reply: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
) -> Guard {
    let stop = Stop::default();
    let born = Instant::now();
    let thread_stop = stop.clone();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 65_536];
        while !thread_stop.stopped(born) {
            let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
                continue;
            };
            for datagram in reply(&buffer[..length]) {
                let _ = socket.send_to(&datagram, peer);
            }
        }
    });
    Guard(stop)
}

/// Holds every connection open, reads and drops what comes, never answers.
pub fn tcp_tarpit(listener: TcpListener) -> Guard {
    accept_loop(listener, |mut stream, stop, born| {
        let mut sink = [0u8; 4096];
        while !stop.stopped(born) {
            match stream.read(&mut sink) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
    })
}

/// Reads the client's request head (up to a blank line or 16 KiB), writes `reply`, closes.
pub fn tcp_answer_then_close(listener: TcpListener, reply: &'static [u8]) -> Guard {
    accept_loop(listener, move |mut stream, stop, born| {
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        while !stop.stopped(born)
            && head.len() < 16 * 1024
            && !head.windows(4).any(|w| w == b"\r\n\r\n")
        {
            match stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
        let _ = stream.write_all(reply);
    })
}

/// Reads the first bytes a client sends (a TLS ClientHello), then resets the connection.
pub fn tcp_reset_after_hello(listener: TcpListener) -> Guard {
    accept_loop(listener, |mut stream, stop, born| {
        let mut hello = [0u8; 64];
        let until = Instant::now() + Duration::from_secs(5);
        while !stop.stopped(born) && Instant::now() < until {
            match stream.read(&mut hello) {
                Ok(0) => return,
                Ok(_) => break,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
        // SO_LINGER 0: closing sends RST instead of FIN.
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        drop(stream);
    })
}

// ---------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------

/// How the fake DNS server answers over UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsUdp {
    /// From the zone.
    Zone,
    /// From the zone, each answer `SLOW_ANSWER` late (one at a time, like a busy server).
    Slow,
    /// An empty answer with TC set: "ask again over TCP".
    Truncated,
    /// Bytes that are not a DNS message.
    Garbage,
    /// A well-formed answer carrying another query id.
    WrongId,
}

/// How late a `DnsUdp::Slow` server answers.
pub const SLOW_ANSWER: Duration = Duration::from_millis(300);

/// What listens on the fake DNS server's port over TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsTcp {
    /// Nothing: a connection is refused.
    Closed,
    /// Accepts and never answers.
    Tarpit,
    /// Answers from the zone.
    Zone,
}

/// A DNS server on 127.0.0.1 whose zone has DOMAIN's SRV records pointing at `dcs`.
pub struct FakeDns {
    pub address: SocketAddr,
    _guards: Vec<Guard>,
}

impl FakeDns {
    pub fn start(dcs: &[(&str, Ipv4Addr)], udp: DnsUdp, tcp: DnsTcp) -> FakeDns {
        let zone: Arc<Vec<(String, Ipv4Addr)>> = Arc::new(
            dcs.iter()
                .map(|(name, ip)| (name.to_ascii_lowercase(), *ip))
                .collect(),
        );
        // Bound together so that the TCP port is the UDP one (a failed TCP bind retries).
        for _ in 0..16 {
            let socket = bind_udp("127.0.0.1:0".parse().unwrap());
            let address = socket.local_addr().expect("local address");
            let listener = match tcp {
                DnsTcp::Closed => None,
                _ => match TcpListener::bind(address) {
                    Ok(listener) => Some(listener),
                    Err(_) => continue,
                },
            };
            let mut guards = Vec::new();
            let udp_zone = zone.clone();
            guards.push(udp_responder(socket, move |query| {
                if udp == DnsUdp::Slow {
                    std::thread::sleep(SLOW_ANSWER);
                }
                answer(query, &udp_zone, udp).into_iter().collect()
            }));
            if let Some(listener) = listener {
                listener.set_nonblocking(true).expect("nonblocking");
                guards.push(match tcp {
                    DnsTcp::Tarpit => tcp_tarpit(listener),
                    _ => {
                        let zone = zone.clone();
                        accept_loop(listener, move |stream, stop, born| {
                            serve_dns_tcp(stream, &zone, stop, born)
                        })
                    }
                });
            }
            return FakeDns {
                address,
                _guards: guards,
            };
        }
        panic!("no loopback port free for both UDP and TCP");
    }

    /// The zone, over UDP and TCP alike.
    pub fn zone(dcs: &[(&str, Ipv4Addr)]) -> FakeDns {
        FakeDns::start(dcs, DnsUdp::Zone, DnsTcp::Zone)
    }
}

/// A UDP socket on 127.0.0.1 that nobody reads: datagrams vanish without an ICMP error, as
/// into a firewall that drops. Keep the socket alive for as long as the black hole is needed.
pub fn black_hole() -> (SocketAddr, UdpSocket) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("loopback UDP");
    (socket.local_addr().expect("local address"), socket)
}

fn serve_dns_tcp(mut stream: TcpStream, zone: &[(String, Ipv4Addr)], stop: Stop, born: Instant) {
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    while !stop.stopped(born) {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        while pending.len() >= 2 {
            let length = usize::from(u16::from_be_bytes([pending[0], pending[1]]));
            if pending.len() < 2 + length {
                break;
            }
            let query: Vec<u8> = pending.drain(..2 + length).skip(2).collect();
            if let Some(reply) = answer(&query, zone, DnsUdp::Zone) {
                let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                if stream.write_all(&framed).is_err() {
                    return;
                }
            }
        }
    }
}

/// The question of a query: lower-case name without the final dot, type, and where it ends.
fn question(query: &[u8]) -> Option<(String, u16, usize)> {
    let mut position = 12;
    let mut labels = Vec::new();
    loop {
        let length = usize::from(*query.get(position)?);
        position += 1;
        if length == 0 {
            break;
        }
        if length > 63 || labels.len() > 127 {
            return None;
        }
        labels.push(String::from_utf8_lossy(query.get(position..position + length)?).to_string());
        position += length;
    }
    let qtype = u16::from_be_bytes([*query.get(position)?, *query.get(position + 1)?]);
    Some((labels.join(".").to_ascii_lowercase(), qtype, position + 4))
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

const TYPE_A: u16 = 1;
const TYPE_SRV: u16 = 33;

/// The answer to `query` as `mode` says; None for a query that cannot be read.
fn answer(query: &[u8], zone: &[(String, Ipv4Addr)], mode: DnsUdp) -> Option<Vec<u8>> {
    if mode == DnsUdp::Garbage {
        return Some(b"\xde\xad\xbe\xefnot a DNS message at all, just bytes".to_vec());
    }
    let (name, qtype, end) = question(query)?;
    let mut records: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut rcode = 0u8;
    let in_domain = name == DOMAIN || name.ends_with(&format!(".{DOMAIN}"));
    if matches!(mode, DnsUdp::Zone | DnsUdp::Slow | DnsUdp::WrongId) {
        match qtype {
            TYPE_SRV if name.starts_with('_') && in_domain => {
                for (host, _) in zone {
                    let mut rdata = vec![0, 0, 0, 100, 1, 133]; // priority 0, weight 100, port 389
                    rdata.extend(encode_name(host));
                    records.push((TYPE_SRV, rdata));
                }
            }
            TYPE_A => {
                for (host, ip) in zone {
                    if *host == name {
                        records.push((TYPE_A, ip.octets().to_vec()));
                    }
                }
            }
            _ => {}
        }
        let known = zone.iter().any(|(host, _)| *host == name);
        if records.is_empty() && !known && !(name.starts_with('_') && in_domain) {
            rcode = 3; // NXDOMAIN
        }
    }
    let mut reply = query.get(..end)?.to_vec();
    if mode == DnsUdp::WrongId {
        let id = u16::from_be_bytes([reply[0], reply[1]]).wrapping_add(1);
        reply[..2].copy_from_slice(&id.to_be_bytes());
    }
    let truncated = if mode == DnsUdp::Truncated { 0x02 } else { 0 };
    reply[2] = 0x84 | truncated | (query[2] & 0x01); // QR, AA, TC, RD as asked
    reply[3] = 0x80 | rcode; // RA
    reply[4..6].copy_from_slice(&1u16.to_be_bytes());
    reply[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    reply[8..12].fill(0);
    for (rtype, rdata) in records {
        reply.extend_from_slice(&[0xc0, 0x0c]);
        reply.extend_from_slice(&rtype.to_be_bytes());
        reply.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        reply.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        reply.extend_from_slice(&rdata);
    }
    Some(reply)
}

// ---------------------------------------------------------------------------------------------
// LDAP and CLDAP
// ---------------------------------------------------------------------------------------------

const OP_BIND_REQUEST: u8 = tag::application(0);
const OP_BIND_RESPONSE: u8 = tag::application(1);
const OP_UNBIND_REQUEST: u8 = 0x42;
const OP_SEARCH_REQUEST: u8 = tag::application(3);
const OP_SEARCH_RESULT_ENTRY: u8 = tag::application(4);
const OP_SEARCH_RESULT_DONE: u8 = tag::application(5);
const OP_EXTENDED_REQUEST: u8 = tag::application(23);
const OP_EXTENDED_RESPONSE: u8 = tag::application(24);

/// How the fake LDAP server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LdapMode {
    /// Binds succeed, every search returns one entry, StartTLS is refused.
    Directory,
    /// Every search gets SearchResultEntry after SearchResultEntry, never SearchResultDone.
    Endless,
}

/// A fake LDAP server; `binds` has every (DN, password) a client sent.
pub struct FakeLdap {
    pub binds: Arc<Mutex<Vec<(String, String)>>>,
    _guard: Guard,
}

impl FakeLdap {
    /// On `ip`:389 (root only).
    pub fn start(ip: Ipv4Addr, mode: LdapMode) -> FakeLdap {
        let listener = bind_tcp(SocketAddr::from((ip, 389)));
        let binds: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let recorded = binds.clone();
        let guard = accept_loop(listener, move |stream, stop, born| {
            serve_ldap(stream, mode, &recorded, stop, born)
        });
        FakeLdap {
            binds,
            _guard: guard,
        }
    }
}

/// Reads one whole BER element (single-byte tag, definite length) from `pending`.
fn take_element(pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let first = *pending.get(1)?;
    let (header, length) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Some(std::mem::take(pending));
        }
        let bytes = pending.get(2..2 + count)?;
        (
            2 + count,
            bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)),
        )
    };
    if pending.len() < header + length {
        return None;
    }
    Some(pending.drain(..header + length).collect())
}

fn ldap_message(id: u32, op: Vec<u8>) -> Vec<u8> {
    ber::constructed(tag::SEQUENCE, &[ber::integer(i64::from(id)), op])
}

fn ldap_result(op: u8, code: i64) -> Vec<u8> {
    ber::constructed(
        op,
        &[
            ber::enumerated(code),
            ber::octet_string(b""),
            ber::octet_string(b""),
        ],
    )
}

fn search_entry(dn: &str, attributes: &[(&str, &[u8])]) -> Vec<u8> {
    let attributes: Vec<Vec<u8>> = attributes
        .iter()
        .map(|(name, value)| {
            ber::constructed(
                tag::SEQUENCE,
                &[
                    ber::octet_string(name.as_bytes()),
                    ber::constructed(tag::SET, &[ber::octet_string(value)]),
                ],
            )
        })
        .collect();
    ber::constructed(
        OP_SEARCH_RESULT_ENTRY,
        &[
            ber::octet_string(dn.as_bytes()),
            ber::constructed(tag::SEQUENCE, &attributes),
        ],
    )
}

fn rootdse_entry() -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let time = ber::format_generalized_time(now).replace('Z', ".0Z");
    search_entry(
        "",
        &[
            ("defaultNamingContext", b"DC=corp,DC=jr,DC=test"),
            (
                "configurationNamingContext",
                b"CN=Configuration,DC=corp,DC=jr,DC=test",
            ),
            ("rootDomainNamingContext", b"DC=corp,DC=jr,DC=test"),
            ("dnsHostName", DC_NAME.as_bytes()),
            ("currentTime", time.as_bytes()),
            ("supportedLDAPVersion", b"3"),
            ("domainFunctionality", b"7"),
            ("forestFunctionality", b"7"),
            ("domainControllerFunctionality", b"7"),
            ("isSynchronized", b"TRUE"),
        ],
    )
}

/// Parses one LDAPMessage: its id, operation tag and the operation's content.
fn parse_ldap(element: &[u8]) -> Option<(u32, u8, Vec<u8>)> {
    let mut reader = BerReader::new(element);
    let mut message = reader.enter(tag::SEQUENCE, "message").ok()?;
    let id = message.read_u32(tag::INTEGER, "id").ok()?;
    let tlv = message.read_tlv("op").ok()?;
    Some((id, tlv.tag, tlv.value.to_vec()))
}

fn serve_ldap(
    mut stream: TcpStream,
    mode: LdapMode,
    binds: &Mutex<Vec<(String, String)>>,
    stop: Stop,
    born: Instant,
) {
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    while !stop.stopped(born) {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        while let Some(element) = take_element(&mut pending) {
            let Some((id, op, body)) = parse_ldap(&element) else {
                return;
            };
            let reply = match op {
                OP_BIND_REQUEST => {
                    let mut body = BerReader::new(&body);
                    let _version = body.read_tlv("version");
                    let name = body.read(tag::OCTET_STRING, "name").unwrap_or_default();
                    let password = body.read_tlv("auth").map(|t| t.value).unwrap_or_default();
                    binds.lock().unwrap_or_else(|p| p.into_inner()).push((
                        String::from_utf8_lossy(name).to_string(),
                        String::from_utf8_lossy(password).to_string(),
                    ));
                    ldap_message(id, ldap_result(OP_BIND_RESPONSE, 0))
                }
                OP_UNBIND_REQUEST => return,
                OP_EXTENDED_REQUEST => {
                    // StartTLS and anything else: unavailable (52).
                    ldap_message(id, ldap_result(OP_EXTENDED_RESPONSE, 52))
                }
                OP_SEARCH_REQUEST => {
                    let base = BerReader::new(&body)
                        .read(tag::OCTET_STRING, "base")
                        .map(|b| String::from_utf8_lossy(b).to_string())
                        .unwrap_or_default();
                    let entry = if base.is_empty() {
                        rootdse_entry()
                    } else {
                        search_entry(&base, &[("objectClass", b"top")])
                    };
                    if mode == LdapMode::Endless {
                        endless(&mut stream, id, &entry, &stop, born);
                        return;
                    }
                    let mut both = ldap_message(id, entry);
                    both.extend(ldap_message(id, ldap_result(OP_SEARCH_RESULT_DONE, 0)));
                    both
                }
                _ => continue,
            };
            if stream.write_all(&reply).is_err() {
                return;
            }
        }
    }
}

/// Entry after entry until the client goes away, the server stops, or 10 s have passed.
fn endless(stream: &mut TcpStream, id: u32, entry: &[u8], stop: &Stop, born: Instant) {
    let message = ldap_message(id, entry.to_vec());
    let batch: Vec<u8> = message.repeat(64);
    let until = Instant::now() + Duration::from_secs(10);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    while !stop.stopped(born) && Instant::now() < until {
        if stream.write_all(&batch).is_err() {
            return;
        }
    }
}

/// The message id of a CLDAP request (an LDAPMessage over UDP).
pub fn cldap_request_id(request: &[u8]) -> Option<u32> {
    parse_ldap(request).map(|(id, _, _)| id)
}

/// A CLDAP reply: one entry whose `Netlogon` attribute is `netlogon`, then SearchResultDone.
pub fn cldap_reply(id: u32, netlogon: &[u8]) -> Vec<u8> {
    let mut reply = ldap_message(id, search_entry("", &[("netlogon", netlogon)]));
    reply.extend(ldap_message(id, ldap_result(OP_SEARCH_RESULT_DONE, 0)));
    reply
}

/// DC1's netlogon structure as Samba sent it (fixtures/cldap/dc1-default-site.bin): host
/// dc1.corp.jr.test, domain corp.jr.test, site Default-First-Site-Name.
pub fn captured_netlogon() -> Vec<u8> {
    let datagram = include_bytes!("../../fixtures/cldap/dc1-default-site.bin");
    let (_, _, body) = parse_ldap(datagram).expect("captured CLDAP reply");
    let mut entry = BerReader::new(&body);
    entry.read(tag::OCTET_STRING, "dn").expect("dn");
    let mut attributes = entry
        .enter(tag::SEQUENCE, "attributes")
        .expect("attributes");
    let mut attribute = attributes
        .enter(tag::SEQUENCE, "attribute")
        .expect("attribute");
    attribute.read(tag::OCTET_STRING, "name").expect("name");
    let mut values = attribute.enter(tag::SET, "values").expect("values");
    values
        .read(tag::OCTET_STRING, "netlogon")
        .expect("netlogon")
        .to_vec()
}

/// A CLDAP responder on `ip`:389 (root only) that answers every ping with `reply(id)`.
pub fn cldap_responder(ip: Ipv4Addr, reply: impl Fn(u32) -> Vec<u8> + Send + 'static) -> Guard {
    let socket = bind_udp(SocketAddr::from((ip, 389)));
    udp_responder(socket, move |request| {
        cldap_request_id(request)
            .map(|id| vec![reply(id)])
            .unwrap_or_default()
    })
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// `joinready ARGS` in this (the root) network namespace, with a clean environment plus `env`.
pub fn run_raw(args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_joinready"));
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run joinready");
    (output, started.elapsed())
}

/// `joinready run --format json ARGS` here, its report held to the schema.
pub fn run_local(args: &[&str], env: &[(&str, &str)]) -> super::Run {
    let mut all = vec!["run", "--format", "json"];
    all.extend_from_slice(args);
    let (output, elapsed) = run_raw(&all, env);
    super::TestEnv::finish(output, elapsed)
}
