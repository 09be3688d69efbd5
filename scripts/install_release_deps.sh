#!/usr/bin/env bash
# Installs what the release tests (test/release/) need, from Debian's packages, and builds the
# sysroots they run the foreign binaries in (recipes: ../shared/docs/runtime.md):
#   qemu-user-static        runs the aarch64 binaries (-cpu cortex-a53) and the armv7 bundle
#   musl                    the x86_64 musl loader, /lib/ld-musl-x86_64.so.1
#   gcc, gcc-aarch64-linux-gnu  build test/release/glibc_shim.c for the musl runs
#   xz-utils, shellcheck    the compressed sizes in docs/install.md; the shell script checks
#   make, systemd           the OpenWrt Makefile under a stub SDK; systemd-analyze verify
# Sysroots go to .cache/sysroots/{aarch64-glibc,aarch64-musl,x86_64-musl,armhf-node}; each is built
# once (a .done file marks it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.cache/sysroots
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[[ -e /lib/ld-musl-x86_64.so.1 ]] || need+=(musl)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v xz >/dev/null || need+=(xz-utils)
command -v make >/dev/null || need+=(make)
command -v systemd-analyze >/dev/null || need+=(systemd)
update=0
for arch in arm64 armhf; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    $sudo dpkg --add-architecture "$arch"
    update=1
  fi
done
if [[ ${#need[@]} -gt 0 || $update -eq 1 ]]; then
  echo "Installing ${need[*]:-nothing} and the arm64/armhf package lists with apt-get" >&2
  # a mirror caught mid-sync fails one index; the packages needed are still found in the others
  $sudo apt-get update -qq || $sudo apt-get update -qq || echo "apt-get update failed in part; going on" >&2
  [[ ${#need[@]} -eq 0 ]] || $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# extract NAME PKG...: downloads the packages and unpacks them into $root/NAME
extract() {
  local name=$1
  shift
  local debs
  debs=$(mktemp -d)
  (cd "$debs" && apt-get download -qq "$@")
  rm -rf "${root:?}/$name"
  mkdir -p "$root/$name"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root/$name"; done
  rm -rf "$debs"
}

if [[ ! -e $root/aarch64-glibc/.done ]]; then
  echo "Building the aarch64 glibc sysroot" >&2
  extract aarch64-glibc libc6:arm64
  touch "$root/aarch64-glibc/.done"
fi

if [[ ! -e $root/aarch64-musl/.done ]]; then
  echo "Building the aarch64 musl sysroot" >&2
  extract aarch64-musl musl:arm64 libstdc++6:arm64 libgcc-s1:arm64
  s=$root/aarch64-musl
  # the musl loader must search usr/lib of the sysroot, not the paths in this file
  rm -f "$s/etc/ld-musl-aarch64.path"
  cp -L "$s/usr/lib/aarch64-linux-gnu/libstdc++.so.6" "$s/lib/aarch64-linux-gnu/libgcc_s.so.1" "$s/usr/lib/"
  aarch64-linux-gnu-gcc -shared -fPIC -nostdlib -O2 -o "$s/usr/lib/glibc_shim.so" test/release/glibc_shim.c
  touch "$s/.done"
fi

if [[ ! -e $root/x86_64-musl/.done ]]; then
  echo "Building the x86_64 musl library folder" >&2
  s=$root/x86_64-musl
  rm -rf "$s"
  mkdir -p "$s"
  cp -L /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libgcc_s.so.1 "$s/"
  # Debian's x86_64 libstdc++ names glibc's loader as a library; musl's libc is its own loader
  ln -s /lib/ld-musl-x86_64.so.1 "$s/ld-linux-x86-64.so.2"
  gcc -shared -fPIC -nostdlib -O2 -o "$s/glibc_shim.so" test/release/glibc_shim.c
  touch "$s/.done"
fi

if [[ ! -e $root/armhf-node/.done ]]; then
  echo "Building the armhf Node.js sysroot" >&2
  armhf=(nodejs libnode108 libc6 libbrotli1 libc-ares2 libgcc-s1 libicu72 libnghttp2-14 libssl3
    libstdc++6 libuv1 zlib1g)
  extract armhf-node "${armhf[@]/%/:armhf}" node-acorn node-cjs-module-lexer node-undici
  # under qemu -L, glibc does not find libc.so.6 in lib/arm-linux-gnueabihf: merge lib into usr/lib
  s=$root/armhf-node
  cp -a "$s/lib/." "$s/usr/lib/"
  rm -rf "${s:?}/lib"
  ln -s usr/lib "$s/lib"
  touch "$root/armhf-node/.done"
fi
