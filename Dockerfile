# Builds the koppel binary and runs `koppel serve`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p koppel

FROM debian:bookworm-slim
RUN useradd --system --no-create-home koppel
COPY --from=build /src/target/release/koppel /usr/local/bin/koppel
USER koppel
ENV KOPPEL_LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["koppel"]
CMD ["serve"]
