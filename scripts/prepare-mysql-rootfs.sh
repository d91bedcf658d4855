#!/usr/bin/env bash
# Builds the Debian sid root filesystem that the test sandbox runs Oracle MySQL from
# (server/src/sandbox). MySQL 9's Debian binaries need a newer glibc than the host has, so
# they run under chroot from this tree (~500 MB, 20-45 s to build).
#
# Usage: scripts/prepare-mysql-rootfs.sh [DIR]
#   DIR defaults to ${ORCH_MYSQL_ROOTFS:-/var/cache/orchestrator-sandbox/mysql-rootfs}.
#   ORCH_DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian).
#
# Idempotent: an existing tree (with usr/sbin/mysqld) is kept and only gets the fix-ups below.
# A new tree is built in DIR.tmp and renamed into place, so DIR is complete or absent; a lock
# makes concurrent runs wait for each other. Needs root and mmdebstrap.
set -euo pipefail

DIR="${1:-${ORCH_MYSQL_ROOTFS:-/var/cache/orchestrator-sandbox/mysql-rootfs}}"
DIR="${DIR%/}"
MIRROR="${ORCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# What mmdebstrap's minbase tree lacks for running mysqld.
fixups() {
    local root="$1"
    # No /etc/hosts in the tree: without it "localhost" does not resolve inside the chroot.
    if [ ! -s "$root/etc/hosts" ]; then
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    fi
    # The sandbox creates its server directories here.
    mkdir -p "$root/var/lib/orchestrator-sandbox"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "prepare-mysql-rootfs: must run as root (mmdebstrap and chroot need it)" >&2
    exit 1
fi

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9

if [ -x "$DIR/usr/sbin/mysqld" ]; then
    fixups "$DIR"
    echo "prepare-mysql-rootfs: $DIR already has usr/sbin/mysqld"
    exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
    echo "prepare-mysql-rootfs: mmdebstrap not found: apt-get install -y mmdebstrap" >&2
    exit 1
fi

TMP="$DIR.tmp"
rm -rf "$TMP"
start=$(date +%s)
# sid's Release file in the registry's snapshot may be past its Valid-Until date.
mmdebstrap --variant=minbase \
    --include=mysql-server-core,mysql-client-core \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    sid "$TMP" "$MIRROR"
if [ ! -x "$TMP/usr/sbin/mysqld" ]; then
    echo "prepare-mysql-rootfs: the new tree has no usr/sbin/mysqld" >&2
    exit 1
fi
fixups "$TMP"
# A DIR without mysqld is the leftover of something else that failed: replace it.
rm -rf "$DIR"
mv -T "$TMP" "$DIR"
echo "prepare-mysql-rootfs: built $DIR in $(($(date +%s) - start)) s ($(chroot "$DIR" /usr/sbin/mysqld --version))"
