#!/usr/bin/env bash
# The whole test suite: installs missing test tools (Debian's prometheus for promtool and the
# Prometheus end-to-end test, PyPI's aiosmtpd for the SMTP tests), then runs format, lint, every
# test including the ignored ones and the deployment checks.
#
# Plain `cargo test` skips the tests that need a real external server or tool: they are marked
# #[ignore = "needs …"] (aiosmtpd, promtool, prometheus). Here they all run, with
# `-- --include-ignored`, so CI skips nothing.
# Usage: scripts/test.sh            (what CI runs, through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

log "checking test tools"
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  log "installing Debian's prometheus package (promtool + server)"
  apt_install prometheus
fi
if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  log "installing Debian's prometheus-alertmanager (the clustered Alertmanager test)"
  apt_install prometheus-alertmanager
fi
prometheus --version 2>&1 | head -1

# The real-IdP corpus test compares the system CA store with `openssl x509` (--include-ignored).
if ! command -v openssl >/dev/null || [ ! -d /usr/share/ca-certificates ]; then
  apt_install openssl ca-certificates
fi

if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  log "installing aiosmtpd (real SMTP server for the alert tests)"
  python3 -m pip install -q 'aiosmtpd==1.4.6'
fi
python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

log "cargo test, the ignored tests included (aiosmtpd, promtool, the Prometheus end-to-end test)"
cargo test --all-targets --locked -- --include-ignored

# check-deploy.py runs `certwatch check-config` on the Kubernetes ConfigMap with the debug binary
# the tests just built.
log "deployment artifacts (rules, dashboard, manifests, Dockerfile, unit)"
CERTWATCH_BIN="${CARGO_TARGET_DIR:-target}/debug/certwatch" scripts/check-deploy.py

log "all tests passed"
