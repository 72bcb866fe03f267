#!/usr/bin/env bash
# Poll benchmark: certwatch against the built-in Auth0 simulator with generated tenants (S, M, L)
# under Auth0-like rate limits, side by side with a Python baseline built on the official
# auth0-python SDK. Prints a Markdown table (also written to target/bench/results.md).
#
# Usage: scripts/bench.sh              default matrix (~15 min): S, M at 2/s, 16/s, unlimited;
#                                      M at 16/s with 100 ms RTT; L at 16/s and unlimited;
#                                      3 M tenants at once
#        scripts/bench.sh --full       adds L at 2/s and L at 16/s with 100 ms RTT (~+45 min)
#        scripts/bench.sh --quick      a smoke run (~1 min)
#        scripts/bench.sh --no-baseline  certwatch only (no Python venv needed)
#        scripts/bench.sh --budget     only the budget scenario (~3 min): M with second credentials
#                                      and 5 OIDC connections at 16/s b50; full and steady-state
#                                      poll cost, the budget floor, CPU and RSS against the
#                                      baseline, and the runtime flavours (context switches)
#        M+idp runs (in every matrix) add [metadata] fetches for 300 SAML connections
#        scripts/bench.sh --soak [--reloads N] [--connections N] [--hold SECS] [--fd-limit N]
#                                       soak instead: fds and RSS of a `certwatch run` child across
#                                       200 SIGHUP reloads, then /healthz and /metrics latency
#                                       while 1,000 idle connections are held for 10 min, under
#                                       the systemd unit's LimitNOFILE=8192 (~15 min; no Python)
# Needs: cargo, python3 (with venv) — the venv with auth0-python 6.8.0 and cryptography is
# created under target/bench/venv on first use (override with CERTWATCH_BENCH_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

if [[ "${1:-}" == "--soak" ]]; then
  log "building (release)"
  cargo build --release --locked --bin certwatch
  mkdir -p target/bench
  log "soaking"
  exec cargo bench --locked --bench soak -- --certwatch-bin target/release/certwatch \
    --markdown target/bench/soak.md "$@"
fi

command -v python3 >/dev/null || { echo "bench: python3 is required (it measures CPU per child)" >&2; exit 2; }

mkdir -p target/bench
py_args=()
if [[ " $* " != *" --no-baseline "* ]]; then
  venv="${CERTWATCH_BENCH_VENV:-target/bench/venv}"
  if ! "$venv/bin/python" -c 'import auth0.management, cryptography' >/dev/null 2>&1; then
    log "creating the baseline venv in $venv (auth0-python 6.8.0, cryptography)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'auth0-python==6.8.0' 'cryptography==50.0.2'
  fi
  py_args=(--python "$venv/bin/python")
fi

log "building (release)"
cargo build --release --locked --bin certwatch
cargo bench --locked --bench poll --no-run

log "running"
cargo bench --locked --bench poll -- "${py_args[@]}" \
  --certwatch-bin target/release/certwatch \
  --markdown target/bench/results.md "$@"
