#!/usr/bin/env bash
# Installs the emulators the integration tests run against into .tools/ (idempotent).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Pinned, so that a new moto release cannot change what the tests check against.
moto_version=5.2.5
venv="$root/.tools/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto, sys; sys.exit(0 if moto.__version__ == "'"$moto_version"'" else 1)' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet "moto[server]==$moto_version"
fi
command -v openssl >/dev/null || { echo "ensure-test-tools: openssl is needed for the test CA" >&2; exit 1; }
