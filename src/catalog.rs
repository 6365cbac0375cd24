//! The check catalog: `checks/*.toml` embedded at build time plus the user's own files.
//! Checks are data: each names its kind (`src/check/`), the kind's parameters, what it needs and
//! provides, and how its failures weigh. Everything is validated when the catalog loads.

use crate::check::shape::{Fact, FanOut};
use crate::check::{Kind, Params};
use crate::endpoints::{EndpointDef, EndpointProtocol, TlsInspection, ENDPOINT_SETS};
use crate::model::Area;
use crate::suggest::closest;
use crate::toml_errors::{explain_toml_message, locate};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The built-in catalog, one file per area of the product.
const BUILTIN: &[(&str, &str)] = &[
    ("checks/dns.toml", include_str!("../checks/dns.toml")),
    ("checks/dc.toml", include_str!("../checks/dc.toml")),
    ("checks/ldap.toml", include_str!("../checks/ldap.toml")),
    ("checks/time.toml", include_str!("../checks/time.toml")),
    ("checks/vpn.toml", include_str!("../checks/vpn.toml")),
    ("checks/proxy.toml", include_str!("../checks/proxy.toml")),
    (
        "checks/endpoints.toml",
        include_str!("../checks/endpoints.toml"),
    ),
    ("checks/tenant.toml", include_str!("../checks/tenant.toml")),
    ("checks/host.toml", include_str!("../checks/host.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: cannot read checks: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    endpoint: Vec<Spanned<RawEndpoint>>,
}

/// An `[[endpoint]]` entry: an internet endpoint the device must reach, as data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    host: String,
    port: Option<u16>,
    #[serde(default)]
    protocol: EndpointProtocol,
    #[serde(default = "default_portal_path")]
    path: String,
    sets: Vec<String>,
    purpose: String,
    source: String,
    tls_inspection: TlsInspection,
    wildcard: Option<String>,
    #[serde(default)]
    optional: bool,
    expect_body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    area: Area,
    title: String,
    /// The check kind; `probe` is the name it had before version 0.2.
    #[serde(alias = "probe")]
    kind: Spanned<String>,
    #[serde(default)]
    params: Option<Spanned<toml::Table>>,
    #[serde(default)]
    needs: Vec<String>,
    for_each: Option<Spanned<String>>,
    #[serde(default)]
    provides: Vec<Fact>,
    downgrade_if_passed: Option<String>,
    #[serde(default)]
    corporate_network: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    required_in: Vec<crate::model::Scenario>,
    why: String,
    remedy: String,
}

fn default_portal_path() -> String {
    "/".to_string()
}

/// One check of the catalog.
#[derive(Debug, Clone)]
pub struct CheckDef {
    pub id: String,
    pub area: Area,
    pub title: String,
    pub kind: Kind,
    pub params: Params,
    pub needs: Vec<String>,
    pub provides: Vec<Fact>,
    /// A failure of this check is only a warning when the named check passed on the same target
    /// (ICMP dropped while LDAP answers: the DC is up, a firewall filters ping).
    pub downgrade_if_passed: Option<String>,
    /// Only reachable from the corporate network: in the vpn scenario a failure is expected.
    pub corporate_network: bool,
    /// Nice to have: a failure is reported as a warning.
    pub optional: bool,
    /// The scenarios in which a failure makes the device not ready; elsewhere it only warns.
    /// Empty: every scenario.
    pub required_in: Vec<crate::model::Scenario>,
    pub why: String,
    pub remedy: String,
    /// Which file defined it, for `explain`.
    pub source: String,
    /// `file:line:column` of its `[[check]]`, for errors.
    pub location: String,
}

impl CheckDef {
    pub fn fan_out(&self) -> FanOut {
        self.kind.spec().fan_out
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub checks: Vec<CheckDef>,
}

impl Catalog {
    /// The built-in checks plus every `*.toml` in `extra_dirs`, validated as one whole.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut user_files = Vec::new();
        for dir in extra_dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|source| CatalogError::Read {
                    path: dir.display().to_string(),
                    source,
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                user_files.push((path, text));
            }
        }
        Catalog::with_user_files(&user_files)
    }

    /// The built-in checks plus the given (path, text) files, validated as one whole; `load`
    /// without the file system (the fuzz target uses it).
    pub fn with_user_files(user_files: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
        let mut checks = Vec::new();
        let mut endpoints = Vec::new();
        let builtin = BUILTIN.iter().map(|(path, text)| (Path::new(*path), *text));
        let user = user_files
            .iter()
            .map(|(path, text)| (path.as_path(), text.as_str()));
        for (path, text) in builtin.chain(user) {
            let (more, more_endpoints) = parse_file(path, text)?;
            checks.extend(more);
            endpoints.extend(more_endpoints);
        }
        validate(&checks)?;
        for check in &mut checks {
            if let Params::Endpoint(params) = &mut check.params {
                params.endpoints = endpoints.clone();
            }
        }
        Ok(Catalog { checks })
    }

    pub fn get(&self, id: &str) -> Option<&CheckDef> {
        self.checks.iter().find(|check| check.id == id)
    }

    /// "did you mean" for a mistyped id or area, with the valid choices.
    pub fn unknown_selector_message(&self, typed: &str) -> String {
        let ids = self.checks.iter().map(|c| c.id.as_str());
        let areas = Area::ALL.iter().map(|a| a.as_str());
        let hint = closest(typed, ids.chain(areas))
            .map(|best| format!("did you mean `{best}`? "))
            .unwrap_or_default();
        let areas: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
        format!(
            "unknown check or area `{typed}`: {hint}areas are {}; check ids are listed by `joinready checks`",
            areas.join(", ")
        )
    }
}

