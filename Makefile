# Thin wrapper over CMake. `make demo` and `make test` are the whole set-up
# on a fresh Debian 12 machine (run as root, or with sudo available).

BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build test demo clean format

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

format:
	@clang-format -i cmd/*.c cmd/*.h engine/*.c engine/*.h \
		engine/include/hf/*.h util/*.c util/include/hf/*.h server/*.c server/*.h tests/*.c tests/helpers/*

clean:
	rm -rf $(BUILD)
