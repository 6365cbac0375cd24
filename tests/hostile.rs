//! Hostile servers: each test aims joinready at a server of its own on loopback that misbehaves
//! in one way (a tarpit, a black hole, garbage, truncation, an endless answer, a reset) and
//! checks the run's guarantees: it ends within its deadline plus one second, its JSON report
//! matches `joinready schema`, the exit code is the right one, and the finding names what
//! happened.
//!
//! The DC is aimed at through DNS: a fake DNS server on 127.0.0.1:PORT answers the SRV
//! questions with dc1.corp.jr.test on an address of 127.0.77.0/24 (every 127.x address is local
//! on Linux), one address per test so that tests can run at once. LDAP, CLDAP and Kerberos have
//! fixed ports (389, 88, 500, 636, and 80 for WPAD), so those tests bind privileged ports and need
//! root: they are `#[ignore]`d with that reason, and `cargo test -- --include-ignored` as root
//! (fixtures/test-all.sh) runs them. The black hole also runs inside the test environment's
//! jr-client namespace, ignored likewise.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use support::loopback::{
    bind_tcp, bind_udp, black_hole, captured_netlogon, cldap_reply, cldap_responder, run_local,
    tcp_answer_then_close, tcp_reset_after_hello, tcp_tarpit, udp_responder, DnsTcp, DnsUdp,
    FakeDns, FakeLdap, LdapMode, DC_NAME, DOMAIN, STAY_LOCAL,
};
use support::{Run, Status, TestEnv, VerdictStatus};

/// Every test's per-check timeout and run deadline, unless it tests the deadline itself.
const TIMEOUT: &str = "1s";
const DEADLINE: &str = "3s";
const DEADLINE_TIME: Duration = Duration::from_secs(3);
/// What a run may take beyond its deadline (README, Guarantees).
const SLACK: Duration = Duration::from_secs(1);

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 77, last)
}

/// `run --domain corp.jr.test --dns-server DNS --timeout 1s --deadline 3s --only ONLY…`.
fn run_against(dns: SocketAddr, only: &[&str], extra: &[&str]) -> Run {
    let dns = dns.to_string();
    let mut args = vec![
        "--domain",
        DOMAIN,
        "--dns-server",
        &dns,
        "--timeout",
        TIMEOUT,
        "--deadline",
        DEADLINE,
    ];
    for id in only {
        args.extend(["--only", id]);
    }
    args.extend_from_slice(&STAY_LOCAL);
    args.extend_from_slice(extra);
    run_local(&args, &[])
}

/// The run ended in time; its report was already held to the schema by `run_local`.
fn assert_in_time(run: &Run, deadline: Duration) {
    assert!(
        run.elapsed < deadline + SLACK,
        "took {:?}, the deadline is {deadline:?}\n{}",
        run.elapsed,
        run.summary()
    );
}

fn assert_finding(run: &Run, id: &str, target: &str, status: Status, words: &[&str]) {
    let check = run.check(id, target);
    assert_eq!(check.status, status, "{}", run.summary());
    for word in words {
        assert!(
            check.finding.contains(word),
            "{id} on {target}: `{word}` not in the finding: {}\n{}",
            check.finding,
            run.summary()
        );
    }
}

fn assert_exit(run: &Run, code: i32) {
    assert_eq!(run.exit_code, code, "{}", run.summary());
}

const SRV_NAME: &str = "_ldap._tcp.dc._msdcs.corp.jr.test";

// --- DNS ----------------------------------------------------------------------------------------

#[test]
fn dns_truncated_then_tcp_refused_is_named() {
    let dns = FakeDns::start(&[(DC_NAME, ip(1))], DnsUdp::Truncated, DnsTcp::Closed);
    let run = run_against(dns.address, &["dc.srv"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.srv",
        SRV_NAME,
        Status::Fail,
        &[
            "truncated answer over UDP and TCP failed",
            "refused",
            "127.0.0.1",
        ],
    );
}

#[test]
fn dns_truncated_then_tcp_tarpit_ends_within_the_timeout() {
    let dns = FakeDns::start(&[(DC_NAME, ip(1))], DnsUdp::Truncated, DnsTcp::Tarpit);
    let run = run_against(dns.address, &["dc.srv"], &[]);
    assert_in_time(&run, Duration::from_secs(1));
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.srv",
        SRV_NAME,
        Status::Fail,
        &["truncated answer over UDP and TCP failed: no answer over TCP within 1s"],
    );
}

