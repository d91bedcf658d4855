#!/usr/bin/env bash
# Installs what building, the demo and the tests need, skipping whatever is already there:
# Debian packages (MariaDB, python3 for the bundle's last step; with --test also Chromium, chromedriver and mmdebstrap), the wasm32
# target, wasm-bindgen-cli at the version the workspace pins, and (with --test) the Debian sid
# root filesystem that runs Oracle MySQL 9.x for the tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
if $for_tests; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
fi
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Must equal the wasm-bindgen version in Cargo.lock (pinned with = in Cargo.toml).
bindgen_version=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  echo "setup: installing wasm-bindgen-cli $bindgen_version"
  # Not --locked: one of its locked dependency versions is not in the registry.
  cargo install --quiet wasm-bindgen-cli --version "$bindgen_version"
fi

if $for_tests; then
  ./scripts/prepare-mysql-rootfs.sh
fi
