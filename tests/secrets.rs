//! The bind password appears in no output: every format (table, json, prometheus, junit), every
//! verbosity (-q, none, -v, -vv), to stdout and to `--output FILE`, with the password from
//! JOINREADY_BIND_PASSWORD and from `[ldap] bind_password_file`; and the same for proxy
//! credentials (in the proxy URL, or JOINREADY_PROXY_USER/PASSWORD) and their Basic token.
//!
//! The DC is a fake on loopback (tests/support/loopback.rs): DNS on 127.0.0.1 names
//! dc1.corp.jr.test at 127.0.78.1, where an LDAP server accepts any simple bind (and records
//! it, so the test knows the password was really sent) and a CLDAP responder answers the LDAP
//! ping, so the DC locator chooses it and the directory checks bind too. LDAP and CLDAP need
//! port 389, so the test needs root and is `#[ignore]`d with that reason. The same is checked
//! against the Samba DCs of the test environment (ignored likewise); `cargo test --
//! --include-ignored` as root with the environment up (fixtures/test-all.sh) runs both.

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use support::loopback::{
    captured_netlogon, cldap_reply, cldap_responder, run_raw, FakeDns, FakeLdap, LdapMode, DC_NAME,
    STAY_LOCAL,
};
use support::TestEnv;

const FORMATS: [&str; 6] = ["table", "json", "prometheus", "junit", "html", "wide"];
const VERBOSITY: [&[&str]; 4] = [&["-q"], &[], &["-v"], &["-vv"]];

/// Every form of `password` that would be a leak: as it is, and base64 as in an HTTP
/// Authorization header or a bind request dumped as bytes.
fn leaks(password: &str) -> Vec<String> {
    vec![password.to_string(), base64(password.as_bytes())]
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn assert_clean(what: &str, text: &str, password: &str) {
    for leak in leaks(password) {
        assert!(
            !text.contains(&leak),
            "the bind password appears in {what}:\n{text}"
        );
    }
}

/// Runs every format and verbosity, to stdout and to a file, with `run` running joinready.
fn every_output(
    password: &str,
    scratch: &Path,
    run: &dyn Fn(&[&str]) -> std::process::Output,
) -> usize {
    let mut runs = 0;
    for format in FORMATS {
        for verbosity in VERBOSITY {
            for to_file in [false, true] {
                let file = scratch.join(format!("report-{format}-{}.out", verbosity.len()));
                let file_arg = file.display().to_string();
                let mut args = vec!["run", "--format", format];
                args.extend_from_slice(verbosity);
                if to_file {
                    args.extend(["--output", &file_arg]);
                }
                let output = run(&args);
                let what = format!("joinready {}", args.join(" "));
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(
                    matches!(output.status.code(), Some(0..=2)),
                    "{what}: exit {:?}\n{stdout}{stderr}",
                    output.status.code()
                );
                assert_clean(&format!("the stdout of {what}"), &stdout, password);
                assert_clean(&format!("the stderr of {what}"), &stderr, password);
                if to_file {
                    let written = std::fs::read_to_string(&file).expect("the --output file");
                    assert!(!written.is_empty(), "{what} wrote an empty file");
                    assert_clean(&format!("the file written by {what}"), &written, password);
                } else if format == "json" {
                    support::assert_matches_schema(&stdout);
                }
                runs += 1;
            }
        }
    }
    runs
}

#[test]
#[ignore = "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root"]
fn the_bind_password_appears_in_no_output_format_or_file() {
    let dc = Ipv4Addr::new(127, 0, 78, 1);
    let ldap = FakeLdap::start(dc, LdapMode::Directory);
    let _cldap = cldap_responder(dc, |id| cldap_reply(id, &captured_netlogon()));
    let dns = FakeDns::zone(&[(DC_NAME, dc)]);
    let scratch = tempfile::tempdir().expect("temp dir");
    let from_env = "Env-Secret-4f9c!pw";
    let from_file = "File-Secret-b71e!pw";
    let password_file = scratch.path().join("bind-password");
    std::fs::write(&password_file, format!("{from_file}\n")).expect("write password file");
    let profile_text = |with_file: bool| {
        let file = if with_file {
            format!("bind_password_file = \"{}\"\n", password_file.display())
        } else {
            String::new()
        };
        format!(
            "domain = \"corp.jr.test\"\ndns_servers = [\"{}\"]\ntimeout = \"1s\"\ndeadline = \"4s\"\nou = \"OU=Autopilot,DC=corp,DC=jr,DC=test\"\ntenant = \"contoso.onmicrosoft.com\"\n[ldap]\nbind_user = \"svc-join@corp.jr.test\"\ntls = \"none\"\n{file}",
            dns.address
        )
    };

    for (password, with_file) in [(from_env, false), (from_file, true)] {
        let profile = scratch
            .path()
            .join(format!("profile-{}.toml", u8::from(with_file)));
        std::fs::write(&profile, profile_text(with_file)).expect("write profile");
        let profile_arg = profile.display().to_string();
        let env: Vec<(&str, &str)> = if with_file {
            Vec::new()
        } else {
            vec![("JOINREADY_BIND_PASSWORD", password)]
        };
        let runs = every_output(password, scratch.path(), &|args| {
            let mut all = args.to_vec();
            all.extend(["--profile", &profile_arg]);
            all.extend_from_slice(&STAY_LOCAL);
            run_raw(&all, &env).0
        });
        assert_eq!(runs, FORMATS.len() * VERBOSITY.len() * 2);
        // The password did reach the DC: the test would prove nothing otherwise.
        let binds = ldap.binds.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert!(
            binds
                .iter()
                .any(|(user, sent)| user == "svc-join@corp.jr.test" && sent == password),
            "no bind with the password reached the fake DC: {:?}",
            binds
                .iter()
                .map(|(user, sent)| (user, sent.len()))
                .collect::<Vec<_>>()
        );
    }
}

/// The same against the Samba DCs, whose bind succeeds with the service account's password.
#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn the_bind_password_appears_in_no_output_against_the_real_dcs() {
    let env = TestEnv::acquire();
    let profile = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{}\"]\nou = \"OU=Autopilot,DC=corp,DC=jr,DC=test\"\n[ldap]\nbind_user = \"svc-join@corp.jr.test\"\ntls = \"starttls\"\nca_file = \"{}\"\n",
        support::DC1_IP,
        env.ca_bundle()
    ));
    let scratch = tempfile::tempdir().expect("temp dir");
    let runs = every_output(support::SVC_PASSWORD, scratch.path(), &|args| {
        let mut all = args.to_vec();
        all.extend(["--profile", &profile]);
        all.extend_from_slice(&STAY_LOCAL);
        env.run_raw(
            support::CLIENT,
            &all,
            &[("JOINREADY_BIND_PASSWORD", support::SVC_PASSWORD)],
        )
    });
    assert_eq!(runs, FORMATS.len() * VERBOSITY.len() * 2);
}

