#!/usr/bin/env bash
# Runs a command with a time limit, its output line-buffered. Past the limit it prints where each
# thread of the command's processes waits (a few frames each, from gdb when it is installed, else
# the kernel's wait channel), ends them all and fails with 124: a test that hangs becomes a
# failure that says where, instead of a silent run until CI's own time-out.
#   scripts/ci/watchdog.sh SECONDS COMMAND [ARGUMENTS…]
set -uo pipefail
limit=$1; shift

stdbuf -oL -eL "$@" &
pid=$!
deadline=$((SECONDS + limit))

descendants() {
    local child
    for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}

where_threads_wait() {
    local p=$1
    echo "== process $p: $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-160)"
    if command -v gdb >/dev/null; then
        # One line per thread: its name and innermost frames, library internals left out.
        gdb -p "$p" -batch -ex "thread apply all bt 14" 2>/dev/null \
            | awk '/^Thread /{ if (line) print line; match($0, /"[^"]*"/); line = "  " substr($0, RSTART, RLENGTH) ":"; next }
                   /^#[0-9]+ /{ f = $0; sub(/^#[0-9]+ +(0x[0-9a-f]+ in )?/, "", f); sub(/ \(.*/, "", f);
                                if (f !~ /^(__|_dispatch|start_thread|clone|do_futex|futex|\?\?)/) line = line " < " f }
                   END { if (line) print line }' \
            | { command -v swift >/dev/null && swift demangle --simplified || cat; } | cut -c1-400
    else
        local task
        for task in /proc/$p/task/*; do
            echo "  $(cat "$task/comm" 2>/dev/null): state $(awk '{print $3}' "$task/stat" 2>/dev/null), waits in $(cat "$task/wchan" 2>/dev/null)"
        done
    fi
}

while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
        echo "watchdog: still running after ${limit} s: $*"
        processes="$pid $(descendants "$pid")"
        for p in $processes; do where_threads_wait "$p"; done
        kill -KILL $processes 2>/dev/null
        wait "$pid" 2>/dev/null
        exit 124
    fi
    sleep 1
done
wait "$pid"
