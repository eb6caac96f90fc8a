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

# The same job on examples/infra-repo, laid out like a real infrastructure
# repository (schemas/, objects/ by domain, .infrahub.yml): its kinds live
# next to the network example's in the same local endpoint, as a stack of
# its own (a stack owns what its files declare; in the default stack the
# network example's objects would read as having left the files).
repo=examples/infra-repo
echo "== hubform validate $repo/objects --schema $repo/schemas" >&2
"$bin" validate "$repo/objects" --schema "$repo/schemas"
echo "== hubform schema load $repo/schemas" >&2
"$bin" schema load "$repo/schemas"
echo "== hubform plan $repo/objects --stack infra-repo --out .hubform/infra-repo.hfplan" >&2
"$bin" plan --no-color "$repo/objects" --stack infra-repo --out .hubform/infra-repo.hfplan
echo "== hubform apply .hubform/infra-repo.hfplan --auto-approve" >&2
"$bin" apply .hubform/infra-repo.hfplan --auto-approve
echo "== hubform plan $repo/objects --stack infra-repo (again: nothing left to do)" >&2
"$bin" plan --no-color --detailed-exitcode "$repo/objects" --stack infra-repo
