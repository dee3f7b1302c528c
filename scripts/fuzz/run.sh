#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (Swift's -sanitize=fuzzer, with AddressSanitizer).
# The targets live in Fuzz/ (a package of their own that depends on this one by path) and build
# into .build-fuzz, so the server's own build is untouched.
#
#   scripts/fuzz/run.sh TARGET SECONDS [libFuzzer flags…]   one target for a long run
#   scripts/fuzz/run.sh smoke [SECONDS]                      every target: its regression inputs, then SECONDS (25) of fuzzing
#   scripts/fuzz/run.sh build                                build every target, run nothing
#
# TARGET: image, safetensors, tokenizer, dataset, multipart, configuration.
# Seeds are read from Fuzz/corpus/TARGET (never written); the growing corpus is kept in
# .build-fuzz/corpus/TARGET and crashes go to .build-fuzz/crashes/TARGET. A crash makes the
# script exit non-zero; replay one with `.build-fuzz/release/fuzz-TARGET CRASH_FILE`. Fixed
# crashes are committed as Fuzz/regressions/TARGET/*, which smoke replays first.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
targets=(image safetensors tokenizer dataset multipart configuration)
out="$root/.build-fuzz"

# Largest input per target: enough for the seeds and a little more, small enough to stay fast.
max_len() {
  case "$1" in
    image|dataset) echo 65536 ;;
    tokenizer) echo 2048 ;;
    *) echo 8192 ;;
  esac
}

swift_build() {
  (cd Fuzz && swift build -c release --build-path "$out" --toolset "$root/Fuzz/toolset.json" \
     -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing "$@")
}

build() {  # build [TARGET]: one target's executable, or all of them
  local product=()
  [ -n "${1:-}" ] && product=(--product "fuzz-$1")
  swift_build "${product[@]}"
}

binary() { echo "$(swift_build --show-bin-path)/fuzz-$1"; }

known() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

fuzz() {  # fuzz TARGET SECONDS [flags…]
  local target=$1 seconds=$2; shift 2
  local binary
  binary="$(binary "$target")"
  mkdir -p "$out/corpus/$target" "$out/crashes/$target"
  echo "fuzz-$target: ${seconds} s"
  # Leak detection is off: the Swift runtime's caches and type metadata live until exit.
  ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$binary" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$target/" "$@" \
    "$out/corpus/$target" "Fuzz/corpus/$target"
}

replay() {  # replay TARGET: each committed regression input once
  local target=$1 inputs=()
  [ -d "Fuzz/regressions/$target" ] && mapfile -t inputs < <(find "Fuzz/regressions/$target" -type f | sort)
  [ "${#inputs[@]}" -eq 0 ] && return 0
  echo "fuzz-$target: replaying ${#inputs[@]} regression inputs"
  ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$(binary "$target")" -runs=1 "${inputs[@]}"
}

case "${1:-}" in
  build)
    build ;;
  smoke)
    seconds="${2:-25}"
    build
    for target in "${targets[@]}"; do replay "$target"; done
    for target in "${targets[@]}"; do fuzz "$target" "$seconds"; done ;;
  *)
    [ $# -ge 2 ] && known "$1" || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
    target=$1 seconds=$2; shift 2
    build "$target"
    fuzz "$target" "$seconds" "$@" ;;
esac
