# guestbridge — build, test, benchmark, fuzz.
# `make demo` builds and runs on the bundled sample; `make test` (as root) runs everything.

GO       ?= go
VERSION  ?= 0.1.0
BIN      := bin/guestbridge
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 30s
# Debian packages the tests drive for real (see README "Tests").
TEST_DEBS := genisoimage dosfstools mtools cloud-init netplan.io dnsmasq-base \
             xen-utils-4.17 xenstore-utils python3-pyxs qemu-system-x86 linux-image-amd64 \
             busybox-static cpio xz-utils binutils iproute2 openssl whois gcc kmod \
             openssh-client uuid-runtime util-linux
TEST_DEBS += mmdebstrap qemu-utils e2fsprogs

.PHONY: build install demo test deps bench fuzz lint clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/guestbridge

# Installs the binary and the systemd units (enable them yourself:
# systemctl enable guestbridge-boot guestbridge-agent). DESTDIR for packaging.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)/usr/sbin/guestbridge
	install -D -m 0644 dist/guestbridge-boot.service $(DESTDIR)/lib/systemd/system/guestbridge-boot.service
	install -D -m 0644 dist/guestbridge-agent.service $(DESTDIR)/lib/systemd/system/guestbridge-agent.service

# The main job on the bundled sample config drive (an ISO built with nova's
# genisoimage flags): the network config cloud-init would get, then a seed.
demo: build
	$(BIN) show --source configdrive:samples/config-2.iso --format v2
	rm -rf demo-root && mkdir -p demo-root
	$(BIN) seed --source configdrive:samples/config-2.iso --root demo-root --pin-datasource
	@echo "--- demo-root/var/lib/cloud/seed/nocloud/meta-data:"; cat demo-root/var/lib/cloud/seed/nocloud/meta-data

# Installs what the tests need (Debian 12, root), then runs every test.
test: deps lint
	$(GO) test -count=1 -timeout 20m ./...

deps:
	@missing=$$(for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bench/show-vs-cloud-init.sh
	bench/apply/bench.sh
	bench/apply-iso.sh

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | cut -c6-); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin demo-root
