#!/usr/bin/env bash
# What test/helm needs, built or fetched once and cached in $SWF_SIDECAR_CACHE (seconds when cached):
# - Helm, built from its Go module (helm.sh/helm/v3) with the machine's Go;
# - kubeconform, built from its Go module, to validate rendered objects offline;
# - the Kubernetes OpenAPI (swagger) documents of two minor versions, from the k8s.io/kubernetes
#   module's api/openapi-spec, and the Prometheus Operator's CRDs for PodMonitor and PrometheusRule,
#   from its module's example/prometheus-operator-crd; all through the Go module proxy;
# - Debian's prometheus (server and promtool);
# - yaml2json, this repository's converter of rendered YAML (test/helm/yaml2json).
# Exports SWF_SIDECAR_HELM, SWF_SIDECAR_KUBECONFORM, SWF_SIDECAR_K8S_OPENAPI (a directory holding
# vX.Y.Z/swagger.json per version), SWF_SIDECAR_OPERATOR_CRDS (a directory of CRD YAML files) and
# SWF_SIDECAR_YAML2JSON.
# Sourced by scripts/test.sh after scripts/lib.sh.
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
# The oldest Kubernetes with native sidecars on by default, and the newest release.
K8S_SCHEMA_VERSIONS="${K8S_SCHEMA_VERSIONS:-v1.29.6 v1.37.2}"
PROMETHEUS_OPERATOR_VERSION="${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"

apt_install prometheus

helm_go="$(command -v go || true)"
[ -n "$helm_go" ] || helm_go=/usr/local/go/bin/go
if [ ! -x "$helm_go" ]; then
  echo "20-helm.sh: Go is needed to build helm and kubeconform (go on PATH or /usr/local/go/bin/go)" >&2
  return 1 2>/dev/null || exit 1
fi

# helm_go_install BINARY MODULE/cmd/PATH VERSION: `go install` into a versioned cache directory.
helm_go_install() {
  local dir="$SWF_SIDECAR_CACHE/tools/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "building $1 $3 from the Go module proxy (a few minutes, once)"
    (cd "$(mktemp -d)" && GOFLAGS=-modcacherw GOBIN="$dir.partial" "$helm_go" install "$2@$3") || return 1
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
}

# helm_module_dir MODULE VERSION: the module's source directory (downloaded through the proxy).
helm_module_dir() {
  (cd "$(mktemp -d)" && GOFLAGS=-modcacherw "$helm_go" mod download -json "$1@$2") |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# Both builds at once (about 4 minutes together on 2 cores, once; nothing when cached).
helm_go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" &
helm_build_pid=$!
helm_go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" &
kubeconform_build_pid=$!
wait "$helm_build_pid" || { echo "20-helm.sh: building helm $HELM_VERSION failed" >&2; return 1 2>/dev/null || exit 1; }
wait "$kubeconform_build_pid" || { echo "20-helm.sh: building kubeconform $KUBECONFORM_VERSION failed" >&2; return 1 2>/dev/null || exit 1; }
export SWF_SIDECAR_HELM="$SWF_SIDECAR_CACHE/tools/helm-$HELM_VERSION/helm"
export SWF_SIDECAR_KUBECONFORM="$SWF_SIDECAR_CACHE/tools/kubeconform-$KUBECONFORM_VERSION/kubeconform"

export SWF_SIDECAR_K8S_OPENAPI="$SWF_SIDECAR_CACHE/k8s-openapi"
for k8s_version in $K8S_SCHEMA_VERSIONS; do
  if [ ! -s "$SWF_SIDECAR_K8S_OPENAPI/$k8s_version/swagger.json" ]; then
    echo "fetching the OpenAPI document of Kubernetes $k8s_version (k8s.io/kubernetes module)"
    k8s_dir="$(helm_module_dir k8s.io/kubernetes "$k8s_version")"
    [ -s "$k8s_dir/api/openapi-spec/swagger.json" ] || { echo "20-helm.sh: no api/openapi-spec/swagger.json in k8s.io/kubernetes@$k8s_version" >&2; return 1 2>/dev/null || exit 1; }
    mkdir -p "$SWF_SIDECAR_K8S_OPENAPI/$k8s_version"
    cp "$k8s_dir/api/openapi-spec/swagger.json" "$SWF_SIDECAR_K8S_OPENAPI/$k8s_version/swagger.json.partial"
    mv "$SWF_SIDECAR_K8S_OPENAPI/$k8s_version/swagger.json.partial" "$SWF_SIDECAR_K8S_OPENAPI/$k8s_version/swagger.json"
  fi
done

export SWF_SIDECAR_OPERATOR_CRDS="$SWF_SIDECAR_CACHE/prometheus-operator-crds/$PROMETHEUS_OPERATOR_VERSION"
if [ ! -s "$SWF_SIDECAR_OPERATOR_CRDS/monitoring.coreos.com_prometheusrules.yaml" ]; then
  echo "fetching the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs (its Go module)"
  operator_dir="$(helm_module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")"
  mkdir -p "$SWF_SIDECAR_OPERATOR_CRDS.partial"
  cp "$operator_dir"/example/prometheus-operator-crd/monitoring.coreos.com_{podmonitors,prometheusrules}.yaml "$SWF_SIDECAR_OPERATOR_CRDS.partial/" ||
    { echo "20-helm.sh: the CRDs are missing from prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  rm -rf "$SWF_SIDECAR_OPERATOR_CRDS" && mv "$SWF_SIDECAR_OPERATOR_CRDS.partial" "$SWF_SIDECAR_OPERATOR_CRDS"
fi

# yaml2json (test/helm/yaml2json): the tests read rendered YAML as kubectl does, through sigs.k8s.io/yaml.
yaml2json_src="test/helm/yaml2json"
yaml2json_hash="$(cat "$yaml2json_src"/main.go "$yaml2json_src"/go.mod "$yaml2json_src"/go.sum | sha256sum | cut -c1-16)"
export SWF_SIDECAR_YAML2JSON="$SWF_SIDECAR_CACHE/tools/yaml2json-$yaml2json_hash/yaml2json"
if [ ! -x "$SWF_SIDECAR_YAML2JSON" ]; then
  echo "building yaml2json"
  mkdir -p "$(dirname "$SWF_SIDECAR_YAML2JSON")"
  (cd "$yaml2json_src" && GOFLAGS=-modcacherw "$helm_go" build -o "$SWF_SIDECAR_YAML2JSON.partial" .) &&
    mv "$SWF_SIDECAR_YAML2JSON.partial" "$SWF_SIDECAR_YAML2JSON" ||
    { echo "20-helm.sh: building yaml2json failed" >&2; return 1 2>/dev/null || exit 1; }
fi

"$SWF_SIDECAR_HELM" version --short
