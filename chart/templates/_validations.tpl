{{/*
Validation: every rule across values, and the APIs the cluster must serve, checked at render time
with a message that says what to change.
*/}}

{{/*
Fails unless KEDA's API is served, when KEDA objects are rendered and the check is not skipped.
*/}}
{{- define "keda-indexer.requireKeda" -}}
{{- if and .Values.keda.enabled (not .Values.keda.skipApiCheck) (not (.Capabilities.APIVersions.Has "keda.sh/v1alpha1")) }}
{{- fail "keda.enabled is true but the cluster does not serve keda.sh/v1alpha1: install KEDA (>= 2.13) first, set keda.enabled=false, or set keda.skipApiCheck=true (helm template: --api-versions keda.sh/v1alpha1)" }}
{{- end }}
{{- end }}

{{/*
Every cross-value rule, with a message that says what to change. Every rule is checked and the
render fails once, listing all that are broken (a single one as its own message), so a values file
is fixed in one pass. Included by the templates whose output depends on them (each includes it,
so each test suite sees the failures).
*/}}
{{- define "keda-indexer.validate" -}}
{{- $v := .Values }}
{{- $keda := $v.keda }}
{{- $where := "" }}
{{- $problems := list }}
{{- with (get . "Pipeline") }}{{ $where = printf "pipeline %q: " . }}{{ end }}
{{- if not (has $v.mode (list "deployment" "job")) }}
{{- $problems = append $problems (printf "%smode must be deployment or job, not %q" $where $v.mode) }}
{{- end }}
{{- if and (eq $v.mode "job") (not $keda.enabled) }}
{{- $problems = append $problems (print $where "mode=job renders a KEDA ScaledJob: it needs keda.enabled=true (or use mode=deployment with replicaCount)") }}
{{- end }}
{{- if and $keda.enabled $v.autoscaling.enabled }}
{{- $problems = append $problems (print $where "keda.enabled and autoscaling.enabled are both true: KEDA already drives an HPA for the worker, and two autoscalers on one Deployment fight. Turn one off (autoscaling is the fallback for clusters without KEDA)") }}
{{- end }}
{{- if and (not $keda.enabled) (not (empty $keda.advanced)) }}
{{- $problems = append $problems (print $where "keda.advanced (the HPA behaviour KEDA applies) is set but keda.enabled is false: nothing would use it. Use autoscaling.behavior for the plain HPA, or enable KEDA") }}
{{- end }}
{{- if and (eq $v.mode "job") $v.autoscaling.enabled }}
{{- $problems = append $problems (print $where "autoscaling.enabled needs mode=deployment: an HPA cannot scale a ScaledJob") }}
{{- end }}
{{- $min := int $keda.minReplicaCount }}
{{- $max := int $keda.maxReplicaCount }}
{{- if gt $min $max }}
{{- $problems = append $problems (printf "%skeda.minReplicaCount (%d) must not exceed keda.maxReplicaCount (%d)" $where $min $max) }}
{{- end }}
{{- if not (kindIs "invalid" $keda.idleReplicaCount) }}
{{- if ge (int $keda.idleReplicaCount) $min }}
{{- $problems = append $problems (printf "%skeda.idleReplicaCount (%d) must be below keda.minReplicaCount (%d): KEDA rejects idleReplicaCount >= minReplicaCount (to scale to zero when idle, leave idleReplicaCount empty and set minReplicaCount 0)" $where (int $keda.idleReplicaCount) $min) }}
{{- end }}
{{- end }}
{{- with $keda.fallback }}
{{- if eq $v.mode "job" }}
{{- $problems = append $problems (print $where "keda.fallback applies to ScaledObjects only; ScaledJob (mode=job) has no fallback") }}
{{- end }}
{{- if or (not (hasKey . "failureThreshold")) (not (hasKey . "replicas")) }}
{{- $problems = append $problems (print $where "keda.fallback needs both failureThreshold and replicas") }}
{{- end }}
{{- if gt (int .replicas) $max }}
{{- $problems = append $problems (printf "%skeda.fallback.replicas (%d) must not exceed keda.maxReplicaCount (%d)" $where (int .replicas) $max) }}
{{- end }}
{{- end }}
{{- $grace := int (include "keda-indexer.terminationGracePeriodSeconds" .) }}
{{- if le $grace (int $v.worker.drainDeadlineSeconds) }}
{{- $problems = append $problems (printf "%sworker.terminationGracePeriodSeconds (%d) must be above worker.drainDeadlineSeconds (%d): Kubernetes would kill the pod while it drains" $where $grace (int $v.worker.drainDeadlineSeconds)) }}
{{- end }}
{{- if eq $v.model.source "download" }}
{{- $onnx := include "keda-indexer.onnxFile" . }}
{{- $pins := get $v.model.download.sha256 $v.embedding.model | default dict }}
{{- if not (get $pins $onnx) }}
{{- $problems = append $problems (printf "%smodel.source=download would run %s/%s unverified: pin its SHA-256 under model.download.sha256 (%q: {%q: <sha256>}; scripts/fetch-model's manifests list them, or sha256sum a copy you trust), or use model.source=copy or image" $where $v.embedding.model $onnx $v.embedding.model $onnx) }}
{{- end }}
{{- range $file, $sha := $pins }}
{{- if not (regexMatch "^[0-9a-f]{64}$" (toString $sha)) }}
{{- $problems = append $problems (printf "%smodel.download.sha256 %q %q must be 64 lower-case hex digits, got %q" $where $v.embedding.model $file (toString $sha)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq $v.model.source "copy") (not $v.model.copy.image) }}
{{- $problems = append $problems (print $where "model.source=copy needs model.copy.image (an image holding the model folder)") }}
{{- end }}
{{- if and (eq $v.model.source "pvc") (not $v.model.pvc.existingClaim) }}
{{- $problems = append $problems (print $where "model.source=pvc needs model.pvc.existingClaim (a claim holding the model folder)") }}
{{- end }}
{{- $creds := $v.aws.credentials }}
{{- if and (not $creds.existingSecret) (ne (empty $creds.accessKeyId) (empty $creds.secretAccessKey)) }}
{{- $problems = append $problems (print $where "aws.credentials.accessKeyId and aws.credentials.secretAccessKey go together (emulators only; real keys belong in aws.credentials.existingSecret)") }}
{{- end }}
{{- if and (not $creds.existingSecret) (or $creds.accessKeyId $creds.secretAccessKey) (not (include "keda-indexer.awsEndpointUrl" .)) }}
{{- $problems = append $problems (print $where "aws.credentials.accessKeyId/secretAccessKey are for an AWS emulator (emulator.enabled or config.awsEndpointUrl): against AWS itself the chart would put real keys in a Secret and in the release's history. Use IRSA or EKS Pod Identity (serviceAccount.annotations), or a Secret of your own in aws.credentials.existingSecret") }}
{{- end }}
{{- if and $keda.enabled (eq $keda.authentication.mode "secret") (not (include "keda-indexer.awsSecretName" .)) }}
{{- $problems = append $problems (print $where "keda.authentication.mode=secret needs aws.credentials.existingSecret (or, for an emulator, aws.credentials.accessKeyId and secretAccessKey)") }}
{{- end }}
{{- /* What the worker cannot start without: caught at render time, with the fix, rather than as a crash-looping pod. */}}
{{- if not (include "keda-indexer.sqsQueueUrl" .) }}
{{- $problems = append $problems (print $where "config.sqsQueueUrl is empty: set it to the URL of the queue the bucket notifies (https://sqs.<region>.amazonaws.com/<account>/<queue>), or set emulator.enabled=true for the in-chart emulator's queue (values-local.yaml)") }}
{{- end }}
{{- if and (not (include "keda-indexer.elasticsearchUrl" .)) (not (hasKey $v.config.extra "ELASTICSEARCH_CLOUD_ID")) }}
{{- $problems = append $problems (print $where "elasticsearch.url is empty: set it to the cluster's URL (https://elasticsearch.example.internal:9200; credentials go in elasticsearch.apiKey or username/password), or set localElasticsearch.enabled=true for the in-chart node (values-local.yaml)") }}
{{- end }}
{{- if and (not $v.config.s3Bucket) (not $v.config.s3AllowedBuckets) }}
{{- $problems = append $problems (print $where "config.s3Bucket and config.s3AllowedBuckets are both empty: the worker reads only buckets it is allowed to, and refuses to start with none. Set config.s3Bucket to the bucket the queue is notified from") }}
{{- end }}
{{- if and $v.bootstrap.enabled (not $v.config.s3Bucket) }}
{{- $problems = append $problems (print $where "bootstrap.enabled needs config.s3Bucket (the bucket to create and connect to the queue)") }}
{{- end }}
{{- if eq (len $problems) 1 }}
{{- fail (first $problems) }}
{{- else if $problems }}
{{- fail (printf "%d problems with the values\n- %s" (len $problems) (join "\n- " $problems)) }}
{{- end }}
{{- end }}

{{/*
Fails unless the Prometheus Operator's API is served, when a ServiceMonitor is asked for.
*/}}
{{- define "keda-indexer.requireServiceMonitor" -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.serviceMonitor.skipApiCheck) (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) }}
{{- fail "metrics.serviceMonitor.enabled is true but the cluster does not serve monitoring.coreos.com/v1: install the Prometheus Operator (e.g. kube-prometheus-stack) first, turn the ServiceMonitor off, or set metrics.serviceMonitor.skipApiCheck=true (helm template: --api-versions monitoring.coreos.com/v1)" }}
{{- end }}
{{- end }}
