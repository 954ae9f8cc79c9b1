# parrot — one entry point for building, running and testing.
#   make run    build, then train and evaluate the quickstart experiment (CPU when there is no GPU)
#   make test   the whole test suite; without a GPU the CUDA tests run on the emulated CUDA device (emu-device.mk)
#   make gpu-test  the GPU parity suite alone (needs a CUDA device)
#   make bundle    dist/parrot-<version>-linux-x86_64.tar.xz: jlink'ed runtime + fat jar + PTX
#   make cpu-peak  the cores' measured FP32 FMA GFLOP/s and effective clock (for bench cpu --clock-ghz)
SHELL := /bin/bash
MVN ?= mvn -B -q
JAR := target/parrot.jar
CONFIG ?= experiments/quickstart.json
ARGS ?=
# The CPU backend's SIMD kernels use the Vector API, an incubator module in Java 17.
JAVA ?= java
JAVA_FLAGS ?= --add-modules jdk.incubator.vector -XX:+UseParallelGC
# nvcc runs one kernel file a core: the PTX build is most of a fresh `make run`'s build time.
NPROC ?= $(shell nproc 2>/dev/null || echo 2)
PARROT := $(JAVA) $(JAVA_FLAGS) -jar $(JAR)

-include cuda.mk
-include emu-device.mk
-include bundle.mk
-include docker.mk

.PHONY: build run test gpu-test bench cpu-peak clean fixtures

build: $(JAR)

$(JAR): pom.xml $(shell find java/src/main -type f 2>/dev/null)
	@$(MAKE) --no-print-directory -j$(NPROC) kernels 2>/dev/null || true
	$(MVN) -DskipTests package

run: build
	$(PARROT) train --config $(CONFIG) $(ARGS)

# Kernels: PTX for sm_80/sm_90 and the ptxas report (where nvcc exists), then every kernel run on the CPU in
# the CUDA emulator against float64 references; the emulated CUDA device and its own tests; then the Java suite,
# whose CUDA tests run on the emulated device when this machine has no NVIDIA driver (EMU_DEVICE_USE).
# The jar first: SlurmClusterTest runs target/parrot.jar under a local Slurm (SKIPPED where Slurm is missing).
test: $(JAR)
	$(MAKE) --no-print-directory -j$(NPROC) kernels
	$(MAKE) --no-print-directory ptxas-check kernels-emu-test emu-device emu-device-test
	mvn -B --no-transfer-progress test $(EMU_DEVICE_MVN)

gpu-test: kernels build
	mvn -B --no-transfer-progress test -Dtest='CudaParityTest,CudaPrefillTest,CudaHfLoadTest' -Dsurefire.failIfNoSpecifiedTests=false

# 120 steps after 50 warm-up steps, not bench cpu's default 30 after 5: with 512-bit vectors C2's compiles of the
# large kernels arrive seconds into a run, and the short default measured the transformer at 40% of its speed.
bench: build
	$(PARROT) bench cpu --steps 120 --warmup 50 --ops --json experiments/results/cpu/bench-cpu.json

# The cores' measured FP32 FMA throughput and effective clock (scripts/fma_peak.c): the peak that `bench cpu`
# computes from /proc/cpuinfo's nominal clock is lower wherever the cores boost or a VM reports the host's clock.
cpu-peak: build/fma_peak
	build/fma_peak

build/fma_peak: scripts/fma_peak.c
	@mkdir -p build
	$(CC) -O2 -mavx2 -mfma -pthread $< -o $@

# Regenerates the golden fixtures with Debian's PyTorch (apt-get install python3-torch).
fixtures:
	/usr/bin/python3 scripts/make_fixtures.py java/src/test/resources/fixtures
	/usr/bin/python3 scripts/make_hf_fixtures.py java/src/test/resources/hf

clean:
	rm -rf target build dist
