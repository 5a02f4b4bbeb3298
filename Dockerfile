# CitizenID: one static binary on a minimal non-root image.
# Build:  docker build -t citizenid .
# Run:    docker run -p 8080:8080 -e CITIZENID_DATABASE_URL=... -e CITIZENID_REDIS_URL=... \
#           -e CITIZENID_KEYS_MASTER_KEY=... -e CITIZENID_TOKENS_PAIRWISE_SECRET=... \
#           -e CITIZENID_ISSUER=https://id.example.gov.vn citizenid
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/citizenid ./cmd/citizenid \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/citizenid /usr/local/bin/citizenid
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV CITIZENID_ADDR=0.0.0.0:8080 \
    CITIZENID_DATA_DIR=/data
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/citizenid", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/citizenid"]
CMD ["serve"]
