//! Config tests: defaults, every error names its key (and file), secrets resolve and stay masked.
// figment::Jail::expect_with takes a closure returning figment::Error, which is large by design.
#![allow(clippy::result_large_err)]

use super::*;
use std::time::Duration;

const MINIMAL: &str = r#"
[[tenants]]
name = "prod"
domain = "acme.eu.auth0.com"
client_id = "abc"
client_secret = "s3cr3t-value"
"#;

#[test]
fn defaults() {
    let c = from_toml(MINIMAL).unwrap();
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.schedule.trigger, Trigger::Cron("0 */15 * * * *".into()));
    assert_eq!(c.schedule.interval(), Duration::from_secs(900));
    assert!(c.schedule.run_on_start);
    let t = &c.tenants[0];
    assert_eq!(t.base_url.as_str(), "https://acme.eu.auth0.com/");
    assert_eq!(t.audience, "https://acme.eu.auth0.com/api/v2/");
    assert_eq!(t.timeout, Duration::from_secs(10));
    assert_eq!(t.sources.len(), 10);
    assert_eq!(
        c.metadata,
        crate::config::Metadata {
            enabled: false,
            allow_http: false,
            timeout: Duration::from_secs(10),
            max_bytes: 1_048_576,
            probe_custom_domains: true,
            concurrency: 8,
            allowed_hosts: vec![],
        }
    );
    assert!(t.metadata_urls.is_empty() && t.probe_addresses.is_empty());
    assert_eq!(
        c.policy.thresholds.warning_before,
        Duration::from_secs(30 * 86_400)
    );
    assert_eq!(c.alerts.repeat_interval, Duration::from_secs(86_400));
    assert!(!c.rotation.enabled);
    assert_eq!(
        c.rotation.audit_log,
        PathBuf::from("/var/lib/certwatch/rotation-audit.jsonl")
    );
}

#[test]
fn unknown_key_names_key_and_file() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("cw.toml", &format!("{MINIMAL}\nbogus_key = 1\n"))?;
        let err = load(Some(Path::new("cw.toml"))).unwrap_err().to_string();
        assert!(err.contains("bogus_key"), "{err}");
        assert!(err.contains("cw.toml"), "{err}");
        jail.create_file("cw2.toml", &MINIMAL.replace("client_id", "client_idd"))?;
        let err = load(Some(Path::new("cw2.toml"))).unwrap_err().to_string();
        assert!(err.contains("client_idd"), "{err}");
        Ok(())
    });
}

#[test]
fn env_overrides_and_config_var_is_ignored() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("cw.toml", MINIMAL)?;
        jail.set_env("CERTWATCH_SERVER__LISTEN", "0.0.0.0:9999");
        jail.set_env("CERTWATCH_CONFIG", "cw.toml");
        jail.set_env("CERTWATCH_POLICY__WARNING_BEFORE", "45d");
        let c = load(Some(Path::new("cw.toml"))).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9999");
        assert_eq!(
            c.policy.thresholds.warning_before,
            Duration::from_secs(45 * 86_400)
        );
        Ok(())
    });
}

#[test]
fn secrets_from_env_and_file_and_masked() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("secret.txt", "from-file\n")?;
        jail.set_env("MY_SECRET", "from-env");
        let c = from_toml(&MINIMAL.replace(
            r#"client_secret = "s3cr3t-value""#,
            r#"client_secret_env = "MY_SECRET""#,
        ))
        .unwrap();
        assert_eq!(c.tenants[0].client_secret.expose(), "from-env");
        let c = from_toml(&MINIMAL.replace(
            r#"client_secret = "s3cr3t-value""#,
            r#"client_secret_file = "secret.txt""#,
        ))
        .unwrap();
        assert_eq!(c.tenants[0].client_secret.expose(), "from-file");
        let err = from_toml(&MINIMAL.replace(
            r#"client_secret = "s3cr3t-value""#,
            r#"client_secret_env = "UNSET_VAR_X""#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("tenants[0].client_secret_env") && err.contains("UNSET_VAR_X"),
            "{err}"
        );
        Ok(())
    });
    let c = from_toml(MINIMAL).unwrap();
    let effective = c.render_masked();
    assert!(
        effective.contains("warning_before = \"30days\""),
        "defaults are shown: {effective}"
    );
    assert!(effective.contains("audience = \"https://acme.eu.auth0.com/api/v2/\""));
    // The effective config is itself a valid config.
    assert!(from_toml(&effective.replace(crate::secret::MASK, "x")).is_ok());
    assert!(!c.render_masked().contains("s3cr3t-value"));
    assert!(c.render_masked().contains(crate::secret::MASK));
    assert!(!format!("{c:?}").contains("s3cr3t-value"));
}

