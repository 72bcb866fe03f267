#!/usr/bin/env bash
# The whole test suite: installs missing test tools (Debian's prometheus for promtool and the
# Prometheus e2e, PyPI's aiosmtpd for the SMTP tests), then runs format, lint and every test.
# Usage: scripts/test.sh            (what CI runs)
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
promtool --version 2>&1 | head -1

if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  log "installing aiosmtpd (real SMTP server for the alert tests)"
  python3 -m pip install -q 'aiosmtpd==1.4.6'
fi
python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

log "cargo test"
cargo test --all-targets --locked

if [ -x scripts/check-deploy.sh ]; then
  log "deployment artifacts (rules, dashboard, manifests, Dockerfile, unit)"
  scripts/check-deploy.sh
fi

if [ -x scripts/prometheus-e2e.sh ]; then
  log "real Prometheus scraping certwatch demo"
  cargo build --locked --bin certwatch
  scripts/prometheus-e2e.sh "${CARGO_TARGET_DIR:-target}/debug/certwatch"
fi

log "all tests passed"
