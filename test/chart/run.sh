#!/usr/bin/env bash
# Chart checks, offline: yamllint, helm lint, ct lint, helm-unittest, and every rendering
# (chart/tests/values/required.yaml for the defaults, which alone must fail; values-local.yaml, values-prod.yaml, chart/ci/*-values.yaml, test/chart/values/*.yaml)
# validated by kubeconform -strict against local schemas (scripts/gen-schemas). A kind without a
# schema is an error. Also: every metric the Grafana dashboard queries is one the worker exports
# (test/chart/dashboard_metrics.py), config changes roll the pods (checksum annotations), and the
# values table in docs/chart.md matches values.yaml (scripts/gen-chart-docs --check); with
# KI_CHART_COMPARE_REF=<git revision>, every values file renders byte-identically to that revision's
# chart (test/chart/compare-rendering).
#
#   bash test/chart/run.sh        from the repository root (or anywhere)
#
# Tools and schemas come from scripts/install-tools and scripts/gen-schemas, called here too: a
# warm cache makes both no-ops; a cold one builds (minutes). Every check runs even after a
# failure; the summary lists each, and the exit status is 1 when any failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../../scripts/lib/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib/common.sh"
cd "$KI_ROOT" || exit 1

start=$SECONDS
tools_bin="$(scripts/install-tools --print-path)" || ki_die "scripts/install-tools failed"
export PATH="$tools_bin:$PATH"
schemas="$(scripts/gen-schemas --print-dir)" || ki_die "scripts/gen-schemas failed"
k8s_version="$(cat "$schemas/KUBERNETES_VERSION")"
schema_location="$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"

chart=chart
out="$KI_ROOT/.tmp/chart"
rm -rf "$out"; mkdir -p "$out"

passed=() failed=()
# check NAME COMMAND...: runs it, output to $out/NAME.log (shown on failure), records the result
check() {
  local name="$1"; shift
  local log="$out/${name//[^A-Za-z0-9._-]/_}.log"
  if "$@" >"$log" 2>&1; then
    passed+=("$name"); printf 'PASS  %s\n' "$name"
  else
    failed+=("$name"); printf 'FAIL  %s\n' "$name"; sed 's/^/      /' "$log"
  fi
}

kubeconform_strict() {
  kubeconform -strict -summary -kubernetes-version "$k8s_version" -schema-location "$schema_location" "$@"
}

# render LABEL [helm args...]: helm template with the KEDA and Prometheus Operator APIs advertised
# and the schemas' Kubernetes version, into $out/rendered-LABEL.yaml. Any warning on stderr (e.g.
# "skipped value … Not a table") fails it: a value file must render cleanly.
render() {
  local label="$1"; shift
  helm template keda-indexer "$chart" --namespace keda-indexer \
    --kube-version "$k8s_version" --api-versions keda.sh/v1alpha1 \
    --api-versions monitoring.coreos.com/v1 "$@" >"$out/rendered-$label.yaml" \
    2>"$out/rendered-$label.stderr" || { cat "$out/rendered-$label.stderr"; return 1; }
  if [ -s "$out/rendered-$label.stderr" ]; then
    echo "helm template warned:"; cat "$out/rendered-$label.stderr"; return 1
  fi
}

# render_and_validate LABEL [helm args...]: render piped through kubeconform; an empty rendering
# counts as a failure.
render_and_validate() {
  local label="$1"; shift
  local file="$out/rendered-$label.yaml"
  render "$label" "$@" || return 1
  grep -q '^kind: ' "$file" || { echo "nothing rendered"; return 1; }
  kubeconform_strict "$file"
}

# The validator must be able to fail: an unknown field, a kind without a schema, and an
# unquoted KEDA trigger value must each be rejected.
kubeconform_canary() {
  local bad
  for bad in unknown-field no-schema unquoted-trigger; do
    case "$bad" in
      unknown-field) printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata:' '  name: x' \
        'data: {}' 'bogus: true' ;;
      no-schema) printf '%s\n' 'apiVersion: example.com/v1' 'kind: Widget' 'metadata:' '  name: x' ;;
      unquoted-trigger) printf '%s\n' 'apiVersion: keda.sh/v1alpha1' 'kind: ScaledObject' \
        'metadata:' '  name: x' 'spec:' '  scaleTargetRef:' '    name: x' '  triggers:' \
        '    - type: aws-sqs-queue' '      metadata:' '        queueLength: 5' ;;
    esac >"$out/canary-$bad.yaml"
    if kubeconform_strict "$out/canary-$bad.yaml"; then
      echo "kubeconform accepted the broken manifest canary-$bad.yaml"; return 1
    fi
  done
  echo "all canaries rejected"
}

