#!/usr/bin/env bash
# Runs Deno (lint, fmt) for `npm test`. The npm registry reachable here serves only the linux-x64
# build of Deno, so it is an optional dependency used directly; elsewhere a `deno` on PATH is used.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/node_modules/@deno/linux-x64-glibc/deno"
if [[ -x "$bin" ]]; then exec "$bin" "$@"; fi
if command -v deno >/dev/null; then exec deno "$@"; fi
echo "deno not found: on linux-x64 run 'npm ci'; elsewhere install Deno 2 and put it on PATH" >&2
exit 127
