#!/bin/sh
# Installs the broker for this machine from a release: the build for `uname -m` (musl or glibc),
# the default /etc/nanomq.conf (an existing one is kept) and, where systemd runs, its unit.
#
#   sh install.sh [--from DIR|URL] [--prefix /usr/local] [--destdir ROOT] [--arch ARCH]
#                 [--libc glibc|musl] [--no-service]
#
# --from: the release files with their SHA256SUMS (default: this script's folder, else ../dist);
# a URL is fetched with curl or wget. Every file is checked against SHA256SUMS before anything is
# installed. --destdir installs under ROOT (packaging) and starts nothing.
set -eu

from=""
prefix=/usr/local
destdir=""
arch=$(uname -m)
libc=""
service=1
while [ $# -gt 0 ]; do
	case $1 in
	--from) from=$2 && shift ;;
	--prefix) prefix=$2 && shift ;;
	--destdir) destdir=$2 && shift ;;
	--arch) arch=$2 && shift ;;
	--libc) libc=$2 && shift ;;
	--no-service) service=0 ;;
	-h | --help) sed -n '2,11p' "$0" && exit 0 ;;
	*) echo "install.sh: unknown option $1 (see --help)" >&2 && exit 2 ;;
	esac
	shift
done

die() {
	echo "install.sh: $*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$from" ]; then
	if [ -e "$here/SHA256SUMS" ]; then from=$here; else from=$here/../dist; fi
fi

case $arch in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
armv6* | armv7* | armv8l | armhf | arm) arch=armv7 ;;
*) die "there is no build for $arch; broker-armv7.mjs runs on any Node.js >= 18: node broker-armv7.mjs start" ;;
esac
if [ "$arch" = armv7 ]; then
	files="broker-armv7 broker-armv7.mjs"
	command -v node >/dev/null || echo "install.sh: warning: no node on PATH; broker-armv7 needs Node.js >= 18" >&2
else
	if [ -z "$libc" ]; then
		libc=musl
		for loader in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
			[ -e "$loader" ] && libc=glibc
		done
	fi
	case $libc in
	glibc) files=broker-linux-$arch ;;
	musl) files=broker-linux-$arch-musl ;;
	*) die "--libc is glibc or musl, not $libc" ;;
	esac
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() {
	case $from in
	http://* | https://*)
		if command -v curl >/dev/null; then
			curl -fsSL -o "$work/$1" "$from/$1" || die "cannot download $from/$1"
		else
			wget -q -O "$work/$1" "$from/$1" || die "cannot download $from/$1"
		fi
		;;
	*) cp "$from/$1" "$work/$1" 2>/dev/null || die "$from/$1 is missing (--from names the release folder)" ;;
	esac
}
fetch SHA256SUMS
for f in $files nanomq.conf broker.service; do
	fetch "$f"
	grep "  $f\$" "$work/SHA256SUMS" >"$work/check" || die "$f is not listed in SHA256SUMS"
	(cd "$work" && sha256sum -c "$work/check" >/dev/null 2>&1) || die "$f does not match SHA256SUMS; download it again"
done

root=$destdir
install -d "$root$prefix/bin" "$root/etc"
if [ "$arch" = armv7 ]; then
	install -d "$root$prefix/lib/broker"
	install -m 0755 "$work/broker-armv7" "$root$prefix/lib/broker/broker-armv7"
	install -m 0644 "$work/broker-armv7.mjs" "$root$prefix/lib/broker/broker-armv7.mjs"
	ln -sf "$prefix/lib/broker/broker-armv7" "$root$prefix/bin/broker"
else
	install -m 0755 "$work/$files" "$root$prefix/bin/broker"
fi
echo "installed $files as $prefix/bin/broker"
if [ -e "$root/etc/nanomq.conf" ]; then
	echo "kept the existing /etc/nanomq.conf"
else
	install -m 0644 "$work/nanomq.conf" "$root/etc/nanomq.conf"
	echo "installed the default /etc/nanomq.conf"
fi

[ "$service" -eq 1 ] || exit 0
if [ -n "$destdir" ] || [ -d /run/systemd/system ]; then
	install -d "$root/etc/systemd/system"
	sed "s|/usr/local/bin/broker|$prefix/bin/broker|g" "$work/broker.service" >"$root/etc/systemd/system/broker.service"
	echo "installed /etc/systemd/system/broker.service"
	if [ -z "$destdir" ]; then
		systemctl daemon-reload
		echo "start it with: systemctl enable --now broker"
	fi
else
	echo "no systemd here: run $prefix/bin/broker start --conf /etc/nanomq.conf -d, or use your init system"
fi
