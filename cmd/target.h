#ifndef HF_CMD_TARGET_H
#define HF_CMD_TARGET_H

/*
 * The Infrahub a command talks to, and its identity, which every plan
 * records: --address or $INFRAHUB_ADDRESS (normalised: scheme and host in
 * lower case, no default port, no trailing '/'), the token from
 * $INFRAHUB_API_TOKEN (sent as X-INFRAHUB-KEY, never printed or stored),
 * the branch from --branch or $INFRAHUB_DEFAULT_BRANCH, else the server's
 * default branch. With no API token, $INFRAHUB_USERNAME and
 * $INFRAHUB_PASSWORD (both, or neither) mean a JWT login
 * (the REST login, auth/login; the client refreshes the access token when it
 * expires); neither is ever printed or stored. Below options and environment:
 * infrahubctl's own configuration, infrahubctl.toml in the current directory or
 * the file $INFRAHUBCTL_CONFIG names (server_address, api_token,
 * default_branch), so an infrahubctl user needs no new configuration. With no
 * address configured: the embedded default, the local endpoint started
 * in-process on a free loopback port over .hubform/local.db, whose identity is
 * "local:" and the database's absolute path (its port changes every run; its
 * file does not).
 */
#include "hf/server.h"

struct hf_target_opts {
	const char *address;
	const char *branch;
	const char
	        *data; /* embedded default database; NULL: .hubform/local.db */
	int embedded; /* use the embedded endpoint whatever is configured */
};

#define HF_TARGET_IDENT_MAX 1200

struct hf_target {
	char ident[HF_TARGET_IDENT_MAX]; /* what plans record */
	char address[HF_TARGET_IDENT_MAX]; /* what the client connects to */
	const char *token; /* borrowed from the environment; never printed */
	const char *username; /* JWT login when there is no token, or NULL */
	const char *password; /* borrowed; never printed */
	const char *login_from; /* where they came from, for messages */
	char branch[256]; /* "" until known: the server's default then */
	const char *address_from; /* "--address", "INFRAHUB_ADDRESS", the
	                             infrahubctl.toml path, or NULL */
	const char *branch_from; /* "--branch", "INFRAHUB_DEFAULT_BRANCH", the
	                            infrahubctl.toml path, or NULL */
	char data[1024]; /* embedded: the database path; "" for a remote */
	int announce; /* say on stderr that the embedded default is used */
	char default_branch[256]; /* the server's, once connected */
	hf_server *embedded; /* the in-process endpoint, or NULL */
};

/*
 * Work out the target from options and environment without starting or
 * contacting anything. Prints errors; 0 or -1.
 */
int cli_target_resolve(struct hf_target *t, const struct hf_target_opts *o);

/*
 * The target a stored plan names: its identity `ident` ("local:/path" or
 * an address) and branch. Prints errors; 0 or -1.
 */
int cli_target_from_ident(struct hf_target *t, const char *ident,
                          const char *branch);

/*
 * Start the embedded endpoint when the target is local (creating its
 * database and .hubform/ only when `create`; otherwise a missing database
 * is an error). 0 or -1, printing errors.
 */
int cli_target_start(struct hf_target *t, int create);

/* cli_target_resolve() then cli_target_start(create = 1). */
int cli_target_open(struct hf_target *t, const struct hf_target_opts *o);
void cli_target_close(struct hf_target *t);

/*
 * Normalise an Infrahub address into `out`: scheme and host lower-cased,
 * the scheme's default port and trailing '/' dropped. HF_EINVAL (with
 * `err`) for anything but http(s)://host[:port][/path], or for an address
 * that carries user:password@, a query or a fragment.
 */
int cli_target_normalize(const char *in, char *out, size_t n, hf_error *err);

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
	const char *username;
	const char *password; /* never printed */
};
int cli_target_infrahubctl(const struct hf_infrahubctl **cfg);

/*
 * The default of --timeout: $INFRAHUB_TIMEOUT (whole seconds, 1 to 3600)
 * when set, else *timeout unchanged. Call before parsing options, so that
 * --timeout still wins. 0, or -1 after printing an error.
 */
int cli_target_default_timeout(long *timeout);

/*
 * The client options for the target: address, token or username and
 * password, branch (when known). The rest of `co` is left as it is.
 */
struct hf_client_options;
void cli_target_client_options(const struct hf_target *t,
                               struct hf_client_options *co);

/*
 * What the commands that only talk to the target (branch, menu) take:
 * the address, TLS, timeout and retries options, and the branch when the
 * command has one. HF_TARGET_CLI_OPTIONS(o) is their option table rows.
 */
struct hf_target_cli {
	const char *address;
	const char *branch;
	int insecure;
	long timeout;
	long retries;
};

#define HF_TARGET_CLI_INIT           \
	{                            \
		NULL, NULL, 0, 60, 3 \
	}

#define HF_TARGET_CLI_OPTIONS(o)                                            \
	HF_OPT_STRING(0, "address", "URL", &(o).address,                    \
	              "Infrahub address (default $INFRAHUB_ADDRESS; none: " \
	              "the embedded local endpoint)"),                      \
	        HF_OPT_BOOL(0, "insecure", &(o).insecure,                   \
	                    "do not verify the server's TLS certificate"),  \
	        HF_OPT_INT(0, "timeout", "S", &(o).timeout, 1, 3600,        \
	                   "seconds per request (default 60)"),             \
	        HF_OPT_INT(                                                 \
	                0, "retries", "N", &(o).retries, 0, 20,             \
	                "retries of connection errors, 5xx and 429 (default 3)")

/*
 * Resolve the target `o` names, start it (the embedded endpoint is
 * created when needed) and make a client for it with the target's
 * address and credentials, one request at a time. Prints errors; 0 or
 * -1. Whatever the result, the caller frees *out (hf_client_free) and
 * closes `t` (cli_target_close).
 */
struct hf_client;
int cli_target_cli_connect(struct hf_target *t, const struct hf_target_cli *o,
                           struct hf_client **out);

/*
 * The hint for an authentication failure: which credentials were sent
 * and where they came from, for out_info(). Static storage.
 */
const char *cli_target_auth_hint(const struct hf_target *t);

/* Whether HUBFORM_IN_AUTOMATION=1: leave out hints for people. */
int cli_in_automation(void);

/* "local:/x/.hubform/local.db (branch main)" style, for messages. */
const char *cli_target_describe(const char *ident, const char *branch,
                                char *buf, size_t n);

#endif
