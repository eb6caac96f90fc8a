#ifndef HFS_APP_H
#define HFS_APP_H

/*
 * The application behind the HTTP layer: routes a decoded request to the
 * GraphQL executor or the REST handlers. Knows nothing of libmicrohttpd.
 */
#include <stddef.h>

#include "hf/server.h"

typedef struct hfs_app hfs_app;

struct hfs_request {
	const char *method;
	const char *path; /* percent-decoded, without the query string */
	const char *branch; /* ?branch= or NULL */
	const char *const *namespaces; /* ?namespaces= (repeatable) */
	size_t nnamespaces;
	const char *token; /* X-INFRAHUB-KEY or NULL (never logged) */
	const char *body;
	size_t body_len;
	int bad_url; /* an argument held a NUL byte (%00): refused */
};

struct hfs_response {
	int status;
	char *body; /* hf_alloc'ed; NULL for none */
	const char *content_type; /* static */
	const char *allow; /* Allow header, static, or NULL */
	int mutated; /* a mutation committed in this request */
};

int hfs_app_open(hfs_app **out, const struct hf_server_options *opts,
                 hf_error *err);
/* Thread-safe. Fills `rs`; the caller frees rs->body with hf_free(). */
void hfs_app_handle(hfs_app *app, const struct hfs_request *rq,
                    struct hfs_response *rs);
void hfs_app_close(hfs_app *app);
/* Branch mirrors the executor loaded so far (hfs_exec_mirror_loads()). */
unsigned long long hfs_app_mirror_loads(hfs_app *app);

#endif
