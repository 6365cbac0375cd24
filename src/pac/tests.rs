//! PAC helpers against reference results (Netscape's examples, pacparser's and Chromium's
//! tests), and hostile scripts that must be stopped with a clear error.

use super::*;

/// 2024-03-15 (a Friday) 13:30:45 UTC.
const NOW_MS: f64 = 1_710_509_445_000.0;

fn env() -> Environment {
    let mut dns = BTreeMap::new();
    dns.insert(
        "www.corp.jr.test".to_string(),
        vec!["10.77.0.30".parse().unwrap()],
    );
    dns.insert(
        "dual.corp.jr.test".to_string(),
        vec![
            "2001:db8::5".parse().unwrap(),
            "10.77.0.31".parse().unwrap(),
        ],
    );
    dns.insert("gone.corp.jr.test".to_string(), Vec::new());
    Environment {
        my_ip: Some("10.77.0.100".parse().unwrap()),
        my_ips: vec![
            "10.77.0.100".parse().unwrap(),
            "2001:db8::100".parse().unwrap(),
        ],
        dns,
        now_ms: NOW_MS,
    }
}

/// Evaluates `expression` as the body of FindProxyForURL, stringified.
fn eval(expression: &str) -> String {
    let source = format!("function FindProxyForURL(url, host) {{ return String({expression}); }}");
    run_once(
        &source,
        "t.pac",
        "http://x/",
        "x",
        &env(),
        Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{expression}: {e}"))
    .result
}

#[test]
fn standard_helpers_match_reference_results() {
    let cases = [
        ("isPlainHostName('www')", "true"),
        ("isPlainHostName('www.netscape.com')", "false"),
        ("isPlainHostName('::1')", "false"),
        ("dnsDomainIs('www.netscape.com', '.netscape.com')", "true"),
        ("dnsDomainIs('www', '.netscape.com')", "false"),
        ("dnsDomainIs('www.mcom.com', '.netscape.com')", "false"),
        (
            "localHostOrDomainIs('www.netscape.com', 'www.netscape.com')",
            "true",
        ),
        ("localHostOrDomainIs('www', 'www.netscape.com')", "true"),
        (
            "localHostOrDomainIs('www.mcom.com', 'www.netscape.com')",
            "false",
        ),
        (
            "localHostOrDomainIs('home.netscape.com', 'www.netscape.com')",
            "false",
        ),
        ("dnsDomainLevels('www')", "0"),
        ("dnsDomainLevels('www.netscape.com')", "2"),
        (
            "shExpMatch('http://home.netscape.com/people/ari/index.html', '*/ari/*')",
            "true",
        ),
        (
            "shExpMatch('http://home.netscape.com/people/montulli/index.html', '*/ari/*')",
            "false",
        ),
        ("shExpMatch('a.b', 'a?b')", "true"),
        ("shExpMatch('axb', 'a.b')", "false"),
        ("shExpMatch('a(b', 'a(b')", "true"),
        ("shExpMatch('abc', '*')", "true"),
        (
            "isInNet('198.95.249.79', '198.95.249.79', '255.255.255.255')",
            "true",
        ),
        ("isInNet('198.95.6.8', '198.95.0.0', '255.255.0.0')", "true"),
        (
            "isInNet('198.96.6.8', '198.95.0.0', '255.255.0.0')",
            "false",
        ),
        (
            "isInNet('www.corp.jr.test', '10.77.0.0', '255.255.0.0')",
            "true",
        ),
        (
            "isInNet('gone.corp.jr.test', '10.77.0.0', '255.255.0.0')",
            "false",
        ),
        ("isInNet('300.1.1.1', '0.0.0.0', '0.0.0.0')", "false"),
        ("dnsResolve('www.corp.jr.test')", "10.77.0.30"),
        ("dnsResolve('dual.corp.jr.test')", "10.77.0.31"),
        ("dnsResolve('gone.corp.jr.test')", "null"),
        ("dnsResolve('10.1.2.3')", "10.1.2.3"),
        ("isResolvable('www.corp.jr.test')", "true"),
        ("isResolvable('gone.corp.jr.test')", "false"),
        ("myIpAddress()", "10.77.0.100"),
        ("weekdayRange('MON', 'FRI', 'GMT')", "true"),
        ("weekdayRange('SAT', 'GMT')", "false"),
        ("weekdayRange('FRI', 'MON', 'GMT')", "true"),
        ("weekdayRange('SAT', 'THU', 'GMT')", "false"),
        ("weekdayRange('XYZ')", "false"),
        ("dateRange(15, 'GMT')", "true"),
        ("dateRange('MAR', 'GMT')", "true"),
        ("dateRange('JAN', 'FEB', 'GMT')", "false"),
        ("dateRange(2024, 'GMT')", "true"),
        ("dateRange(1, 15, 'GMT')", "true"),
        ("dateRange('JAN', 'MAR', 'GMT')", "true"),
        ("dateRange('OCT', 'FEB', 'GMT')", "false"),
        ("dateRange(1, 'MAR', 2024, 31, 'MAR', 2024, 'GMT')", "true"),
        ("dateRange(1, 'APR', 2024, 31, 'DEC', 2024, 'GMT')", "false"),
        ("timeRange(13, 'GMT')", "true"),
        ("timeRange(12, 'GMT')", "false"),
        ("timeRange(9, 17, 'GMT')", "true"),
        ("timeRange(14, 17, 'GMT')", "false"),
        ("timeRange(13, 30, 13, 31, 'GMT')", "true"),
        ("timeRange(13, 31, 14, 0, 'GMT')", "false"),
        ("timeRange(22, 0, 14, 0, 'GMT')", "true"),
        ("timeRange(13, 30, 0, 13, 30, 44, 'GMT')", "false"),
        ("timeRange(13, 30, 0, 13, 30, 45, 'GMT')", "true"),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), expected, "{expression}");
    }
}

