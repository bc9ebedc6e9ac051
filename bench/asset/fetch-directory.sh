#!/usr/bin/env bash
# Remote Asset FetchDirectory of a large tar.gz vs `curl | tar xz` + `cairn import`.
#
# The archive is the JDK's own sources (lib/src.zip unpacked, ~15k files, ~210 MB), packed as a
# tar.gz with GNU tar and served by nginx on loopback (the "origin"). Each run starts empty:
#   (a) cairn serve --asset-allow-private on a fresh store, then time
#       `cairn fetch --remote grpc://... --archive URL` (the server downloads, unpacks straight
#       into its CAS, answers the root digest; the client only waits)
#   (b) time `curl -s URL | tar xz -C DIR && cairn import --store STORE DIR` (fresh DIR and STORE)
#   (c) time `cairn fetch --store STORE --allow-private --archive URL` (the same fetcher in the
#       client process, no server)
# and prints the median of RUNS runs of each, and a/b. Both digests are checked to be equal.
# Fresh stores and directories are made by moving the previous ones aside (see
# bench/import-vs-sha256sum.sh: deleting ~16k files here slows the next creations for a while).
#
# Usage: bench/asset/fetch-directory.sh    (RUNS=5 by default; SRC_ZIP to use another zip)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export LC_ALL=C.UTF-8
SRC_ZIP=${SRC_ZIP:-/usr/lib/jvm/temurin-25-jdk-amd64/lib/src.zip}
RUNS=${RUNS:-5}
CAIRN=$REPO/cairn

WORK=$(mktemp -d /tmp/cairn-asset-bench.XXXXXX)
NGINX_PID=""
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/src" "$WORK/origin" "$WORK/trash" "$WORK/nginx"
chmod 755 "$WORK" "$WORK/origin" # nginx workers run as an unprivileged user

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
set_aside() { if [ -e "$1" ]; then mv "$1" "$WORK/trash/$(date +%s%N)"; fi; sync; }

"$CAIRN" --version >/dev/null # builds the jar once, outside the timings
echo "unpacking $SRC_ZIP and packing it as tar.gz ..." >&2
unzip -q "$SRC_ZIP" -d "$WORK/src"
tar -czf "$WORK/origin/src.tar.gz" -C "$WORK/src" .
chmod 644 "$WORK/origin/src.tar.gz"
FILES=$(find "$WORK/src" -type f | wc -l)
BYTES=$(du -sb "$WORK/src" | cut -f1)
ARCHIVE_BYTES=$(stat -c %s "$WORK/origin/src.tar.gz")

ORIGIN_PORT=$(free_port)
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
  access_log off; sendfile on;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  server { listen 127.0.0.1:$ORIGIN_PORT; root $WORK/origin; }
}
CONF
nginx -c "$WORK/nginx/nginx.conf"
for _ in $(seq 50); do [ -s "$WORK/nginx/nginx.pid" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$WORK/nginx/nginx.pid")
URL=http://127.0.0.1:$ORIGIN_PORT/src.tar.gz
curl -sf -o /dev/null "$URL"

A=(); B=(); C=()
for run in $(seq "$RUNS"); do
  # (a) through a server
  STORE=$WORK/store-a
  set_aside "$STORE"
  GRPC=$(free_port); HTTP=$(free_port)
  "$CAIRN" serve --store "$STORE" --asset-allow-private --grpc-listen "127.0.0.1:$GRPC" \
    --http-listen "127.0.0.1:$HTTP" > "$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  ready=""
  for _ in $(seq 1200); do
    if curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ready" ]; then echo "cairn serve did not come up:" >&2; cat "$WORK/serve.log" >&2; exit 1; fi
  t0=$(now)
  DA=$("$CAIRN" fetch --remote "grpc://127.0.0.1:$GRPC" --archive "$URL")
  t1=$(now)
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  A+=("$(echo "$t1 - $t0" | bc -l)")

  # (b) curl | tar xz, then cairn import
  DIR=$WORK/extract; STORE=$WORK/store-b
  set_aside "$DIR"; set_aside "$STORE"; mkdir -p "$DIR"
  t0=$(now)
  curl -sf "$URL" | tar -xz -C "$DIR"
  DB=$("$CAIRN" import --store "$STORE" "$DIR")
  t1=$(now)
  B+=("$(echo "$t1 - $t0" | bc -l)")

  # (c) the fetcher in the client process
  STORE=$WORK/store-c
  set_aside "$STORE"
  t0=$(now)
  DC=$("$CAIRN" fetch --store "$STORE" --allow-private --archive "$URL")
  t1=$(now)
  C+=("$(echo "$t1 - $t0" | bc -l)")

  if [ "$DA" != "$DB" ] || [ "$DC" != "$DB" ]; then
    echo "digests differ: server fetch $DA, local fetch $DC, curl|tar+import $DB" >&2
    exit 1
  fi
  echo "run $run: server fetch ${A[-1]} s, curl|tar xz + import ${B[-1]} s, local fetch ${C[-1]} s ($DB)" >&2
done

MA=$(printf '%s\n' "${A[@]}" | median)
MB=$(printf '%s\n' "${B[@]}" | median)
MC=$(printf '%s\n' "${C[@]}" | median)
echo "archive: $FILES files, $BYTES bytes unpacked, tar.gz $ARCHIVE_BYTES bytes; $RUNS runs, medians:"
printf '  (a) cairn fetch --remote --archive (server-side FetchDirectory): %.2f s\n' "$MA"
printf '  (b) curl | tar xz + cairn import:                               %.2f s\n' "$MB"
printf '  (c) cairn fetch --archive, local store:                         %.2f s\n' "$MC"
printf '  a/b = %.2f, c/b = %.2f\n' "$(echo "$MA / $MB" | bc -l)" "$(echo "$MC / $MB" | bc -l)"
