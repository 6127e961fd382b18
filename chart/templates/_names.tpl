{{/*
Names of the chart's objects: the release's full name, each worker's, the emulator's and the
local Elasticsearch's, service accounts and the model folder.
*/}}

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
Names of the optional in-chart components.
*/}}
{{- define "keda-indexer.emulatorName" -}}
{{- printf "%s-moto" (include "keda-indexer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keda-indexer.elasticsearchName" -}}
{{- printf "%s-elasticsearch" (include "keda-indexer.fullname" .) | trunc 63 | trimSuffix "-" }}
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

{{/*
Whether the metrics Service is rendered (asked for, or needed by the ServiceMonitor).
*/}}
{{- define "keda-indexer.metricsService" -}}
{{- if or .Values.metrics.service.enabled .Values.metrics.serviceMonitor.enabled }}true{{ end }}
{{- end }}
