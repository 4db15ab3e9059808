#!/bin/sh
# Builds a tiny page around tock-react-kit, Tock's reference chat front-end,
# so TestTockReactKit can check that it talks to parole's web connector
# unchanged. Usage: build.sh DIR — installs the npm packages into DIR (a
# cache outside the repository, reused when already built) and writes
# DIR/index.html and DIR/bundle.js. The page renders the chat against the
# endpoint given in its ?endpoint= query parameter.
set -eu
dir=${1:?usage: build.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
cd "$dir"
if [ -f bundle.js ] && [ -f index.html ] && cmp -s "$here/build.sh" build.sh.used; then
	exit 0
fi
if [ ! -f package.json ]; then
	printf '{"name":"parole-tockkit-check","private":true}\n' > package.json
fi
npm install --no-audit --no-fund --loglevel=error \
	tock-react-kit react@18 react-dom@18 @emotion/react @emotion/styled esbuild >npm.log 2>&1 || {
	cat npm.log >&2
	exit 1
}
cat > entry.jsx <<'JS'
import { renderChat } from 'tock-react-kit';
const params = new URLSearchParams(window.location.search);
const endpoint = params.get('endpoint');
renderChat(document.getElementById('chat'), endpoint, undefined, undefined, {});
window.tockKitRendered = true;
JS
./node_modules/.bin/esbuild entry.jsx --bundle --minify --format=iife \
	--define:process.env.NODE_ENV='"production"' --loader:.js=jsx \
	--outfile=bundle.js --log-level=warning
cat > index.html <<'HTML'
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tock-react-kit against parole</title></head>
<body><div id="chat" style="height:600px"></div><script src="bundle.js"></script></body>
</html>
HTML
cp "$here/build.sh" build.sh.used
