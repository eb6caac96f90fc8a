/*
 * The pull-request review workflow, end to end: examples/ci/steps.sh (the
 * very script the GitHub Actions and GitLab CI files run) against
 * `hubform serve` on an ephemeral port and a fake GitHub comment API
 * (python3's http.server, written out by this test). Checks the sticky
 * comment (one, with the marker, updated rather than duplicated, a
 * human's comment left alone), the plan exit codes the step records (2
 * changes, 0 none), the apply of exactly the plan file, and exit 3 with
 * "went stale" when Infrahub changed after the plan. Skips (77) when
 * python3 is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

static const char fake_api[] =
        "import json, http.server\n"
        "comments = [{'id': 1, 'body': 'LGTM, but see the plan'}]\n"
        "log = []\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def log_message(self, *a):\n"
        "        pass\n"
        "    def send(self, code, obj):\n"
        "        b = json.dumps(obj).encode()\n"
        "        self.send_response(code)\n"
        "        self.send_header('Content-Type', 'application/json')\n"
        "        self.send_header('Content-Length', str(len(b)))\n"
        "        self.end_headers()\n"
        "        self.wfile.write(b)\n"
        "    def authed(self):\n"
        "        if self.headers.get('Authorization') == 'Bearer gh-t0ken':\n"
        "            return True\n"
        "        self.send(401, {'message': 'Bad credentials'})\n"
        "        return False\n"
        "    def body(self):\n"
        "        n = int(self.headers.get('Content-Length', '0'))\n"
        "        return json.loads(self.rfile.read(n))['body']\n"
        "    def do_GET(self):\n"
        "        if self.path == '/_state':\n"
        "            return self.send(200, {'comments': comments, 'notes': notes, 'log': log})\n"
        "        if self.path.startswith('/projects/42/merge_requests/3/notes?'):\n"
        "            if self.headers.get('PRIVATE-TOKEN') != 'gl-t0ken':\n"
        "                return self.send(401, {})\n"
        "            page = int(dict(p.split('=') for p in self.path.split('?')[1].split('&'))['page'])\n"
        "            return self.send(200, notes if page == 1 else [])\n"
        "        if not self.authed():\n"
        "            return\n"
        "        path, _, q = self.path.partition('?')\n"
        "        args = dict(p.split('=') for p in q.split('&') if p)\n"
        "        if path != '/repos/o/r/issues/7/comments':\n"
        "            return self.send(404, {})\n"
        "        page, per = int(args.get('page', 1)), int(args.get('per_page', 30))\n"
        "        self.send(200, comments[(page - 1) * per:page * per])\n"
        "    def do_POST(self):\n"
        "        if self.path == '/projects/42/merge_requests/3/notes':\n"
        "            if self.headers.get('PRIVATE-TOKEN') != 'gl-t0ken':\n"
        "                return self.send(401, {})\n"
        "            c = {'id': 50 + len(notes), 'body': self.body()}\n"
        "            notes.append(c)\n"
        "            log.append('POST note')\n"
        "            return self.send(201, c)\n"
        "        if not self.authed():\n"
        "            return\n"
        "        if self.path != '/repos/o/r/issues/7/comments':\n"
        "            return self.send(404, {})\n"
        "        c = {'id': 100 + len(comments), 'body': self.body()}\n"
        "        comments.append(c)\n"
        "        log.append('POST')\n"
        "        self.send(201, c)\n"
        "    def do_PATCH(self):\n"
        "        if not self.authed():\n"
        "            return\n"
        "        pre = '/repos/o/r/issues/comments/'\n"
        "        for c in comments:\n"
        "            if self.path == pre + str(c['id']):\n"
        "                c['body'] = self.body()\n"
        "                log.append('PATCH')\n"
        "                return self.send(200, c)\n"
        "        self.send(404, {})\n"
        "    def do_PUT(self):\n"
        "        if self.headers.get('PRIVATE-TOKEN') != 'gl-t0ken':\n"
        "            return self.send(401, {'message': '401 Unauthorized'})\n"
        "        pre = '/projects/42/merge_requests/3/notes/'\n"
        "        for c in notes:\n"
        "            if self.path == pre + str(c['id']):\n"
        "                c['body'] = self.body()\n"
        "                log.append('PUT')\n"
        "                return self.send(200, c)\n"
        "        self.send(404, {})\n"
        "notes = [{'id': 5, 'body': 'a note by a person'}]\n"
        "srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
        "print('listening on http://127.0.0.1:%d' % srv.server_address[1], flush=True)\n"
        "srv.serve_forever()\n";

static char tmp[700], work[800], objects[800], steps[900];
static struct hf_served hub;
static pid_t fake_pid;
static char fake_url[200];

/* python3 fake_api.py, waiting for its "listening on" line. */
static void fake_start(void)
{
	char path[800], line[200];
	int fds[2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fake_api.py", tmp);
	assert_int_equal(hf_write_file(path, fake_api), 0);
	assert_int_equal(pipe(fds), 0);
	fake_pid = fork();
	assert_true(fake_pid >= 0);
	if (fake_pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execlp("python3", "python3", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_memory_equal(line, "listening on ", 13);
	line[strcspn(line, "\n")] = '\0';
	snprintf(fake_url, sizeof(fake_url), "%s", line + 13);
}

static void fake_stop(void)
{
	int st;

	kill(fake_pid, SIGTERM);
	waitpid(fake_pid, &st, 0);
}

/* The fake API's comments and request log. */
static json_t *fake_state(void)
{
	char url[300], *resp = NULL;
	long status;
	json_t *j;

	snprintf(url, sizeof(url), "%s/_state", fake_url);
	assert_int_equal(hf_http("GET", url, NULL, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	j = json_loads(resp, 0, NULL);
	hf_free(resp);
	assert_non_null(j);
	return j;
}

static void write_site(const char *description)
{
	char path[900], text[600];

	snprintf(path, sizeof(path), "%s/sites.yml", objects);
	snprintf(text, sizeof(text),
	         "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	         "  kind: TestSite\n  data:\n    - name: lyon-dc2\n"
	         "      description: %s\n",
	         description);
	assert_int_equal(hf_write_file(path, text), 0);
}

static int step(const char *what, char **out)
{
	char script[1200];

	snprintf(script, sizeof(script), "sh '%s' %s", steps, what);
	return hf_sh(work, script, out);
}

/* The last "plan_exitcode=N" the step appended to $GITHUB_OUTPUT. */
static int last_plan_exitcode(void)
{
	char path[900], *text, *p, *last = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/github_output", tmp);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	for (p = text; (p = strstr(p, "plan_exitcode=")); p++)
		last = p;
	assert_non_null(last);
	rc = last[14] - '0';
	hf_free(text);
	return rc;
}

static const char *our_comment(json_t *state, size_t *n)
{
	json_t *cs = json_object_get(state, "comments"), *c;
	const char *found = NULL, *body;
	size_t i;

	*n = json_array_size(cs);
	json_array_foreach(cs, i, c)
	{
		body = json_string_value(json_object_get(c, "body"));
		if (strstr(body, "<!-- hubform-plan:plan -->")) {
			assert_null(found); /* one sticky comment, never two */
			found = body;
		}
	}
	assert_non_null(found);
	return found;
}

static void test_ci_steps__review_flow(void **state)
{
	char *out = NULL;
	json_t *st;
	size_t n;
	const char *body;
	int rc;

	(void)state;
	/* a pull request: the plan has changes; one comment is created */
	write_site("second data centre");
	rc = step("plan", &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "gh-t0ken"));
	hf_free(out);
	assert_int_equal(last_plan_exitcode(), 2);
	st = fake_state();
	body = our_comment(st, &n);
	assert_int_equal(n, 2); /* the reviewer's comment and ours */
	assert_non_null(strstr(body, "lyon-dc2"));
	assert_non_null(strstr(body, "second data centre"));
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(st, "log"), 0)),
	                    "POST");
	json_decref(st);

	/* a second push: the same comment is updated, not duplicated */
	write_site("second data centre, rack row B");
	assert_int_equal(step("plan", &out), 0);
	hf_free(out);
	assert_int_equal(last_plan_exitcode(), 2);
	st = fake_state();
	body = our_comment(st, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(body, "rack row B"));
	assert_int_equal(json_array_size(json_object_get(st, "log")), 2);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(st, "log"), 1)),
	                    "PATCH");
	json_decref(st);

	/* merged: exactly that plan file is applied */
	rc = step("apply", &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	hf_free(out);

	/* the next plan has nothing to do: exit code 0, comment says so */
	assert_int_equal(step("plan", &out), 0);
	hf_free(out);
	assert_int_equal(last_plan_exitcode(), 0);
	st = fake_state();
	body = our_comment(st, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(body, "**0 to create, 0 to update"));
	json_decref(st);
}