#[test]
fn invalid_values_name_their_key() {
    let cases = [
        (r#"warning_before = "soon""#, "policy.warning_before"),
        (r#"critical_before = "60d""#, "policy.critical_before"),
        (r#"alert_roles = ["boss"]"#, "policy.alert_roles"),
    ];
    for (line, key) in cases {
        let err = from_toml(&format!("[policy]\n{line}\n{MINIMAL}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{line}: {err}");
    }
    let err = from_toml(&format!("[schedule]\ncron = \"*/5 * * * *\"\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schedule.cron"),
        "5-field cron is rejected: {err}"
    );
    let err = from_toml(&format!("[server]\nlisten = \"nope\"\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.listen"), "{err}");
    let err = from_toml(&MINIMAL.replace("client_secret = \"s3cr3t-value\"", ""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tenants[0].client_secret"), "{err}");
    let err = from_toml(&format!("{MINIMAL}\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("duplicate"), "{err}");
    let err = from_toml(&format!("{MINIMAL}sources = [\"users\"]\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tenants[0].sources"), "{err}");
    let err = from_toml(&format!("[[alerts.webhook]]\nurl = \"ftp://x\"\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("alerts.webhook[0].url"), "{err}");
    assert!(!err.contains("ftp://x"), "a webhook URL is a secret: {err}");
}

#[test]
fn interval_and_cron() {
    let c = from_toml(&format!("[schedule]\ninterval = \"5m\"\n{MINIMAL}")).unwrap();
    assert_eq!(c.schedule.interval(), Duration::from_secs(300));
    let c = from_toml(&format!("[schedule]\ncron = \"0 0 * * * *\"\n{MINIMAL}")).unwrap();
    assert_eq!(c.schedule.interval(), Duration::from_secs(3600));
    assert!(
        from_toml(&format!(
            "[schedule]\ncron = \"0 0 * * * *\"\ninterval = \"5m\"\n{MINIMAL}"
        ))
        .is_err()
    );
}

#[test]
fn poll_bounds() {
    // Defaults: nine tenths of the interval, 100,000 objects per listing.
    let c = from_toml(MINIMAL).unwrap();
    assert_eq!(c.schedule.poll_timeout(), Duration::from_secs(810));
    assert_eq!(c.tenants[0].max_items_per_listing, 100_000);
    let c = from_toml(&format!("[schedule]\ninterval = \"1s\"\n{MINIMAL}")).unwrap();
    assert_eq!(
        c.schedule.poll_timeout(),
        Duration::from_secs(1),
        "at least 1s"
    );
    let c = from_toml(&format!(
        "[schedule]\ninterval = \"1h\"\npoll_timeout = \"5m\"\n{MINIMAL}max_items_per_listing = 500\n"
    ))
    .unwrap();
    assert_eq!(c.schedule.poll_timeout(), Duration::from_secs(300));
    assert_eq!(c.tenants[0].max_items_per_listing, 500);
    let shown = c.render_masked();
    assert!(shown.contains("poll_timeout = \"5m\""), "{shown}");
    assert!(shown.contains("max_items_per_listing = 500"), "{shown}");
    for (toml, key) in [
        (
            format!("[schedule]\npoll_timeout = \"0s\"\n{MINIMAL}"),
            "schedule.poll_timeout",
        ),
        (
            format!("[schedule]\npoll_timeout = \"soon\"\n{MINIMAL}"),
            "schedule.poll_timeout",
        ),
        (
            format!("{MINIMAL}max_items_per_listing = 0\n"),
            "tenants[0].max_items_per_listing",
        ),
    ] {
        let err = from_toml(&toml).unwrap_err().to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}

#[test]
fn budget_share_and_full_refresh() {
    // Defaults: half the bucket, six hours.
    let c = from_toml(MINIMAL).unwrap();
    assert_eq!(c.tenants[0].budget_share.get(), 0.5);
    assert_eq!(c.tenants[0].full_refresh, Duration::from_secs(6 * 3600));
    let c = from_toml(&format!(
        "{MINIMAL}budget_share = 0.25\nfull_refresh = \"90m\"\n"
    ))
    .unwrap();
    assert_eq!(c.tenants[0].budget_share.get(), 0.25);
    assert_eq!(c.tenants[0].full_refresh, Duration::from_secs(5400));
    let shown = c.render_masked();
    assert!(shown.contains("budget_share = 0.25"), "{shown}");
    assert!(shown.contains("full_refresh = \"1h 30m\""), "{shown}");
    let whole = from_toml(&format!(
        "{MINIMAL}budget_share = 1\nfull_refresh = \"0s\"\n"
    ))
    .unwrap();
    assert_eq!(whole.tenants[0].budget_share.get(), 1.0);
    assert_eq!(whole.tenants[0].full_refresh, Duration::ZERO);
    for bad in ["0", "0.0", "-0.5", "1.5", "nan", "inf"] {
        let toml = format!("{MINIMAL}budget_share = {bad}\n");
        let err = from_toml(&toml).unwrap_err().to_string();
        assert!(err.contains("tenants[0].budget_share"), "{bad}: {err}");
    }
    let err = from_toml(&format!("{MINIMAL}full_refresh = \"often\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tenants[0].full_refresh"), "{err}");
}

#[test]
fn shipped_examples_are_valid() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("AUTH0_PROD_CLIENT_SECRET", "x");
        jail.set_env("AUTH0_STAGING_CLIENT_SECRET", "x");
        jail.set_env("SMTP_PASSWORD", "x");
        jail.set_env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/X",
        );
        jail.set_env("WEBHOOK_HMAC_KEY", "k");
        jail.set_env("ALERTMANAGER_TOKEN", "t");
        for name in ["certwatch.example.toml", "demo.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config")
                .join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(e) = from_toml(&text) {
                panic!("{name}: {e}");
            }
        }
        Ok(())
    });
}

#[test]
fn metadata_urls_must_be_https_unless_allowed() {
    let with = |metadata: &str, url: &str| {
        from_toml(&format!(
            "{metadata}\n{MINIMAL}\nmetadata_urls = {{ \"acme-idp\" = \"{url}\" }}\nprobe_addresses = {{ \"Login.Acme.com\" = \"10.0.0.5:8443\" }}\n"
        ))
    };
    let ok = with("", "https://idp.example.com/metadata.xml?token=x").unwrap();
    let t = &ok.tenants[0];
    assert_eq!(
        t.metadata_urls["acme-idp"].0.as_str(),
        "https://idp.example.com/metadata.xml?token=x"
    );
    assert_eq!(t.probe_addresses["login.acme.com"], "10.0.0.5:8443");
    let shown = toml::to_string(&ok.effective()).unwrap();
    assert!(!shown.contains("token=x"), "{shown}");
    assert!(shown.contains("https://idp.example.com/metadata.xml (query and user info masked)"));
    let debug = format!("{ok:?} {:?}", ok.raw);
    assert!(!debug.contains("token=x"), "{debug}");
    let err = with("", "http://idp.example.com/m")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tenants[0].metadata_urls.acme-idp") && err.contains("allow_http"),
        "{err}"
    );
    with(
        "[metadata]\nenabled = true\nallow_http = true\n",
        "http://idp.example.com/m",
    )
    .unwrap();
    let err = with("", "ftp://x/y").unwrap_err().to_string();
    assert!(err.contains("is not http(s)"), "{err}");
    let err = from_toml(&format!(
        "{MINIMAL}\nprobe_addresses = {{ \"a.example\" = \"nohost\" }}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("is not host:port"), "{err}");
    let err = from_toml(&format!("[metadata]\nmax_bytes = 0\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("metadata.max_bytes"), "{err}");
    let c = from_toml(&format!(
        "[metadata]\nallowed_hosts = [\"IdP.Example.com.\", \"okta.com\"]\n{MINIMAL}"
    ))
    .unwrap();
    assert_eq!(
        c.metadata.allowed_hosts,
        vec!["idp.example.com", "okta.com"]
    );
    let err = from_toml(&format!(
        "[metadata]\nallowed_hosts = [\"https://idp.example.com\"]\n{MINIMAL}"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("metadata.allowed_hosts"), "{err}");
    let err = from_toml(&format!("[metadata]\nsurprise = 1\n{MINIMAL}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("surprise"), "{err}");
}

#[test]
fn alertmanager_channels_need_urls_and_one_kind_of_auth() {
    let am = |keys: &str| from_toml(&format!("[[alerts.alertmanager]]\n{keys}\n{MINIMAL}"));
    let ok = am("urls = [\"http://am-0:9093\", \"http://am-1:9093/prefix/\"]\nbearer_token = \"tok-secret\"").unwrap();
    let c = &ok.alerts.alertmanager[0];
    assert_eq!((c.name.as_str(), c.urls.len()), ("alertmanager-0", 2));
    assert!(ok.alerts.has_channels());
    assert!(!format!("{ok:?}").contains("tok-secret"));
    assert!(!ok.render_masked().contains("tok-secret"));
    let err = am("urls = []").unwrap_err().to_string();
    assert!(err.contains("alerts.alertmanager[0].urls"), "{err}");
    let err = am("urls = [\"ftp://x\"]").unwrap_err().to_string();
    assert!(err.contains("http(s)"), "{err}");
    let both = "urls = [\"http://a\"]\nbearer_token = \"t\"\nusername = \"u\"\npassword = \"p\"";
    assert!(am(both).unwrap_err().to_string().contains("not both"));
    let user = am("urls = [\"http://a\"]\nusername = \"u\"")
        .unwrap_err()
        .to_string();
    assert!(user.contains("password"), "{user}");
    let owners = am("urls = [\"http://a\"]\nowners = [\"team-a\"]").unwrap();
    assert_eq!(owners.alerts.alertmanager[0].filter.owners, ["team-a"]);
    assert_eq!(owners.alerts.owner_key, "certwatch_owner");
    let e = am("urls = [\"http://a\"]\nowners = [\" \"]").unwrap_err();
    assert!(
        e.to_string().contains("alerts.alertmanager[0].owners[0]"),
        "{e}"
    );
}

#[test]
fn rotation_windows_policy_and_metadata_source() {
    let ok = from_toml(&format!(
        r#"{MINIMAL}
[rotation]
windows = [{{ cron = "0 0 2 * * TUE", duration = "2h" }}]
[[rotation.targets]]
kind = "connection_signing_cert"
source = "metadata"
[[rotation.targets]]
object_name = "legacy"
source = "./metadata"
policy = "disabled"
[rotation.store]
kind = "filesystem"
path = "/tmp"
"#
    ))
    .unwrap();
    let r = &ok.rotation;
    assert_eq!(r.windows.len(), 1);
    assert_eq!(r.windows[0].duration, Duration::from_secs(7200));
    assert_eq!(r.targets[0].source, Source::Metadata);
    assert!(!r.targets[0].disabled);
    assert_eq!(
        r.targets[1].source,
        Source::Store(std::path::PathBuf::from("./metadata"))
    );
    assert!(r.targets[1].disabled);

    // A metadata-only configuration needs no store.
    let no_store = from_toml(&format!(
        "{MINIMAL}[[rotation.targets]]\nkind = \"connection_signing_cert\"\nsource = \"metadata\"\n"
    ));
    assert!(no_store.is_ok(), "{no_store:?}");

    for (snippet, key) in [
        (
            "[rotation]\nwindows = [{ cron = \"every tuesday\", duration = \"2h\" }]\n",
            "rotation.windows[0].cron",
        ),
        (
            "[rotation]\nwindows = [{ cron = \"0 0 2 * * TUE\", duration = \"0s\" }]\n",
            "rotation.windows[0].duration",
        ),
        (
            "[rotation]\nwindows = [{ cron = \"0 0 2 * * TUE\" }]\n",
            "rotation.windows[0].duration",
        ),
        (
            "[[rotation.targets]]\nsource = \"metadata\"\n",
            "rotation.targets[0].source",
        ),
        (
            "[[rotation.targets]]\nkind = \"connection_signing_cert\"\nsource = \"metadata\"\npolicy = \"sometimes\"\n",
            "rotation.targets[0].policy",
        ),
    ] {
        let err = from_toml(&format!("{MINIMAL}{snippet}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{snippet}: {err}");
    }
}
