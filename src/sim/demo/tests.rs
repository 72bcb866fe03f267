//! Tests of the demo and scale tenants: every kind, the remote-check stories, the SAML expiries
//! and the generated sizes.

use super::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

#[test]
fn demo_tenant_has_every_kind() {
    let t = tenant(NOW);
    let strategies: std::collections::BTreeSet<_> =
        t.connections.iter().map(|c| c.strategy.as_str()).collect();
    for s in [
        "samlp",
        "pingfederate",
        "adfs",
        "waad",
        "ad",
        "oidc",
        "okta",
        "auth0",
    ] {
        assert!(strategies.contains(s), "missing {s}");
    }
    let flags: Vec<_> = t
        .signing_keys
        .iter()
        .map(|k| (k.current, k.next, k.previous, k.revoked))
        .collect();
    assert_eq!(
        flags,
        vec![
            (true, false, false, false),
            (false, true, false, false),
            (false, false, true, false),
            (false, false, false, true)
        ]
    );
    assert_eq!(t.clients.iter().filter(|c| c.global).count(), 1);
    let creds: Vec<_> = t.clients.iter().flat_map(|c| &c.credentials).collect();
    assert!(creds.iter().any(|c| c.expires_at.is_none()));
    assert!(creds.iter().any(|c| c.expires_at.is_some_and(|e| e < NOW)));
    assert!(creds.iter().any(|c| c.expires_at == Some(NOW + days(5))));
    assert!(t.clients.iter().any(|c| c.encryption_key.is_some()));
    let broken = t
        .connections
        .iter()
        .find(|c| c.name == "broken-idp-saml")
        .unwrap();
    assert!(!broken.options.contains_key("cert"));
    let hooli = t
        .connections
        .iter()
        .find(|c| c.name == "hooli-saml")
        .unwrap();
    assert_eq!(hooli.options["cert"], hooli.options["signingCert"]);
    // Deterministic ids: the same names give the same ids on every run.
    assert_eq!(tenant(NOW).connections[3].id, t.connections[3].id);
}

#[test]
fn demo_tenant_has_the_remote_check_stories() {
    let t = tenant(NOW);
    let domains: Vec<_> = t.custom_domains.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(domains, DEMO_CUSTOM_DOMAINS);
    for probe in DEMO_PROBE_DOMAINS {
        assert!(t.served_chain(probe).is_some(), "{probe}");
    }
    assert_eq!(t.jwks.omit, vec![demo_jwks_missing_kid()]);
    let with_idp: Vec<_> = t
        .connections
        .iter()
        .filter(|c| c.idp.is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        with_idp,
        vec![
            "contoso-saml",
            "globex-saml",
            "contoso-adfs",
            "partner-oidc",
            "workforce-okta"
        ]
    );
}

#[test]
fn demo_saml_expiries_match_their_story() {
    let t = tenant(NOW);
    let expires = |name: &str| {
        let c = t.connections.iter().find(|c| c.name == name).unwrap();
        let s = c.options["expires"].as_str().unwrap().to_owned();
        OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert!(expires("acme-okta-saml") < NOW);
    assert_eq!(expires("initech-saml"), NOW + days(3));
    assert_eq!(expires("umbrella-saml"), NOW + days(20));
    assert!(expires("contoso-saml") > NOW + days(365));
}

#[test]
fn large_tenant_builds_quickly_with_the_requested_sizes() {
    let start = std::time::Instant::now();
    let t = scaled(NOW, ScaleSpec::L);
    let elapsed = start.elapsed();
    assert_eq!(t.clients.len(), 10_001);
    assert_eq!(t.connections.len(), 1_000);
    assert_eq!(t.signing_keys.len(), 5);
    let with_creds = t
        .clients
        .iter()
        .filter(|c| !c.credentials.is_empty())
        .count();
    assert_eq!(with_creds, 2_000);
    let distinct: std::collections::HashSet<_> = t
        .connections
        .iter()
        .map(|c| c.options["thumbprints"][0].as_str().unwrap())
        .collect();
    assert_eq!(distinct.len(), 1_000);
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
}
