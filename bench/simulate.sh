#!/usr/bin/env bash
# `simulate gap` (server) and `simulate tpe` (terminal fleet) against the reference programs of
# ../shared/bench (method of 02-handshake.sh): full mutual-TLS 1.2 handshakes on 127.0.0.1 with
# its RSA-2048 PKI, the server pinned to CPU 0 (GOMAXPROCS=1), the load to CPU 1, every config
# once per round (R rounds), so that ratios are paired; medians are printed.
# Server side, same load for the two servers compared:
#   S1 openssl s_server (0xC028)            <- P x openssl s_time -new (0xC028)
#   S2 Go crypto/tls tlsserver (0xC027)     <- P x openssl s_time -new (0xC027)
#   S3 simulate gap (0xC028)                <- P x openssl s_time -new (0xC028)
#   S4 Go crypto/tls tlsserver (0xC027)     <- Go tlsload -c C
#   S5 simulate gap (0xC027, what tlsload speaks)  <- Go tlsload -c C
#   S6 openssl s_server (0xC027)            <- Go tlsload -c C
#   S7 simulate gap (0xC028)                <- simulate tpe --concurrency 256 (failures counted)
# Client side:
#   C1 Go tlsload -c C                      -> Go tlsserver (client CPU per handshake)
#   C2 simulate tpe --concurrency C         -> Go tlsserver (0xC027, the server's only suite)
#   C3 1 x openssl s_time -new              -> openssl s_server (0xC028): how busy it keeps it
#   C4 simulate tpe --concurrency C         -> openssl s_server (0xC028)
# simulate gap checks every terminal certificate as Diapason asks (chain, profile, revocation
# against a CRL of the bench intermediate made here) and logs a line per connection to a file.
# Env: T=10 (seconds per run) R=3 (rounds) P=4 (s_time processes) C=8 (client concurrency).
# Every server is started here and stopped here by its PID. Output: /tmp/diapason-bench-simulate.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${T:-10}; R=${R:-3}; P=${P:-4}; C=${C:-8}
SB=$(cd ../shared/bench && pwd)
K=/tmp/certbench/pki; B=/tmp/certbench/bin; O=/tmp/diapason-bench-simulate
[ -f $K/root.pem ] || "$SB/mkpki.sh" >/dev/null
[ -x $B/tlsserver ] || "$SB/build.sh" >/dev/null
rm -rf $O; mkdir -p $O/ca
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "-s -w" -o $O/diapason-cert .
D=$O/diapason-cert
# A CRL of the intermediate that issued the client certificate, so that revocation is checked.
touch $O/ca/index.txt; echo 01 > $O/ca/crlnumber
printf '[ca]\ndefault_ca=b\n[b]\ndatabase=%s\ncrlnumber=%s\ndefault_md=sha256\ndefault_crl_days=7\n' $O/ca/index.txt $O/ca/crlnumber > $O/ca/ca.cnf
openssl ca -config $O/ca/ca.cnf -gencrl -keyfile $K/inter.key -cert $K/inter.pem -out $O/inter.crl.pem 2>/dev/null
TCK=$(getconf CLK_TCK); SRV=""; PORT=44430
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; true' EXIT
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
now() { date +%s.%N; }
waitport() { for _ in $(seq 100); do ss -ltn | grep -q "127.0.0.1:$PORT " && return; sleep 0.1; done; echo "server on $PORT did not start" >&2; exit 1; }
ossl_srv() { # cipher
  PORT=$((PORT+1))
  taskset -c 0 openssl s_server -accept 127.0.0.1:$PORT -tls1_2 -cipher "$1" -Verify 2 -verify_return_error \
    -CAfile $K/root.pem -cert $K/server.pem -key $K/server.key -cert_chain $K/inter.pem -www -verify_quiet -quiet > $O/srv.$PORT.log 2>&1 &
  SRV=$!; waitport; }
go_srv() {
  PORT=$((PORT+1))
  GOMAXPROCS=1 taskset -c 0 $B/tlsserver -addr 127.0.0.1:$PORT > $O/srv.$PORT.log 2>&1 &
  SRV=$!; waitport; }
