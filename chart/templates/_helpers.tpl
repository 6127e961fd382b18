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
app.kubernetes.io/name: {{ include "keda-indexer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels on every object.
*/}}
{{- define "keda-indexer.labels" -}}
helm.sh/chart: {{ include "keda-indexer.chart" . }}
{{ include "keda-indexer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: worker
app.kubernetes.io/part-of: keda-indexer
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
ServiceAccount name.
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
