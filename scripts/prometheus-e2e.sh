#!/usr/bin/env bash
# End-to-end check of the shipped Prometheus rules and Grafana dashboard against a real Prometheus
# scraping `certwatch demo`.
#
# Usage: scripts/prometheus-e2e.sh BINARY
#   BINARY is a certwatch executable (e.g. target/debug/certwatch). `deploy/testdata/fake-certwatch`
#   stands in for it while developing these scripts; the real binary is the reference.
#
# What it does:
#   1. starts `BINARY demo --listen 127.0.0.1:<free port>` (built-in simulated Auth0 tenant);
#   2. starts Debian's `prometheus` (2.42) on another free loopback port with scrape_interval and
#      evaluation_interval 1s and rule_files = deploy/prometheus/certwatch-rules.yaml (as shipped);
#   3. waits for the first scrape, then checks through the HTTP API that
#      - every rule loaded, evaluates without error (health ok) and its query parses;
#      - CertificateExpired, CertificateExpiringCritical and CertificateExpiringSoon fire for the
#        demo's SAML connection certificates, for exactly the certificates the metrics say they
#        should, warning and critical never for the same certificate, and CertificateParseErrors
#        for the unparseable one;
#      - no alert at all fires for a certificate whose role is previous, revoked or unused (and the
#        demo does have such certificates inside the alert windows, so this is not vacuous);
#      - no tenant/poll/exporter health alert fires;
#      - the findings rules (group certwatch.findings) fire for exactly the demo's stories (IdP
#        rotation pending, trusted certificate withdrawn, metadata validUntil in 5 days, upstream
#        OIDC x5c in 10 days, tenant JWKS without the next key, a renewing_failed managed domain and
#        a self-managed domain serving a certificate for ~12 more days, two applications at the
#        two-credential limit) with the right severity, and for exactly the objects the exported
#        metrics put in each rule; never for info-only or un-ruled findings, and a trusted IdP
#        certificate alerts once, through the certificate rules. Rules with a `for:` longer than the
#        test can run (IdPMetadataUnavailable, CustomDomainProbeFailed: 1h) cannot be seen firing:
#        their `for:` is checked, and that they are pending for exactly the objects the metrics put
#        in them (inactive when none: the demo has no failing remote fetch);
#      - every PromQL expression in dashboards/certwatch.json (panel targets, template variable
#        queries, annotations) parses and returns data, with $tenant/$kind = ".*", $__rate_interval
#        = 1m, $__interval = 15s, $__range = 5m. The only expressions allowed to return nothing are
#        those on metrics the demo does not produce (OPTIONAL_METRICS below: three counters it never
#        increments and the rate-limit gauge), and only while the metric is absent from Prometheus.
#   4. stops both processes (trap) and exits non-zero if any check failed.
# Needs: python3 (standard library only), prometheus (installed with apt-get when missing and root).
set -euo pipefail

usage() { echo "usage: $0 BINARY   (a certwatch executable; runs 'BINARY demo')" >&2; exit 2; }
[ $# -eq 1 ] || usage
case "$1" in -h|--help) usage ;; esac
BINARY=$1
if [ ! -x "$BINARY" ]; then
  echo "prometheus-e2e: $BINARY is not an executable file" >&2
  exit 2
