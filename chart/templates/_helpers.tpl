{{/*
Chart name, overridable with nameOverride (63 chars: the DNS label limit).
*/}}
{{- define "keda-indexer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full resource name: fullnameOverride, else release name (when it already holds the chart
name) or release-chart.
*/}}
{{- define "keda-indexer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The workers of this release, as template contexts for the per-worker templates (ConfigMap,
Deployment or ScaledJob, ScaledObject, TriggerAuthentication, HPA, PDB, metrics Service,
ServiceMonitor, bootstrap Job). Without `pipelines`: one, the root context itself, so a
single-pipeline release renders exactly what it rendered before pipelines existed. With
`pipelines`: one per entry, in list order, each a copy of the root context whose .Values are the
top-level values deep-merged with the entry (keda-indexer.mergeInto) and whose .Pipeline is the
entry's name. include returns only strings, so the list goes into .out.workers:
  {{- $w := dict }}{{- include "keda-indexer.workers" (dict "ctx" . "out" $w) }}
  {{- range $i, $_ := $w.workers }} … {{ end }}
Fails on a repeated name, a name that makes object names too long, or two pipelines on one queue.
*/}}
{{- define "keda-indexer.workers" -}}
{{- $root := .ctx }}
{{- $workers := list }}
{{- if $root.Values.pipelines }}
{{- $names := dict }}
{{- $queues := dict }}
{{- $buckets := dict }}
{{- range $i, $p := $root.Values.pipelines }}
{{- $where := printf "pipelines[%d]" $i }}
{{- if hasKey $names $p.name }}
{{- fail (printf "%s.name %q is already the name of %s: every pipeline needs its own name (it names its objects)" $where $p.name (get $names $p.name)) }}
{{- end }}
{{- $_ := set $names $p.name $where }}
{{- $values := deepCopy $root.Values }}
{{- include "keda-indexer.mergeInto" (dict "dst" $values "src" (omit (deepCopy $p) "name")) }}
{{- $ctx := dict }}
{{- range $k, $v := $root }}{{ $_ := set $ctx $k $v }}{{ end }}
{{- $_ := set $ctx "Values" $values }}
{{- $_ := set $ctx "Pipeline" $p.name }}
{{- $_ := set $ctx "Root" $root }}
{{- $name := include "keda-indexer.workerName" $ctx }}
{{- if gt (len $name) 53 }}
{{- fail (printf "%s.name %q makes the worker's name %q %d characters long; at most 53 fit (63, the DNS label limit, minus \"-bootstrap\"): shorten the pipeline's name, or set fullnameOverride" $where $p.name $name (len $name)) }}
{{- end }}
{{- with (include "keda-indexer.sqsQueueUrl" $ctx) }}
{{- if hasKey $queues . }}
{{- fail (printf "%s (%q) reads the same queue as %s, %s: they would take each other's messages. Give each pipeline its own config.sqsQueueUrl (or, with the emulator, its own bootstrap.queueName)" $where $p.name (get $queues .) .) }}
{{- end }}
{{- $_ := set $queues . (printf "%s (%q)" $where $p.name) }}
{{- end }}
{{- if $values.bootstrap.enabled }}
{{- with $values.config.s3Bucket }}
{{- if hasKey $buckets . }}
{{- fail (printf "%s (%q) uses bucket %q like %s, and bootstrap.enabled is true: bootstrap keeps one keda-indexer notification per bucket, so each pipeline's Job would replace the other's. Give each pipeline its own config.s3Bucket, or set bootstrap.enabled=false and manage the notifications yourself" $where $p.name . (get $buckets .)) }}
{{- end }}
{{- $_ := set $buckets . (printf "%s (%q)" $where $p.name) }}
{{- end }}
{{- end }}
{{- $workers = append $workers $ctx }}
{{- end }}
{{- else }}
{{- $workers = list $root }}
{{- end }}
{{- $_ := set .out "workers" $workers }}
{{- end }}

