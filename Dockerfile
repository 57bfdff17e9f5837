# syntax=docker/dockerfile:1
#
# salesops in a container: `salesops serve` as a non-root user.
#
#   docker build -t salesops .
#   docker run -d --name salesops \
#     -v /srv/salesops/salesops.toml:/etc/salesops/salesops.toml:ro \
#     -v salesops-data:/var/lib/salesops \
#     -e SALESOPS__SOURCE__TOKEN -e SALESOPS__DELIVERY__PASSWORD \
#     -p 127.0.0.1:9464:9464 \
#     salesops
#
# See docs/operations.md (container command, systemd unit, secrets, probes
# and metrics).

# --- build -------------------------------------------------------------------
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# gcc and libc6-dev come with the image; aws-lc-sys (TLS) and the bundled
# SQLite need nothing else.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/salesops /out/salesops

# --- run ---------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: for an SMTP relay or CRM behind a private CA named in
# delivery.ca_file; the public roots are built into the binary.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 salesops \
    && useradd --system --uid 10001 --gid salesops --home-dir /var/lib/salesops \
       --shell /usr/sbin/nologin salesops \
    && install -d -o salesops -g salesops -m 0750 /var/lib/salesops \
    && install -d -m 0755 /etc/salesops

COPY --from=build /out/salesops /usr/local/bin/salesops
# The built-in demo config, so the image starts as is; mount your own over it.
COPY config/default.toml /etc/salesops/salesops.toml

# The config file. Relative paths in it (state_dir = "state", out_dir =
# "reports", [source] path) are read from the working directory, which is
# the volume: the state store and the reports survive a restart.
ENV SALESOPS_CONFIG=/etc/salesops/salesops.toml
WORKDIR /var/lib/salesops
VOLUME ["/var/lib/salesops"]

# Secrets come from the environment only (never write them in the file):
#   SALESOPS__SOURCE__TOKEN          CRM API token (hubspot, salesforce, pipedrive)
#   SALESOPS__DELIVERY__PASSWORD     SMTP password (delivery.auth = "password")
#   SALESOPS__DELIVERY__OAUTH_TOKEN  SMTP OAuth access token (delivery.auth = "xoauth2")
# Logging: --log-format json below; SALESOPS_LOG=debug for more detail.

# serve answers GET /healthz, /readyz and /metrics (Prometheus) here, on
# every interface of the container ([serve] listen; "" turns it off). They
# show no secret and no report contents.
ENV SALESOPS__SERVE__LISTEN=0.0.0.0:9464
EXPOSE 9464

USER salesops:salesops

# Asks serve's /healthz: unhealthy when the scheduler loop stopped ticking
# (or nothing answers). Without a listener it only checks the config.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
    CMD ["salesops", "health"]

# serve waits for a run in flight on SIGTERM for up to
# shutdown_timeout_seconds (default 120): give `docker stop` longer, e.g.
# `docker stop -t 150 salesops`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["salesops"]
CMD ["serve", "--log-format", "json"]
