#!/bin/sh
# scripts/setup.sh - installs what smtpscope's build and tests need on a
# Debian 12 machine (run as root), then builds. Packages already present
# are not touched; nothing is downloaded but Debian packages.
#
#   scripts/setup.sh          build dependencies, test oracles, the
#                             fuzzing toolchain (clang, libFuzzer) and the
#                             profiler (perf, docs/performance.md), then `make`
set -eu
cd "$(dirname "$0")/.."

PKGS="gcc make libc6-dev pkg-config libpcap-dev libnids-dev libncurses-dev libssl-dev
      zlib1g-dev python3 python3-jsonschema tshark tcpdump tcpreplay tmux time
      clang libclang-rt-14-dev valgrind linux-perf"

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
make -j"$(nproc)" all
