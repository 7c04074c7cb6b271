#!/usr/bin/env bash
# Install or upgrade Giliran on a Raspberry Pi (Raspberry Pi OS Lite 64-bit, Debian 12).
#
#   sudo systemd/install.sh --roles broker,kiosk,display:hall,counter:3 --site examples/site.toml
#
# Roles: broker (Mosquitto with the site's accounts), kiosk, display:ID, counter:N.
# Safe to run again: the same command upgrades from a newer checkout, keeps every
# password, certificate and ledger, and restarts the services. The options used
# are remembered in /etc/giliran/install.env, so `sudo systemd/install.sh` alone
# upgrades with the same roles. See docs/DEPLOY.md.
#
# Options:
#   --roles LIST        comma-separated roles (remembered)
#   --site FILE         site file to install as /etc/giliran/site.toml (default: keep the installed one)
#   --bind ADDR         broker's plain listener address (default 127.0.0.1; 0.0.0.0 for a hall of several Pis)
#   --tls-host NAME     add the TLS listener, with a certificate naming NAME (a DNS name or IP; repeat for more)
#   --tls-port N        TLS listener port (default 8883)
#   --bridge FILE       head-office bridge settings, installed as /etc/giliran/head-office.toml
#   --credentials DIR   where this Pi's node credentials come from when the broker is on another Pi
#   --time-server ADDR  the kiosk Pi, the hall's time server, for Pis without the kiosk role
#                       (default: the site file's broker.host; remembered)
#   --root DIR          write everything under DIR and only print what would be done to the system
#                       (users, apt, systemctl, udev, modules): for CI and for a look before installing
#   --no-venv           do not build /opt/giliran/venv; use --python instead
#   --python PY         a Python with this checkout's giliran installed (default: the venv's)
set -euo pipefail
umask 022

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=""
DRY=0
ROLES=""
SITE=""
BIND=""
TLS_HOSTS=""
TLS_PORT=""
BRIDGE=""
CREDS_FROM=""
TIME_SERVER=""
NO_VENV=0
PY=""

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

