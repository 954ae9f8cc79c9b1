# cuda.mk — CUDA kernels (cuda-kernels/*.cu) → PTX resources for the jar.
# Included by the main Makefile; also usable alone: `make -f cuda.mk kernels ptxas-check`.
#
#   kernels      PTX for each of CUDA_SMS into build/ptx-resources/parrot/ptx/<sm>/<family>.ptx
#                (the pom adds build/ptx-resources as a resource dir, so the jar carries them). One target,
#                sm_80: the driver JIT-compiles compute_80 PTX for every newer card (sm_86, sm_89, sm_90, ...).
#                nvcc's sm_80 and sm_90 PTX of these kernels were identical but for the .target line, so
#                compiling both doubled the build (flash_attention.cu alone takes ~65 s of cicc an arch) for
#                nothing; add sm_90 to CUDA_SMS when a kernel gets sm_90-only code (wgmma, TMA).
#                Without nvcc it says so and succeeds: the CPU build goes on.
#   ptxas-check  ptxas -v on every PTX for each of PTXAS_SMS (sm_80 and sm_90: what the driver's JIT will do on
#                an A100 and an H100/H200) → build/ptxas-report.txt (registers, smem, spills); fails if ptxas
#                reports an error.
#   kernels-emu-test
#                runs every kernel on the CPU in a small CUDA emulator (cuda-kernels/emu: fibers for threads,
#                real __syncthreads / warp-shuffle semantics) against double-precision references whose
#                gradients are checked by finite differences, under three thread schedules. Needs only g++:
#                the kernels' logic is tested on machines without a GPU or nvcc.
#   kernels-clean
#
# PTX_ISA pins the `.version` line of the emitted PTX (nvcc 13 writes 9.0, which only a CUDA 13 driver can
# JIT). 7.8 is the oldest ISA that knows sm_90, so the PTX loads on any driver from CUDA 11.8 on; ptxas-check
# proves the kernels use nothing newer. Empty keeps nvcc's own version.

CUDA_MK := $(lastword $(MAKEFILE_LIST))

NVCC ?= nvcc
PTXAS ?= ptxas
CUDA_SMS ?= sm_80
PTXAS_SMS ?= sm_80 sm_90
PTX_ISA ?= 7.8
NVCC_FLAGS ?= -O3 -std=c++17

