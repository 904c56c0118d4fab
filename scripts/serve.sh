#!/usr/bin/env bash
# Installs what the build needs, builds the page's WebAssembly module, and serves www/ on
# 127.0.0.1 (PORT, default 8080). The page opens with the built-in demo export loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_build_tools
build_wasm
port="${PORT:-8080}"
say "subtwin is at http://127.0.0.1:$port/ (the demo export loads on open; Ctrl-C stops)"
# Python's server sends application/wasm for .wasm files, which streaming instantiation needs.
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory www
