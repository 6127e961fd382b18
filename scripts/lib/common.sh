# Shared helpers for the shell scripts in scripts/ and .ci/. Source it; it defines functions only.
#
# Downloads and builds are cached by version outside the checkout, so a fresh clone on a warm
# machine reuses them and CI's clean clone does too. KEDA_INDEXER_CACHE moves the cache.

KI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KI_CACHE="${KEDA_INDEXER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keda-indexer}"
KI_BIN="$KI_CACHE/bin"

ki_log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
ki_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ki_sha256 FILE -> prints the hex digest
ki_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ki_venv [REQUIREMENTS] -> prints the path of a Python venv holding REQUIREMENTS (default
# scripts/requirements-dev.txt), creating it when that file changed. The file's hash is the cache key.
ki_venv() {
  local req="${1:-$KI_ROOT/scripts/requirements-dev.txt}" key venv name lock
  key="$(ki_sha256 "$req" | cut -c1-12)"
  name="$(basename "$req" .txt)"
  if [ "$name" = requirements-dev ]; then venv="$KI_CACHE/venv-$key"; else venv="$KI_CACHE/venv-$name-$key"; fi
  if [ ! -f "$venv/.complete" ]; then
    mkdir -p "$KI_CACHE"
    # Scripts run side by side (.ci/run builds tools in the background while other phases run):
    # the first caller builds the venv, the others wait on the lock and then find it complete.
    exec {lock}>"$venv.lock"
    flock "$lock"
    if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
      ki_log "creating Python venv $venv"
      rm -rf "$venv"
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2 \
        || ki_die "pip install -r $req failed"
      touch "$venv/.complete"
    fi
    exec {lock}>&-
  fi
  printf '%s\n' "$venv"
}