#[test]
fn dns_truncated_then_tcp_answer_is_used() {
    let dns = FakeDns::start(&[(DC_NAME, ip(1))], DnsUdp::Truncated, DnsTcp::Zone);
    let run = run_against(dns.address, &["dc.srv"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 0);
    let srv = run.check("dc.srv", SRV_NAME);
    assert_eq!(srv.status, Status::Pass, "{}", run.summary());
    assert_eq!(srv.evidence_json()["servers"][0]["over_tcp"], true);
}

#[test]
fn dns_garbage_reply_is_named_as_malformed() {
    let dns = FakeDns::start(&[(DC_NAME, ip(1))], DnsUdp::Garbage, DnsTcp::Closed);
    let run = run_against(dns.address, &["dc.srv"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.srv",
        SRV_NAME,
        Status::Fail,
        &["malformed answer", "127.0.0.1"],
    );
}

#[test]
fn dns_wrong_id_reply_is_named() {
    let dns = FakeDns::start(&[(DC_NAME, ip(1))], DnsUdp::WrongId, DnsTcp::Closed);
    let run = run_against(dns.address, &["dc.srv"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.srv",
        SRV_NAME,
        Status::Fail,
        &["malformed answer: answer with id", "instead of"],
    );
}

#[test]
fn dns_black_hole_ends_within_the_timeout() {
    let (address, _socket) = black_hole();
    let run = run_against(address, &["dc.srv"], &[]);
    assert_in_time(&run, Duration::from_secs(1));
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.srv",
        SRV_NAME,
        Status::Fail,
        &[
            &format!("the DNS server {address} does not answer (no answer within 1s)"),
            "this device can find no domain controller through it",
        ],
    );
    // Its remedy is about the DNS server, not the records.
    assert!(
        run.check_id("dc.srv").remedy.contains("UDP and TCP 53"),
        "{}",
        run.check_id("dc.srv").remedy
    );
}

/// The test environment's black hole: 10.77.9.9, routed, dropping everything.
#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn black_hole_in_the_test_environment_ends_within_the_deadline() {
    let env = TestEnv::acquire();
    let mut args = vec![
        "--domain",
        DOMAIN,
        "--dns-server",
        support::BLACKHOLE_IP,
        "--timeout",
        "2s",
        "--deadline",
        "4s",
    ];
    args.extend_from_slice(&STAY_LOCAL);
    let run = env.run(support::CLIENT, &args, &[]);
    assert!(
        run.elapsed < Duration::from_secs(4) + SLACK,
        "{:?}",
        run.elapsed
    );
    assert_exit(&run, 2);
    let srv = run.check_id("dc.srv");
    assert_eq!(srv.status, Status::Fail);
    assert!(
        srv.finding.contains(&format!(
            "the DNS server {}:53 does not answer (no answer within 2s)",
            support::BLACKHOLE_IP
        )),
        "{}",
        srv.finding
    );
}

// --- LDAP ---------------------------------------------------------------------------------------

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn ldap_tarpit_ends_within_the_timeout() {
    let listener = bind_tcp(SocketAddr::from((ip(10), 389)));
    let _tarpit = tcp_tarpit(listener);
    let dns = FakeDns::zone(&[(DC_NAME, ip(10))]);
    let run = run_against(dns.address, &["ldap.rootdse"], &[]);
    assert_in_time(&run, Duration::from_secs(1));
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "ldap.rootdse",
        DC_NAME,
        Status::Fail,
        &["TCP 389 accepted the connection but no LDAP answer came within 1s"],
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn ldap_endless_search_result_is_cut_and_named() {
    let _ldap = FakeLdap::start(ip(11), LdapMode::Endless);
    let dns = FakeDns::zone(&[(DC_NAME, ip(11))]);
    let run = run_against(dns.address, &["ldap.rootdse"], &[]);
    assert_in_time(&run, Duration::from_secs(1));
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "ldap.rootdse",
        DC_NAME,
        Status::Fail,
        &["more than one entry"],
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn ldaps_reset_mid_handshake_is_named() {
    let _ldap = FakeLdap::start(ip(12), LdapMode::Directory);
    let listener = bind_tcp(SocketAddr::from((ip(12), 636)));
    let _reset = tcp_reset_after_hello(listener);
    let dns = FakeDns::zone(&[(DC_NAME, ip(12))]);
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("ldaps.toml");
    std::fs::write(&profile, "[ldap]\ntls = \"ldaps\"\n").expect("write profile");
    let run = run_against(
        dns.address,
        &["ldap.bind"],
        &["--profile", profile.to_str().expect("utf-8 path")],
    );
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_eq!(run.check("ldap.rootdse", DC_NAME).status, Status::Pass);
    assert_finding(
        &run,
        "ldap.bind",
        DC_NAME,
        Status::Fail,
        &["LDAPS", "reset"],
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn ldaps_tarpit_ends_within_the_timeout() {
    let _ldap = FakeLdap::start(ip(13), LdapMode::Directory);
    let listener = bind_tcp(SocketAddr::from((ip(13), 636)));
    let _tarpit = tcp_tarpit(listener);
    let dns = FakeDns::zone(&[(DC_NAME, ip(13))]);
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("ldaps.toml");
    std::fs::write(&profile, "[ldap]\ntls = \"ldaps\"\n").expect("write profile");
    let run = run_against(
        dns.address,
        &["ldap.bind"],
        &["--profile", profile.to_str().expect("utf-8 path")],
    );
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_eq!(run.check("ldap.rootdse", DC_NAME).status, Status::Pass);
    assert_finding(
        &run,
        "ldap.bind",
        DC_NAME,
        Status::Fail,
        &["LDAPS", "no LDAP answer came within", "(TLS handshake)"],
    );
}

// --- CLDAP, Kerberos, IKE -----------------------------------------------------------------------

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn cldap_truncated_reply_is_named() {
    let _cldap = cldap_responder(ip(13), |id| {
        let reply = cldap_reply(id, &captured_netlogon());
        reply[..reply.len() - 20].to_vec()
    });
    let dns = FakeDns::zone(&[(DC_NAME, ip(13))]);
    let run = run_against(dns.address, &["dc.cldap"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.cldap",
        DC_NAME,
        Status::Fail,
        &["the DC answered but the reply is unusable", "malformed"],
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn cldap_looping_name_is_named() {
    // The forest name (offset 24 of the netlogon structure) becomes a pointer to itself, and
    // the host name's pointer to the forest name then leads into that loop.
    let mut netlogon = captured_netlogon();
    assert_eq!(&netlogon[24..29], b"\x04corp", "the captured layout");
    netlogon[24] = 0xc0;
    netlogon[25] = 24;
    let _cldap = cldap_responder(ip(14), move |id| cldap_reply(id, &netlogon));
    let dns = FakeDns::zone(&[(DC_NAME, ip(14))]);
    let run = run_against(dns.address, &["dc.cldap"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.cldap",
        DC_NAME,
        Status::Fail,
        &[
            "the DC answered but the reply is unusable",
            "compression pointer",
        ],
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn kerberos_garbage_is_named() {
    let socket = bind_udp(SocketAddr::from((ip(15), 88)));
    let _kdc = udp_responder(socket, |_| {
        vec![b"\x7e\x82\xff\xffHTTP/1.1 400 Bad Request\r\n\r\n".to_vec()]
    });
    let dns = FakeDns::zone(&[(DC_NAME, ip(15))]);
    let run = run_against(dns.address, &["dc.port.kerberos_udp"], &[]);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "dc.port.kerberos_udp",
        DC_NAME,
        Status::Fail,
        &["the KDC's answer is unusable"],
    );
}

/// Garbage to one gateway, a reply that echoes our SPI but breaks off to another.
#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn ike_malformed_replies_are_named() {
    let garbage = bind_udp(SocketAddr::from((ip(20), 500)));
    let broken = bind_udp(SocketAddr::from((ip(21), 500)));
    let _garbage = udp_responder(garbage, |_| vec![vec![0xff; 40]]);
    let _broken = udp_responder(broken, |request| {
        let Some(spi_i) = request.get(..8) else {
            return Vec::new();
        };
        let mut reply = spi_i.to_vec();
        reply.extend_from_slice(&[9; 8]); // responder SPI
        reply.extend_from_slice(&[33, 0x20, 34, 0x20]); // SA next, v2.0, IKE_SA_INIT, response
        reply.extend_from_slice(&0u32.to_be_bytes());
        reply.extend_from_slice(&1000u32.to_be_bytes()); // claims 1000 bytes
        reply.extend_from_slice(&[0, 0, 0, 200, 1, 2, 3]); // an SA payload that breaks off
        vec![reply]
    });
    let dns = FakeDns::zone(&[(DC_NAME, ip(22))]);
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("vpn.toml");
    std::fs::write(
        &profile,
        format!(
            "scenario = \"vpn\"\n[[vpn]]\nhost = \"{}\"\nkind = \"ikev2\"\n[[vpn]]\nhost = \"{}\"\nkind = \"ikev2\"\n",
            ip(20),
            ip(21)
        ),
    )
    .expect("write profile");
    let run = run_against(
        dns.address,
        &["vpn.ike"],
        &["--profile", profile.to_str().expect("utf-8 path")],
    );
    assert_in_time(&run, DEADLINE_TIME);
    // In the vpn scenario the gateways decide: one silent, one alive.
    assert_exit(&run, 1);
    assert_finding(
        &run,
        "vpn.ike",
        &ip(20).to_string(),
        Status::Fail,
        &[
            "no answer to",
            "other datagrams ignored",
            "something answers on UDP 500, but not as an IKEv2 responder",
        ],
    );
    assert_finding(
        &run,
        "vpn.ike",
        &ip(21).to_string(),
        Status::Pass,
        &["alive: it echoed our SPI", "could not decode"],
    );
}

// --- The deadline, and everything at once ---------------------------------------------------------

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_tarpit_longer_than_the_deadline_gives_an_incomplete_report_in_time() {
    let listener = bind_tcp(SocketAddr::from((ip(30), 389)));
    let _tarpit = tcp_tarpit(listener);
    // A slow DNS server starts the LDAP check late, so the check's own 2 s timeout would end
    // after the 2 s deadline: only the deadline can end this run. (With an instant DNS answer
    // the two would tie, and a check that finishes with the deadline is rightly complete.)
    let dns = FakeDns::start(&[(DC_NAME, ip(30))], DnsUdp::Slow, DnsTcp::Zone);
    let server = dns.address.to_string();
    let mut args = vec![
        "--domain",
        DOMAIN,
        "--dns-server",
        &server,
        "--timeout",
        "2s",
        "--deadline",
        "2s",
        "--only",
        "ldap.rootdse",
        // No CLDAP here: without the locator the per-DC check runs against every DC listed.
        "--skip",
        "dc.locator",
    ];
    args.extend_from_slice(&STAY_LOCAL);
    let run = run_local(&args, &[]);
    assert_in_time(&run, Duration::from_secs(2));
    assert_exit(&run, 3);
    assert_eq!(run.report.verdict.status, VerdictStatus::Unknown);
    assert!(!run.report.complete);
    assert_finding(
        &run,
        "ldap.rootdse",
        DC_NAME,
        Status::Error,
        &["not finished: the run's deadline of 2s was reached"],
    );
}

/// A DC where every service misbehaves at once, and the whole catalog aimed at it.
#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_dc_hostile_on_every_port_gives_a_full_report_in_time() {
    let dc = ip(31);
    let ldap = bind_tcp(SocketAddr::from((dc, 389)));
    let _ldap = tcp_tarpit(ldap);
    let _ldaps = tcp_reset_after_hello(bind_tcp(SocketAddr::from((dc, 636))));
    let _gc = tcp_tarpit(bind_tcp(SocketAddr::from((dc, 3268))));
    let _cldap = cldap_responder(dc, |id| cldap_reply(id, &[0xff; 8]));
    let _kdc = udp_responder(bind_udp(SocketAddr::from((dc, 88))), |_| vec![vec![0; 3]]);
    let _kpasswd = udp_responder(bind_udp(SocketAddr::from((dc, 464))), |r| vec![r.to_vec()]);
    let _ntp = udp_responder(bind_udp(SocketAddr::from((dc, 123))), |_| {
        vec![vec![0x1c; 7]]
    });
    let dns = FakeDns::start(&[(DC_NAME, dc)], DnsUdp::Truncated, DnsTcp::Zone);
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("all.toml");
    std::fs::write(
        &profile,
        format!(
            "site = \"Branch\"\nou = \"OU=Autopilot,DC=corp,DC=jr,DC=test\"\n[ldap]\nbind_user = \"svc@corp.jr.test\"\ntls = \"ldaps\"\n[[vpn]]\nhost = \"{dc}\"\nkind = \"ikev2\"\n"
        ),
    )
    .expect("write profile");
    let run = run_against(
        dns.address,
        &[],
        &["--profile", profile.to_str().expect("utf-8 path")],
    );
    // Not one check can pass everywhere, but each must end in its own time, with a reason.
    assert_in_time(&run, DEADLINE_TIME);
    assert!(run.report.checks.len() > 10, "{}", run.summary());
    for check in &run.report.checks {
        assert!(!check.finding.is_empty(), "{} has no finding", check.id);
    }
    // An echo on 464 answers, but not in Kerberos: that is not a kpasswd service.
    assert_finding(
        &run,
        "dc.port.kpasswd_udp",
        DC_NAME,
        Status::Fail,
        &["UDP 464 answered, but not as kpasswd"],
    );
    assert_exit(&run, 2);
    assert_eq!(run.report.verdict.status, VerdictStatus::NotReady);
}

// --- Proxies ------------------------------------------------------------------------------------

/// An endpoint reached through the proxy on `proxy` (never through DNS: the proxy resolves it).
fn run_through_proxy(proxy: SocketAddr) -> Run {
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("proxy.toml");
    std::fs::write(
        &profile,
        format!(
            "domain = \"{DOMAIN}\"\n[proxy]\nwpad = false\nurl = \"http://{proxy}\"\n[[endpoints.extra]]\nurl = \"https://ep.{DOMAIN}/\"\ntls_inspection = \"forbidden\"\n"
        ),
    )
    .expect("write profile");
    run_local(
        &[
            "--profile",
            profile.to_str().expect("utf-8 path"),
            "--only",
            "endpoints",
            "--timeout",
            TIMEOUT,
            "--deadline",
            DEADLINE,
        ],
        &[],
    )
}

#[test]
fn a_proxy_answering_502_is_named() {
    let address = SocketAddr::from((ip(40), 3128));
    let listener = bind_tcp(address);
    let _proxy = tcp_answer_then_close(
        listener,
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
    );
    let run = run_through_proxy(address);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    assert_finding(
        &run,
        "endpoints.reach",
        "ep.corp.jr.test",
        Status::Fail,
        &["502"],
    );
}

#[test]
fn a_proxy_answering_garbage_is_named() {
    let address = SocketAddr::from((ip(41), 3128));
    let listener = bind_tcp(address);
    let _proxy = tcp_answer_then_close(listener, b"\x16\x03\x01\x00\x05hello garbage\r\n\r\n");
    let run = run_through_proxy(address);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    let check = run.check("endpoints.reach", "ep.corp.jr.test");
    assert_eq!(check.status, Status::Fail, "{}", run.summary());
    assert!(
        check.finding.contains("via proxy") && check.finding.contains("the answer is not HTTP"),
        "{}",
        check.finding
    );
}

#[test]
fn a_proxy_tarpit_ends_within_the_timeout() {
    let address = SocketAddr::from((ip(42), 3128));
    let listener = bind_tcp(address);
    let _proxy = tcp_tarpit(listener);
    let run = run_through_proxy(address);
    assert_in_time(&run, DEADLINE_TIME);
    assert_exit(&run, 2);
    let check = run.check("endpoints.reach", "ep.corp.jr.test");
    assert_eq!(check.status, Status::Fail, "{}", run.summary());
    assert!(
        check
            .finding
            .contains("the proxy did not answer CONNECT: no HTTP response within"),
        "{}",
        check.finding
    );
}

// --- WPAD and PAC ------------------------------------------------------------------------------

/// A web server on `address` port 80 that answers every request with `head` then `body`
/// repeated up to `repeat` times (a bounded stream) and closes.
fn serve_wpad(
    address: Ipv4Addr,
    head: &'static str,
    body: &'static [u8],
    repeat: usize,
) -> support::loopback::Guard {
    use std::io::{Read, Write};
    let listener = bind_tcp(SocketAddr::from((address, 80)));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let thread_stop = stop.clone();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut served = 0;
        while served < 20
            && started.elapsed() < Duration::from_secs(30)
            && !thread_stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            if stream.write_all(head.as_bytes()).is_err() {
                continue;
            }
            for _ in 0..repeat {
                // The client stops reading at its cap and closes: that ends this loop.
                if stream.write_all(body).is_err() {
                    break;
                }
            }
        }
    });
    support::loopback::Guard::from_flag(stop)
}

fn run_wpad(dns: SocketAddr, extra_endpoint: bool) -> Run {
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("wpad.toml");
    let endpoint = if extra_endpoint {
        format!("[[endpoints.extra]]\nurl = \"https://ep.{DOMAIN}/\"\n")
    } else {
        String::new()
    };
    std::fs::write(
        &profile,
        format!(
            "domain = \"{DOMAIN}\"\ndns_servers = [\"{dns}\"]\n[proxy]\nwpad = true\n{endpoint}"
        ),
    )
    .expect("write profile");
    run_local(
        &[
            "--profile",
            profile.to_str().expect("utf-8 path"),
            "--only",
            "proxy",
            "--only",
            "endpoints",
            "--timeout",
            "2s",
            "--deadline",
            "4s",
        ],
        // No DHCP lease files: WPAD goes to DNS, which the fake server answers.
        &[("JOINREADY_DHCP_LEASES", "")],
    )
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_100_mb_wpad_dat_is_cut_at_the_cap() {
    let dns = FakeDns::zone(&[("wpad.corp.jr.test", ip(50))]);
    let chunk: &'static [u8] = &[b'/'; 64 * 1024];
    // 1600 × 64 KiB = 100 MiB, ever offered; the tool must stop reading long before.
    let _web = serve_wpad(
        ip(50),
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\nContent-Length: 104857600\r\n\r\n",
        chunk,
        1600,
    );
    let run = run_wpad(dns.address, false);
    assert_in_time(&run, Duration::from_secs(4));
    let wpad = run.check_id("proxy.wpad");
    assert!(
        matches!(wpad.status, Status::Warn | Status::Fail),
        "{}",
        run.summary()
    );
    assert_eq!(wpad.status, Status::Warn, "{}", run.summary());
    assert!(
        wpad.finding
            .contains("the file is larger than the 1048576 bytes a PAC file may have"),
        "{}",
        wpad.finding
    );
}

const PAC_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\nConnection: close\r\n\r\n";

/// A run whose WPAD (wpad.corp.jr.test on `ip(last)`) serves `script`; with `extra_endpoint`,
/// ep.corp.jr.test on `ip(last + 1)` is checked too.
fn run_hostile_pac(last: u8, script: &'static [u8], extra_endpoint: bool) -> Run {
    let dns = FakeDns::zone(&[
        ("wpad.corp.jr.test", ip(last)),
        ("ep.corp.jr.test", ip(last + 1)),
    ]);
    let _web = serve_wpad(ip(last), PAC_HEAD, script, 1);
    run_wpad(dns.address, extra_endpoint)
}

/// proxy.wpad ended in time with a warning that has every one of `words`.
fn assert_wpad_warns(run: &Run, words: &[&str]) {
    assert_in_time(run, Duration::from_secs(4));
    let wpad = run.check_id("proxy.wpad");
    assert_eq!(wpad.status, Status::Warn, "{}", run.summary());
    for word in words {
        assert!(
            wpad.finding.contains(word),
            "`{word}` not in: {}",
            wpad.finding
        );
    }
}

/// Windows falls back to direct, and so does the endpoint's route, saying why.
fn assert_endpoint_direct(run: &Run, why: &str) {
    let endpoint = run.check("endpoints.reach", "ep.corp.jr.test");
    let expected = format!("direct (no proxy: {why}, see proxy.wpad)");
    assert!(
        endpoint.finding.starts_with(&expected),
        "{}",
        endpoint.finding
    );
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_pac_with_an_endless_loop_is_stopped_and_named() {
    let script = b"function FindProxyForURL(url, host) { while (true) {} }\n";
    let run = run_hostile_pac(51, script, true);
    assert_wpad_warns(&run, &["ran longer than its CPU limit"]);
    assert_endpoint_direct(&run, "WPAD's PAC script fails");
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_pac_memory_bomb_is_stopped_and_named() {
    let script = b"function FindProxyForURL(url, host) { var a = []; while (true) { a.push(new Array(1000000).fill(host)); } }\n";
    let run = run_hostile_pac(53, script, false);
    assert_wpad_warns(&run, &["but the PAC script fails"]);
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_pac_with_a_catastrophic_regex_is_stopped_and_named() {
    // Exponential backtracking: (a+)+ against many a's that do not end in the expected b.
    let script = b"function FindProxyForURL(url, host) { /^(a+)+b$/.test(Array(60).join('a') + 'c'); return 'DIRECT'; }\n";
    let run = run_hostile_pac(54, script, false);
    assert_wpad_warns(&run, &["ran longer than its CPU limit"]);
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn a_wpad_server_that_never_answers_ends_within_the_timeout() {
    let dns = FakeDns::zone(&[("wpad.corp.jr.test", ip(55)), ("ep.corp.jr.test", ip(56))]);
    let listener = bind_tcp(SocketAddr::from((ip(55), 80)));
    let _tarpit = tcp_tarpit(listener);
    let run = run_wpad(dns.address, true);
    assert_wpad_warns(&run, &["wpad.corp.jr.test", "2s"]);
    assert_endpoint_direct(&run, "WPAD's PAC file could not be fetched");
}
