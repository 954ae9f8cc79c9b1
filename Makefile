# parrot — one entry point for building, running and testing.
#   make run    build, then train and evaluate the quickstart experiment (CPU when there is no GPU)
#   make test   the whole test suite (CPU; GPU parity tests report SKIPPED without a GPU)
SHELL := /bin/bash
MVN ?= mvn -B -q
JAR := target/parrot.jar
CONFIG ?= experiments/quickstart.json
ARGS ?=
# The CPU backend's SIMD kernels use the Vector API, an incubator module in Java 17.
JAVA ?= java
JAVA_FLAGS ?= --add-modules jdk.incubator.vector -XX:+UseParallelGC
PARROT := $(JAVA) $(JAVA_FLAGS) -jar $(JAR)

-include cuda.mk
-include bundle.mk

.PHONY: build run test bench clean fixtures

build: $(JAR)

$(JAR): pom.xml $(shell find java/src/main -type f 2>/dev/null)
	@$(MAKE) --no-print-directory kernels 2>/dev/null || true
	$(MVN) -DskipTests package

run: build
	$(PARROT) train --config $(CONFIG) $(ARGS)

test:
	@$(MAKE) --no-print-directory kernels ptxas-check 2>/dev/null || echo "kernels: skipped (no cuda.mk or nvcc)"
	mvn -B --no-transfer-progress test

bench: build
	$(PARROT) bench cpu

# Regenerates the golden fixtures with Debian's PyTorch (apt-get install python3-torch).
fixtures:
	/usr/bin/python3 scripts/make_fixtures.py java/src/test/resources/fixtures

clean:
	rm -rf target build dist
