{{/*
The chart name (app.kubernetes.io/name): "cnpg-mcp-server" unless nameOverride.
*/}}
{{- define "cnpg-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the server's objects (Deployment, Service, ClusterRole, ...): fullnameOverride,
else the release name when it contains the chart name (so `helm install cnpg-mcp-server` names
them as k8s/ does), else "<release>-<chart name>".
*/}}
{{- define "cnpg-mcp.fullname" -}}
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

{{/*
The prefix of the other names: the full name without "-server" ("cnpg-mcp"), giving the k8s/
names cnpg-mcp (ServiceAccount), cnpg-mcp-oidc-config, cnpg-mcp-impersonator, cnpg-mcp-redis.
*/}}
{{- define "cnpg-mcp.prefix" -}}
{{- include "cnpg-mcp.fullname" . | trunc 50 | trimSuffix "-" | trimSuffix "-server" }}
{{- end }}

{{- define "cnpg-mcp.configMapName" -}}
{{- printf "%s-oidc-config" (include "cnpg-mcp.prefix" .) }}
{{- end }}

{{- define "cnpg-mcp.impersonatorName" -}}
{{- printf "%s-impersonator" (include "cnpg-mcp.prefix" .) }}
{{- end }}

{{- define "cnpg-mcp.redisName" -}}
{{- printf "%s-redis" (include "cnpg-mcp.prefix" .) }}
{{- end }}

{{- define "cnpg-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cnpg-mcp.prefix" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cnpg-mcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: the name k8s/ selects by, plus the release (two releases never select each other's pods).
*/}}
{{- define "cnpg-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cnpg-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cnpg-mcp.labels" -}}
{{ include "cnpg-mcp.selectorLabels" . }}
helm.sh/chart: {{ include "cnpg-mcp.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Redis's labels, as k8s/redis: its own name ("cnpg-mcp-redis"), part of the server.
*/}}
{{- define "cnpg-mcp.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-redis" (include "cnpg-mcp.name" . | trimSuffix "-server") }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cnpg-mcp.redisLabels" -}}
{{ include "cnpg-mcp.redisSelectorLabels" . }}
app.kubernetes.io/part-of: {{ include "cnpg-mcp.name" . }}
helm.sh/chart: {{ include "cnpg-mcp.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Fails on contradictory values, before anything is sent to the cluster.
*/}}
{{- define "cnpg-mcp.validate" -}}
{{- $modes := list "cluster-wide" "namespaced" "impersonation" "none" }}
{{- if not (has .Values.rbac.mode $modes) }}
{{- fail (printf "rbac.mode must be one of %s, not %q" (join ", " $modes) .Values.rbac.mode) }}
{{- end }}
{{- if and (eq .Values.rbac.mode "namespaced") (empty .Values.rbac.namespaces) }}
{{- fail "rbac.mode=namespaced needs rbac.namespaces: the namespaces the server may manage" }}
{{- end }}
{{- if and (ne .Values.rbac.mode "namespaced") (not (empty .Values.rbac.namespaces)) }}
{{- fail "rbac.namespaces is only used with rbac.mode=namespaced" }}
{{- end }}
{{- if and .Values.tokenExchange.enabled (ne .Values.rbac.mode "none") }}
{{- fail "tokenExchange.enabled sends each caller's exchanged token, so the ServiceAccount needs no rights: set rbac.mode=none" }}
{{- end }}
{{- if and .Values.kubeContexts (ne .Values.rbac.mode "none") }}
{{- fail "kubeContexts act in other clusters with their kubeconfigs' credentials; the hosting cluster grants nothing: set rbac.mode=none" }}
{{- end }}
{{- range .Values.kubeContexts }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString .name)) }}
{{- fail (printf "kubeContexts: each entry needs a name that is a DNS label (lower-case letters, digits, '-'), not %q" (toString .name)) }}
{{- end }}
{{- end }}
{{- if and (ne .Values.rbac.mode "none") (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "rbac.mode binds the ServiceAccount: with serviceAccount.create=false set serviceAccount.name" }}
{{- end }}
{{- end }}

{{/*
The ConfigMap's data: .Values.config, with the keys the other values imply set over it.
A key set to null in .Values.config is left out.
*/}}
{{- define "cnpg-mcp.configData" -}}
{{- $data := deepCopy .Values.config }}
{{- if eq .Values.rbac.mode "namespaced" }}
{{- $_ := set $data "MCP_NAMESPACES" (join "," .Values.rbac.namespaces) }}
{{- end }}
{{- if eq .Values.rbac.mode "impersonation" }}
{{- $_ := set $data "KUBE_IMPERSONATE" "true" }}
{{- end }}
{{- with .Values.tokenExchange }}
{{- if .enabled }}
{{- $_ := set $data "KUBE_AUTH" "exchange" }}
{{- $_ := set $data "KUBE_EXCHANGE_AUDIENCE" .audience }}
{{- $_ := set $data "KUBE_EXCHANGE_CLIENT_ID" .clientId }}
{{- $_ := set $data "KUBE_EXCHANGE_CLIENT_SECRET_FILE" (printf "/etc/cnpg-mcp/token-exchange/%s" .secretKey) }}
{{- if .tokenUrl }}
{{- $_ := set $data "KUBE_EXCHANGE_TOKEN_URL" .tokenUrl }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.kubeContexts }}
{{- $files := list }}
{{- $names := list }}
{{- $readOnly := list }}
{{- range . }}
{{- $files = append $files (printf "/etc/cnpg-mcp/kubeconfigs/%s/config" .name) }}
{{- $names = append $names .name }}
{{- if .readOnly }}
{{- $readOnly = append $readOnly .name }}
{{- end }}
{{- end }}
{{- $_ := set $data "KUBECONFIG" (join ":" $files) }}
{{- $_ := set $data "KUBE_CONTEXTS" (join "," $names) }}
{{- if $readOnly }}
{{- $_ := set $data "MCP_READ_ONLY_CONTEXTS" (join "," $readOnly) }}
{{- end }}
{{- end }}
{{- if .Values.dcrUpstreamToken.existingSecret }}
{{- $_ := set $data "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE" (printf "/etc/cnpg-mcp/dcr-upstream/%s" .Values.dcrUpstreamToken.secretKey) }}
{{- end }}
{{- if .Values.requestStateKey.existingSecret }}
{{- $_ := set $data "MCP_REQUEST_STATE_KEY_FILE" (printf "/etc/cnpg-mcp/request-state/%s" .Values.requestStateKey.secretKey) }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- $_ := set $data "RATELIMIT_STORAGE_URI" (printf "redis://%s.%s.svc:6379/0" (include "cnpg-mcp.redisName" .) .Release.Namespace) }}
{{- end }}
{{- range $key := keys $data | sortAlpha }}
{{- $value := get $data $key }}
{{- if not (kindIs "invalid" $value) }}
{{ $key }}: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end }}
