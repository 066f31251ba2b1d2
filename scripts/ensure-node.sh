#!/usr/bin/env bash
# Puts a project-local Node.js (from the npm registry's node-linux-* package) into .tools/node.
# The system Node may be older than the project needs; scripts put .tools/node/bin first on PATH,
# and bin/hybridctl hands over to it by itself on an older Node.
#
# --if-needed (npm install's preinstall hook): do nothing when the Node running npm (else the
# first on PATH) is already 22.13 or newer.
set -euo pipefail
if [ "${1:-}" = --if-needed ]; then
  current=${npm_node_execpath:-$(command -v node || true)}
  if [ -n "$current" ] && "$current" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 13) ? 0 : 1)'; then
    exit 0
  fi
  echo "ensure-node: this Node.js ($("${current:-node}" --version 2>/dev/null || echo none)) is older than hybridctl needs (22.13)" >&2
fi
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