{{/*
Deep merge of .src into .dst, in place: a map merges key by key, anything else (a scalar, a list,
null, an empty map) replaces the value at the same path. Unlike sprig's mergeOverwrite it lets a
pipeline set a value to 0, false, "", [] or {} (gpu.count: 0, nodeSelector: {}, tolerations: []).
*/}}
{{- define "keda-indexer.mergeInto" -}}
{{- $dst := .dst }}
{{- range $k, $v := .src }}
{{- $cur := get $dst $k }}
{{- if and (kindIs "map" $v) (kindIs "map" $cur) (not (empty $v)) }}
{{- include "keda-indexer.mergeInto" (dict "dst" $cur "src" $v) }}
{{- else }}
{{- $_ := set $dst $k $v }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of a worker's objects: the full name, or <full name>-<pipeline> in a pipeline's context.
*/}}
{{- define "keda-indexer.workerName" -}}
{{- with (get . "Pipeline") }}
{{- printf "%s-%s" (include "keda-indexer.fullname" $) . }}
{{- else }}
{{- include "keda-indexer.fullname" . }}
{{- end }}
{{- end }}

{{/*
chart label value: name-version.
*/}}
{{- define "keda-indexer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: name and instance only. Anything that changes between releases (chart or app
version) here would make the Deployment selector immutable-field errors on upgrade.
*/}}
{{- define "keda-indexer.selectorLabels" -}}
{{- include "keda-indexer.componentSelectorLabels" (dict "ctx" . "component" "worker") }}
{{- end }}

{{/*
Selector labels of one component (worker, emulator, elasticsearch, bootstrap): name, instance
and component, all stable across releases. The component keeps the worker's selector (and its
PDB, NetworkPolicy and metrics Service) off the emulator's and Elasticsearch's pods. In a
pipeline's context (keda-indexer.workers) keda-indexer.dev/pipeline: <name> follows, so each
pipeline's Deployment, PDB and Service select only its own pods; without pipelines nothing is
added and the selectors stay what they always were.
Call: include "keda-indexer.componentSelectorLabels" (dict "ctx" . "component" "emulator")
*/}}
{{- define "keda-indexer.componentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "keda-indexer.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with (get .ctx "Pipeline") }}
keda-indexer.dev/pipeline: {{ . }}
{{- end }}
{{- end }}

{{/*
Common labels of the worker's objects.
*/}}
{{- define "keda-indexer.labels" -}}
{{- include "keda-indexer.componentLabels" (dict "ctx" . "component" "worker") }}
{{- end }}

{{/*
Common labels of one component's objects.
*/}}
{{- define "keda-indexer.componentLabels" -}}
helm.sh/chart: {{ include "keda-indexer.chart" .ctx }}
{{ include "keda-indexer.componentSelectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | default .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: keda-indexer
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "keda-indexer.jobServiceAccountName" -}}
{{- $sa := (get .ctx.Values .job).serviceAccount }}
{{- if $sa.create }}
{{- default (printf "%s-%s" (include "keda-indexer.fullname" .ctx | trunc 52 | trimSuffix "-") .job) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
The worker's ServiceAccount name. The bootstrap and backfill Jobs run under their own
(keda-indexer.jobServiceAccountName): the worker parses untrusted files, so its role holds only
what it reads and consumes, not CreateQueue, PutBucketNotification or index administration.
Call: include "keda-indexer.jobServiceAccountName" (dict "ctx" . "job" "bootstrap")
*/}}
{{- define "keda-indexer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "keda-indexer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository:tag, or repository@digest when a digest is set.
*/}}
{{- define "keda-indexer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
EMBEDDING_DEVICE: embedding.device, else cuda when the pod gets GPUs, else cpu.
*/}}
{{- define "keda-indexer.embeddingDevice" -}}
{{- if .Values.embedding.device }}
{{- .Values.embedding.device }}
{{- else if gt (int .Values.gpu.count) 0 }}
{{- "cuda" }}
{{- else }}
{{- "cpu" }}
{{- end }}
{{- end }}

