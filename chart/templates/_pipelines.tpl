{{/*
Pipelines: the workers of a release, one per `pipelines` entry (or the release itself), each a
context whose values are the top-level values deep-merged with its entry.
*/}}

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
