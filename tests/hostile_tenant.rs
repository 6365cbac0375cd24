//! Hostile proxies in front of the tenant checks: each test points the profile's `[proxy] url`
//! at a server of its own on loopback that misbehaves (a tarpit, a 407), and checks that every
//! tenant check ends within its timeout and names the proxy and what it did. The tenant's
//! names are only ever sent to that loopback proxy inside CONNECT: nothing resolves them and
//! nothing leaves the machine.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use support::loopback::{bind_tcp, run_local, tcp_answer_then_close, tcp_tarpit};
use support::{Run, Status};

const CHECKS: [&str; 3] = ["tenant.openid", "tenant.registration", "tenant.realm"];

fn run_through_proxy(proxy: SocketAddr) -> Run {
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = directory.path().join("tenant.toml");
    std::fs::write(
        &profile,
        format!(
            "domain = \"corp.jr.test\"\ntenant = \"contoso.onmicrosoft.com\"\n[proxy]\nwpad = false\nurl = \"http://{proxy}\"\n"
        ),
    )
    .expect("write profile");
    let mut args = vec![
        "--profile",
        profile.to_str().expect("utf-8 path"),
        "--timeout",
        "1s",
        "--deadline",
        "3s",
    ];
    for id in CHECKS {
        args.extend(["--only", id]);
    }
    run_local(&args, &[])
}

#[test]
fn a_proxy_tarpit_ends_every_tenant_check_within_its_timeout() {
    let address = SocketAddr::from((Ipv4Addr::new(127, 0, 79, 1), 3128));
    let _proxy = tcp_tarpit(bind_tcp(address));
    let run = run_through_proxy(address);
    // The checks run at once: about one timeout in all, not one per check.
    assert!(
        run.elapsed < Duration::from_secs(3),
        "{:?}\n{}",
        run.elapsed,
        run.summary()
    );
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    let openid = run.check("tenant.openid", "contoso.onmicrosoft.com");
    assert_eq!(openid.status, Status::Fail, "{}", run.summary());
    assert!(
        openid.finding.contains("did not answer")
            && openid.finding.contains("via proxy 127.0.79.1:3128")
            && openid.finding.contains("the proxy did not answer CONNECT"),
        "{}",
        openid.finding
    );
    let registration = run.check_id("tenant.registration");
    assert_eq!(
        registration.status,
        Status::Fail,
        "{}",
        registration.finding
    );
    assert!(
        registration.finding.contains("via proxy 127.0.79.1:3128"),
        "{}",
        registration.finding
    );
    // The realm waits for the tenant to be found, which the proxy prevented.
    assert_eq!(run.check_id("tenant.realm").status, Status::Skip);
}

#[test]
fn a_proxy_demanding_authentication_is_named_by_every_tenant_check() {
    let address = SocketAddr::from((Ipv4Addr::new(127, 0, 79, 2), 3128));
    let _proxy = tcp_answer_then_close(
        bind_tcp(address),
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n",
    );
    let run = run_through_proxy(address);
    assert_eq!(run.exit_code, 2, "{}", run.summary());
    for id in ["tenant.openid", "tenant.registration"] {
        let check = run.check_id(id);
        assert_eq!(check.status, Status::Fail, "{}", run.summary());
        assert!(
            check.finding.contains("answers 407 (Negotiate, NTLM)")
                && check.finding.contains("SYSTEM"),
            "{id}: {}",
            check.finding
        );
    }
}
