#ifndef HF_TESTUTIL_H
#define HF_TESTUTIL_H

#include <stddef.h>

/*
 * Test helpers: run the hubform binary as a child process, capture what it
 * prints, and start `hubform serve` on an ephemeral loopback port, waiting
 * for its readiness line (never sleeping).
 */

struct hf_run {
	int status; /* exit code, or 128+signal */
	char *out; /* captured stdout, NUL-terminated (hf_free) */
	char *err; /* captured stderr */
	long maxrss_kb; /* the child's peak resident set size */
	double seconds; /* wall time */
};

/* Path of the hubform binary under test ($HUBFORM_BIN). */
const char *hf_test_bin(void);
/* $HF_TEST_DATA (tests/data), $HF_SHARED_DIR, or NULL when not a dir. */
const char *hf_test_data(void);
const char *hf_test_shared(void);
/*
 * A fresh empty scratch directory for this test; the path is static
 * storage valid until the next call.
 */
const char *hf_test_tmpdir(const char *name);

/*
 * Run `hubform args...` (NULL-terminated), with optional stdin text and
 * working directory. Returns 0 on success (whatever the exit code).
 */
int hf_run(struct hf_run *r, const char *cwd, const char *input,
           const char *const *args);
void hf_run_release(struct hf_run *r);

struct hf_served {
	int pid;
	int port;
	char url[128];
	int errfd; /* read end of the server's stderr */
};

/*
 * Start `hubform serve --listen 127.0.0.1:0 --data DB extra...` and wait
 * for "listening on http://HOST:PORT" on its stderr. Returns 0 or -1.
 */
int hf_serve_start(struct hf_served *s, const char *db,
                   const char *const *extra);
/*
 * The same on 127.0.0.1:PORT (0: any), for an endpoint that must come
 * back at the same address after a kill: a plan records its target.
 */
int hf_serve_start_at(struct hf_served *s, int port, const char *db,
                      const char *const *extra);
/* A loopback TCP port free now, chosen by the kernel; -1 on error. */
int hf_free_port(void);
/* SIGTERM, wait; returns the exit status (or -1). */
int hf_serve_stop(struct hf_served *s);
/* Send `sig` (SIGKILL: a crash), then as hf_serve_stop. */
int hf_serve_kill(struct hf_served *s, int sig);

/*
 * HTTP for tests (libcurl easy). `body` may be NULL for GET. The response
 * body goes to *resp (hf_free), the status to *status. Headers: NULL or a
 * NULL-terminated list of "Name: value". Returns 0 or -1 (transport error).
 */
int hf_http(const char *method, const char *url, const char *body,
            const char *const *headers, long *status, char **resp);

/*
 * Load the tests' own schema (tests/data/server/schema.json) into the
 * endpoint at `url` (POST /api/schema/load): 0 when it was read and the
 * endpoint answered 200, else -1.
 */
int hf_test_load_schema(const char *url);

/* Read a whole file; NULL on error (hf_free). */
char *hf_read_file(const char *path, size_t *len);
/* Write a whole file; 0 or -1. */
int hf_write_file(const char *path, const char *text);

/*
 * /bin/sh -c `script` in `cwd` (NULL: here); stdout and stderr together
 * into *out (hf_free). The exit status, 128 + signal, or -1 when the
 * shell could not be started.
 */
int hf_sh(const char *cwd, const char *script, char **out);
/* Whether `tool` is in PATH. */
int hf_have(const char *tool);

#endif
