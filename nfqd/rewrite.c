/* rewrite.c - placeholder: passes every message through unchanged until
 * the rewrite core lands. */
#include <string.h>

#include "rewrite.h"

const char *rw_reason_name(enum rw_reason r)
{
	return r == RW_OK ? "ok" : "unknown";
}

void rw_rewrite(const struct rw_config *cfg, const struct rw_input *in,
		struct arena *a, struct rw_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = RW_UNCHANGED;
	res->out = in->msg;
	res->out_len = in->len;
}
