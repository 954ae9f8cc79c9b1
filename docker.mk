# docker.mk — the GPU training image (docker/Dockerfile), included by the main Makefile (or `make -f docker.mk`).
#
#   make docker                       build $(IMAGE) (needs a Docker engine with BuildKit; no GPU needed to build)
#   make docker-run CONFIG=FILE [ARGS='--set train.steps=300']
#                                     train FILE in the image on the GPUs (NVIDIA Container Toolkit), results
#                                     and checkpoints in ./runs (mounted on /work/runs), files owned by you
#   make docker-run DOCKER_CMD='selftest --device cuda'   any other parrot command
#
# `docker stop` gives the container DOCKER_STOP_TIMEOUT seconds after SIGTERM (docker's default is 10) so
# the trainer can write its checkpoint; tini in the image forwards the signal to the JVM.

DOCKER ?= docker
version ?= $(or $(PARROT_VERSION),$(shell sed -n 's:^[[:space:]]*<version>\([^<]*\)</version>.*:\1:p' pom.xml | head -n 1))
IMAGE ?= parrot:$(version)
DOCKERFILE ?= docker/Dockerfile
DOCKER_BUILD_FLAGS ?=
DOCKER_GPUS ?= all
DOCKER_STOP_TIMEOUT ?= 300
DOCKER_RUN_FLAGS ?=
CONFIG ?= experiments/quickstart.json
ARGS ?=
# The config file is mounted read-only at /work/config/<name>, so it may live anywhere on the host.
DOCKER_CONFIG_MOUNT = /work/config/$(notdir $(CONFIG))
DOCKER_CMD ?= train --config $(DOCKER_CONFIG_MOUNT) $(ARGS)
DOCKER_GIT_COMMIT ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && \
    { [ -z "$$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo $$c || echo $$c-dirty; } || echo unknown)

.PHONY: docker docker-run

docker:
	DOCKER_BUILDKIT=1 $(DOCKER) build -f $(DOCKERFILE) -t $(IMAGE) \
	    --build-arg PARROT_VERSION=$(version) --build-arg PARROT_GIT_COMMIT=$(DOCKER_GIT_COMMIT) \
	    $(DOCKER_BUILD_FLAGS) .

docker-run:
	@test -f "$(CONFIG)" || { echo "docker-run: no config file $(CONFIG)"; exit 2; }
	@mkdir -p runs
	$(DOCKER) run --rm --gpus $(DOCKER_GPUS) --stop-timeout $(DOCKER_STOP_TIMEOUT) --user $$(id -u):$$(id -g) \
	    -v "$(CURDIR)/runs:/work/runs" -v "$(abspath $(CONFIG)):$(DOCKER_CONFIG_MOUNT):ro" \
	    $(DOCKER_RUN_FLAGS) $(IMAGE) $(DOCKER_CMD)
