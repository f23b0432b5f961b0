# Every target is a command you can also type by hand. `make help` lists them.
GO        ?= go
FUZZTIME  ?= 10s
BENCHFLAGS ?=
# Debian packages the tests need: a real headless browser, real Django (with
# its argon2 and bcrypt hashers, and psycopg2 for Django on PostgreSQL), a
# real PostgreSQL and a real Redis (the Redis tests start their own
# redis-server, or use TEST_REDIS_URL: make services need not start one),
# and nginx, the proxy in front of the Go and Django sites of the one-domain
# tests (which start their own, on loopback ports).
# libpq5 is also the C library psycopg 3 loads for Django 5.2 (make django).
DEB_PKGS  := chromium python3-django python3-argon2 python3-bcrypt python3-psycopg2 libpq5 postgresql redis-server nginx
# The tests' Django matrix: Django 4.2 and 5.2, unpacked beside the
# system's 3.2 by make django; internal/djangotest reads them from here.
DJANGO_CACHE := $(CURDIR)/.cache/django
# The tests' private PostgreSQL (make services): its binaries (Debian's
# newest, else initdb on the PATH), its directory (one per checkout) and the
# first port it tries on 127.0.0.1.
PG_BIN    ?= $(or $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1),$(patsubst %/,%,$(dir $(shell command -v initdb))))
PG_DIR    ?= /tmp/gosessions-pg-$(shell printf %s "$(CURDIR)" | cksum | cut -d' ' -f1)
PG_PORT   ?= 55432
# initdb and postgres refuse to run as root: as root they run as postgres.
PG_AS      = $(if $(filter 0,$(shell id -u)),runuser -u postgres --,)
# go test gets the server's URL, unless TEST_POSTGRES_URL names another one.
PG_ENV     = TEST_POSTGRES_URL="$${TEST_POSTGRES_URL:-$$(cat $(PG_DIR)/url 2>/dev/null)}"

# The largest file the repository may track, unless it is an image the
# docs show (make check-files).
MAX_FILE_SIZE ?= 1048576

.PHONY: help run test deps django services services-stop check check-files race unit fuzz modelcheck generate bench bench-profile bench-clearsessions bench-usersessions bench-micro

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
		'{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  %-" w "s  %s\n", name[i], text[i] }'

run: ## serve the demo site on 127.0.0.1:8000 (SQLite file db.sqlite3, migrated at start)
	$(GO) run .

test: deps django check ## everything CI runs: install test deps (Debian packages, the Django matrix), static checks, all tests (PostgreSQL started and stopped around them), short fuzzing
	@trap 'exit 130' INT TERM; trap '$(MAKE) --no-print-directory services-stop' EXIT; \
	$(MAKE) --no-print-directory services && $(MAKE) --no-print-directory race unit fuzz

deps: ## install the Debian packages the tests need, if missing
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

django: deps ## fetch Django 4.2 and 5.2 for the tests' Django matrix (Debian trixie's and sid's packages, unpacked into .cache/django; once, then cached)
	@sh internal/djangotest/fetch.sh $(DJANGO_CACHE)

services: ## start a private PostgreSQL for the tests on 127.0.0.1 (if installed); stop it with services-stop
	@if [ ! -x "$(PG_BIN)/initdb" ]; then echo "services: PostgreSQL is not installed (make deps): its tests will be skipped, or fail when CI is set"; exit 0; fi; \
	set -e; $(MAKE) --no-print-directory services-stop; \
	mkdir -p $(PG_DIR); chmod 700 $(PG_DIR); [ -z "$(PG_AS)" ] || chown postgres: $(PG_DIR); \
	$(PG_AS) $(PG_BIN)/initdb -D $(PG_DIR)/data -U postgres -A trust -E UTF8 --locale=C --no-sync >$(PG_DIR)/initdb.log 2>&1 || { cat $(PG_DIR)/initdb.log; exit 1; }; \
	port=$(PG_PORT); \
	until $(PG_AS) $(PG_BIN)/pg_ctl -D $(PG_DIR)/data -l $(PG_DIR)/server.log -w -t 30 start -o "-p $$port -c listen_addresses=127.0.0.1 -k $(PG_DIR) -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null 2>&1; do \
		if [ $$port -ge $$(($(PG_PORT) + 20)) ]; then cat $(PG_DIR)/server.log; exit 1; fi; \
		port=$$((port + 1)); \
	done; \
	echo "postgres://postgres@127.0.0.1:$$port/postgres?sslmode=disable" >$(PG_DIR)/url; \
	echo "services: $$($(PG_BIN)/postgres --version) on 127.0.0.1:$$port, data in $(PG_DIR)"

services-stop: ## stop the tests' PostgreSQL and delete its data
	@if [ -f $(PG_DIR)/data/postmaster.pid ]; then $(PG_AS) $(PG_BIN)/pg_ctl -D $(PG_DIR)/data -m immediate -w stop >/dev/null || true; fi; \
	rm -rf $(PG_DIR)/data; rm -f $(PG_DIR)/url $(PG_DIR)/initdb.log $(PG_DIR)/server.log; rmdir $(PG_DIR) 2>/dev/null || true

check: check-files ## gofmt, go vet, templ generator and go.mod are clean; no large files
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) generate ./templates
	@git diff --exit-code -- '*_templ.go' || { echo "templ generate changed files: commit the regenerated _templ.go"; exit 1; }
	$(GO) mod tidy -diff

