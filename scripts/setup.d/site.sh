#!/usr/bin/env bash
# Browser tests (tests/browser.rs) drive Debian's chromium through chromedriver. Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core
fi
# Accessibility check in tests/browser.rs: axe-core, pinned, in a project-local folder
# (target/axe/node_modules/axe-core/axe.min.js), from the npm registry.
AXE_VERSION=4.10.3
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [ ! -f "$ROOT/target/axe/node_modules/axe-core/axe.min.js" ]; then
    npm install --silent --no-audit --no-fund --prefix "$ROOT/target/axe" "axe-core@$AXE_VERSION"
fi
