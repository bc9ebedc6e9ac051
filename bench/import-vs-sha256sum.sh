#!/usr/bin/env bash
# Cairn import vs sha256sum on the JDK's own sources (lib/src.zip, tens of thousands of files).
#
# Measures, in one run, with the tree in the page cache:
#   (a) cairn import DIR into a fresh empty store   (hash + write every blob + Directory messages)
#   (b) cairn import --rehash DIR again into the warm store  (hash every file; nothing new to write)
#   (g) cairn import DIR again, unchanged: the digest cache (default) says no file needs reading
#   (h) cairn import DIR after touching 1% of its files (every 100th): those are read again
#   (c) find DIR -type f -print0 | xargs -0 -P2 sha256sum > /dev/null   (the bar: hash only)
#   (d) cairn import of an empty directory into the warm store  (fixed cost: JVM start, store open)
#   (e) cp -r DIR COPY into a fresh directory  (reference: what creating this many files costs here)
#   (f) the warm import repeated in one JVM (ImportMain --repeat 6; median of runs 2-6): the steady
#       state of a long-running process, with JVM start, store open and JIT warm-up taken out
# Rows a, b, g, h and d run with CAIRN_SERVICE=off: each import is a JVM of its own. Then, with the
# store service running (the one an import leaves behind, see README "The store service"), the
# launcher sends the command to it and no JVM starts:
#   (B) = (b), (G) = (g), (H) = (h) and (D) = (d), answered by the store service, each after
#       SVC_WARMUP (5) unmeasured runs (the service's JIT warms up over its first few commands)
# and prints medians and the ratios a/c, b/c, g/c, h/c, B/c, G/c and H/c (goal: <= 1.0), and a/e.
#
# A fresh store (or copy) per run is made by moving the previous one aside, not deleting it: on
# this machine's ext4 (mounted with `discard`), deleting ~16k files makes the next ~16k file
# creations up to 20x slower for a while, which would measure the deletion, not the import.
#
# Usage: bench/import-vs-sha256sum.sh            (RUNS=5 by default; SRC_ZIP to use another zip)
# Uses hyperfine when installed (apt-get install -y hyperfine), else `date +%s.%N`, median of RUNS.
# Until the `./cairn` launcher exists at the repository root, `cairn import` is
# dev.cairn.bench.ImportMain from bench/target/benchmarks.jar: the same MerkleTreeBuilder over
# DiskBlobStore.open(DiskStoreConfig.at(store)) that `cairn import` runs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export LC_ALL=C.UTF-8
JAVA=$JAVA_HOME/bin/java
SRC_ZIP=${SRC_ZIP:-/usr/lib/jvm/temurin-25-jdk-amd64/lib/src.zip}
RUNS=${RUNS:-5}
JAR=$REPO/bench/target/benchmarks.jar

