#!/usr/bin/env bash
# Vendor the YASGUI query editor (RULINGS: front-end libraries are vendored, never loaded from
# a CDN): the built, minified bundle of a pinned npm version, checked against the registry's
# published sha512, with the MIT licence its package.json names. Rerun to refresh; bump
# VERSION and INTEGRITY together (`npm view @zazuko/yasgui@X dist.integrity`).
set -euo pipefail
VERSION=4.6.2
INTEGRITY="sha512-Zw45KdPoAE1KRaAoxIHdQqeJxvaVG1oQdntw0hy0ktX35Zu8ZccuOLrXCLwR+GU+0xMzLw8Mjw6BkSZV2vUuQw=="
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/server/mmkg/static/vendor/yasgui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "@zazuko/yasgui@$VERSION" >/dev/null)
tarball="$work/zazuko-yasgui-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
    echo "integrity mismatch for @zazuko/yasgui@$VERSION: $actual" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"
license="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["license"])' "$work/package/package.json")"
[ "$license" = "MIT" ] || { echo "unexpected licence $license" >&2; exit 1; }

mkdir -p "$dest"
cp "$work/package/build/yasgui.min.js" "$work/package/build/yasgui.min.css" "$dest/"
# The bundle ends with a sourceMappingURL comment; the map is not vendored, so drop the comment
# (a browser would otherwise request a file we do not serve).
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/yasgui.min.js"
sed -i 's|/\*# sourceMappingURL=[^*]*\*/||' "$dest/yasgui.min.css"
cat > "$dest/LICENSE" <<LICENSE
@zazuko/yasgui $VERSION (npm), https://github.com/rdfjs/Yasgui
Licence: MIT, as named in the package's package.json (author: Triply <info@triply.cc>;
contributors: Zazuko GmbH).

MIT License

Copyright (c) Triply <info@triply.cc> and Zazuko GmbH

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
printf '%s\n' "$VERSION" > "$dest/VERSION"
echo "vendored @zazuko/yasgui@$VERSION into ${dest#"$here"/}"
