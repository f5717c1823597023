{{/*
Names. The release's full name is "<release>-berth" unless the release
name already contains "berth"; Kubernetes names are capped at 63 bytes.
*/}}
{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
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

{{- define "berth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ include "berth.chart" . }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: berth
{{- end -}}

{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "berth.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "berth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where berthd.json and ConfigMap policies appear inside the container. */}}
{{- define "berth.configDir" -}}/etc/berth{{- end -}}
{{- define "berth.configPath" -}}{{ include "berth.configDir" . }}/berthd.json{{- end -}}
{{/* Where `url` policies are downloaded (an emptyDir). */}}
{{- define "berth.downloadDir" -}}/var/lib/berth-policies{{- end -}}

{{- define "berth.socketPath" -}}
{{- printf "%s/berth.sock" (trimSuffix "/" .Values.daemon.socketDir) -}}
{{- end -}}

{{/* host:port for berthd's metricsAddress; IPv6 hosts get brackets. */}}
{{- define "berth.metricsAddress" -}}
{{- $host := .Values.metrics.bindAddress -}}
{{- if contains ":" $host -}}
{{- printf "[%s]:%d" $host (int .Values.metrics.port) -}}
{{- else -}}
{{- printf "%s:%d" $host (int .Values.metrics.port) -}}
{{- end -}}
{{- end -}}

{{/*
The policy chain in the daemon's shape, as JSON {"policies": [...]}:
each values entry becomes {name, builtin | file, sha256?, settings,
failurePolicy}, in the values order.
  builtin            -> builtin
  file + configMap   -> file: /etc/berth/policies/<name>/<file>
  file (absolute)    -> file
  url                -> file: /var/lib/berth-policies/<name>.wasm
`ipam.enableStatefulSet: false` sets statefulSets: false in the settings of
every builtin sticky-statefulset entry. Duplicate names fail the render.
*/}}
{{- define "berth.policyChain" -}}
{{- $chain := list -}}
{{- $seen := dict -}}
{{- range $i, $p := .Values.policies -}}
{{- if hasKey $seen $p.name -}}
{{- fail (printf "policies[%d]: the name %q is used twice; policy names must be unique" $i $p.name) -}}
{{- end -}}
{{- $_ := set $seen $p.name true -}}
{{- $settings := deepCopy (default dict $p.settings) -}}
{{- $entry := dict "name" $p.name -}}
{{- if $p.builtin -}}
{{- $_ := set $entry "builtin" $p.builtin -}}
{{- if and (eq $p.builtin "sticky-statefulset") (not $.Values.ipam.enableStatefulSet) -}}
{{- $_ := set $settings "statefulSets" false -}}
{{- end -}}
{{- else if $p.url -}}
{{- $_ := set $entry "file" (printf "%s/%s.wasm" (include "berth.downloadDir" $) $p.name) -}}
{{- else if $p.configMap -}}
{{- $_ := set $entry "file" (printf "%s/policies/%s/%s" (include "berth.configDir" $) $p.name $p.file) -}}
{{- else -}}
{{- $_ := set $entry "file" $p.file -}}
{{- end -}}
{{- if $p.sha256 -}}
{{- $_ := set $entry "sha256" $p.sha256 -}}
{{- end -}}
{{- $_ := set $entry "settings" $settings -}}
{{- $_ := set $entry "failurePolicy" (default "Fail" $p.failurePolicy) -}}
{{- $chain = append $chain $entry -}}
{{- end -}}
{{- dict "policies" $chain | toJson -}}
{{- end -}}

{{/*
The whole berthd.json, as a dict ready for toPrettyJson.
kubernetes.enabled: a `kubernetes` section (its presence is what puts
berthd in Kubernetes mode) and no `pools`: pools are BerthPool objects and
berthd refuses a config with both; a key set to null is left out (the
daemon's default). Otherwise: `pools` and no `kubernetes`. No apiServerUrl: berthd uses its in-cluster service account.
*/}}
{{- define "berth.daemonConfig" -}}
{{- $config := dict
  "socketPath" (include "berth.socketPath" .)
  "dataDir" .Values.daemon.dataDir
  "policies" (include "berth.policyChain" . | fromJson).policies
-}}
{{- if .Values.kubernetes.enabled -}}
{{- if .Values.daemon.pools -}}
{{- fail "daemon.pools must be empty when kubernetes.enabled is true: in Kubernetes mode pools are BerthPool objects (create them, or enable defaultPool); set kubernetes.enabled=false to use node-local pools" -}}
{{- end -}}
{{- $k := dict -}}
{{- range $key := list "gcIntervalSecs" "gcGraceSecs" "gcTerminatingGraceSecs" "poolSyncIntervalSecs" -}}
{{- $v := index $.Values.kubernetes $key -}}
{{- if not (kindIs "invalid" $v) -}}
{{- $_ := set $k $key (int64 $v) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "kubernetes" $k -}}
{{- else -}}
{{- $_ := set $config "pools" .Values.daemon.pools -}}
{{- end -}}
{{- if .Values.metrics.enabled -}}
{{- $_ := set $config "metricsAddress" (include "berth.metricsAddress" .) -}}
{{- end -}}
{{- if .Values.daemon.limits -}}
{{- $_ := set $config "limits" .Values.daemon.limits -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* Policies downloaded by the fetch-policies init container. */}}
{{- define "berth.urlPolicies" -}}
{{- $out := list -}}
{{- range .Values.policies -}}
{{- if .url -}}
{{- $out = append $out (dict "name" .name "url" .url "sha256" .sha256) -}}
{{- end -}}
{{- end -}}
{{- dict "items" $out | toJson -}}
{{- end -}}

{{/*
Security context shared by berthd and the CNI installer. Root (uid 0), but
neither privileged nor holding any capability:
  * berthd answers only peers of its own uid on its 0600 socket, and the
    container runtime executes the `berth` plugin as root, so berthd is
    root; it writes only root-owned host directories it was given
    (the socket dir, the data dir), which needs no capability;
  * an IPAM plugin configures no interface: the main CNI plugin (macvlan,
    bridge ...) does that, on the host, outside this pod. So no NET_ADMIN,
    no privileged mode, no host PID/IPC;
  * the installer only copies a file into the CNI bin dir (root-owned).
*/}}
{{- define "berth.rootSecurityContext" -}}
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsUser: 0
runAsGroup: 0
runAsNonRoot: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