WORK=$(mktemp -d /tmp/cairn-import-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DIR=$WORK/src
EMPTY=$WORK/empty
STORE_FRESH=$WORK/store-fresh
STORE_WARM=$WORK/store-warm
COPY=$WORK/copy
TRASH=$WORK/trash
mkdir -p "$DIR" "$EMPTY" "$TRASH"

q() { printf '%q' "$1"; }

if [ ! -f "$JAR" ]; then
  echo "building $JAR ..." >&2
  (cd "$REPO" && ./mvnw -B -q -o package -pl bench -am -DskipTests -DskipITs >&2)
fi
if [ -x "$REPO/cairn" ]; then
  IMPLEMENTATION="./cairn import --store STORE DIR"
  import_cmd() { printf 'CAIRN_SERVICE=off %s import --store %s %s %s' "$(q "$REPO/cairn")" "$(q "$1")" "${3:-}" "$(q "$2")"; }
  service_import_cmd() { printf '%s import --store %s %s %s' "$(q "$REPO/cairn")" "$(q "$1")" "${3:-}" "$(q "$2")"; }
else
  IMPLEMENTATION="java -cp bench/target/benchmarks.jar dev.cairn.bench.ImportMain STORE DIR (./cairn not on this branch yet)"
  import_cmd() { printf '%s -cp %s dev.cairn.bench.ImportMain %s %s' \
    "$(q "$JAVA")" "$(q "$JAR")" "$(q "$1")" "$(q "$2")"; }
fi
SHA_CMD="find $(q "$DIR") -type f -print0 | xargs -0 -P2 sha256sum > /dev/null"
# Moves $1 aside (deleted at exit with the rest of $WORK), so the next run starts empty.
set_aside() { printf 'if [ -e %s ]; then mv %s %s/$(date +%%s%%N); fi; sync' "$(q "$1")" "$(q "$1")" "$(q "$TRASH")"; }

echo "== extracting $SRC_ZIP"
if command -v unzip >/dev/null; then
  unzip -q "$SRC_ZIP" -d "$DIR"
else
  /usr/bin/python3 -m zipfile -e "$SRC_ZIP" "$DIR"
fi
FILES=$(find "$DIR" -type f | wc -l)
DIRS=$(find "$DIR" -type d | wc -l)
BYTES=$(find "$DIR" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

echo "== warming the page cache"
find "$DIR" -type f -print0 | xargs -0 cat > /dev/null
sync

echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:      $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "kernel:   $(uname -r); file system of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
echo "java:     $("$JAVA" -version 2>&1 | head -1)"
echo "git:      $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "tree:     $FILES files, $DIRS directories, $BYTES bytes"
echo "cairn:    $IMPLEMENTATION"
echo "runs:     $RUNS per command"

echo "== correctness: one import, then the same root again from the warm store"
ROOT1=$(bash -c "$(import_cmd "$STORE_WARM" "$DIR")")
ROOT2=$(bash -c "$(import_cmd "$STORE_WARM" "$DIR")")
ROOT3=$(bash -c "$(import_cmd "$STORE_WARM" "$DIR" --rehash)")
echo "root digest: $ROOT1"
[ "$ROOT1" = "$ROOT2" ] && [ "$ROOT1" = "$ROOT3" ] ||
  { echo "root digests differ: $ROOT1 vs $ROOT2 (cached) vs $ROOT3 (rehashed)" >&2; exit 1; }

# measure NAME PREPARE COMMAND -> writes $WORK/NAME.median (seconds); MEASURE_WARMUP unmeasured
# runs first (default 1)
if command -v hyperfine >/dev/null; then
  TIMER="hyperfine $(hyperfine --version | cut -d' ' -f2)"
  measure_once() {
    local name=$1 prepare=$2 cmd=$3
    local args=(--runs "$RUNS" --warmup "${MEASURE_WARMUP:-1}" --style basic --export-json "$WORK/$name.json" -n "$name")
    if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); fi
    hyperfine "${args[@]}" "$cmd"
    /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
      "$WORK/$name.json" > "$WORK/$name.median"
  }
else
  TIMER="date +%s.%N, median of $RUNS"
  measure_once() {
    local name=$1 prepare=$2 cmd=$3 times=() i t0 t1
    [ -z "$prepare" ] || bash -c "$prepare"
    for ((i = 0; i < ${MEASURE_WARMUP:-1}; i++)); do bash -c "$cmd" > /dev/null; done   # warm-up
    for ((i = 0; i < RUNS; i++)); do
      [ -z "$prepare" ] || bash -c "$prepare"
      t0=$(date +%s.%N)
      bash -c "$cmd" > /dev/null
      t1=$(date +%s.%N)
      times+=("$(echo "$t1 - $t0" | bc -l)")
      echo "  $name run $((i + 1)): ${times[-1]} s"
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {
      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }' \
      > "$WORK/$name.median"
  }
fi
measure() { measure_once "$@"; }
echo "== timing with $TIMER"

echo "load average before: $(cat /proc/loadavg)"
measure fresh "$(set_aside "$STORE_FRESH")" "$(import_cmd "$STORE_FRESH" "$DIR")"
measure warm "" "$(import_cmd "$STORE_WARM" "$DIR" --rehash)"
measure cached "" "$(import_cmd "$STORE_WARM" "$DIR")"
find "$DIR" -type f | sort | awk 'NR % 100 == 0' > "$WORK/touched"
measure touched "xargs -d '\n' touch < $(q "$WORK/touched")" "$(import_cmd "$STORE_WARM" "$DIR")"
measure sha256sum "" "$SHA_CMD"
measure fixed-cost "" "$(import_cmd "$STORE_WARM" "$EMPTY")"
measure cp "$(set_aside "$COPY")" "cp -r $(q "$DIR") $(q "$COPY")"
if declare -F service_import_cmd >/dev/null; then
  echo "== with the store service: one import leaves it running (lingering 10 min), then the same rows"
  export CAIRN_SERVICE_LINGER=10m
  bash -c "$(service_import_cmd "$STORE_WARM" "$DIR")" > /dev/null
  for _ in $(seq 1 600); do
    SERVICE_PID=$(sed -n 's/^pid=//p' "$STORE_WARM/service" 2>/dev/null || true)
    [ -n "$SERVICE_PID" ] && break
    sleep 0.1
  done
  [ -n "$SERVICE_PID" ] || { echo "no store service started for $STORE_WARM" >&2; exit 1; }
  trap 'kill "$SERVICE_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  echo "store service: pid $SERVICE_PID"
  ROOT4=$(bash -c "$(service_import_cmd "$STORE_WARM" "$DIR")")
  [ "$ROOT4" = "$ROOT1" ] || { echo "the service's root $ROOT4 differs from $ROOT1" >&2; exit 1; }
  # The service's JIT compiles the import's hot paths over its first few commands (a --rehash
  # takes 0.6 s, 0.44, 0.33, then 0.25-0.27 s from the sixth on): what a build that imports
  # step after step sees. So the service rows get SVC_WARMUP (5) unmeasured runs first.
  measure() { MEASURE_WARMUP=${SVC_WARMUP:-5} measure_once "$@"; }
  measure svc-warm "" "$(service_import_cmd "$STORE_WARM" "$DIR" --rehash)"
  measure svc-cached "" "$(service_import_cmd "$STORE_WARM" "$DIR")"
  measure svc-touched "xargs -d '\n' touch < $(q "$WORK/touched")" "$(service_import_cmd "$STORE_WARM" "$DIR")"
  measure svc-fixed-cost "" "$(service_import_cmd "$STORE_WARM" "$EMPTY")"
  grep -c "store service: 'cairn import" "${XDG_STATE_HOME:-$HOME/.local/state}/cairn/service.log" \
    > /dev/null || { echo "the service log shows no import it ran" >&2; exit 1; }
  kill "$SERVICE_PID"
fi
"$JAVA" -cp "$JAR" dev.cairn.bench.ImportMain --repeat 6 "$STORE_WARM" "$DIR" 2> "$WORK/repeat.txt" > /dev/null
grep '^import' "$WORK/repeat.txt" | sed 's/^/  in one JVM: /'
grep '^import' "$WORK/repeat.txt" | tail -n +2 | awk '{print $3 / 1000}' | sort -g \
  | awk '{a[NR] = $1} END {print a[(NR + 1) / 2]}' > "$WORK/steady.median"
echo "load average after: $(cat /proc/loadavg)"

A=$(cat "$WORK/fresh.median")
B=$(cat "$WORK/warm.median")
C=$(cat "$WORK/sha256sum.median")
D=$(cat "$WORK/fixed-cost.median")
E=$(cat "$WORK/cp.median")
F=$(cat "$WORK/steady.median")
G=$(cat "$WORK/cached.median")
H=$(cat "$WORK/touched.median")
TOUCHED=$(wc -l < "$WORK/touched")
median_or_nan() { if [ -f "$WORK/$1.median" ]; then cat "$WORK/$1.median"; else echo nan; fi; }
SB=$(median_or_nan svc-warm)
SG=$(median_or_nan svc-cached)
SH=$(median_or_nan svc-touched)
SD=$(median_or_nan svc-fixed-cost)
echo
echo "== medians ($RUNS runs each, $FILES files, $BYTES bytes, $(nproc) cores)"
awk -v a="$A" -v b="$B" -v c="$C" -v d="$D" -v e="$E" -v f="$F" -v g="$G" -v h="$H" -v t="$TOUCHED" -v bytes="$BYTES" \
  -v sb="$SB" -v sg="$SG" -v sh="$SH" -v sd="$SD" 'BEGIN {
  printf "(a) cairn import, fresh store:      %7.3f s  %6.0f MB/s   ratio a/c = %.2f %s\n", a, bytes / a / 1e6, a / c, (a / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
  printf "(b) cairn import --rehash, warm:    %7.3f s  %6.0f MB/s   ratio b/c = %.2f %s\n", b, bytes / b / 1e6, b / c, (b / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
  printf "(g) cairn import, unchanged tree:   %7.3f s                ratio g/c = %.2f %s\n", g, g / c, (g / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
  printf "(h) cairn import, %d files touched: %7.3f s                ratio h/c = %.2f %s\n", t, h, h / c, (h / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
  printf "(c) find | xargs -P2 sha256sum:     %7.3f s  %6.0f MB/s\n", c, bytes / c / 1e6
  printf "(d) cairn import of an empty dir:   %7.3f s  (JVM start + store open + close; part of a and b)\n", d
  printf "(e) cp -r of the tree:              %7.3f s  (reference for file creation)   ratio a/e = %.2f\n", e, a / e
  if (sb != "nan") {
    printf "with the store service running (no JVM start per import):\n"
    printf "(B) cairn import --rehash, warm:    %7.3f s  %6.0f MB/s   ratio B/c = %.2f %s\n", sb, bytes / sb / 1e6, sb / c, (sb / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
    printf "(G) cairn import, unchanged tree:   %7.3f s                ratio G/c = %.2f %s\n", sg, sg / c, (sg / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
    printf "(H) cairn import, %d files touched: %7.3f s                ratio H/c = %.2f %s\n", t, sh, sh / c, (sh / c <= 1.0 ? "(goal met)" : "(goal <= 1.0 MISSED)")
    printf "(D) cairn import of an empty dir:   %7.3f s  (launcher + request round trip)\n", sd
  }
  printf "(f) warm import, steady state:      %7.3f s  %6.0f MB/s   ratio f/c = %.2f (one JVM, runs 2-6 of 6)\n", f, bytes / f / 1e6, f / c
}'
