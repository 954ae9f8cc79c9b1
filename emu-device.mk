# emu-device.mk — the emulated CUDA device: a CPU libcuda.so.1 and libcublas.so.12 for JCuda, so that the whole
# CUDA backend (module loads, launches, allocations, copies, cuBLAS calls) runs and is tested without a GPU.
# Included by the main Makefile. g++ and perl only. See cuda-kernels/README.md ("The emulated CUDA device").
#
#   emu-device          build/emu-device/libcuda.so.1 and libcublas.so.12, from the fiber emulator
#                       (cuda-kernels/emu/emu.h) and every kernel family compiled for it
#   emu-device-test     the device's own tests (cuda-kernels/emu/device/device_test.cpp): PTX refusals, launch
#                       limits, guard-page faults, leaks, memory accounting, cuBLAS against a naive loop
#   emu-device-imports  refreshes the committed lists of what JCuda's natives import (needs the jars in ~/.m2)
#
# Run anything on it with LD_LIBRARY_PATH=$(EMU_DEVICE_DIR), e.g.
#   LD_LIBRARY_PATH=build/emu-device java -jar target/parrot.jar train --device cuda ...
# EMU_DEVICE_USE is "yes" when this machine has no NVIDIA driver of its own (make test then runs the CUDA tests
# on the emulated device; on a machine with a GPU they run on the card). Override with EMU_DEVICE_USE=yes|no.

