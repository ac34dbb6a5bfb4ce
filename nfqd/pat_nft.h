/* pat_nft.h - masquerade leases as nft map elements: the kernel half of
 * port address translation on kernels without NFQA_CT (the host kernel).
 *
 * Maps in table inet <table> (nft-rules/sipnat.nft):
 *   pat_snat4: private addr . proto . port -> public addr . port
 *              (chain pat_post, postrouting srcnat - 1: before the
 *              admin's masquerade, so leased endpoints keep our ports)
 *   pat_dnat4: public addr . proto . port -> private addr . port
 *              (chain pat_pre, prerouting dstnat - 1: calls and media
 *              that arrive before the phone sent anything)
 * Owns: the nfnetlink socket, the element layout, batches and ACKs.
 * Must not: create or change the table, maps or chains (the loader does),
 * or decide which leases exist (pat.c and masq.c do).
 */
#ifndef SIPNAT_PAT_NFT_H
#define SIPNAT_PAT_NFT_H

#include <stdbool.h>
#include <stdint.h>

#include "pat.h"

struct pat_nft;

/* 0, or -1 with a one-line reason in err (e.g. the maps are missing). */
int pat_nft_open(struct pat_nft **out, const char *table, char *err, size_t errlen);
void pat_nft_close(struct pat_nft *c);

/* Queues both elements (snat and dnat) of lease l with public address
 * pub, to be added with the timeout by pat_nft_commit().  renew: delete
 * and add again, which restarts the timeout on every kernel (6.1 does not
 * restart it for an add of an existing element). */
void pat_nft_put(struct pat_nft *c, const struct pat_lease *l, const struct sn_addr *pub,
		 uint32_t timeout_s, bool renew);
/* Sends the queued elements in one transaction (they are in the kernel
 * when it returns).  0, or -1 with errno.  A stale element with other
 * data (left by an earlier nfqd) is replaced. */
int pat_nft_commit(struct pat_nft *c);
/* Removes both elements of l now; absent ones are fine.  0 or -1. */
int pat_nft_del(struct pat_nft *c, const struct pat_lease *l, const struct sn_addr *pub);

#endif
