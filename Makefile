# pppoed. `make demo` and `make test` do all their set-up on a fresh Debian
# machine as root (see README.md); the other targets are their parts.

GO        ?= go
BIN       := $(CURDIR)/bin
VMRUN     := $(BIN)/vmrun
# Extra vmrun flags, e.g. VMFLAGS=-kernel-log or VMFLAGS=-kvm.
VMFLAGS   ?=
FUZZTIME  ?= 10s
# Narrow the integration run: make test-integration RUN=TestReference
RUN       ?= .
# Mutation testing: the directories (with their subpackages) and the bar.
MUTATE_DIRS      ?= ./discovery ./ppp
MUTATE_THRESHOLD ?= 95
MUTATE_FLAGS     ?=
# The runner's limit; the tests get a minute less, so that a hung test
# prints its goroutine dump before the VM is killed.
INTEGRATION_TIMEOUT ?= 20m
TEST_TIMEOUT        ?= 19m
# make bench's: the AC benchmarks set up hundreds of sessions per AC and
# ramp pppoed server up to thousands (PPPOED_BENCH_AC_* in
# integration/bench_server_test.go), minutes each under TCG.
BENCH_TIMEOUT       ?= 40m
BENCH_TEST_TIMEOUT  ?= 39m
# BENCH picks the VM benchmarks (a -test.bench pattern, e.g. Connect);
# with one set, the host's Go benchmarks are skipped.
BENCH               ?= .
BENCHTIME           ?= 10x

# Go may live where Debian's root PATH does not look, and the one
# scripts/deps installs must win over an older distribution Go.
export PATH := /usr/local/go/bin:$(PATH):/usr/sbin:/sbin

.PHONY: all build test test-unit test-integration soak fuzz lint bench mutate demo deps vmrun capture clean install install-as-pppd uninstall-as-pppd

all: build

## deps: install the Debian packages (and Go) the tests and the demo need
deps:
	@./scripts/deps

## build: compile everything and bin/pppoed
# bin/pppoed is static (CGO_ENABLED=0: net and os/user in pure Go, no
# libc): dynamic linking and cgo's start-up cost about 60 ms of the
# 120 ms from exec to the first PADI under TCG (make bench's startup).
#
# GODEBUG disablethp=1 is linked in as the binary's default: with THP
# "always" (Debian's kernels) the runtime's first heap arena is faulted
# in as 2 MiB pages before main runs, and PR_SET_THP_DISABLE (set in
# main) cannot take them back; about 1.1 MiB of anonymous memory for a
# client that keeps 250 KiB live. It cannot be a //go:debug line (the go
# command accepts only registered settings); GODEBUG in the environment
# still overrides it, key by key.
PPPOED_LDFLAGS ?= -X=runtime.godebugDefault=disablethp=1
build:
	$(GO) build ./...
	CGO_ENABLED=0 $(GO) build -ldflags='$(PPPOED_LDFLAGS)' -o $(BIN)/pppoed ./cmd/pppoed

## test: deps, lint, unit tests, integration tests (in the VM); skips fail
test: export PPPOED_REQUIRE_INTEGRATION = 1
test: deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-integration

## test-unit: every package's tests with the race detector (VM boot tests
## of the runner included; the kernel tests run in test-integration)
test-unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '/integration$$')

# The runner is also the guest's init, so it must be static.
vmrun:
	CGO_ENABLED=0 $(GO) build -o $(VMRUN) ./integration/vmrun

## test-integration: the kernel tests, in the VM unless this host has PPP
test-integration: vmrun build
	$(GO) test -c -o $(BIN)/integration.test ./integration
	PPPOED_REQUIRE_INTEGRATION=1 PPPOED_BIN=$(BIN)/pppoed $(VMRUN) -v -host-if-ppp -timeout $(INTEGRATION_TIMEOUT) -chdir integration $(VMFLAGS) -- \
		$(BIN)/integration.test -test.v -test.count=1 -test.run '$(RUN)' -test.timeout $(TEST_TIMEOUT)

## soak: SOAK_CYCLES (default 200) sessions of one pppoed --persist against
## the reference AC, each ended by the AC and redialled, in the VM; reports
## fds, threads, PPP units and VmRSS at the start and the end. Not part of
## `make test` (TestSoak skips without PPPOED_SOAK=1).
SOAK_CYCLES ?= 200
soak: vmrun build
	$(GO) test -c -o $(BIN)/integration.test ./integration
	PPPOED_SOAK=1 PPPOED_SOAK_CYCLES=$(SOAK_CYCLES) PPPOED_REQUIRE_INTEGRATION=1 PPPOED_BIN=$(BIN)/pppoed $(VMRUN) -v -host-if-ppp -timeout $(INTEGRATION_TIMEOUT) -chdir integration $(VMFLAGS) -- \
		$(BIN)/integration.test -test.v -test.count=1 -test.run '^TestSoak$$' -test.timeout $(TEST_TIMEOUT)

## fuzz: every fuzz target for FUZZTIME
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz

