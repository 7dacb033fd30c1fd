{{/*
The Grafana dashboard, as JSON. Panels are listed once below (title, unit, queries) and expanded
into Grafana's model. Legends are written <<label>> and become Grafana's {{label}}. $job and $pod
are the dashboard's variables; every query selects on them.
*/}}

{{- define "swf-sidecar-lib.dashboardPanels" -}}
{{- $c := .root.Values.sidecar.config -}}
{{- $sel := `job=~"$job",pod=~"$pod"` -}}
- title: Intake by status code (calls/s)
  unit: reqps
  targets:
    - expr: sum by (grpc_method, grpc_code) (rate(grpc_server_handled_total{ {{- $sel -}} ,grpc_service="swfsidecar.v1.ActivityTasks"}[$__rate_interval]))
      legend: <<grpc_method>> <<grpc_code>>
- title: SWF calls by outcome (calls/s)
  unit: reqps
  targets:
    - expr: sum by (outcome) (rate(swf_sidecar_swf_requests_total{ {{- $sel -}} }[$__rate_interval]))
      legend: <<outcome>>
- title: Intake latency (FailActivityTask)
  unit: s
  targets:
    - expr: histogram_quantile(0.5, sum by (le) (rate(grpc_server_handling_seconds_bucket{ {{- $sel -}} ,grpc_method="FailActivityTask"}[$__rate_interval])))
      legend: p50
    - expr: histogram_quantile(0.9, sum by (le) (rate(grpc_server_handling_seconds_bucket{ {{- $sel -}} ,grpc_method="FailActivityTask"}[$__rate_interval])))
      legend: p90
    - expr: histogram_quantile(0.99, sum by (le) (rate(grpc_server_handling_seconds_bucket{ {{- $sel -}} ,grpc_method="FailActivityTask"}[$__rate_interval])))
      legend: p99
- title: SWF call latency
  unit: s
  targets:
    - expr: histogram_quantile(0.5, sum by (le) (rate(swf_sidecar_swf_request_duration_seconds_bucket{ {{- $sel -}} }[$__rate_interval])))
      legend: p50
    - expr: histogram_quantile(0.99, sum by (le) (rate(swf_sidecar_swf_request_duration_seconds_bucket{ {{- $sel -}} }[$__rate_interval])))
      legend: p99
    - expr: histogram_quantile(0.99, sum by (le) (rate(swf_sidecar_queue_wait_seconds_bucket{ {{- $sel -}} }[$__rate_interval])))
      legend: queue wait p99
- title: Queue items (bound {{ include "swf-sidecar-lib.number" $c.maxQueueItems }})
  unit: short
  targets:
    - expr: sum by (pod) (swf_sidecar_queue_items{ {{- $sel -}} })
      legend: <<pod>>
- title: Queue bytes (bound {{ include "swf-sidecar-lib.number" $c.maxQueueBytes }})
  unit: bytes
  targets:
    - expr: sum by (pod) (swf_sidecar_queue_bytes{ {{- $sel -}} })
      legend: <<pod>>
- title: Send rate against configured (calls/s)
  unit: reqps
  targets:
    - expr: sum by (pod) (swf_sidecar_rate_limit_per_second{ {{- $sel -}} })
      legend: limiter <<pod>>
    - expr: sum by (pod) (rate(swf_sidecar_swf_requests_total{ {{- $sel -}} }[$__rate_interval]))
      legend: sent <<pod>>
    - expr: vector({{ include "swf-sidecar-lib.configuredRate" .root }})
      legend: configured
- title: Throttled share of SWF answers
  unit: percentunit
  targets:
    - expr: sum(rate(swf_sidecar_swf_requests_total{ {{- $sel -}} ,outcome="throttled"}[$__rate_interval])) / sum(rate(swf_sidecar_swf_requests_total{ {{- $sel -}} }[$__rate_interval]))
      legend: throttled
- title: Deliveries by result (reports/s)
  unit: reqps
  targets:
    - expr: sum by (mode, result) (rate(swf_sidecar_deliveries_total{ {{- $sel -}} }[$__rate_interval]))
      legend: <<mode>> <<result>>
    - expr: sum(rate(swf_sidecar_presumed_delivered_total{ {{- $sel -}} }[$__rate_interval]))
      legend: presumed delivered
- title: Rejections and duplicates (reports/s)
  unit: reqps
  targets:
    - expr: sum by (reason) (rate(swf_sidecar_rejections_total{ {{- $sel -}} }[$__rate_interval]))
      legend: rejected <<reason>>
    - expr: sum by (kind) (rate(swf_sidecar_duplicates_total{ {{- $sel -}} }[$__rate_interval]))
      legend: duplicate <<kind>>
