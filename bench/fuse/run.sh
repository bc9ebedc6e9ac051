#!/usr/bin/env bash
# The FUSE mount against native ext4, side by side in one run, on the same trees: each tree is
# imported once into a local store, the native copy is `cairn export` of that digest, and the
# mount is `cairn mount` of the same digest (read-only, from the local store).
#
# Workloads (the goals are issue 5's):
#   build      make -j2 of a real C code base read from the tree: the Linux kernel from Debian's
#              linux-source-6.1 package, tinyconfig, out-of-tree (O= on native disk, so the mount
#              is only read), targets $BUILD_TARGETS (default "kernel/ mm/", ~130 compiles; the
#              whole tinyconfig vmlinux is ~490 compiles and ~8 min here)   goal <= 1.02x
#   cat        cat of 2,000 small files (the first 2,000 .c/.h files under 16 KiB of that tree,
#              in path order) after dropping the page cache, on a fresh mount   goal <= 2.5x
#   seqread    cat of one 1 GiB file of random bytes, page cache warm   goal <= 1.1x
#   stat       lstat(2) of the 2,000 small files x $STAT_ITERATIONS, entries cached
#              (bench/fuse/statloop.c: one process, no fork per file)   goal <= 1.5x
#   mount      `cairn mount` of a 100,000-file tree until `ls` of its root answers, vs `cairn
#              export` of the same tree into an empty directory   goal <= 100 ms. Two rows: with
#              the store's service running (the daemon of an earlier mount, within its
#              linger time: the mount is sent to it, no JVM starts), and cold (no service: the
#              mount starts one, as the first mount of a build does)
#
# Usage: bench/fuse/run.sh [WORKLOAD...]        (default: all five, in the order above)
# Environment:
#   RUNS (5) runs per command, BUILD_RUNS (3) for build; WORK (/var/tmp/cairn-fuse-bench): data,
#   store and results, kept between invocations so the trees are made and imported once (delete
#   it to start over); BUILD_TARGETS; STAT_ITERATIONS (50); NATIVE_ONLY=1 skips the mount side;
#   READS=passthrough mounts with --reads passthrough instead of the default kernel-cache reads.
#
# Needs root (drop_caches, mounting), gcc, make, flex, bison, bc, jq, cpio, python3, libelf-dev,
# libssl-dev and linux-source-6.1 (apt-get install -y linux-source-6.1 flex bison bc jq cpio
# libelf-dev libssl-dev), and a built ./cairn (CAIRN=path to use another build). Without `cairn mount` (or with NATIVE_ONLY=1) it
# runs the native half and says so. Results: a Markdown table on stdout and in
# $WORK/results/summary.md; the times of every run per workload (JSON) beside it. Native and
# mount runs alternate, so a change in load during the run falls on both sides.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CAIRN=${CAIRN:-$REPO/cairn}
WORK=${WORK:-/var/tmp/cairn-fuse-bench}
RUNS=${RUNS:-5}
BUILD_RUNS=${BUILD_RUNS:-3}
BUILD_TARGETS=${BUILD_TARGETS:-kernel/ mm/}
STAT_ITERATIONS=${STAT_ITERATIONS:-50}
KERNEL_TAR=${KERNEL_TAR:-/usr/src/linux-source-6.1.tar.xz}
export LC_ALL=C.UTF-8

STORE=$WORK/store
DATA=$WORK/data       # the trees as made (imported from here)
NATIVE=$WORK/native   # `cairn export` of each digest: the native side
MNT=$WORK/mnt         # mount points
RESULTS=$WORK/results
TRASH=$WORK/trash     # build outputs are moved here, not deleted (see set_aside)
BIN=$WORK/bin

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/fuse: $*"; exit 1; }
q() { printf '%q' "$1"; }

[[ $(id -u) == 0 ]] || die "needs root (drop_caches, mount)"
for tool in gcc make flex bison bc jq cpio python3; do
  command -v "$tool" >/dev/null || die "missing $tool: apt-get install -y gcc make flex bison bc jq cpio libelf-dev libssl-dev"
done
[[ -f $KERNEL_TAR ]] || die "missing $KERNEL_TAR: apt-get install -y linux-source-6.1"
[[ -x $CAIRN ]] || die "missing $CAIRN"

