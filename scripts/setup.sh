#!/bin/sh
# scripts/setup.sh - installs what smtpscope's build and tests need on a
# Debian 12 machine (run as root), then builds. Packages already present
# are not touched; nothing is downloaded but Debian packages, and one
# Python package when the machine can reach PyPI: `communityid`, the
# reference implementation tests/json_schema.sh checks the Community ID
# against (without it that check is a SKIP; the spec's test vectors and a
# computation from the spec are checked anyway).
#
#   scripts/setup.sh          build dependencies, test oracles, the
#                             fuzzing toolchain (clang, libFuzzer) and the
#                             profiler (perf, docs/performance.md), then `make`
#
# Exim (tests/tls_exim.sh) conflicts as a Debian package with Postfix
# (tests/realmail.sh): its packages are downloaded and unpacked into a
# private root, EXIM_ROOT (default /opt/smtpscope-exim), never installed;
# what the binary needs from the system is installed (libidn12) or made
# (the Debian-exim user it is built to run as).
set -eu
cd "$(dirname "$0")/.."

PKGS="gcc make libc6-dev pkg-config libpcap-dev libnids-dev libncurses-dev libssl-dev
      zlib1g-dev python3 python3-jsonschema tshark tcpdump tcpreplay tmux time rsyslog
      clang libclang-rt-14-dev valgrind chromium swaks libidn12 linux-perf python3-pip
      libnet-ssleay-perl libio-socket-ssl-perl logrotate"
# swaks speaks TLS only with Net::SSLeay and IO::Socket::SSL, which it
# merely recommends (and recommendations are not installed here): without
# them the STARTTLS sessions of tests/realmail.sh and tests/tls_exim.sh
# are never sent. logrotate is what tests/service.sh checks the shipped
# rotation config with.

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # tshark asks whether non-root users may capture: answer no.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
EXIM_ROOT=${EXIM_ROOT:-/opt/smtpscope-exim}
if [ ! -x "$EXIM_ROOT/usr/sbin/exim4" ] && [ "$(id -u)" -eq 0 ]; then
    echo "setup: unpacking exim4 into $EXIM_ROOT"
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq exim4-daemon-light exim4-base exim4-config) &&
        for d in "$tmp"/*.deb; do dpkg -x "$d" "$EXIM_ROOT"; done
    rm -rf "$tmp"
fi
if [ "$(id -u)" -eq 0 ] && ! id Debian-exim >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
fi
if [ "$(id -u)" -eq 0 ] && ! /usr/bin/python3 -c 'import communityid' 2>/dev/null; then
    /usr/bin/python3 -m pip install -q --retries 1 --timeout 15 --break-system-packages communityid \
        >/dev/null 2>&1 || echo "setup: PyPI not reachable: communityid not installed (one check will SKIP)"
fi
make -j"$(nproc)" all
