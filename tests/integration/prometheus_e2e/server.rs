//! A real Prometheus for the end-to-end test: the `prometheus` server binary (Debian's package,
//! or `CERTWATCH_TEST_PROMETHEUS`) on a free loopback port, with its configuration and TSDB in a
//! temporary directory, killed on drop; and the few calls of its HTTP API the test makes
//! (`/api/v1/query`, `query_range`, `rules`, `alerts`, label values).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Label name → value of one series or alert.
pub type Labels = BTreeMap<String, String>;

/// One series of a query result: its labels and its (last) value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// An alerting or recording rule as `/api/v1/rules` reports it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub group: String,
    pub name: String,
    pub query: String,
    /// The `for:` of an alerting rule, in seconds.
    pub duration: f64,
    /// `ok`, `err` or `unknown` (not evaluated yet).
    pub health: String,
    pub last_error: String,
    /// `inactive`, `pending` or `firing` (alerting rules).
    pub state: String,
    pub alerting: bool,
}

/// One active alert (`/api/v1/alerts`): pending or firing.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: String,
    pub state: String,
    pub labels: Labels,
}

/// The Prometheus binary: `CERTWATCH_TEST_PROMETHEUS`, default `prometheus`.
fn program() -> String {
    std::env::var("CERTWATCH_TEST_PROMETHEUS").unwrap_or_else(|_| "prometheus".into())
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running Prometheus scraping one target every second and evaluating `rules` every second.
pub struct Prometheus {
    child: Mutex<Child>,
    url: String,
    log: PathBuf,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Start Prometheus scraping `target` (job `certwatch`) with the rule file `rules`.
    pub fn start(target: SocketAddr, rules: &Path) -> Prometheus {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {rules}\n\
                 scrape_configs:\n  - job_name: certwatch\n    static_configs:\n      - targets: [\"{target}\"]\n",
                rules = rules.display()
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let log = dir.path().join("prometheus.log");
        let out = std::fs::File::create(&log).expect("prometheus.log");
        let err = out.try_clone().expect("prometheus.log");
        let prog = program();
        let child = Command::new(&prog)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{prog}` ({e}): this test needs the Prometheus server, e.g. Debian's \
                     `apt-get install prometheus` (scripts/test.sh installs it), or \
                     CERTWATCH_TEST_PROMETHEUS=/path/to/prometheus"
                )
            });
        Prometheus {
            child: Mutex::new(child),
            url: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            _dir: dir,
        }
    }

    /// `prometheus --version`, first line.
    pub fn version() -> String {
        Command::new(program())
            .arg("--version")
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or_default().to_string()
            })
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("`{}` does not run", program()))
    }

    /// Whether the process is still running.
    pub fn alive(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        matches!(child.try_wait(), Ok(None))
    }

    /// The last `lines` lines of Prometheus' own log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// GET `path` with `params`; the JSON body (also of a 4xx answer: a query that does not parse
    /// comes back as 400 with `status: error`).
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .query(params)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| format!("GET {path}: {e}"))?;
        serde_json::from_str(&body).map_err(|e| format!("GET {path}: {status} {e}: {body}"))
    }

    /// Whether `/-/ready` answers 200.
    pub async fn ready(&self) -> bool {
        let resp = self.http.get(format!("{}/-/ready", self.url)).send().await;
        resp.is_ok_and(|r| r.status().is_success())
    }

    /// The `data` of a successful answer, or the error Prometheus gave.
    async fn data(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let v = self.get(path, params).await?;
        if v["status"] == "success" {
            Ok(v["data"].clone())
        } else {
            Err(format!(
                "{}: {}",
                v["errorType"].as_str().unwrap_or("error"),
                v["error"].as_str().unwrap_or("(no message)")
            ))
        }
    }

    /// An instant query now.
    pub async fn query(&self, expr: &str) -> Result<Vec<Sample>, String> {
        let data = self.data("/api/v1/query", &[("query", expr)]).await?;
        Ok(samples(&data))
    }

    /// A range query over the last two minutes, step 5 s (each series' last value).
    pub async fn query_range(&self, expr: &str) -> Result<Vec<Sample>, String> {
        let now = certwatch::clock::unix_now();
        let (start, end) = (format!("{:.3}", now - 120.0), format!("{now:.3}"));
        let params = [
            ("query", expr),
            ("start", &start),
            ("end", &end),
            ("step", "5"),
        ];
        let data = self.data("/api/v1/query_range", &params).await?;
        Ok(samples(&data))
    }

    /// Every rule of every loaded group.
    pub async fn rules(&self) -> Result<Vec<Rule>, String> {
        let data = self.data("/api/v1/rules", &[]).await?;
        let mut out = Vec::new();
        for g in data["groups"].as_array().into_iter().flatten() {
            for r in g["rules"].as_array().into_iter().flatten() {
                out.push(Rule {
                    group: text(&g["name"]),
                    name: text(&r["name"]),
                    query: text(&r["query"]),
                    duration: r["duration"].as_f64().unwrap_or(0.0),
                    health: text(&r["health"]),
                    last_error: text(&r["lastError"]),
                    state: text(&r["state"]),
                    alerting: r["type"] == "alerting",
                });
            }
        }
        Ok(out)
    }

    /// Every pending or firing alert.
    pub async fn alerts(&self) -> Result<Vec<Alert>, String> {
        let data = self.data("/api/v1/alerts", &[]).await?;
        Ok(data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let labels = labels(&a["labels"]);
                Alert {
                    name: labels.get("alertname").cloned().unwrap_or_default(),
                    state: text(&a["state"]),
                    labels,
                }
            })
            .collect())
    }

    /// Every metric name Prometheus holds.
    pub async fn metric_names(&self) -> Result<BTreeSet<String>, String> {
        let data = self.data("/api/v1/label/__name__/values", &[]).await?;
        Ok(data.as_array().into_iter().flatten().map(text).collect())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn labels(v: &Value) -> Labels {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect()
}

/// The series of a vector or matrix result (a matrix series keeps its last value).
fn samples(data: &Value) -> Vec<Sample> {
    let value = |pair: &Value| {
        pair[1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN)
    };
    data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| Sample {
            labels: labels(&s["metric"]),
            value: match s["values"].as_array() {
                Some(values) => values.last().map_or(f64::NAN, value),
                None => value(&s["value"]),
            },
        })
        .collect()
}