{{/*
EMBEDDING_THREADS: embedding.threads, else the pod's CPUs (limits.cpu, else requests.cpu) rounded
up, at least 1; empty when no CPU is set (onnxruntime then uses every core of the node, which
oversubscribes a node shared by several pods).
*/}}
{{- define "keda-indexer.embeddingThreads" -}}
{{- $threads := int .Values.embedding.threads -}}
{{- if gt $threads 0 -}}
{{- $threads -}}
{{- else -}}
{{- $cpu := "" -}}
{{- $resources := .Values.resources | default dict -}}
{{- with (get ($resources.limits | default dict) "cpu") }}{{ $cpu = toString . }}{{ end -}}
{{- if not $cpu }}{{ with (get ($resources.requests | default dict) "cpu") }}{{ $cpu = toString . }}{{ end }}{{ end -}}
{{- if $cpu -}}
{{- if hasSuffix "m" $cpu -}}
{{- max 1 (div (add (trimSuffix "m" $cpu | int) 999) 1000) -}}
{{- else -}}
{{- max 1 (ceil (float64 $cpu) | int) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
Path the Elasticsearch CA certificate is mounted at (ELASTICSEARCH_CA_CERT).
*/}}
{{- define "keda-indexer.caCertDir" -}}
/etc/keda-indexer/elasticsearch-ca
{{- end }}

{{/*
Container resources: .Values.resources plus the GPU count, written into limits and requests
alike under gpu.resourceName.
*/}}
{{- define "keda-indexer.resources" -}}
{{- $res := deepCopy (.Values.resources | default dict) }}
{{- $gpus := int .Values.gpu.count }}
{{- if gt $gpus 0 }}
{{- $limits := get $res "limits" | default dict }}
{{- $requests := get $res "requests" | default dict }}
{{- $_ := set $limits .Values.gpu.resourceName $gpus }}
{{- $_ := set $requests .Values.gpu.resourceName $gpus }}
{{- $_ := set $res "limits" $limits }}
{{- $_ := set $res "requests" $requests }}
{{- end }}
{{- toYaml $res }}
{{- end }}

{{/*
Fails unless KEDA's API is served, when KEDA objects are rendered and the check is not skipped.
*/}}
{{- define "keda-indexer.requireKeda" -}}
{{- if and .Values.keda.enabled (not .Values.keda.skipApiCheck) (not (.Capabilities.APIVersions.Has "keda.sh/v1alpha1")) }}
{{- fail "keda.enabled is true but the cluster does not serve keda.sh/v1alpha1: install KEDA (>= 2.13) first, set keda.enabled=false, or set keda.skipApiCheck=true (helm template: --api-versions keda.sh/v1alpha1)" }}
{{- end }}
{{- end }}

