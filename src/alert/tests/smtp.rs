//! The email channel against a real SMTP server: Python's aiosmtpd, started by each test on a
//! free loopback port with a Maildir mailbox in a temp dir. aiosmtpd is a test requirement
//! (`pip install aiosmtpd==1.4.6`, done by `scripts/test.sh`): without it these tests fail.

use super::*;
use crate::alert::Engine;
use crate::config::{EmailChannel, SmtpTls};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The Python interpreter (`CERTWATCH_TEST_PYTHON`, default `python3`).
fn python() -> String {
    std::env::var("CERTWATCH_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `python3 -m aiosmtpd` writing to a Maildir; killed on drop.
struct Smtpd {
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtpd {
    async fn start(port: u16) -> Smtpd {
        let py = python();
        let probe = Command::new(&py).args(["-c", "import aiosmtpd"]).output();
        match probe {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "the SMTP tests need Python's aiosmtpd, which `{py}` cannot import ({}). Install it with \
                 `pip install aiosmtpd==1.4.6` (scripts/test.sh does this) or point CERTWATCH_TEST_PYTHON at an \
                 interpreter that has it.",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!(
                "the SMTP tests need `{py}` with aiosmtpd installed, but it cannot be run: {e}"
            ),
        }
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let mut child = Command::new(&py)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aiosmtpd");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("aiosmtpd exited with {status}: {err}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not listen on port {port} within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Smtpd {
            child,
            maildir,
            _dir: dir,
        }
    }

    /// Every delivered message, parsed by Python's `email` package (headers decoded and unfolded,
    /// parts decoded), oldest first.
    fn messages(&self) -> Vec<Value> {
        let new = self.maildir.join("new");
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = match std::fs::read_dir(&new) {
            Ok(rd) => rd
                .map(|e| e.unwrap())
                .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
                .collect(),
            Err(_) => vec![],
        };
        files.sort();
        files.iter().map(|(_, p)| parse(p)).collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PARSE: &str = r#"
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
headers = {}
for k, v in m.items():
    headers.setdefault(k.lower(), []).append(str(v))
parts = [{'type': p.get_content_type(), 'content': p.get_content()}
         for p in m.walk() if not p.is_multipart()]
print(json.dumps({'content_type': m.get_content_type(), 'headers': headers, 'parts': parts}))
"#;

fn parse(path: &Path) -> Value {
    let out = Command::new(python())
        .args(["-c", PARSE])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn header(m: &Value, name: &str) -> Vec<String> {
    m["headers"][name]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn part<'a>(m: &'a Value, ty: &str) -> &'a str {
    m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} part in {m}"))["content"]
        .as_str()
        .unwrap()
}

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
    (Engine::new(cfg, state, m.clone()).unwrap(), m)
}

#[tokio::test]
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
