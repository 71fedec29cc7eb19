#!/bin/sh
# twostep on an admin's PATH, for the service set up as in docs/service.md:
#   install -m 0755 /opt/twostep/config/systemd/twostep-cli.sh /usr/local/bin/twostep
# Runs the CLI as the service's user, with its config and working folder, so that
# `twostep user allow alice` (as root) neither needs --config nor leaves files owned by root in
# /var/lib/twostep (SQLite creates twostep.db-wal and -shm beside the database, and a root-owned
# one would keep the service from opening it).
TWOSTEP_HOME=/opt/twostep
TWOSTEP_USER=twostep
TWOSTEP_DATA=/var/lib/twostep
export TWOSTEP_CONFIG="${TWOSTEP_CONFIG:-/etc/twostep/twostep.toml}"

cd "$TWOSTEP_DATA" || exit 1
if [ "$(id -un)" = "$TWOSTEP_USER" ]; then
  exec "$TWOSTEP_HOME/bin/twostep" "$@"
fi
if [ "$(id -u)" != 0 ]; then
  echo "twostep: run as root (sudo twostep ...) or as $TWOSTEP_USER" >&2
  exit 2
fi
exec runuser -u "$TWOSTEP_USER" -- "$TWOSTEP_HOME/bin/twostep" "$@"
