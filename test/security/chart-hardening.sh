#!/usr/bin/env bash
# Static hardening check of the chart's defaults and per-environment values: renders each values
# file and runs checkov's Kubernetes checks (non-root, read-only root filesystem, no privilege
# escalation, capabilities dropped, seccomp, resources, probes, …) with the exceptions justified in
# ci/checkov.yaml; scans values files for plaintext secrets; and asserts that production values
# use IRSA and existing Secrets rather than credentials in values.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$KI_ROOT"

PATH="$(scripts/install-tools --print-path):$PATH"
venv="$(ki_venv "$KI_ROOT/ci/security-requirements.txt")"
out="$KI_ROOT/.tmp/security"
rm -rf "$out" && mkdir -p "$out"
apis=(--api-versions keda.sh/v1alpha1 --api-versions monitoring.coreos.com/v1)

render() { # render NAME [helm args…]
  local name="$1"; shift
  helm template idx chart --namespace indexing "${apis[@]}" "$@" >"$out/$name.yaml"
}
# The defaults plus what no default can hold (the chart refuses to render without a queue,
# a bucket and Elasticsearch): chart/tests/values/required.yaml.
render default -f chart/tests/values/required.yaml
render local -f values-local.yaml
render prod -f values-prod.yaml
render job -f chart/ci/job-values.yaml
render pipelines -f test/chart/values/pipelines.yaml

failed=0 ran=0
check() { # check NAME CMD… : prints PASS/FAIL and counts
  local name="$1"; shift
  ran=$((ran + 1))
  if "$@" >"$out/$name.log" 2>&1; then echo "PASS  $name"; else echo "FAIL  $name"; sed 's/^/      /' "$out/$name.log"; failed=$((failed + 1)); fi
}

# --skip-download: nothing is fetched from checkov's vendor (no network here, and none needed).
checkov=("$venv/bin/checkov" --skip-download)
# NetworkPolicy is opt-in (networkPolicy.enabled): the right egress depends on where Elasticsearch
# and the AWS endpoints live. values-prod enables it, and prod and job renders are checked without
# this exception.
# (checkov replaces the config file's skip list with a command-line one, so both are passed.)
configured_skips="$(sed -n 's/^ *- \(CKV[0-9_A-Z]*\)$/\1/p' ci/checkov.yaml | paste -sd, -)"
opt_in_network_policy=(--skip-check "$configured_skips,CKV2_K8S_6")
check "checkov default" "${checkov[@]}" --config-file ci/checkov.yaml "${opt_in_network_policy[@]}" -f "$out/default.yaml"
check "checkov local" "${checkov[@]}" --config-file ci/checkov.yaml "${opt_in_network_policy[@]}" -f "$out/local.yaml"
check "checkov prod" "${checkov[@]}" --config-file ci/checkov.yaml -f "$out/prod.yaml"
check "checkov job" "${checkov[@]}" --config-file ci/checkov.yaml -f "$out/job.yaml"
# Two pipelines (a GPU Deployment and a CPU ScaledJob): every pipeline's pod is as hardened.
check "checkov pipelines" "${checkov[@]}" --config-file ci/checkov.yaml "${opt_in_network_policy[@]}" -f "$out/pipelines.yaml"
# Pattern detectors (AWS keys, private keys, tokens…); the entropy heuristic (CKV_SECRET_6) is off
# because it flags Secret and key *names*, which is what these files are meant to hold.
check "no plaintext secrets in values files" "${checkov[@]}" --framework secrets --compact --quiet --skip-check CKV_SECRET_6 \
  -f values-prod.yaml -f values-local.yaml -f chart/values.yaml
check "prod: credentials only through IRSA and existing Secrets" "$venv/bin/python" - "$out/prod.yaml" <<'PY'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
secret_names = re.compile(r"(SECRET|PASSWORD|API_KEY|ACCESS_KEY|_TOKEN$)")
problems = []
if any(d["kind"] == "Secret" for d in docs):
    problems.append("the chart renders a Secret: production credentials belong in existingSecret")
accounts = [d for d in docs if d["kind"] == "ServiceAccount"]
if not any("eks.amazonaws.com/role-arn" in (a["metadata"].get("annotations") or {}) for a in accounts):
    problems.append("no ServiceAccount carries an IRSA role (eks.amazonaws.com/role-arn)")
for d in docs:
    if d["kind"] == "ConfigMap":
        problems += [f"ConfigMap {d['metadata']['name']} holds {k}" for k in (d.get("data") or {}) if secret_names.search(k)]
    spec = d.get("spec", {}).get("template", {}).get("spec") or d.get("spec", {}).get("jobTargetRef", {}).get("template", {}).get("spec")
    for c in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
        for e in c.get("env") or []:
            if secret_names.search(e["name"]) and "value" in e:
                problems.append(f"{d['kind']} {c['name']}: {e['name']} has a plaintext value")
print("\n".join(problems) or "ok: IRSA role on the ServiceAccount, no Secret rendered, secrets only by reference")
sys.exit(1 if problems else 0)
PY
echo
echo "security: $((ran - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
