# Every target is a command you can also type by hand. `make help` lists them.
GO        ?= go
FUZZTIME  ?= 10s
# Debian packages the tests need: a real headless browser and real Django.
DEB_PKGS  := chromium python3-django

.PHONY: help run test deps check race unit fuzz generate bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## serve the demo site on 127.0.0.1:8000 (SQLite file db.sqlite3, migrated at start)
	$(GO) run .

test: deps check race unit fuzz ## everything CI runs: install test deps, static checks, all tests, short fuzzing

deps: ## install the Debian packages the tests need, if missing
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check: ## gofmt, go vet, templ generator and go.mod are clean
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) generate ./templates
	@git diff --exit-code -- '*_templ.go' || { echo "templ generate changed files: commit the regenerated _templ.go"; exit 1; }
	$(GO) mod tidy -diff

race: ## the session framework and its stores under the race detector
	$(GO) test -race -count=1 ./app/session/...

unit: ## every package's tests (site, browser walk, Django interop, manage)
	$(GO) test -count=1 ./...

fuzz: ## each fuzz target for FUZZTIME
	$(GO) test ./app/session -run '^$$' -fuzz '^FuzzLoads$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/session -run '^$$' -fuzz '^FuzzSignedPayload$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/session -run '^$$' -fuzz '^FuzzCookie$$' -fuzztime $(FUZZTIME)

generate: ## regenerate templ components
	$(GO) generate ./templates

bench: ## micro-benchmarks of the session middleware (ratios against a no-session baseline)
	$(GO) test ./app/session/... -run '^$$' -bench . -benchmem
