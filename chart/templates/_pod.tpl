{{/*
The worker's pod template (metadata + spec), shared by the Deployment (mode deployment) and the
ScaledJob (mode job). Call with (dict "ctx" . "args" (list "worker") "job" false), where . is a
worker's context (keda-indexer.workers).
*/}}
{{- define "keda-indexer.podTemplate" -}}
{{- $ := .ctx }}
{{- $v := $.Values }}
metadata:
  annotations:
    {{- /* This worker's ConfigMap, as templates/configmap.yaml renders it (with its final newline);
    the AWS Secret is the release's, hashed from the root context (a pipeline's adds its label). */}}
    checksum/config: {{ printf "%s\n" (include "keda-indexer.configmap" $) | sha256sum }}
    {{- if and (not $v.aws.credentials.existingSecret) $v.aws.credentials.accessKeyId }}
    checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") (get $ "Root" | default $) | sha256sum }}
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "keda-indexer.labels" $ | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "keda-indexer.serviceAccountName" $ }}
  automountServiceAccountToken: {{ $v.serviceAccount.automountServiceAccountToken }}
  {{- if .job }}
  restartPolicy: Never
  {{- end }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ include "keda-indexer.terminationGracePeriodSeconds" $ }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with (include "keda-indexer.modelInitContainers" $ | trim) }}
  initContainers:
    {{- . | nindent 4 }}
  {{- end }}
  containers:
    - name: worker
      image: {{ include "keda-indexer.image" $ | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      {{- with $v.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      args:
        {{- toYaml .args | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ $v.config.httpPort }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "keda-indexer.workerName" $ }}
      {{- with (include "keda-indexer.secretEnv" $ | trim) }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with $v.startupProbe }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.livenessProbe }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.readinessProbe }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      resources:
        {{- include "keda-indexer.resources" $ | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if ne $v.model.source "image" }}
        - name: model
          mountPath: {{ $v.model.mountPath }}
          readOnly: true
          {{- if and (eq $v.model.source "pvc") $v.model.pvc.subPath }}
          subPath: {{ $v.model.pvc.subPath }}
          {{- end }}
        {{- end }}
        {{- if and (gt (int $v.gpu.count) 0) $v.gpu.shmSize }}
        - name: dshm
          mountPath: /dev/shm
        {{- end }}
        {{- if $v.elasticsearch.caCert.existingSecret }}
        - name: elasticsearch-ca
          mountPath: {{ include "keda-indexer.caCertDir" $ }}
          readOnly: true
        {{- end }}
        {{- with $v.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSizeLimit }}
    {{- with (include "keda-indexer.modelVolume" $ | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- if and (gt (int $v.gpu.count) 0) $v.gpu.shmSize }}
    - name: dshm
      emptyDir:
        medium: Memory
        sizeLimit: {{ $v.gpu.shmSize }}
    {{- end }}
    {{- with $v.elasticsearch.caCert.existingSecret }}
    - name: elasticsearch-ca
      secret:
        secretName: {{ . }}
        items:
          - key: {{ $v.elasticsearch.caCert.key }}
            path: {{ $v.elasticsearch.caCert.key }}
    {{- end }}
    {{- with $v.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
Secret-sourced environment (never in the ConfigMap): Elasticsearch API key / password, static
AWS keys, then extraEnv. Empty when there is none.
*/}}
{{- define "keda-indexer.secretEnv" -}}
{{- include "keda-indexer.elasticsearchSecretEnv" . }}
{{- include "keda-indexer.awsSecretEnv" . }}
{{- end }}

{{/*
The Elasticsearch credentials, from their Secrets (worker and bootstrap only: backfill never
talks to Elasticsearch and gets none).
*/}}
{{- define "keda-indexer.elasticsearchSecretEnv" -}}
{{- $v := .Values }}
{{- with $v.elasticsearch.apiKey.existingSecret }}
- name: ELASTICSEARCH_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.elasticsearch.apiKey.key }}
{{- end }}
{{- with $v.elasticsearch.password.existingSecret }}
- name: ELASTICSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.elasticsearch.password.key }}
{{- end }}
{{- end }}

