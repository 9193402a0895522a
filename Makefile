# Thin wrapper over Meson. The two contract commands are `make run` and
# `make test`; both install what they need first (scripts/install-deps).
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
TESTBUILD ?= build-test
FUZZBUILD ?= build-fuzz
PYTEST_ARGS ?= tests/integration
FUZZ_SECONDS ?= 60
PYTHON ?= /usr/bin/python3

# A sanitizer report fails the run; reports also go to files that the
# integration tests look at after every test.
export ASAN_OPTIONS ?= halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

.PHONY: all deps build run test unit integration check-banned bench fuzz install clean

all: build

deps:
	@scripts/install-deps

# The config goes to /etc/inetkit whatever PREFIX is: that is where
# inetkit looks for it by default (and where the unit points).
$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) --sysconfdir=/etc -Dtests=false

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD)

run: build
	@scripts/run $(BUILD)/inetkit

$(TESTBUILD)/build.ninja:
	meson setup $(TESTBUILD) -Db_sanitize=address,undefined -Dbuildtype=debug

test: deps $(TESTBUILD)/build.ninja
	@ninja -C $(TESTBUILD)
	@scripts/check-banned
	@$(MAKE) --no-print-directory unit integration

unit:
	meson test -C $(TESTBUILD) --suite unit --print-errorlogs

integration:
	INETKIT_BIN=$(abspath $(TESTBUILD))/inetkit $(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

check-banned:
	@scripts/check-banned

bench: build
	@scripts/bench $(BUILD)/inetkit

$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps $(FUZZBUILD)/build.ninja
	@ninja -C $(FUZZBUILD)
	@scripts/fuzz $(FUZZBUILD) $(FUZZ_SECONDS)

install: build
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
