#!/usr/bin/env bash
# tests/samples_tshark.sh - checks the sample captures with an independent
# reader: Wireshark's tshark.
#
# For every samples/* capture: the committed file is what
# samples/make-samples.py writes today (byte for byte: the script is the
# source of truth), it is under 50 KB, tshark opens it without an error,
# finds no malformed packet and no bad IP/TCP checksum (bad-checksums.pcap:
# every TCP checksum bad, on purpose), and tshark's SMTP dissector reads the
# command verbs (smtp.req.command) and reply codes (smtp.response.code)
# listed below, in order. The lists were written from the dialogues in the
# script, not from tshark's output.
#
# tshark's SMTP dissector has limits of its own, visible in the lists: after
# a segment holding DATA it reads the rest of that segment as message
# content (so commands pipelined behind DATA or behind the end-of-data dot
# in one segment are not counted, seed000-dot-quit, seed001-spambot-blast,
# many-commands); BDAT commands are shown as "DATA fragment"; verbs longer
# than four letters are cut (STARTTLS -> STAR). In many-commands.pcap it
# then reads the second message's header lines as commands: only the
# prefix before that ("...") is compared. Where the capture itself is
# damaged the dissector follows the damage: in ack-ahead.pcap (each ACK
# captured before its data) it sees only the replies carried by segments
# it put in order (250 221 per session) and reads QUIT as content; in
# zero-seq.pcap (every sequence number 0) each later segment looks like a
# retransmission of the first, so only EHLO and 220 are read. smtpscope
# reads both whole (tests/golden.sh). midstream-tls.pcap holds only TLS
# records (no SMTP line to read); in midstream-greeting.pcap, without the
# handshake, RCPT and DATA pipelined behind MAIL are read as the rest of
# its segment; in the resync samples the second transaction and QUIT, sent
# with bare LFs in one segment after DATA, are content to the dissector;
# any-port-ftp.pcap is FTP, read by tshark's FTP dissector (no SMTP).
#
# Prints PASS/FAIL per check; SKIPs when tshark or python3 is missing.
set -u
cd "$(dirname "$0")/.."

if ! command -v tshark >/dev/null 2>&1; then echo "SKIP: samples_tshark: tshark not installed"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then echo "SKIP: samples_tshark: python3 not installed"; exit 0; fi

