#!/usr/bin/env bash
# The YAML 1.1 round-trip test (src/catalogue/mod.rs, yaml_1_1) reads records back with PyYAML,
# a YAML 1.1 reader. Idempotent.
set -euo pipefail
if python3 -c 'import yaml' >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-yaml
