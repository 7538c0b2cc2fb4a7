{{- define "sftp-operator.name" -}}sftp-operator{{- end -}}
{{- define "sftp-operator.labels" -}}
app.kubernetes.io/name: sftp-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "sftp-operator.selector" -}}
app.kubernetes.io/name: sftp-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
