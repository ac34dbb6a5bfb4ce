/* pat_nft.c - see pat_nft.h.
 *
 * Element layout, as the kernel lays out concatenations (each field padded
 * to 4 bytes, network order):
 *   key  | addr (4) | proto (1) pad (3) | port (2) pad (2) |  12 bytes
 *   data | addr (4) | port (2) pad (2) |                      8 bytes
 * Adds are NEWSETELEM without NLM_F_EXCL; a renewal deletes and adds in
 * one batch, since only newer kernels (6.18 here, not Debian's 6.1)
 * restart the timeout of an element added again.  One
 * with other data (EBUSY/EEXIST: left by an earlier nfqd whose leases we
 * no longer know) is deleted and added again, one element at a time.
 */
#include "nlbatch.h"
#include "pat_nft.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#define NL_BUF 32768
#define PENDING_MAX 80	/* 2 per lease, 4 when renewed: signalling + 16 media */

struct elem {
	uint16_t type;		/* NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM */
	const char *map;
	uint8_t key[12];
	uint8_t data[8];
	uint64_t timeout_ms;
};

struct pat_nft {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char table[64];
	struct elem pend[PENDING_MAX];
	size_t npend;
	char buf[NL_BUF];
};

static void fill(struct elem *e, const char *map, const struct sn_addr *ka, uint8_t proto,
		 uint16_t kport, const struct sn_addr *da, uint16_t dport, uint64_t timeout_ms)
{
	uint16_t kp = htons(kport), dp = htons(dport);

	memset(e, 0, sizeof(*e));
	e->type = NFT_MSG_NEWSETELEM;
	e->map = map;
	memcpy(e->key, ka->u.bytes, 4);
	e->key[4] = proto;
	memcpy(e->key + 8, &kp, 2);
	memcpy(e->data, da->u.bytes, 4);
	memcpy(e->data + 4, &dp, 2);
	e->timeout_ms = timeout_ms;
}

/* Both elements of a lease: [0] snat, [1] dnat. */
static void lease_elems(struct elem e[2], const struct pat_lease *l, const struct sn_addr *pub,
			uint64_t timeout_ms)
{
	fill(&e[0], "pat_snat4", &l->key.addr, l->key.proto, l->key.port, pub, l->pub_port,
	     timeout_ms);
	fill(&e[1], "pat_dnat4", pub, l->key.proto, l->pub_port, &l->key.addr, l->key.port,
	     timeout_ms);
}

/* One transaction of n element ops (type: all of that type; 0: each its own). */
static int run(struct pat_nft *c, const struct elem *el, size_t n, uint16_t all)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(c->buf, sizeof(c->buf));
	uint32_t first, last;
	int ret = -1;

	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), c->seq++);
	mnl_nlmsg_batch_next(b);
	first = c->seq;
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint16_t type = all ? all : el[i].type;
		struct nlmsghdr *nlh;

		if (!s || !e) {
			nftnl_set_free(s);
			nftnl_set_elem_free(e);
			errno = ENOMEM;
			goto out;
		}
		nftnl_set_set_str(s, NFTNL_SET_TABLE, c->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, el[i].map);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, el[i].key, sizeof(el[i].key));
		if (type == NFT_MSG_NEWSETELEM) {
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, el[i].data, sizeof(el[i].data));
			if (el[i].timeout_ms)
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, el[i].timeout_ms);
		}
		nftnl_set_elem_add(s, e);
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type, NFPROTO_INET,
					    (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) |
					    NLM_F_ACK, c->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		mnl_nlmsg_batch_next(b);
	}
	last = c->seq - 1;
	nftnl_batch_end(mnl_nlmsg_batch_current(b), c->seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(c->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		goto out;
	ret = n ? nlbatch_read_acks(c->nl, c->portid, c->buf, sizeof(c->buf), first, last) : 0;
out:
	mnl_nlmsg_batch_stop(b);
	return ret;
}

void pat_nft_put(struct pat_nft *c, const struct pat_lease *l, const struct sn_addr *pub,
		 uint32_t timeout_s, bool renew)
{
	if (c->npend + 4 > PENDING_MAX || pub->family != AF_INET ||
	    l->key.addr.family != AF_INET)
		return;
	if (renew) {
		lease_elems(&c->pend[c->npend], l, pub, 0);
		c->pend[c->npend].type = c->pend[c->npend + 1].type = NFT_MSG_DELSETELEM;
		c->npend += 2;
	}
	lease_elems(&c->pend[c->npend], l, pub, (uint64_t)timeout_s * 1000u);
	c->npend += 2;
}

int pat_nft_commit(struct pat_nft *c)
{
	size_t n = c->npend;
	int ret = 0;

	c->npend = 0;
	if (n == 0 || run(c, c->pend, n, 0) == 0)
		return 0;
	if (errno != EBUSY && errno != EEXIST && errno != ENOENT)
		return -1;
	/* A stale element with other data (EBUSY), or a renewed one that had
	 * already timed out (ENOENT) aborted the batch: one by one. */
	for (size_t i = 0; i < n; i++) {
		if (c->pend[i].type != NFT_MSG_NEWSETELEM)
			continue;
		run(c, &c->pend[i], 1, NFT_MSG_DELSETELEM);
		if (run(c, &c->pend[i], 1, NFT_MSG_NEWSETELEM))
			ret = -1;
	}
	return ret;
}

int pat_nft_del(struct pat_nft *c, const struct pat_lease *l, const struct sn_addr *pub)
{
	struct elem e[2];
	int ret = 0;

	if (pub->family != AF_INET || l->key.addr.family != AF_INET)
		return 0;
	lease_elems(e, l, pub, 0);
	for (int i = 0; i < 2; i++)	/* one by one: an absent one must not abort the other */
		if (run(c, &e[i], 1, NFT_MSG_DELSETELEM) && errno != ENOENT)
			ret = -1;
	return ret;
}

void pat_nft_close(struct pat_nft *c)
{
	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

int pat_nft_open(struct pat_nft **out, const char *table, char *err, size_t errlen)
{
	struct pat_nft *c = calloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = 2 };
	struct elem probe;
	struct sn_addr zero = { .family = AF_INET };

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "masquerade: out of memory");
		return -1;
	}
	snprintf(c->table, sizeof(c->table), "%s", table && *table ? table : "sipnat");
	c->seq = (uint32_t)time(NULL);
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "masquerade: netlink socket: %s", strerror(errno));
		pat_nft_close(c);
		return -1;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Do the maps exist with our layout?  Deleting an element that is not
	 * there says ENOENT for a missing element too, so probe with an add
	 * of a harmless element (0.0.0.0 port 0 never matches a packet) that
	 * is removed at once. */
	for (int i = 0; i < 2; i++) {
		fill(&probe, i ? "pat_dnat4" : "pat_snat4", &zero, 0, 0, &zero, 0, 1000);
		if (run(c, &probe, 1, NFT_MSG_NEWSETELEM)) {
			snprintf(err, errlen, "masquerade: map inet %s %s: %s (load the ruleset: "
				 "sipnat-rules load)", c->table, probe.map, strerror(errno));
			pat_nft_close(c);
			return -1;
		}
		run(c, &probe, 1, NFT_MSG_DELSETELEM);
	}
	*out = c;
	return 0;
}