fn invalid(path: &Path, text: &str, span: std::ops::Range<usize>, message: String) -> CatalogError {
    CatalogError::Invalid {
        location: locate(path, text, Some(span)),
        message,
    }
}

/// The built-in `[[endpoint]]` entries (for unit tests and for listing).
pub fn builtin_endpoints() -> Vec<EndpointDef> {
    BUILTIN
        .iter()
        .filter_map(|(path, text)| parse_file(Path::new(path), text).ok())
        .flat_map(|(_, endpoints)| endpoints)
        .collect()
}

fn parse_endpoint(
    path: &Path,
    text: &str,
    spanned: Spanned<RawEndpoint>,
) -> Result<EndpointDef, CatalogError> {
    let span = spanned.span();
    let raw = spanned.into_inner();
    let fail = |message: String| {
        invalid(
            path,
            text,
            span.clone(),
            format!("endpoint `{}`: {message}", raw.host),
        )
    };
    if !crate::wire::url::valid_host_name(&raw.host) || raw.host.contains('*') {
        return Err(fail(
            "the host must be a DNS name; for a wildcard write `wildcard = \"*.example.com\"` and a representative `host = \"a.example.com\"`".to_string(),
        ));
    }
    if let Some(wildcard) = &raw.wildcard {
        let suffix = wildcard.strip_prefix('*').unwrap_or_default();
        if !wildcard.starts_with("*.")
            || !raw.host.ends_with(suffix)
            || raw.host.len() <= suffix.len()
        {
            return Err(fail(format!(
                "the wildcard `{wildcard}` must look like `*.example.com` and cover the host"
            )));
        }
    }
    if raw.sets.is_empty() {
        return Err(fail(format!(
            "name its sets, e.g. `sets = [\"{}\"]`",
            ENDPOINT_SETS[0]
        )));
    }
    for set in &raw.sets {
        if !ENDPOINT_SETS.contains(&set.as_str()) {
            let hint = closest(set, ENDPOINT_SETS.iter().copied())
                .map(|b| format!("did you mean `{b}`? "))
                .unwrap_or_default();
            return Err(fail(format!(
                "unknown set `{set}`: {hint}sets are {}",
                ENDPOINT_SETS.join(", ")
            )));
        }
    }
    if !raw.path.starts_with('/') {
        return Err(fail(format!("path `{}` must start with `/`", raw.path)));
    }
    if raw.expect_body.is_some() && raw.protocol != EndpointProtocol::Http {
        return Err(fail(
            "expect_body is checked on plain HTTP only: add `protocol = \"http\"` or remove it"
                .to_string(),
        ));
    }
    Ok(EndpointDef {
        port: raw.port.unwrap_or(raw.protocol.default_port()),
        host: raw.host.to_ascii_lowercase(),
        protocol: raw.protocol,
        path: raw.path,
        sets: raw.sets,
        purpose: raw.purpose.trim().to_string(),
        source: raw.source,
        tls_inspection: raw.tls_inspection,
        wildcard: raw.wildcard,
        optional: raw.optional,
        expect_body: raw.expect_body,
    })
}