- title: Journal
  unit: short
  targets:
    - expr: sum by (pod) (swf_sidecar_journal_pending_records{ {{- $sel -}} })
      legend: pending <<pod>>
    - expr: sum by (pod) (increase(swf_sidecar_journal_replayed_total{ {{- $sel -}} }[$__rate_interval]))
      legend: replayed <<pod>>
    - expr: sum by (pod) (swf_sidecar_journal_corrupt_records_total{ {{- $sel -}} })
      legend: corrupt records <<pod>>
- title: Journal bytes (bound {{ include "swf-sidecar-lib.number" $c.journalMaxBytes }})
  unit: bytes
  targets:
    - expr: sum by (pod) (swf_sidecar_journal_bytes{ {{- $sel -}} })
      legend: <<pod>>
- title: Process CPU (cores)
  unit: short
  targets:
    - expr: sum by (pod) (rate(process_cpu_seconds_total{ {{- $sel -}} }[$__rate_interval]))
      legend: <<pod>>
- title: Process memory (RSS)
  unit: bytes
  targets:
    - expr: sum by (pod) (process_resident_memory_bytes{ {{- $sel -}} })
      legend: <<pod>>
- title: Event-loop lag p99
  unit: s
  targets:
    - expr: max by (pod) (nodejs_eventloop_lag_p99_seconds{ {{- $sel -}} })
      legend: <<pod>>
- title: Ready sidecars
  unit: short
  targets:
    - expr: sum(swf_sidecar_ready{ {{- $sel -}} })
      legend: ready
    - expr: sum(up{ {{- $sel -}} })
      legend: scraped
{{- end -}}

{{- define "swf-sidecar-lib.dashboard" -}}
{{- $panels := list -}}
{{- range $i, $p := (include "swf-sidecar-lib.dashboardPanels" . | fromYamlArray) -}}
{{- $targets := list -}}
{{- range $j, $t := $p.targets -}}
{{- $targets = append $targets (dict "refId" (index (list "A" "B" "C" "D" "E") $j) "expr" $t.expr "legendFormat" $t.legend "datasource" (dict "type" "prometheus" "uid" "${datasource}")) -}}
{{- end -}}
{{- $grid := dict "h" 8 "w" 12 "x" (mul (mod $i 2) 12) "y" (mul (div $i 2) 8) -}}
{{- $panels = append $panels (dict "id" (add $i 1) "type" "timeseries" "title" $p.title "gridPos" $grid "datasource" (dict "type" "prometheus" "uid" "${datasource}") "fieldConfig" (dict "defaults" (dict "unit" $p.unit) "overrides" (list)) "targets" $targets) -}}
{{- end -}}
{{- $ds := dict "name" "datasource" "type" "datasource" "query" "prometheus" "label" "Data source" -}}
{{- $job := dict "name" "job" "type" "query" "label" "Job" "datasource" (dict "type" "prometheus" "uid" "${datasource}") "query" "label_values(swf_sidecar_ready, job)" "refresh" 2 "includeAll" true "multi" true "allValue" ".*" -}}
{{- $pod := dict "name" "pod" "type" "query" "label" "Pod" "datasource" (dict "type" "prometheus" "uid" "${datasource}") "query" "label_values(swf_sidecar_ready{job=~\"$job\"}, pod)" "refresh" 2 "includeAll" true "multi" true "allValue" ".*" -}}
{{- $dashboard := dict "title" "swf-sidecar" "uid" "swf-sidecar" "tags" (list "swf-sidecar") "timezone" "browser" "schemaVersion" 39 "editable" true "refresh" "30s" "time" (dict "from" "now-6h" "to" "now") "templating" (dict "list" (list $ds $job $pod)) "panels" $panels -}}
{{- /* toPrettyJson writes < and > as \u003c and \u003e */ -}}
{{- $dashboard | toPrettyJson | replace "\\u003c\\u003c" "{{" | replace "\\u003e\\u003e" "}}" -}}
{{- end -}}

{{- define "swf-sidecar-lib.dashboardConfigMap" -}}
{{- $d := .root.Values.sidecar.monitoring.dashboard -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-dashboard" .name | trunc 63 | trimSuffix "-" }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- toYaml (merge (dict) $d.labels .labels) | nindent 4 }}
  {{- with $d.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  swf-sidecar.json: |-
    {{- include "swf-sidecar-lib.dashboard" . | nindent 4 }}
{{- end -}}