## lint: gofmt, go vet, staticcheck (pinned in go.mod as a tool)
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## mutate: mutation testing (gremlins) of the protocol packages, per package
## efficacy against MUTATE_THRESHOLD; every surviving mutant must be killed or
## listed in testdata/equivalent-mutants/PACKAGE.txt. Not part of `make test` (slow).
mutate:
	$(GO) run ./internal/cmd/mutate -threshold $(MUTATE_THRESHOLD) $(MUTATE_FLAGS) $(MUTATE_DIRS)

## bench: Go benchmarks, then the kernel benchmarks in the VM
bench: vmrun build
	if [ '$(BENCH)' = . ]; then $(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v '/integration$$'); fi
	$(GO) test -c -o $(BIN)/integration.test ./integration
	PPPOED_BIN=$(BIN)/pppoed $(VMRUN) -host-if-ppp -timeout $(BENCH_TIMEOUT) -chdir integration $(VMFLAGS) -- \
		$(BIN)/integration.test -test.run '^$$' -test.bench '$(BENCH)' -test.benchtime $(BENCHTIME) -test.timeout $(BENCH_TEST_TIMEOUT)

## demo: a live PPPoE session on a built-in lab (in the VM unless this host has PPP)
demo: deps vmrun build
	$(GO) build -o $(BIN)/demo ./integration/demo
	@PPPOED_BIN=$(BIN)/pppoed $(VMRUN) -host-if-ppp $(VMFLAGS) -- $(BIN)/demo

## capture: re-record the reference sessions the codec tests decode
capture: deps vmrun
	$(GO) build -o $(BIN)/capture ./integration/capture
	$(VMRUN) -host-if-ppp $(VMFLAGS) -- $(BIN)/capture -out testdata/captures

# Where make install puts things: DESTDIR stages them (packaging, tests).
PREFIX  ?= /usr/local
UNITDIR ?= /etc/systemd/system
CONFDIR ?= /etc/pppoed

## install: bin/pppoed to PREFIX/sbin, the units pppoed@.service and
## pppoed-server.service (running that binary) to UNITDIR, and the example
## link and server configs to CONFDIR, which never replace one already
## there; all under DESTDIR
install: build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR)
	@# install -d would also chmod a CONFDIR the admin made private
	[ -d $(DESTDIR)$(CONFDIR) ] || install -d -m 0755 $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BIN)/pppoed $(DESTDIR)$(PREFIX)/sbin/pppoed
	sed 's|/usr/local/sbin/pppoed|$(PREFIX)/sbin/pppoed|g' systemd/pppoed@.service > $(BIN)/pppoed@.service
	install -m 0644 $(BIN)/pppoed@.service $(DESTDIR)$(UNITDIR)/pppoed@.service
	sed 's|/usr/local/sbin/pppoed|$(PREFIX)/sbin/pppoed|g' systemd/pppoed-server.service > $(BIN)/pppoed-server.service
	install -m 0644 $(BIN)/pppoed-server.service $(DESTDIR)$(UNITDIR)/pppoed-server.service
	[ -e $(DESTDIR)$(CONFDIR)/server.example.toml ] || install -m 0600 systemd/server.example.toml $(DESTDIR)$(CONFDIR)/server.example.toml
	@if [ -e $(DESTDIR)$(CONFDIR)/example.toml ]; then \
		echo "$(DESTDIR)$(CONFDIR)/example.toml exists: left as it is"; \
	else \
		install -m 0600 systemd/example.toml $(DESTDIR)$(CONFDIR)/example.toml; \
	fi
	@echo "pppoed: copy $(CONFDIR)/example.toml to $(CONFDIR)/NAME.toml, then: systemctl daemon-reload && systemctl enable --now pppoed@NAME"

## install-as-pppd: install, then pppoed in pppd's place: PPPD (default
## /usr/sbin/pppd) becomes a link to it, Debian's pppd kept as PPPD.real by
## dpkg-divert (so that upgrades of the ppp package do not undo it), or
## renamed where there is no dpkg. uninstall-as-pppd puts pppd back.
PPPD ?= /usr/sbin/pppd
DPKG_DIVERT ?= $(shell command -v dpkg-divert)
install-as-pppd: install
	@if [ -L $(PPPD) ] && [ "$$(readlink $(PPPD))" = "$(PREFIX)/sbin/pppoed" ]; then echo "$(PPPD) is pppoed already"; exit 0; fi; \
	if [ -n "$(DPKG_DIVERT)" ]; then $(DPKG_DIVERT) --local --rename --divert $(PPPD).real --add $(PPPD); \
	elif [ -e $(PPPD) ]; then mv $(PPPD) $(PPPD).real; fi; \
	ln -s $(PREFIX)/sbin/pppoed $(PPPD) && echo "$(PPPD) is now pppoed; pppd is $(PPPD).real (make uninstall-as-pppd puts it back)"

uninstall-as-pppd:
	@if [ -L $(PPPD) ] && [ "$$(readlink $(PPPD))" = "$(PREFIX)/sbin/pppoed" ]; then rm $(PPPD); fi; \
	if [ -n "$(DPKG_DIVERT)" ]; then $(DPKG_DIVERT) --local --rename --remove $(PPPD); \
	elif [ -e $(PPPD).real ] && [ ! -e $(PPPD) ]; then mv $(PPPD).real $(PPPD); fi; \
	echo "$(PPPD) is pppd again"

clean:
	rm -rf $(BIN)
