#!/usr/bin/env bash
# tests/docs.sh - the documentation is the contract, and the code cannot
# drift away from it:
#  - docs/rules.md is what `make docs` writes: `smtpscope --rules --markdown`
#    (the table, from src/common/rules.def) followed by docs/rules-notes.md;
#  - rule ids are unique; every rule id the notes name is in the catalogue
#    or in their Planned table, and no planned id is in the catalogue (an
#    implemented rule leaves Planned); every test script the notes cite
#    exists; every quote of docs/rules.md or docs/interface.md in a byte
#    script's comments is in that doc;
#  - every option of src/app/options.c and of --help is in the man page,
#    in --help and in docs/interface.md;
#  - samples/README.md says of each sample only the rules it fires
#    (tests/firstuse/samples_readme.py);
#  - docs, tests and the README cite the repository's docs, never files
#    outside it (../shared/spec);
#  - when the upstream contract is present ($CORPUS/../spec, optional):
#    each of its rule ids is in the catalogue or planned, and each of its
#    options is in docs/interface.md.
set -u
cd "$(dirname "$0")/.."
BIN=${SMTPSCOPE_REL:-$PWD/build/smtpscope}
spec=${CORPUS:-$PWD/../shared/corpus}/../spec
notes=docs/rules-notes.md
iface=docs/interface.md

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
check() {    # check "what" command...: PASS when the command succeeds
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

if cmp -s <("$BIN" --rules --markdown; cat "$notes") docs/rules.md; then
    pass "docs/rules.md is generated from src/common/rules.def and $notes"
else
    fail "docs/rules.md differs from smtpscope --rules --markdown + $notes (run make docs)"
fi

ours=$(grep -oE '^SC_RULE\([A-Z_]+, "[a-z0-9-]+"' src/common/rules.def | sed 's/.*"\(.*\)"/\1/' | sort)
n=$(echo "$ours" | wc -l)
dups=$(echo "$ours" | uniq -d | tr '\n' ' ')
check "rule ids are unique ($n rules)" test -z "$dups"

# The Planned table of the notes: rows after the "## Planned" heading.
planned=$(sed -n '/^## Planned/,$p' "$notes" | grep -oE '^\| `[a-z0-9-]+` \|' |
          sed 's/| `\(.*\)` |/\1/' | sort -u)
both=$(comm -12 <(echo "$ours") <(echo "$planned") | tr '\n' ' ')
check "no planned rule id is in src/common/rules.def (implemented: move it out of Planned) ${both}" \
    test -z "$both"
known=$(printf '%s\n%s\n' "$ours" "$planned" | sort -u)
named=$(grep -oE '`[a-z0-9]+(-[a-z0-9]+)+`' "$notes" | tr -d '`' | sort -u)
unknown=$(comm -23 <(echo "$named") <(echo "$known") | tr '\n' ' ')
check "every rule id named in $notes is in the catalogue or planned ${unknown}" test -z "$unknown"
missing=""
for s in $(grep -oE '`(rules|traps|seeds|report)/[a-z0-9.-]+\.smtp`' "$notes" | tr -d '`' | sort -u); do
    [ -f "tests/scripts/$s" ] || missing="$missing $s"
done
check "every test script cited in $notes exists${missing}" test -z "$missing"
check "docs/interface.md exists" test -s "$iface"

# Byte scripts quote the docs in their comments (`rules.md: "..."`, "..."
# parts elided with ...): each quote must still be in the doc it names.
if command -v python3 >/dev/null; then
    python3 - <<'EOF'
import glob, re
docs = {name: " ".join(open("docs/" + name).read().split())
        for name in ("rules.md", "interface.md")}
for path in sorted(glob.glob("tests/scripts/*/*.smtp")):
    text = " ".join(l[1:].strip() for l in open(path) if l.startswith("#"))
    for m in re.finditer(r'(rules|interface)\.md[^"]{0,40}"([^"]+)"', text):
        doc, quote = m.group(1) + ".md", m.group(2)
        parts = [" ".join(p.split()) for p in quote.split("...") if p.strip()]
        if all(p in docs[doc] for p in parts):
            print("PASS: %s quotes docs/%s" % (path, doc))
        else:
            print("FAIL: %s quotes docs/%s, which does not say: %s" % (path, doc, quote))
EOF
else
    echo "SKIP: quotes of the docs in byte scripts: python3 not installed"
fi

help=$("$BIN" --help)
man_has() { grep -qF -- "$(printf '%s' "$1" | sed 's/-/\\-/g')" docs/smtpscope.1; }
for opt in $(grep -oE '\{ "[a-z-]+",' src/app/options.c | sed 's/{ "\(.*\)",/--\1/') \
           $(grep -oE '^  -[A-Za-z] ' <<< "$help" | tr -d ' '); do
    [ "$opt" = --colour ] && continue        # the same as --color, said once
    where=""
    man_has "$opt" || where="$where man page"
    grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<< "$help" || where="$where --help"
    grep -qE -- "\`$opt[\` ]" "$iface" || where="$where $iface"
    check "option $opt documented${where:+: missing from$where}" test -z "$where"
done

cites=$(grep -rlF 'shared/spec' docs tests README.md | grep -v '^tests/docs.sh$' | tr '\n' ' ')
check "docs, tests and README cite the repository's docs, not ../shared/spec ${cites}" test -z "$cites"

if [ -f "$spec/rules.md" ]; then
    theirs=$(grep -oE '^\| `[a-z0-9-]+` \|' "$spec/rules.md" | sed 's/| `\(.*\)` |/\1/' | sort -u)
    gone=$(comm -13 <(echo "$known") <(echo "$theirs") | tr '\n' ' ')
    check "every rule id of the upstream contract is in the catalogue or planned ${gone}" test -z "$gone"
else
    echo "SKIP: upstream contract rules.md not found at $spec (optional)"
fi
if [ -f "$spec/interface.md" ]; then
    gone=""
    for opt in $(grep -oE '`--?[a-zA-Z][a-z-]*' "$spec/interface.md" | tr -d '`' | sort -u); do
        grep -qE -- "\`$opt[\` =[]" "$iface" || gone="$gone $opt"
    done
    check "every option of the upstream contract is in $iface${gone}" test -z "$gone"
else
    echo "SKIP: upstream contract interface.md not found at $spec (optional)"
fi

# samples/README.md: each sample fires the rules it is said to fire
if command -v python3 >/dev/null 2>&1; then
    python3 tests/firstuse/samples_readme.py "$BIN"
else
    echo "SKIP: samples/README.md check: python3 not installed"
fi
