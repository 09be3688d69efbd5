#!/usr/bin/env bash
# Installs the programs the test suite and the benchmark use, from Debian's packages:
# mosquitto-clients, openssl and mosquitto (tests: its mosquitto_passwd writes the password hashes
# we must read; the benchmark's reference broker), gcc (builds mqttload),
# util-linux (taskset), stunnel4 (TLS in front of mqttload for `bench --tls`).
set -euo pipefail
need=()
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v openssl >/dev/null || need+=(openssl)
command -v mosquitto_passwd >/dev/null || need+=(mosquitto)
if [[ "${1:-}" == "--bench" ]]; then
  command -v gcc >/dev/null || need+=(gcc libc6-dev)
  command -v taskset >/dev/null || need+=(util-linux)
  command -v stunnel >/dev/null || need+=(stunnel4)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "Installing ${need[*]} with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
