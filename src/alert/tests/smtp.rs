//! The email channel against a real SMTP server: Python's aiosmtpd (`smtpd`), started by each
//! test on a free loopback port with a Maildir mailbox in a temp dir.

use super::smtpd::{Smtpd, free_port, header, part};
use super::*;
use crate::alert::Engine;
use crate::config::{EmailChannel, SmtpTls};
use std::path::Path;

fn channel(port: u16) -> EmailChannel {
    EmailChannel {
        name: "mail".into(),
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        from: "certwatch <certwatch@example.com>".into(),
        to: vec![
            "ops@example.com".into(),
            "Security <sec@example.com>".into(),
        ],
        filter: filter(Severity::Warning),
        timeout: Duration::from_secs(10),
    }
}

fn engine_for(port: u16, state: &Path) -> (Engine, Arc<Metrics>) {
    let mut cfg = alerts_cfg(false);
    cfg.email = vec![channel(port)];
    let m = Arc::new(Metrics::new(false));
    // The real channels sign and send with the wall clock, as the daemon does.
    let clock = Arc::new(crate::clock::SystemClock);
    (Engine::new(cfg, state, m.clone(), clock).unwrap(), m)
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd==1.4.6; scripts/test.sh installs it)"]
async fn email_arrives_with_headers_and_both_parts() {
    let port = free_port();
    let smtpd = Smtpd::start(port).await;
    let state = tempfile::tempdir().unwrap();
    let (e, m) = engine_for(port, state.path());
    let cert = saml("3f1c0ffee", T0 + 5 * DAY + HOUR);
    e.process(&report(T0, &[cert]), T0).await;
    assert_eq!(e.pending(), 0);
    assert_eq!(sent_total(&m, "mail", "critical", "delivered"), 1);

    let msgs = smtpd.messages();
    assert_eq!(msgs.len(), 1);
    let msg = &msgs[0];
    assert_eq!(
        header(msg, "subject"),
        [
            "[certwatch] CRITICAL prod: SAML connection 'acme-idp' signing certificate expires in 5 days"
        ]
    );
    assert_eq!(header(msg, "from"), ["certwatch <certwatch@example.com>"]);
    let to = header(msg, "to").join(",");
    assert!(
        to.contains("ops@example.com") && to.contains("Security <sec@example.com>"),
        "{to}"
    );
    let rcpt = header(msg, "x-rcptto").join(",");
    assert!(
        rcpt.contains("ops@example.com") && rcpt.contains("sec@example.com"),
        "{rcpt}"
    );
    assert_eq!(msg["content_type"], "multipart/alternative");
    let text = part(msg, "text/plain");
    assert!(
        text.contains("Not after:    2026-11-28T13:00:00Z"),
        "{text}"
    );
    assert!(text.contains("SHA-1:        3f1c0ffee"));
    assert!(text.contains("What to do:"));
    let html = part(msg, "text/html");
    assert!(
        html.contains("<table") && html.contains("acme-idp") && html.contains("3f1c0ffee"),
        "{html}"
    );
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd==1.4.6; scripts/test.sh installs it)"]
async fn hostile_names_cannot_inject_headers_or_html() {
    let port = free_port();
    let smtpd = Smtpd::start(port).await;
    let state = tempfile::tempdir().unwrap();
    let (e, _) = engine_for(port, state.path());
    let cert = Spec {
        object_name: "evil\r\nBcc: victim@example.net\r\n\r\n<script>x()</script>".into(),
        ..saml("ab", T0 + 3 * DAY)
    };
    e.process(&report(T0, &[cert]), T0).await;
    let msgs = smtpd.messages();
    assert_eq!(msgs.len(), 1);
    let msg = &msgs[0];
    assert!(header(msg, "bcc").is_empty(), "{msg}");
    assert!(!header(msg, "x-rcptto").join(",").contains("victim"));
    let subject = header(msg, "subject").join("");
    assert!(
        subject.starts_with(
            "[certwatch] CRITICAL prod: SAML connection 'evil  Bcc: victim@example.net"
        ),
        "{subject}"
    );
    assert!(!part(msg, "text/html").contains("<script>"));
    assert!(part(msg, "text/html").contains("&lt;script&gt;"));
}

#[tokio::test]
#[ignore = "needs aiosmtpd (pip install aiosmtpd==1.4.6; scripts/test.sh installs it)"]
async fn smtp_down_then_back_delivers_the_pending_alert_exactly_once() {
    let port = free_port(); // nothing listens yet
    let state = tempfile::tempdir().unwrap();
    let (e, m) = engine_for(port, state.path());
    let certs = [saml("c", T0 + 3 * DAY)];
    e.process(&report(T0, &certs), T0).await;
    assert_eq!(e.pending(), 1);
    assert_eq!(sent_total(&m, "mail", "critical", "retrying"), 1);

    let smtpd = Smtpd::start(port).await;
    e.retry_pending(T0 + Duration::from_secs(10)).await;
    assert_eq!(smtpd.messages().len(), 0, "backoff not elapsed");
    e.retry_pending(T0 + Duration::from_secs(30)).await;
    assert_eq!(e.pending(), 0);
    assert_eq!(smtpd.messages().len(), 1);
    e.retry_pending(T0 + HOUR).await;
    e.process(&report(T0 + HOUR, &certs), T0 + HOUR).await;
    assert_eq!(smtpd.messages().len(), 1, "delivered exactly once");
    assert_eq!(sent_total(&m, "mail", "critical", "delivered"), 1);
}

#[test]
fn email_channel_errors_and_debug_hide_the_password() {
    let mut c = channel(25);
    c.username = Some("bot".into());
    c.password = Some(crate::secret::Secret::new("hunter2-smtp"));
    let n = crate::alert::email::EmailNotifier::new(&c).unwrap();
    assert!(!format!("{n:?}").contains("hunter2"));
    for tls in [SmtpTls::StartTls, SmtpTls::Tls] {
        c.tls = tls;
        crate::alert::email::EmailNotifier::new(&c)
            .expect("TLS transports build (rustls + aws-lc-rs)");
    }
    c.to = vec!["not an address".into()];
    let err = crate::alert::email::EmailNotifier::new(&c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("mail") && !err.contains("hunter2"), "{err}");
}
