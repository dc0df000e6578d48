#!/usr/bin/env bash
# Installs what the test suite needs from Debian (run as root on a fresh machine): a real EWS client to check the
# simulator (python3-exchangelib), a real browser for the renderer tests (chromium), and a real Secret Service for
# keytar (libsecret to build it, gnome-keyring + D-Bus to run it).
set -euo pipefail
packages=(python3-exchangelib chromium libsecret-1-dev gnome-keyring dbus dbus-x11)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
