#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds the browser bundle,
# then runs every test (unit, store, integration against real MariaDB and MySQL 9.x servers,
# and browser tests in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
./scripts/setup.sh --test
./scripts/build-site.sh
cargo test --no-fail-fast "$@"
echo "test.sh: all tests passed in $(( $(date +%s) - started )) s"