{{/*
Names of the optional in-chart components.
*/}}
{{- define "keda-indexer.emulatorName" -}}
{{- printf "%s-moto" (include "keda-indexer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "keda-indexer.elasticsearchName" -}}
{{- printf "%s-elasticsearch" (include "keda-indexer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
AWS_ENDPOINT_URL: config.awsEndpointUrl, else the in-chart emulator's fully qualified Service
URL (the KEDA operator runs in another namespace), else empty (AWS).
*/}}
{{- define "keda-indexer.awsEndpointUrl" -}}
{{- if .Values.config.awsEndpointUrl }}
{{- .Values.config.awsEndpointUrl }}
{{- else if .Values.emulator.enabled }}
{{- printf "http://%s.%s.svc.%s:%v" (include "keda-indexer.emulatorName" .) .Release.Namespace .Values.clusterDomain .Values.emulator.port }}
{{- end }}
{{- end }}

{{/*
SQS_QUEUE_URL: config.sqsQueueUrl, else (emulator) the emulator's URL of bootstrap.queueName.
*/}}
{{- define "keda-indexer.sqsQueueUrl" -}}
{{- if .Values.config.sqsQueueUrl }}
{{- .Values.config.sqsQueueUrl }}
{{- else if .Values.emulator.enabled }}
{{- printf "%s/%s/%s" (include "keda-indexer.awsEndpointUrl" .) (toString .Values.emulator.accountId) .Values.bootstrap.queueName }}
{{- end }}
{{- end }}

{{/*
ELASTICSEARCH_URL: elasticsearch.url, else the in-chart node's Service.
*/}}
{{- define "keda-indexer.elasticsearchUrl" -}}
{{- if .Values.elasticsearch.url }}
{{- .Values.elasticsearch.url }}
{{- else if .Values.localElasticsearch.enabled }}
{{- printf "http://%s.%s.svc.%s:9200" (include "keda-indexer.elasticsearchName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}
{{- end }}

{{/*
Secret with the static AWS keys: aws.credentials.existingSecret, else the chart-made one when
accessKeyId is set, else empty (the SDK's default chain).
*/}}
{{- define "keda-indexer.awsSecretName" -}}
{{- if .Values.aws.credentials.existingSecret }}
{{- .Values.aws.credentials.existingSecret }}
{{- else if .Values.aws.credentials.accessKeyId }}
{{- printf "%s-aws" (include "keda-indexer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Model folder name and EMBEDDING_MODEL.
*/}}
{{- define "keda-indexer.modelDirName" -}}
{{- .Values.model.dirName | default (last (splitList "/" (trimSuffix "/" .Values.embedding.model))) }}
{{- end }}
{{- define "keda-indexer.embeddingModel" -}}
{{- if eq .Values.model.source "image" }}
{{- .Values.embedding.model }}
{{- else }}
{{- printf "%s/%s" (trimSuffix "/" .Values.model.mountPath) (include "keda-indexer.modelDirName" .) }}
{{- end }}
{{- end }}

{{/*
ONNX file of embedding.dtype, relative to the model folder (transformers.js naming).
*/}}
{{- define "keda-indexer.modelPins" -}}
{{- $pins := get .Values.model.download.sha256 .Values.embedding.model | default dict }}
{{- range $file := keys $pins | sortAlpha }}
{{ get $pins $file }} {{ $file }}
{{- end }}
{{- end }}

{{/*
The ONNX file of embedding.dtype, in the model folder.
*/}}
{{- define "keda-indexer.onnxFile" -}}
{{- $suffix := dict "fp32" "" "fp16" "_fp16" "q8" "_quantized" }}
{{- printf "onnx/model%s.onnx" (get $suffix .Values.embedding.dtype) }}
{{- end }}

{{/*
terminationGracePeriodSeconds: worker.terminationGracePeriodSeconds, else the drain deadline
plus 15 s (time for the SDK calls that release the rest of the messages, and the exit).
*/}}
{{- define "keda-indexer.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.worker.terminationGracePeriodSeconds }}
{{- add (int .Values.worker.drainDeadlineSeconds) 15 }}
{{- else }}
{{- int .Values.worker.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Whether the metrics Service is rendered (asked for, or needed by the ServiceMonitor).
*/}}
{{- define "keda-indexer.metricsService" -}}
{{- if or .Values.metrics.service.enabled .Values.metrics.serviceMonitor.enabled }}true{{ end }}
{{- end }}

{{/*
Every cross-value rule, with a message that says what to change. Included by the templates
whose output depends on them (each includes it, so each test suite sees the failures).
*/}}
{{- define "keda-indexer.validate" -}}
{{- $v := .Values }}
{{- $keda := $v.keda }}
{{- $where := "" }}
{{- with (get . "Pipeline") }}{{ $where = printf "pipeline %q: " . }}{{ end }}
{{- if not (has $v.mode (list "deployment" "job")) }}
{{- fail (printf "%smode must be deployment or job, not %q" $where $v.mode) }}
{{- end }}
{{- if and (eq $v.mode "job") (not $keda.enabled) }}
{{- fail (print $where "mode=job renders a KEDA ScaledJob: it needs keda.enabled=true (or use mode=deployment with replicaCount)") }}
{{- end }}
{{- if and $keda.enabled $v.autoscaling.enabled }}
{{- fail (print $where "keda.enabled and autoscaling.enabled are both true: KEDA already drives an HPA for the worker, and two autoscalers on one Deployment fight. Turn one off (autoscaling is the fallback for clusters without KEDA)") }}
{{- end }}
{{- if and (not $keda.enabled) (not (empty $keda.advanced)) }}
{{- fail (print $where "keda.advanced (the HPA behaviour KEDA applies) is set but keda.enabled is false: nothing would use it. Use autoscaling.behavior for the plain HPA, or enable KEDA") }}
{{- end }}
{{- if and (eq $v.mode "job") $v.autoscaling.enabled }}
{{- fail (print $where "autoscaling.enabled needs mode=deployment: an HPA cannot scale a ScaledJob") }}
{{- end }}
{{- $min := int $keda.minReplicaCount }}
{{- $max := int $keda.maxReplicaCount }}
{{- if gt $min $max }}
{{- fail (printf "%skeda.minReplicaCount (%d) must not exceed keda.maxReplicaCount (%d)" $where $min $max) }}
{{- end }}
{{- if not (kindIs "invalid" $keda.idleReplicaCount) }}
{{- if ge (int $keda.idleReplicaCount) $min }}
{{- fail (printf "%skeda.idleReplicaCount (%d) must be below keda.minReplicaCount (%d): KEDA rejects idleReplicaCount >= minReplicaCount (to scale to zero when idle, leave idleReplicaCount empty and set minReplicaCount 0)" $where (int $keda.idleReplicaCount) $min) }}
{{- end }}
{{- end }}
{{- with $keda.fallback }}
{{- if eq $v.mode "job" }}
{{- fail (print $where "keda.fallback applies to ScaledObjects only; ScaledJob (mode=job) has no fallback") }}
{{- end }}
{{- if or (not (hasKey . "failureThreshold")) (not (hasKey . "replicas")) }}
{{- fail (print $where "keda.fallback needs both failureThreshold and replicas") }}
{{- end }}
{{- if gt (int .replicas) $max }}
{{- fail (printf "%skeda.fallback.replicas (%d) must not exceed keda.maxReplicaCount (%d)" $where (int .replicas) $max) }}
{{- end }}
{{- end }}
{{- $grace := int (include "keda-indexer.terminationGracePeriodSeconds" .) }}
{{- if le $grace (int $v.worker.drainDeadlineSeconds) }}
{{- fail (printf "%sworker.terminationGracePeriodSeconds (%d) must be above worker.drainDeadlineSeconds (%d): Kubernetes would kill the pod while it drains" $where $grace (int $v.worker.drainDeadlineSeconds)) }}
{{- end }}
{{- if eq $v.model.source "download" }}
{{- $onnx := include "keda-indexer.onnxFile" . }}
{{- $pins := get $v.model.download.sha256 $v.embedding.model | default dict }}
{{- if not (get $pins $onnx) }}
{{- fail (printf "%smodel.source=download would run %s/%s unverified: pin its SHA-256 under model.download.sha256 (%q: {%q: <sha256>}; scripts/fetch-model's manifests list them, or sha256sum a copy you trust), or use model.source=copy or image" $where $v.embedding.model $onnx $v.embedding.model $onnx) }}
{{- end }}
{{- range $file, $sha := $pins }}
{{- if not (regexMatch "^[0-9a-f]{64}$" (toString $sha)) }}
{{- fail (printf "%smodel.download.sha256 %q %q must be 64 lower-case hex digits, got %q" $where $v.embedding.model $file (toString $sha)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq $v.model.source "copy") (not $v.model.copy.image) }}
{{- fail (print $where "model.source=copy needs model.copy.image (an image holding the model folder)") }}
{{- end }}
{{- if and (eq $v.model.source "pvc") (not $v.model.pvc.existingClaim) }}
{{- fail (print $where "model.source=pvc needs model.pvc.existingClaim (a claim holding the model folder)") }}
{{- end }}
{{- $creds := $v.aws.credentials }}
{{- if and (not $creds.existingSecret) (ne (empty $creds.accessKeyId) (empty $creds.secretAccessKey)) }}
{{- fail (print $where "aws.credentials.accessKeyId and aws.credentials.secretAccessKey go together (emulators only; real keys belong in aws.credentials.existingSecret)") }}
{{- end }}
{{- if and (not $creds.existingSecret) (or $creds.accessKeyId $creds.secretAccessKey) (not (include "keda-indexer.awsEndpointUrl" .)) }}
{{- fail (print $where "aws.credentials.accessKeyId/secretAccessKey are for an AWS emulator (emulator.enabled or config.awsEndpointUrl): against AWS itself the chart would put real keys in a Secret and in the release's history. Use IRSA or EKS Pod Identity (serviceAccount.annotations), or a Secret of your own in aws.credentials.existingSecret") }}
{{- end }}
{{- if and $keda.enabled (eq $keda.authentication.mode "secret") (not (include "keda-indexer.awsSecretName" .)) }}
{{- fail (print $where "keda.authentication.mode=secret needs aws.credentials.existingSecret (or, for an emulator, aws.credentials.accessKeyId and secretAccessKey)") }}
{{- end }}
{{- /* What the worker cannot start without: caught at render time, with the fix, rather than as a crash-looping pod. */}}
{{- if not (include "keda-indexer.sqsQueueUrl" .) }}
{{- fail (print $where "config.sqsQueueUrl is empty: set it to the URL of the queue the bucket notifies (https://sqs.<region>.amazonaws.com/<account>/<queue>), or set emulator.enabled=true for the in-chart emulator's queue (values-local.yaml)") }}
{{- end }}
{{- if and (not (include "keda-indexer.elasticsearchUrl" .)) (not (hasKey $v.config.extra "ELASTICSEARCH_CLOUD_ID")) }}
{{- fail (print $where "elasticsearch.url is empty: set it to the cluster's URL (https://elasticsearch.example.internal:9200; credentials go in elasticsearch.apiKey or username/password), or set localElasticsearch.enabled=true for the in-chart node (values-local.yaml)") }}
{{- end }}
{{- if and (not $v.config.s3Bucket) (not $v.config.s3AllowedBuckets) }}
{{- fail (print $where "config.s3Bucket and config.s3AllowedBuckets are both empty: the worker reads only buckets it is allowed to, and refuses to start with none. Set config.s3Bucket to the bucket the queue is notified from") }}
{{- end }}
{{- if and $v.bootstrap.enabled (not $v.config.s3Bucket) }}
{{- fail (print $where "bootstrap.enabled needs config.s3Bucket (the bucket to create and connect to the queue)") }}
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

{{/*
The aws-sqs-queue trigger shared by the ScaledObject and the ScaledJob. The CRD types every
metadata value as a string: all are quoted.
*/}}
{{- define "keda-indexer.sqsTrigger" -}}
{{- $trigger := .Values.keda.trigger }}
{{- $awsEndpoint := $trigger.awsEndpoint | default (include "keda-indexer.awsEndpointUrl" .) }}
- type: aws-sqs-queue
  {{- if ne .Values.keda.authentication.mode "none" }}
  authenticationRef:
    name: {{ include "keda-indexer.workerName" . }}
  {{- end }}
  metadata:
    queueURL: {{ include "keda-indexer.sqsQueueUrl" . | quote }}
    awsRegion: {{ .Values.config.awsRegion | quote }}
    {{- with $awsEndpoint }}
    awsEndpoint: {{ . | quote }}
    {{- end }}
    queueLength: {{ $trigger.queueLength | toString | quote }}
    activationQueueLength: {{ $trigger.activationQueueLength | toString | quote }}
    scaleOnInFlight: {{ $trigger.scaleOnInFlight | toString | quote }}
    scaleOnDelayed: {{ $trigger.scaleOnDelayed | toString | quote }}
{{- end }}

{{/*
A worker's ConfigMap: every plain-text setting, as its environment (secrets come from Secrets, see
_pod.tpl: secretEnv). templates/configmap.yaml renders it once per worker and the pod template
hashes it (checksum/config). Its text, plus a final newline, is what templates/configmap.yaml
rendered before pipelines existed, so a single-pipeline release keeps its checksum.
*/}}
{{- define "keda-indexer.configmap" -}}
{{- include "keda-indexer.validate" . }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "keda-indexer.workerName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "keda-indexer.labels" . | nindent 4 }}
data:
  AWS_REGION: {{ .Values.config.awsRegion | quote }}
  {{- with (include "keda-indexer.awsEndpointUrl" .) }}
  AWS_ENDPOINT_URL: {{ . | quote }}
  {{- end }}
  SQS_QUEUE_URL: {{ include "keda-indexer.sqsQueueUrl" . | quote }}
  {{- with .Values.config.sqsDeadLetterQueueUrl }}
  SQS_DEAD_LETTER_QUEUE_URL: {{ . | quote }}
  {{- end }}
  SQS_VISIBILITY_TIMEOUT_SECONDS: {{ .Values.config.sqsVisibilityTimeoutSeconds | toString | quote }}
  S3_BUCKET: {{ .Values.config.s3Bucket | quote }}
  {{- with .Values.config.s3Prefix }}
  S3_PREFIX: {{ . | quote }}
  {{- end }}
  {{- with .Values.config.s3AllowedBuckets }}
  S3_ALLOWED_BUCKETS: {{ join "," . | quote }}
  {{- end }}
  WORKER_CONCURRENCY: {{ .Values.worker.concurrency | toString | quote }}
  WORKER_DRAIN_DEADLINE_SECONDS: {{ .Values.worker.drainDeadlineSeconds | toString | quote }}
  ELASTICSEARCH_URL: {{ include "keda-indexer.elasticsearchUrl" . | quote }}
  ELASTICSEARCH_INDEX: {{ .Values.elasticsearch.index | quote }}
  {{- with .Values.elasticsearch.username }}
  ELASTICSEARCH_USERNAME: {{ . | quote }}
  {{- end }}
  {{- if .Values.elasticsearch.caCert.existingSecret }}
  ELASTICSEARCH_CA_CERT: {{ printf "%s/%s" (include "keda-indexer.caCertDir" .) .Values.elasticsearch.caCert.key | quote }}
  {{- end }}
  EMBEDDING_MODEL: {{ include "keda-indexer.embeddingModel" . | quote }}
  EMBEDDING_DEVICE: {{ include "keda-indexer.embeddingDevice" . | quote }}
  EMBEDDING_DTYPE: {{ .Values.embedding.dtype | quote }}
  {{- with (include "keda-indexer.embeddingThreads" .) }}
  EMBEDDING_THREADS: {{ . | quote }}
  {{- end }}
  HTTP_PORT: {{ .Values.config.httpPort | toString | quote }}
  LOG_LEVEL: {{ .Values.config.logLevel | quote }}
  {{- range $name, $value := .Values.config.extra }}
  {{ $name }}: {{ $value | toString | quote }}
  {{- end }}
{{- end }}

{{/*
Egress rules of the NetworkPolicies: DNS, AWS (and the in-chart emulator), Elasticsearch (and the
in-chart node) when "elasticsearch" is true, and networkPolicy.extraEgress.
Call: include "keda-indexer.networkPolicyEgress" (dict "ctx" . "elasticsearch" true)
*/}}
{{- define "keda-indexer.networkPolicyEgress" -}}
{{- $ctx := .ctx }}
{{- $np := $ctx.Values.networkPolicy }}
# DNS
- to:
    {{- toYaml $np.dns.to | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
# AWS: SQS, S3 (and STS for IRSA)
- to:
    {{- toYaml $np.aws.to | nindent 4 }}
  ports:
    {{- range $np.aws.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
{{- if $ctx.Values.emulator.enabled }}
# the in-chart AWS emulator
- to:
    - podSelector:
        matchLabels:
          {{- include "keda-indexer.componentSelectorLabels" (dict "ctx" $ctx "component" "emulator") | nindent 10 }}
  ports:
    - port: {{ $ctx.Values.emulator.port }}
      protocol: TCP
{{- end }}
{{- if .elasticsearch }}
# Elasticsearch
- ports:
    {{- range $np.elasticsearch.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $np.elasticsearch.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if $ctx.Values.localElasticsearch.enabled }}
# the in-chart Elasticsearch node
- to:
    - podSelector:
        matchLabels:
          {{- include "keda-indexer.componentSelectorLabels" (dict "ctx" $ctx "component" "elasticsearch") | nindent 10 }}
  ports:
    - port: 9200
      protocol: TCP
{{- end }}
{{- end }}
{{- with $np.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end }}