# A command that changes the system outside ROOT: run it, or with --root only say it, naming
# paths as the installed system sees them (without ROOT), so the plan can be run there as is.
run() {
  if [ "$DRY" -eq 1 ]; then
    printf 'would run:'
    local arg
    for arg in "$@"; do
      [ -z "$ROOT" ] || [[ "$arg" != "$ROOT"/* ]] || arg="${arg#"$ROOT"}"
      printf ' %q' "$arg"
    done
    printf '\n'
  else
    "$@"
  fi
}

# Copy SRC to DEST with MODE, rewriting DEST only when its content differs (then WROTE=1).
WROTE=0
put() {
  local src="$1" dest="$2" mode="$3"
  mkdir -p "$(dirname "$dest")"
  if ! cmp -s "$src" "$dest"; then
    cp "$src" "$dest"
    say "wrote ${dest#"$ROOT"}"
    WROTE=1
  fi
  chmod "$mode" "$dest"
}

# Write stdin to DEST with MODE, only when it differs.
put_text() {
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  put "$tmp" "$1" "$2"
  rm -f "$tmp"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --roles) ROLES="$2"; shift 2 ;;
    --site) SITE="$2"; shift 2 ;;
    --bind) BIND="$2"; shift 2 ;;
    --tls-host) TLS_HOSTS="${TLS_HOSTS:+$TLS_HOSTS,}$2"; shift 2 ;;
    --tls-port) TLS_PORT="$2"; shift 2 ;;
    --bridge) BRIDGE="$2"; shift 2 ;;
    --credentials) CREDS_FROM="$2"; shift 2 ;;
    --time-server) TIME_SERVER="$2"; shift 2 ;;
    --root) ROOT="$(mkdir -p "$2" && cd "$2" && pwd)"; DRY=1; shift 2 ;;
    --no-venv) NO_VENV=1; shift ;;
    --python) PY="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) say "unknown option $1"; usage 2 ;;
  esac
done

[ "$DRY" -eq 1 ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo), or with --root DIR to try it out"

ETC="$ROOT/etc/giliran"
STATE="$ROOT/var/lib/giliran"
OPT="$ROOT/opt/giliran"
UNITS="$ROOT/etc/systemd/system"

# --- remembered options ------------------------------------------------------------
PREVIOUS_ROLES=""
if [ -f "$ETC/install.env" ]; then
  given=("$ROLES" "$BIND" "$TLS_HOSTS" "$TLS_PORT" "$TIME_SERVER")
  # shellcheck disable=SC1091
  . "$ETC/install.env"
  PREVIOUS_ROLES="$ROLES"
  ROLES="${given[0]:-$ROLES}"
  BIND="${given[1]:-$BIND}"
  TLS_HOSTS="${given[2]:-$TLS_HOSTS}"
  TLS_PORT="${given[3]:-$TLS_PORT}"
  TIME_SERVER="${given[4]:-${TIME_SERVER:-}}"
fi
BIND="${BIND:-127.0.0.1}"
TLS_PORT="${TLS_PORT:-8883}"
[ -n "$ROLES" ] || die "--roles is required on the first install, e.g. --roles broker,kiosk,display:hall,counter:3"

# --- roles ---------------------------------------------------------------------------
BROKER=0
KIOSK=0
DISPLAYS=()
COUNTERS=()
IFS=',' read -r -a role_list <<<"$ROLES"
for role in "${role_list[@]}"; do
  case "$role" in
    broker) BROKER=1 ;;
    kiosk) KIOSK=1 ;;
    display:*)
      id="${role#display:}"
      [[ "$id" =~ ^[A-Za-z0-9_-]+$ ]] || die "display id '$id' must be letters, digits, '-' or '_'"
      DISPLAYS+=("$id") ;;
    counter:*)
      n="${role#counter:}"
      [[ "$n" =~ ^[0-9]+$ ]] || die "counter '$n' must be a number, e.g. counter:3"
      COUNTERS+=("$n") ;;
    *) die "unknown role '$role' (roles: broker, kiosk, display:ID, counter:N)" ;;
  esac
done

units_of() {  # the systemd units that a roles list runs
  local r out=()
  IFS=',' read -r -a r <<<"$1"
  for role in "${r[@]}"; do
    case "$role" in
      broker) out+=(mosquitto.service) ;;
      kiosk) out+=(giliran-kiosk.service) ;;
      display:*) out+=("giliran-display@${role#display:}.service") ;;
      counter:*) out+=("giliran-counter@${role#counter:}.service") ;;
    esac
  done
  [ "${#out[@]}" -eq 0 ] || printf '%s\n' "${out[@]}"
}

# --- Debian packages -------------------------------------------------------------------
# chrony: the kiosk Pi serves the hall's time, the other Pis follow it (see "Time" below).
packages=(python3 python3-venv ca-certificates chrony)
[ "$BROKER" -eq 1 ] && packages+=(mosquitto mosquitto-clients openssl)
[ "$KIOSK" -eq 1 ] && packages+=(libusb-1.0-0)
if [ "${#DISPLAYS[@]}" -gt 0 ]; then
  # cage + seatd give the board the screen (Debian's cage will not start without xwayland, which it
  # does not depend on); SDL loads the Wayland, EGL and ALSA libraries at run time; pygame.mixer needs glib.
  packages+=(cage xwayland seatd espeak-ng fonts-dejavu-core libwayland-client0 libwayland-cursor0
             libwayland-egl1 libxkbcommon0 libegl1 libgles2 libgl1-mesa-dri libasound2 libglib2.0-0)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "Debian packages to install: ${missing[*]}"
  run apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- user and groups -------------------------------------------------------------------
groups=()
[ "$KIOSK" -eq 1 ] && groups+=(gpio lp dialout)
[ "${#COUNTERS[@]}" -gt 0 ] && groups+=(gpio dialout)
[ "${#DISPLAYS[@]}" -gt 0 ] && groups+=(video render audio input)
for g in $(printf '%s\n' "${groups[@]}" | sort -u); do
  getent group "$g" >/dev/null || run groupadd --system "$g"
done
getent passwd giliran >/dev/null || run useradd --system --user-group --home-dir /var/lib/giliran \
  --no-create-home --shell /usr/sbin/nologin --comment "Giliran queue nodes" giliran

# --- the Python environment --------------------------------------------------------------
if [ "$NO_VENV" -eq 0 ]; then
  VENV="$OPT/venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  # Build from a clean copy: a stale build/ folder in the checkout could ship deleted modules.
  mkdir "$build/src"
  tar -C "$SRC" --exclude=./.venv --exclude=./.git --exclude=./build --exclude='*.egg-info' \
      --exclude=./var --exclude=./demo-out -cf - . | tar -C "$build/src" -xf -
  "$VENV/bin/pip" wheel -q --no-deps -w "$build/dist" "$build/src"
  wheel="$(ls "$build"/dist/giliran-*.whl)"
  extras=""
  case "$(uname -m)" in aarch64|armv7l|armv6l) extras="[pi]" ;; esac
  "$VENV/bin/pip" install -q "$wheel$extras"
  "$VENV/bin/pip" install -q --force-reinstall --no-deps "$wheel"
  PY="${PY:-$VENV/bin/python}"
  mkdir -p "$ROOT/usr/local/bin"
  ln -sfn /opt/giliran/venv/bin/giliran "$ROOT/usr/local/bin/giliran"   # for technicians: `giliran counter 3 next`
fi
[ -n "$PY" ] || die "--no-venv needs --python PY (a Python with giliran installed)"
# -P: never import from the current folder, so what runs is what was installed.
"$PY" -P -c 'import giliran' 2>/dev/null || die "$PY cannot import giliran"
GILIRAN=("$PY" -P -m giliran)
put "$SRC/docs/DEPLOY.md" "$OPT/doc/DEPLOY.md" 0644

# --- /etc/giliran: the site file ----------------------------------------------------------
mkdir -p "$ETC" "$STATE"
chmod 0755 "$ETC"
chmod 0750 "$STATE"
if [ -n "$SITE" ]; then
  "${GILIRAN[@]}" config check "$SITE" >&2 || die "fix the site file first"
  if [ -f "$ETC/site.toml" ] && ! cmp -s "$SITE" "$ETC/site.toml"; then
    cp -p "$ETC/site.toml" "$ETC/site.toml.previous"
  fi
  put "$SITE" "$ETC/site.toml" 0640
fi
[ -f "$ETC/site.toml" ] || die "no site file yet: pass --site FILE"

# Facts from the site file that the install needs; refuses roles the site file does not have.
facts="$("$PY" -P - "$ETC/site.toml" "${role_list[@]}" <<'PYTHON'
import shlex
import sys
from pathlib import Path

from giliran.config import load_site

site = load_site(Path(sys.argv[1]))
problems = []
for role in sys.argv[2:]:
    kind, _, ident = role.partition(":")
    if kind == "display" and ident not in [d.id for d in site.displays]:
        problems.append(f"display {ident!r} is not in the site file (it has {[d.id for d in site.displays]})")
    if kind == "counter" and int(ident) not in [c.id for c in site.counters]:
        problems.append(f"counter {ident} is not in the site file (it has {[c.id for c in site.counters]})")
if problems:
    sys.exit("\n".join(problems))
usb = site.printer.usb
facts = {
    "SITE_ID": site.site.id,
    "PRINTER_CONNECTION": site.printer.connection,
    "PRINTER_USB": f"{usb.vendor_id:04x}:{usb.product_id:04x}" if usb else "",
    "CREDENTIALS_DIR": site.broker.credentials_dir,
    "PORTRAIT_DISPLAYS": " ".join(d.id for d in site.displays if d.orientation == "portrait"),
    "LANGUAGES": " ".join(site.site.languages),
    "BROKER_HOST": site.broker.host,
}
print(" ".join(f"{k}={shlex.quote(v)}" for k, v in facts.items()))
PYTHON
)" || die "the roles do not match the site file"
eval "$facts"
[[ "$CREDENTIALS_DIR" == /* ]] || die "broker.credentials_dir in the site file must be an absolute path on a Pi"
CREDS="$ROOT$CREDENTIALS_DIR"

# --- the broker ------------------------------------------------------------------------------
if [ "$BROKER" -eq 1 ]; then
  init_args=(--site "$ETC/site.toml" --out "$ETC/broker" --bind "$BIND" --log-dest stderr
             --data-dir "$ROOT/var/lib/mosquitto")
  [ -z "$ROOT" ] || init_args+=(--root "$ROOT")   # mosquitto.conf names /etc/..., not the folder's paths
  if [ -n "$TLS_HOSTS" ]; then
    tls_args=()
    IFS=',' read -r -a hosts <<<"$TLS_HOSTS"
    for h in "${hosts[@]}"; do tls_args+=(--host "$h"); done
    "${GILIRAN[@]}" tls init --site "$ETC/site.toml" --out "$ETC/tls" "${tls_args[@]}" >&2
    chmod 0755 "$ETC/tls"
    init_args+=(--tls-port "$TLS_PORT" --tls-dir "$ETC/tls")
  fi
  [ -z "$BRIDGE" ] || put "$BRIDGE" "$ETC/head-office.toml" 0600
  [ ! -f "$ETC/head-office.toml" ] || init_args+=(--bridge "$ETC/head-office.toml")
  "${GILIRAN[@]}" broker init "${init_args[@]}" >&2
  # Mosquitto reads its files after dropping to user mosquitto; node passwords stay root's.
  chmod 0750 "$ETC/broker"
  chmod 0640 "$ETC/broker/mosquitto.conf" "$ETC/broker/passwd" "$ETC/broker/acl"
  chmod 0700 "$ETC/broker/credentials"
  run chown root:mosquitto "$ETC/broker" "$ETC/broker/mosquitto.conf" "$ETC/broker/passwd" "$ETC/broker/acl"
  run chown -R mosquitto:mosquitto "$ROOT/var/lib/mosquitto"
  if [ -n "$TLS_HOSTS" ]; then
    chmod 0640 "$ETC/tls/server.key"
    run chown root:mosquitto "$ETC/tls/server.key"
  fi
  put "$SRC/systemd/mosquitto.service.d/giliran.conf" "$UNITS/mosquitto.service.d/giliran.conf" 0644
  CREDS_FROM="$ETC/broker/credentials"
  put "$CREDS_FROM/technician.toml" "$CREDS/technician.toml" 0600
fi

# --- this Pi's node credentials ----------------------------------------------------------------
nodes=()
[ "$KIOSK" -eq 1 ] && nodes+=(kiosk)
for id in "${DISPLAYS[@]}"; do nodes+=("display-$id"); done
for n in "${COUNTERS[@]}"; do nodes+=("counter-$n"); done
mkdir -p "$CREDS"
chmod 0750 "$CREDS"
run chown root:giliran "$CREDS"
for node in "${nodes[@]}"; do
  if [ -n "$CREDS_FROM" ] && [ -f "$CREDS_FROM/$node.toml" ]; then
    put "$CREDS_FROM/$node.toml" "$CREDS/$node.toml" 0640
  fi
  [ -f "$CREDS/$node.toml" ] || die "no credentials for $node: copy $node.toml from the broker Pi's" \
    "/etc/giliran/broker/credentials/ to $CREDENTIALS_DIR/, or pass --credentials DIR"
  run chown root:giliran "$CREDS/$node.toml"
done
run chown root:giliran "$ETC/site.toml"
run chown giliran:giliran "$STATE"

# --- devices --------------------------------------------------------------------------------------
reload_udev=0
if [ "$KIOSK" -eq 1 ] || [ "${#COUNTERS[@]}" -gt 0 ]; then
  put_text "$ROOT/etc/udev/rules.d/60-giliran-gpio.rules" 0644 <<'EOF'
# Giliran: GPIO chips for group gpio (Raspberry Pi OS does this too; plain Debian does not).
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
EOF
  reload_udev=1
fi
if [ "$KIOSK" -eq 1 ]; then
  {
    echo "# Giliran: USB receipt printers for group lp (the kiosk's), opened through libusb."
    echo "# Any device with a USB printer-class interface:"
    echo 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="lp", MODE="0660"'
    if [ -n "$PRINTER_USB" ]; then
      echo "# The site file's printer (many report a vendor-specific class instead):"
      echo "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"${PRINTER_USB%:*}\"," \
           "ATTR{idProduct}==\"${PRINTER_USB#*:}\", GROUP=\"lp\", MODE=\"0660\""
    fi
  } | put_text "$ROOT/etc/udev/rules.d/60-giliran-printer.rules" 0644
  if [ "$PRINTER_CONNECTION" = usb ]; then
    put_text "$ROOT/etc/modprobe.d/giliran-usblp.conf" 0644 <<'EOF'
# Giliran: the kiosk talks ESC/POS to its USB printer through libusb. The kernel's
# usblp driver would claim the printer first ("Resource busy"), so keep it out.
blacklist usblp
EOF
    run modprobe -r usblp
  fi
fi
if [ "$reload_udev" -eq 1 ]; then
  run udevadm control --reload
  run udevadm trigger --subsystem-match=usb --subsystem-match=gpio
fi
for id in "${DISPLAYS[@]}"; do
  env_file="$ETC/display-$id.env"
  [ -f "$env_file" ] && continue   # a technician's edits (e.g. the rotation) are kept
  rotate=""
  [[ " $PORTRAIT_DISPLAYS " == *" $id "* ]] && rotate="-r"
  put_text "$env_file" 0644 <<EOF
# Arguments for cage, the compositor of display $id (see cage(1)).
# -r rotates the screen 90 degrees clockwise (portrait boards); repeat it to rotate further.
CAGE_ARGS=$rotate
EOF
done

# Voice packs for the PA, built offline with espeak-ng; a pack already there (perhaps a
# recorded one, see docs/VOICES.md) is kept.
if [ "${#DISPLAYS[@]}" -gt 0 ]; then
  for lang in $LANGUAGES; do
    [ ! -f "$STATE/voices/$lang/manifest.toml" ] || continue
    "${GILIRAN[@]}" voices build --lang "$lang" --out "$STATE/voices" >&2 \
      || say "warning: no voice pack for '$lang' could be built; record one into /var/lib/giliran/voices/$lang"
  done
fi

# --- time ------------------------------------------------------------------------------------------
# Pis have no real-time clock and many halls have no internet time, so the kiosk Pi is the hall's
# time server: chrony serves the private networks from it, with `local stratum` so it serves its own
# clock when no upstream server answers. Every other Pi follows it. See docs/DEPLOY.md, "Time".
CHRONY_CONF="$ROOT/etc/chrony/conf.d/giliran.conf"
CHRONY_SOURCES="$ROOT/etc/chrony/sources.d/giliran.sources"
WROTE=0
if [ "$KIOSK" -eq 1 ]; then
  rm -f "$CHRONY_SOURCES"
  put_text "$CHRONY_CONF" 0644 <<'EOF'
# Giliran: this Pi (the kiosk) is the hall's time server. Written by systemd/install.sh.
# Serve the hall even with no upstream server (no internet): stratum 8 ranks below any real source.
local stratum 8
# Let a technician set the clock by hand on a hall with no internet and no RTC:
#   sudo chronyc settime "2026-12-01 08:00:00"
manual
# Answer NTP clients on private and link-local networks only.
allow 10.0.0.0/8
allow 172.16.0.0/12
allow 192.168.0.0/16
allow 169.254.0.0/16
allow fc00::/7
allow fe80::/10
EOF
else
  time_server="${TIME_SERVER:-$BROKER_HOST}"   # the broker Pi is usually the kiosk Pi
  case "$time_server" in
    127.*|::1|localhost)
      say "warning: no time server for this Pi (broker.host is $time_server): pass --time-server ADDR (the kiosk Pi)" ;;
    *)
      rm -f "$CHRONY_CONF"
      put_text "$CHRONY_SOURCES" 0644 <<EOF
# Giliran: follow the hall's time server, the kiosk Pi. Written by systemd/install.sh.
server $time_server iburst prefer
EOF
      ;;
  esac
fi
chrony_changed=$WROTE

# --- systemd units --------------------------------------------------------------------------------
for unit in giliran-kiosk.service giliran-display@.service giliran-counter@.service; do
  put "$SRC/systemd/$unit" "$UNITS/$unit" 0644
done
[ "${#DISPLAYS[@]}" -eq 0 ] || put "$SRC/systemd/giliran-cage" "$OPT/bin/giliran-cage" 0755
mapfile -t wanted < <(units_of "$ROLES")
mapfile -t dropped < <(comm -23 <(units_of "$PREVIOUS_ROLES" | sort) <(printf '%s\n' "${wanted[@]}" | sort))
run systemctl daemon-reload
[ "$chrony_changed" -eq 0 ] || run systemctl restart chrony.service
[ "${#dropped[@]}" -eq 0 ] || run systemctl disable --now "${dropped[@]}"
[ "${#DISPLAYS[@]}" -eq 0 ] || run systemctl enable --now seatd.service
run systemctl enable "${wanted[@]}"
run systemctl restart "${wanted[@]}"

printf 'ROLES=%q\nBIND=%q\nTLS_HOSTS=%q\nTLS_PORT=%q\nTIME_SERVER=%q\n' \
  "$ROLES" "$BIND" "$TLS_HOSTS" "$TLS_PORT" "$TIME_SERVER" \
  | put_text "$ETC/install.env" 0644

say "done: site $SITE_ID, roles $ROLES"
say "logs: journalctl -u 'giliran-*' -u mosquitto -f"