# sample | command verbs as tshark sees them | reply codes
expected() {
cat <<'EOF'
seed000-frontbridge-pipelining.pcap|EHLO MAIL RCPT RSET QUIT|220 250 250 221
seed000-exchange-correct.pcap|EHLO MAIL RCPT RSET QUIT|220 250 250 250 250 221
seed000-group-broken.pcap|EHLO MAIL RCPT RSET QUIT|220 250 250 250 250 221
seed000-dot-quit.pcap|EHLO MAIL RCPT DATA|220 250 250 250 354 250 221
seed001-close-after-accept.pcap|EHLO MAIL RCPT DATA|220 250 250 250 354 250
seed001-close-before-eod.pcap|EHLO MAIL RCPT DATA|220 250 250 250 354
seed001-spambot-blast.pcap|HELO|220 250 250 550 554 500 500 500 500 500 500 500 500 500 500 421
seed002-rset-503.pcap|EHLO RSET QUIT|220 500 503 221
seed002-rset-fallback-ok.pcap|EHLO RSET HELO MAIL RCPT DATA QUIT|220 500 250 250 250 250 354 250 221
seed002-helo-extended.pcap|HELO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
seed003-etrn.pcap|EHLO ETRN ETRN ETRN ETRN ETRN ETRN ETRN ETRN ETRN QUIT|220 250 500 501 458 250 250 251 252 253 459 250
seed003-etrn-in-transaction.pcap|EHLO MAIL ETRN RCPT DATA QUIT|220 250 250 250 250 354 250 221
seed004-reply-mid-data.pcap|HELO MAIL RCPT DATA|220 250 250 250 354 552 421
smtp-smuggling.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 250 250 354 250 221
smtp-smuggling-rejected.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
starttls-injection.pcap|EHLO STAR RSET|220 250 220
starttls-clean.pcap|EHLO STAR|220 250 220
auth-plain-plaintext.pcap|EHLO AUTH MAIL RCPT DATA QUIT|220 250 235 250 250 354 250 221
auth-login-plaintext.pcap|EHLO AUTH QUIT|220 250 334 334 235 221
bdat.pcap|EHLO MAIL RCPT QUIT|220 250 250 250 250 250 221
bdat-unadvertised.pcap|EHLO MAIL RCPT QUIT|220 250 250 250 250 250 221
pregreeting.pcap|EHLO QUIT|220 250 221
reset-after-quit.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
clean-multi-transaction.pcap|EHLO MAIL RCPT RCPT DATA MAIL RCPT RSET MAIL RCPT DATA NOOP QUIT|220 250 250 250 550 354 250 250 250 250 250 250 354 250 250 221
server-timeout-421.pcap|EHLO|220 250 421
server-close-unannounced.pcap|EHLO MAIL|220 250 250
vlan.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
qinq.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
ipv6.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
sll.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
sll2.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
null.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
rawip.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
clean.pcapng|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
clean.pcap.gz|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
bad-checksums.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
midstream.pcap|MAIL RCPT DATA QUIT|250 250 354 250 221
retransmission.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
out-of-order.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
overlap.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
gap.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
ip-fragments.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
split-command.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
many-commands.pcap|EHLO MAIL RCPT RCPT RCPT RCPT RCPT RCPT RCPT RCPT DATA ...|220 250 250 250 250 250 250 250 250 250 250 354 250 250 250 354 250 221
truncated.pcap|EHLO MAIL RCPT|220 250 250 250
connection-refused.pcap||
large-segments.pcap.gz|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
unsupported-linktype-80211.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
rotated-chain.pcap|EHLO MAIL RCPT|220 250 250 250
rotated-chain.pcap1|DATA QUIT EHLO MAIL RCPT|354 250 221 220 250 250
rotated-chain.pcap2|DATA QUIT|250 354 250 221
ack-ahead.pcap|EHLO MAIL RCPT DATA EHLO MAIL RCPT DATA|250 221 250 221
retrans-after-56k.pcap.gz|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
zero-seq.pcap|EHLO|220
midstream-greeting.pcap|EHLO MAIL QUIT|220 250 250 250 354 250 221
midstream-tls.pcap||
one-sided.pcap|EHLO MAIL RCPT DATA QUIT|220 250 250 250 354 250 221
resync-postfix.pcap|EHLO MAIL RCPT DATA|220 250 250 250 354 250 250 250 354 250 221
resync-sendmail.pcap|EHLO MAIL RCPT DATA|220 250 250 250 354 250 500 221
any-port-ftp.pcap||
two-link-types.pcapng|EHLO EHLO MAIL MAIL RCPT RCPT QUIT DATA QUIT|220 220 250 250 250 250 250 250 221 354 250 221
EOF
}

fail=0
pass() { echo "PASS: $*"; }
failf() { echo "FAIL: $*"; fail=1; }

# 1. the committed captures are exactly what the script makes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if python3 samples/make-samples.py --out "$tmp" >"$tmp/.log" 2>&1; then
    pass "make-samples.py runs"
else
    failf "make-samples.py runs: $(tail -n 3 "$tmp/.log")"
