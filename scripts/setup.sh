#!/usr/bin/env bash
# Sets warden up on a fresh machine: Node >= 22 (Node 24 from the npm registry when the
# machine's node is older), the locked dependencies, and the build in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  echo "setup: node $(node --version 2>/dev/null || echo missing) is older than 22; installing Node 24 from the npm registry into /usr/local" >&2
  npm install -g --prefix /usr/local node@24 >&2
  export PATH="/usr/local/bin:$PATH"
  hash -r
  if [ "$(node_major)" -lt 22 ]; then
    echo "setup: node is still $(node --version); put /usr/local/bin first on PATH" >&2
    exit 1
  fi
fi

# npm ci installs exactly the lock file and builds dist/ through the prepare script.
npm ci --no-audit --no-fund
