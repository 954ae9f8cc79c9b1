# bundle.mk — a self-contained Linux x86-64 bundle, included by the main Makefile (or `make -f bundle.mk bundle`):
#
#   dist/parrot-<version>/bin/parrot        sh launcher using the bundled runtime (scripts/parrot-launcher.sh)
#   dist/parrot-<version>/lib/parrot.jar    the fat jar (with the PTX kernels if `make kernels` ran before it)
#   dist/parrot-<version>/runtime/          jlink'ed Java runtime: the modules jdeps finds in the jar + jdk.unsupported
#   dist/parrot-<version>-linux-x86_64.tar.xz
#
# jdeps reads the jar's base layer (--multi-release base): the shaded jar carries jackson's
# META-INF/versions/9/module-info.class, with which jdeps would treat the fat jar as the module
# com.fasterxml.jackson.databind and fail on its requires; the versioned classes only use java.base.
#
# The jar comes from the main Makefile's target/parrot.jar rule (kernels first, then the Maven package); run
# standalone (`make -f bundle.mk bundle`) this file adds its own plain Maven rule for it.

MVN ?= mvn
JDEPS ?= jdeps
JLINK ?= jlink
PARROT_JAR ?= target/parrot.jar
PARROT_VERSION ?= $(shell sed -n 's:^[[:space:]]*<version>\([^<]*\)</version>.*:\1:p' pom.xml | head -n 1)
BUNDLE_EXTRA_MODULES ?= jdk.unsupported,jdk.incubator.vector
BUNDLE_NAME := parrot-$(PARROT_VERSION)
BUNDLE_DIR := dist/$(BUNDLE_NAME)
BUNDLE_TAR := dist/$(BUNDLE_NAME)-linux-x86_64.tar.xz

.PHONY: bundle bundle-clean

bundle: $(BUNDLE_TAR)
	@echo "bundle: $(BUNDLE_TAR) ($$(du -h $(BUNDLE_TAR) | cut -f1))"

ifndef JAR
$(PARROT_JAR):
	$(MVN) -q -DskipTests package
endif

$(BUNDLE_TAR): $(PARROT_JAR) scripts/parrot-launcher.sh
	@test -n "$(PARROT_VERSION)" || { echo "bundle: no <version> found in pom.xml"; exit 1; }
	rm -rf $(BUNDLE_DIR) $@
	mkdir -p $(BUNDLE_DIR)/bin $(BUNDLE_DIR)/lib
	modules=$$($(JDEPS) --print-module-deps --ignore-missing-deps --multi-release base $(PARROT_JAR)) || exit 1; \
	modules=$$(echo "$$modules,$(BUNDLE_EXTRA_MODULES)" | sed 's/^,//'); \
	echo "jlink modules: $$modules"; \
	$(JLINK) --add-modules "$$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
	    --output $(BUNDLE_DIR)/runtime
	cp $(PARROT_JAR) $(BUNDLE_DIR)/lib/parrot.jar
	cp scripts/parrot-launcher.sh $(BUNDLE_DIR)/bin/parrot
	chmod 755 $(BUNDLE_DIR)/bin/parrot
	tar -C dist -cJf $@.tmp $(BUNDLE_NAME) && mv $@.tmp $@

bundle-clean:
	rm -rf $(BUNDLE_DIR) $(BUNDLE_TAR)
