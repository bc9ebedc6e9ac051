#!/usr/bin/env bash
# Side-by-side server benchmarks for `cairn serve`, in one run, with medians and ratios:
#
#   1. HTTP GET /cas/<sha256> of 4 KiB blobs (wrk -t2 -c64 -d10s, rotating over 1000 hashes):
#      Cairn's HTTP cache vs nginx serving the same files from disk. Goal: Cairn >= nginx.
#   2. gRPC BatchUpdateBlobs / BatchReadBlobs of 4 KiB blobs (100 per batch, 4 streams), blobs/s:
#      Cairn vs BuildStream 1.6's reference CAS server (bench/server/bst_casserver.py).
#   3. ByteStream Write and Read of a 1 GiB blob, GB/s, Cairn vs BuildStream; Java's SHA-256 rate
#      over 1 GiB in the same run. Goal: Cairn's upload >= 0.7 x Java's SHA-256 rate.
#   4. FindMissingBlobs of 100,000 digests (half present) against Cairn: server time (from its
#      /metrics timer) and client-observed round trip, median of 7 after FM_WARMUP (40) warm-up
#      calls (a long-running server's steady state: the JIT keeps improving the path for about
#      30 calls; the first call is reported too). Goal: server time <= 50 ms.
#   5. Bazel 4.2.3 clean rebuild, all remote cache hits, 50 genrules (small and 1 MiB outputs):
#      gRPC against Cairn vs HTTP against nginx (and HTTP against Cairn), median wall time of 3.
#
# Usage: bench/server/run.sh            (about 10-13 minutes on 2 cores)
#   RUNS=3 WRK_SECONDS=10 BATCH_SECONDS=5 BS_BYTES=1G   the measured amounts
#   ONLY="http grpc bytestream findmissing bazel"         a subset of the phases
#   FM_WARMUP=40   unmeasured FindMissingBlobs calls before the measured ones
#   PROFILE=1      also record a JFR profile of Cairn during each phase and print its hot frames
#   KEEP=1         keep the work directory (stores, logs, profiles) instead of deleting it
#   QUIET_WAIT=20  seconds to wait, before each phase, for other processes to leave the CPUs idle
#   MAX_FOREIGN=15 a run during which other processes used more than this percentage of the busy
#                  CPU time is repeated (twice at most) once the CPUs are idle again
#   OUT=DIR        copy summary.txt, results.tsv (and profiles.txt) there
#
# Needs (Debian): nginx wrk buildstream bazel-bootstrap, and a JDK 25 (JAVA_HOME or
# /usr/lib/jvm/temurin-25-jdk-amd64). Everything listens on 127.0.0.1; every server started here
# is stopped by its PID on exit. Results: a summary on stdout, all figures in $WORK/results.tsv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"
py=/usr/bin/python3 # BuildStream's grpc lives in Debian's python, not in a python3 earlier on PATH

RUNS="${RUNS:-3}"
WRK_SECONDS="${WRK_SECONDS:-10}"
BATCH_SECONDS="${BATCH_SECONDS:-5}"
BS_BYTES="${BS_BYTES:-1G}"
ONLY="${ONLY:-http grpc bytestream findmissing bazel}"
FM_WARMUP="${FM_WARMUP:-40}"
PROFILE="${PROFILE:-0}"
KEEP="${KEEP:-0}"
QUIET_WAIT="${QUIET_WAIT:-20}"
MAX_FOREIGN="${MAX_FOREIGN:-15}"
OUT="${OUT:-}"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

for tool in wrk nginx bazel curl sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nginx wrk bazel-bootstrap curl)"
done
[[ -x "$java" ]] || die "no JDK at $JAVA_HOME"
"$py" -c 'import buildstream._artifactcache.casserver' 2>/dev/null ||
  die "BuildStream's CAS server not importable by $py (apt-get install -y buildstream)"

work="$(mktemp -d /var/tmp/cairn-srvbench.XXXXXX)" # on disk, like a real store (not tmpfs)
results="$work/results.tsv"
: >"$results"
pids=()         # servers started here, stopped by PID on exit
bazel_roots=()  # Bazel output roots whose servers are shut down on exit

