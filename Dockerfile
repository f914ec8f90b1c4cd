# querent: one binary with its knowledge base, templates, static files and embedding model.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/setup-model && cargo build --release --bin querent

FROM debian:bookworm-slim
WORKDIR /app
COPY --from=build /src/target/release/querent /usr/local/bin/querent
COPY --from=build /src/vendor/model /app/vendor/model
COPY knowledge /app/knowledge
COPY templates /app/templates
COPY static /app/static
COPY data/retail_schema.sql /app/data/retail_schema.sql
ENV QUERENT_ADDR=0.0.0.0:8080 QUERENT_DATA_DIR=/var/lib/querent QUERENT_MODEL_DIR=/app/vendor/model
EXPOSE 8080
CMD ["querent", "serve"]
