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
  {{- /* Metadata and access: rendered only when not the worker's default, so a release without them keeps its checksum. */}}
  {{- with .Values.config.metadata }}
  {{- if not .objectMetadata }}
  S3_READ_METADATA: "false"
  {{- end }}
  {{- if .tags }}
  S3_READ_TAGS: "true"
  {{- end }}
  {{- if .sidecars }}
  S3_READ_SIDECARS: "true"
  {{- end }}
  {{- with .fields }}
  METADATA_FIELDS: {{ include "keda-indexer.metadataFields" . | quote }}
  {{- end }}
  {{- end }}
  {{- with .Values.config.acl }}
  {{- with .metadataKey }}
  ACL_METADATA_KEY: {{ . | quote }}
  {{- end }}
  {{- if eq .default "public" }}
  ACL_DEFAULT: "public"
  {{- end }}
  {{- end }}
  WORKER_CONCURRENCY: {{ .Values.worker.concurrency | toString | quote }}
  WORKER_DRAIN_DEADLINE_SECONDS: {{ .Values.worker.drainDeadlineSeconds | toString | quote }}
  {{- /* The worker writes to Elasticsearch: said explicitly, so a missing URL is a clear startup error. */}}
  STORE: "elasticsearch"
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
  OCR_MODE: {{ .Values.ocr.mode | quote }}
  OCR_LANGUAGES: {{ join "+" .Values.ocr.languages | quote }}
  {{- with .Values.ocr.maxPages }}
  OCR_MAX_PAGES: {{ . | toString | quote }}
  {{- end }}
  {{- with .Values.ocr.maxSeconds }}
  OCR_MAX_SECONDS: {{ . | toString | quote }}
  {{- end }}
  HTTP_PORT: {{ .Values.config.httpPort | toString | quote }}
  LOG_LEVEL: {{ .Values.config.logLevel | quote }}
  {{- range $name, $value := .Values.config.extra }}
  {{ $name }}: {{ $value | toString | quote }}
  {{- end }}
{{- end }}

{{/*
METADATA_FIELDS from config.metadata.fields (a mapping of name to type): name:type pairs joined by
commas, in name order.
*/}}
{{- define "keda-indexer.metadataFields" -}}
{{- $pairs := list }}
{{- range $name, $type := . }}
{{- $pairs = append $pairs (printf "%s:%s" $name $type) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
