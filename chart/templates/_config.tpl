{{/*
Configuration: what the worker is told (image, device, threads, endpoints, model, resources,
the KEDA trigger, network egress), derived from values in one place for every template.
*/}}

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

{{- define "keda-indexer.embeddingModel" -}}
{{- if eq .Values.model.source "image" }}
{{- .Values.embedding.model }}
{{- else }}
{{- printf "%s/%s" (trimSuffix "/" .Values.model.mountPath) (include "keda-indexer.modelDirName" .) }}
{{- end }}
{{- end }}

{{/*
The hub revision the download init container fetches: model.download.revision, else the model's
commit in model.download.revisions, else main.
*/}}
{{- define "keda-indexer.modelRevision" -}}
{{- $d := .Values.model.download }}
{{- $d.revision | default (get ($d.revisions | default dict) .Values.embedding.model) | default "main" }}
{{- end }}

{{/*
"<sha256> <path>" lines of the model's pinned files (model.download.sha256), for the init container.
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
