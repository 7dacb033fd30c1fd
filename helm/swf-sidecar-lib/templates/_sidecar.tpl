{{/*
swf-sidecar-lib: named templates that add the sidecar to any pod spec. Each takes the chart's
root context (`.`) and reads the sidecar's values from .Values.sidecar (the library declared as a
dependency with `alias: sidecar`). See helm/swf-sidecar/README.md, "In your own chart".

  spec:
    terminationGracePeriodSeconds: {{ include "swf-sidecar-lib.terminationGracePeriodSeconds" (dict "root" . "workerStopSeconds" 30) }}
    securityContext: {{- include "swf-sidecar-lib.podSecurityContext" . | nindent 6 }}
    initContainers: {{- include "swf-sidecar-lib.initContainers" . | trim | nindent 6 }}
    containers:
      - name: worker
        env: {{- include "swf-sidecar-lib.workerEnv" . | nindent 10 }}
        volumeMounts: {{- include "swf-sidecar-lib.workerVolumeMounts" . | trim | nindent 10 }}
      {{- include "swf-sidecar-lib.containers" . | trim | nindent 6 }}
    volumes: {{- include "swf-sidecar-lib.volumes" . | trim | nindent 6 }}
*/}}

{{/* The sidecar's values, failing with a clear message when the dependency's alias is not "sidecar". */}}
{{- define "swf-sidecar-lib.values" -}}
{{- $s := .Values.sidecar -}}
{{- if not (kindIs "map" $s) -}}
{{- fail "swf-sidecar-lib: .Values.sidecar is missing: declare the dependency with `alias: sidecar`" -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* A number as Kubernetes and the sidecar read it: 268435456, never 2.68435456e+08. */}}
{{- define "swf-sidecar-lib.number" -}}
{{- if and (or (kindIs "float64" .) (kindIs "float32" .)) (eq (float64 .) (float64 (int64 .))) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* The gRPC address the sidecar listens on (SWF_SIDECAR_ADDRESS). */}}
{{- define "swf-sidecar-lib.listenAddress" -}}
{{- $s := .Values.sidecar -}}
{{- if $s.unixSocket.enabled -}}
unix:{{ trimSuffix "/" $s.unixSocket.directory }}/{{ $s.unixSocket.fileName }}
{{- else if $s.grpc.listenAllAddresses -}}
0.0.0.0:{{ include "swf-sidecar-lib.number" $s.grpc.port }}
{{- else -}}
127.0.0.1:{{ include "swf-sidecar-lib.number" $s.grpc.port }}
{{- end -}}
{{- end -}}

{{/* The address a worker in the same pod calls (SWF_SIDECAR_ADDRESS for the CLI and the examples). */}}
{{- define "swf-sidecar-lib.clientAddress" -}}
{{- $s := .Values.sidecar -}}
{{- if $s.unixSocket.enabled -}}
unix:{{ trimSuffix "/" $s.unixSocket.directory }}/{{ $s.unixSocket.fileName }}
{{- else -}}
127.0.0.1:{{ include "swf-sidecar-lib.number" $s.grpc.port }}
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: the worker's stop time, then the drain grace, then a margin. Takes (dict "root" . "workerStopSeconds" N). */}}
{{- define "swf-sidecar-lib.terminationGracePeriodSeconds" -}}
{{- $s := .root.Values.sidecar -}}
{{- $graceMs := int64 $s.config.shutdownGraceMs -}}
{{- $drainSeconds := div (add $graceMs 999) 1000 -}}
{{- add $drainSeconds (int64 $s.shutdown.marginSeconds) (int64 (default 0 .workerStopSeconds)) -}}
{{- end -}}

