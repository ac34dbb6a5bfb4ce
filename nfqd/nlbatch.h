/* nlbatch.h - reading the acks of one nfnetlink batch, shared by the nft
 * backends (pin_nftset.c, pat_nft.c).
 *
 * Owns: matching acks to the batch's sequence numbers and taking the first
 * error.  Must not: build messages or know what the batch changed.
 */
#ifndef SIPNAT_NLBATCH_H
#define SIPNAT_NLBATCH_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

/* Reads every reply the kernel queued for the batch whose command messages
 * carry sequence numbers [first, last] (portid: ours), using buf as the
 * receive buffer.  The kernel handles a batch inside sendmsg(), so the
 * replies are all there when it returns.  0, or -1 with errno from the
 * first error. */
int nlbatch_read_acks(struct mnl_socket *nl, unsigned int portid, char *buf, size_t buflen,
		      uint32_t first, uint32_t last);

#endif
