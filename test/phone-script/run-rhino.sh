#!/usr/bin/env bash
# Run the phone bridge script (unmodified) under plain Rhino with MessengerBot R
# stand-ins; only the script's CONFIG section is replaced, from these options.
#
#   bash test/phone-script/run-rhino.sh --host 127.0.0.1 --port 37888 \
#        --bot LOA.i --secret <SECRET_KEY> --salt <SALT> [--device-id ccbd8eee1012327e] \
#        [--bridge path/to/bridge.js] [--servers '[{"host":..,"port":..,"priority":1,"name":".."}]']
#
# Then type chat lines on stdin, e.g.  CHAT<TAB>테스트방<TAB>홍길동<TAB>!ping
# Replies appear on stdout as         SENT<TAB>테스트방<TAB>pong!
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v rhino >/dev/null 2>&1; then
  echo "run-rhino.sh: 'rhino' is not installed (Debian/Ubuntu: apt-get install -y rhino)" >&2
  exit 127
fi

has_bridge=0
for a in "$@"; do [ "$a" = "--bridge" ] && has_bridge=1; done
extra=()
[ "$has_bridge" = 1 ] || extra=(--bridge "$here/bridge-v3.2.1.js")

exec rhino -encoding UTF-8 "$here/stand-ins.js" "${extra[@]}" "$@"
