{{/* Names and labels, scoped by the chart (swf-sidecar.*). */}}

{{- define "swf-sidecar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "swf-sidecar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "swf-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "swf-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ ternary "node-agent" "worker" (eq .Values.mode "nodeAgent") }}
{{- end -}}

{{- define "swf-sidecar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "swf-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: swf-sidecar
{{- end -}}

{{- define "swf-sidecar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "swf-sidecar.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod metadata and the parts of the pod spec every workload shares. */}}
{{- define "swf-sidecar.podMetadata" -}}
labels:
  {{- include "swf-sidecar.selectorLabels" . | nindent 2 }}
  {{- include "swf-sidecar-lib.podLabels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "swf-sidecar.podScheduling" -}}
serviceAccountName: {{ include "swf-sidecar.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The worker pod: the worker container, with the sidecar added by swf-sidecar-lib. */}}
{{- define "swf-sidecar.workerPodSpec" -}}
{{- $w := .Values.worker -}}
{{- if not $w.image.repository -}}
{{- fail "worker.image.repository is required in mode worker (the image of your SWF worker)" -}}
{{- end -}}
{{ include "swf-sidecar.podScheduling" . }}
terminationGracePeriodSeconds: {{ include "swf-sidecar-lib.terminationGracePeriodSeconds" (dict "root" . "workerStopSeconds" $w.stopSeconds) }}
securityContext:
  {{- include "swf-sidecar-lib.podSecurityContext" . | nindent 2 }}
{{- $init := include "swf-sidecar-lib.initContainers" . }}
{{- if $init }}
initContainers:
  {{- $init | trim | nindent 2 }}
{{- end }}
containers:
  - name: worker
    image: {{ printf "%s:%s" $w.image.repository (toString $w.image.tag) | quote }}
    imagePullPolicy: {{ $w.image.pullPolicy }}
    {{- with $w.command }}
    command:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $w.args }}
    args:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    env:
      {{- include "swf-sidecar-lib.workerEnv" . | nindent 6 }}
      {{- with $w.env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with $w.envFrom }}
    envFrom:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $w.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $w.securityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- $mounts := include "swf-sidecar-lib.workerVolumeMounts" . }}
    {{- if or $mounts $w.volumeMounts }}
    volumeMounts:
      {{- $mounts | trim | nindent 6 }}
      {{- with $w.volumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
  {{- include "swf-sidecar-lib.containers" . | trim | nindent 2 }}
{{- $volumes := include "swf-sidecar-lib.volumes" . }}
{{- if or $volumes .Values.extraVolumes }}
volumes:
  {{- $volumes | trim | nindent 2 }}
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
Node-agent mode: the sidecar runs alone (a plain container), on a unix socket in the host directory
(group nodeAgent.socketGroup) or on every address behind a Service. Sets those sidecar values, so
every template of the release sees the same; idempotent.
*/}}
{{- define "swf-sidecar.nodeAgentValues" -}}
{{- if eq .Values.mode "nodeAgent" -}}
{{- $s := .Values.sidecar -}}
{{- $a := .Values.nodeAgent -}}
{{- $_ := set $s "native" false -}}
{{- $_ := set $s.unixSocket "enabled" (eq $a.transport "unixSocket") -}}
{{- if eq $a.transport "unixSocket" -}}
{{- $_ := set $s.unixSocket "directory" $a.hostPath -}}
{{- $_ := set $s "runAsGroup" $a.socketGroup -}}
{{- else -}}
{{- $_ := set $s.grpc "listenAllAddresses" true -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The helm test's check, run by node in the sidecar's own image (its grpc-js): one call to
grpc.health.v1.Health/Check; exit 0 only on SERVING. A HealthCheckRequest for the whole server is
empty, and a SERVING answer is the two bytes 08 01, so no proto file is needed.
*/}}
{{- define "swf-sidecar.healthCheckScript" -}}
const fs = require('node:fs');
const grpc = require('/app/node_modules/@grpc/grpc-js');
const env = process.env;
const read = (name) => (fs.existsSync(`${env.TLS_DIR}/${name}`) ? fs.readFileSync(`${env.TLS_DIR}/${name}`) : null);
const credentials = env.TLS_DIR
  ? grpc.credentials.createSsl(read('ca.crt'), env.MUTUAL_TLS ? read('tls.key') : null, env.MUTUAL_TLS ? read('tls.crt') : null)
  : grpc.credentials.createInsecure();
const client = new grpc.Client(env.TARGET, credentials, { 'grpc.ssl_target_name_override': env.SERVER_NAME || 'localhost' });
client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => Buffer.alloc(0), (bytes) => bytes, null,
  { deadline: Date.now() + 30000, waitForReady: true }, (error, answer) => {
    const serving = !error && answer.length === 2 && answer[0] === 8 && answer[1] === 1;
    console.log(serving ? `${env.TARGET}: SERVING` : `${env.TARGET}: ${error ? error.message : `not SERVING (${answer.toString('hex')})`}`);
    process.exit(serving ? 0 : 1);
  });
{{- end -}}
