#!/usr/bin/env bash
# Builds the browser bundle into target/site/pkg without cargo-leptos (see facts: it needs a
# newer rustc and downloads tools): wasm32 build of `frontend`, wasm-bindgen, then the CSS
# (style/main.css and style/graph.css in one file).
# The server finds it through LEPTOS_SITE_ROOT or next to its executable (target/site).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${WASM_PROFILE:-wasm-release}"
out=target/site/pkg
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name orchestrator \
  "target/wasm32-unknown-unknown/$profile/frontend.wasm"
python3 scripts/strip-wasm-names.py "$out/orchestrator_bg.wasm"
# One stylesheet: the pages' styles, then the topology graph's.
css=(style/main.css)
if [[ -f style/graph.css ]]; then css+=(style/graph.css); fi
cat "${css[@]}" > "$out/orchestrator.css"
