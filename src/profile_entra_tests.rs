//! The entra scenario's profile: no domain needed, the default endpoint sets, lab public roots.

use super::*;

fn resolve(text: &str, suffix: Option<&str>) -> Result<Settings, ProfileError> {
    let profile = LoadedProfile::parse(Path::new("p.toml"), text.to_string())?;
    Settings::resolve(Some(&profile), &Overrides::default(), || {
        suffix.map(String::from)
    })
}

#[test]
fn entra_needs_no_domain_and_checks_the_entra_join_sets() {
    let settings = resolve("scenario = \"entra\"\n", None).unwrap();
    assert_eq!(settings.scenario, Scenario::Entra);
    assert_eq!(settings.domain, "");
    assert_eq!(settings.domain_source, DomainSource::None);
    assert_eq!(
        settings.endpoints.sets,
        ["autopilot", "entra-id", "intune", "activation"]
    );
    // With a search suffix, WPAD has a name to devolve from.
    let settings = resolve("scenario = \"entra\"\n", Some("corp.example.com")).unwrap();
    assert_eq!(settings.domain, "corp.example.com");
    // Sets the profile names are kept as they are.
    let settings = resolve(
        "scenario = \"entra\"\n[endpoints]\nsets = [\"activation\"]\n",
        None,
    )
    .unwrap();
    assert_eq!(settings.endpoints.sets, ["activation"]);
    // The hybrid scenarios still need a domain, and choose no set by default.
    let error = resolve("scenario = \"on-prem\"\n", None)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("no domain to check"), "{error}");
    let settings = resolve("domain = \"a.test\"\n", None).unwrap();
    assert!(settings.endpoints.sets.is_empty());
}

#[test]
fn the_command_line_scenario_decides_the_defaults() {
    let profile = LoadedProfile::parse(Path::new("p.toml"), String::new()).unwrap();
    let overrides = Overrides {
        scenario: Some(Scenario::Entra),
        ..Overrides::default()
    };
    let settings = Settings::resolve(Some(&profile), &overrides, || None).unwrap();
    assert_eq!(settings.endpoints.sets.len(), 4);
}

#[test]
fn public_roots_is_a_path_beside_the_profile() {
    let profile = LoadedProfile::parse(
        Path::new("/etc/joinready/lab.toml"),
        "scenario = \"entra\"\n[endpoints]\npublic_roots = \"lab-internet.pem\"\nca_file = \"corp.pem\"\n"
            .to_string(),
    )
    .unwrap();
    let settings = Settings::resolve(Some(&profile), &Overrides::default(), || None).unwrap();
    assert_eq!(
        settings.endpoints.public_roots.as_deref(),
        Some(Path::new("/etc/joinready/lab-internet.pem"))
    );
    assert_eq!(
        settings.endpoints.ca_file.as_deref(),
        Some(Path::new("/etc/joinready/corp.pem"))
    );
}
