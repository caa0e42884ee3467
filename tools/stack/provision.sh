#!/usr/bin/env bash
# Builds the stack's infrastructure binaries into ~/.cache/oms/bin (see the script it runs, which
# lives with the stack in libs/local-stack).
#   usage: provision.sh [consul|jaeger|ferretdb|stripe-mock ...]   (default: all)
exec bash "$(dirname "${BASH_SOURCE[0]}")/../../libs/local-stack/src/provision.sh" "$@"
