#ifndef HF_CMD_TARGET_H
#define HF_CMD_TARGET_H

/*
 * The Infrahub a command talks to: --address or $INFRAHUB_ADDRESS, the
 * token from $INFRAHUB_API_TOKEN (sent as X-INFRAHUB-KEY, never printed
 * or stored), the branch from --branch, $INFRAHUB_DEFAULT_BRANCH or
 * "main". With no address configured: the embedded default, the local
 * endpoint started in-process on a free loopback port over
 * .hubform/local.db, announced on stderr.
 */
#include "hf/server.h"

struct hf_target_opts {
	const char *address;
	const char *branch;
	const char *data; /* embedded default database; NULL: .hubform/local.db */
	int embedded;     /* use the embedded endpoint whatever is configured */
};

struct hf_target {
	char address[512];
	const char *token; /* borrowed from the environment; never printed */
	char branch[256];
	hf_server *embedded; /* the in-process endpoint, or NULL */
};

/* Resolve and, when needed, start the embedded endpoint. 0 or -1. */
int hf_target_open(struct hf_target *t, const struct hf_target_opts *o);
void hf_target_close(struct hf_target *t);

#endif