static void test_ci_steps__stale_plan_fails_the_apply(void **state)
{
	char *out = NULL, other[900], script[2400];
	int rc;

	(void)state;
	write_site("reviewed text");
	assert_int_equal(step("plan", &out), 0);
	hf_free(out);
	assert_int_equal(last_plan_exitcode(), 2);
	/* someone changes the same object in Infrahub after the review */
	snprintf(other, sizeof(other), "%s/other", tmp);
	mkdir(other, 0777);
	snprintf(
	        script, sizeof(script),
	        "printf -- '---\\napiVersion: infrahub.app/v1\\nkind: Object\\n"
	        "spec:\\n  kind: TestSite\\n  data:\\n    - name: lyon-dc2\\n"
	        "      description: changed by hand\\n' > site.yml && "
	        "HUBFORM_STATE=other.db '%s' apply site.yml --auto-approve",
	        hf_test_bin());
	rc = hf_sh(other, script, &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	hf_free(out);
	/* the merge job: exit 3, saying the plan went stale */
	rc = step("apply", &out);
	assert_int_equal(rc, 3);
	assert_non_null(strstr(out, "the plan went stale"));
	hf_free(out);
}

static void test_ci_steps__missing_plan_file(void **state)
{
	char *out = NULL, path[900];

	(void)state;
	snprintf(path, sizeof(path), "%s/plan.hfplan", work);
	unlink(path);
	assert_int_equal(step("apply", &out), 1);
	assert_non_null(strstr(out, "plan artifact is missing"));
	hf_free(out);
}

/* The GitLab side of the comment poster: one merge-request note, updated. */
static void test_ci_steps__gitlab_note(void **state)
{
	char script[2400], *out = NULL;
	json_t *st, *notes;
	const char *body;
	int rc, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		snprintf(
		        script, sizeof(script),
		        "printf '## plan round %d\\n' | GITLAB_CI=true "
		        "CI_API_V4_URL='%s' CI_PROJECT_ID=42 CI_MERGE_REQUEST_IID=3 "
		        "HUBFORM_GITLAB_TOKEN=gl-t0ken '%.*shubform-pr-comment' -",
		        round, fake_url,
		        (int)(strlen(steps) - strlen("steps.sh")), steps);
		rc = hf_sh(work, script, &out);
		if (rc)
			fprintf(stderr, "%s\n", out);
		assert_int_equal(rc, 0);
		assert_null(strstr(out, "gl-t0ken"));
		hf_free(out);
	}
	st = fake_state();
	notes = json_object_get(st, "notes");
	assert_int_equal(json_array_size(notes), 2); /* the person's and ours */
	body = json_string_value(
	        json_object_get(json_array_get(notes, 1), "body"));
	assert_non_null(strstr(body, "<!-- hubform-plan:plan -->"));
	assert_non_null(strstr(body, "## plan round 1"));
	json_decref(st);
	/* a wrong token is an error, not a silent success */
	snprintf(script, sizeof(script),
	         "echo x | GITLAB_CI=true CI_API_V4_URL='%s' CI_PROJECT_ID=42 "
	         "CI_MERGE_REQUEST_IID=3 HUBFORM_GITLAB_TOKEN=wrong "
	         "'%.*shubform-pr-comment' -",
	         fake_url, (int)(strlen(steps) - strlen("steps.sh")), steps);
	assert_int_equal(hf_sh(work, script, &out), 1);
	assert_non_null(strstr(out, "HTTP 401"));
	hf_free(out);
}

