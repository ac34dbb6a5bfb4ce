/* probe.h - `nfqd --probe`: what the running kernel offers sipnat.
 *
 * Owns: asking the kernel (bind a queue, set queue flags, look up the
 * nft table) and printing one "name: yes|no (why)" line per feature.
 * Must not: change anything that outlives the probe: a queue it binds is
 * unbound, nothing is created.
 */
#ifndef SIPNAT_PROBE_H
#define SIPNAT_PROBE_H

#include <stdio.h>

#include "conf.h"

/* Where the nftables ruleset of this network namespace attaches the
 * kernel's own SIP ALG (nf_conntrack_sip): a rule that sets a ct helper
 * object of type "sip" (`ct helper set "obj"`, also through a map), or an
 * iptables-nft `-j CT --helper sip` rule (xt target CT via nft_compat).
 * Not seen: iptables-legacy rules (not in nf_tables at all) and helpers
 * assigned by conntrack's old automatic lookup (gone from the kernel). */
struct probe_alg_hit {
	char family[8];		/* ip, ip6, inet, ... */
	char table[64];
	char chain[64];
	char what[96];		/* ct helper "NAME", ct helper map SET, CT --helper sip */
};
#define PROBE_ALG_MAX 16

/* Fills up to max hits; returns how many were found (may exceed max),
 * or -errno when the ruleset cannot be read. */
int probe_kernel_alg(struct probe_alg_hit *hits, int max);
/* "table inet fw (ct helper "sip-5060", chain prerouting)" */
void probe_alg_where(const struct probe_alg_hit *h, char *buf, size_t len);

/* Returns the exit status: 0, or 1 when not even a queue can be bound. */
int probe_run(const struct conf *c, FILE *out);

#endif
