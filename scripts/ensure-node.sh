#!/usr/bin/env bash
# Puts a project-local Node.js (from the npm registry's node-linux-* package) into .tools/node.
# The system Node may be older than the project needs; scripts put .tools/node/bin first on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want=${HYBRIDCTL_NODE_VERSION:-24.21.0}
dir="$root/.tools/node"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "ensure-node: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$want" ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "ensure-node: fetching node-linux-$arch@$want from the npm registry" >&2
(cd "$tmp" && npm pack --silent "node-linux-$arch@$want" >/dev/null)
rm -rf "$dir" && mkdir -p "$dir"
tar xzf "$tmp"/node-linux-*.tgz -C "$dir" --strip-components=1 package/bin/node package/LICENSE
"$dir/bin/node" --version >/dev/null
