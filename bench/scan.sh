#!/usr/bin/env bash
# `check DIR --output json` over N PEM certificate files (certgen: RSA-2048, one CA not
# among them, a quarter expired, a quarter expiring) against the lower bound of any scan,
# ../shared/bench/cmd/parsebound (read + pem.Decode + x509.ParseCertificate + NotAfter),
# and certigo when present; paired runs with abbench (method of ../shared/bench/README.md:
# read the "paired wall ratio A/B" medians, and the CPU; the machine is shared).
# Issue 6 asks, on 10,000 files: default parallelism <= 1.2x parsebound -j 1; one worker
# <= 2x parsebound -j 1; >= 2.5x faster than certigo dump --json; peak RSS < 40 MiB and
# flat as N grows (the RSS lines at the end: N/4, N/2, N, 2N files).
# Usage: N=10000 RUNS=9 bench/scan.sh   (certigo: see ../shared/bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
RUNS=${RUNS:-9}
out=/tmp/diapason-bench-scan; mkdir -p "$out"
# The shipped binary, as bench/startup.sh builds it.
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "-s -w" -o "$out/diapason-cert" .
bench=../shared/bench
[ -x /tmp/certbench/bin/abbench ] || "$bench/build.sh" >/dev/null
B=/tmp/certbench/bin
AB=$B/abbench
export PATH=$PATH:/tmp/peers/bin
certs() { # certs COUNT: a directory of COUNT certgen files, made once
  local d="$out/certs-$1"
  [ "$(ls "$d" 2>/dev/null | wc -l)" -eq "$1" ] || { rm -rf "$d"; $B/certgen -n "$1" -dir "$d" >/dev/null; }
  echo "$d"
}
D=$(certs "$N")
ours="$out/diapason-cert check $D --output json"
# check exits 1 (FAIL: a quarter are expired); abbench stops on a non-zero exit.
$ours > "$out/scan.json" || [ $? -eq 1 ]
grep -q '"certificates": '"$N" "$out/scan.json"
uptime
echo "## A = check --output json (default workers), B = parsebound -j 1"
$AB -n "$RUNS" -- "$ours > $out/scan.json || true" "$B/parsebound $D"
echo "## A = check --output json --workers 1, B = parsebound -j 1"
$AB -n "$RUNS" -- "$ours --workers 1 > $out/scan.json || true" "$B/parsebound $D"
echo "## A = check --output json with GOMAXPROCS=1 (one worker, one CPU), B = parsebound -j 1"
$AB -n "$RUNS" -- "GOMAXPROCS=1 $ours > $out/scan.json || true" "$B/parsebound $D"
echo "## A = parsebound -j 2 (the lower bound with default parallelism), B = parsebound -j 1"
$AB -n "$RUNS" -- "$B/parsebound -j 2 $D" "$B/parsebound $D"
if command -v certigo >/dev/null; then
  echo "## A = certigo dump --json, B = check --output json (default workers)"
  $AB -n "$RUNS" -- "certigo dump --json $D/*.pem > $out/certigo.json 2>&1" "$ours > $out/scan.json || true"
fi
echo "## peak RSS of check, text and json, as the number of files grows"
for n in $((N / 4)) $((N / 2)) "$N" $((N * 2)); do
  d=$(certs "$n")
  for o in json text prometheus; do
    /usr/bin/time -f "$n files --output $o: peak RSS %M KiB, %U s user %S s system" "$out/diapason-cert" check "$d" --output $o > /dev/null || true
  done
done 2>&1 | grep "peak RSS"
uptime
