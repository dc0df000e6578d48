#!/usr/bin/env bash
# Renders every icon the app and its installers need from the SVG sources in assets/icons/src/ (run by hand after
# changing a source; the rendered files are committed, so neither tests nor builds need these tools).
# Needs: rsvg-convert (librsvg2-bin), icotool (icoutils), png2icns (icnsutils).
set -euo pipefail
cd "$(dirname "$0")/icons"
for tool in rsvg-convert icotool png2icns; do
  command -v "$tool" >/dev/null || { echo "make-icons: $tool is missing (apt-get install librsvg2-bin icoutils icnsutils)" >&2; exit 1; }
done

# ---- tray: one image per state; coloured for Windows/Linux, black+alpha templates for the macOS menu bar ----
# Badge symbols are drawn in black inside a mask, so they are cut out of the badge (readable in both variants).
declare -A SYMBOL COLOUR
SYMBOL[idle]='<path d="M20.3 24.1l2.6 2.6 4.9-5.1" fill="none" stroke="#000" stroke-width="2.3" stroke-linecap="round" stroke-linejoin="round"/>'
SYMBOL[syncing]='<path d="M27.2 22.6a3.6 3.6 0 1 0 .2 3" fill="none" stroke="#000" stroke-width="2" stroke-linecap="round"/><path d="M28.2 19.6v3.6h-3.6z" fill="#000"/>'
SYMBOL[error]='<rect x="22.9" y="19.6" width="2.2" height="5.6" rx="1.1" fill="#000"/><circle cx="24" cy="27.6" r="1.3" fill="#000"/>'
SYMBOL[paused]='<rect x="20.9" y="20.4" width="2.3" height="7.2" rx="0.8" fill="#000"/><rect x="24.8" y="20.4" width="2.3" height="7.2" rx="0.8" fill="#000"/>'
COLOUR[idle]='#16a34a'
COLOUR[syncing]='#0284c7'
COLOUR[error]='#dc2626'
COLOUR[paused]='#d97706'
CALENDAR='#2563eb'

mkdir -p tray app
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
render_tray() { # state calendar-colour badge-colour output-stem
  local svg="$tmp/$4.svg"
  sed -e "s|@SYMBOL@|${SYMBOL[$1]}|" -e "s|@CALENDAR@|$2|g" -e "s|@BADGE@|$3|g" src/tray-base.svg.in > "$svg"
  cp "$svg" "src/$4.svg"
  rsvg-convert -w 16 -h 16 "$svg" -o "tray/$4.png"
  rsvg-convert -w 32 -h 32 "$svg" -o "tray/$4@2x.png"
}
for state in idle syncing error paused; do
  render_tray "$state" "$CALENDAR" "${COLOUR[$state]}" "tray-$state"
  render_tray "$state" '#000000' '#000000' "tray-${state}Template"
done

# ---- app icon: Linux PNGs by size (electron-builder reads NxN.png), Windows .ico, macOS .icns ----
for size in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$size" -h "$size" src/app.svg -o "app/${size}x${size}.png"
done
icotool -c -o app/icon.ico app/16x16.png app/24x24.png app/32x32.png app/48x48.png app/64x64.png app/128x128.png app/256x256.png
png2icns app/icon.icns app/16x16.png app/32x32.png app/48x48.png app/128x128.png app/256x256.png app/512x512.png app/1024x1024.png >/dev/null
cp app/512x512.png app/icon.png
echo "make-icons: rendered $(find tray app -type f | wc -l) files"