cleanup() {
  local rc=$?
  set +e
  for root in "${bazel_roots[@]}"; do
    local bpid
    bpid="$(find "$root" -maxdepth 3 -name server.pid.txt -exec cat {} \; 2>/dev/null | head -1)"
    (cd "$work/ws" && HOME="$work/home" bazel --output_user_root="$root" --max_idle_secs=600 shutdown) >/dev/null 2>&1
    [[ -n "$bpid" ]] && kill -0 "$bpid" 2>/dev/null && kill -TERM "$bpid"
  done
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
  if [[ "$KEEP" == 1 || $rc -ne 0 ]]; then
    say "work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one server started here (SIGTERM, then SIGKILL after 10 s) and forgets its PID.
stop_pid() {
  local pid="$1" keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# A free port on 127.0.0.1 (asks the kernel, then checks nothing else took it).
free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until FILE contains TEXT or PID dies, at most SECONDS.
wait_for_log() {
  local file="$1" text="$2" pid="$3" seconds="$4"
  for _ in $(seq $((seconds * 10))); do
    grep -q "$text" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "server $pid exited (log $file)"; }
    sleep 0.1
  done
  cat "$file" >&2
  die "server $pid not ready after ${seconds}s (log $file)"
}

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; } # metric target value unit
value() { awk -F'\t' -v m="$1" -v t="$2" '$1==m && $2==t {v=$3} END {print v}' "$results"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a=="" || b=="" || b==0) print "n/a"; else printf "%.2f", a/b}'; }

# ---- is the machine ours? -------------------------------------------------------------------

# Waits (at most QUIET_WAIT s) for the CPUs to be >= 90% idle over a second: another engineer's
# benchmark on the same 2 cores would skew every figure.
wait_quiet() {
  local waited=0 idle
  while :; do
    idle="$(awk 'NR==1 {print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)"
    sleep 1
    idle="$(awk -v before="$idle" 'NR==1 {split(before, b, " "); i=$5+$6-b[1]; t=$2+$3+$4+$5+$6+$7+$8+$9-b[2]; printf "%d", 100*i/t}' /proc/stat)"
    ((idle >= 90)) && return 0
    if ((waited >= QUIET_WAIT)); then
      say "WARNING: CPUs only ${idle}% idle before this phase; other processes:"
      ps -eo pid,pcpu,etime,args --sort=-pcpu | head -6 | cut -c1-160 >&2
      return 0
    fi
    waited=$((waited + 3))
    sleep 2
  done
}

extra_pids() { # Bazel servers daemonize out of our process tree
  local root file
  for root in "${bazel_roots[@]}"; do
    file="$(find "$root/" -maxdepth 3 -name server.pid.txt 2>/dev/null | head -1)"
    [[ -n "$file" ]] && echo "$(<"$file")" # the file has no newline of its own
  done
  return 0
}

phase_cpu_begin() { read -r phase_busy0 phase_ours0 < <("$py" "$here/cpuacct.py" $$ $(extra_pids)); }

# Per run: the percentage of the machine's busy CPU time since foreign_begin that was not ours.
foreign_begin() { read -r run_busy0 run_ours0 < <("$py" "$here/cpuacct.py" $$ $(extra_pids)); }
foreign_percent() {
  local busy ours
  read -r busy ours < <("$py" "$here/cpuacct.py" $$ $(extra_pids))
  awk -v b=$((busy - run_busy0)) -v o=$((ours - run_ours0)) 'BEGIN {x = b - o; if (x < 0) x = 0; printf "%.0f", (b > 0 ? 100 * x / b : 0)}'
}

