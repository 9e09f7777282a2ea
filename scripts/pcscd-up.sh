#!/bin/sh
# Start pcscd (with the vsmartcard vpcd driver from /etc/reader.conf.d) if it is not running, and wait for its socket.
# Idempotent. Never uses --auto-exit (pcscd would quit when idle). Fails loudly.
set -eu
SOCK=/run/pcscd/pcscd.comm
LOG=${PCSCD_LOG:-/tmp/pcscd.log}

[ -f /etc/reader.conf.d/vpcd ] || { echo "pcscd-up: vsmartcard-vpcd is not installed (/etc/reader.conf.d/vpcd missing)" >&2; exit 1; }
command -v pcscd >/dev/null 2>&1 || { echo "pcscd-up: pcscd is not installed" >&2; exit 1; }

if pgrep -x pcscd >/dev/null 2>&1 && [ -S "$SOCK" ]; then
    exit 0
fi
if ! pgrep -x pcscd >/dev/null 2>&1; then
    # A stale socket/pid from a killed pcscd makes the new one refuse to start.
    rm -f "$SOCK" /run/pcscd/pcscd.pid
    mkdir -p /run/pcscd
    nohup pcscd -f ${PCSCD_ARGS:-} >>"$LOG" 2>&1 </dev/null &
fi
i=0
while [ $i -lt 100 ]; do
    if [ -S "$SOCK" ]; then
        exit 0
    fi
    i=$((i + 1))
    sleep 0.1
done
echo "pcscd-up: pcscd did not create $SOCK within 10 s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