{{/* Pod-level securityContext: the sidecar's group owns the journal and socket volumes. */}}
{{- define "swf-sidecar-lib.podSecurityContext" -}}
{{- $s := .Values.sidecar -}}
fsGroup: {{ include "swf-sidecar-lib.number" $s.runAsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The sidecar container's securityContext: nothing it does not need. */}}
{{- define "swf-sidecar-lib.containerSecurityContext" -}}
{{- $s := .Values.sidecar -}}
runAsNonRoot: true
runAsUser: {{ include "swf-sidecar-lib.number" $s.runAsUser }}
runAsGroup: {{ include "swf-sidecar-lib.number" $s.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The sidecar's environment: every SWF_SIDECAR_* setting, AWS settings, secrets by reference. */}}
{{- define "swf-sidecar-lib.env" -}}
{{- $s := .Values.sidecar -}}
- name: SWF_SIDECAR_ADDRESS
  value: {{ include "swf-sidecar-lib.listenAddress" . | quote }}
- name: SWF_SIDECAR_METRICS_ADDRESS
  value: {{ printf "0.0.0.0:%s" (include "swf-sidecar-lib.number" $s.metrics.port) | quote }}
{{- if $s.unixSocket.enabled }}
- name: SWF_SIDECAR_UNIX_SOCKET_MODE
  value: {{ $s.unixSocket.mode | quote }}
{{- end }}
- name: SWF_SIDECAR_JOURNAL_DIR
  value: {{ ternary $s.journal.mountPath "" (or $s.journal.enabled $s.journal.persistence.enabled) | quote }}
{{- if $s.tls.secretName }}
- name: SWF_SIDECAR_TLS_CERT_FILE
  value: /etc/swf-sidecar/tls/tls.crt
- name: SWF_SIDECAR_TLS_KEY_FILE
  value: /etc/swf-sidecar/tls/tls.key
{{- if $s.tls.mutual }}
- name: SWF_SIDECAR_TLS_CLIENT_CA_FILE
  value: /etc/swf-sidecar/tls/ca.crt
{{- end }}
{{- end }}
{{- if $s.fleet.redisUrlSecret.name }}
- name: SWF_SIDECAR_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $s.fleet.redisUrlSecret.name | quote }}
      key: {{ $s.fleet.redisUrlSecret.key | quote }}
{{- end }}
{{- range $key, $value := $s.config }}
{{- /* The fleet settings only mean something with the fleet's Redis. */}}
{{- if and (not (kindIs "invalid" $value)) (or (not (hasPrefix "fleet" $key)) $s.fleet.redisUrlSecret.name) }}
- name: SWF_SIDECAR_{{ $key | snakecase | upper }}
  value: {{ include "swf-sidecar-lib.number" $value | quote }}
{{- end }}
{{- end }}
{{- if $s.aws.region }}
- name: AWS_REGION
  value: {{ $s.aws.region | quote }}
{{- end }}
{{- if $s.aws.endpointUrl }}
- name: AWS_ENDPOINT_URL_SWF
  value: {{ $s.aws.endpointUrl | quote }}
{{- end }}
{{- if $s.aws.credentialsSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s.aws.credentialsSecret | quote }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s.aws.credentialsSecret | quote }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- with $s.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Probes: HTTP on the metrics port by default, or the gRPC health service. */}}
{{- define "swf-sidecar-lib.probes" -}}
{{- $s := .Values.sidecar -}}
{{- $ready := dict "httpGet" (dict "path" "/readyz" "port" "metrics") -}}
{{- $alive := dict "httpGet" (dict "path" "/healthz" "port" "metrics") -}}
{{- if eq $s.probes.type "grpc" -}}
{{- if or $s.unixSocket.enabled $s.tls.secretName (not $s.grpc.listenAllAddresses) -}}
{{- fail "sidecar.probes.type grpc: the kubelet calls the pod's IP in plaintext, so it needs sidecar.grpc.listenAllAddresses: true, no unix socket and no TLS; use probes.type http otherwise" -}}
{{- end -}}
{{- $ready = dict "grpc" (dict "port" (int64 $s.grpc.port)) -}}
{{- $alive = dict "grpc" (dict "port" (int64 $s.grpc.port)) -}}
{{- end -}}
startupProbe:
  {{- toYaml $ready | nindent 2 }}
  periodSeconds: {{ include "swf-sidecar-lib.number" $s.probes.startup.periodSeconds }}
  failureThreshold: {{ include "swf-sidecar-lib.number" $s.probes.startup.failureThreshold }}
readinessProbe:
  {{- toYaml $ready | nindent 2 }}
  periodSeconds: {{ include "swf-sidecar-lib.number" $s.probes.readiness.periodSeconds }}
  failureThreshold: {{ include "swf-sidecar-lib.number" $s.probes.readiness.failureThreshold }}
livenessProbe:
  {{- toYaml $alive | nindent 2 }}
  periodSeconds: {{ include "swf-sidecar-lib.number" $s.probes.liveness.periodSeconds }}
  failureThreshold: {{ include "swf-sidecar-lib.number" $s.probes.liveness.failureThreshold }}
{{- end -}}

{{/* The sidecar container itself (without restartPolicy). */}}
{{- define "swf-sidecar-lib.container" -}}
{{- $s := .Values.sidecar -}}
name: {{ $s.containerName }}
image: {{ printf "%s:%s" $s.image.repository (toString $s.image.tag) | quote }}
imagePullPolicy: {{ $s.image.pullPolicy }}
{{- with $s.extraNodeFlags }}
{{- /* The image's ENTRYPOINT (Dockerfile) with the extra flags before the script. */}}
command:
  - node
  - --max-semi-space-size=16
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
  - /app/bin/swf-sidecar.js
{{- end }}
args: [serve]
env:
  {{- include "swf-sidecar-lib.env" . | nindent 2 }}
