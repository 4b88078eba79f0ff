# usjepa: build, test, fuzz, install. See README.md.
include config.mk

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A     := $(BUILD)/libusj.a
TOOL_SRC  := $(sort $(wildcard tools/us-*.c))
TOOLS     := $(TOOL_SRC:tools/%.c=$(BINDIR)/%)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNITS     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MANS      := $(wildcard man/*.1)

.PHONY: all deps check-deps test bench fuzz install clean
.DELETE_ON_ERROR:
# keep object files: they are intermediate in the chain rules but rebuilt needlessly otherwise
.SECONDARY:

all: check-deps $(TOOLS) $(BINDIR)/vit-bench

check-deps:
	@scripts/deps.sh $(if $(filter 0,$(shell id -u)),--install)

deps:
	@scripts/deps.sh --install

$(BUILD)/%.o: %.c $(wildcard lib/*.h) config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(MATHFLAGS) $(WARN) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/%: $(BUILD)/tools/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make test: every C unit test and bats suite; the last line is "N passed, M failed".
test: all $(UNITS)
	@USJ_BIN=$(abspath $(BINDIR)) USJ_UNITS="$(UNITS)" tests/run.sh

# make bench: throughput measurements, each against its reference in the same run.
BENCHES := $(BUILD)/bench/decode_only $(BUILD)/bench/phantom
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# vit-bench: the ViT's training step and inference against PyTorch (bench/vit.sh)
$(BINDIR)/vit-bench: $(BUILD)/bench/vit-bench.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: all $(BENCHES)
	$(BUILD)/bench/phantom 128
	bench/phantom.sh
	bench/ingest.sh
	bench/vit.sh

# make fuzz: each libFuzzer target of tests/fuzz (the stream reader, the
# safetensors parser) for FUZZ_SECONDS (not part of make test).
# UBSan must not recover, or undefined behaviour is printed and never reported as a finding.
FUZZ_SECONDS ?= 300
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@command -v clang >/dev/null || { echo "fuzz: needs clang: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
	@for f in $(FUZZERS); do \
		mkdir -p build/fuzz/$$f.corpus && \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(CPPFLAGS) $(PKG_CFLAGS) \
			-o build/fuzz/$$f tests/fuzz/$$f.c $(LIB_SRC) $(LDLIBS) && \
		seeds=tests/fuzz/$${f#fuzz_}.corpus && \
		dict=$$(ls tests/fuzz/$${f#fuzz_}.dict 2>/dev/null || true) && \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s" && \
		build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -artifact_prefix=build/fuzz/$$f- \
			$${dict:+-dict=$$dict} build/fuzz/$$f.corpus $$seeds || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(MANS) $(DESTDIR)$(PREFIX)/share/man/man1

clean:
	rm -rf build bin

-include $(wildcard pipelines/*.mk)
