#!/usr/bin/env bash
# Runs before `npm test`, `npm run dev` and `npm run dev:cluster` (npm's pre-scripts): on a fresh
# clone, or after package-lock.json changed, it installs the npm dependencies first, with npm's
# progress. A no-op when node_modules matches the lockfile. (The Go tools and, for the node, the
# Debian packages are installed by the commands themselves, also only when missing.)
set -euo pipefail
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json # npm writes it after every successful install
if [[ -f $marker && -x node_modules/.bin/node && ! package-lock.json -nt $marker ]]; then
  exit 0
fi
if [[ -f $marker ]]; then
  echo "bootstrap: package-lock.json changed since the last install: npm install"
else
  echo "bootstrap: no node_modules yet (fresh clone): npm install, then the command you ran"
fi
started=$SECONDS
npm install --no-audit --no-fund
echo "bootstrap: dependencies installed in $((SECONDS - started))s (Node.js $(node_modules/.bin/node --version) for the scripts)"