# checksum LABEL [helm args...] -> the worker pod template's checksum/config annotation
checksum() {
  render "checksum-$1" -f "$chart/tests/values/required.yaml" "${@:2}" --show-only templates/deployment.yaml >/dev/null || return 1
  sed -n 's/^ *checksum\/config: //p' "$out/rendered-checksum-$1.yaml"
}

# Config changes must roll the pods, and nothing else may: the checksum changes with a ConfigMap
# setting, stays with a pod-only change, and is deterministic.
checksum_rolls() {
  local base again config pod
  base="$(checksum base)" && again="$(checksum again)" &&
    config="$(checksum config --set config.logLevel=debug)" &&
    pod="$(checksum pod --set resources.requests.cpu=1)" || return 1
  echo "base=$base config=$config pod=$pod"
  [ -n "$base" ] || { echo "no checksum/config annotation"; return 1; }
  [ "$base" = "$again" ] || { echo "checksum is not deterministic"; return 1; }
  [ "$base" != "$config" ] || { echo "a config change keeps the checksum: pods would not roll"; return 1; }
  [ "$base" = "$pod" ] || { echo "a pod-only change moved the config checksum"; return 1; }
}

# backfill_job_name LABEL [helm args...] -> the backfill Job's metadata.name
backfill_job_name() {
  render "backfill-$1" -f "$chart/tests/values/required.yaml" --set backfill.enabled=true --set config.s3Bucket=docs "${@:2}" \
    --show-only templates/backfill-job.yaml >/dev/null || return 1
  sed -n 's/^  name: //p' "$out/rendered-backfill-$1.yaml" | head -n1
}

# A Job's pod template is immutable: the backfill Job's name carries a hash of its spec, so an
# upgrade that changes the spec (or the worker's config) makes a new Job, and one that does not
# keeps the name (and the Job).
backfill_job_renamed_on_change() {
  local base again spec config
  base="$(backfill_job_name base)" && again="$(backfill_job_name again)" &&
    spec="$(backfill_job_name spec --set backfill.prefix=reports/)" &&
    config="$(backfill_job_name config --set config.logLevel=debug)" || return 1
  echo "base=$base spec=$spec config=$config"
  [ -n "$base" ] || { echo "no backfill Job rendered"; return 1; }
  [ "$base" = "$again" ] || { echo "the name is not deterministic"; return 1; }
  [ "$base" != "$spec" ] || { echo "a changed prefix kept the name: the upgrade would patch an immutable Job"; return 1; }
  [ "$base" != "$config" ] || { echo "a config change kept the name"; return 1; }
}

# pipeline_checksums VALUES_FILE -> "name=checksum" per worker of test/chart/values/pipelines.yaml
# (or a changed copy): the checksum/config of each Deployment's and ScaledJob's pod template
pipeline_checksums() {
  local label
  label="pipelines-$(basename "$1" .yaml)"
  render "$label" -f "$1" --show-only templates/deployment.yaml --show-only templates/scaledjob.yaml \
    >/dev/null || return 1
  awk '/^---/ { name = "" } !name && /^  name: / { name = $2 }
    /^ *checksum\/config: / { print name "=" $2 }' "$out/rendered-$label.yaml"
}

# With pipelines, each worker's checksum follows its own ConfigMap: a change to one pipeline's
# settings rolls that pipeline's pods only, and a pod-only change rolls none.
pipeline_checksums_roll() {
  local values=test/chart/values/pipelines.yaml base config pod
  # contracts: concurrency 8 -> 9 (its ConfigMap); memory limit 12Gi -> 16Gi (its pod only)
  sed 's/^      concurrency: 8$/      concurrency: 9/' "$values" >"$out/pipelines-config.yaml"
  sed 's/^        memory: 12Gi$/        memory: 16Gi/' "$values" >"$out/pipelines-pod.yaml"
  ! cmp -s "$values" "$out/pipelines-config.yaml" && ! cmp -s "$values" "$out/pipelines-pod.yaml" ||
    { echo "the sed edits no longer match $values"; return 1; }
  base="$(pipeline_checksums "$values")" && config="$(pipeline_checksums "$out/pipelines-config.yaml")" &&
    pod="$(pipeline_checksums "$out/pipelines-pod.yaml")" || return 1
  printf 'base:\n%s\nconfig:\n%s\npod:\n%s\n' "$base" "$config" "$pod"
  local get='s/^keda-indexer-\([a-z]*\)=\(.*\)$/\1 \2/p'
  declare -A b c p
  while read -r n v; do b[$n]=$v; done < <(sed -n "$get" <<<"$base")
  while read -r n v; do c[$n]=$v; done < <(sed -n "$get" <<<"$config")
  while read -r n v; do p[$n]=$v; done < <(sed -n "$get" <<<"$pod")
  [ -n "${b[contracts]:-}" ] && [ -n "${b[tickets]:-}" ] || { echo "a pipeline has no checksum"; return 1; }
  [ "${b[contracts]}" != "${b[tickets]}" ] || { echo "both pipelines carry one checksum"; return 1; }
  [ "${b[contracts]}" != "${c[contracts]}" ] || { echo "contracts' config change kept its checksum"; return 1; }
  [ "${b[tickets]}" = "${c[tickets]}" ] || { echo "contracts' config change moved tickets' checksum"; return 1; }
  [ "${b[contracts]}" = "${p[contracts]}" ] || { echo "a pod-only change moved contracts' checksum"; return 1; }
}