#[test]
fn microsoft_ex_helpers() {
    let cases = [
        (
            "dnsResolveEx('dual.corp.jr.test')",
            "2001:db8::5;10.77.0.31",
        ),
        ("dnsResolveEx('gone.corp.jr.test')", ""),
        ("isResolvableEx('dual.corp.jr.test')", "true"),
        ("isResolvableEx('gone.corp.jr.test')", "false"),
        ("myIpAddressEx()", "10.77.0.100;2001:db8::100"),
        ("isInNetEx('198.95.249.79', '198.95.249.0/24')", "true"),
        ("isInNetEx('198.95.250.79', '198.95.249.0/24')", "false"),
        ("isInNetEx('2001:db8::5', '2001:db8::/32')", "true"),
        ("isInNetEx('2001:db9::5', '2001:db8::/32')", "false"),
        ("isInNetEx('10.0.0.1', '2001:db8::/32')", "false"),
        ("isInNetEx('10.0.0.1', 'junk')", "false"),
        (
            "sortIpAddressList('10.2.3.9;2001:4898:28:3:201:2ff:feea:fc14;::1;127.0.0.1;::9')",
            "::1;::9;2001:4898:28:3:201:2ff:feea:fc14;10.2.3.9;127.0.0.1",
        ),
        ("sortIpAddressList('x;10.0.0.1')", ""),
        ("getClientVersion()", "1.0"),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), expected, "{expression}");
    }
}

