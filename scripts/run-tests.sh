#!/usr/bin/env bash
# Runs the test suite (arguments go to vitest). The keychain tests need a real Secret Service: the run happens inside a
# throwaway D-Bus session with gnome-keyring started and unlocked, keeping its keyring in a temporary folder so a
# developer's own keyring is never touched. Without those tools the suite still runs; the keychain tests then start
# their own or say why they skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SCS_IN_TEST_SESSION:-}" != "1" ]; then
  if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    export SCS_IN_TEST_SESSION=1
    exec dbus-run-session -- bash "$0" "$@"
  fi
  echo "run-tests: dbus-run-session or gnome-keyring-daemon is missing (install: bash scripts/install-test-deps.sh);" \
    "running without a session keyring." >&2
else
  keyring_home="$(mktemp -d)"
  trap 'rm -rf "$keyring_home"' EXIT
  if keyring_env="$(printf '%s' 'test-keyring-password' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets --daemonize)"; then
    eval "export $(printf '%s\n' "$keyring_env" | tr '\n' ' ')"
    export SCS_TEST_KEYRING=1
  else
    echo "run-tests: gnome-keyring-daemon did not start; keychain tests will start their own or skip." >&2
  fi
fi

npx vitest run "$@"

# The whole suite (no arguments) ends with the bounded real-time soak, run alone: its watch windows are timed, and with
# the other test files beside it on two cores the live cycles it must see come late. Given arguments, the soak runs only
# where they name it and SCS_SOAK_REAL_TIME=1 is set.
if [ $# -eq 0 ]; then
  SCS_SOAK_REAL_TIME=1 npx vitest run test/soak/chaos-soak-realtime.test.ts
fi
