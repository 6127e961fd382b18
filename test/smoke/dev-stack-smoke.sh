#!/usr/bin/env bash
# Smoke test against a running dev stack (scripts/dev-stack up): moto's SQS and S3, and
# Elasticsearch's dense_vector + top-level kNN search. Exit status non-zero on any failure.
# Uses AWS_ENDPOINT_URL / ELASTICSEARCH_URL when set, else what `scripts/dev-stack env` prints.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

if [ -z "${AWS_ENDPOINT_URL:-}" ] || [ -z "${ELASTICSEARCH_URL:-}" ]; then
  eval "$("$KI_ROOT/scripts/dev-stack" env)"
fi
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"

venv="$(ki_venv)"
exec "$venv/bin/python" "$KI_ROOT/test/smoke/dev_stack_smoke.py"
