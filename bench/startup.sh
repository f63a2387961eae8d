#!/usr/bin/env bash
# Start-up of `diapason-cert --version` against `certigo --version`, paired runs (method of
# ../shared/bench/05-startup.sh), and the median init time of every package (GODEBUG=inittrace=1).
# Usage: N=60 bench/startup.sh   (certigo: see ../shared/bench/README.md; skipped when absent)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-60}
out=/tmp/diapason-bench; mkdir -p "$out"
# The shipped binary: static, without urfave/cli's markdown/man generator (and its blackfriday init).
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "-s -w" -o "$out/diapason-cert" .
go build -trimpath -o "$out/diapason-cert-default" .
bench=../shared/bench
[ -x /tmp/certbench/bin/abbench ] || "$bench/build.sh" >/dev/null
AB=/tmp/certbench/bin/abbench
export PATH=$PATH:/tmp/peers/bin
if command -v certigo >/dev/null; then
  echo "## A = diapason-cert --version (release build), B = certigo --version"
  $AB -n "$N" -w 3 -- "$out/diapason-cert --version" "certigo --version"
  echo "## A = diapason-cert --version (plain go build), B = certigo --version"
  $AB -n "$N" -w 3 -- "$out/diapason-cert-default --version" "certigo --version"
fi
echo "## A = diapason-cert --version (release build), B = Go hello world"
$AB -n "$N" -w 3 -- "$out/diapason-cert --version" /tmp/certbench/bin/hello
echo "## package inits, median over 31 runs (ms), release build, those >= 0.04 ms"
for i in $(seq 1 31); do GODEBUG=inittrace=1 "$out/diapason-cert" --version 2>&1 >/dev/null | awk '/^init/ {print $2, $5}'; done |
  sort -k1,1 -k2,2n |
  awk '{a[$1]=a[$1]" "$2; c[$1]++} END {for (k in a) {split(a[k], v, " "); m=v[int((c[k]+1)/2)]; if (m>=0.04) printf "%-50s median %.3f max %.3f\n", k, m, v[c[k]]}}' |
  sort -k3 -n -r
