/* pin_nftset.c - the pinhole backend over nft sets: one element per
 * pinhole in the sets media4/media6 of table inet <table>
 * (nft-rules/sipnat.nft, loaded by `sipnat-rules load`).
 *
 * Owns: the nfnetlink socket, the element key layout, batches and ACKs.
 * Must not: create or change the table, sets or chains (the loader owns
 * them: an admin can read and audit them as text), or decide which
 * pinholes exist (dialog.c does).
 *
 * Element key, as the kernel lays out a concatenation (each field
 * padded to 4 bytes, values in network order):
 *
 *   media4: | src (4) | dst (4) | proto (1) pad (3) | dport (2) pad (2) |  16 bytes
 *   media6: | src (16)| dst (16)| proto (1) pad (3) | dport (2) pad (2) |  40 bytes
 *
 * Refresh: add() is one NEWSETELEM without NLM_F_EXCL.  Kernels with
 * set element timeout updates (6.18 here) restart an existing element's
 * timeout; older ones (Debian's 6.1) leave its expiry as it was, which is
 * fine because the ruleset's `update` restarts it on every media packet,
 * and an element that already expired is simply added again.  Deleting
 * and re-adding the element in one batch would refresh everywhere, but
 * such a transaction took ~16 ms here (an add takes ~10 us), and the
 * daemon calls add() on its packet path.
 */
#include "nlbatch.h"
#include "pinhole.h"

#include <errno.h>
#include <stdarg.h>
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

#define KEY_MAX 40
#define NL_BUF 16384	/* MNL_SOCKET_BUFFER_SIZE is a function call (page size) */

struct nftset {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[64];
	uint32_t default_timeout_s;
	char buf[NL_BUF];
};

/* One element operation in a batch.  ph NULL: the whole set (flush). */
struct elem_op {
	uint16_t type;		/* NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM */
	uint16_t flags;		/* NLM_F_CREATE, NLM_F_EXCL */
	const char *set;
	const struct pinhole *ph;
	uint64_t timeout_ms;
};

static void set_err(const struct pin_backend_conf *conf, const char *fmt, ...)
{
	va_list ap;

	if (!conf->errbuf || conf->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(conf->errbuf, conf->errlen, fmt, ap);
	va_end(ap);
}

static size_t build_key(const struct pinhole *p, uint8_t key[KEY_MAX])
{
	size_t alen = p->src.family == AF_INET ? 4 : 16;
	uint16_t port = htons(p->dport);

	memset(key, 0, KEY_MAX);
	memcpy(key, p->src.u.bytes, alen);
	memcpy(key + alen, p->dst.u.bytes, alen);
	key[2 * alen] = p->l4proto;
	memcpy(key + 2 * alen + 4, &port, sizeof(port));
	return 2 * alen + 8;
}

static const char *set_for(const struct pinhole *p)
{
	return p->src.family == AF_INET ? "media4" : "media6";
}

static int valid(const struct pinhole *p)
{
	if ((p->src.family != AF_INET && p->src.family != AF_INET6) ||
	    p->dst.family != p->src.family || p->dport == 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int run_batch(struct nftset *c, const struct elem_op *ops, size_t nops)
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
	for (size_t i = 0; i < nops; i++) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;

		if (!s) {
			errno = ENOMEM;
			goto out;
		}
		nftnl_set_set_str(s, NFTNL_SET_TABLE, c->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, ops[i].set);
		if (ops[i].ph) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			uint8_t key[KEY_MAX];
			size_t klen = build_key(ops[i].ph, key);

			if (!e) {
				nftnl_set_free(s);
				errno = ENOMEM;
				goto out;
			}
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
			if (ops[i].type == NFT_MSG_NEWSETELEM && ops[i].timeout_ms)
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, ops[i].timeout_ms);
			nftnl_set_elem_add(s, e);
		}
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), ops[i].type, NFPROTO_INET,
					    ops[i].flags | NLM_F_ACK, c->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		mnl_nlmsg_batch_next(b);
	}
	last = c->seq - 1;
	nftnl_batch_end(mnl_nlmsg_batch_current(b), c->seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(c->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		goto out;
	ret = nlbatch_read_acks(c->nl, c->portid, c->buf, sizeof(c->buf), first, last);
out:
	mnl_nlmsg_batch_stop(b);
	return ret;
}

static uint64_t timeout_ms(const struct nftset *c, const struct pinhole *p)
{
	uint32_t s = p->timeout_s ? p->timeout_s : c->default_timeout_s;

	return (uint64_t)s * 1000u;
}

static int nftset_add(void *ctx, const struct pinhole *p)
{
	struct nftset *c = ctx;
	struct elem_op add = { NFT_MSG_NEWSETELEM, NLM_F_CREATE, set_for(p), p, timeout_ms(c, p) };

	if (valid(p))
		return -1;
	return run_batch(c, &add, 1);
}

static int nftset_del(void *ctx, const struct pinhole *p)
{
	struct nftset *c = ctx;
	struct elem_op del = { NFT_MSG_DELSETELEM, 0, set_for(p), p, 0 };

	if (valid(p))
		return -1;
	if (run_batch(c, &del, 1) == 0 || errno == ENOENT)
		return 0;	/* absent: it timed out, or was never added */
	return -1;
}

static int nftset_flush(void *ctx)
{
	struct nftset *c = ctx;
	struct elem_op ops[2] = {
		{ NFT_MSG_DELSETELEM, 0, "media4", NULL, 0 },
		{ NFT_MSG_DELSETELEM, 0, "media6", NULL, 0 },
	};

	return run_batch(c, ops, 2);
}

/* Fetches one set: 0 and its key length, or -1 with errno (ENOENT when
 * the table or the set is missing). */
static int get_set(struct nftset *c, const char *name, uint32_t *key_len, uint32_t *flags)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = c->seq++;
	int found = 0, err = 0;

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, c->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(c->buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = mnl_socket_recvfrom(c->nl, c->buf, sizeof(c->buf));
		const struct nlmsghdr *r;
		int len;

		if (n < 0)
			return -1;
		len = (int)n;
		for (r = (const struct nlmsghdr *)c->buf; mnl_nlmsg_ok(r, len);
		     r = mnl_nlmsg_next(r, &len)) {
			if (r->nlmsg_seq != seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);

				err = -e->error;
				goto done;
			}
			if ((r->nlmsg_type & 0xff) == NFT_MSG_NEWSET) {
				struct nftnl_set *got = nftnl_set_alloc();

				if (got && nftnl_set_nlmsg_parse(r, got) == 0) {
					*key_len = nftnl_set_get_u32(got, NFTNL_SET_KEY_LEN);
					*flags = nftnl_set_get_u32(got, NFTNL_SET_FLAGS);
					found = 1;
				}
				nftnl_set_free(got);
			}
		}
	}
