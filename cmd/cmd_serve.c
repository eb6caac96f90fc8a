/* placeholder while the real command is written */
#include "cmd.h"
#include "output.h"
int cmd_serve(struct hf_ctx *ctx, int argc, char **argv)
{
	(void)ctx; (void)argc; (void)argv;
	out_error("not yet");
	return HF_EXIT_ERROR;
}
