#!/usr/bin/env bash
# Builds the real infrastructure binaries from the Go module proxy into a versioned cache
# outside the repository, so that a second run takes seconds.
#   usage: provision.sh [consul|jaeger|ferretdb|stripe-mock ...]   (default: all)
set -euo pipefail

CACHE_DIR="${OMS_CACHE_DIR:-$HOME/.cache/oms}"
BIN_DIR="$CACHE_DIR/bin"
CONSUL_VERSION="${CONSUL_VERSION:-v1.20.6}"
JAEGER_VERSION="${JAEGER_VERSION:-v1.76.0}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
STRIPE_MOCK_VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
mkdir -p "$BIN_DIR"
export GOFLAGS="-mod=mod" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

log() { printf '[provision] %s\n' "$*" >&2; }

# A module whose go.mod has local `replace` directives cannot be `go install`ed: download it,
# copy it somewhere writable, drop the local replaces and build the package from there.
build_from_module_copy() {
  local name="$1" module="$2" version="$3" pkg="$4"
  local out="$BIN_DIR/$name-$version"
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
    go mod tidy >/dev/null 2>&1 || true
    # FerretDB panics at start when its embedded version file is empty (it is in the module zip).
    [[ $name == ferretdb ]] && echo "$version" > build/version/version.txt
    CGO_ENABLED=0 go build -trimpath -o "$out.tmp" "$pkg"
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

provision() {
  case "$1" in
    consul) build_from_module_copy consul github.com/hashicorp/consul "$CONSUL_VERSION" . ;;
    jaeger) build_from_module_copy jaeger github.com/jaegertracing/jaeger "$JAEGER_VERSION" ./cmd/jaeger ;;
    ferretdb) build_from_module_copy ferretdb github.com/FerretDB/FerretDB "$FERRETDB_VERSION" ./cmd/ferretdb ;;
    stripe-mock) go_install stripe-mock github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION" github.com/stripe/stripe-mock ;;
    *) log "unknown component $1"; return 2 ;;
  esac
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(stripe-mock ferretdb consul jaeger)
for t in "${targets[@]}"; do provision "$t"; done
