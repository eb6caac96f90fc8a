/* hubform menu: being written (placeholder so the tree builds). */
#include <stddef.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"

int cmd_menu(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_strlist args = { 0 };
	struct hf_opt opts[] = { HF_OPT_END() };
	int rc = hf_cmd_parse(ctx->name, "hubform menu", "Not available yet.",
			      opts, argc, argv, &args);

	hf_strlist_release(&args);
	if (rc >= 0)
		return rc;
	out_error("'hubform %s' is not available yet", ctx->name);
	return HF_EXIT_ERROR;
}