/// A proxy on loopback that asks for Basic credentials (407), then records the
/// Proxy-Authorization it gets and answers 502, so no endpoint is ever reached.
fn fake_authenticating_proxy(
    address: std::net::SocketAddr,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use std::io::{Read, Write};
    let listener = support::loopback::bind_tcp(address);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut served = 0;
        // Bounded in count and time: the test needs a few hundred connections at most.
        while served < 2_000 && started.elapsed() < std::time::Duration::from_secs(120) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let authorization = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("proxy-authorization:"))
                .map(|l| {
                    l.split_once(':')
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default()
                });
            let reply: &[u8] = match authorization {
                Some(value) => {
                    record.lock().unwrap_or_else(|p| p.into_inner()).push(value);
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
                }
                None => b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
            };
            let _ = stream.write_all(reply);
        }
    });
    seen
}

#[test]
fn proxy_credentials_appear_in_no_output_format_or_file() {
    let address = std::net::SocketAddr::from((Ipv4Addr::new(127, 0, 78, 2), 3128));
    let seen = fake_authenticating_proxy(address);
    let scratch = tempfile::tempdir().expect("temp dir");
    let (user, in_url, in_env) = ("jr", "Url-Proxy-Secret-91c2", "Env-Proxy-Secret-5d0e");
    let profile_text = |credentials: &str| {
        format!(
            "domain = \"corp.jr.test\"\ntimeout = \"1s\"\ndeadline = \"4s\"\n[proxy]\nwpad = false\nurl = \"http://{credentials}{address}\"\n[[endpoints.extra]]\nurl = \"https://ep.corp.jr.test/\"\n"
        )
    };
    for (password, credentials, env) in [
        (in_url, format!("{user}:{in_url}@"), Vec::new()),
        (
            in_env,
            String::new(),
            vec![
                ("JOINREADY_PROXY_USER", user),
                ("JOINREADY_PROXY_PASSWORD", in_env),
            ],
        ),
    ] {
        let profile = scratch
            .path()
            .join(format!("proxy-{}.toml", password.len()));
        std::fs::write(&profile, profile_text(&credentials)).expect("write profile");
        let profile_arg = profile.display().to_string();
        let run = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--profile", &profile_arg, "--only", "endpoints"]);
            run_raw(&all, &env).0
        };
        // The password, and the whole Basic token the proxy got, appear nowhere.
        let token = base64(format!("{user}:{password}").as_bytes());
        assert_eq!(
            every_output(password, scratch.path(), &run),
            FORMATS.len() * VERBOSITY.len() * 2
        );
        assert_eq!(
            every_output(&token, scratch.path(), &run),
            FORMATS.len() * VERBOSITY.len() * 2
        );
        let sent = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert!(
            sent.contains(&format!("Basic {token}")),
            "the credentials never reached the proxy: {} authorizations seen",
            sent.len()
        );
    }
}
