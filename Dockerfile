# Builds the `circulo` binary and runs it in a slim image. pq-sys builds libpq from source but
# links the system OpenSSL, so the runtime image carries libssl3 (and CA roots for JWKS fetches).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p circulo-api --bin circulo

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/circulo circulo
COPY --from=build /src/target/release/circulo /usr/local/bin/circulo
USER circulo
WORKDIR /var/lib/circulo
ENV CIRCULO_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["circulo"]
CMD ["serve"]
