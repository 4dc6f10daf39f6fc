#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it through executable_path; no browser
# download). Installed once; later runs find it.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
