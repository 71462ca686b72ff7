#!/usr/bin/env bash
# tests/service.sh - the service examples of docs/service (docs/interface.md,
# "Fleets"): make install puts them under share/doc/smtpscope/examples with
# the unit naming the installed binary; the unit's options are options
# smtpscope accepts; rsyslogd accepts the rsyslog snippet (rsyslogd -N1, a
# config check that starts nothing); logrotate accepts its snippet (-d, a
# dry run); systemd-analyze verifies the unit when it is there.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
pass() { echo "PASS: service: $*"; }
fail() { echo "FAIL: service: $*"; }
skip() { echo "SKIP: service: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if make -s install DESTDIR="$tmp/root" PREFIX=/opt/sc >/dev/null 2>"$tmp/make.err"; then
    ex=$tmp/root/opt/sc/share/doc/smtpscope/examples
    if [ -x "$tmp/root/opt/sc/bin/smtpscope" ] && [ -f "$ex/smtpscope.logrotate" ] &&
       [ -f "$ex/rsyslog-smtpscope.conf" ] && [ -f "$tmp/root/opt/sc/share/doc/smtpscope/smtpscope.schema.json" ] &&
       grep -q '^ExecStart=/opt/sc/bin/smtpscope ' "$ex/smtpscope.service"; then
        pass "make install: the examples under share/doc/smtpscope, the unit names PREFIX/bin/smtpscope"
    else
        fail "make install: files missing"; find "$tmp/root" -type f
    fi
else
    fail "make install: $(tail -n 3 "$tmp/make.err")"
fi

# The unit's command line, read as smtpscope reads it (with a file for -i).
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' docs/service/smtpscope.service | sed 's/^ExecStart=//; s/\\$//' | tr -d '\n')
args=$(echo "$cmd" | sed 's|^[^ ]* ||; s| -i [^ ]*| -r samples/bdat.pcap|; s|--output [^ ]*|--output '"$tmp"'/events.json|; s|--syslog |--syslog=udp://127.0.0.1:9 |; s|--summary-interval [0-9]*||')
# shellcheck disable=SC2086
if "$BIN" $args >/dev/null 2>"$tmp/run.err" && grep -q '"type":"summary"' "$tmp/events.json"; then
    pass "the unit's options are accepted (ExecStart: $cmd)"
else
    fail "the unit's options: $args: $(cat "$tmp/run.err")"
fi
# --summary-interval is a live option: checked with -i against the parser only
if "$BIN" --summary-interval 3600 -r samples/bdat.pcap >/dev/null 2>&1; then
    fail "--summary-interval accepted without -i"
else
    pass "--summary-interval is refused without -i (the unit uses it with -i)"
fi

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ -x "$RSYSLOGD" ]; then
    { echo 'module(load="imuxsock" SysSock.Use="off")'; cat docs/service/rsyslog-smtpscope.conf; } >"$tmp/rs.conf"
    if "$RSYSLOGD" -N1 -f "$tmp/rs.conf" >"$tmp/rs.out" 2>&1; then
        pass "rsyslogd -N1 accepts the rsyslog snippet"
    else
        fail "rsyslogd -N1: $(tail -n 3 "$tmp/rs.out")"
    fi
else
    skip "rsyslogd not installed"
fi
if command -v logrotate >/dev/null; then
    # The snippet creates the file for the user the unit runs as, which
    # the unit's comment says to add (useradd smtpscope); logrotate
    # refuses a user that does not exist, so on a machine without it the
    # snippet is checked with root as the owner, everything else as shipped.
    lr=docs/service/smtpscope.logrotate owner=smtpscope
    if ! getent passwd smtpscope >/dev/null; then
        sed 's/^\( *create [0-7]*\) smtpscope smtpscope$/\1 root root/' "$lr" >"$tmp/lr.conf"
        lr=$tmp/lr.conf owner="root (no user smtpscope here)"
    fi
    if logrotate -d -s "$tmp/lr.state" "$lr" >"$tmp/lr.out" 2>&1 &&
       ! grep -qi 'error' "$tmp/lr.out"; then
        pass "logrotate -d accepts the logrotate snippet (file owner $owner)"
    else
        fail "logrotate -d: $(grep -i error "$tmp/lr.out" | head -n 2)"
    fi
else
    skip "logrotate not installed"
fi
if command -v systemd-analyze >/dev/null && systemd-analyze --version >/dev/null 2>&1; then
    sed "s|/usr/local/bin/smtpscope|$BIN|" docs/service/smtpscope.service >"$tmp/smtpscope.service"
    if systemd-analyze verify --man=no "$tmp/smtpscope.service" >"$tmp/sa.out" 2>&1; then
        pass "systemd-analyze verify accepts the unit"
    else
        fail "systemd-analyze verify: $(head -n 3 "$tmp/sa.out")"
    fi
else
    skip "systemd-analyze not available"
fi
