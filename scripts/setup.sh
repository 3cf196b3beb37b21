#!/usr/bin/env bash
# One-time setup on a fresh machine: Debian packages the tests and the demo use, then npm packages
# (better-sqlite3 builds from source; allow about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcloud >/dev/null || need_apt+=(google-cloud-cli)
command -v wrk >/dev/null || need_apt+=(wrk)                  # npm run bench: the load generator
command -v nginx >/dev/null || need_apt+=(nginx-light)        # npm run bench: the reverse-proxy ceiling
[ -x /usr/bin/chromium ] || need_apt+=(chromium)                # IAP's browser sign-in test (headless)
command -v certutil >/dev/null || need_apt+=(libnss3-tools)   # that browser trusts runguard's local CA
/usr/bin/python3 -c "import flask" 2>/dev/null || need_apt+=(python3-flask)   # the seed's Flask app
command -v podman >/dev/null || need_apt+=(podman)            # container images: the local image store and builds
[ -x /usr/sbin/runc ] || need_apt+=(runc)                       # container instances: the OCI runtime
command -v fuse-overlayfs >/dev/null || need_apt+=(fuse-overlayfs)   # a container's root filesystem, owners mapped
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)   # a real database at a VPC address
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "setup: please install with apt-get: ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node -e "require('better-sqlite3')(':memory:').close()" 2>/dev/null || npm rebuild better-sqlite3