done:
	if (err) {
		errno = err;
		return -1;
	}
	if (!found) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static void nftset_close(void *ctx)
{
	struct nftset *c = ctx;

	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

static int nftset_open(void **ctx, const struct pin_backend_conf *conf)
{
	static const struct { const char *name; uint32_t key_len; } sets[] = {
		{ "media4", 16 }, { "media6", 40 },
	};
	const char *table = conf->table && conf->table[0] ? conf->table : "sipnat";
	struct nftset *c = calloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = 2 };
	int saved;

	*ctx = NULL;
	if (!c) {
		set_err(conf, "nftset: out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (strlen(table) >= sizeof(c->table)) {
		set_err(conf, "nftset: table name too long: %s", table);
		free(c);
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(c->table, sizeof(c->table), "%s", table);
	c->default_timeout_s = conf->default_timeout_s ? conf->default_timeout_s : 60;
	c->seq = (uint32_t)time(NULL);
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		saved = errno;
		set_err(conf, "nftset: netlink socket: %s", strerror(saved));
		goto fail;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	/* A kernel that never answers must not hang the daemon. */
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		uint32_t key_len = 0, flags = 0;

		if (get_set(c, sets[i].name, &key_len, &flags) < 0) {
			saved = errno;
			if (saved == ENOENT)
				set_err(conf, "nftset: no set %s in table inet %s: load the ruleset "
					"first: sipnat-rules load", sets[i].name, c->table);
			else
				set_err(conf, "nftset: reading set inet %s %s: %s", c->table,
					sets[i].name, strerror(saved));
			goto fail;
		}
		if (key_len != sets[i].key_len || !(flags & NFT_SET_TIMEOUT)) {
			set_err(conf, "nftset: set inet %s %s is not what sipnat.nft defines "
				"(key length %u, flags 0x%x): reload it: sipnat-rules load",
				c->table, sets[i].name, key_len, flags);
			saved = EINVAL;
			goto fail;
		}
	}
	*ctx = c;
	return 0;
fail:
	nftset_close(c);
	errno = saved;
	return -1;
}

const struct pinhole_ops pin_nftset_ops = {
	.name = "nftset",
	.open = nftset_open,
	.add = nftset_add,
	.del = nftset_del,
	.flush = nftset_flush,
	.close = nftset_close,
};
