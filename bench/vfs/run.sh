#!/usr/bin/env bash
# Benchmarks of the Directory API (cairn-vfs) against a real DiskBlobStore. See the section
# "Directory API (cairn-vfs)" in docs/PERFORMANCE.md for results.
#
#   bench/vfs/run.sh [runs] [import-runs]     (defaults: 11 and 5)
#   ONLY=3b bench/vfs/run.sh ...              only the fresh-JVM import comparison (3b)
#
# Needs the shaded jar: ./mvnw -o -B -q -DskipTests -pl cairn-cli -am package
# All scratch data lives under /var/tmp/vfsbench.* and is deleted on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"
jar="$root/cairn-cli/target/cairn.jar"
runs="${1:-11}"
import_runs="${2:-5}"
[[ -f "$jar" ]] || { echo "build first: ./mvnw -o -B -q -DskipTests -pl cairn-cli -am package" >&2; exit 1; }

work="$(mktemp -d /var/tmp/vfsbench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "java: $("$java" -version 2>&1 | head -1)"
echo "commit: $(git -C "$root" rev-parse --short HEAD)  date: $(date -u +%FT%TZ)"
echo "uptime: $(uptime)"
echo

only="${ONLY:-}"
# 1 and 2: CasDirectory copy+snapshot, OverlayDirectory write+snapshot.
if [[ -z "$only" ]]; then
  "$java" -cp "$jar" bench/vfs/VfsBench.java tree "$work/tree" "$runs"
  echo
fi

# 3: import of a real source tree (the JDK's src.zip), in-process and through the launcher.
src="$work/src"
mkdir -p "$src"
unzip -q "$JAVA_HOME/lib/src.zip" -d "$src"
echo "source tree: $(find "$src" -type f | wc -l) files, $(du -sh "$src" | cut -f1) (page-cached after extraction)"
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
if [[ -z "$only" ]]; then
"$java" -cp "$jar" bench/vfs/VfsBench.java import "$src" "$work/import" "$import_runs"
echo

echo "== 3. ./cairn --store S import DIR (launcher, wall time incl. JVM start) =="
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
./cairn --store "$work/cli-warmup" import "$src" >/dev/null # builds the AOT cache if missing
rm -rf "$work/cli-warmup"
./cairn --store "$work/cli-warmup" import "$src" >/dev/null
rm -rf "$work/cli-warmup"
fresh=()
for ((i = 0; i < import_runs; i++)); do
  t0=$(now_ms)
  ./cairn --store "$work/cli-$i" import "$src" >/dev/null
  fresh+=($(($(now_ms) - t0)))
  rm -rf "$work/cli-$i"
done
echo "fresh store: median $(printf '%s\n' "${fresh[@]}" | median) ms (runs: ${fresh[*]})"
./cairn --store "$work/cli-warm" import "$src" >/dev/null
./cairn --store "$work/cli-warm" import "$src" >/dev/null
warm=()
for ((i = 0; i < import_runs; i++)); do
  t0=$(now_ms)
  ./cairn --store "$work/cli-warm" import "$src" >/dev/null
  warm+=($(($(now_ms) - t0)))
done
echo "warm store:  median $(printf '%s\n' "${warm[@]}" | median) ms (runs: ${warm[*]})"
t0=$(now_ms)
./cairn --version >/dev/null
echo "(launcher + JVM start alone, cairn --version: $(($(now_ms) - t0)) ms)"
echo
else
  ./cairn --store "$work/cli-warm" import "$src" >/dev/null # the warm store 3b reads
fi

# 3b: like for like: one fresh JVM per import (same flags, no AOT cache for either), warm store,
# alternating: what `cairn import` runs (MerkleTreeBuilder) vs the Directory API
# (OsDirectory.open(DIR, store).snapshot()). Both must give the same root digest.
bench_jar="$root/bench/target/benchmarks.jar"
if [[ -f "$bench_jar" ]]; then
  echo "== 3b. fresh JVM per import, warm store: MerkleTreeBuilder (cairn import) vs OsDirectory =="
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  one() { "$java" -XX:+UseSerialGC -cp "$bench_jar" dev.cairn.bench.ImportMain "$@" "$work/cli-warm" "$src" 2>/dev/null; }
  root_builder="$(one)"
  root_os="$(one --os-directory)"
  [[ "$root_builder" == "$root_os" ]] || { echo "different roots: $root_builder vs $root_os" >&2; exit 1; }
  echo "same root: $root_builder"
  builder=()
  osdir=()
  for ((i = 0; i < import_runs; i++)); do
    t0=$(now_ms); one >/dev/null; builder+=($(($(now_ms) - t0)))
    t0=$(now_ms); one --os-directory >/dev/null; osdir+=($(($(now_ms) - t0)))
  done
  # Fresh stores: a new directory per run, all deleted at exit only (deleting ~16k files makes
  # the next ~16k creations much slower on this ext4 mounted with discard).
  fresh_one() { "$java" -XX:+UseSerialGC -cp "$bench_jar" dev.cairn.bench.ImportMain "$@" "$src" 2>/dev/null; }
  fresh_b=()
  fresh_o=()
  for ((i = 0; i < import_runs; i++)); do
    t0=$(now_ms); fresh_one "$work/fresh-b-$i" >/dev/null; fresh_b+=($(($(now_ms) - t0)))
    t0=$(now_ms); fresh_one --os-directory "$work/fresh-o-$i" >/dev/null; fresh_o+=($(($(now_ms) - t0)))
  done
  b="$(printf '%s\n' "${builder[@]}" | median)"
  o="$(printf '%s\n' "${osdir[@]}" | median)"
  echo "MerkleTreeBuilder: median $b ms (runs: ${builder[*]})"
  echo "OsDirectory:       median $o ms (runs: ${osdir[*]})"
  echo "OsDirectory / MerkleTreeBuilder: $(awk -v o="$o" -v b="$b" 'BEGIN {printf "%.2f", o / b}') (warm store)"
  fb="$(printf '%s\n' "${fresh_b[@]}" | median)"
  fo="$(printf '%s\n' "${fresh_o[@]}" | median)"
  echo "fresh store, MerkleTreeBuilder: median $fb ms (runs: ${fresh_b[*]})"
  echo "fresh store, OsDirectory:       median $fo ms (runs: ${fresh_o[*]})"
  echo "OsDirectory / MerkleTreeBuilder: $(awk -v o="$fo" -v b="$fb" 'BEGIN {printf "%.2f", o / b}') (fresh store)"
else
  echo "(3b skipped: build bench/target/benchmarks.jar with ./mvnw -o -B -q -DskipTests -DskipITs -pl bench -am package)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "uptime: $(uptime)"
