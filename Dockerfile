# One image for every process: `tillstream serve <auth|catalog|inventory|sales|ledger|webhooks|gateway>`
# runs one of them, `tillstream up` all of them, and the ops commands are there too.
#
#   docker build -t tillstream .
#
# Stage 1 plans the dependency build with cargo-chef, stage 2 builds only the dependencies
# (cached until Cargo.lock changes), stage 3 the workspace; the runtime image is Debian slim
# with the one binary, run as an unprivileged user.

FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p tillstream --bin tillstream

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates wget \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home tillstream
COPY --from=builder /src/target/release/tillstream /usr/local/bin/tillstream
USER 10001
ENV RUST_LOG=info
ENTRYPOINT ["/usr/local/bin/tillstream"]
CMD ["--help"]
