#!/usr/bin/env bash
# Crawler tests: the pinned reference MCP server (@modelcontextprotocol/server-everything), used
# as a real interop peer over stdio, Streamable HTTP and SSE on 127.0.0.1, installed into a
# project-local folder. Also python3 for the hostile test server. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=2026.8.31
DIR=tests/artifacts/crawl-npm
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if ! command -v python3 >/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3 >/dev/null
fi
if [ "$(node -p "try{require('./$DIR/node_modules/@modelcontextprotocol/server-everything/package.json').version}catch(e){''}" 2>/dev/null)" != "$VERSION" ]; then
    mkdir -p "$DIR"
    npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
        "@modelcontextprotocol/server-everything@$VERSION" >/dev/null
fi
test -x "$DIR/node_modules/.bin/mcp-server-everything"