{{/* The static AWS keys (emulators, non-EKS clusters), then extraEnv. */}}
{{- define "keda-indexer.awsSecretEnv" -}}
{{- $v := .Values }}
{{- with (include "keda-indexer.awsSecretName" .) }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.aws.credentials.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.aws.credentials.secretAccessKeyKey }}
{{- if $v.aws.credentials.sessionTokenKey }}
- name: AWS_SESSION_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.aws.credentials.sessionTokenKey }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The model volume ("model"): an emptyDir (download, copy), the existing claim (pvc), or nothing
(image).
*/}}
{{- define "keda-indexer.modelVolume" -}}
{{- $m := .Values.model }}
{{- if has $m.source (list "download" "copy") }}
- name: model
  emptyDir:
    sizeLimit: {{ $m.sizeLimit }}
{{- else if eq $m.source "pvc" }}
- name: model
  persistentVolumeClaim:
    claimName: {{ $m.pvc.existingClaim }}
    readOnly: true
{{- end }}
{{- end }}

{{/*
The init container that fills the model emptyDir before the worker starts: from the Hugging
Face hub with curl (download), or from a model image (copy). Files already there are kept.
*/}}
{{- define "keda-indexer.modelInitContainers" -}}
{{- $v := .Values }}
{{- $m := $v.model }}
{{- $dest := include "keda-indexer.embeddingModel" . }}
{{- if eq $m.source "download" }}
- name: model
  image: {{ $m.download.image | quote }}
  imagePullPolicy: IfNotPresent
  command: ["/bin/sh", "-ec"]
  # Every file with a digest in MODEL_SHA256 ("<sha256> <path>" lines) is verified before it is
  # kept; a mismatch stops the pod. The hub token goes to curl on its stdin (-H @-), never in an
  # argument that /proc/<pid>/cmdline would show.
  args:
    - |
      pinned() { printf '%s\n' "${MODEL_SHA256}" | awk -v f="$1" '$2 == f { print $1 }'; }
      matches() { want="$(pinned "$1")"; [ -z "$want" ] || [ "$(sha256sum "$2" | cut -d ' ' -f 1)" = "$want" ]; }
      for f in ${MODEL_FILES}; do
        if [ -s "${MODEL_DIR}/${f}" ] && matches "$f" "${MODEL_DIR}/${f}"; then continue; fi
        # dirname, not ${f%/*}: for a file at the top ("config.json") that made a folder of its name.
        mkdir -p "$(dirname "${MODEL_DIR}/${f}")"
        echo "fetching ${MODEL_ID}/${f} at revision ${MODEL_REVISION}"
        url="${HUB_ENDPOINT}/${MODEL_ID}/resolve/${MODEL_REVISION}/${f}"
        if [ -n "${HF_TOKEN:-}" ]; then
          printf 'Authorization: Bearer %s\n' "${HF_TOKEN}" | curl -fsSL --retry 5 --retry-all-errors -H @- -o "${MODEL_DIR}/${f}.part" "$url"
        else
          curl -fsSL --retry 5 --retry-all-errors -o "${MODEL_DIR}/${f}.part" "$url"
        fi
        if ! matches "$f" "${MODEL_DIR}/${f}.part"; then
          echo "${MODEL_ID}/${f}: sha256 $(sha256sum "${MODEL_DIR}/${f}.part" | cut -d ' ' -f 1), expected $(pinned "$f") (model.download.sha256): refused" >&2
          rm -f "${MODEL_DIR}/${f}.part"
          exit 1
        fi
        mv "${MODEL_DIR}/${f}.part" "${MODEL_DIR}/${f}"
      done
  env:
    - name: MODEL_ID
      value: {{ $v.embedding.model | quote }}
    - name: MODEL_DIR
      value: {{ $dest | quote }}
    - name: MODEL_FILES
      value: {{ append $m.download.files (include "keda-indexer.onnxFile" .) | join " " | quote }}
    - name: MODEL_REVISION
      value: {{ include "keda-indexer.modelRevision" . | quote }}
    - name: HUB_ENDPOINT
      value: {{ trimSuffix "/" $m.download.endpoint | quote }}
    - name: MODEL_SHA256
      value: {{ include "keda-indexer.modelPins" . | quote }}
    {{- with $m.download.tokenSecret }}
    - name: HF_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ . }}
          key: {{ $m.download.tokenKey }}
    {{- end }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  resources:
    {{- toYaml $m.initResources | nindent 4 }}
  volumeMounts:
    - name: model
      mountPath: {{ $m.mountPath }}
{{- else if eq $m.source "copy" }}
- name: model
  image: {{ $m.copy.image | quote }}
  imagePullPolicy: IfNotPresent
  command: ["/bin/sh", "-ec"]
  args:
    - mkdir -p "${MODEL_DIR}" && cp -R "${MODEL_SOURCE}/." "${MODEL_DIR}/"
  env:
    - name: MODEL_SOURCE
      value: {{ $m.copy.path | quote }}
    - name: MODEL_DIR
      value: {{ $dest | quote }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  resources:
    {{- toYaml $m.initResources | nindent 4 }}
  volumeMounts:
    - name: model
      mountPath: {{ $m.mountPath }}
{{- end }}
{{- end }}

{{/*
The backfill Job's spec (templates/backfill-job.yaml), a template of its own so the Job's name can
carry its hash. The pod runs `keda-indexer backfill` with the worker's ServiceAccount, ConfigMap
(SQS_QUEUE_URL, AWS_REGION, AWS_ENDPOINT_URL) and credentials; it loads no model.
*/}}
{{- define "keda-indexer.backfillJobSpec" -}}
{{- $v := .Values }}
{{- $b := $v.backfill }}
{{- $bucket := $b.bucket | default $v.config.s3Bucket }}
{{- if not $bucket }}
{{- fail "backfill.enabled is true but neither backfill.bucket nor config.s3Bucket is set: set the bucket to list" }}
{{- end }}
{{- /* The workers dead-letter messages outside S3_ALLOWED_BUCKETS (forbidden_bucket): a backfill of a bucket they may not read would only fill the DLQ. */}}
{{- $allowed := $v.config.s3AllowedBuckets | default (list $v.config.s3Bucket) }}
{{- $prefix := $b.prefix | default $v.config.s3Prefix }}
{{- $covered := false }}
{{- range $allowed }}
{{- $parts := splitn "/" 2 . }}
{{- if and (eq $parts._0 $bucket) (hasPrefix (default "" $parts._1) $prefix) }}{{ $covered = true }}{{ end }}
{{- end }}
{{- if not $covered }}
{{- fail (printf "backfill lists s3://%s/%s, which the workers may not read (config.s3AllowedBuckets, default config.s3Bucket): its messages would be dead-lettered as forbidden_bucket. Add %q to config.s3AllowedBuckets" $bucket $prefix $bucket) }}
{{- end }}
backoffLimit: {{ $b.backoffLimit }}
{{- with $b.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ . }}
{{- end }}
{{- if not (kindIs "invalid" $b.ttlSecondsAfterFinished) }}
ttlSecondsAfterFinished: {{ $b.ttlSecondsAfterFinished }}
{{- end }}
template:
  metadata:
    annotations:
      checksum/config: {{ printf "%s\n" (include "keda-indexer.configmap" .) | sha256sum }}
    labels:
      {{- include "keda-indexer.componentLabels" (dict "ctx" . "component" "backfill") | nindent 6 }}
  spec:
    restartPolicy: Never
    serviceAccountName: {{ include "keda-indexer.jobServiceAccountName" (dict "ctx" . "job" "backfill") }}
    automountServiceAccountToken: false
    {{- with $v.imagePullSecrets }}
    imagePullSecrets:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      {{- toYaml $v.podSecurityContext | nindent 6 }}
    containers:
      - name: backfill
        image: {{ include "keda-indexer.image" . | quote }}
        imagePullPolicy: {{ $v.image.pullPolicy }}
        {{- with $v.command }}
        command:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        args:
          - backfill
          - {{ printf "s3://%s/%s" $bucket ($b.prefix | default $v.config.s3Prefix) | quote }}
          {{- range $b.suffixes }}
          - --suffix
          - {{ . | quote }}
          {{- end }}
          {{- with $b.modifiedSince }}
          - --modified-since
          - {{ . | quote }}
          {{- end }}
          {{- with $b.maxSize }}
          - --max-size
          - {{ . | toString | quote }}
          {{- end }}
          {{- with $b.maxRate }}
          - --max-rate
          - {{ . | toString | quote }}
          {{- end }}
          {{- with $b.startAfter }}
          - --start-after
          - {{ . | quote }}
          {{- end }}
          {{- if $b.force }}
          - --force
          {{- end }}
        envFrom:
          - configMapRef:
              name: {{ include "keda-indexer.workerName" . }}
        {{- with (include "keda-indexer.awsSecretEnv" . | trim) }}
        env:
          {{- . | nindent 10 }}
        {{- end }}
        securityContext:
          {{- toYaml $v.securityContext | nindent 10 }}
        resources:
          {{- toYaml $b.resources | nindent 10 }}
        volumeMounts:
          - name: tmp
            mountPath: /tmp
    volumes:
      - name: tmp
        emptyDir:
          sizeLimit: 64Mi
    {{- with $v.nodeSelector }}
    nodeSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
