/*
 * Target resolution and the embedded default endpoint. The engine only
 * ever sees an address: whether it is a real Infrahub or our own
 * in-process endpoint makes no difference past this file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output.h"
#include "target.h"
#include "hf/banned.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int start_embedded(struct hf_target *t, const char *data)
{
	struct hf_server_options so = HF_SERVER_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;

	so.listen = "127.0.0.1:0";
	so.data = data ? data : ".hubform/local.db";
	so.threads = 2;
	if (!data && mkdir(".hubform", 0777) < 0 && errno != EEXIST) {
		out_error("cannot create '.hubform': %s", strerror(errno));
		return -1;
	}
	if (hf_server_start(&t->embedded, &so, &err) < 0) {
		out_error("cannot start the embedded endpoint over '%s': %s",
			  so.data, err.msg);
		return -1;
	}
	snprintf(t->address, sizeof(t->address), "%s",
		 hf_server_url(t->embedded));
	if (!data)
		out_info("hubform: no INFRAHUB_ADDRESS set; using the embedded "
			 "local endpoint at %s over %s",
			 t->address, so.data);
	return 0;
}

int hf_target_open(struct hf_target *t, const struct hf_target_opts *o)
{
	const char *addr = o->address ? o->address : env("INFRAHUB_ADDRESS");
	const char *branch = o->branch ? o->branch :
				       env("INFRAHUB_DEFAULT_BRANCH");
	size_t n;

	memset(t, 0, sizeof(*t));
	t->token = env("INFRAHUB_API_TOKEN");
	snprintf(t->branch, sizeof(t->branch), "%s", branch ? branch : "main");
	if (!addr || o->embedded)
		return start_embedded(t, o->data);
	if (strncmp(addr, "http://", 7) && strncmp(addr, "https://", 8)) {
		out_error("address '%s' must start with http:// or https://",
			  addr);
		return -1;
	}
	snprintf(t->address, sizeof(t->address), "%s", addr);
	n = strlen(t->address);
	while (n > 0 && t->address[n - 1] == '/')
		t->address[--n] = '\0';
	return 0;
}

void hf_target_close(struct hf_target *t)
{
	hf_server_stop(t->embedded);
	t->embedded = NULL;
}