WORKLOADS=("$@")
[[ ${#WORKLOADS[@]} -gt 0 ]] || WORKLOADS=(build cat seqread stat mount)
for w in "${WORKLOADS[@]}"; do
  case $w in build|cat|seqread|stat|mount) ;; *) die "unknown workload '$w' (build cat seqread stat mount)";; esac
done

HAVE_MOUNT=0
# (An unknown subcommand with --help prints the top-level usage and succeeds: look at the text.)
if [[ ${NATIVE_ONLY:-0} != 1 ]] && "$CAIRN" mount --help 2>/dev/null | grep -q '^Usage: cairn mount'; then
  HAVE_MOUNT=1
fi

mkdir -p "$STORE" "$DATA" "$NATIVE" "$MNT" "$RESULTS" "$TRASH" "$BIN"
gcc -O2 -Wall -o "$BIN/statloop" "$REPO/bench/fuse/statloop.c"

# ------------------------------------------------------------------ the trees

# Makes $DATA/$1 with the function $2 unless it is there (marked complete by $DATA/$1.done).
make_tree() {
  local name=$1 fn=$2
  if [[ ! -f $DATA/$name.done ]]; then
    say "making tree $name ..."
    rm -rf "${DATA:?}/$name"
    mkdir -p "$DATA/$name"
    "$fn" "$DATA/$name"
    touch "$DATA/$name.done"
  fi
}

tree_linux() { tar -xJf "$KERNEL_TAR" -C "$1" --strip-components=1; }

tree_small() {
  local src=$DATA/linux
  (cd "$src" && find . -type f \( -name '*.c' -o -name '*.h' \) -size -16k -print | sort | head -n 2000 \
    | cpio -pdm --quiet "$1")
}

tree_big() { head -c $((1024 * 1024 * 1024)) /dev/urandom >"$1/1g.bin"; }

tree_many() {
  python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    path = os.path.join(root, "d%03d" % d)
    os.mkdir(path)
    for f in range(1000):
        with open(os.path.join(path, "f%04d.txt" % f), "w") as out:
            out.write("file %d/%d\n" % (d, f))
PY
}

# Imports $DATA/$1 (once) and exports the digest to $NATIVE/$1 (once); prints the digest.
digest_of() {
  local name=$1
  if [[ ! -f $WORK/$name.digest ]]; then
    say "importing $name ..."
    # CAIRN_SERVICE=off here and for every export: JVMs of their own, as before the store
    # service ran imports and exports, and no background service to host the mounts measured.
    CAIRN_SERVICE=off "$CAIRN" import --store "$STORE" --max-size 20G "$DATA/$name" >"$WORK/$name.digest.tmp"
    mv "$WORK/$name.digest.tmp" "$WORK/$name.digest"
  fi
  local digest
  digest=$(cat "$WORK/$name.digest")
  if [[ ! -f $NATIVE/$name.done ]]; then
    say "exporting $name for the native side ..."
    rm -rf "${NATIVE:?}/$name"
    CAIRN_SERVICE=off "$CAIRN" export --store "$STORE" "$digest" "$NATIVE/$name"
    touch "$NATIVE/$name.done"
  fi
  printf '%s' "$digest"
}

need_tree() {
  case $1 in
    linux) make_tree linux tree_linux ;;
    small) make_tree linux tree_linux; make_tree small tree_small ;;
    big) make_tree big tree_big ;;
    many) make_tree many tree_many ;;
  esac
  digest_of "$1"
}

# ------------------------------------------------------------------ mounts

# READS=passthrough mounts with --reads passthrough (default: the mount's own default mode).
mount_cmd() {
  printf '%s mount --store %s %s %s %s' "$(q "$CAIRN")" "$(q "$STORE")" \
    "${READS:+--reads $(q "$READS")}" "$(q "$1")" "$(q "$2")"
}
umount_cmd() { printf 'if mountpoint -q %s; then %s umount %s; fi' "$(q "$1")" "$(q "$CAIRN")" "$(q "$1")"; }
# Stops the store's service (the daemon that hosts mounts and lingers after the last one)
# and waits until it is gone, so that the next mount is a cold one. A pid that is not a cairn
# process (a stale file) is left alone.
stop_service_cmd() {
  printf 'f=%s; if [ -f "$f" ]; then p=$(sed -n "s/^pid=//p" "$f"); if [ -n "$p" ] && grep -qa cairn "/proc/$p/cmdline" 2>/dev/null && kill "$p"; then while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; fi; fi' \
    "$(q "$STORE/service")"
}

