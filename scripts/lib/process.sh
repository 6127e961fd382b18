# Process helpers shared by the scripts that start services (dev-stack, es-tls, cluster): pid
# files, liveness checks that see through zombies, a stop that escalates to SIGKILL and waits,
# and log tails for failure messages. Source it after common.sh; it defines functions only.
# Callers set KI_STOP_TIMEOUT (seconds from SIGTERM to SIGKILL) and may set HOST.

now() { date +%s.%N; }
# elapsed START -> seconds since START (a `now` value), one decimal
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# pid_cmdline PID -> the process's command line with spaces for NULs ("" if gone)
pid_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# read_pid FILE -> pid in FILE if it is a number
read_pid() {
  local p
  [ -f "$1" ] || return 1
  p="$(tr -dc '0-9' <"$1")"
  [ -n "$p" ] || return 1
  printf '%s\n' "$p"
}

# pid_alive PID -> true if the process exists and is not a zombie (a zombie child of ours never
# goes away by itself, so it counts as gone)
pid_alive() {
  [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# port_open PORT -> true if something listens on HOST:PORT
port_open() { (exec 3<>"/dev/tcp/${HOST:-127.0.0.1}/$1") 2>/dev/null; }

# stop_pid NAME PID: SIGTERM, wait up to KI_STOP_TIMEOUT seconds, then SIGKILL, and wait until it
# is gone (a port or a data folder is free only then)
stop_pid() {
  local name="$1" pid="$2" timeout="${KI_STOP_TIMEOUT:-30}" deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$(($(date +%s) + timeout))
  while pid_alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  if pid_alive "$pid"; then
    ki_log "$name (pid $pid) still running after ${timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
}

# tail_log FILE... -> the last 40 lines of each non-empty FILE on stderr, named relative to the repo
tail_log() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '----- last lines of %s -----\n' "${f#"$KI_ROOT"/}" >&2
    tail -n 40 "$f" >&2
  done
}
