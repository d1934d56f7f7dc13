#!/usr/bin/env bash
# The YAML 1.1 round-trip test (src/catalogue/mod.rs, yaml_1_1) reads records back with PyYAML,
# a YAML 1.1 reader, through whichever `python3` is first on PATH. Idempotent.
set -euo pipefail
if python3 -c 'import yaml' >/dev/null 2>&1; then
    exit 0
fi
# The `python3` on PATH may not be Debian's (pyenv, a venv): install into it first.
if python3 -m pip install --quiet pyyaml 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages pyyaml 2>/dev/null; then
    python3 -c 'import yaml' && exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-yaml
python3 -c 'import yaml'