sim_srv() {
  PORT=$((PORT+1))
  GOMAXPROCS=1 taskset -c 0 $D simulate gap --listen 127.0.0.1:$PORT --cert $K/server-chain.pem --key $K/server.key \
    --client-ca $K/root.pem --crl $O/inter.crl.pem --max-connections 1024 > $O/srv.$PORT.log 2> $O/srv.$PORT.err &
  SRV=$!; waitport; }
stop() { kill -TERM $SRV; wait $SRV 2>/dev/null || true; SRV=""; }
stime() { # cipher nproc tag
  local i pids=(); for i in $(seq $2); do
    taskset -c 1 /usr/bin/time -f "%U %S" -o $O/$3.cpu.$i openssl s_time -new -connect 127.0.0.1:$PORT \
      -cert $K/client.pem -key $K/client.key -CAfile $K/ca-chain.pem -cipher "$1" -time $T > $O/$3.out.$i 2>&1 &
    pids+=($!)
  done; wait "${pids[@]}"; }
gload() { GOMAXPROCS=1 taskset -c 1 $B/tlsload -addr 127.0.0.1:$PORT -c $C -d ${T}s > $O/$1.out.1 2>&1; }
fleet() { # tag concurrency
  GOMAXPROCS=1 taskset -c 1 /usr/bin/time -f "%U %S" -o $O/$1.cpu.1 $D simulate tpe 127.0.0.1:$PORT --count 100000000 \
    --concurrency $2 --duration ${T}s --timeout 30s --fqdn localhost --ca $K/root.pem --cert $K/client-chain.pem --key $K/client.key \
    --output json > $O/$1.out.1 2> $O/$1.err.1 || true; }
measure() { # tag loadfn args...  -> tag hs failed wall rate server_util server_ms/hs client_ms/hs
  local tag=$1; shift; local t0 c0 t1 c1 n f cc
  t0=$(now); c0=$(ticks $SRV); "$@"; t1=$(now); c1=$(ticks $SRV)
  case $1 in
  gload) n=$(sed -n 's/.*handshakes=\([0-9]*\).*/\1/p' $O/$tag.out.1); f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' $O/$tag.out.1)
         cc=$(sed -n 's/.* cpu=\([0-9.]*\)s.*/\1/p' $O/$tag.out.1) ;;
  fleet) n=$(sed -n 's/^  "succeeded": \([0-9]*\).*/\1/p' $O/$tag.out.1); f=$(sed -n 's/^  "failed": \([0-9]*\).*/\1/p' $O/$tag.out.1)
         cc=$(awk '{print $1+$2}' $O/$tag.cpu.1) ;;
  *)     n=$(cat $O/$tag.out.* | awk '/connections in .*real seconds/{s+=$1} END{print s+0}'); f=0
         cc=$(cat $O/$tag.cpu.* | awk '{s+=$1+$2} END{print s}') ;;
  esac
  awk -v tag=$tag -v n=$n -v f=${f:-0} -v w=$(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}') -v sc=$(( c1 - c0 )) -v tck=$TCK -v cc=$cc 'BEGIN{
    printf "%-3s hs=%d failed=%d wall=%.2fs rate=%.1f/s server_util=%.2f server_ms/hs=%.3f client_ms/hs=%.3f\n",
      tag, n, f, w, n/w, sc/tck/w, (n ? 1000*sc/tck/n : 0), (n ? 1000*cc/n : 0)}'
}
A256=ECDHE-RSA-AES256-SHA384; A128=ECDHE-RSA-AES128-SHA256
echo "# load before: $(uptime)"
# Preflight: the simulated server accepts s_time's and tlsload's client certificate.
sim_srv
taskset -c 1 openssl s_time -new -connect 127.0.0.1:$PORT -cert $K/client.pem -key $K/client.key -CAfile $K/ca-chain.pem -cipher $A256 -time 1 > $O/pre.out 2>&1
$B/tlsload -addr 127.0.0.1:$PORT -c 2 -n 20 > $O/pre2.out; stop
echo "preflight: s_time connections=$(awk '/real seconds/{print $1}' $O/pre.out); tlsload: $(cat $O/pre2.out | cut -c1-60); server log: $(grep -c ' OK 0xC02' $O/srv.$PORT.log) OK lines, $(grep -vc ' OK \|^listening\|^stopped' $O/srv.$PORT.log) others"
for r in $(seq $R); do
  echo "# round $r"
  ossl_srv $A256;          measure S1 stime $A256 $P S1; stop
  go_srv;                  measure S2 stime $A128 $P S2; stop
  sim_srv;                 measure S3 stime $A256 $P S3; stop
  go_srv;                  measure S4 gload S4; stop
  sim_srv;                 measure S5 gload S5; stop
  ossl_srv "$A256:$A128";  measure S6 gload S6; stop
  sim_srv;                 measure S7 fleet S7 256; stop
  go_srv;                  measure C1 gload C1; stop
  go_srv;                  measure C2 fleet C2 $C; stop
  ossl_srv $A256;          measure C3 stime $A256 1 C3; stop
  ossl_srv $A256;          measure C4 fleet C4 $C; stop