check-files: ## no tracked file over 1 MB (MAX_FILE_SIZE) but images that README.md or docs/ show
	@bad=$$(git -c core.quotePath=false ls-files | while IFS= read -r f; do \
		[ -f "$$f" ] || continue; \
		size=$$(wc -c <"$$f"); [ "$$size" -le $(MAX_FILE_SIZE) ] && continue; \
		case "$$f" in *.png|*.jpg|*.jpeg|*.webp|*.gif|*.svg) \
			grep -qsF "$${f##*/}" README.md $$(git ls-files 'docs/*.md') && continue;; esac; \
		echo "  $$f ($$size bytes)"; \
	done); \
	if [ -n "$$bad" ]; then \
		echo "check-files: tracked files over $(MAX_FILE_SIZE) bytes; only an image that README.md or docs/ show may be that large:"; \
		echo "$$bad"; \
		echo "Untrack them (git rm --cached FILE) and ignore build outputs in .gitignore."; \
		exit 1; \
	fi

race: ## the session framework and its stores under the race detector
	$(PG_ENV) $(GO) test -race -count=1 ./app/session/...

unit: ## every package's tests (site, browser walk, Django interop, manage)
	$(PG_ENV) $(GO) test -count=1 ./...

fuzz: ## each fuzz target for FUZZTIME
	$(GO) test ./app/signing -run '^$$' -fuzz '^FuzzLoads$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/signing -run '^$$' -fuzz '^FuzzSignedPayload$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/session -run '^$$' -fuzz '^FuzzCookie$$' -fuzztime $(FUZZTIME)
	$(GO) test ./views -run '^$$' -fuzz '^FuzzEditorValue$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/auth -run '^$$' -fuzz '^FuzzSafeRedirect$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/messages -run '^$$' -fuzz '^FuzzCookie$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/messages -run '^$$' -fuzz '^FuzzSignedPayload$$' -fuzztime $(FUZZTIME)

# make modelcheck's time per engine; MODELCHECK_SEED=N (in the
# environment) replays one seed instead, MODELCHECK_OPS sets the
# operations per history.
MODELCHECK_TIME ?= 30s

modelcheck: ## the model-checked test of the store contract (and of the per-user index) on every engine, and the sign-out check over two processes, with random seeds, MODELCHECK_TIME per engine (30s); prints each engine's histories and operations, and the seed of any failure (PostgreSQL started and stopped around it)
	@trap 'exit 130' INT TERM; trap '$(MAKE) --no-print-directory services-stop' EXIT; \
	$(MAKE) --no-print-directory services || exit 1; \
	out=$$(mktemp); \
	MODELCHECK_TIME=$(MODELCHECK_TIME) $(PG_ENV) $(GO) test -count=1 -timeout 0 -run 'ModelCheck|IndexCheck' -v ./app/session/... >$$out 2>&1; rc=$$?; \
	grep -E '^(--- |ok|FAIL|panic)|model check|index check' $$out | grep -v -e '--- PASS: .*seed=' -e '--- SKIP' ; rm -f $$out; exit $$rc

generate: ## regenerate templ components
	$(GO) generate ./templates

# make bench's database for the site: sqlite, or postgres (the tests'
# private server, started for the run and stopped after it). The engine
# is SESSION_ENGINE's; the benchmark starts a redis-server when it needs one.
BENCH_DATABASE ?= sqlite

bench: ## load benchmark: the site, the package as a library and scs against raw Echo in one run, ratios printed (about 6 minutes); SESSION_ENGINE=... and BENCH_DATABASE=postgres choose the site's engine
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) build -o "$$dir/site" . && $(GO) build -o "$$dir/libsite" ./app/loadtest/libsite && \
	scs=""; if (cd app/loadtest/scs && $(GO) build -o "$$dir/scs" .); then scs="-scs $$dir/scs"; \
	else echo "bench: scs did not build (app/loadtest/scs): measuring without it"; fi; \
	pg=""; if [ "$(BENCH_DATABASE)" = postgres ]; then \
		trap 'rm -rf "$$dir"; $(MAKE) --no-print-directory services-stop' EXIT; \
		$(MAKE) --no-print-directory services && pg="-postgres $$(cat $(PG_DIR)/url)" || exit 1; \
	fi; \
	$(GO) run ./app/loadtest -site "$$dir/site" -lib "$$dir/libsite" $$scs $$pg $(BENCHFLAGS)

PROFILE_ROUTE ?= /visits
bench-profile: ## CPU profile of one route under make bench's load (PROFILE_ROUTE: /get, /visits, library /visits, ...), kept in bench-profile.pprof
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) build -o "$$dir/site" . && $(GO) build -o "$$dir/libsite" ./app/loadtest/libsite && \
	$(GO) run ./app/loadtest -site "$$dir/site" -lib "$$dir/libsite" -profile "$(PROFILE_ROUTE)" -profile-out bench-profile.pprof $(BENCHFLAGS) && \
	$(GO) tool pprof -top -nodecount=40 bench-profile.pprof 2>/dev/null | head -50

bench-clearsessions: ## manage clearsessions on 1,000,000 expired rows while the site serves /get and /visits under load
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) build -o "$$dir/site" . && $(GO) build -o "$$dir/manage" ./manage && \
	$(GO) run ./app/loadtest -clearsessions -site "$$dir/site" -manage "$$dir/manage" $(BENCHFLAGS)

bench-usersessions: ## manage sessions list --user and revoke --user (the per-user index) against revoke --where (which decodes every session), on 1,000,000 sessions of 10,000 users in SQLite (a few minutes)
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) build -o "$$dir/manage" ./manage && \
	$(GO) run ./app/loadtest -usersessions -manage "$$dir/manage" -live 1000000 -users 10000 -timeout 30m $(BENCHFLAGS)

bench-micro: ## go test micro-benchmarks of the session middleware and stores (-benchmem)
	$(GO) test ./app/session/... -run '^$$' -bench . -benchmem
