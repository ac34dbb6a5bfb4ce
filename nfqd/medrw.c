/* medrw.c - see medrw.h. */
#include "medrw.h"

#include <netinet/in.h>

void medrw_rewrite(struct medport *mp, struct natmap_entry *e, const struct rw_config *cfg,
		   const struct rw_input *in, struct arena *a, struct rw_result *res,
		   uint64_t now_ms)
{
	struct medport_key k = { .pub = e->pub, .priv = e->priv };
	bool moved = false;

	if (in->dir == RW_IN) {
		struct medport_claim cl[NATMAP_PAIRS_MAX];
		size_t n = medport_claims(mp, &e->pub, &e->priv, IPPROTO_UDP, now_ms, cl,
					  NATMAP_PAIRS_MAX);

		n += medport_claims(mp, &e->pub, &e->priv, IPPROTO_TCP, now_ms, cl + n,
				    NATMAP_PAIRS_MAX - n);
		for (size_t i = 0; i < n; i++)
			natmap_entry_add_pair(e, cl[i].priv, cl[i].pub);
		rw_rewrite(cfg, in, a, res);
		return;
	}
	rw_rewrite(cfg, in, a, res);
	if (res->status != RW_REWRITTEN && res->status != RW_UNCHANGED)
		return;
	for (size_t i = 0; i < res->sip.n_media; i++) {
		const struct rw_media *md = &res->sip.media[i];
		uint16_t p;

		/* Not the party's own media, none, or m=<port>/<n>: as is. */
		if (!md->orig.port || md->hold || md->conn_is_name || md->nports > 1 ||
		    !sn_addr_equal(&md->orig.addr, &e->priv) ||
		    e->n_media_pairs + 3 > NATMAP_PAIRS_MAX)
			continue;
		k.port = md->orig.port;
		k.proto = md->l4proto;
		if ((p = medport_get_pair(mp, &k, now_ms)) && p != k.port) {
			natmap_entry_add_pair(e, k.port, p);
			natmap_entry_add_pair(e, (uint16_t)(k.port + 1), (uint16_t)(p + 1));
			moved = true;
		}
		if (md->rtcp_orig && md->rtcp_orig != md->orig.port + 1) {
			k.port = md->rtcp_orig;
			if ((p = medport_get(mp, &k, now_ms)) && p != k.port) {
				natmap_entry_add_pair(e, k.port, p);
				moved = true;
			}
		}
	}
	if (moved)
		rw_rewrite(cfg, in, a, res);	/* pass 2, with the pairs */
}
