{{/*
Labels: the minimal, immutable selector labels and the full set on every object.
*/}}

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
