//! A real SMTP server for tests: Python's aiosmtpd on a loopback port, writing a Maildir that
//! Python's `email` package parses back. Shared by the unit tests (`alert::tests::smtp`) and the
//! integration tests (`tests/integration/alerts.rs` includes this file by path), so it uses
//! nothing of the crate. aiosmtpd is a test requirement (`pip install aiosmtpd==1.4.6`, done by
//! `scripts/test.sh`): without it these tests fail with instructions.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python interpreter (`CERTWATCH_TEST_PYTHON`, default `python3`).
fn python() -> String {
    std::env::var("CERTWATCH_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `python3 -m aiosmtpd` writing to a Maildir; killed on drop.
pub struct Smtpd {
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtpd {
    pub async fn start(port: u16) -> Smtpd {
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
    pub fn messages(&self) -> Vec<Value> {
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

/// Every value of header `name` (lower case) of a parsed message.
pub fn header(m: &Value, name: &str) -> Vec<String> {
    m["headers"][name]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The decoded content of the part of type `ty` of a parsed message.
pub fn part<'a>(m: &'a Value, ty: &str) -> &'a str {
    m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} part in {m}"))["content"]
        .as_str()
        .unwrap()
}
