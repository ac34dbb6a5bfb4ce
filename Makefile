# sipnat top-level build.  `make` builds nfqd; `make test` installs what the
# tests need (scripts/deps.sh) and runs every layer; `make demo` runs the lab.
# Sources are picked up by wildcard: adding a file to nfqd/ needs no edit here.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/sipnat
SYSCONFDIR ?= /etc
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := libosip2 libnetfilter_queue libmnl libnftnl libnetfilter_cthelper
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# SAN=1 builds everything with ASan+UBSan into build-san/ (used by make test).
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD   ?= build
SANFLAGS :=
endif

# FUZZ=1 builds the core with clang's libFuzzer instrumentation into
# build/fuzz/ (gcc's and clang's sanitizer runtimes do not mix).
ifeq ($(FUZZ),1)
BUILD    := build/fuzz
CC       := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
endif

ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -Infqd
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

NFQD_SRCS := $(wildcard nfqd/*.c)
NFQD_OBJS := $(NFQD_SRCS:nfqd/%.c=$(BUILD)/nfqd/%.o)
CORE_OBJS := $(filter-out $(BUILD)/nfqd/main.o,$(NFQD_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-unit test-corpus test-netns test-vm demo bench bench-kmod install clean kmod fuzz

all: $(BUILD)/nfqd/nfqd

$(BUILD)/nfqd/%.o: nfqd/%.c $(wildcard nfqd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libnfqd.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/nfqd/nfqd: $(BUILD)/nfqd/main.o $(BUILD)/libnfqd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libnfqd.a $(wildcard nfqd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $$(pkg-config --cflags cmocka) -o $@ $< \
		$(BUILD)/libnfqd.a $(PKG_LIBS) $$(pkg-config --libs cmocka) $(LDFLAGS_ALL)

unit-bins: $(UNIT_BINS)

# Benchmark helpers (scripts/bench.sh builds them with `make bench-bins`).
BENCH_BINS := $(BUILD)/tests/bench/sipload $(BUILD)/tests/bench/nfq_accept

$(BUILD)/tests/bench/%: tests/bench/%.c $(BUILD)/libnfqd.a $(wildcard nfqd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libnfqd.a $(PKG_LIBS) $(LDFLAGS_ALL)

bench-bins: $(BENCH_BINS)

deps:
	scripts/deps.sh

test: deps
	tests/run.sh

test-unit test-corpus test-netns test-vm:
	tests/run.sh $(@:test-%=%)

demo: deps all
	scripts/demo.sh

# The module's bench boots Debian's kernel under QEMU (a few minutes); it
# skips (exit 4) where the guest cannot run.
bench: deps all
	scripts/bench.sh
	tests/vm/bench-kmod.sh || [ $$? = 4 ]

bench-kmod:
	tests/vm/bench-kmod.sh

kmod:
	$(MAKE) -C kmod

install: all
	install -D -m 0755 $(BUILD)/nfqd/nfqd $(DESTDIR)$(SBINDIR)/nfqd
	install -D -m 0644 nfqd/nfqd.8 $(DESTDIR)$(MANDIR)/man8/nfqd.8
	install -D -m 0644 nfqd/nfqd.conf.5 $(DESTDIR)$(MANDIR)/man5/nfqd.conf.5
	install -D -m 0644 kmod/sipnat_fp.4 $(DESTDIR)$(MANDIR)/man4/sipnat_fp.4
	install -D -m 0644 nfqd/nfqd.conf.sample $(DESTDIR)$(SYSCONFDIR)/sipnat/nfqd.conf.sample
	install -D -m 0644 nft-rules/sipnat.nft $(DESTDIR)$(DATADIR)/sipnat.nft
	install -D -m 0644 nft-rules/example-static-nat.nft $(DESTDIR)$(DATADIR)/example-static-nat.nft
	install -D -m 0755 scripts/sipnat-rules $(DESTDIR)$(SBINDIR)/sipnat-rules
	install -D -m 0644 scripts/sipnat-rules.8 $(DESTDIR)$(MANDIR)/man8/sipnat-rules.8
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/sbin/|$(SBINDIR)/|g' scripts/nfqd.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/nfqd.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/nfqd.service

clean:
	rm -rf build build-san
	-$(MAKE) -C kmod clean 2>/dev/null

# --- corpus checker and fuzz targets (tests/corpus, tests/fuzz) ---

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/rwcheck: tests/corpus/rwcheck.c tests/fuzz/rw_check.h $(BUILD)/libnfqd.a $(wildcard nfqd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libnfqd.a $(PKG_LIBS) $(LDFLAGS_ALL)

$(BUILD)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/rw_check.h $(BUILD)/libnfqd.a $(wildcard nfqd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libnfqd.a $(PKG_LIBS) $(LDFLAGS_ALL)

.PHONY: corpus-bins fuzz-bins
corpus-bins: $(BUILD)/nfqd/nfqd $(BUILD)/tests/rwcheck

fuzz-bins: $(FUZZ_BINS)

# make fuzz [FUZZ_TIME=seconds per target]: a bounded run of every target.
fuzz:
	$(MAKE) FUZZ=1 fuzz-bins
	tests/fuzz/run.sh $(FUZZ_TIME)
