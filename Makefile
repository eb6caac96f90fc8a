# Thin wrapper over CMake. `make demo` and `make test` are the whole set-up
# on a fresh Debian 12 machine (run as root, or with sudo available).

BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build test demo clean format format-check fuzz install package

all: build

deps:
	@sh scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)/hubform

# libFuzzer harnesses (tests/fuzz), built with clang into build-fuzz; each
# runs FUZZ_TIME seconds (or FUZZ_RUNS inputs) from its seed corpus.
# Findings land in build-fuzz/findings/; copy reproducers worth keeping to
# tests/fuzz/regressions/<harness>/.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_RUNS ?= -1
FUZZ_HARNESSES = manifest gql schema_answer plan fetch listing part

fuzz:
	@command -v clang >/dev/null || { \
		echo "make fuzz needs clang with libFuzzer: apt-get install clang" >&2; \
		exit 1; }
	@cmake -S . -B $(FUZZ_BUILD) -DHF_FUZZ=ON -DCMAKE_C_COMPILER=clang \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target hf_fuzz
	@failed=""; for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$h $(FUZZ_BUILD)/findings/$$h; \
		reg=tests/fuzz/regressions/$$h; [ -d $$reg ] || reg=; \
		echo "fuzz_$$h: $(FUZZ_TIME) s or $(FUZZ_RUNS) runs"; \
		$(FUZZ_BUILD)/tests/fuzz/fuzz_$$h -max_total_time=$(FUZZ_TIME) \
			-runs=$(FUZZ_RUNS) -max_len=65536 -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/findings/$$h/ \
			$(FUZZ_BUILD)/corpus/$$h tests/fuzz/corpus/$$h \
			$$reg 2>$(FUZZ_BUILD)/fuzz_$$h.log \
			|| failed="$$failed $$h"; \
		tail -n 3 $(FUZZ_BUILD)/fuzz_$$h.log; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz findings in:$$failed (see $(FUZZ_BUILD)/findings/)"; \
		exit 1; \
	fi

# Every C file of the project, for clang-format (.clang-format).
FORMAT_FILES = $(wildcard cmd/*.[ch] engine/*.[ch] engine/include/hf/*.h \
	util/*.c util/include/hf/*.h server/*.[ch] tests/*.c \
	tests/helpers/*.[ch] tests/bench/*.c tests/fuzz/*.c)

format:
	@clang-format -i $(FORMAT_FILES)

# CI: fail, naming the lines, when a file is not as clang-format writes it.
format-check:
	@command -v clang-format >/dev/null || \
		{ echo "format-check needs clang-format (apt-get install clang-format)"; exit 1; }
	@clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

# `make install PREFIX=/usr DESTDIR=$PWD/stage`: the binary, manual pages,
# shell completions and schemas/ (cmake/install.cmake).
PREFIX ?= /usr/local
DESTDIR ?=

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# `make package`: $(BUILD)/hubform_<version>_<arch>.deb (CPack).
package: build
	@cd $(BUILD) && cpack -G DEB