type Parsed = (Vec<CheckDef>, Vec<EndpointDef>);

fn parse_file(path: &Path, text: &str) -> Result<Parsed, CatalogError> {
    let file: CatalogFile = toml::from_str(text).map_err(|error| CatalogError::Invalid {
        location: locate(path, text, error.span()),
        message: explain_toml_message(error.message()),
    })?;
    let mut endpoints: Vec<EndpointDef> = Vec::new();
    for spanned in file.endpoint {
        let span = spanned.span();
        let endpoint = parse_endpoint(path, text, spanned)?;
        if endpoints
            .iter()
            .any(|e| e.host == endpoint.host && e.port == endpoint.port)
        {
            return Err(invalid(
                path,
                text,
                span,
                format!(
                    "endpoint `{}` port {} is listed twice: add the sets to the first entry",
                    endpoint.host, endpoint.port
                ),
            ));
        }
        endpoints.push(endpoint);
    }
    let checks = file
        .check
        .into_iter()
        .map(|spanned| parse_check(path, text, spanned))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((checks, endpoints))
}

/// Kinds that were renamed or split, with what to write instead.
const RENAMED_KINDS: &[(&str, &str)] = &[(
    "udp",
    "the kind `udp` is now two kinds: write `kind = \"kpasswd\"` or `kind = \"ntp\"` and drop `payload`",
)];

