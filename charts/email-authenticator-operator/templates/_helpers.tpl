{{/* Chart name, overridable. */}}
{{- define "email-authenticator-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: the release name, plus the chart name unless the release name
already contains it (so release "email-authenticator-operator" gives the names of manifests/install).
*/}}
{{- define "email-authenticator-operator.fullname" -}}
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

{{- define "email-authenticator-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "email-authenticator-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "email-authenticator-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "email-authenticator-operator.labels" -}}
helm.sh/chart: {{ include "email-authenticator-operator.chart" . }}
{{ include "email-authenticator-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: email-authenticator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "email-authenticator-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "email-authenticator-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest pins the image. */}}
{{- define "email-authenticator-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Namespaces that get a RoleBinding of the namespace role: the watched ones and our own. */}}
{{- define "email-authenticator-operator.roleBindingNamespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- range .Values.watchNamespaces }}
{{- $namespaces = append $namespaces . }}
{{- end }}
{{- $namespaces | uniq | toJson }}
{{- end }}
