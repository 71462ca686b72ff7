#!/usr/bin/env bash
# tests/fuzz/seed.sh - builds the seed corpora of the fuzz targets under
# OUTDIR/TARGET, from what the repository and the shared corpus hold:
#   fuzz_pcap       samples/*.pcap* and $CORPUS/**/*.pcap* (up to 1 MB),
#                   each with an options byte 0 in front
#   fuzz_session    tests/fuzz/seeds/*.smtp and tests/scripts/**/*.smtp,
#                   converted by script2fuzz.py
#   fuzz_safeprint  a few strings: escapes, UTF-8, bidi, invalid UTF-8
#   fuzz_tls        handshakes for each suite followed by records, and
#                   hostile record headers (tests/fuzz/fuzz_tls.c's script)
# Inputs the fuzzer found earlier stay in OUTDIR (libFuzzer adds to them).
# Usage: CORPUS=../shared/corpus tests/fuzz/seed.sh OUTDIR
set -eu
out=${1:?usage: seed.sh OUTDIR}
corpus=${CORPUS:-../shared/corpus}
mkdir -p "$out/fuzz_pcap" "$out/fuzz_session" "$out/fuzz_safeprint" "$out/fuzz_tls"

n=0
while IFS= read -r -d '' f; do
    [ "$(stat -c %s "$f")" -le 1048576 ] || continue
    name=$(echo "${f#./}" | tr '/' '_')
    { printf '\0'; cat "$f"; } > "$out/fuzz_pcap/seed-$name"
    n=$((n + 1))
done < <(find samples "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) -print0 2>/dev/null)
echo "seed: fuzz_pcap: $n captures"

find tests/fuzz/seeds tests/scripts -name '*.smtp' -print0 2>/dev/null |
    xargs -0 -r python3 tests/fuzz/script2fuzz.py "$out/fuzz_session"

s=$out/fuzz_safeprint
printf '\x20plain ASCII text with a \\ backslash' > "$s/ascii"
printf '\x08\x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b]0;title\x07\x7f\x00' > "$s/escapes"
printf '\x40caf\xc3\xa9 \xe2\x80\xae reversed \xe2\x81\xa6 \xc2\x9b \xf0\x9f\x93\xa7 \xef\xbb\xbf' > "$s/utf8"
printf '\x10\xc3\x28 \xe2\x82 \xf0\x28\x8c\xbc \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \xff\xfe' > "$s/bad-utf8"
printf '\x05"quote" and \\u0000 and \r\n\t' > "$s/json-specials"
echo "seed: fuzz_safeprint: $(ls "$s" | wc -l) strings"

t=$out/fuzz_tls
for suite in 0 1 2 3 4 5 6 7; do
    # ClientHello, ServerHello + CCS, an encrypted record each way
    printf "\x03\x84\x0$suite\x05\x17\x00\x20%032d\x85\x17\x00\x30%048d" 0 0 > "$t/suite$suite"
    printf "\x03\x84\x0$suite\x04\x0$suite\x05\x16\x00\x28%040d\x01\x00\x03\x17\x03" 0 0 > "$t/split$suite"
done
printf '\x00\x05\x17\x03\x03\xff\xff' > "$t/huge-length"
printf '\x00\x05\x47\x45\x54\x20\x2f' > "$t/not-tls"
printf '\x03\x82\x84\x00\x85\x17\x00\x10%016d' 0 > "$t/gap"
echo "seed: fuzz_tls: $(ls "$t" | wc -l) scripts"
