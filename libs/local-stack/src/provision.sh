#!/usr/bin/env bash
# Builds the real infrastructure binaries from the Go module proxy into a versioned cache
# outside the repository, so that a second run takes seconds.
#   usage: provision.sh [consul|jaeger|ferretdb|stripe-mock|nomad|helm|kubeconform|chromium ...]
#   (default: the four the stack always runs; nomad, helm, kubeconform and chromium only when named)
set -euo pipefail

CACHE_DIR="${OMS_CACHE_DIR:-$HOME/.cache/oms}"
BIN_DIR="$CACHE_DIR/bin"
CONSUL_VERSION="${CONSUL_VERSION:-v1.20.6}"
JAEGER_VERSION="${JAEGER_VERSION:-v1.76.0}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
STRIPE_MOCK_VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
# Nomad v1.6.3 is the newest release under an open-source licence (MPL-2.0): from v1.7.0 on it is BUSL.
# Its api/ module is not in its module zip, and the proxy serves no api version from its time: the
# nearest one it serves, pinned here, lacks three deprecated things that nomad-v1.6.3.patch takes out.
NOMAD_VERSION="${NOMAD_VERSION:-v1.6.3}"
NOMAD_API_VERSION="${NOMAD_API_VERSION:-v0.0.0-20251216171439-1dee0671280e}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
mkdir -p "$BIN_DIR"
export GOFLAGS="-mod=mod" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

log() { printf '[provision] %s\n' "$*" >&2; }
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A module whose go.mod has local `replace` directives cannot be `go install`ed: download it,
# copy it somewhere writable, drop the local replaces and build the package from there.
build_from_module_copy() {
  # label: names a build that differs from upstream's (a patch that changes behaviour), so a
  # binary cached before the patch is not taken for it
  local name="$1" module="$2" version="$3" pkg="$4" cgo="${5:-0}" label="${6:+-$6}"
  local patch="$SCRIPT_DIR/$name-$version.patch"
  local out="$BIN_DIR/$name-$version$label"
  [[ -x "$out" ]] && { echo "$out"; return; }
  log "building $name $version from $module (first run only; this takes minutes)"
  local dir
  dir=$(go mod download -json "$module@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  local work="$CACHE_DIR/src/$name-$version"
  rm -rf "$work" && mkdir -p "$(dirname "$work")" && cp -r "$dir" "$work" && chmod -R u+w "$work"
  (
    cd "$work"
    # drop only replaces that point at local folders (./api, ../sdk, ...)
    go mod edit -json | node -e '
      const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of m.Replace ?? []) if (r.New.Path.startsWith(".")) console.log(r.Old.Path + (r.Old.Version ? "@" + r.Old.Version : ""));
    ' | while read -r old; do go mod edit -dropreplace="$old"; done
    [[ $name == nomad ]] && go mod edit -require="github.com/hashicorp/nomad/api@$NOMAD_API_VERSION"
    go mod tidy >/dev/null 2>&1 || true
    [[ -f $patch ]] && GIT_CEILING_DIRECTORIES="$CACHE_DIR" git apply "$patch"
    # FerretDB panics at start when its embedded version file is empty (it is in the module zip).
    [[ $name == ferretdb ]] && echo "$version" > build/version/version.txt
    # Nomad: the binary goes outside the module folder, which already has a nomad/ package.
    CGO_ENABLED="$cgo" go build -trimpath -o "$out.tmp" "$pkg"
  )
  mv "$out.tmp" "$out"
  rm -rf "$work"
  echo "$out"
}

go_install() {
  local name="$1" module="$2" version="$3" pkg="$4"
  local out="$BIN_DIR/$name-$version"
  [[ -x "$out" ]] && { echo "$out"; return; }
  log "installing $name $version"
  local gobin; gobin=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$gobin" go install "$pkg@$version"
  mv "$gobin/$(basename "$pkg")" "$out"
  rm -rf "$gobin"
  echo "$out"
}

# Debian's chromium, driven by playwright-core in the console's browser test: an apt package, not
# a Go build, so it lives in /usr/bin. Installing it needs root (CI runs as root); otherwise say how.
apt_install() {
  local path="$1"; shift
  [[ -x "$path" ]] && { echo "$path"; return; }
  if [[ $(id -u) -ne 0 ]]; then
    log "$path is missing; as root: apt-get update && apt-get install -y --no-install-recommends $*"
    return 1
  fi
  log "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >&2
  echo "$path"
}

provision() {
  case "$1" in
    chromium) apt_install /usr/bin/chromium chromium fonts-dejavu-core ;;
    consul) build_from_module_copy consul github.com/hashicorp/consul "$CONSUL_VERSION" . ;;
    jaeger) build_from_module_copy jaeger github.com/jaegertracing/jaeger "$JAEGER_VERSION" ./cmd/jaeger ;;
    # without its leak detector, without a transaction around one statement, with field names in its
    # SQL rather than in parameters, and with $in on _id served by the _id index (ferretdb-v1.24.2.patch)
    ferretdb) build_from_module_copy ferretdb github.com/FerretDB/FerretDB "$FERRETDB_VERSION" ./cmd/ferretdb 0 lean-keys-in ;;
    stripe-mock) go_install stripe-mock github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION" github.com/stripe/stripe-mock ;;
    # cgo on: the exec driver needs runc's nsenter
    nomad) build_from_module_copy nomad github.com/hashicorp/nomad "$NOMAD_VERSION" . 1 ;;
    helm) go_install helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm ;;
    kubeconform) go_install kubeconform github.com/yannh/kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform ;;
    *) log "unknown component $1"; return 2 ;;
  esac
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(stripe-mock ferretdb consul jaeger)
for t in "${targets[@]}"; do provision "$t"; done
