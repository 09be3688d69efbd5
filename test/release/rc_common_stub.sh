#!/bin/sh
# Test stub of OpenWrt's /etc/rc.common and procd's shell helpers (/lib/functions/procd.sh). Run
# as `sh rc_common_stub.sh INITSCRIPT ACTION`, the way the kernel runs `#!/bin/sh /etc/rc.common`.
# Each request the script makes of procd is written to $PROCD_LOG, one line each, every argument
# in brackets; the action's dispatch follows rc.common's procd branch.
initscript=$1
action=$2

_log() {
	line=$1
	shift
	for a in "$@"; do line="$line [$a]"; done
	printf '%s\n' "$line" >>"$PROCD_LOG"
}
procd_open_service() { _log open_service "$@"; }
procd_close_service() { _log close_service "$@"; }
procd_open_instance() { _log open_instance "$@"; }
procd_set_param() { _log set_param "$@"; }
procd_append_param() { _log append_param "$@"; }
procd_close_instance() { _log close_instance "$@"; }
procd_send_signal() { _log send_signal "$@"; }
procd_kill() { _log kill "$@"; }
procd_add_reload_trigger() { _log add_reload_trigger "$@"; }

# shellcheck disable=SC1090 # the script under test
. "$initscript"
_log globals "START=$START" "STOP=$STOP" "USE_PROCD=$USE_PROCD"
name=$(basename "$initscript")
case $action in
start)
	procd_open_service "$name" "$initscript"
	start_service
	procd_close_service start
	;;
stop)
	if command -v stop_service >/dev/null; then stop_service; fi
	procd_kill "$name"
	;;
reload)
	if command -v reload_service >/dev/null; then
		reload_service
	else
		procd_open_service "$name" "$initscript"
		start_service
		procd_close_service reload
	fi
	;;
*)
	echo "rc_common_stub: unknown action $action" >&2
	exit 1
	;;
esac
