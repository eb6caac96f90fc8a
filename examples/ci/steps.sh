#!/bin/sh
# The pull-request review steps, shared by github-actions.yml and
# gitlab-ci.yml (and run as they are by tests/test_ci_steps.c):
#
#   steps.sh plan    on a pull/merge request: plan, keep the plan file,
#                    post the Markdown as one sticky comment
#   steps.sh apply   after the merge: apply exactly that plan file
#
# Settings (environment):
#   INFRAHUB_ADDRESS, INFRAHUB_API_TOKEN   the Infrahub to plan against
#   HUBFORM             the hubform binary (default: hubform)
#   HUBFORM_OBJECTS     object files or directories, space-separated
#                       (default: objects)
#   HUBFORM_PLAN_FILE   the plan file kept as an artifact (plan.hfplan)
#   HUBFORM_COMMENT     the comment poster (default: hubform-pr-comment
#                       next to this script); HUBFORM_NO_COMMENT=1 skips it
#   GITHUB_OUTPUT       when set, plan_exitcode=N and changes=true|false
#                       are appended to it (GitHub Actions step outputs)
#
# Exit status: plan: 0 when the plan was made (changes or not), 1 on an
# error; apply: hubform's own (0 applied, 3 stale plan, 1 error).
set -u

HUBFORM=${HUBFORM:-hubform}
HUBFORM_OBJECTS=${HUBFORM_OBJECTS:-objects}
HUBFORM_PLAN_FILE=${HUBFORM_PLAN_FILE:-plan.hfplan}
HUBFORM_IN_AUTOMATION=1
export HUBFORM_IN_AUTOMATION
here=$(cd "$(dirname "$0")" && pwd)
HUBFORM_COMMENT=${HUBFORM_COMMENT:-$here/hubform-pr-comment}

say() { printf '%s\n' "$*" >&2; }

output() {
	[ -n "${GITHUB_OUTPUT:-}" ] && printf '%s\n' "$1" >>"$GITHUB_OUTPUT"
	return 0
}

plan() {
	rm -f "$HUBFORM_PLAN_FILE"
	# shellcheck disable=SC2086 # HUBFORM_OBJECTS is a list of paths
	"$HUBFORM" plan --no-color --detailed-exitcode --out "$HUBFORM_PLAN_FILE" \
		$HUBFORM_OBJECTS
	rc=$?
	say "hubform plan: exit $rc"
	output "plan_exitcode=$rc"
	case $rc in
	0) output "changes=false" ;;
	2) output "changes=true" ;;
	*) say "hubform plan failed; no plan to review"; return 1 ;;
	esac
	"$HUBFORM" show "$HUBFORM_PLAN_FILE" --format markdown >plan.md || return 1
	if [ "${HUBFORM_NO_COMMENT:-0}" != 1 ]; then
		"$HUBFORM_COMMENT" plan.md || return 1
	fi
	return 0
}

apply() {
	if [ ! -f "$HUBFORM_PLAN_FILE" ]; then
		say "no plan file '$HUBFORM_PLAN_FILE': the pull request's plan artifact is missing"
		return 1
	fi
	"$HUBFORM" apply --no-color --auto-approve "$HUBFORM_PLAN_FILE"
	rc=$?
	case $rc in
	0) say "applied the reviewed plan" ;;
	3) say "error: the plan went stale: Infrahub changed after the plan was"
	   say "reviewed, so nothing was applied. Re-run the pull request's plan"
	   say "job (or push again), review the new plan, and apply that one." ;;
	*) say "hubform apply failed (exit $rc); see above" ;;
	esac
	return $rc
}

case ${1:-} in
plan) plan ;;
apply) apply ;;
*) say "usage: steps.sh plan|apply"; exit 64 ;;
esac
