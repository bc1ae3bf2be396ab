# Provisor — the two commands a new machine needs:
#   make run    install what is missing, build, start the server on its defaults
#   make test   install what is missing, build, run every test (CTest)
#   make test-stress   the same with two busy loops beside it (a busy, freshly started machine)
# Options: SAN=1 (ASan+UBSan build in build-san/), JOBS=N, CI=true (-Werror).
#   make deb    the Debian package, built from the tree into build-deb/ (docs/operations.md)
#   make fuzz-long   every fuzz target 10 minutes (FUZZ_SECONDS, FUZZ_ONLY="rule xml"), corpus grown

SAN      ?= 0
JOBS     ?= $(shell nproc)
BUILD    ?= $(if $(filter 1,$(SAN)),build-san,build)
WERROR   ?= $(if $(CI),ON,OFF)
CC_PICK  ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
# ccache, when the machine has it, makes a rebuild in a second checkout cheap (CCACHE_BASEDIR
# turns this checkout's absolute paths into relative ones, so checkouts share entries).
CCACHE   ?= $(shell command -v ccache 2>/dev/null)
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1
CMAKE_FLAGS = -G Ninja -DCMAKE_C_COMPILER=$(CC_PICK) \
	$(if $(CCACHE),-DCMAKE_C_COMPILER_LAUNCHER=$(CCACHE)) \
	-DCMAKE_BUILD_TYPE=$(if $(filter 1,$(SAN)),Debug,RelWithDebInfo) \
	-DPV_SAN=$(if $(filter 1,$(SAN)),ON,OFF) -DPV_WERROR=$(WERROR)

.PHONY: all deps configure build run test test-stress fuzz fuzz-long bench clean format deb

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Builds only what it runs: the provisor binary, not the tests, fuzzers and benchmarks.
run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target provisor
	@bash scripts/run.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --no-label-summary -j $(JOBS) --timeout 600

test-stress: build
	@bash scripts/test-stress.sh $(BUILD) $(JOBS)

fuzz: configure
	@cmake --build $(BUILD) -j $(JOBS) --target fuzzers
	@echo "fuzzers in $(BUILD)/fuzz/: run e.g. $(BUILD)/fuzz/fuzz_rule tests/fuzz/corpus/rule"

# Every fuzz target for FUZZ_SECONDS (600) each under ASan+UBSan from its committed corpus, then
# the new coverage merged (minimised) into tests/fuzz/corpus/ to commit; not part of `make test`.
fuzz-long: configure
	@cmake --build $(BUILD) -j $(JOBS) --target fuzzers
	@bash scripts/fuzz_long.sh $(BUILD)

bench: build
	@bash scripts/deps.sh --bench
	@bash bench/run.sh $(BUILD)

# The Debian package, compiled from the tree by dpkg-buildpackage (debian/rules).
deb: deps
	@bash scripts/deb.sh build-deb

clean:
	rm -rf build build-san build-deb

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i
