{{/*
Monitoring for pods that carry the sidecar: a PodMonitor, a PrometheusRule and a Grafana
dashboard ConfigMap, each rendered when its sidecar.monitoring.*.enabled value is true.
Takes (dict "root" . "name" NAME "selector" MATCH_LABELS "labels" OBJECT_LABELS):
  {{ include "swf-sidecar-lib.monitoring" (dict "root" . "name" (include "my-worker.fullname" .) "selector" (include "my-worker.selectorLabels" . | fromYaml) "labels" (include "my-worker.labels" . | fromYaml)) }}
The Prometheus Operator names the scrape job NAMESPACE/NAME, and the alerts select that job.
*/}}

{{- define "swf-sidecar-lib.monitoring" -}}
{{- $m := .root.Values.sidecar.monitoring -}}
{{- if $m.podMonitor.enabled }}
---
{{ include "swf-sidecar-lib.podMonitor" . }}
{{- end }}
{{- if $m.prometheusRule.enabled }}
---
{{ include "swf-sidecar-lib.prometheusRule" . }}
{{- end }}
{{- if $m.dashboard.enabled }}
---
{{ include "swf-sidecar-lib.dashboardConfigMap" . }}
{{- end }}
{{- end -}}

{{- define "swf-sidecar-lib.podMonitor" -}}
{{- $m := .root.Values.sidecar.monitoring.podMonitor -}}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- toYaml (merge (dict) $m.labels .labels) | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- toYaml .selector | nindent 6 }}
  podMetricsEndpoints:
    - port: metrics
      path: /metrics
      interval: {{ $m.interval }}
{{- end -}}

{{/* The job label the Prometheus Operator gives a PodMonitor's targets. */}}
{{- define "swf-sidecar-lib.jobSelector" -}}
job="{{ .root.Release.Namespace }}/{{ .name }}"
{{- end -}}

{{- define "swf-sidecar-lib.prometheusRule" -}}
{{- $r := .root.Values.sidecar.monitoring.prometheusRule -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- toYaml (merge (dict) $r.labels .labels) | nindent 4 }}
spec:
  {{- include "swf-sidecar-lib.ruleGroups" . | nindent 2 }}
{{- end -}}

