//! Configuration against generated and hostile input: parsing never panics, every error names a
//! key that was changed and never a secret, every accepted duration is usable downstream, and
//! what `check-config` prints is itself a valid config. Also the findings of the generators and
//! of the `config_toml` fuzz target, kept as named tests.

use crate::daemon::toml_str;
use crate::generators::*;
use crate::loopback::tls_files;
use certwatch::config;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn base_sections() -> BTreeMap<&'static str, BTreeMap<String, String>> {
    let mut s: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
    let mut put = |section, k: &str, v: &str| {
        s.entry(section)
            .or_default()
            .insert(k.to_string(), v.to_string());
    };
    put("", "state_dir", "\"/tmp/certwatch-prop\"");
    put("server", "listen", "\"127.0.0.1:0\"");
    put("schedule", "interval", "\"15m\"");
    put("policy", "warning_before", "\"30d\"");
    put("[tenants]", "name", "\"prod\"");
    put("[tenants]", "domain", "\"acme.auth0.com\"");
    put("[tenants]", "client_id", "\"id\"");
    put("[tenants]", "client_secret", "\"s3cret-prop-value\"");
    s
}

fn render_sections(s: &BTreeMap<&'static str, BTreeMap<String, String>>) -> String {
    let mut out = String::new();
    if let Some(top) = s.get("") {
        for (k, v) in top {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
    for (section, keys) in s.iter().filter(|(n, _)| !n.is_empty()) {
        out.push_str(&format!("[{section}]\n"));
        for (k, v) in keys {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
    out
}

const SECTIONS: [&str; 5] = ["", "server", "schedule", "policy", "[tenants]"];

/// Known keys per section whose values the generator may replace.
const KNOWN: [(&str, &str); 13] = [
    ("", "state_dir"),
    ("server", "listen"),
    ("server", "bearer_token"),
    ("server", "cert_file"),
    ("schedule", "interval"),
    ("schedule", "cron"),
    ("schedule", "run_on_start"),
    ("policy", "critical_before"),
    ("policy", "alert_roles"),
    ("[tenants]", "name"),
    ("[tenants]", "base_url"),
    ("[tenants]", "timeout"),
    ("[tenants]", "concurrency"),
];

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_string().prop_map(|s| toml_str(&s)),
        "[0-9]{1,25}(ns|us|ms|s|m|h|d|w|M|y)".prop_map(|s| toml_str(&s)),
        "([0-9*/,-]{1,4} ){5}[0-9*/,-]{1,4}".prop_map(|s| toml_str(&s)),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[]".to_string()),
        Just("[\"current\", \"bogus\"]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("1.5e300".to_string()),
    ]
}

#[derive(Debug, Clone)]
enum ConfigEdit {
    /// A key no section knows.
    Unknown(usize, String),
    /// A known key set to a random value.
    Set(usize, String),
    /// Every duration key set to the same random duration.
    Durations(String),
    /// A hostile tenant name and domain.
    HostileNames(String),
}

fn config_edit() -> impl Strategy<Value = ConfigEdit> {
    prop_oneof![
        (0..SECTIONS.len(), "zz_[a-z_]{1,10}").prop_map(|(s, k)| ConfigEdit::Unknown(s, k)),
        (0..KNOWN.len(), toml_value()).prop_map(|(k, v)| ConfigEdit::Set(k, v)),
        "[0-9]{1,22}(ns|ms|s|m|h|d|w|M|y)".prop_map(ConfigEdit::Durations),
        hostile_string().prop_map(ConfigEdit::HostileNames),
    ]
}

proptest! {
    #![proptest_config(budget())]

    #[test]
    fn config_parsing_never_panics_and_errors_name_the_key(edits in prop::collection::vec(config_edit(), 1..4)) {
        let mut s = base_sections();
        let mut unknown: Vec<String> = Vec::new();
        let mut edited: Vec<String> = Vec::new();
        for e in &edits {
            match e {
                ConfigEdit::Unknown(i, k) => {
                    s.entry(SECTIONS[*i]).or_default().insert(k.clone(), "1".into());
                    unknown.push(k.clone());
                    edited.push(k.clone());
                }
                ConfigEdit::Set(i, v) => {
                    let (section, key) = KNOWN[*i];
                    edited.push(key.to_string());
                    let sec = s.entry(section).or_default();
                    if key == "cron" || key == "interval" {
                        sec.remove("cron");
                        sec.remove("interval");
                    }
                    sec.insert(key.to_string(), v.clone());
                }
                ConfigEdit::Durations(d) => {
                    let d = toml_str(d);
                    edited.extend(["interval", "critical_before", "warning_before", "timeout"].map(String::from));
                    s.entry("schedule").or_default().insert("interval".into(), d.clone());
                    s.entry("policy").or_default().insert("critical_before".into(), d.clone());
                    s.entry("policy").or_default().insert("warning_before".into(), d.clone());
                    s.entry("[tenants]").or_default().insert("timeout".into(), d);
                }
                ConfigEdit::HostileNames(n) => {
                    edited.extend(["name", "domain"].map(String::from));
                    let t = s.entry("[tenants]").or_default();
                    t.insert("name".into(), toml_str(&format!("t{n}")));
                    t.insert("domain".into(), toml_str(&format!("d{n}")));
                }
            }
        }
        let text = render_sections(&s);
        match config::from_toml(&text) {
            Ok(cfg) => {
                prop_assert!(unknown.is_empty(), "unknown keys {unknown:?} accepted");
                // Every accepted duration is usable: no overflow anywhere downstream.
                let now = certwatch::clock::Clock::now(&certwatch::clock::SystemClock);
                let mono = std::time::Instant::now();
                let interval = cfg.schedule.interval();
                let durations = [interval, cfg.policy.thresholds.warning_before,
                                 cfg.policy.thresholds.critical_before, cfg.tenants[0].timeout,
                                 cfg.alerts.repeat_interval];
                for d in durations {
                    prop_assert!(d <= config::MAX_DURATION);
                    prop_assert!(now.checked_add(time::Duration::try_from(d * 2).unwrap()).is_some());
                    prop_assert!(mono.checked_add(d * 2).is_some());
                }
                // What check-config prints is itself a valid config, with the secret masked.
                let printed = cfg.render_masked();
                prop_assert!(!printed.contains("s3cret-prop-value"));
                let again = config::from_toml(&printed);
                prop_assert!(again.is_ok(), "check-config output rejected: {:?}\n{printed}", again.err());
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                prop_assert!(!msg.contains("s3cret-prop-value"), "secret in error: {msg}");
                // The error names a key that was changed.
                prop_assert!(edited.iter().any(|k| msg.contains(k.as_str())), "{edited:?}: {msg}");
            }
        }
    }

    #[test]
    fn config_arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        "(\\[{1,2}[a-z.]{0,12}\\]{1,2}\n)?([a-z_]{1,16} = (\"[^\"\n]{0,20}\"|[0-9]{1,6}|true|\\[\\])\n){0,6}",
    ]) {
        if let Err(e) = config::from_toml(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn config_rejects_incomplete_or_broken_server_tls() {
    let dir = tempfile::tempdir().unwrap();
    let files = tls_files(dir.path(), "server");
    let base = |extra: &str| {
        format!(
            "[server]\n{extra}\n[[tenants]]\nname = \"p\"\ndomain = \"d\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"
        )
    };
    let cert = toml_str(&files.cert.display().to_string());
    let key = toml_str(&files.key.display().to_string());
    let ok = config::from_toml(&base(&format!("cert_file = {cert}\nkey_file = {key}"))).unwrap();
    assert_eq!(ok.server_tls.unwrap().cert_file, files.cert);

    let err = |extra: String| config::from_toml(&base(&extra)).unwrap_err().to_string();
    assert!(err(format!("cert_file = {cert}")).contains("server.key_file"));
    assert!(err(format!("key_file = {key}")).contains("server.cert_file"));
    let swapped = err(format!("cert_file = {key}\nkey_file = {cert}"));
    assert!(swapped.contains("server.cert_file"), "{swapped}");
    assert!(
        !swapped.contains(&std::fs::read_to_string(&files.key).unwrap()[30..60]),
        "key material in the error: {swapped}"
    );
    let junk = dir.path().join("junk.key");
    std::fs::write(&junk, "junk").unwrap();
    let e = err(format!(
        "cert_file = {cert}\nkey_file = {}",
        toml_str(&junk.display().to_string())
    ));
    assert!(
        e.contains("server.key_file") && e.contains("junk.key"),
        "{e}"
    );
}

/// Found by `config_parsing_never_panics_and_errors_name_the_key`: a domain that is not a host
/// name was reported as an invalid `base_url` the user never wrote.
#[test]
fn a_domain_that_is_not_a_host_name_is_reported_as_the_domain() {
    let toml = |domain: &str, base_url: &str| {
        format!(
            "[[tenants]]\nname = \"p\"\ndomain = {}\n{base_url}client_id = \"c\"\nclient_secret = \"s\"\n",
            toml_str(domain)
        )
    };
    for bad in [
        ":\u{1f5b}",
        "acme.auth0.com:443",
        "user@acme.auth0.com",
        "acme.auth0.com/x",
        "a b",
        "",
    ] {
        let e = config::from_toml(&toml(bad, "")).unwrap_err().to_string();
        assert!(e.contains("tenants[0].domain"), "{bad:?}: {e}");
    }
    config::from_toml(&toml("acme.eu.auth0.com", "")).unwrap();
    // With an explicit base_url the domain is only a label and the audience's host.
    config::from_toml(&toml(
        "localhost:8443",
        "base_url = \"http://127.0.0.1:1/\"\n",
    ))
    .unwrap();
}

/// Found by the `config_toml` fuzz target: `check-config` prints a literal webhook URL as the
/// mask, which pasted back failed with "relative URL without a base". It must still fail (never
/// alert a wrong address), but saying what happened.
#[test]
fn a_masked_webhook_url_pasted_back_is_rejected_by_name() {
    let cfg = config::from_toml(
        "[[tenants]]\nname = \"p\"\ndomain = \"acme.auth0.com\"\nclient_id = \"c\"\n\
         client_secret = \"s\"\n[[alerts.webhook]]\nurl = \"https://alerts.example.com/T0KEN\"\n",
    )
    .unwrap();
    let printed = cfg.render_masked();
    assert!(
        !printed.contains("T0KEN") && printed.contains("url = \"********\""),
        "{printed}"
    );
    let e = config::from_toml(&printed).unwrap_err().to_string();
    assert!(
        e.contains("alerts.webhook[0].url") && e.contains("mask"),
        "{e}"
    );
}

#[test]
fn oversized_secret_files_and_durations_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big-secret");
    std::fs::write(&big, vec![b'a'; 70 * 1024]).unwrap();
    let toml = format!(
        "[[tenants]]\nname = \"p\"\ndomain = \"d\"\nclient_id = \"c\"\nclient_secret_file = {}\n",
        toml_str(&big.display().to_string())
    );
    let e = config::from_toml(&toml).unwrap_err().to_string();
    assert!(
        e.contains("client_secret_file") && e.contains("larger than"),
        "{e}"
    );
    let e = config::from_toml(&format!(
        "[schedule]\ninterval = \"300000000000y\"\n{}",
        toml.replace(
            &format!(
                "client_secret_file = {}",
                toml_str(&big.display().to_string())
            ),
            "client_secret = \"s\""
        )
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("schedule.interval") && e.contains("longer than"),
        "{e}"
    );
}