fi
for f in "$tmp"/*; do
    b=$(basename "$f")
    [ "$b" = .log ] && continue
    if cmp -s "$f" "samples/$b"; then pass "committed $b is what the script makes"
    else failf "committed $b differs from make-samples.py output (regenerate and commit)"; fi
done
listed=$(expected | cut -d'|' -f1 | sort)
made=$(cd "$tmp" && ls | sort)
if [ "$listed" = "$made" ]; then pass "every sample has an expectation here"
else failf "samples and expectations differ: $(diff <(echo "$listed") <(echo "$made") | grep '^[<>]' | tr '\n' ' ')"; fi

# 2. tshark's reading of each sample: one pass per file, fields:
#    frame | expert severities | ip checksum status | tcp checksum status |
#    tcp port | commands | reply codes   (status 0 = bad, 8388608 = error)
words() { tr ',\t\n' '   ' | tr -s ' ' | sed 's/^ //; s/ $//'; }
while IFS='|' read -r name cmds codes; do
    f=samples/$name
    if [ ! -f "$f" ]; then failf "$name: missing"; continue; fi
    size=$(stat -c %s "$f")
    [ "$size" -lt 51200 ] && pass "$name: $size bytes (< 50 KB)" || failf "$name: $size bytes, over 50 KB"
    if tshark -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields -E separator='|' \
        -e frame.number -e _ws.expert.severity -e ip.checksum.status -e tcp.checksum.status \
        -e tcp.srcport -e smtp.req.command -e smtp.response.code >"$tmp/fields" 2>"$tmp/err" \
        && ! grep -qv 'Running as user' "$tmp/err"; then
        pass "$name: tshark opens it"
    else
        failf "$name: tshark: $(grep -v 'Running as user' "$tmp/err" | head -n 2)"
        continue
    fi
    errors=$(awk -F'|' '$2 ~ /8388608/' "$tmp/fields" | wc -l)
    badip=$(awk -F'|' '$3 ~ /(^|,)0($|,)/' "$tmp/fields" | wc -l)
    badtcp=$(awk -F'|' '$4 == "0"' "$tmp/fields" | wc -l)
    ntcp=$(awk -F'|' '$5 != ""' "$tmp/fields" | wc -l)
    if [ "$name" = bad-checksums.pcap ]; then
        # here the error-severity expert item is exactly the bad checksum
        [ "$badtcp" -eq "$ntcp" ] && [ "$ntcp" -gt 0 ] && [ "$badip" -eq 0 ] \
            && pass "$name: all $ntcp TCP checksums bad, IP checksums good" \
            || failf "$name: $badtcp of $ntcp TCP checksums bad, $badip IP bad"
    else
        [ "$errors" -eq 0 ] && pass "$name: no malformed packet, no error" \
            || failf "$name: $errors frames with an error-level expert item"
        [ "$badip" -eq 0 ] && [ "$badtcp" -eq 0 ] && pass "$name: checksums correct" \
            || failf "$name: bad checksums: $badip IP, $badtcp TCP"
    fi
    got=$(cut -d'|' -f6 "$tmp/fields" | words)
    case $cmds in
        *' ...') want=${cmds% ...}; [[ "$got" == "$want"* ]] ;;   # prefix (tshark limit, see above)
        *) want=$cmds; [ "$got" = "$want" ] ;;
    esac && pass "$name: tshark reads commands: $want" \
        || failf "$name: tshark commands [$got], expected [$cmds]"
    got=$(cut -d'|' -f7 "$tmp/fields" | words)
    [ "$got" = "$codes" ] && pass "$name: tshark reads replies: $got" \
        || failf "$name: tshark replies [$got], expected [$codes]"
done < <(expected)

# 3. link layers and formats are what the names say
linktype() { tshark -r "samples/$1" -T fields -e frame.encap_type -c 1 2>/dev/null; }
check_encap() {  # sample, wiretap encapsulation number
    local got; got=$(linktype "$1")
    [ "$got" = "$2" ] && pass "$1: encapsulation $2" || failf "$1: encapsulation [$got], expected [$2]"
}
check_encap vlan.pcap 1; check_encap qinq.pcap 1; check_encap sll.pcap 25
check_encap sll2.pcap 210; check_encap null.pcap 15; check_encap rawip.pcap 7
check_encap unsupported-linktype-80211.pcap 20
encaps=$(tshark -r samples/two-link-types.pcapng -T fields -e frame.encap_type 2>/dev/null | sort -un | tr '\n' ' ')
[ "$encaps" = "1 25 " ] && pass "two-link-types.pcapng: Ethernet and Linux cooked frames" \
    || failf "two-link-types.pcapng: encapsulations [$encaps], expected [1 25 ]"
for s in "vlan.pcap:vlan.id == 100" "qinq.pcap:ieee8021ad.id == 200 && vlan.id == 100" \
         "ipv6.pcap:ipv6.src == 2001:db8::c" "ip-fragments.pcap:ip.flags.mf == 1" \
         "retransmission.pcap:tcp.analysis.retransmission" "out-of-order.pcap:tcp.analysis.out_of_order || tcp.analysis.retransmission" \
         "gap.pcap:tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" \
         "midstream.pcap:tcp.flags.syn == 1" "reset-after-quit.pcap:tcp.flags.reset == 1" \
         "seed004-reply-mid-data.pcap:tcp.flags.fin == 1 && ip.src == 198.51.100.60"; do
    name=${s%%:*}; filt=${s#*:}
    n=$(tshark -r "samples/$name" -Y "$filt" 2>/dev/null | wc -l)
    if [ "$name" = midstream.pcap ]; then
        [ "$n" -eq 0 ] && pass "$name: no SYN" || failf "$name: $n SYN frames"
    else
        [ "$n" -gt 0 ] && pass "$name: tshark sees '$filt'" || failf "$name: tshark does not see '$filt'"
    fi
done
head -c 4 samples/clean.pcapng | od -An -tx1 | grep -q '0a 0d 0d 0a' && pass "clean.pcapng: pcapng magic" || failf "clean.pcapng: not pcapng"
head -c 2 samples/clean.pcap.gz | od -An -tx1 | grep -q '1f 8b' && pass "clean.pcap.gz: gzip magic" || failf "clean.pcap.gz: not gzip"
exit $fail
