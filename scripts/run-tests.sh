#!/usr/bin/env bash
# Runs the whole suite. The keychain tests need a Secret Service: start a private D-Bus session with an unlocked
# gnome-keyring for the run (owned by the Electron/secrets work; see test/secrets).
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx vitest run "$@"