# The dashboard check must be able to fail: a dashboard querying a metric the worker does not
# export, and one querying an unlisted histogram series, must each be rejected.
dashboard_canary() {
  local bad
  for bad in keda_indexer_bogus_total keda_indexer_in_flight_messages_bucket; do
    python3 - "$chart/dashboards/keda-indexer.json" "$bad" >"$out/canary-dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"][0]["targets"].append({"expr": f"sum(rate({sys.argv[2]}[5m]))", "refId": "Z"})
print(json.dumps(d))
PY
    if python3 test/chart/dashboard_metrics.py "$out/canary-dashboard.json"; then
      echo "the dashboard check accepted $bad"; return 1
    fi
  done
  echo "all dashboard canaries rejected"
}

echo "chart checks: helm $(helm version --template '{{ .Version }}'), ct $(ct version 2>/dev/null |
  sed -n 's/^Version:[[:space:]]*//p'), kubeconform $(kubeconform -v), schemas $(basename "$schemas")"

ci_values=("$chart"/ci/*-values.yaml)
[ -e "${ci_values[0]}" ] || ci_values=()
# Extra value sets for rendering only (every optional object; the HPA): not for ct install.
test_values=(test/chart/values/*.yaml)
[ -e "${test_values[0]}" ] || test_values=()

check "yamllint" yamllint -s -c ci/lintconf.yaml values-local.yaml values-prod.yaml ci/*.yaml \
  "$chart"/tests/*.yaml "${test_values[@]}" .github/workflows/chart.yaml
# The defaults alone lack what no default can hold (the queue, the bucket, Elasticsearch): the
# render must fail and say how to fix it, rather than install pods that crash-loop.
default_render_refused() {
  if helm template keda-indexer "$chart" --kube-version "$k8s_version" --api-versions keda.sh/v1alpha1 \
    >/dev/null 2>"$out/defaults.stderr"; then
    echo "the defaults rendered: an install without a queue URL or Elasticsearch would crash-loop"; return 1
  fi
  cat "$out/defaults.stderr"
  grep -q 'config.sqsQueueUrl is empty: set it to the URL of the queue' "$out/defaults.stderr"
}
check "default render refused with the fix" default_render_refused
check "helm lint (required values)" helm lint --strict "$chart" -f "$chart/tests/values/required.yaml"
for f in values-local.yaml values-prod.yaml "${ci_values[@]}" "${test_values[@]}"; do
  check "helm lint -f $f" helm lint --strict "$chart" -f "$f"
done
check "ct lint" ct lint --config ci/ct.yaml --lint-conf ci/lintconf.yaml \
  --chart-yaml-schema "$KI_BIN/chart_schema.yaml" --charts "$chart"
check "helm-unittest" helm-unittest --strict "$chart"
rmdir "$chart/tests/__snapshot__" 2>/dev/null || true  # created empty by helm-unittest
check "kubeconform canaries" kubeconform_canary
check "kubeconform (required values)" render_and_validate required -f "$chart/tests/values/required.yaml"
for f in values-local.yaml values-prod.yaml "${ci_values[@]}" "${test_values[@]}"; do
  check "kubeconform -f $f" render_and_validate "$(basename "$f" .yaml)" -f "$f"
done
check "checksum rolls pods on config change" checksum_rolls
check "checksum rolls only the changed pipeline's pods" pipeline_checksums_roll
check "backfill Job renamed when its spec changes" backfill_job_renamed_on_change
check "dashboard metrics are exported by the worker" python3 test/chart/dashboard_metrics.py
check "dashboard canaries" dashboard_canary
check "values table up to date (helm-docs)" scripts/gen-chart-docs --check
# Opt-in: the same renderings as the chart at a git revision (e.g. KI_CHART_COMPARE_REF=main on a
# branch that must not change existing installs); skipped, and not counted, when unset.
if [ -n "${KI_CHART_COMPARE_REF:-}" ]; then
  check "renders as $KI_CHART_COMPARE_REF does" test/chart/compare-rendering "$KI_CHART_COMPARE_REF"
else
  echo "SKIP  renders as a git revision does (set KI_CHART_COMPARE_REF, e.g. main)"
fi

echo
echo "chart checks took $((SECONDS - start))s; logs and renderings in ${out#"$KI_ROOT"/}/"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}"
fi
echo "chart: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