EMU_DEVICE_DIR := build/emu-device
EMU_DEVICE_SRC := $(CUDA_SRC_DIR)/emu/device
EMU_DEVICE_GEN := $(EMU_DEVICE_DIR)/gen
EMU_DEVICE_OBJ := $(EMU_DEVICE_DIR)/obj
EMU_DEVICE_LIBCUDA := $(EMU_DEVICE_DIR)/libcuda.so.1
EMU_DEVICE_LIBCUBLAS := $(EMU_DEVICE_DIR)/libcublas.so.12
EMU_DEVICE_CXXFLAGS ?= -O2 -std=c++17 -fPIC -fvisibility=hidden -Wall -Wno-unused-function -Wno-unused-variable -Wno-unknown-pragmas
# A real driver: the kernel module's version file, or a libcuda.so.1 in the loader cache (ldconfig may live in
# /sbin, outside a user's PATH).
EMU_DEVICE_REAL_DRIVER := $(shell test -e /proc/driver/nvidia/version && echo yes; \
  { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -E 'libcuda\.so\.1 ' | grep -v '$(CURDIR)')
EMU_DEVICE_USE ?= $(if $(EMU_DEVICE_REAL_DRIVER),no,yes)

EMU_DEVICE_FAMILY_OBJS := $(foreach f,$(CUDA_FAMILIES),$(EMU_DEVICE_OBJ)/family_$(f).o)
EMU_DEVICE_DRIVER_OBJS := $(EMU_DEVICE_OBJ)/driver.o $(EMU_DEVICE_OBJ)/memory.o $(EMU_DEVICE_OBJ)/ptx.o \
                          $(EMU_DEVICE_OBJ)/registry.o
EMU_DEVICE_HEADERS := $(EMU_DEVICE_SRC)/entry.h $(CUDA_SRC_DIR)/emu/emu.h $(CUDA_HEADERS)
EMU_DEVICE_DRIVER_HEADERS := $(EMU_DEVICE_HEADERS) $(EMU_DEVICE_SRC)/internal.h
EMU_DEVICE_MK := $(lastword $(MAKEFILE_LIST))

.PHONY: emu-device emu-device-test emu-device-imports emu-device-clean

emu-device: $(EMU_DEVICE_LIBCUDA) $(EMU_DEVICE_LIBCUBLAS)

$(EMU_DEVICE_GEN)/family_%.cpp: $(CUDA_SRC_DIR)/%.cu $(EMU_DEVICE_SRC)/gen_entries.pl
	@mkdir -p $(@D)
	perl $(EMU_DEVICE_SRC)/gen_entries.pl family $* $< $@

$(EMU_DEVICE_GEN)/registry.cpp: $(EMU_DEVICE_SRC)/gen_entries.pl $(EMU_DEVICE_MK) $(wildcard $(CUDA_SRC_DIR)/*.cu)
	@mkdir -p $(@D)
	perl $(EMU_DEVICE_SRC)/gen_entries.pl registry $@ $(CUDA_FAMILIES)

# A kernel family: its .cu compiled as C++ with the emulator forced in (as kernels-emu-test does), plus its table.
$(EMU_DEVICE_OBJ)/family_%.o: $(EMU_DEVICE_GEN)/family_%.cpp $(EMU_DEVICE_HEADERS)
	@mkdir -p $(@D)
	$(EMU_CXX) $(EMU_DEVICE_CXXFLAGS) -I $(CUDA_SRC_DIR) -I $(CUDA_SRC_DIR)/emu/include -I $(EMU_DEVICE_SRC) \
	  -include $(CUDA_SRC_DIR)/emu/emu.h -c -o $@ $<

$(EMU_DEVICE_OBJ)/registry.o: $(EMU_DEVICE_GEN)/registry.cpp $(EMU_DEVICE_HEADERS)
	@mkdir -p $(@D)
	$(EMU_CXX) $(EMU_DEVICE_CXXFLAGS) -I $(EMU_DEVICE_SRC) -include $(CUDA_SRC_DIR)/emu/emu.h -c -o $@ $<

$(EMU_DEVICE_OBJ)/%.o: $(EMU_DEVICE_SRC)/%.cpp $(EMU_DEVICE_DRIVER_HEADERS)
	@mkdir -p $(@D)
	$(EMU_CXX) $(EMU_DEVICE_CXXFLAGS) -I $(CUDA_SRC_DIR)/emu/include -c -o $@ $<

# Everything libJCudaDriver imports that driver.cpp does not implement: a stub that logs once and refuses.
$(EMU_DEVICE_GEN)/cuda_stubs.cpp: $(EMU_DEVICE_SRC)/libcuda.imports $(EMU_DEVICE_SRC)/gen_stubs.pl $(EMU_DEVICE_OBJ)/driver.o
	nm --defined-only -g $(EMU_DEVICE_OBJ)/driver.o > $@.defined
	perl $(EMU_DEVICE_SRC)/gen_stubs.pl $< $@.defined $@ emudev_not_supported

$(EMU_DEVICE_GEN)/cublas_stubs.cpp: $(EMU_DEVICE_SRC)/libcublas.imports $(EMU_DEVICE_SRC)/gen_stubs.pl $(EMU_DEVICE_OBJ)/cublas.o
	nm --defined-only -g $(EMU_DEVICE_OBJ)/cublas.o > $@.defined
	perl $(EMU_DEVICE_SRC)/gen_stubs.pl $< $@.defined $@ emudev_cublas_not_supported

$(EMU_DEVICE_OBJ)/%_stubs.o: $(EMU_DEVICE_GEN)/%_stubs.cpp
	$(EMU_CXX) $(EMU_DEVICE_CXXFLAGS) -c -o $@ $<

$(EMU_DEVICE_LIBCUDA): $(EMU_DEVICE_FAMILY_OBJS) $(EMU_DEVICE_DRIVER_OBJS) $(EMU_DEVICE_OBJ)/cuda_stubs.o \
                       $(EMU_DEVICE_SRC)/libcuda.map
	$(EMU_CXX) -shared -o $@.tmp -Wl,-soname,libcuda.so.1 -Wl,--version-script=$(EMU_DEVICE_SRC)/libcuda.map \
	  -Wl,-z,defs $(EMU_DEVICE_FAMILY_OBJS) $(EMU_DEVICE_DRIVER_OBJS) $(EMU_DEVICE_OBJ)/cuda_stubs.o -lpthread
	@mv $@.tmp $@

$(EMU_DEVICE_LIBCUBLAS): $(EMU_DEVICE_OBJ)/cublas.o $(EMU_DEVICE_OBJ)/cublas_stubs.o $(EMU_DEVICE_LIBCUDA) \
                         $(EMU_DEVICE_SRC)/libcublas.map
	$(EMU_CXX) -shared -o $@.tmp -Wl,-soname,libcublas.so.12 -Wl,--version-script=$(EMU_DEVICE_SRC)/libcublas.map \
	  -Wl,-z,defs $(EMU_DEVICE_OBJ)/cublas.o $(EMU_DEVICE_OBJ)/cublas_stubs.o $(EMU_DEVICE_LIBCUDA) \
	  -Wl,-rpath,'$$ORIGIN'
	@mv $@.tmp $@

EMU_JCUDA_NATIVES ?= $(HOME)/.m2/repository/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar
EMU_JCUBLAS_NATIVES ?= $(HOME)/.m2/repository/org/jcuda/jcublas-natives/12.6.0/jcublas-natives-12.6.0-linux-x86_64.jar
emu-device-imports:
	@tmp=$$(mktemp -d); cd $$tmp && unzip -q -o $(EMU_JCUDA_NATIVES) && unzip -q -o $(EMU_JCUBLAS_NATIVES) && cd - >/dev/null; \
	{ echo "# What libJCudaDriver-12.6.0 (org.jcuda:jcuda-natives:12.6.0, linux-x86_64) imports from libcuda.so.1 (unversioned)."; \
	  echo "# Regenerate: make emu-device-imports. One name a line."; \
	  nm -D --undefined-only $$tmp/lib/libJCudaDriver-*.so | awk '$$2 ~ /^cu/ {print $$2}' | sort -u; } > $(EMU_DEVICE_SRC)/libcuda.imports; \
	{ echo "# What libJCublas2-12.6.0 (org.jcuda:jcublas-natives:12.6.0, linux-x86_64) imports from libcublas.so.12 (all @libcublas.so.12)."; \
	  echo "# Regenerate: make emu-device-imports. One name a line."; \
	  nm -D --undefined-only $$tmp/lib/libJCublas2-*.so | awk '$$2 ~ /^cublas/ {sub(/@.*/,"",$$2); print $$2}' | sort -u; } > $(EMU_DEVICE_SRC)/libcublas.imports; \
	rm -rf $$tmp; wc -l $(EMU_DEVICE_SRC)/*.imports