# Runs "$@" (which prints one figure) up to 3 times, until other processes took at most
# MAX_FOREIGN percent of the busy CPU time meanwhile; if all three were disturbed, the least
# disturbed counts. Prints "figure foreign% attempt".
guarded() {
  local attempt out f best="" best_f=101 best_attempt=0
  for attempt in 1 2 3; do
    foreign_begin
    out="$("$@")"
    f="$(foreign_percent)"
    if ((f < best_f)); then best="$out"; best_f=$f; best_attempt=$attempt; fi
    ((f <= MAX_FOREIGN)) && break
    say "  $out, but $f% of the busy CPU time was not ours$( ((attempt < 3)) && echo ': waiting for idle CPUs and repeating')"
    ((attempt < 3)) && wait_quiet
  done
  echo "$best $best_f $best_attempt"
}

# Reports the share of the machine's busy CPU time that was not ours during the phase.
phase_cpu_end() {
  local name="$1" busy ours
  read -r busy ours < <("$py" "$here/cpuacct.py" $$ $(extra_pids))
  local other
  other="$(awk -v b=$((busy - phase_busy0)) -v o=$((ours - phase_ours0)) 'BEGIN {x = b - o; if (x < 0) x = 0; printf "%.0f", (b > 0 ? 100 * x / b : 0)}')"
  record "foreign_cpu_share" "$name" "$other" "%"
  if ((other > 10)); then
    say "WARNING: $other% of the busy CPU time during '$name' was not ours (other processes or kernel threads)"
  else
    say "phase '$name': $other% of busy CPU time not ours"
  fi
}

# ---- profiling (PROFILE=1) --------------------------------------------------------------------

jfr_start() {
  [[ "$PROFILE" == 1 ]] || return 0
  "$JAVA_HOME/bin/jcmd" "$cairn_pid" JFR.start name="$1" filename="$work/$1.jfr" settings=profile >/dev/null
}

jfr_stop() {
  [[ "$PROFILE" == 1 ]] || return 0
  "$JAVA_HOME/bin/jcmd" "$cairn_pid" JFR.stop name="$1" >/dev/null
  {
    echo "== JFR $1: top frames (Java execution samples) =="
    "$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample "$work/$1.jfr" |
      awk '/stackTrace = \[/ {getline; sub(/^[ \t]+/, ""); sub(/line:.*/, ""); print}' |
      sort | uniq -c | sort -rn | head -15
    echo "== JFR $1: first Cairn frame of each sample =="
    "$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample "$work/$1.jfr" |
      awk '/stackTrace = \[/ {inst=1; found=0; next} inst && /dev\.cairn\./ && !found {sub(/^[ \t]+/, ""); sub(/line:.*/, ""); print; found=1} /^\]/ {inst=0}' |
      sort | uniq -c | sort -rn | head -10
  } | tee -a "$work/profiles.txt" >&2
}

# ---- build, machine, data ---------------------------------------------------------------------

say "building cairn if needed"
(cd "$repo" && ./cairn --help >/dev/null) || die "cannot build cairn"
jar="$repo/cairn-cli/target/cairn.jar"
grpcload=("$java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx2g -cp "$jar" "$here/GrpcLoad.java")
bst_pid=""

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
  echo "cairn: $(git -C "$repo" rev-parse --short HEAD) ($(git -C "$repo" rev-parse --abbrev-ref HEAD)), $("$java" -version 2>&1 | head -1)"
  echo "peers: $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), BuildStream $("$py" -c 'import buildstream; print(buildstream.__version__)' 2>/dev/null || dpkg-query -W -f='${Version}' buildstream), $(bazel --version 2>/dev/null || echo bazel)"
  echo "store file system: $(df -T "$work" | awk 'NR==2 {print $2}') ($work)"
} | tee "$work/machine.txt" >&2

# 1000 random 4 KiB blobs, by SHA-256: into Cairn's store with `cairn put`, and as nginx files
# under www/cas/<hash>, so the same URL path answers on both.
say "generating 1000 blobs of 4 KiB"
mkdir -p "$work/blobs" "$work/www/cas" "$work/nginx/tmp"
head -c $((1000 * 4096)) /dev/urandom | split -b 4096 -a 4 -d - "$work/blobs/b"
(cd "$work/blobs" && sha256sum b*) >"$work/blobs.sha256"
awk '{print $1}' "$work/blobs.sha256" >"$work/hashes.txt"
while read -r hash file; do cp "$work/blobs/$file" "$work/www/cas/$hash"; done <"$work/blobs.sha256"
(cd "$repo" && ./cairn --store "$work/cairn-store" --max-size 20G put "$work"/blobs/b* >"$work/put.txt")
[[ "$(cut -d/ -f1 "$work/put.txt" | sort)" == "$(sort "$work/hashes.txt")" ]] || die "cairn put gave other digests"