done | tee $O/rounds.txt
echo "# load after: $(uptime)"
awk 'function med(a,n,  i,j,t){for(i=1;i<=n;i++)for(j=i+1;j<=n;j++)if(a[j]<a[i]){t=a[i];a[i]=a[j];a[j]=t}
       return n%2?a[(n+1)/2]:(a[n/2]+a[n/2+1])/2}
  /^[SC][0-9] /{t=$1; k[t]++; i=k[t]; for(f=2;f<=NF;f++){split($f,a,"="); v[a[1]]=a[2]+0}
    R[t,i]=v["rate"]; U[t,i]=v["server_util"]; S[t,i]=v["server_ms/hs"]; Cl[t,i]=v["client_ms/hs"]; F[t,i]=v["failed"]}
  END{split("S1 S2 S3 S4 S5 S6 S7 C1 C2 C3 C4",T," ")
    for(j=1;j<=11;j++){t=T[j]; n=k[t]; fs=0; for(i=1;i<=n;i++){r[i]=R[t,i];u[i]=U[t,i];s[i]=S[t,i];c[i]=Cl[t,i];fs+=F[t,i]}
      printf "%s median of %d: rate %.0f/s server_util %.2f server_ms/hs %.3f client_ms/hs %.3f failed(total) %d\n", t, n, med(r,n), med(u,n), med(s,n), med(c,n), fs}
    n=k["C4"]
    for(i=1;i<=n;i++){a[i]=S["S3",i]/S["S2",i]; b[i]=S["S5",i]/S["S4",i]; c1[i]=R["S3",i]/R["S1",i]; d[i]=R["S5",i]/R["S6",i]
      e[i]=Cl["C2",i]/Cl["C1",i]; g[i]=U["C4",i]/U["C3",i]; h[i]=R["C4",i]/R["C3",i]; x[i]=S["C4",i]/S["C3",i]}
    printf "paired medians (issue 10 targets):\n"
    printf "  server CPU per handshake, simulate gap 0xC028 / Go crypto/tls 0xC027, s_time load (S3/S2): %.3f (<= 1.1)\n", med(a,n)
    printf "  server CPU per handshake, simulate gap / Go crypto/tls, both 0xC027, tlsload (S5/S4):       %.3f (<= 1.1)\n", med(b,n)
    printf "  throughput, simulate gap / openssl s_server, s_time load (S3/S1):                            %.2f (>= 1.5)\n", med(c1,n)
    printf "  throughput, simulate gap / openssl s_server, tlsload (S5/S6):                                %.2f (>= 1.5)\n", med(d,n)
    printf "  client CPU per handshake, simulate tpe / Go tlsload (C2/C1):                                 %.3f (<= 1.1)\n", med(e,n)
    printf "  openssl s_server busy (its CPU / wall), simulate tpe / 1 x s_time -new (C4/C3):              %.2f (>= 1)\n", med(g,n)
    printf "    of which: handshakes/s it completes %.2f x, its CPU per handshake %.2f x\n", med(h,n), med(x,n)
  }' $O/rounds.txt
