#!/bin/sh
# Install the Debian packages hubform builds with, only when some are
# missing. A fast no-op when everything is present. Needs root or sudo for
# the install itself.
set -eu

pkgs="build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev libyaml-dev
libjansson-dev libsqlite3-dev libcmocka-dev libmicrohttpd-dev sqlite3
python3 man-db groff-base dpkg-dev file"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "hubform: installing missing packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "hubform: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
