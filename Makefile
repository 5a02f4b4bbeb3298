# CitizenID. `make test` is the one command that runs every test (CI runs it).
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test deps lint test-go test-web run build fuzz bench perf perf-smoke

## test: install what is missing, check formatting and lint, run every test
test: deps lint test-web test-go perf-smoke

deps:
	@./scripts/install-deps.sh

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-web:
	node --test web/

test-go:
	$(GO) test -race -count=1 ./...

## run: the server on the embedded default, with a demo citizen and portal
run:
	$(GO) run ./cmd/citizenid serve --demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o citizenid ./cmd/citizenid

## fuzz: a short run of every fuzz target
fuzz:
	$(GO) test -run=^$$ -fuzz=FuzzRedirectURIAllowed -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzParseClaimsParam -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzParseDPoPProof -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzParseRequestObject -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzMarshalIDToken -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzVerifyJWTAccessToken -fuzztime=30s ./internal/oidc
	$(GO) test -run=^$$ -fuzz=FuzzParseForm -fuzztime=30s ./internal/authn/password
	$(GO) test -run=^$$ -fuzz=FuzzVerify -fuzztime=30s ./internal/authn/password
	$(GO) test -run=^$$ -fuzz=FuzzParse -fuzztime=30s ./internal/config
	$(GO) test -run=^$$ -fuzz=FuzzParseACRValues -fuzztime=30s ./internal/assurance
	$(GO) test -run=^$$ -fuzz=FuzzDecodeAuthnRequest -fuzztime=30s ./internal/saml
	$(GO) test -run=^$$ -fuzz=FuzzVerify -fuzztime=30s ./internal/authn/totp
	$(GO) test -run=^$$ -fuzz=FuzzFinishLogin -fuzztime=30s ./internal/authn/webauthn
	$(GO) test -run=^$$ -fuzz=FuzzMapperNumber -fuzztime=30s ./internal/authn/certificate
	$(GO) test -run=^$$ -fuzz=FuzzParseToken -fuzztime=30s ./internal/authn/certificate
	$(GO) test -run=^$$ -fuzz=FuzzThrottleKey -fuzztime=30s ./internal/session
	$(GO) test -run=^$$ -fuzz=FuzzCursor -fuzztime=30s ./internal/account
	$(GO) test -run=^$$ -fuzz=FuzzLocalPath -fuzztime=30s ./internal/server
	$(GO) test -run=^$$ -fuzz=FuzzParse -fuzztime=30s ./internal/clientkeys
	$(GO) test -run=^$$ -fuzz=FuzzParseRegistration -fuzztime=30s ./internal/citizens
	$(GO) test -run=^$$ -fuzz=FuzzParseRecoveryStart -fuzztime=30s ./internal/citizens
	$(GO) test -run=^$$ -fuzz=FuzzParseCode -fuzztime=30s ./internal/citizens

## bench: benchmarks (numbers, never assertions)
bench:
	$(GO) test -run=^$$ -bench=. -benchmem ./...

## perf: every flow against the bound of its cryptography (README, "Performance"):
## the embedded default, then PostgreSQL + Redis when the tests' helper finds them.
## The server runs on CPU 0 (GOMAXPROCS=1), the driver on CPU 1. PERF_SMOKE=1: a short pass.
PERF_DIR   ?= $(or $(TMPDIR),/tmp)/citizenid-perf
PERF_FLAGS ?=
## Each run is made once per keys.algorithm listed (what tokens are signed with):
## RS256, the default every portal can check; ES256 and EdDSA, the two the
## refresh target of 3,000/s per core names.
PERF_ALGORITHMS ?= RS256 ES256 EdDSA
PIN1       := $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 1)
perf:
	@mkdir -p $(PERF_DIR)
	$(GO) build -o $(PERF_DIR)/citizenid ./cmd/citizenid
	$(GO) build -o $(PERF_DIR)/citizenid-load ./cmd/citizenid-load
	$(GO) test -c -o $(PERF_DIR)/perf.test ./cmd/citizenid-load
	for alg in $(PERF_ALGORITHMS); do \
		$(PIN1) $(PERF_DIR)/citizenid-load -perf $(if $(PERF_SMOKE),-smoke) $(PERF_FLAGS) -algorithm $$alg -server $(PERF_DIR)/citizenid -json $(PERF_DIR)/embedded-$$alg.json || exit 1; \
	done
	for alg in $(PERF_ALGORITHMS); do \
		CITIZENID_PERF_SERVER=$(PERF_DIR)/citizenid CITIZENID_PERF_SMOKE=$(PERF_SMOKE) CITIZENID_PERF_JSON=$(PERF_DIR)/postgres-$$alg.json CITIZENID_PERF_ALGORITHM=$$alg \
			$(PIN1) $(PERF_DIR)/perf.test -test.run '^TestPerfServices$$' -test.v -test.timeout 60m || exit 1; \
	done

## perf-smoke: make perf's short pass (a second per scenario, 20 sessions); checks that it runs
perf-smoke:
	$(MAKE) perf PERF_SMOKE=1