# Mounts digest $1 at $2 and waits (up to 60 s) until it answers.
mount_tree() {
  mkdir -p "$2"
  eval "$(umount_cmd "$2")"
  eval "$(mount_cmd "$1" "$2")"
  for _ in $(seq 600); do
    mountpoint -q "$2" && return 0
    sleep 0.1
  done
  die "mount of $1 at $2 did not appear within 60 s"
}

cleanup() {
  local m
  for m in "$MNT"/*; do
    [[ -d $m ]] && mountpoint -q "$m" && "$CAIRN" umount "$m" || true
  done
  sh -c "$(stop_service_cmd)" || true
}
trap cleanup EXIT

DROP_CACHES="sync; echo 3 > /proc/sys/vm/drop_caches"

# Moves $1 aside into $TRASH (emptied at the end): on this machine's ext4 (mounted with
# `discard`), deleting thousands of files slows the next thousands of creations for a while,
# which would measure the deletion, not the build.
set_aside() { printf 'if [ -e %s ]; then mv %s %s/$(date +%%s%%N); fi' "$(q "$1")" "$(q "$1")" "$(q "$TRASH")"; }

# ------------------------------------------------------------------ measuring

# Times the native command and, if mounts work, the mount command, alternating them run by run
# (native first in odd runs, mount first in even ones) so that a change in the machine's load
# (other people's work shares these cores) falls on both sides alike. Each timed command runs
# after its untimed prepare command, in sh. Writes $RESULTS/NAME.json ({results: [{command,
# times, median}]}, like hyperfine's export) and prints each time.
#   compare NAME RUNS WARMUP NATIVE_PREPARE NATIVE_CMD MOUNT_PREPARE MOUNT_CMD
compare() {
  local name=$1 runs=$2 warmup=$3 np=$4 nc=$5 mp=$6 mc=$7
  local sides=(native) i side t0 t1
  [[ $HAVE_MOUNT == 1 ]] && sides=(native mount)
  declare -A prep=([native]=$np [mount]=$mp) cmd=([native]=$nc [mount]=$mc) times=([native]= [mount]=)
  say "$name: $warmup warm-up and $runs timed runs per side, alternating"
  for ((i = 1; i <= warmup + runs; i++)); do
    local order=("${sides[@]}")
    if ((i % 2 == 0)) && [[ ${#sides[@]} == 2 ]]; then order=(mount native); fi
    for side in "${order[@]}"; do
      sh -c "${prep[$side]}" >&2 || die "$name: prepare of $side failed: ${prep[$side]}"
      t0=$(date +%s%N)
      sh -c "${cmd[$side]}" >&2 || die "$name: $side failed: ${cmd[$side]}"
      t1=$(date +%s%N)
      if ((i > warmup)); then
        times[$side]+="$(((t1 - t0) / 1000)) "
        say "  run $((i - warmup)) $side: $(((t1 - t0) / 1000000)) ms"
      fi
    done
  done
  python3 - "$RESULTS/$name.json" "${times[native]}" "${times[mount]}" <<'PY'
import json, statistics, sys
out, native, mount = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
results = []
for command, micros in (("native", native), ("mount", mount)):
    if micros:
        t = [int(m) / 1e6 for m in micros]
        results.append({"command": command, "times": t, "median": statistics.median(t),
                        "min": min(t), "max": max(t)})
json.dump({"results": results}, open(out, "w"), indent=1)
PY
}

# One row of the summary from $RESULTS/$1.json: medians, ratio mount/native, the goal.
row() {
  local name=$1 what=$2 goal=$3
  jq -r --arg name "$name" --arg what "$what" --arg goal "$goal" '
    (.results | map({key: .command, value: .}) | from_entries) as $r
    | ($r.native.median) as $n | ($r.mount.median // null) as $m
    | "| \($what) | \($n * 1000 | round / 1000) s | "
      + (if $m == null then "(no mount) | |" else "\($m * 1000 | round / 1000) s | \($m / $n * 100 | round / 100)x |" end)
      + " \($goal) |"' "$RESULTS/$name.json"
}

# A summary row for a command timed alone (the native side of compare): its median in the mount
# column, for rows with no native counterpart.
row_one() {
  local name=$1 what=$2 goal=$3
  jq -r --arg what "$what" --arg goal "$goal" '
    (.results[0].median) as $m | "| \($what) | | \($m * 1000 | round / 1000) s | | \($goal) |"' \
    "$RESULTS/$name.json"
}

SUMMARY=()

# ------------------------------------------------------------------ workloads

# Moves the build's own output directories (one per target in $BUILD_TARGETS) out of build
# directory $1, so the next make compiles them again and nothing else.
clear_targets() {
  local t cmd=true
  for t in $BUILD_TARGETS; do
    cmd="$cmd; $(set_aside "$1/${t%/}")"
  done
  printf '%s' "$cmd"
}

run_build() {
  local digest src_n=$NATIVE/linux src_m=$MNT/linux
  digest=$(need_tree linux)
  local out_n=$WORK/build-native out_m=$WORK/build-mount
  say "build: tinyconfig + prepare (not timed) ..."
  eval "$(set_aside "$out_n")"
  make -s -C "$src_n" O="$out_n" tinyconfig prepare >/dev/null 2>&1 || die "native kernel prepare failed"
  local mp=true mc=true
  if [[ $HAVE_MOUNT == 1 ]]; then
    mount_tree "$digest" "$src_m"
    eval "$(set_aside "$out_m")"
    make -s -C "$src_m" O="$out_m" tinyconfig prepare >/dev/null 2>&1 || die "kernel prepare on the mount failed"
    mp=$(clear_targets "$out_m")
    mc="make -s -C $(q "$src_m") O=$(q "$out_m") -j2 $BUILD_TARGETS >/dev/null"
  fi
  touch "$WORK/build-start"
  compare build "$BUILD_RUNS" 1 "$(clear_targets "$out_n")" \
    "make -s -C $(q "$src_n") O=$(q "$out_n") -j2 $BUILD_TARGETS >/dev/null" "$mp" "$mc"
  local compiled
  compiled=$(find "$out_n" -name '*.o' -newer "$WORK/build-start" | wc -l)
  SUMMARY+=("$(row build "make -j2 $BUILD_TARGETS of Linux 6.1 tinyconfig ($compiled objects)" "<= 1.02x")")
  [[ $HAVE_MOUNT == 1 ]] && eval "$(umount_cmd "$src_m")"
  return 0
}

run_cat() {
  local digest
  digest=$(need_tree small)
  local cmd='find . -type f -print0 | xargs -0 cat > /dev/null'
  local mp=true mc=true
  if [[ $HAVE_MOUNT == 1 ]]; then
    mkdir -p "$MNT/small"
    mp="$(umount_cmd "$MNT/small"); $DROP_CACHES; $(mount_cmd "$digest" "$MNT/small") && mountpoint -q $(q "$MNT/small")"
    mc="cd $(q "$MNT/small") && $cmd"
  fi
  compare cat "$RUNS" 0 "$DROP_CACHES" "cd $(q "$NATIVE/small") && $cmd" "$mp" "$mc"
  SUMMARY+=("$(row cat "cat of 2,000 small files, cold cache, fresh mount" "<= 2.5x")")
  [[ $HAVE_MOUNT == 1 ]] && eval "$(umount_cmd "$MNT/small")"
  return 0
}

run_seqread() {
  local digest
  digest=$(need_tree big)
  local mc=true
  if [[ $HAVE_MOUNT == 1 ]]; then
    mount_tree "$digest" "$MNT/big"
    mc="cat $(q "$MNT/big/1g.bin") > /dev/null"
  fi
  # The page cache must hold both files the same way before the warm runs: its folio size follows
  # how the pages came in (a file written or read in 4 KiB pieces is cached in 4 KiB folios and
  # read back 1.6x slower than one read ahead in large ones). So drop it and read each file once.
  eval "$DROP_CACHES"
  cat "$NATIVE/big/1g.bin" > /dev/null
  eval "$mc"
  compare seqread "$RUNS" 1 true "cat $(q "$NATIVE/big/1g.bin") > /dev/null" true "$mc"
  SUMMARY+=("$(row seqread "sequential read of 1 GiB, warm cache" "<= 1.1x")")
  [[ $HAVE_MOUNT == 1 ]] && eval "$(umount_cmd "$MNT/big")"
  return 0
}

run_stat() {
  local digest
  digest=$(need_tree small)
  (cd "$NATIVE/small" && find . -type f | sort) >"$WORK/small.list"
  local mc=true
  if [[ $HAVE_MOUNT == 1 ]]; then
    mount_tree "$digest" "$MNT/small"
    mc="cd $(q "$MNT/small") && $(q "$BIN/statloop") $(q "$WORK/small.list") $STAT_ITERATIONS"
  fi
  compare stat "$RUNS" 1 true \
    "cd $(q "$NATIVE/small") && $(q "$BIN/statloop") $(q "$WORK/small.list") $STAT_ITERATIONS" true "$mc"
  SUMMARY+=("$(row stat "lstat of 2,000 cached entries x $STAT_ITERATIONS" "<= 1.5x")")
  [[ $HAVE_MOUNT == 1 ]] && eval "$(umount_cmd "$MNT/small")"
  return 0
}

run_mount() {
  local digest
  digest=$(need_tree many)
  local out=$WORK/export-many
  # The native side of this row is `cairn export`, the mount side `cairn mount` + `ls`. After the
  # warm-up run, each mount is sent to the store service the first one started (it lingers once
  # the tree is unmounted in the next prepare).
  local mp=true mc=true
  if [[ $HAVE_MOUNT == 1 ]]; then
    mkdir -p "$MNT/many"
    mp="$(umount_cmd "$MNT/many")"
    mc="$(mount_cmd "$digest" "$MNT/many") && ls $(q "$MNT/many") > /dev/null"
  fi
  compare mount "$RUNS" 1 "$(set_aside "$out")" \
    "CAIRN_SERVICE=off $(q "$CAIRN") export --store $(q "$STORE") $(q "$digest") $(q "$out")" "$mp" "$mc"
  SUMMARY+=("$(row mount "100,000-file tree, store service running: cairn export (native column) vs cairn mount + ls" "<= 0.1 s")")
  if [[ $HAVE_MOUNT == 1 ]]; then
    # Cold: no service, so the mount starts the JVM that becomes one (the mount side only).
    HAVE_MOUNT=0 compare mount-cold "$RUNS" 0 "$mp; $(stop_service_cmd)" "$mc" true true
    SUMMARY+=("$(row_one mount-cold "100,000-file tree, no store service yet (cold): cairn mount + ls" "<= 0.1 s")")
  fi
  HAVE_MOUNT=0 compare jvm "$RUNS" 1 true "$(q "$CAIRN") stat --store $(q "$STORE") > /dev/null" true true
  SUMMARY+=("$(row jvm "fixed cost of any cairn command (cairn stat: JVM start, store open)" "")")
  [[ $HAVE_MOUNT == 1 ]] && eval "$(umount_cmd "$MNT/many")"
  sh -c "$(stop_service_cmd)"
  return 0
}

{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "file system under $WORK: $(findmnt -n -o FSTYPE,OPTIONS --target "$WORK")"
  cairn_dir=$(cd "$(dirname "$CAIRN")" && pwd)
  cairn_commit=$(git -C "$cairn_dir" rev-parse --short HEAD 2>/dev/null || echo "${CAIRN_COMMIT:-unknown}")
  echo "cairn: $CAIRN (commit $cairn_commit)  date: $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  [[ $HAVE_MOUNT == 1 ]] || echo "cairn mount is not available (or NATIVE_ONLY=1): native side only"
} | tee "$RESULTS/header.txt" >&2

for w in "${WORKLOADS[@]}"; do
  "run_$w"
done

{
  cat "$RESULTS/header.txt"
  echo
  echo "| workload | native (median) | mount (median) | mount/native | goal |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${SUMMARY[@]}"
} | tee "$RESULTS/summary.md"
rm -rf "${TRASH:?}"/*