ports:
  {{- if not $s.unixSocket.enabled }}
  - name: grpc
    containerPort: {{ include "swf-sidecar-lib.number" $s.grpc.port }}
    protocol: TCP
  {{- end }}
  - name: metrics
    containerPort: {{ include "swf-sidecar-lib.number" $s.metrics.port }}
    protocol: TCP
{{ include "swf-sidecar-lib.probes" . }}
resources:
  {{- toYaml $s.resources | nindent 2 }}
securityContext:
  {{- include "swf-sidecar-lib.containerSecurityContext" . | nindent 2 }}
{{- $mounts := include "swf-sidecar-lib.sidecarVolumeMounts" . }}
{{- if $mounts }}
volumeMounts:
  {{- $mounts | trim | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "swf-sidecar-lib.sidecarVolumeMounts" -}}
{{- $s := .Values.sidecar -}}
{{- if or $s.journal.enabled $s.journal.persistence.enabled }}
- name: swf-sidecar-journal
  mountPath: {{ $s.journal.mountPath }}
{{- end }}
{{- if $s.unixSocket.enabled }}
- name: swf-sidecar-socket
  mountPath: {{ $s.unixSocket.directory }}
{{- end }}
{{- if $s.tls.secretName }}
- name: swf-sidecar-tls
  mountPath: /etc/swf-sidecar/tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* List items for the pod's initContainers: the native sidecar, or nothing when sidecar.native is false. */}}
{{- define "swf-sidecar-lib.initContainers" -}}
{{- if .Values.sidecar.native }}
- {{ include "swf-sidecar-lib.container" . | nindent 2 | trim }}
  restartPolicy: Always
{{- end }}
{{- end -}}

{{/* List items for the pod's containers: the plain sidecar when sidecar.native is false, else nothing. */}}
{{- define "swf-sidecar-lib.containers" -}}
{{- if not .Values.sidecar.native }}
- {{ include "swf-sidecar-lib.container" . | nindent 2 | trim }}
{{- end }}
{{- end -}}

{{/* Env entries for the worker container: where its sidecar is. */}}
{{- define "swf-sidecar-lib.workerEnv" -}}
- name: SWF_SIDECAR_ADDRESS
  value: {{ include "swf-sidecar-lib.clientAddress" . | quote }}
{{- end -}}

{{/* Volume mounts for the worker container (the socket's directory, when there is one); may be empty. */}}
{{- define "swf-sidecar-lib.workerVolumeMounts" -}}
{{- $s := .Values.sidecar -}}
{{- if $s.unixSocket.enabled }}
- name: swf-sidecar-socket
  mountPath: {{ $s.unixSocket.directory }}
{{- end }}
{{- end -}}

{{/* The journal's emptyDir size limit: the value, or twice SWF_SIDECAR_JOURNAL_MAX_BYTES in MiB. */}}
{{- define "swf-sidecar-lib.journalSizeLimit" -}}
{{- $s := .Values.sidecar -}}
{{- if $s.journal.sizeLimit -}}
{{- $s.journal.sizeLimit -}}
{{- else -}}
{{- printf "%dMi" (div (add (mul (int64 $s.config.journalMaxBytes) 2) 1048575) 1048576) -}}
{{- end -}}
{{- end -}}

{{/* List items for the pod's volumes; may be empty. */}}
{{- define "swf-sidecar-lib.volumes" -}}
{{- $s := .Values.sidecar -}}
{{- if and $s.journal.enabled (not $s.journal.persistence.enabled) }}
- name: swf-sidecar-journal
  emptyDir:
    sizeLimit: {{ include "swf-sidecar-lib.journalSizeLimit" . }}
{{- end }}
{{- if $s.unixSocket.enabled }}
- name: swf-sidecar-socket
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- if $s.tls.secretName }}
- name: swf-sidecar-tls
  secret:
    secretName: {{ $s.tls.secretName | quote }}
    defaultMode: 288
{{- end }}
{{- end -}}

{{/* volumeClaimTemplates items of a StatefulSet when sidecar.journal.persistence.enabled; else empty. */}}
{{- define "swf-sidecar-lib.volumeClaimTemplates" -}}
{{- $p := .Values.sidecar.journal.persistence -}}
{{- if $p.enabled }}
- metadata:
    name: swf-sidecar-journal
  spec:
    accessModes: {{- toYaml $p.accessModes | nindent 6 }}
    {{- if $p.storageClassName }}
    storageClassName: {{ $p.storageClassName | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ $p.size }}
{{- end }}
{{- end -}}

{{/* Pod labels that mark a pod as carrying the sidecar. */}}
{{- define "swf-sidecar-lib.podLabels" -}}
swf-sidecar/sidecar: "true"
{{- end -}}
