#!/usr/bin/env bash
# tests/write_streams.sh - --write-streams writes only files it creates.
#
#   - a directory already holding streams is refused (exit 2) and nothing
#     in it changes: a regular file, and a symbolic link named as a stream
#     pointing outside (the file it points to keeps its bytes)
#   - stream files are mode 0600 whatever the umask
#   - more concurrent connections than descriptors kept open (a capture
#     from bench/gen.c, 300 at once): every session's two files, each
#     client stream starting with its EHLO or HELO, no error
cd "$(dirname "$0")/.." && . tests/lib.sh write_streams
sample=samples/clean-multi-transaction.pcap

mkdir "$tmp/a"
echo "victim" >"$tmp/victim"
echo "old" >"$tmp/a/session-1.c2s"
"$bin" -q --write-streams "$tmp/a" -r "$sample" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/a/session-1.c2s")" = old ] && grep -q "already holds" "$tmp/err"; then
    ok "a directory holding streams is refused, its file kept"
else
    bad "existing stream file: exit $rc, content '$(head -c 40 "$tmp/a/session-1.c2s")'"
fi
mkdir "$tmp/b"
ln -s "$tmp/victim" "$tmp/b/session-1.c2s"
"$bin" -q --write-streams "$tmp/b" -r "$sample" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/victim")" = victim ]; then
    ok "a symbolic link named as a stream is not followed"
else
    bad "symlink: exit $rc, victim now '$(head -c 40 "$tmp/victim")'"
fi

mkdir "$tmp/c"
(umask 000; "$bin" -q --write-streams "$tmp/c" -r "$sample" >/dev/null 2>"$tmp/err")
modes=$(stat -c %a "$tmp"/c/* | sort -u | tr '\n' ' ')
if [ "$modes" = "600 " ]; then
    ok "stream files are 0600 under umask 000"
else
    bad "stream file modes: $modes"
fi

if ! command -v cc >/dev/null; then
    echo "SKIP: write_streams: no C compiler for bench/gen.c"
    exit 0
fi
cc -O2 -o "$tmp/gen" bench/gen.c -lm || { bad "bench/gen.c does not build"; exit 0; }
"$tmp/gen" -o "$tmp/many.pcap" --bytes 6M --sessions 300 --max-message 4K
mkdir "$tmp/d"
"$bin" -q --json --write-streams "$tmp/d" -r "$tmp/many.pcap" >"$tmp/out.json" 2>"$tmp/err"
rc=$?
sessions=$(grep -c '"type":"session"' "$tmp/out.json")
files=$(ls "$tmp/d" | wc -l)
nohello=0
for f in "$tmp"/d/*.c2s; do
    head -c 4 "$f" | grep -q -E '^(EHLO|HELO)' || nohello=$((nohello + 1))
done
if [ "$rc" -le 1 ] && [ ! -s "$tmp/err" ] && [ "$sessions" -gt 300 ] &&
   [ "$files" -eq $((2 * sessions)) ] && [ "$nohello" -eq 0 ]; then
    ok "300 concurrent connections: $files files for $sessions sessions, each client stream whole from its start"
else
    bad "300 concurrent: exit $rc, $files files for $sessions sessions, $nohello client streams without EHLO/HELO; $(head -c 300 "$tmp/err")"
fi
exit 0
