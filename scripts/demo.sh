#!/bin/sh
# The main job on the embedded default, for `make demo`: validate the
# example network's object files. (Plan and apply join as they land.)
set -eu
bin=${1:-build/hubform}
ex=examples/network

echo "== hubform validate $ex/objects" >&2
"$bin" validate "$ex/objects"
