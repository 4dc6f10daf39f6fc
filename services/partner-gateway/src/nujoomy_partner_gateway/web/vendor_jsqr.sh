#!/usr/bin/env sh
# Vendors the jsQR decoder (npm, pinned) into static/ so pages never load code from a CDN and the
# running service never needs npm. The scanner uses it only where the browser lacks BarcodeDetector.
set -eu
VERSION=1.4.0
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "jsqr@$VERSION" >/dev/null 2>&1
tar xzf "jsqr-$VERSION.tgz"
cp package/dist/jsQR.js "$HERE/static/jsQR.js"
echo "vendored jsqr@$VERSION -> $HERE/static/jsQR.js"
