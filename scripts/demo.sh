#!/bin/sh
# The main job on the embedded default, for `make demo`: load the example
# network's schema into the local endpoint (.hubform/local.db), plan its
# object files, apply the plan inside a throw-away branch, and plan again
# to show that nothing is left to do.
set -eu
bin=${1:-build/hubform}
ex=examples/network
unset INFRAHUB_ADDRESS 2>/dev/null || true

echo "== hubform validate $ex/objects --schema $ex/schemas/network.yml" >&2
"$bin" validate "$ex/objects" --schema "$ex/schemas/network.yml"
echo "== hubform schema load $ex/schemas" >&2
"$bin" schema load "$ex/schemas"
echo "== hubform plan $ex/objects" >&2
"$bin" plan --no-color "$ex/objects"
echo "== hubform apply latest --auto-approve" >&2
"$bin" apply latest --auto-approve
echo "== hubform plan $ex/objects (again: nothing left to do)" >&2
"$bin" plan --no-color --detailed-exitcode "$ex/objects"
echo "== hubform plans" >&2
"$bin" plans
