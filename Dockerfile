# syntax=docker/dockerfile:1
# certwatch container image.
#   docker build -t certwatch --build-arg CERTWATCH_REVISION="$(git rev-parse --short HEAD)" .
#   docker run --rm -p 9879:9879 certwatch demo --listen 0.0.0.0:9879    # built-in demo tenant
#   docker run -v "$PWD/certwatch.toml:/etc/certwatch/certwatch.toml:ro" \
#     -e AUTH0_PROD_CLIENT_SECRET -p 9879:9879 certwatch                 # the daemon (`run`)
# Lint: hadolint Dockerfile (scripts/check-deploy.py).

ARG RUST_VERSION=1

# ---- dependency recipe (cargo-chef): rebuilt only when the manifests change ----
FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---- build ----
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer stays cached until Cargo.toml / Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# Shown as certwatch_build_info{revision}; .git is not in the build context.
ARG CERTWATCH_REVISION=unknown
ENV CERTWATCH_REVISION=${CERTWATCH_REVISION}
RUN cargo build --release --locked --bin certwatch \
    && install -m 0755 target/release/certwatch /usr/local/bin/certwatch

# ---- runtime ----
FROM debian:bookworm-slim AS runtime
# ca-certificates: the TLS roots for Auth0, SMTP and webhooks. Versions are not pinned on purpose:
# Debian stable only ships security and bug fixes, and a pinned version breaks the build as soon as
# the archive moves on.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 certwatch \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/certwatch --no-create-home \
       --shell /usr/sbin/nologin certwatch \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/certwatch

COPY --from=builder /usr/local/bin/certwatch /usr/local/bin/certwatch
# A documented starting point; mount your own config over it (or set CERTWATCH_CONFIG).
COPY config/certwatch.example.toml /etc/certwatch/certwatch.toml

# Inside a container the daemon must listen on all interfaces to be reachable (the config's default
# is 127.0.0.1:9879). Environment overrides the config file, `--listen` overrides both.
ENV CERTWATCH_SERVER__LISTEN=0.0.0.0:9879

USER 10001:10001
WORKDIR /var/lib/certwatch
# Alert ledger, rotation audit log and lock: keep it on a volume.
VOLUME ["/var/lib/certwatch"]
EXPOSE 9879
STOPSIGNAL SIGTERM
ENTRYPOINT ["certwatch"]
CMD ["run"]
