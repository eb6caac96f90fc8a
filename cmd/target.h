#ifndef HF_CMD_TARGET_H
#define HF_CMD_TARGET_H

/*
 * The Infrahub a command talks to, and its identity, which every plan
 * records: --address or $INFRAHUB_ADDRESS (normalised: scheme and host in
 * lower case, no default port, no trailing '/'), the token from
 * $INFRAHUB_API_TOKEN (sent as X-INFRAHUB-KEY, never printed or stored),
 * the branch from --branch or $INFRAHUB_DEFAULT_BRANCH, else the server's
 * default branch. Below options and environment: infrahubctl's own
 * configuration, infrahubctl.toml in the current directory or the file
 * $INFRAHUBCTL_CONFIG names (server_address, api_token, default_branch),
 * so an infrahubctl user needs no new configuration. With no address configured: the embedded default, the
 * local endpoint started in-process on a free loopback port over
 * .hubform/local.db, whose identity is "local:" and the database's
 * absolute path (its port changes every run; its file does not).
 */
#include "hf/server.h"

struct hf_target_opts {
	const char *address;
	const char *branch;
	const char *data; /* embedded default database; NULL: .hubform/local.db */
	int embedded;     /* use the embedded endpoint whatever is configured */
};

#define HF_TARGET_IDENT_MAX 1200

struct hf_target {
	char ident[HF_TARGET_IDENT_MAX]; /* what plans record */
	char address[HF_TARGET_IDENT_MAX]; /* what the client connects to */
	const char *token; /* borrowed from the environment; never printed */
	char branch[256];  /* "" until known: the server's default then */
	const char *address_from; /* "--address", "INFRAHUB_ADDRESS", the
				     infrahubctl.toml path, or NULL */
	const char *branch_from;  /* "--branch", "INFRAHUB_DEFAULT_BRANCH", the
				     infrahubctl.toml path, or NULL */
	char data[1024];   /* embedded: the database path; "" for a remote */
	int announce;      /* say on stderr that the embedded default is used */
	char default_branch[256]; /* the server's, once connected */
	hf_server *embedded; /* the in-process endpoint, or NULL */
};

/*
 * Work out the target from options and environment without starting or
 * contacting anything. Prints errors; 0 or -1.
 */
int hf_target_resolve(struct hf_target *t, const struct hf_target_opts *o);

/*
 * The target a stored plan names: its identity `ident` ("local:/path" or
 * an address) and branch. Prints errors; 0 or -1.
 */
int hf_target_from_ident(struct hf_target *t, const char *ident,
			 const char *branch);

/*
 * Start the embedded endpoint when the target is local (creating its
 * database and .hubform/ only when `create`; otherwise a missing database
 * is an error). 0 or -1, printing errors.
 */
int hf_target_start(struct hf_target *t, int create);

/* hf_target_resolve() then hf_target_start(create = 1). */
int hf_target_open(struct hf_target *t, const struct hf_target_opts *o);
void hf_target_close(struct hf_target *t);

/*
 * Normalise an Infrahub address into `out`: scheme and host lower-cased,
 * the scheme's default port and trailing '/' dropped. HF_EINVAL (with
 * `err`) for anything but http(s)://host[:port][/path], or for an address
 * that carries user:password@, a query or a fragment.
 */
int hf_target_normalize(const char *in, char *out, size_t n, hf_error *err);

/*
 * infrahubctl's configuration file, as infrahubctl finds it: the file
 * $INFRAHUBCTL_CONFIG names (which must exist), else ./infrahubctl.toml
 * when present. Only top-level string keys are read; unknown keys and
 * tables are ignored. Read once per process; the strings live as long as
 * it. 0 (fields NULL when absent) or -1 after printing an error naming
 * FILE:LINE:COL.
 */
struct hf_infrahubctl {
	const char *path; /* the file read, or NULL when there is none */
	const char *server_address;
	const char *api_token; /* never printed */
	const char *default_branch;
};
int hf_target_infrahubctl(const struct hf_infrahubctl **cfg);

/*
 * The default of --timeout: $INFRAHUB_TIMEOUT (whole seconds, 1 to 3600)
 * when set, else *timeout unchanged. Call before parsing options, so that
 * --timeout still wins. 0, or -1 after printing an error.
 */
int hf_target_default_timeout(long *timeout);

/* Whether HUBFORM_IN_AUTOMATION=1: leave out hints for people. */
int hf_in_automation(void);

/* "local:/x/.hubform/local.db (branch main)" style, for messages. */
const char *hf_target_describe(const char *ident, const char *branch,
			       char *buf, size_t n);

#endif
