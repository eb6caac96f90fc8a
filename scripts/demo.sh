#!/bin/sh
# The main job on the embedded default, for `make demo`: validate the
# example network's object files, load its schema into the local endpoint
# (.hubform/local.db), and plan. Apply joins when it lands.
set -eu
bin=${1:-build/hubform}
ex=examples/network
unset INFRAHUB_ADDRESS 2>/dev/null || true

echo "== hubform validate $ex/objects" >&2
"$bin" validate "$ex/objects"
echo "== hubform schema load $ex/schemas" >&2
"$bin" schema load "$ex/schemas"
echo "== hubform plan $ex/objects" >&2
"$bin" plan --no-color "$ex/objects"
echo "== hubform plans" >&2
"$bin" plans