#[test]
fn find_proxy_for_url_ex_wins_as_on_windows() {
    let source = "function FindProxyForURL(u, h) { return 'DIRECT'; }\nfunction FindProxyForURLEx(u, h) { return 'PROXY ex:1'; }";
    let run = run_once(
        source,
        "t.pac",
        "https://a/",
        "a",
        &env(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(run.result, "PROXY ex:1");
}

#[test]
fn unknown_names_are_asked_for_and_resolved_between_runs() {
    let source = "function FindProxyForURL(url, host) {\n  if (isInNet(dnsResolve(host), '10.77.0.0', '255.255.0.0')) return 'DIRECT';\n  return 'PROXY p:3128';\n}";
    let first = run_once(
        source,
        "t.pac",
        "https://new.corp.jr.test/",
        "new.corp.jr.test",
        &env(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(first.unresolved, vec!["new.corp.jr.test"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let decision = runtime
        .block_on(find_proxy(
            Arc::from(source),
            "t.pac",
            "https://new.corp.jr.test/",
            "new.corp.jr.test",
            env(),
            Limits::default(),
            |name| async move {
                assert_eq!(name, "new.corp.jr.test");
                vec!["10.77.5.5".parse().unwrap()]
            },
        ))
        .unwrap();
    assert_eq!(decision.result, "DIRECT");
    assert_eq!(decision.runs, 2);
    assert_eq!(
        decision.dns["new.corp.jr.test"],
        vec!["10.77.5.5".parse::<IpAddr>().unwrap()]
    );
}

fn hostile(source: &str) -> (PacError, Duration) {
    hostile_within(
        source,
        Limits {
            cpu: Duration::from_millis(300),
            memory: 16 * 1024 * 1024,
        },
    )
}

fn hostile_within(source: &str, limits: Limits) -> (PacError, Duration) {
    let started = Instant::now();
    let error = run_once(
        source,
        "wpad.dat",
        "https://a.test/",
        "a.test",
        &env(),
        limits,
    )
    .err()
    .unwrap_or_else(|| panic!("not stopped: {source}"));
    (error, started.elapsed())
}

#[test]
fn an_endless_loop_is_stopped_by_the_cpu_limit() {
    for source in [
        "function FindProxyForURL(u, h) { while (true) {} }",
        "while (true) {}",
        "function FindProxyForURL(u, h) { for (;;) { try { for (;;) {} } catch (e) {} } }",
    ] {
        let (error, took) = hostile(source);
        assert_eq!(error, PacError::CpuLimit { limit_ms: 300 }, "{source}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert!(error.to_string().contains("CPU limit of 300 ms"));
    }
}

#[test]
fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    for source in [
        "function FindProxyForURL(u, h) { var a = []; for (;;) a.push(new Array(100000).fill(1)); }",
        "function FindProxyForURL(u, h) { var s = 'x'; for (;;) s = s + s; }",
        "function FindProxyForURL(u, h) { var o = {}; for (var i = 0; ; i++) o['k' + i] = [i, i, i]; }",
    ] {
        // CPU time to spare: on a loaded machine the 300 ms CPU limit could stop the script
        // before it has allocated 16 MiB, and this test is about the memory limit.
        let (error, took) = hostile_within(
            source,
            Limits {
                cpu: Duration::from_secs(10),
                memory: 16 * 1024 * 1024,
            },
        );
        // QuickJS builds doubled strings as ropes and stops them at its 2^30 length limit
        // before the memory limit: stopped all the same, with a clear message.
        let stopped = match &error {
            PacError::MemoryLimit { .. } => true,
            PacError::Script { message, .. } => message.contains("too long"),
            _ => false,
        };
        assert!(stopped, "{source}: {error}");
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}

#[test]
fn a_catastrophic_regex_is_stopped_by_the_cpu_limit() {
    let source = "function FindProxyForURL(u, h) { return /^(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab') ? 'DIRECT' : 'PROXY p:1'; }";
    let (error, took) = hostile(source);
    assert_eq!(error, PacError::CpuLimit { limit_ms: 300 });
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    let (error, _) = hostile(
        "function f(n) { return f(n + 1) + 1; }\nfunction FindProxyForURL(u, h) { return f(0); }",
    );
    assert!(
        matches!(
            error,
            PacError::Script { .. } | PacError::MemoryLimit { .. }
        ),
        "{error}"
    );
}

#[test]
fn script_errors_name_line_and_column() {
    let (error, _) = hostile(
        "function FindProxyForURL(url, host) {\n  var x = 1;\n  return undefinedThing(x);\n}",
    );
    match &error {
        PacError::Script {
            file,
            message,
            line,
            ..
        } => {
            assert_eq!(file, "wpad.dat");
            assert!(message.contains("undefinedThing"), "{message}");
            assert_eq!(*line, Some(3), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let (error, _) = hostile("function FindProxyForURL(url, host) {\n  return 'DIRECT'\n  }}\n");
    match &error {
        PacError::Script { line, message, .. } => {
            assert!(
                message.to_lowercase().contains("unexpected") || message.contains("expecting"),
                "{message}"
            );
            assert_eq!(*line, Some(3), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().starts_with("wpad.dat:3"), "{error}");
}

#[test]
fn scripts_without_the_function_or_with_a_wrong_result_are_named() {
    assert_eq!(hostile("var x = 1;").0, PacError::NoFunction);
    assert!(matches!(
        hostile("function FindProxyForURL(u, h) { return 42; }").0,
        PacError::NotString { .. }
    ));
    let (error, _) = hostile("function FindProxyForURL(u, h) { throw 'no'; }");
    assert!(error.to_string().contains("no"), "{error}");
}

#[test]
fn helpers_do_not_leak_between_runs() {
    let source = "var n = (typeof n == 'undefined') ? 1 : n + 1; function FindProxyForURL(u, h) { return 'PROXY p:' + n; }";
    for _ in 0..2 {
        let run = run_once(source, "t.pac", "http://a/", "a", &env(), Limits::default()).unwrap();
        assert_eq!(run.result, "PROXY p:1");
    }
}

#[test]
fn the_locate_parser_reads_quickjs_stacks() {
    assert_eq!(
        locate("    at f (wpad.dat:3:12)\n", "wpad.dat"),
        (Some(3), Some(12))
    );
    assert_eq!(locate("    at wpad.dat:7\n", "wpad.dat"), (Some(7), None));
    assert_eq!(locate("nothing", "wpad.dat"), (None, None));
}