static int setup(void **state)
{
	char db[800], path[900], *out = NULL;
	char script[1600];
	const char *data = hf_test_data();

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s", hf_test_tmpdir("ci_steps"));
	snprintf(work, sizeof(work), "%s/work", tmp);
	snprintf(objects, sizeof(objects), "%s/objects", tmp);
	mkdir(work, 0777);
	mkdir(objects, 0777);
	snprintf(steps, sizeof(steps), "%s/../../examples/ci/steps.sh", data);
	snprintf(db, sizeof(db), "%s/hub.db", tmp);
	if (hf_serve_start(&hub, db, NULL) < 0)
		return -1;
	fake_start();
	setenv("INFRAHUB_ADDRESS", hub.url, 1);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_DEFAULT_BRANCH");
	unsetenv("HUBFORM_STATE");
	unsetenv("GITLAB_CI");
	setenv("HUBFORM", hf_test_bin(), 1);
	setenv("HUBFORM_OBJECTS", objects, 1);
	setenv("GITHUB_API_URL", fake_url, 1);
	setenv("GITHUB_REPOSITORY", "o/r", 1);
	setenv("GITHUB_TOKEN", "gh-t0ken", 1);
	setenv("HUBFORM_PR", "7", 1);
	snprintf(path, sizeof(path), "%s/github_output", tmp);
	setenv("GITHUB_OUTPUT", path, 1);
	snprintf(script, sizeof(script),
	         "'%s' schema load '%s/plan/schema.yml'", hf_test_bin(), data);
	if (hf_sh(work, script, &out) != 0) {
		fprintf(stderr, "%s\n", out);
		hf_free(out);
		return -1;
	}
	hf_free(out);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_stop();
	hf_serve_stop(&hub);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ci_steps__review_flow),
		cmocka_unit_test(test_ci_steps__stale_plan_fails_the_apply),
		cmocka_unit_test(test_ci_steps__missing_plan_file),
		cmocka_unit_test(test_ci_steps__gitlab_note),
	};

	if (!hf_have("python3")) {
		fprintf(stderr,
		        "test_ci_steps: skipped: python3 is not installed "
		        "(the comment poster and the fake API need it)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