# ---- servers ----------------------------------------------------------------------------------

cairn_grpc=$(free_port); cairn_http=$(free_port); nginx_port=$(free_port); bst_port=$(free_port)

start_cairn() { # NAME STORE GRPC HTTP [serve options...]; sets started_pid
  local name="$1" store="$2" grpc="$3" http="$4"
  shift 4
  "$repo/cairn" --store "$store" --max-size "${max_size:-20G}" serve --grpc-listen "127.0.0.1:$grpc" \
    --http-listen "127.0.0.1:$http" "$@" 2>"$work/$name.log" &
  started_pid=$!
  pids+=("$started_pid")
  wait_for_log "$work/$name.log" "cairn serving gRPC on" "$started_pid" 120
}

say "starting cairn serve (gRPC $cairn_grpc, HTTP $cairn_http)"
start_cairn cairn "$work/cairn-store" "$cairn_grpc" "$cairn_http"
cairn_pid=$started_pid

cat >"$work/nginx/nginx.conf" <<EOF
# CLIENTS.md's static GET/PUT file server; workers run as root so they may read and write $work.
user root;
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events {}
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    dav_methods PUT;
    create_full_put_path on;
    client_max_body_size 0;
  }
}
EOF
say "starting nginx ($nginx_port)"
nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/cas/$(head -1 "$work/hashes.txt")" && break; sleep 0.1; done

say "starting BuildStream's CAS server ($bst_port)"
"$py" "$here/bst_casserver.py" "$work/bst-repo" "$bst_port" 2>"$work/bst.log" &
bst_pid=$!
pids+=("$bst_pid")
wait_for_log "$work/bst.log" "serving on" "$bst_pid" 60

# Both HTTP servers answer the same bytes for the same path.
h="$(sed -n 500p "$work/hashes.txt")"
f="$(awk -v h="$h" '$1==h {print $2}' "$work/blobs.sha256")"
for port in "$cairn_http" "$nginx_port"; do
  curl -sf "http://127.0.0.1:$port/cas/$h" | cmp -s - "$work/blobs/$f" || die "GET /cas/$h on port $port differs"
done

# ---- 1. HTTP GET of 4 KiB blobs ---------------------------------------------------------------

