#!/usr/bin/env bash
# tests/docs.sh - documentation and code cannot drift apart:
#  - docs/rules.md is exactly what `smtpscope --rules --markdown` prints
#    (regenerate with `make docs`);
#  - the rule ids of the contract (../shared/spec/rules.md, when present)
#    are exactly the ids of include/rules.def;
#  - every long option of src/app/options.c is in the man page and in --help.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
spec=${CORPUS:-$PWD/../shared/corpus}/../spec/rules.md

if cmp -s <("$BIN" --rules --markdown) docs/rules.md; then
    echo "PASS: docs/rules.md is generated from include/rules.def"
else
    echo "FAIL: docs/rules.md differs from smtpscope --rules --markdown (run make docs)"
fi

ours=$(grep -oE '^SC_RULE\([A-Z_]+, "[a-z0-9-]+"' include/rules.def | sed 's/.*"\(.*\)"/\1/' | sort)
n=$(echo "$ours" | wc -l)
if [ -f "$spec" ]; then
    theirs=$(grep -oE '^\| `[a-z0-9-]+` \|' "$spec" | sed 's/| `\(.*\)` |/\1/' | sort -u)
    missing=$(comm -13 <(echo "$ours") <(echo "$theirs") | tr '\n' ' ')
    extra=$(comm -23 <(echo "$ours") <(echo "$theirs") | tr '\n' ' ')
    if [ -z "$missing" ]; then
        echo "PASS: every rule id of the contract is in include/rules.def ($n rules)"
    else
        echo "FAIL: rule ids of the contract missing from include/rules.def: $missing"
    fi
    [ -n "$extra" ] && echo "SKIP: rules added beyond the contract: $extra"
else
    echo "SKIP: contract rules.md not found at $spec"
fi

if [ "$(echo "$ours" | sort | uniq -d)" = "" ]; then
    echo "PASS: rule ids are unique"
else
    echo "FAIL: duplicate rule ids: $(echo "$ours" | uniq -d | tr '\n' ' ')"
fi

help=$("$BIN" --help)
for opt in $(grep -oE '\{ "[a-z-]+",' src/app/options.c | sed 's/{ "\(.*\)",/\1/'); do
    [ "$opt" = colour ] && continue
    manopt=$(printf '%s' "--$opt" | sed 's/-/\\-/g')
    if grep -qF -- "$manopt" docs/smtpscope.1 2>/dev/null; then
        man=ok
    else
        man=missing
    fi
    if [ "$man" = ok ] && grep -q -- "--$opt" <<< "$help"; then
        echo "PASS: option --$opt documented in the man page and --help"
    else
        echo "FAIL: option --$opt: man page $man, --help $(grep -q -- "--$opt" <<< "$help" && echo ok || echo missing)"
    fi
done
