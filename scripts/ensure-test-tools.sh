#!/usr/bin/env bash
# Installs the emulators the integration tests run against into .tools/ (idempotent).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Pinned, so that a new release cannot change what the tests check against.
moto_version=5.2.5
kubernetes_validate_version=1.37.0   # bundles the Kubernetes v1.36 OpenAPI schemas
venv="$root/.tools/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto, sys; sys.exit(0 if moto.__version__ == "'"$moto_version"'" else 1)' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet "moto[server]==$moto_version"
fi
if ! "$venv/bin/python" -c 'import kubernetes_validate' 2>/dev/null || [ "$("$venv/bin/pip" show kubernetes-validate 2>/dev/null | sed -n 's/^Version: //p')" != "$kubernetes_validate_version" ]; then
  "$venv/bin/python" -m pip install --quiet "kubernetes-validate==$kubernetes_validate_version"
fi
for tool in openssl go docker-registry skopeo htpasswd wireguard-go wg ip iptables setpriv haproxy prometheus; do
  command -v "$tool" >/dev/null || { echo "ensure-test-tools: $tool is needed (Debian: apt-get install docker-registry skopeo apache2-utils openssl wireguard-go wireguard-tools iproute2 iptables haproxy prometheus)" >&2; exit 1; }
done
