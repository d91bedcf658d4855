#!/usr/bin/env bash
# The demo: installs what is missing, builds (release), and runs three MariaDB servers named
# mysql1 (primary), mysql2 and mysql3 (replicas) with a node on http://127.0.0.1:3000 that
# shows them. Ctrl-C stops it and removes the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-site.sh
cargo build --release -p server
exec target/release/orchestrator demo "$@"
