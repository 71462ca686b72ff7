# tests/lib.sh - what every test suite begins with, sourced from the
# project's root:
#     cd "$(dirname "$0")/.." && . tests/lib.sh NAME [COMMAND...]
# It sets bin (the sanitized build, or $SMTPSCOPE) and tmp (a private
# directory removed at exit), and defines ok/bad (one PASS or FAIL line
# named NAME: ..., as tests/run.sh counts them), check WHAT CMD... (PASS
# when CMD succeeds) and nowhere TEXT FILE... (true when no FILE holds
# TEXT). It ends the suite with one SKIP line and status 0 when bin is
# not built or a COMMAND is not installed.
set -u
suite=$1
shift
bin=${SMTPSCOPE:-$PWD/build/san/smtpscope}
[ -x "$bin" ] || { echo "SKIP: $suite: $bin not built"; exit 0; }
for need in "$@"; do
    command -v "$need" >/dev/null || { echo "SKIP: $suite: $need not installed"; exit 0; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok()  { echo "PASS: $suite: $1"; }
bad() { echo "FAIL: $suite: $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
nowhere() { grep -rqa -- "$1" "${@:2}"; [ $? = 1 ]; }   # 1: read all, not found