fi
case "$BINARY" in /*) ;; *) BINARY="$PWD/$BINARY" ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RULES="$ROOT/deploy/prometheus/certwatch-rules.yaml"
DASHBOARD="$ROOT/dashboards/certwatch.json"

if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "prometheus-e2e: installing Debian's prometheus package" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "prometheus-e2e: needs the prometheus server: apt-get install prometheus (as root)" >&2
    exit 2
  fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/certwatch-e2e.XXXXXX")
pids=()
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # give each process 10 s to stop gracefully, then kill it
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
cw_port=$(free_port)
prom_port=$(free_port)
while [ "$prom_port" = "$cw_port" ]; do prom_port=$(free_port); done

echo "prometheus-e2e: $(prometheus --version 2>&1 | head -1)"
echo "prometheus-e2e: starting $BINARY demo on 127.0.0.1:$cw_port"
"$BINARY" demo --listen "127.0.0.1:$cw_port" >"$tmp/certwatch.log" 2>&1 &
cw_pid=$!
pids+=("$cw_pid")

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: certwatch
    static_configs:
      - targets: ["127.0.0.1:$cw_port"]
EOF
echo "prometheus-e2e: starting prometheus on 127.0.0.1:$prom_port (rules: ${RULES#"$ROOT"/})"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")

status=0
python3 - "http://127.0.0.1:$prom_port" "http://127.0.0.1:$cw_port" "$DASHBOARD" "$cw_pid" "$prom_pid" <<'PY' || status=$?
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PROM, CERTWATCH, DASHBOARD = sys.argv[1], sys.argv[2], sys.argv[3]
CW_PID, PROM_PID = int(sys.argv[4]), int(sys.argv[5])

# Dashboard expressions that may legitimately return no data in the demo. Each is allowed empty only
# while its metric is absent from Prometheus altogether; once the metric exists, the panel must show
# data like any other (so an exception switches itself off when the demo starts exporting it).
OPTIONAL_METRICS = {
    # counters exist only once incremented (SPEC §6), and the demo never increments these:
    "certwatch_poll_errors_total": "the demo tenant answers every call, so no poll error is counted",
    "certwatch_alerts_sent_total": "the demo configures no alert channel",
    "certwatch_rotations_total": "the demo configures no rotation",
    # set from Auth0's x-ratelimit-remaining header, which real Auth0 always sends but the
    # simulator only sends when a rate limit is configured (sim::Sim::set_rate_limit):
    "certwatch_api_ratelimit_remaining": "the demo's simulated tenant sends no x-ratelimit-* headers",
}
ALERTING_ROLES = {"current", "next", "active", "in_use"}
SILENT_ROLES = {"previous", "revoked", "unused"}
WARNING_BEFORE, CRITICAL_BEFORE = 30 * 86400, 7 * 86400
VARIABLES = {"tenant": ".*", "kind": ".*", "__rate_interval": "1m", "__interval": "15s",
             "__range": "5m", "__range_s": "300", "__interval_ms": "15000", "datasource": "prometheus"}
ID = ("tenant", "kind", "object_id", "object_name", "cert_id")

passed, failed = 0, 0


def ok(msg):
    global passed
    passed += 1
    print(f"  PASS {msg}")


def fail(msg):
    global failed
    failed += 1
    print(f"  FAIL {msg}")


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie (exited, not yet reaped by the shell) still answers kill 0
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


def api(path, **params):
    url = f"{PROM}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        return json.loads(http_get(url))
    except urllib.error.HTTPError as e:  # 400 for a query that does not parse: keep its error body
        try:
            return json.loads(e.read().decode())
        except ValueError:
            return {"status": "error", "error": str(e)}


def query(expr, instant=True):
    if instant:
        return api("/api/v1/query", query=expr)
    now = time.time()
    return api("/api/v1/query_range", query=expr, start=f"{now - 120:.3f}", end=f"{now:.3f}", step="5")


def wait_for(what, predicate, timeout, pids=(CW_PID, PROM_PID)):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        for pid in pids:
            if not alive(pid):
                raise SystemExit(f"FAIL process {pid} exited while waiting for {what}")
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.5)
    raise SystemExit(f"FAIL timed out after {timeout}s waiting for {what} (last: {last!r})")


def identity(labels):
    return tuple(labels.get(k, "") for k in ID)


# ---------------------------------------------------------------------------------------------
print("== waiting for certwatch and Prometheus")
t0 = time.time()
wait_for("certwatch /metrics with certificates", lambda: "certwatch_certificate_info{" in http_get(f"{CERTWATCH}/metrics"), 90, (CW_PID,))
print(f"  certwatch demo serves certificates after {time.time() - t0:.1f}s")
wait_for("Prometheus ready", lambda: http_get(f"{PROM}/-/ready").strip() != "", 30)
wait_for("a scrape of certwatch", lambda: any(
    r["value"][1] == "1" for r in query('up{job="certwatch"}')["data"]["result"]), 30)
wait_for("certificates in Prometheus", lambda: query("count(certwatch_certificate_info)")["data"]["result"], 30)
print(f"  first scrape with certificates after {time.time() - t0:.1f}s")

# ---------------------------------------------------------------------------------------------
print("== alert rules")


def all_rules_evaluated():
    groups = api("/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    # health is "unknown" until a rule's first evaluation
    return rules if rules and all(r.get("health") in ("ok", "err") for r in rules) else None


rules = wait_for("every rule evaluated once", all_rules_evaluated, 30)
if len(rules) < 10:
    fail(f"only {len(rules)} rules loaded from the shipped rule file")
for r in rules:
    name = r.get("name")
    if r.get("health") != "ok" or r.get("lastError"):
        fail(f"rule {name}: health {r.get('health')} {r.get('lastError', '')}")
        continue
    res = query(r["query"])
    if res.get("status") != "success":
        fail(f"rule {name}: query does not evaluate: {res.get('error')}")
    else:
        ok(f"rule {name}: loaded, evaluates, query parses ({len(res['data']['result'])} series now)")


def certificates():
    """identity -> {role, status, left (seconds, None without expiry), parse_error}"""
    now = time.time()
    certs = {}
    for s in query("certwatch_certificate_info")["data"]["result"]:
        m = s["metric"]
        certs[identity(m)] = {"role": m.get("role"), "status": m.get("status"), "left": None, "parse_error": False}
    for s in query("certwatch_certificate_not_after_timestamp_seconds")["data"]["result"]:
        c = certs.get(identity(s["metric"]))
        if c is not None:
            c["left"] = float(s["value"][1]) - now
    for s in query("certwatch_certificate_parse_error")["data"]["result"]:
        c = certs.get(identity(s["metric"]))
        if c is not None and float(s["value"][1]) > 0:
            c["parse_error"] = True
    return certs


def firing():
    out = {}
    for a in api("/api/v1/alerts")["data"]["alerts"]:
        if a.get("state") == "firing":
            out.setdefault(a["labels"]["alertname"], []).append(a["labels"])
    return out


REQUIRED = ("CertificateExpired", "CertificateExpiringCritical", "CertificateExpiringSoon")


def required_alerts_fire():
    f = firing()
    ready = all(any(l.get("kind") == "connection_signing_cert" for l in f.get(n, [])) for n in REQUIRED)
    return f if ready else None


try:
    alerts = wait_for("CertificateExpired, CertificateExpiringCritical and CertificateExpiringSoon firing for SAML connection certificates",
                      required_alerts_fire, 30)
except SystemExit as e:
    print(f"  {e}")
    failed += 1
    alerts = firing()
certs = certificates()
for name in REQUIRED:
    saml = sorted(l.get("object_name", "") for l in alerts.get(name, []) if l.get("kind") == "connection_signing_cert")
    if saml:
        ok(f"{name} fires for SAML connection certificates: {', '.join(saml)}")
    else:
        fail(f"{name} does not fire for any SAML connection certificate")

# The alerts must fire for exactly the certificates the metrics put in each window (alerting roles).
windows = {
    "CertificateExpired": lambda left: left <= 0,
    "CertificateExpiringCritical": lambda left: 0 < left < CRITICAL_BEFORE,
    "CertificateExpiringSoon": lambda left: CRITICAL_BEFORE <= left < WARNING_BEFORE,
}
for name, inside in windows.items():
    expected = {i for i, c in certs.items() if c["left"] is not None and c["role"] in ALERTING_ROLES and inside(c["left"])}
    got = {identity(l) for l in alerts.get(name, [])}
    if expected == got:
        ok(f"{name} fires for exactly the {len(got)} alerting-role certificates in its window")
    else:
        fail(f"{name}: missing {sorted(expected - got)}, unexpected {sorted(got - expected)}")

by_cert = {}
for name, labels in alerts.items():
    for l in labels:
        if "cert_id" in l:
            by_cert.setdefault(identity(l), set()).add(name)
both = [i for i, names in by_cert.items() if {"CertificateExpiringSoon", "CertificateExpiringCritical"} <= names
        or {"CertificateExpired", "CertificateExpiringCritical"} <= names]
if both:
    fail(f"certificates with two expiry severities at once: {both}")
else:
    ok("no certificate has warning and critical (or critical and expired) alerts at once")

silent = {i: c for i, c in certs.items() if c["role"] in SILENT_ROLES}
loud = sorted((i, sorted(by_cert[i])) for i in silent if i in by_cert)
if loud:
    fail(f"alerts fire for previous/revoked/unused certificates: {loud}")
else:
    ok(f"no alert fires for the {len(silent)} certificates with role previous, revoked or unused")
for role in sorted(SILENT_ROLES):
    near = [i for i, c in silent.items() if c["role"] == role and c["left"] is not None and c["left"] < WARNING_BEFORE]
    if near:
        ok(f"the demo has {len(near)} {role} certificate(s) expired or expiring within 30 days (so the check above is not vacuous)")
    else:
        fail(f"the demo has no {role} certificate expired or expiring within 30 days: the role exclusion is untested")

broken = {i for i, c in certs.items() if c["parse_error"] and c["role"] in ALERTING_ROLES}
got = {identity(l) for l in alerts.get("CertificateParseErrors", [])}
if broken and broken == got:
    ok(f"CertificateParseErrors fires for the {len(broken)} unparseable certificate(s)")
elif not broken:
    fail("the demo exports no certwatch_certificate_parse_error for an alerting certificate")
else:
    fail(f"CertificateParseErrors: expected {sorted(broken)}, got {sorted(got)}")

unknown_no_expiry = [i for i, c in certs.items() if c["status"] in ("unknown", "never_expires") and not c["parse_error"]]
loud = [i for i in unknown_no_expiry if by_cert.get(i, set()) - {"CredentialWithoutExpiry"}]
if loud:
    fail(f"expiry alerts fire for certificates without a known expiry: {loud}")
else:
    ok(f"no expiry alert for the {len(unknown_no_expiry)} thumbprint-only / never-expiring certificates")

health = sorted(n for n in alerts if n in ("Auth0TenantDown", "Auth0PollStale", "CertwatchDown", "CertwatchAbsent"))
if health:
    fail(f"health alerts fire against the demo: {health}")
else:
    ok("no tenant / poll / exporter health alert fires")

# ---------------------------------------------------------------------------------------------
print("== findings rules (certwatch.findings)")
FINDING_ALERTS = {  # alert -> severity label
    "IdPCertificateRotationPending": "warning", "IdPTrustedCertificateWithdrawn": "critical",
    "IdPMetadataExpiringCritical": "critical", "IdPMetadataExpiringSoon": "warning",
    "IdPCertificateExpiringCritical": "critical", "IdPCertificateExpiringSoon": "warning",
    "TenantJWKSMissingCurrentKey": "critical", "TenantJWKSMismatch": "warning",
    "TenantNextSigningKeyMissing": "warning", "CustomDomainCertificateFailed": "critical",
    "CustomDomainCertificateExpiringCritical": "critical", "CustomDomainCertificateExpiringSoon": "warning",
    "IdPMetadataUnavailable": "warning", "CustomDomainProbeFailed": "warning",
    "TenantNextSigningKeyExpiresFirst": "warning", "ClientCredentialLimitReached": "info",
    "CustomDomainRenewalOverdue": "warning",
}
# `for:` of the finding rules that hold back a flaky remote fetch: longer than this test runs, so
# they are checked pending (or inactive), never firing. Every other finding rule has `for: 0m`.
LONG_FOR = {"IdPMetadataUnavailable": 3600, "CustomDomainProbeFailed": 3600}
# What the demo tenant (src/sim/demo.rs) is built to show, by the alert's object_name (domain for
# the served-certificate alerts). Every alert of FINDING_ALERTS not listed here must stay silent.
DEMO_STORIES = {
    # contoso-saml: the metadata publishes a new certificate next to the trusted one; globex-saml:
    # only a new one (its trusted certificate is withdrawn) and validUntil is 5 days away
    "IdPCertificateRotationPending": {"contoso-saml", "globex-saml"},
    "IdPTrustedCertificateWithdrawn": {"globex-saml"},
    "IdPMetadataExpiringCritical": {"globex-saml"},
    # partner-oidc: the upstream JWKS has an x5c certificate expiring in 10 days
    "IdPCertificateExpiringSoon": {"partner-oidc"},
    # the tenant JWKS lacks the next signing key
    "TenantJWKSMismatch": {"demo.certwatch.local"},
    # custom domains: one managed certificate renewing_failed, one self-managed serving ~12 days
    "CustomDomainCertificateFailed": {"sso.acme-demo.example.com"},
    "CustomDomainCertificateExpiringSoon": {"id.acme-demo.example.com"},
    # both hold two credentials (billing-api two in use, iot-fleet-manager an unused one besides)
    "ClientCredentialLimitReached": {"billing-api", "iot-fleet-manager"},
}
# Not in the demo, so silent (and pending-free): metadata_unavailable, custom_domain_probe_failed,
# next_key_expires_first, an overdue renewal of a managed domain (its provisioned domain renews in
# the future).
# Findings no rule of certwatch.findings turns into an alert (info-only hygiene left to the
# dashboard and certwatch's own notifications, credential_without_expiry has CredentialWithoutExpiry
# on certwatch_certificate_info; metadata_expiring, idp_certificate_expiring and
# custom_domain_certificate_expiring, self-managed or an overdue managed renewal, alert from their
# gauges, not from the finding).
UNRULED = {"credential_without_expiry", "unused_credential", "metadata_expiring", "idp_certificate_expiring",
           "custom_domain_certificate_expiring"}
FKEY = ("tenant", "kind", "object_id", "object_name", "finding")
IDP_KEY = ("tenant", "kind", "object_id", "object_name", "cert_id", "source", "trusted")
META_KEY = ("tenant", "object_id", "object_name")
DOMAIN_KEY = ("tenant", "object_id", "domain")


def labels_key(labels, names):
    return tuple(labels.get(n, "") for n in names)


def object_of(labels):
    return labels.get("object_name") or labels.get("domain", "")


def alerts_in(state):
    out = {}
    for a in api("/api/v1/alerts")["data"]["alerts"]:
        if a.get("state") == state:
            out.setdefault(a["labels"]["alertname"], []).append(a["labels"])
    return out


def demo_stories_fire():
    f = firing()
    ready = all(names <= {object_of(l) for l in f.get(a, [])} for a, names in DEMO_STORIES.items())
    return f if ready else None


try:
    alerts = wait_for("the demo's findings alerts firing", demo_stories_fire, 30)
except SystemExit as e:
    print(f"  {e}")
    failed += 1
    alerts = firing()

for name in sorted(FINDING_ALERTS):
    got = sorted(object_of(l) for l in alerts.get(name, []))
    want = sorted(DEMO_STORIES.get(name, set()))
    if got == want:
        ok(f"{name} fires for {', '.join(got) if got else 'nothing'}, as the demo tenant is built")
    else:
        fail(f"{name} fires for {got}, the demo tenant is built for {want}")
    bad = sorted({l.get("severity", "") for l in alerts.get(name, [])} - {FINDING_ALERTS[name]})
    if bad:
        fail(f"{name}: severity {bad}, expected {FINDING_ALERTS[name]}")

# The same, derived from the metrics Prometheus holds (so join keys, matchers and windows are
# checked against real Prometheus semantics, not only against the demo's intent).
now = time.time()
finding_set = {labels_key(s["metric"], FKEY) for s in query("certwatch_finding")["data"]["result"]}
idp = {labels_key(s["metric"], IDP_KEY): float(s["value"][1]) - now
       for s in query("certwatch_idp_certificate_not_after_timestamp_seconds")["data"]["result"]}
meta = {labels_key(s["metric"], META_KEY): float(s["value"][1]) - now
        for s in query("certwatch_idp_metadata_valid_until_timestamp_seconds")["data"]["result"]}
served = {labels_key(s["metric"], DOMAIN_KEY): float(s["value"][1]) - now
          for s in query("certwatch_custom_domain_certificate_not_after_timestamp_seconds")["data"]["result"]}
renews = {labels_key(s["metric"], DOMAIN_KEY): float(s["value"][1]) - now
          for s in query("certwatch_custom_domain_renews_before_timestamp_seconds")["data"]["result"]}
provisioned = {(m["tenant"], m["object_id"]) for m in (s["metric"] for s in query(
    'certwatch_custom_domain_info{certificate_status="provisioned"}')["data"]["result"])}
current_keys = {(m["tenant"], m["object_id"]) for m in (s["metric"] for s in query(
    'certwatch_certificate_info{kind="tenant_signing_key", role="current"}')["data"]["result"])}
trusted_published = {(k[0], k[2]) for k in idp if k[6] == "true"}


def of(finding):
    return {k for k in finding_set if k[4] == finding}


def critical(left):
    return left < CRITICAL_BEFORE


def soon(left):
    return CRITICAL_BEFORE <= left < WARNING_BEFORE


withdrawn = of("idp_certificate_withdrawn")
expected = {
    "IdPCertificateRotationPending": (FKEY, of("idp_new_certificate")),
    "IdPTrustedCertificateWithdrawn": (FKEY, {k for k in withdrawn if (k[0], k[2]) not in trusted_published}),
    "IdPMetadataExpiringCritical": (META_KEY, {k for k, left in meta.items() if critical(left)}),
    "IdPMetadataExpiringSoon": (META_KEY, {k for k, left in meta.items() if soon(left)}),
    "IdPCertificateExpiringCritical": (IDP_KEY, {k for k, left in idp.items() if k[6] != "true" and critical(left)}),
    "IdPCertificateExpiringSoon": (IDP_KEY, {k for k, left in idp.items() if k[6] != "true" and soon(left)}),
    "TenantJWKSMissingCurrentKey": (FKEY, {k for k in of("jwks_mismatch") if (k[0], k[2]) in current_keys}),
    "TenantJWKSMismatch": (FKEY, {k for k in of("jwks_mismatch") if (k[0], k[2]) not in current_keys}),
    "TenantNextSigningKeyMissing": (FKEY, of("no_next_signing_key")),
    "CustomDomainCertificateFailed": (FKEY, of("custom_domain_certificate_failed")),
    "CustomDomainCertificateExpiringCritical": (DOMAIN_KEY, {k for k, left in served.items() if critical(left)}),
    "CustomDomainCertificateExpiringSoon": (DOMAIN_KEY, {k for k, left in served.items() if soon(left)}),
    "IdPMetadataUnavailable": (FKEY, of("metadata_unavailable")),
    "CustomDomainProbeFailed": (FKEY, of("custom_domain_probe_failed")),
    "TenantNextSigningKeyExpiresFirst": (FKEY, of("next_key_expires_first")),
    "ClientCredentialLimitReached": (FKEY, of("credential_limit_reached")),
    # overdue as certwatch judges it: renews_before <= now, certificate still provisioned
    "CustomDomainRenewalOverdue": (DOMAIN_KEY, {k for k, left in renews.items() if (k[0], k[1]) in provisioned and left <= 0}),
}
if set(expected) != set(FINDING_ALERTS):
    fail(f"expected sets and FINDING_ALERTS differ: {sorted(set(expected) ^ set(FINDING_ALERTS))}")
pending_alerts = alerts_in("pending")
rule_by_name = {r["name"]: r for g in api("/api/v1/rules")["data"]["groups"] for r in g["rules"]}
for name, (names, want) in sorted(expected.items()):
    got = {labels_key(l, names) for l in alerts.get(name, [])}
    if name in LONG_FOR:
        rule = rule_by_name.get(name, {})
        held = {labels_key(l, names) for l in pending_alerts.get(name, [])}
        if rule.get("duration") != LONG_FOR[name]:
            fail(f"{name}: for is {rule.get('duration')} s, expected {LONG_FOR[name]} s")
        elif got:
            fail(f"{name} fires after less than its for: {sorted(got)}")
        elif held != want:
            fail(f"{name} pending: missing {sorted(want - held)}, unexpected {sorted(held - want)}")
        elif want:
            ok(f"{name} (for {LONG_FOR[name] / 3600:g}h) is pending for exactly the {len(want)} object(s) the metrics put in it")
        elif rule.get("state") == "inactive":
            ok(f"{name} (for {LONG_FOR[name] / 3600:g}h) is loaded and inactive: nothing in the metrics for it")
        else:
            fail(f"{name}: state {rule.get('state')}, expected inactive")
    elif got == want:
        ok(f"{name} fires for exactly the {len(got)} object(s) the metrics put in it")
    else:
        fail(f"{name}: missing {sorted(want - got)}, unexpected {sorted(got - want)}")

# The silent new rules are not silent for want of data: the demo has what they would look at.
managed = sorted(k[2] for k, left in renews.items() if (k[0], k[1]) in provisioned)
if managed and not expected["CustomDomainRenewalOverdue"][1]:
    ok(f"CustomDomainRenewalOverdue silent for the demo's provisioned managed domain(s) renewing later: {', '.join(managed)}")
elif not managed:
    fail("the demo has no provisioned managed custom domain with renews_before: CustomDomainRenewalOverdue is untested")
key_left = {c["role"]: c["left"] for i, c in certs.items() if i[1] == "tenant_signing_key" and c["role"] in ("current", "next")}
if key_left.get("current") is not None and key_left.get("next") is not None and key_left["next"] > key_left["current"]:
    if of("next_key_expires_first"):
        fail("certwatch reports next_key_expires_first although the next signing key expires after the current one")
    else:
        ok("the demo's next signing key expires after the current one: no next_key_expires_first, no alert")
else:
    print(f"  NOTE the demo's current / next signing key expiries: {key_left}")

pairs = (("IdPMetadataExpiringSoon", "IdPMetadataExpiringCritical", META_KEY),
         ("IdPCertificateExpiringSoon", "IdPCertificateExpiringCritical", IDP_KEY),
         ("CustomDomainCertificateExpiringSoon", "CustomDomainCertificateExpiringCritical", DOMAIN_KEY))
twice = [(a, k) for a, b, names in pairs
         for k in {labels_key(l, names) for l in alerts.get(a, [])} & {labels_key(l, names) for l in alerts.get(b, [])}]
if twice:
    fail(f"objects with a warning and a critical alert at once: {twice}")
else:
    ok("no IdP metadata, IdP certificate or custom domain has its warning and critical alert at once")

# Info-only and un-ruled findings never alert.
info_withdrawn = {k for k in withdrawn if (k[0], k[2]) in trusted_published}
loud = [l for l in alerts.get("IdPTrustedCertificateWithdrawn", [])
        if (l.get("tenant"), l.get("object_id")) in {(k[0], k[2]) for k in info_withdrawn}]
if loud:
    fail(f"IdPTrustedCertificateWithdrawn fires next to a published trusted certificate (info only): {loud}")
elif info_withdrawn:
    ok(f"no alert for the {len(info_withdrawn)} withdrawn certificate(s) next to a published trusted one (info)")
else:
    print("  NOTE the demo has no withdrawn certificate next to a published trusted one; that info-only case "
          "is covered by the promtool unit tests")
unruled = sorted({k[4] for k in finding_set} & UNRULED)
loud = [(n, l.get("object_name"), l.get("finding")) for n in FINDING_ALERTS for l in alerts.get(n, [])
        if l.get("finding") in UNRULED]
if loud:
    fail(f"finding rules fire for findings they should leave alone: {loud}")
elif unruled:
    ok(f"no finding rule fires for the findings without one the demo has: {', '.join(unruled)}")
else:
    fail("the demo exports none of the findings without a rule (credential hygiene ...): that exclusion is untested")

# trusted="true" IdP certificates are inventory certificates: they alert once, through the
# certificate rules, never through IdPCertificateExpiring*.
near = [k for k, left in idp.items() if k[6] == "true" and left < WARNING_BEFORE]
inventory_alerts = {identity(l) for n in ("CertificateExpired", "CertificateExpiringCritical", "CertificateExpiringSoon")
                    for l in alerts.get(n, [])}
idp_alerts = {labels_key(l, IDP_KEY) for n in ("IdPCertificateExpiringCritical", "IdPCertificateExpiringSoon")
              for l in alerts.get(n, [])}
double = [k for k in near if k in idp_alerts]
uncovered = [k for k in near if k[:5] not in inventory_alerts]
if double:
    fail(f"trusted IdP certificates alert through IdPCertificateExpiring* too: {double}")
elif uncovered:
    fail(f"trusted IdP certificates within 30 days without an inventory expiry alert: {uncovered}")
elif near:
    ok(f"the {len(near)} trusted IdP certificate(s) within 30 days alert once, through the certificate rules "
       f"({', '.join(sorted(k[3] for k in near))})")
else:
    fail("the demo has no trusted IdP certificate within 30 days: the no-double-alert rule is untested")

# ---------------------------------------------------------------------------------------------
print("== dashboard queries")
with open(DASHBOARD, encoding="utf-8") as f:
    dash = json.load(f)


def substitute(expr):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in VARIABLES:
            raise KeyError(name)
        return VARIABLES[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


exprs = []  # (where, expr, instant)
for p in panels(dash.get("panels", [])):
    for t in p.get("targets", []):
        if t.get("expr"):
            instant = bool(t.get("instant")) and not t.get("range", False)
            exprs.append((f"panel {p.get('id')} {p.get('title')!r} target {t.get('refId')}", t["expr"], instant))
for v in dash.get("templating", {}).get("list", []):
    if v.get("type") != "query":
        continue
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else (q or "")
    m = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\)\s*", q)
    if m:
        exprs.append((f"variable {v['name']} ({q})", f"count by ({m.group(2)}) ({m.group(1)})", True))
    elif q:
        exprs.append((f"variable {v['name']}", re.sub(r"^query_result\((.*)\)$", r"\1", q), True))
for a in dash.get("annotations", {}).get("list", []):
    expr = a.get("expr") or a.get("target", {}).get("expr")
    if expr:
        exprs.append((f"annotation {a.get('name')!r}", expr, False))
if not exprs:
    fail("no PromQL expression found in the dashboard")

names = set(api("/api/v1/label/__name__/values")["data"])
pending = []
for where, raw, instant in exprs:
    try:
        expr = substitute(raw)
    except KeyError as e:
        fail(f"{where}: unknown dashboard variable ${e.args[0]} in {raw}")
        continue
    res = query(expr, instant)
    if res.get("status") != "success":
        fail(f"{where}: does not parse/evaluate: {res.get('error')}\n         {expr}")
        continue
    pending.append((where, expr, instant))

def excused(expr):
    """True when expr reads an optional metric and none of the optional metrics it reads exists yet."""
    used = [m for m in OPTIONAL_METRICS if m in expr]
    return bool(used) and not any(m in names for m in used)


# Data may need a few more scrapes (rate() needs two samples): retry empty results for up to 30 s.
deadline = time.time() + 30
while True:
    still = []
    for where, expr, instant in pending:
        res = query(expr, instant)
        if res.get("status") == "success" and res["data"]["result"]:
            ok(f"{where}: parses and returns {len(res['data']['result'])} series")
        else:
            still.append((where, expr, instant))
    pending = still
    names = set(api("/api/v1/label/__name__/values")["data"])
    if all(excused(expr) for _, expr, _ in pending) or time.time() > deadline:
        break
    time.sleep(2)
for where, expr, instant in pending:
    used = [m for m in OPTIONAL_METRICS if m in expr]
    if excused(expr):
        ok(f"{where}: parses; no data because {', '.join(m + ' does not exist (' + OPTIONAL_METRICS[m] + ')' for m in used)}")
    else:
        fail(f"{where}: returns no data\n         {expr}")

print(f"prometheus-e2e: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

if [ "$status" -ne 0 ]; then
  echo "---- certwatch log (last 40 lines) ----" >&2
  tail -n 40 "$tmp/certwatch.log" >&2 || true
  echo "---- prometheus log (last 20 lines) ----" >&2
  tail -n 20 "$tmp/prometheus.log" >&2 || true
fi
exit "$status"
