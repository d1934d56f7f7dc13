#!/usr/bin/env bash
# The sandbox of launched servers: bubblewrap (Debian package `bubblewrap`), checked to work
# here (it needs user namespaces), and uv for the install step of PyPI servers (npm comes with
# crawl.sh). Idempotent; works as root on a fresh Debian/Ubuntu machine (CI).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v bwrap >/dev/null; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq bubblewrap >/dev/null
fi
# The same kind of sandbox a server gets: own user and network namespaces.
if ! bwrap --unshare-user --unshare-net --ro-bind /usr /usr --symlink usr/bin /bin \
        --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev -- /usr/bin/true; then
    echo "bubblewrap is installed but cannot create namespaces here; on Ubuntu 24.04 allow them with" >&2
    echo "  sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" >&2
    exit 1
fi
if ! command -v uv >/dev/null; then
    python3 -m pip install --quiet uv 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages uv
fi
