//! Tests of the tenant snapshot: the source list, what a poll replaces and what failed sources
//! and listings keep, and thumbprint records dated from IdP documents.

use super::*;
use time::macros::datetime;

fn rec(source: Source, object_id: &str, cert_id: &str) -> CertRecord {
    CertRecord {
        tenant: "t".into(),
        kind: Kind::ClientCredential,
        role: Role::InUse,
        object_id: object_id.into(),
        object_name: object_id.into(),
        cert_id: cert_id.into(),
        subject: None,
        issuer: None,
        serial: None,
        sha1: None,
        sha256: None,
        validity: Validity::Never,
        error: None,
        source,
        owner: None,
        key_use: None,
    }
}

fn err(source: Source, object_id: Option<&str>) -> PollError {
    PollError {
        source,
        reason: Reason::ServerError,
        message: "boom".into(),
        object_id: object_id.map(str::to_string),
    }
}

const T: OffsetDateTime = datetime!(2026-11-23 0:00 UTC);

/// The variant names of `Source` as serde's derive sees them: the enum itself, not a list
/// someone typed (serde hands them to `deserialize_enum`).
pub(crate) fn source_variants() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor};
    struct Names(std::cell::Cell<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &Names {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("only enums"))
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.set(variants);
            Err(Self::Error::custom("names read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct
            identifier ignored_any
        }
    }
    let names = Names(std::cell::Cell::new(&[]));
    let _ = <Source as serde::Deserialize>::deserialize(&names);
    names.0.get()
}

#[test]
fn source_all_is_every_variant_in_order() {
    let all: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(all, source_variants(), "a source missing from Source::ALL");
    assert!(
        Source::ALL
            .iter()
            .all(|s| Source::parse(s.as_str()) == s.polled().then_some(*s))
    );
}

#[test]
fn successful_poll_replaces_everything() {
    let mut prev = TenantSnapshot::pending("t", "d");
    prev.records = vec![rec(Source::Connections, "con_1", "a")];
    let next = prev.apply(PollOutcome::default(), T, Duration::from_secs(1));
    assert!(next.up);
    assert!(next.records.is_empty(), "deleted certificate disappears");
    assert_eq!(next.last_success, Some(T));
}

#[test]
fn failed_source_keeps_last_good_records() {
    let mut prev = TenantSnapshot::pending("t", "d");
    prev.last_success = Some(T - time::Duration::hours(1));
    prev.records = vec![
        rec(Source::Connections, "con_1", "a"),
        rec(Source::SigningKeys, "k", "k"),
    ];
    let outcome = PollOutcome {
        records: vec![],
        errors: vec![err(Source::Connections, None)],
        ..Default::default()
    };
    let next = prev.apply(outcome, T, Duration::from_secs(1));
    assert!(!next.up);
    assert_eq!(next.last_success, prev.last_success);
    assert_eq!(next.records, vec![rec(Source::Connections, "con_1", "a")]);
}

#[test]
fn failed_sub_resource_keeps_only_that_object() {
    let mut prev = TenantSnapshot::pending("t", "d");
    prev.records = vec![
        rec(Source::ClientCredentials, "c1", "cred_1"),
        rec(Source::ClientCredentials, "c2", "cred_2"),
    ];
    let outcome = PollOutcome {
        records: vec![rec(Source::ClientCredentials, "c2", "cred_3")],
        errors: vec![err(Source::ClientCredentials, Some("c1"))],
        ..Default::default()
    };
    let next = prev.apply(outcome, T, Duration::from_secs(1));
    let ids: Vec<_> = next.records.iter().map(|r| r.cert_id.as_str()).collect();
    assert_eq!(ids, vec!["cred_3", "cred_1"]);
}

fn published(sha1: &str) -> crate::remote::PublishedCert {
    crate::remote::PublishedCert {
        sha1: sha1.into(),
        cert: Some(crate::x509::CertInfo {
            subject: "CN=adfs signing".into(),
            issuer: "CN=adfs signing".into(),
            serial: "0a".into(),
            not_before: T - time::Duration::days(300),
            not_after: T + time::Duration::days(20),
            sha1: sha1.into(),
            sha256: "ff".into(),
        }),
        error: None,
        der: Vec::new(),
    }
}

fn adfs_doc(published_certs: Option<Vec<&str>>, error: Option<&str>) -> crate::remote::IdpDocument {
    crate::remote::IdpDocument {
        connection_id: "con_1".into(),
        connection_name: "adfs".into(),
        strategy: "adfs".into(),
        kind: crate::remote::DocumentKind::AdfsMetadata,
        url: "https://adfs.example/FederationMetadata.xml".into(),
        published: published_certs.map(|c| crate::remote::Published {
            valid_until: None,
            certs: c.into_iter().map(published).collect(),
        }),
        error: error.map(str::to_string),
    }
}

#[test]
fn thumbprint_records_get_the_dates_their_idp_publishes() {
    let mut thumb = rec(Source::Connections, "con_1", "aa");
    thumb.kind = Kind::ConnectionThumbprint;
    thumb.sha1 = Some("aa".into());
    thumb.validity = Validity::Unknown;
    let mut other = thumb.clone();
    other.cert_id = "bb".into();
    other.sha1 = Some("bb".into());
    let outcome = PollOutcome {
        records: vec![thumb, other],
        facts: crate::remote::TenantFacts {
            idp: vec![adfs_doc(Some(vec!["aa"]), None)],
            ..Default::default()
        },
        ..Default::default()
    };
    let next = TenantSnapshot::pending("t", "d").apply(outcome, T, Duration::from_secs(1));
    assert_eq!(
        next.records[0].not_after(),
        Some(T + time::Duration::days(20))
    );
    assert_eq!(next.records[0].subject.as_deref(), Some("CN=adfs signing"));
    assert_eq!(
        next.records[1].validity,
        Validity::Unknown,
        "not published: no dates"
    );
}

#[test]
fn failed_fetches_and_listings_keep_their_last_good_facts() {
    let mut prev = TenantSnapshot::pending("t", "d");
    prev.facts = crate::remote::TenantFacts {
        jwks: Some(vec![crate::remote::TenantJwk {
            kid: Some("k1".into()),
            sha1: None,
        }]),
        custom_domains: Some(vec![]),
        idp: vec![adfs_doc(Some(vec!["aa"]), None)],
        ..Default::default()
    };
    // This poll: the JWKS failed, the custom domain listing was not read (disabled), the
    // metadata fetch failed.
    let outcome = PollOutcome {
        errors: vec![err(Source::Jwks, None)],
        facts: crate::remote::TenantFacts {
            idp: vec![adfs_doc(None, Some("timed out"))],
            ..Default::default()
        },
        ..Default::default()
    };
    let next = prev.apply(outcome, T, Duration::from_secs(1));
    assert_eq!(next.facts.jwks, prev.facts.jwks, "failed: kept");
    assert_eq!(
        next.facts.custom_domains, None,
        "not failed, not read: gone"
    );
    assert_eq!(next.facts.idp[0].error.as_deref(), Some("timed out"));
    assert_eq!(next.facts.idp[0].published, prev.facts.idp[0].published);
    // The connection listing failed: nothing was fetched, every document is kept.
    let outcome = PollOutcome {
        errors: vec![err(Source::Connections, None)],
        ..Default::default()
    };
    let next = prev.apply(outcome, T, Duration::from_secs(1));
    assert_eq!(next.facts.idp, prev.facts.idp);
}