{{/* spec of the PrometheusRule: the groups, as `promtool check rules` reads them too. */}}
{{- define "swf-sidecar-lib.ruleGroups" -}}
{{- $s := .root.Values.sidecar -}}
{{- $r := $s.monitoring.prometheusRule -}}
{{- $job := include "swf-sidecar-lib.jobSelector" . -}}
{{- $runbook := $r.runbookBaseUrl -}}
{{- $where := "{{ $labels.namespace }}/{{ $labels.pod }}" -}}
{{- $rate := include "swf-sidecar-lib.configuredRate" .root -}}
groups:
  - name: swf-sidecar
    rules:
      - alert: SwfSidecarDown
        expr: up{ {{- $job -}} } == 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: swf-sidecar cannot be scraped
          description: Prometheus has not scraped the sidecar of {{ $where }} for 5 minutes; its worker cannot report failures.
          runbook_url: {{ $runbook }}#swfsidecardown
      - alert: SwfSidecarNotReady
        expr: swf_sidecar_ready{ {{- $job -}} } == 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar not ready
          description: The sidecar of {{ $where }} has refused reports (starting or draining) for 10 minutes.
          runbook_url: {{ $runbook }}#swfsidecarnotready
      - alert: SwfSidecarQueueNearlyFull
        expr: |-
          swf_sidecar_queue_items{ {{- $job -}} } > {{ $r.queueFullRatio }} * {{ include "swf-sidecar-lib.number" $s.config.maxQueueItems }}
          or
          swf_sidecar_queue_bytes{ {{- $job -}} } > {{ $r.queueFullRatio }} * {{ include "swf-sidecar-lib.number" $s.config.maxQueueBytes }}
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar queue above {{ mulf $r.queueFullRatio 100 }}% of its bound
          description: The queue of {{ $where }} has been above {{ mulf $r.queueFullRatio 100 }}% of its bound for 5 minutes ({{ "{{ $value }}" }}); beyond it, reports are refused.
          runbook_url: {{ $runbook }}#swfsidecarqueuenearlyfull
      - alert: SwfSidecarReportsUndelivered
        expr: sum by (namespace, pod, result) (increase(swf_sidecar_deliveries_total{ {{- $job -}} ,result!~"delivered|not_found|permission_denied"}[10m])) > 0
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar reports ended undelivered ({{ "{{ $labels.result }}" }})
          description: '{{ "{{ $value | humanize }}" }} reports of {{ $where }} ended {{ "{{ $labels.result }}" }} in the last 10 minutes: SWF never recorded those failures.'
          runbook_url: {{ $runbook }}#swfsidecarreportsundelivered
      - alert: SwfSidecarThrottled
        expr: swf_sidecar_rate_limit_per_second{ {{- $job -}} } < {{ $r.throttledRateRatio }} * {{ $rate }}
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: SWF has throttled swf-sidecar for 10 minutes
          description: The send rate of {{ $where }} has been held at {{ "{{ $value }}" }}/s, below the configured {{ $rate }}/s, for 10 minutes; the account's quota is saturated.
          runbook_url: {{ $runbook }}#swfsidecarthrottled
      - alert: SwfSidecarPermissionDenied
        expr: sum by (namespace, pod) (increase(swf_sidecar_swf_requests_total{ {{- $job -}} ,outcome="permission_denied"}[5m])) > 0
        labels:
          severity: critical
        annotations:
          summary: SWF refuses swf-sidecar's IAM identity
          description: SWF answered OperationNotPermitted to {{ $where }} in the last 5 minutes; no report from it can be delivered.
          runbook_url: {{ $runbook }}#swfsidecarpermissiondenied
      - alert: SwfSidecarJournalCorruptRecords
        expr: (swf_sidecar_journal_corrupt_records_total{ {{- $job -}} } > 0) unless (swf_sidecar_journal_corrupt_records_total{ {{- $job -}} } offset 1h > 0)
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar skipped corrupt journal records
          description: At its start, {{ $where }} skipped {{ "{{ $value }}" }} torn or corrupt journal records; those reports were lost.
          runbook_url: {{ $runbook }}#swfsidecarjournalcorruptrecords
      - alert: SwfSidecarPresumedDeliveredRising
        expr: sum by (namespace, pod) (increase(swf_sidecar_presumed_delivered_total{ {{- $job -}} }[30m])) > {{ include "swf-sidecar-lib.number" $r.presumedDeliveredPer30m }}
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar presumes many reports delivered
          description: '{{ "{{ $value | humanize }}" }} reports of {{ $where }} were counted delivered on UnknownResourceFault after an attempt of unknown outcome in 30 minutes.'
          runbook_url: {{ $runbook }}#swfsidecarpresumeddeliveredrising
      - alert: SwfSidecarRejectingReports
        expr: sum by (namespace, pod, reason) (increase(swf_sidecar_rejections_total{ {{- $job -}} ,reason=~"queue_full|journal_full"}[5m])) > 0
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar refuses reports ({{ "{{ $labels.reason }}" }})
          description: '{{ $where }} refused {{ "{{ $value | humanize }}" }} reports in 5 minutes ({{ "{{ $labels.reason }}" }}); workers get RESOURCE_EXHAUSTED.'
          runbook_url: {{ $runbook }}#swfsidecarrejectingreports
      {{- if $s.fleet.redisUrlSecret.name }}
      - alert: SwfSidecarFleetLimiterUnreachable
        expr: swf_sidecar_fleet_limiter_up{ {{- $job -}} } == 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: swf-sidecar fell back to its local rate limit
          description: '{{ $where }} has not reached the fleet limiter''s Redis for 5 minutes; it sends within its local limit, and the fleet may exceed its share of the quota.'
          runbook_url: {{ $runbook }}#swfsidecarfleetlimiterunreachable
      {{- end }}
{{- end -}}

{{/* The send rate the limiter climbs back to without throttling: SWF_SIDECAR_RATE_PER_SECOND, and in fleet mode never above the fleet's. */}}
{{- define "swf-sidecar-lib.configuredRate" -}}
{{- $s := .Values.sidecar -}}
{{- $rate := $s.config.ratePerSecond -}}
{{- if and $s.fleet.redisUrlSecret.name (lt (float64 $s.config.fleetRatePerSecond) (float64 $rate)) -}}
{{- $rate = $s.config.fleetRatePerSecond -}}
{{- end -}}
{{- include "swf-sidecar-lib.number" $rate -}}
{{- end -}}
