#!/usr/bin/env bash
# Remote Asset benchmark: 100 concurrent FetchBlob of the same 100 MiB URL against `cairn serve`.
#
#   - origin downloads: must be exactly 1 per URL (identical fetches are collapsed); counted in
#     the origin's (nginx) access log;
#   - total wall time until the 100th answer, compared with one `curl` of the same URL from the
#     same origin (the floor: what a client pays to download it once itself);
#   - one cold FetchBlob alone (download + SHA-256 + store), and 100 concurrent warm ones (answered
#     from the asset index).
#
# Usage: bench/asset/collapse.sh     (about 2 minutes with the build)
#   RUNS=3 SIZE_MIB=100 CLIENTS=100   the measured amounts (median of RUNS)
#   KEEP=1                            keep the work directory
#
# Needs nginx and curl (Debian), and a JDK 25 (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64).
# Everything listens on 127.0.0.1; the servers started here are stopped by PID on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"
RUNS="${RUNS:-3}"
SIZE_MIB="${SIZE_MIB:-100}"
CLIENTS="${CLIENTS:-100}"
KEEP="${KEEP:-0}"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
for tool in nginx curl; do command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nginx curl)"; done

work="$(mktemp -d /var/tmp/cairn-assetbench.XXXXXX)"
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  done
  [[ "$KEEP" == 1 ]] && say "work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

mkdir -p "$work/origin" "$work/nginx"
chmod 755 "$work" "$work/origin" # nginx's workers run as an unprivileged user
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$work/origin/big.bin"
chmod 644 "$work/origin/big.bin"
origin_port="$(free_port)"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  sendfile on;
  server { listen 127.0.0.1:$origin_port; root $work/origin; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

say "building cairn"
(cd "$repo" && ./cairn --help >/dev/null) || die "cannot build cairn"
jar="$repo/cairn-cli/target/cairn.jar"
grpc_port="$(free_port)"
http_port="$(free_port)"
"$repo/cairn" --store "$work/store" --max-size 20G serve --asset-allow-private \
  --grpc-listen "127.0.0.1:$grpc_port" --http-listen "127.0.0.1:$http_port" >"$work/cairn.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$origin_port/big.bin" -o /dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$origin_port/big.bin" -o /dev/null || die "origin not serving (see $work/nginx/error.log)"

# Warm the server's fetch path (HTTP client, hashing, store) on a small file first.
head -c $((1024 * 1024)) /dev/urandom >"$work/origin/warm.bin"; chmod 644 "$work/origin/warm.bin"
load=("$java" --enable-native-access=ALL-UNNAMED -cp "$jar" "$here/AssetLoad.java" --target "127.0.0.1:$grpc_port")
url() { echo "http://127.0.0.1:$origin_port/big.bin?run=$1"; }
origin_requests() { grep -c "GET /big.bin?run=$1 " "$work/nginx/access.log" || true; }

for i in 1 2 3; do "${load[@]}" --url "http://127.0.0.1:$origin_port/warm.bin?w=$i" --clients 1 --label warm-up >/dev/null; done
curl_ms=(); cold_ms=(); collapsed_ms=(); warm_ms=()
for run in $(seq "$RUNS"); do
  t="$(curl -s -o /dev/null -w '%{time_total}' "$(url "curl$run")")"
  curl_ms+=("$(awk -v t="$t" 'BEGIN {printf "%.1f", t * 1000}')")
  out="$("${load[@]}" --url "$(url "single$run")" --clients 1 --label single)"
  cold_ms+=("$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
  out="$("${load[@]}" --url "$(url "many$run")" --clients "$CLIENTS" --label collapsed)"
  collapsed_ms+=("$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
  n="$(origin_requests "many$run")"
  [[ "$n" == 1 ]] || die "run $run: $CLIENTS concurrent fetches caused $n origin downloads (expected 1)"
  out="$("${load[@]}" --url "$(url "many$run")" --clients "$CLIENTS" --label warm)"
  warm_ms+=("$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
  [[ "$(origin_requests "many$run")" == 1 ]] || die "run $run: warm fetches reached the origin"
  say "run $run: curl ${curl_ms[-1]} ms, 1 FetchBlob ${cold_ms[-1]} ms, $CLIENTS concurrent ${collapsed_ms[-1]} ms (origin downloads: 1), $CLIENTS warm ${warm_ms[-1]} ms"
done

m_curl="$(printf '%s\n' "${curl_ms[@]}" | median)"
m_cold="$(printf '%s\n' "${cold_ms[@]}" | median)"
m_coll="$(printf '%s\n' "${collapsed_ms[@]}" | median)"
m_warm="$(printf '%s\n' "${warm_ms[@]}" | median)"
cat <<SUMMARY
Remote Asset FetchBlob, ${SIZE_MIB} MiB file from nginx on loopback, median of $RUNS runs
  one curl of the URL                          ${m_curl} ms
  one FetchBlob (cold: download, hash, store)  ${m_cold} ms
  $CLIENTS concurrent FetchBlob, cold             ${m_coll} ms   origin downloads: 1 per run   ratio to curl: $(awk -v a="$m_coll" -v b="$m_curl" 'BEGIN {printf "%.2f", a / b}')
  $CLIENTS concurrent FetchBlob, warm (index)     ${m_warm} ms
SUMMARY
