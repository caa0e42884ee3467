{{/* The labels every object of a service carries; `selector` is the stable subset. */}}
{{- define "oms.selector" -}}
app.kubernetes.io/name: {{ .service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "oms.labels" -}}
{{ include "oms.selector" . }}
app.kubernetes.io/part-of: oms
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{/* Object names: <release>-<service> */}}
{{- define "oms.name" -}}
{{ printf "%s-%s" .root.Release.Name .service | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "oms.configName" -}}
{{ printf "%s-config" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret the pods read: the chart's own, or one created beforehand. */}}
{{- define "oms.secretName" -}}
{{- if .Values.secrets.create -}}
{{ printf "%s-secrets" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}
{{ required "secrets.existingSecret (or secrets.create with secrets.values) is required" .Values.secrets.existingSecret }}
{{- end }}
{{- end }}

{{/*
Seconds a pod may take to stop: the preStop sleep, then the services' own shutdown (grace, then
up to drainMs for background work, again for event consumers and again for in-flight calls, plus
the steps' fixed bounds), rounded up, with a margin.
*/}}
{{- define "oms.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- $shutdownMs := add (int $s.graceMs) (mul 3 (int $s.drainMs)) 15000 -}}
{{- add (int $s.preStopSleepSeconds) (div (add $shutdownMs 999) 1000) 5 -}}
{{- end }}