emu-device-clean:
	rm -rf $(EMU_DEVICE_DIR)

EMU_DEVICE_TEST_BIN := $(EMU_DEVICE_DIR)/device-test
$(EMU_DEVICE_TEST_BIN): $(EMU_DEVICE_SRC)/device_test.cpp $(EMU_DEVICE_LIBCUDA) $(EMU_DEVICE_LIBCUBLAS)
	$(EMU_CXX) -O1 -std=c++17 -Wall -o $@ $< $(EMU_DEVICE_LIBCUDA) $(EMU_DEVICE_LIBCUBLAS) -Wl,-rpath,'$$ORIGIN'

emu-device-test: $(EMU_DEVICE_TEST_BIN)
	./$(EMU_DEVICE_TEST_BIN)

# For make test and the targets that run parrot on the emulated device: the Maven switch (pom profile
# emu-device) and a command prefix, both empty where a real driver is present (EMU_DEVICE_USE=no).
EMU_DEVICE_MVN := $(if $(filter yes,$(EMU_DEVICE_USE)),-Dparrot.emuDevice=$(CURDIR)/$(EMU_DEVICE_DIR))
EMU_DEVICE_RUN := $(if $(filter yes,$(EMU_DEVICE_USE)),LD_LIBRARY_PATH=$(CURDIR)/$(EMU_DEVICE_DIR) PARROT_EMU_LEAKS=fail)