/// One `[[check]]`, validated on its own against its kind: id, kind, params, fan-out, facts.
fn parse_check(
    path: &Path,
    text: &str,
    spanned: Spanned<RawCheck>,
) -> Result<CheckDef, CatalogError> {
    let span = spanned.span();
    let raw = spanned.into_inner();
    let id = raw.id.clone();
    let at = |span: std::ops::Range<usize>, message: String| {
        invalid(path, text, span, format!("check `{id}`: {message}"))
    };
    if !valid_id(&raw.id) {
        return Err(invalid(
            path,
            text,
            span,
            format!(
                "check id `{}` must be lowercase words joined by `.` or `_`, e.g. `dc.srv`",
                raw.id
            ),
        ));
    }
    let kind_name = raw.kind.get_ref().as_str();
    let Some(kind) = Kind::from_name(kind_name) else {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let message = match RENAMED_KINDS.iter().find(|(old, _)| *old == kind_name) {
            Some((_, instead)) => instead.to_string(),
            None => {
                let hint = closest(kind_name, names.iter().copied())
                    .map(|b| format!("did you mean `{b}`? "))
                    .unwrap_or_default();
                format!(
                    "unknown kind `{kind_name}`: {hint}kinds are {}",
                    names.join(", ")
                )
            }
        };
        return Err(at(raw.kind.span(), message));
    };
    let (params_span, table) = match raw.params {
        Some(params) => (params.span(), params.into_inner()),
        None => (span.clone(), toml::Table::new()),
    };
    let params = kind.params(table).map_err(|error| {
        at(
            params_span,
            format!(
                "params of kind `{}`: {}",
                kind.name(),
                explain_toml_message(error.message())
            ),
        )
    })?;
    let spec = kind.spec();
    match (spec.fan_out.for_each(), &raw.for_each) {
        (None, None) => {}
        (None, Some(each)) => {
            return Err(at(
                each.span(),
                format!(
                    "kind `{}` runs once: remove `for_each = \"{}\"`",
                    kind.name(),
                    each.get_ref()
                ),
            ))
        }
        (Some(wanted), None) => {
            return Err(at(
                span,
                format!(
                    "kind `{}` runs {}: add `for_each = \"{wanted}\"`",
                    kind.name(),
                    spec.fan_out.runs()
                ),
            ))
        }
        (Some(wanted), Some(each)) if each.get_ref() != wanted => {
            return Err(at(
                each.span(),
                format!(
                    "kind `{}` runs {}: write `for_each = \"{wanted}\"`",
                    kind.name(),
                    spec.fan_out.runs()
                ),
            ))
        }
        (Some(_), Some(_)) => {}
    }
    for fact in &raw.provides {
        if !spec.can_provide.contains(fact) {
            let can: Vec<String> = spec
                .can_provide
                .iter()
                .map(|f| format!("`{}`", f.as_str()))
                .collect();
            let what = if can.is_empty() {
                "provides no fact: remove `provides`".to_string()
            } else {
                format!("can provide only {}", can.join(", "))
            };
            return Err(at(
                span,
                format!(
                    "kind `{}` cannot provide `{}`: it {what}",
                    kind.name(),
                    fact.as_str()
                ),
            ));
        }
    }
    Ok(CheckDef {
        id: raw.id,
        area: raw.area,
        title: raw.title,
        kind,
        params,
        needs: raw.needs,
        provides: raw.provides,
        downgrade_if_passed: raw.downgrade_if_passed,
        corporate_network: raw.corporate_network,
        optional: raw.optional,
        required_in: raw.required_in,
        why: raw.why.trim().to_string(),
        remedy: raw.remedy.trim().to_string(),
        source: path.display().to_string(),
        location: locate(path, text, Some(span)),
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        && !id.starts_with('.')
        && !id.ends_with('.')
}

/// The checks as one whole: ids, references, fan-outs, facts and the dependency graph.
fn validate(checks: &[CheckDef]) -> Result<(), CatalogError> {
    let fail = |check: &CheckDef, message: String| CatalogError::Invalid {
        location: check.location.clone(),
        message: format!("check `{}`: {message}", check.id),
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for check in checks {
        if let Some(first) = seen.insert(&check.id, &check.location) {
            return Err(fail(
                check,
                format!("the id is already defined at {first}: choose another id"),
            ));
        }
    }
    let by_id: HashMap<&str, &CheckDef> = checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut providers: HashMap<Fact, &CheckDef> = HashMap::new();
    for check in checks {
        for fact in &check.provides {
            if let Some(first) = providers.insert(*fact, check) {
                return Err(fail(
                    check,
                    format!(
                        "only one check may provide `{}`, and `{}` does",
                        fact.as_str(),
                        first.id
                    ),
                ));
            }
        }
    }
    for check in checks {
        for need in check.needs.iter().chain(check.downgrade_if_passed.iter()) {
            let Some(needed) = by_id.get(need.as_str()) else {
                let hint = closest(need, by_id.keys().copied())
                    .map(|b| format!(": did you mean `{b}`?"))
                    .unwrap_or_default();
                return Err(fail(
                    check,
                    format!("it refers to unknown check `{need}`{hint}"),
                ));
            };
            let theirs = needed.fan_out();
            if theirs != FanOut::Once && theirs != check.fan_out() {
                return Err(fail(
                    check,
                    format!(
                        "it refers to `{need}`, which runs {}, but it runs {}: only checks of the same fan-out compare per target",
                        theirs.runs(),
                        check.fan_out().runs()
                    ),
                ));
            }
        }
        if check.fan_out() == FanOut::Dc && !providers.contains_key(&Fact::Dcs) {
            return Err(fail(
                check,
                "it runs per DC but no check provides `dcs`: add `provides = [\"dcs\"]` to the dns.srv check that lists the DCs".to_string(),
            ));
        }
        for fact in check.kind.spec().needs {
            let Some(provider) = providers.get(fact) else {
                return Err(fail(
                    check,
                    format!(
                        "kind `{}` reads `{}`, which no check provides",
                        check.kind.name(),
                        fact.as_str()
                    ),
                ));
            };
            if !depends_on(check, &provider.id, &by_id) {
                return Err(fail(
                    check,
                    format!(
                        "kind `{}` reads `{}`, which `{}` provides: add `needs = [\"{}\"]`",
                        check.kind.name(),
                        fact.as_str(),
                        provider.id,
                        provider.id
                    ),
                ));
            }
        }
    }
    // Dependencies must form no cycle, or the runner would wait forever.
    let mut done: HashSet<&str> = HashSet::new();
    let mut visiting: Vec<&str> = Vec::new();
    fn visit<'a>(
        id: &'a str,
        by_id: &HashMap<&'a str, &'a CheckDef>,
        done: &mut HashSet<&'a str>,
        visiting: &mut Vec<&'a str>,
    ) -> Result<(), String> {
        if done.contains(id) {
            return Ok(());
        }
        if visiting.contains(&id) {
            visiting.push(id);
            return Err(visiting.join(" → "));
        }
        visiting.push(id);
        if let Some(check) = by_id.get(id) {
            for need in check.needs.iter().chain(check.downgrade_if_passed.iter()) {
                visit(need, by_id, done, visiting)?;
            }
        }
        visiting.pop();
        done.insert(id);
        Ok(())
    }
    for check in checks {
        visit(&check.id, &by_id, &mut done, &mut visiting)
            .map_err(|cycle| fail(check, format!("its dependencies form a cycle: {cycle}")))?;
    }
    Ok(())
}

/// Whether `check` waits for `other` through its `needs`, directly or not (bounded by the
/// catalog's size, so a cycle cannot loop; cycles are reported separately).
fn depends_on(check: &CheckDef, other: &str, by_id: &HashMap<&str, &CheckDef>) -> bool {
    let mut queue: Vec<&str> = check.needs.iter().map(String::as_str).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    while let Some(id) = queue.pop() {
        if id == other {
            return true;
        }
        if seen.insert(id) {
            if let Some(next) = by_id.get(id) {
                queue.extend(next.needs.iter().map(String::as_str));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_is_valid_and_complete() {
        let catalog = Catalog::load(&[]).unwrap();
        for id in ["dc.srv", "dc.ping", "ldap.rootdse", "ldap.bind"] {
            let check = catalog.get(id).unwrap();
            assert!(!check.remedy.is_empty() && !check.why.is_empty(), "{id}");
        }
    }

    #[test]
    fn user_checks_are_added_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("extra.toml"),
            "[[check]]\nid = \"dc.smb\"\narea = \"dc\"\ntitle = \"SMB\"\nprobe = \"tcp\"\nparams = { port = 445 }\nfor_each = \"dc\"\nneeds = [\"dc.srv\"]\nwhy = \"w\"\nremedy = \"r\"\n",
        )
        .unwrap();
        let catalog = Catalog::load(&[dir.path().to_path_buf()]).unwrap();
        assert!(catalog.get("dc.smb").is_some());
    }

    /// A `[[check]]` in a user file, with the lines a test varies.
    fn check(id: &str, body: &str) -> String {
        format!("[[check]]\nid = \"{id}\"\narea = \"dc\"\ntitle = \"t\"\n{body}why = \"w\"\nremedy = \"r\"\n")
    }

    #[test]
    fn broken_user_checks_name_file_line_and_fix() {
        let cases = [
            (
                check("x.y", "kind = \"tcp\"\nparams = { prt = 1 }\nfor_each = \"dc\"\n"),
                "bad.toml:6:10: check `x.y`: params of kind `tcp`: unknown field `prt`, expected `port` or `consequence`; did you mean `port`?",
            ),
            (
                "[[check]]\nid = \"x.y\"\narea = \"dnss\"\n".to_string(),
                "bad.toml:3:8: unknown variant `dnss`",
            ),
            (
                check("dc.srv", "kind = \"icmp\"\nfor_each = \"dc\"\n"),
                "bad.toml:1:1: check `dc.srv`: the id is already defined at checks/dns.toml:",
            ),
            (
                check("x.y", "kind = \"icmp\"\nfor_each = \"dc\"\nneeds = [\"dc.svr\"]\n"),
                "bad.toml:1:1: check `x.y`: it refers to unknown check `dc.svr`: did you mean `dc.srv`?",
            ),
            (
                check("X", "kind = \"icmp\"\n"),
                "bad.toml:1:1: check id `X` must be lowercase",
            ),
            // A per-DC kind without its fan-out used to load and fail at run time.
            (
                check("x.smb", "kind = \"tcp\"\nparams = { port = 445 }\nneeds = [\"dc.srv\"]\n"),
                "bad.toml:1:1: check `x.smb`: kind `tcp` runs once per domain controller: add `for_each = \"dc\"`",
            ),
            (
                check("x.y", "kind = \"wpad\"\nfor_each = \"dc\"\n"),
                "bad.toml:6:12: check `x.y`: kind `wpad` runs once: remove `for_each = \"dc\"`",
            ),
            (
                check("x.y", "kind = \"ike\"\nfor_each = \"dc\"\n"),
                "bad.toml:6:12: check `x.y`: kind `ike` runs once per [[vpn]] gateway of its kind: write `for_each = \"vpn_gateway\"`",
            ),
            (
                check("x.y", "kind = \"tpc\"\n"),
                "bad.toml:5:8: check `x.y`: unknown kind `tpc`: did you mean `tcp`? kinds are dns.srv, icmp",
            ),
            (
                check("x.y", "probe = \"udp\"\nparams = { port = 464, payload = \"kpasswd\" }\nfor_each = \"dc\"\n"),
                "bad.toml:5:9: check `x.y`: the kind `udp` is now two kinds: write `kind = \"kpasswd\"` or `kind = \"ntp\"` and drop `payload`",
            ),
            (
                check("x.y", "kind = \"tcp\"\nparams = { port = 1 }\nfor_each = \"dc\"\nprovides = [\"dcs\"]\n"),
                "bad.toml:1:1: check `x.y`: kind `tcp` cannot provide `dcs`: it provides no fact: remove `provides`",
            ),
            (
                check("x.y", "kind = \"dns.srv\"\nparams = { name = \"_x._tcp.{domain}\" }\nprovides = [\"dcs\"]\n"),
                "bad.toml:1:1: check `x.y`: only one check may provide `dcs`, and `dc.srv` does",
            ),
            (
                check("x.y", "kind = \"ldap.directory\"\nparams = { question = \"ou_exists\" }\n"),
                "bad.toml:1:1: check `x.y`: kind `ldap.directory` reads `chosen_dc`, which `dc.locator` provides: add `needs = [\"dc.locator\"]`",
            ),
            (
                check("x.y", "kind = \"wpad\"\ndowngrade_if_passed = \"dc.ping\"\n"),
                "bad.toml:1:1: check `x.y`: it refers to `dc.ping`, which runs once per domain controller, but it runs once",
            ),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("bad.toml"), &text).unwrap();
            let error = Catalog::load(&[dir.path().to_path_buf()])
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "got: {error}\nwant: {expected}");
        }
    }

    #[test]
    fn cycles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = check("a.a", "kind = \"wpad\"\nneeds = [\"b.b\"]\n")
            + &check("b.b", "kind = \"wpad\"\nneeds = [\"a.a\"]\n");
        std::fs::write(dir.path().join("c.toml"), text).unwrap();
        let error = Catalog::load(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("cycle: a.a → b.b → a.a"), "{error}");
    }

    #[test]
    fn builtin_endpoints_cover_every_set_with_sources() {
        let endpoints = builtin_endpoints();
        for set in ENDPOINT_SETS {
            assert!(
                endpoints.iter().any(|e| e.sets.iter().any(|s| s == set)),
                "set {set} is empty"
            );
        }
        let get = |host: &str| endpoints.iter().find(|e| e.host == host).unwrap();
        use crate::endpoints::TlsInspection::{Allowed, Forbidden};
        assert_eq!(
            get("device.login.microsoftonline.com").tls_inspection,
            Forbidden
        );
        assert_eq!(
            get("enterpriseregistration.windows.net").tls_inspection,
            Allowed
        );
        assert_eq!(get("manage.microsoft.com").tls_inspection, Forbidden);
        assert_eq!(get("time.windows.com").protocol, EndpointProtocol::Ntp);
        assert_eq!(get("time.windows.com").port, 123);
        assert_eq!(
            get("www.msftconnecttest.com").url(),
            "http://www.msftconnecttest.com/connecttest.txt"
        );
        assert!(get("autologon.microsoftazuread-sso.com").optional);
        for endpoint in &endpoints {
            assert!(!endpoint.source.is_empty() && !endpoint.purpose.is_empty());
            if let Some(wildcard) = &endpoint.wildcard {
                assert!(endpoint.host.ends_with(&wildcard[1..]), "{wildcard}");
            }
        }
        let catalog = Catalog::load(&[]).unwrap();
        let check = catalog.get("endpoints.reach").unwrap();
        assert_eq!(check.fan_out(), FanOut::Endpoint);
        let Params::Endpoint(params) = &check.params else {
            panic!("endpoint params")
        };
        assert_eq!(params.endpoints, endpoints);
    }

    #[test]
    fn broken_endpoints_name_file_line_and_fix() {
        let entry = |body: &str| {
            format!("[[endpoint]]\nhost = \"a.example\"\npurpose = \"p\"\nsource = \"s\"\n{body}")
        };
        let cases = [
            (entry("sets = [\"intune\"]\ntls_inspection = \"forbiden\"\n"), ":6:18: unknown variant `forbiden`"),
            (entry("sets = [\"hybrid_join\"]\ntls_inspection = \"allowed\"\n"), ":1:1: endpoint `a.example`: unknown set `hybrid_join`: did you mean `hybrid-join`?"),
            (entry("sets = []\ntls_inspection = \"allowed\"\n"), "name its sets"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\nwildcard = \"*.other.example\"\n"), "must look like `*.example.com` and cover the host"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\nprotcol = \"http\"\n"), "unknown field `protcol`"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\n").replace("a.example", "*.example"), "the host must be a DNS name"),
            (entry("sets = [\"intune\"]\ntls_inspection = \"allowed\"\n").repeat(2), ":7:1: endpoint `a.example` port 443 is listed twice"),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("bad.toml"), &text).unwrap();
            let error = Catalog::load(&[dir.path().to_path_buf()])
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "got: {error}\nwant: {expected}");
        }
    }

    #[test]
    fn selector_typo_lists_choices() {
        let catalog = Catalog::load(&[]).unwrap();
        let message = catalog.unknown_selector_message("ldpa");
        assert!(message.contains("did you mean `ldap`?"), "{message}");
        assert!(message.contains("dns, dc, ldap, proxy, endpoints, vpn, time, host"));
    }
}