CUDA_SRC_DIR := cuda-kernels
PTX_OUT_DIR := build/ptx-resources/parrot/ptx
PTXAS_REPORT := build/ptxas-report.txt
CUDA_FAMILIES := $(sort $(basename $(notdir $(wildcard $(CUDA_SRC_DIR)/*.cu))))
CUDA_HEADERS := $(wildcard $(CUDA_SRC_DIR)/*.cuh)
CUDA_PTX := $(foreach sm,$(CUDA_SMS),$(foreach f,$(CUDA_FAMILIES),$(PTX_OUT_DIR)/$(sm)/$(f).ptx))

NVCC_PATH := $(shell command -v $(NVCC) 2>/dev/null)
PTXAS_PATH := $(shell command -v $(PTXAS) 2>/dev/null)

.PHONY: kernels ptxas-check kernels-emu-test kernels-clean

ifeq ($(NVCC_PATH),)
kernels:
	@echo "nvcc not found: GPU path unavailable, CPU build continues"
else
kernels: $(CUDA_PTX)
	@echo "kernels: $(words $(CUDA_PTX)) PTX files for $(CUDA_SMS) in $(PTX_OUT_DIR)"

# One pattern rule per SM: build to a temp file, pin the ISA version, then move into place.
define PARROT_PTX_RULE
$(PTX_OUT_DIR)/$(1)/%.ptx: $(CUDA_SRC_DIR)/%.cu $(CUDA_HEADERS) $(CUDA_MK)
	@mkdir -p $$(@D)
	$(NVCC) $(NVCC_FLAGS) -ptx -arch=$(1) -o $$@.tmp $$<
	$(if $(PTX_ISA),@sed -i 's/^\.version [0-9][0-9.]*$$$$/.version $(PTX_ISA)/' $$@.tmp)
	@mv $$@.tmp $$@
endef
$(foreach sm,$(CUDA_SMS),$(eval $(call PARROT_PTX_RULE,$(sm))))
endif

ifeq ($(PTXAS_PATH)$(NVCC_PATH),)
ptxas-check:
	@echo "ptxas not found: PTX check skipped, CPU build continues"
else
ptxas-check: kernels
	@mkdir -p $(dir $(PTXAS_REPORT))
	@tmp=$(PTXAS_REPORT).tmp; : > $$tmp; status=0; \
	echo "# ptxas report: $$($(PTXAS) --version | tail -n 1); PTX ISA pinned to '$(PTX_ISA)'" >> $$tmp; \
	for src in $(CUDA_SMS); do for sm in $(PTXAS_SMS); do for f in $(CUDA_FAMILIES); do \
	  p=$(PTX_OUT_DIR)/$$src/$$f.ptx; \
	  echo "== $$p (ptxas -arch=$$sm -v)" >> $$tmp; \
	  if ! $(PTXAS) -arch=$$sm -v $$p -o /dev/null >> $$tmp 2>&1; then \
	    echo "ptxas-check: FAILED on $$p for $$sm (see $(PTXAS_REPORT))"; status=1; fi; \
	done; done; done; \
	echo "# summary: arch kernel registers smem(bytes) stack(bytes) spill-stores spill-loads" >> $$tmp; \
	awk '/^== /{ arch = $$0; sub(/.*-arch=/, "", arch); sub(/ .*/, "", arch) } \
	     /Compiling entry function/{ match($$0, /'"'"'[^'"'"']+'"'"'/); k = substr($$0, RSTART+1, RLENGTH-2) } \
	     /bytes stack frame/{ st = $$1; ss = $$5; sl = $$9 } \
	     /Used [0-9]+ registers/{ r = $$0; sub(/.*Used /, "", r); sub(/ registers.*/, "", r); \
	       sm = 0; if (match($$0, /[0-9]+ bytes smem/)) { sm = substr($$0, RSTART, RLENGTH); sub(/ bytes smem/, "", sm) } \
	       printf "%s %-38s regs=%-4s smem=%-6s stack=%-4s spill_st=%-4s spill_ld=%s\n", arch, k, r, sm, st, ss, sl }' \
	     $$tmp > $$tmp.sum; cat $$tmp.sum >> $$tmp; mv $$tmp $(PTXAS_REPORT); \
	cat $$tmp.sum; rm -f $$tmp.sum; \
	if grep -q 'ptxas.*error' $(PTXAS_REPORT); then status=1; fi; \
	echo "ptxas-check: report in $(PTXAS_REPORT)"; exit $$status
endif

EMU_CXX ?= g++
EMU_BIN := build/emu/kernels-emu-test
EMU_SCHEDULES ?= inorder random greedy

$(EMU_BIN): $(wildcard $(CUDA_SRC_DIR)/*.cu) $(CUDA_HEADERS) $(wildcard $(CUDA_SRC_DIR)/emu/*.h) \
            $(wildcard $(CUDA_SRC_DIR)/emu/*.cpp) $(wildcard $(CUDA_SRC_DIR)/emu/include/*.h)
	@mkdir -p $(@D)
	$(EMU_CXX) -O2 -std=c++17 -I $(CUDA_SRC_DIR)/emu/include -include $(CUDA_SRC_DIR)/emu/emu.h \
	  -o $@ $(CUDA_SRC_DIR)/emu/emu_test.cpp

kernels-emu-test: $(EMU_BIN)
	@for s in $(EMU_SCHEDULES); do echo "schedule $$s:"; EMU_SCHEDULE=$$s ./$(EMU_BIN) || exit 1; done

kernels-clean:
	rm -rf $(PTX_OUT_DIR) $(PTXAS_REPORT) build/emu

# The Mamba/LSTM and multi-tensor kernels' emulator tests: a second binary (emu/recurrent_test.cpp), run under
# the same schedules as a prerequisite of kernels-emu-test.
EMU_RECURRENT_BIN := build/emu/kernels-emu-test-recurrent
.PHONY: kernels-emu-test-recurrent

$(EMU_RECURRENT_BIN): $(wildcard $(CUDA_SRC_DIR)/*.cu) $(CUDA_HEADERS) $(wildcard $(CUDA_SRC_DIR)/emu/*.h) \
                      $(CUDA_SRC_DIR)/emu/recurrent_test.cpp $(wildcard $(CUDA_SRC_DIR)/emu/include/*.h)
	@mkdir -p $(@D)
	$(EMU_CXX) -O2 -std=c++17 -I $(CUDA_SRC_DIR)/emu/include -include $(CUDA_SRC_DIR)/emu/emu.h \
	  -o $@ $(CUDA_SRC_DIR)/emu/recurrent_test.cpp

kernels-emu-test-recurrent: $(EMU_RECURRENT_BIN)
	@for s in $(EMU_SCHEDULES); do echo "schedule $$s (recurrent):"; EMU_SCHEDULE=$$s ./$(EMU_RECURRENT_BIN) || exit 1; done

kernels-emu-test: kernels-emu-test-recurrent
