/*
 * hubform version: print the program version and the versions of the
 * libraries it was built with, one per line, on stdout.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "hf/banned.h"

int cmd_version(struct hf_ctx *ctx, int argc, char **argv)
{
	static const struct hf_opt opts[] = { HF_OPT_END() };
	struct hf_strlist args = { 0 };
	int rc;

	rc = cli_cmd_parse(ctx, "hubform version", "Print the version.", opts,
	                   argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_OK;
	if (args.n) {
		out_error("'version' takes no arguments");
		rc = HF_EXIT_USAGE;
		goto out;
	}
	out_data("hubform %s\n", HF_VERSION);
	out_data("libcurl %s, libyaml %s, jansson %s, sqlite %s\n",
	         curl_version_info(CURLVERSION_NOW)->version,
	         yaml_get_version_string(), JANSSON_VERSION,
	         sqlite3_libversion());
out:
	cli_strlist_release(&args);
	return rc;
}