cat >"$work/rotate.lua" <<'EOF'
-- GET /cas/<hash>, rotating over the hashes in the file given after "--"; threads start apart.
local hashes = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do hashes[#hashes + 1] = "/cas/" .. line end
  i = math.random(#hashes)
end
function request()
  i = i % #hashes + 1
  return wrk.format("GET", hashes[i])
end
EOF

wrk_run() { # NAME PORT SECONDS -> requests/s
  local out
  out="$(wrk -t2 -c64 -d"$3"s -s "$work/rotate.lua" "http://127.0.0.1:$2" -- "$work/hashes.txt")"
  echo "$out" >>"$work/wrk-$1.txt"
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; die "wrk against $1 saw error answers"; fi
  awk '/Requests\/sec:/ {print $2}' <<<"$out"
}

if want http; then
  wait_quiet
  phase_cpu_begin
  jfr_start http
  say "HTTP: warm-up (cairn 6 s for its JIT, nginx 2 s), then $RUNS x ${WRK_SECONDS}s each, alternating"
  wrk_run cairn-warmup "$cairn_http" 6 >/dev/null
  wrk_run nginx-warmup "$nginx_port" 2 >/dev/null
  http_cairn=(); http_nginx=()
  for r in $(seq "$RUNS"); do
    order=(cairn nginx); ((r % 2 == 0)) && order=(nginx cairn)
    for who in "${order[@]}"; do
      if [[ $who == cairn ]]; then port=$cairn_http; else port=$nginx_port; fi
      read -r rps f attempt < <(guarded wrk_run "$who" "$port" "$WRK_SECONDS")
      [[ -n "$rps" ]] || die "wrk against $who gave no figure"
      say "  run $r $who: $rps requests/s (foreign CPU $f%, attempt $attempt)"
      record "http_get_4k_run$r" "$who" "$rps" "req/s"
      if [[ $who == cairn ]]; then http_cairn+=("$rps"); else http_nginx+=("$rps"); fi
    done
  done
  record http_get_4k cairn "$(echo "${http_cairn[@]}" | median)" "req/s"
  record http_get_4k nginx "$(echo "${http_nginx[@]}" | median)" "req/s"
  jfr_stop http
  phase_cpu_end http
fi

# ---- 2-4. gRPC --------------------------------------------------------------------------------

grpcload_run() { # label args... ; appends MEDIAN lines to results, keeps the whole output
  local label="$1"
  shift
  local out rc=0
  out="$("${grpcload[@]}" "$@" --pids "${load_pids:-$cairn_pid,$bst_pid}" --max-foreign "$MAX_FOREIGN" \
    2> >(grep -v -e '^WARNING: ' >&2))" || rc=$?
  printf '%s\n' "$out" >>"$work/grpcload-$label.txt"
  printf '%s\n' "$out" | grep '^RESULT' | sed 's/^/  /' >&2 || true
  printf '%s\n' "$out" | awk '/^MEDIAN/ {printf "%s\t%s\t%s\t%s\n", $2, $3, $4, $5}' >>"$results"
  printf '%s\n' "$out" | awk '/^ERROR/ {m=$2; t=$3; $1=$2=$3=""; sub(/^ +/, ""); printf "%s\t%s\tERROR %s\t-\n", m, t, $0}' >>"$results"
  return $rc
}

if want grpc; then
  wait_quiet
  phase_cpu_begin
  jfr_start grpc-batch
  say "gRPC batches: 4 KiB blobs, 100 per batch, 4 streams, ${BATCH_SECONDS}s per run, $RUNS runs"
  grpcload_run batch batch --target "cairn=127.0.0.1:$cairn_grpc" --target "bst=127.0.0.1:$bst_port" \
    --runs "$RUNS" --seconds "$BATCH_SECONDS" --streams 4 --batch 100 --blob 4096
  jfr_stop grpc-batch
  phase_cpu_end grpc-batch
fi

if want bytestream; then
  wait_quiet
  phase_cpu_begin
  say "Java SHA-256 over 1 GiB of memory, $RUNS runs"
  grpcload_run sha256 sha256 --bytes 1G --runs "$RUNS"
  # The page cache's own write rate on this file system, for context: a server that stores
  # 1 GiB cannot take it faster. Two cases, because on this VM they differ tenfold: "fresh"
  # files are all kept (new memory pages each time, as when a server stores blob after blob);
  # "recycled" deletes each file before the next (the kernel reuses the pages just freed).
  dd_1g() { dd if=/dev/zero of="$1" bs=1M count=1024 2>&1 | awk '/copied/ {printf "%.3f", $1 / $(NF-3) / 1e9}'; }
  say "dd: 1 GiB into new files on the store's file system (page cache, no fsync), $RUNS runs each"
  fresh=(); recycled=()
  for r in $(seq "$RUNS"); do sync; fresh+=("$(dd_1g "$work/dd-fresh-$r.bin")"); done
  rm -f "$work"/dd-fresh-*.bin
  for r in $(seq "$RUNS"); do recycled+=("$(dd_1g "$work/dd-recycled.bin")"); rm -f "$work/dd-recycled.bin"; done
  say "  fresh pages: ${fresh[*]} GB/s; recycled pages: ${recycled[*]} GB/s"
  record dd_write_1g fresh-pages "$(echo "${fresh[@]}" | median)" "GB/s"
  record dd_write_1g recycled-pages "$(echo "${recycled[@]}" | median)" "GB/s"
  jfr_start bytestream
  say "ByteStream: $BS_BYTES blob, 1 MiB chunks, up then down, $RUNS runs (sync before each upload)"
  grpcload_run bytestream bytestream --target "cairn=127.0.0.1:$cairn_grpc" --target "bst=127.0.0.1:$bst_port" \
    --runs "$RUNS" --bytes "$BS_BYTES" --chunk 1M --warmup-bytes 256M
  # A cache at its size limit, the steady state of a bounded store: each upload evicts the blob
  # before it, so it writes into the page-cache pages just freed ("recycled", as dd above), not
  # into memory the VM has never touched. Alone (another server's writes would take those
  # pages), after two unmeasured uploads of the same size so that the first measured one
  # already finds a blob to evict.
  full_grpc=$(free_port); full_http=$(free_port)
  say "ByteStream into a full store (cairn serve --max-size 1100M; each upload evicts the last), $RUNS runs"
  max_size=1100M start_cairn cairn-full "$work/cairn-full-store" "$full_grpc" "$full_http"
  full_pid=$started_pid
  load_pids="$full_pid" grpcload_run bytestream-full bytestream --target "cairn-full=127.0.0.1:$full_grpc" \
    --runs "$RUNS" --bytes "$BS_BYTES" --chunk 1M --warmup-bytes "$BS_BYTES" --warmups 2
  kill "$full_pid" 2>/dev/null; wait "$full_pid" 2>/dev/null || true
  jfr_stop bytestream
  phase_cpu_end bytestream
fi

if want findmissing; then
  wait_quiet
  phase_cpu_begin
  jfr_start findmissing
  say "FindMissingBlobs: 100,000 digests (50,000 present), one call, default server"
  grpcload_run findmissing-1call findmissing --target "cairn=127.0.0.1:$cairn_grpc" --digests 100000 \
    --runs 7 --warmup "$FM_WARMUP" --split 1 --metric findmissing_100k_1call \
    --metrics "http://127.0.0.1:$cairn_http/metrics"
  say "FindMissingBlobs: the same 100,000 digests in 2 calls of 50,000"
  grpcload_run findmissing-2calls findmissing --target "cairn=127.0.0.1:$cairn_grpc" --digests 100000 \
    --runs 7 --warmup "$FM_WARMUP" --split 2 --metric findmissing_100k_2calls \
    --metrics "http://127.0.0.1:$cairn_http/metrics"
  jfr_stop findmissing
  phase_cpu_end findmissing
fi

# ---- 5. Bazel clean rebuild -------------------------------------------------------------------

write_workspace() { # 50 genrules: 5 chains of 10; every third rule writes 1 MiB, the rest ~100 B
  local ws="$1" c i name dep
  mkdir -p "$ws"
  : >"$ws/WORKSPACE"
  {
    for c in 1 2 3 4 5; do
      for i in $(seq 1 10); do
        name="r${c}_$i"
        dep=""
        ((i > 1)) && dep="r${c}_$((i - 1))"
        if (((c * 10 + i) % 3 == 0)); then
          cmd="echo $name > \$(location $name.bin); head -c 1048576 /dev/zero >> \$(location $name.bin)"
          outs="\"$name.bin\""
        else
          cmd="echo $name > \$(location $name.txt)"
          outs="\"$name.txt\""
        fi
        if [[ -n "$dep" ]]; then
          printf 'genrule(name = "%s", srcs = [":%s"], outs = [%s], cmd = "wc -c $(SRCS) > /dev/null; %s")\n' \
            "$name" "$dep" "$outs" "$cmd"
        else
          printf 'genrule(name = "%s", outs = [%s], cmd = "%s")\n' "$name" "$outs" "$cmd"
        fi
      done
    done
  } >"$ws/BUILD"
}

bazel_build() { # ROOT CACHE_URL -> seconds; checks that all 50 actions were remote cache hits
  local root="$1" url="$2" t0 t1 log
  log="$work/bazel-$(basename "$root").log"
  (cd "$work/ws" && HOME="$work/home" bazel --output_user_root="$root" --max_idle_secs=600 clean >>"$log" 2>&1)
  t0=$(date +%s.%N)
  (cd "$work/ws" && HOME="$work/home" bazel --output_user_root="$root" --max_idle_secs=600 build \
    --spawn_strategy=processwrapper-sandbox --remote_cache="$url" --color=no --curses=no --symlink_prefix=/ //:all >>"$log" 2>&1) ||
    die "bazel build against $url failed (log $log)"
  t1=$(date +%s.%N)
  local hits
  hits="$(grep -o '[0-9]* remote cache hit' "$log" | tail -1 | cut -d' ' -f1)"
  [[ "$hits" == 50 ]] || die "bazel against $url: ${hits:-no} remote cache hits, expected 50 (log $log)"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}'
}

if want bazel; then
  wait_quiet
  write_workspace "$work/ws"
  mkdir -p "$work/home"
  declare -A bazel_url=(
    [cairn-grpc]="grpc://127.0.0.1:$cairn_grpc"
    [nginx-http]="http://127.0.0.1:$nginx_port"
    [cairn-http]="http://127.0.0.1:$cairn_http"
  )
  backends=(cairn-grpc nginx-http cairn-http)
  for b in "${backends[@]}"; do bazel_roots+=("$work/bazel-$b"); done
  phase_cpu_begin
  say "Bazel: first build per backend (fills each cache and starts a Bazel server per backend)"
  for b in "${backends[@]}"; do
    (cd "$work/ws" && HOME="$work/home" bazel --output_user_root="$work/bazel-$b" --max_idle_secs=600 build \
      --spawn_strategy=processwrapper-sandbox --remote_cache="${bazel_url[$b]}" --color=no --curses=no --symlink_prefix=/ //:all \
      >"$work/bazel-fill-$b.log" 2>&1) || die "first bazel build against $b failed (log $work/bazel-fill-$b.log)"
    # One untimed clean rebuild, so the timed ones all start from the same warm Bazel server.
    bazel_build "$work/bazel-$b" "${bazel_url[$b]}" >/dev/null
  done
  jfr_start bazel
  say "Bazel: clean + build, all remote cache hits, $RUNS runs, backends alternating"
  declare -A bazel_times=()
  for r in $(seq "$RUNS"); do
    order=("${backends[@]}")
    ((r % 2 == 0)) && order=(cairn-http nginx-http cairn-grpc)
    for b in "${order[@]}"; do
      read -r s f attempt < <(guarded bazel_build "$work/bazel-$b" "${bazel_url[$b]}")
      [[ -n "$s" ]] || die "bazel against $b gave no figure"
      say "  run $r $b: $s s (foreign CPU $f%, attempt $attempt)"
      record "bazel_rebuild_run$r" "$b" "$s" "s"
      bazel_times[$b]+="$s "
    done
  done
  for b in "${backends[@]}"; do
    record bazel_rebuild "$b" "$(echo "${bazel_times[$b]}" | median)" "s"
  done
  jfr_stop bazel
  phase_cpu_end bazel
fi

# ---- summary ----------------------------------------------------------------------------------

v() { value "$@"; }
met() { # VALUE OP LIMIT
  awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
    if (a == "" || a ~ /ERROR/ || a == "n/a") { print "not measured"; exit }
    ok = (op == ">=") ? (a + 0 >= b + 0) : (a + 0 <= b + 0); print ok ? "MET" : "MISSED" }'
}

{
  echo
  echo "== cairn serve: side-by-side medians ($RUNS runs each unless noted) =="
  cat "$work/machine.txt"
  if want http; then
    a="$(v http_get_4k cairn)"; b="$(v http_get_4k nginx)"; q="$(ratio "$a" "$b")"
    printf '1. HTTP GET /cas 4 KiB (wrk -t2 -c64 -d%ss): cairn %s req/s, nginx %s req/s, cairn/nginx %s  [goal >= 1.00: %s]\n' \
      "$WRK_SECONDS" "$a" "$b" "$q" "$(met "$q" ">=" 1)"
  fi
  if want grpc; then
    a="$(v batch_update_4k cairn)"; b="$(v batch_update_4k bst)"
    printf '2. BatchUpdateBlobs 4 KiB x100, 4 streams: cairn %.0f blobs/s, BuildStream %.0f blobs/s, ratio %s\n' "$a" "$b" "$(ratio "$a" "$b")"
    a="$(v batch_read_4k cairn)"; b="$(v batch_read_4k bst)"
    printf '   BatchReadBlobs   4 KiB x100, 4 streams: cairn %.0f blobs/s, BuildStream %.0f blobs/s, ratio %s\n' "$a" "$b" "$(ratio "$a" "$b")"
  fi
  if want bytestream; then
    sha="$(v sha256_java jvm)"; a="$(v bytestream_upload_1g cairn)"; b="$(v bytestream_upload_1g bst)"
    q="$(ratio "$a" "$sha")"
    printf '3. ByteStream upload %s: cairn %.3f GB/s, BuildStream %.3f GB/s, ratio %s\n' "$BS_BYTES" "$a" "$b" "$(ratio "$a" "$b")"
    printf '   Java SHA-256 %.3f GB/s; cairn upload / SHA-256 = %s  [goal >= 0.70: %s]\n' "$sha" "$q" "$(met "$q" ">=" 0.7)"
    f="$(v bytestream_upload_1g cairn-full)"; q="$(ratio "$f" "$sha")"
    printf '   into a full store (each upload evicts the last, recycled pages): cairn %.3f GB/s; / SHA-256 = %s  [goal >= 0.70: %s]\n' "$f" "$q" "$(met "$q" ">=" 0.7)"
    printf '   dd of 1 GiB into the page cache: %.3f GB/s into fresh pages, %.3f GB/s into recycled ones\n' \
      "$(v dd_write_1g fresh-pages)" "$(v dd_write_1g recycled-pages)"
    a="$(v bytestream_download_1g cairn)"; b="$(v bytestream_download_1g bst)"
    printf '   ByteStream download %s: cairn %.3f GB/s, BuildStream %.3f GB/s, ratio %s\n' "$BS_BYTES" "$a" "$b" "$(ratio "$a" "$b")"
  fi
  if want findmissing; then
    printf '4. FindMissingBlobs 100,000 digests, half present, default server (median of 7 after %s warm-ups):\n' "$FM_WARMUP"
    printf '   one call: server time %s ms  [goal <= 50 ms: %s]; client-observed round trip %s ms; first call (cold server) %s ms\n' \
      "$(v findmissing_100k_1call_server cairn)" "$(met "$(v findmissing_100k_1call_server cairn)" "<=" 50)" \
      "$(v findmissing_100k_1call cairn)" "$(v findmissing_100k_1call_first cairn)"
    printf '   two calls of 50,000: server time %s ms; client-observed round trip %s ms\n' \
      "$(v findmissing_100k_2calls_server cairn)" "$(v findmissing_100k_2calls cairn)"
  fi
  if want bazel; then
    a="$(v bazel_rebuild cairn-grpc)"; b="$(v bazel_rebuild nginx-http)"; c="$(v bazel_rebuild cairn-http)"
    printf '5. Bazel clean rebuild, 50/50 remote cache hits: cairn gRPC %s s, nginx HTTP %s s, cairn HTTP %s s; cairn gRPC / nginx %s\n' \
      "$a" "$b" "$c" "$(ratio "$a" "$b")"
  fi
  echo "CPU time not ours during each phase (other processes, kernel threads):"
  awk -F'\t' '$1=="foreign_cpu_share" {printf "   %s %s%%\n", $2, $3}' "$results"
  echo "all figures: $results"
} | tee "$work/summary.txt"
if [[ -n "$OUT" ]]; then
  mkdir -p "$OUT"
  cp "$work/summary.txt" "$work/results.tsv" "$OUT/"
  [[ -f "$work/profiles.txt" ]] && cp "$work/profiles.txt" "$OUT/"
  say "summary, figures and profiles copied to $OUT"
fi
