/* fastpath.c - generic netlink client of the sipnat_fp module (see
 * fastpath.h; the wire format is kmod/uapi/sipnat_fp.h).
 *
 *   request:  nlmsghdr | genlmsghdr (cmd, version 1) | flat attributes
 *   reply:    the same, one flow per message (dumps: NLM_F_MULTI, DONE)
 *   ack:      NLMSG_ERROR, error 0 or -errno (+ extack, which we ignore)
 */
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../kmod/uapi/sipnat_fp.h"
#include "fastpath.h"

/* Enough for any single reply (the kernel uses NLMSG_GOODSIZE) and for a
 * batch of dump messages. */
#define FP_BUF 16384

struct fp_parse {
	struct fp_flow *out;
	int (*fn)(const struct fp_flow *f, void *arg);
	void *arg;
	bool *intr;
	bool stopped;
	int nflows;
};

static int fp_talk(struct fp_client *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *buf;
	ssize_t n;
	int ret;

	buf = malloc(FP_BUF);
	if (!buf)
		return -1;
	nlh->nlmsg_seq = ++c->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
		free(buf);
		return -1;
	}
	do {
		n = mnl_socket_recvfrom(c->nl, buf, FP_BUF);
		if (n < 0) {
			ret = -1;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, c->seq, c->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	free(buf);
	return ret < 0 ? -1 : 0;
}

static struct nlmsghdr *fp_msg(const struct fp_client *c, char *buf, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = c->family_id;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = SIPNAT_FP_GENL_VERSION;
	return nlh;
}

struct fp_grp {
	const char *name;
	uint32_t id;
};

static int fp_grp_cb(const struct nlattr *a, void *data)
{
	struct fp_grp *g = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		g->name = mnl_attr_get_str(a);
	else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
		 mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		g->id = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int fp_family_cb(const struct nlattr *a, void *data)
{
	struct fp_client *c = data;
	struct nlattr *pos;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		c->family_id = mnl_attr_get_u16(a);
	if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS &&
	    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0) {
		mnl_attr_for_each_nested(pos, a) {
			struct fp_grp g = { 0 };

			if (mnl_attr_parse_nested(pos, fp_grp_cb, &g) < 0)
				continue;
			if (g.name && strcmp(g.name, SIPNAT_FP_MCGRP_EVENTS) == 0)
				c->events_group = g.id;
		}
	}
	return MNL_CB_OK;
}

static int fp_family_msg(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), fp_family_cb, data);
}

int fp_open(struct fp_client *c)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int saved;

	memset(c, 0, sizeof(*c));
	c->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!c->nl)
		return -1;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, SIPNAT_FP_GENL_NAME);
	if (fp_talk(c, nlh, fp_family_msg, c) < 0)
		goto err;	/* ENOENT: no such family, the module is not loaded */
	if (!c->family_id) {
		errno = EPROTO;
		goto err;
	}
	return 0;
err:
	saved = errno;
	mnl_socket_close(c->nl);
	c->nl = NULL;
	errno = saved;
	return -1;
}

void fp_close(struct fp_client *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	c->nl = NULL;
}

/* --- flow <-> attributes --- */

static void fp_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct sn_addr *a)
{
	if (a->family == AF_INET)
		mnl_attr_put(nlh, type, 4, &a->u.v4);
	else if (a->family == AF_INET6)
		mnl_attr_put(nlh, type, 16, &a->u.v6);
}

static void fp_put_port(struct nlmsghdr *nlh, uint16_t type, uint16_t port)
{
	if (port)
		mnl_attr_put_u16(nlh, type, htons(port));
}

static int fp_get_addr(const struct nlattr *a, struct sn_addr *out)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	if (len == 4) {
		out->family = AF_INET;
		memcpy(&out->u.v4, mnl_attr_get_payload(a), 4);
	} else if (len == 16) {
		out->family = AF_INET6;
		memcpy(&out->u.v6, mnl_attr_get_payload(a), 16);
	} else {
		return -1;
	}
	return 0;
}

static int fp_stats_cb(const struct nlattr *a, void *data)
{
	struct fp_stats *s = data;
	int t = mnl_attr_get_type(a);

	switch (t) {
	case SIPNAT_FP_S_PACKETS:
	case SIPNAT_FP_S_BYTES:
	case SIPNAT_FP_S_IDLE_MS:
	case SIPNAT_FP_S_RTP_PACKETS:
	case SIPNAT_FP_S_RTP_LOST:
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		break;
	case SIPNAT_FP_S_RTP_SSRC:
	case SIPNAT_FP_S_RTP_SSRC_CHANGES:
	case SIPNAT_FP_S_RTP_JITTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case SIPNAT_FP_S_LATCHED_SPORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;	/* newer module, or padding */
	}
	switch (t) {
	case SIPNAT_FP_S_PACKETS: s->packets = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_S_BYTES: s->bytes = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_S_IDLE_MS: s->idle_ms = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_S_RTP_PACKETS: s->rtp_packets = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_S_RTP_LOST: s->rtp_lost = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_S_RTP_SSRC:
		s->rtp_ssrc = mnl_attr_get_u32(a);
		s->has_ssrc = true;
		break;
	case SIPNAT_FP_S_RTP_SSRC_CHANGES: s->rtp_ssrc_changes = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_S_RTP_JITTER:
		s->rtp_jitter = mnl_attr_get_u32(a);
		s->has_jitter = true;
		break;
	case SIPNAT_FP_S_LATCHED_SPORT: s->latched_sport = ntohs(mnl_attr_get_u16(a)); break;
	}
	return MNL_CB_OK;
}

static int fp_flow_cb(const struct nlattr *a, void *data)
{
	static const enum mnl_attr_data_type type[SIPNAT_FP_A_MAX + 1] = {
		[SIPNAT_FP_A_ID] = MNL_TYPE_U32,
		[SIPNAT_FP_A_FAMILY] = MNL_TYPE_U16,
		[SIPNAT_FP_A_MATCH_DPORT] = MNL_TYPE_U16,
		[SIPNAT_FP_A_MATCH_SPORT] = MNL_TYPE_U16,
		[SIPNAT_FP_A_NEW_SPORT] = MNL_TYPE_U16,
		[SIPNAT_FP_A_NEW_DPORT] = MNL_TYPE_U16,
		[SIPNAT_FP_A_FLAGS] = MNL_TYPE_U32,
		[SIPNAT_FP_A_DSCP] = MNL_TYPE_U8,
		[SIPNAT_FP_A_TIMEOUT] = MNL_TYPE_U32,
		[SIPNAT_FP_A_CLOCK_RATE] = MNL_TYPE_U32,
		[SIPNAT_FP_A_LATCH_WINDOW] = MNL_TYPE_U32,
		[SIPNAT_FP_A_REVERSE] = MNL_TYPE_U32,
		[SIPNAT_FP_A_COOKIE] = MNL_TYPE_U64,
		[SIPNAT_FP_A_STATS] = MNL_TYPE_NESTED,
	};
	struct fp_flow *f = data;
	int t = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, SIPNAT_FP_A_MAX) < 0)
		return MNL_CB_OK;	/* newer module: skip what we do not know */
	if (type[t] != MNL_TYPE_UNSPEC && mnl_attr_validate(a, type[t]) < 0)
		return MNL_CB_ERROR;
	switch (t) {
	case SIPNAT_FP_A_ID: f->id = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_MATCH_DADDR: return fp_get_addr(a, &f->match_dst.addr) ? MNL_CB_ERROR : MNL_CB_OK;
	case SIPNAT_FP_A_MATCH_SADDR: return fp_get_addr(a, &f->match_src.addr) ? MNL_CB_ERROR : MNL_CB_OK;
	case SIPNAT_FP_A_NEW_SADDR: return fp_get_addr(a, &f->new_src.addr) ? MNL_CB_ERROR : MNL_CB_OK;
	case SIPNAT_FP_A_NEW_DADDR: return fp_get_addr(a, &f->new_dst.addr) ? MNL_CB_ERROR : MNL_CB_OK;
	case SIPNAT_FP_A_MATCH_DPORT: f->match_dst.port = ntohs(mnl_attr_get_u16(a)); break;
	case SIPNAT_FP_A_MATCH_SPORT: f->match_src.port = ntohs(mnl_attr_get_u16(a)); break;
	case SIPNAT_FP_A_NEW_SPORT: f->new_src.port = ntohs(mnl_attr_get_u16(a)); break;
	case SIPNAT_FP_A_NEW_DPORT: f->new_dst.port = ntohs(mnl_attr_get_u16(a)); break;
	case SIPNAT_FP_A_FLAGS: f->flags = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_DSCP: f->dscp = mnl_attr_get_u8(a); break;
	case SIPNAT_FP_A_TIMEOUT: f->timeout_s = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_CLOCK_RATE: f->clock_rate = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_LATCH_WINDOW: f->latch_window_ms = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_REVERSE: f->reverse_id = mnl_attr_get_u32(a); break;
	case SIPNAT_FP_A_COOKIE: f->cookie = mnl_attr_get_u64(a); break;
	case SIPNAT_FP_A_STATS:
		if (mnl_attr_parse_nested(a, fp_stats_cb, &f->st) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

static int fp_flow_msg(const struct nlmsghdr *nlh, void *data)
{
	struct fp_parse *p = data;
	struct fp_flow f;

	if (p->stopped)
		return MNL_CB_OK;	/* drain the rest of the dump */
	memset(&f, 0, sizeof(f));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), fp_flow_cb, &f) < 0 ||
	    !f.id || !f.match_dst.addr.family) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (p->intr && (nlh->nlmsg_flags & NLM_F_DUMP_INTR))
		*p->intr = true;
	p->nflows++;
	if (p->out)
		*p->out = f;
	if (p->fn && p->fn(&f, p->arg))
		p->stopped = true;
	return MNL_CB_OK;
}

int fp_add(struct fp_client *c, struct fp_flow *f)
{
	char buf[1024];
	struct nlmsghdr *nlh = fp_msg(c, buf, SIPNAT_FP_CMD_ADD);
	struct fp_flow out;
	struct fp_parse p = { .out = &out };

	mnl_attr_put_u16(nlh, SIPNAT_FP_A_FAMILY, f->match_dst.addr.family);
	fp_put_addr(nlh, SIPNAT_FP_A_MATCH_DADDR, &f->match_dst.addr);
	fp_put_port(nlh, SIPNAT_FP_A_MATCH_DPORT, f->match_dst.port);
	fp_put_addr(nlh, SIPNAT_FP_A_MATCH_SADDR, &f->match_src.addr);
	fp_put_port(nlh, SIPNAT_FP_A_MATCH_SPORT, f->match_src.port);
	fp_put_addr(nlh, SIPNAT_FP_A_NEW_SADDR, &f->new_src.addr);
	fp_put_port(nlh, SIPNAT_FP_A_NEW_SPORT, f->new_src.port);
	fp_put_addr(nlh, SIPNAT_FP_A_NEW_DADDR, &f->new_dst.addr);
	fp_put_port(nlh, SIPNAT_FP_A_NEW_DPORT, f->new_dst.port);
	if (f->flags)
		mnl_attr_put_u32(nlh, SIPNAT_FP_A_FLAGS, f->flags);
	if (f->flags & SIPNAT_FP_F_DSCP)
		mnl_attr_put_u8(nlh, SIPNAT_FP_A_DSCP, f->dscp);
	if (f->timeout_s)
		mnl_attr_put_u32(nlh, SIPNAT_FP_A_TIMEOUT, f->timeout_s);
	if (f->clock_rate)
		mnl_attr_put_u32(nlh, SIPNAT_FP_A_CLOCK_RATE, f->clock_rate);
	if (f->latch_window_ms)
		mnl_attr_put_u32(nlh, SIPNAT_FP_A_LATCH_WINDOW, f->latch_window_ms);
	if (f->reverse_id)
		mnl_attr_put_u32(nlh, SIPNAT_FP_A_REVERSE, f->reverse_id);
	if (f->cookie)
		mnl_attr_put_u64(nlh, SIPNAT_FP_A_COOKIE, f->cookie);
	if (fp_talk(c, nlh, fp_flow_msg, &p) < 0)
		return -1;
	if (p.nflows != 1) {
		errno = EPROTO;
		return -1;
	}
	f->id = out.id;
	return 0;
}

int fp_del(struct fp_client *c, uint32_t id)
{
	char buf[256];
	struct nlmsghdr *nlh = fp_msg(c, buf, SIPNAT_FP_CMD_DEL);

	mnl_attr_put_u32(nlh, SIPNAT_FP_A_ID, id);
	return fp_talk(c, nlh, NULL, NULL);
}

int fp_del_cookie(struct fp_client *c, uint64_t cookie)
{
	char buf[256];
	struct nlmsghdr *nlh = fp_msg(c, buf, SIPNAT_FP_CMD_DEL);

	mnl_attr_put_u64(nlh, SIPNAT_FP_A_COOKIE, cookie);
	return fp_talk(c, nlh, NULL, NULL);
}

int fp_get(struct fp_client *c, uint32_t id, struct fp_flow *out)
{
	char buf[256];
	struct nlmsghdr *nlh = fp_msg(c, buf, SIPNAT_FP_CMD_GET);
	struct fp_parse p = { .out = out };

	mnl_attr_put_u32(nlh, SIPNAT_FP_A_ID, id);
	if (fp_talk(c, nlh, fp_flow_msg, &p) < 0)
		return -1;
	if (p.nflows != 1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int fp_dump(struct fp_client *c, bool has_cookie, uint64_t cookie,
	    int (*fn)(const struct fp_flow *f, void *arg), void *arg, bool *intr)
{
	char buf[256];
	struct nlmsghdr *nlh = fp_msg(c, buf, SIPNAT_FP_CMD_GET);
	struct fp_parse p = { .fn = fn, .arg = arg, .intr = intr };

	nlh->nlmsg_flags = NLM_F_DUMP;
	if (has_cookie)
		mnl_attr_put_u64(nlh, SIPNAT_FP_A_COOKIE, cookie);
	if (intr)
		*intr = false;
	return fp_talk(c, nlh, fp_flow_msg, &p);
}

int fp_flush(struct fp_client *c)
{
	char buf[256];

	return fp_talk(c, fp_msg(c, buf, SIPNAT_FP_CMD_FLUSH), NULL, NULL);
}

static int fp_event_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*g) || g->cmd != SIPNAT_FP_CMD_EXPIRED)
		return MNL_CB_OK;	/* some other notification: not ours to read */
	return fp_flow_msg(nlh, data);
}

int fp_events(struct fp_client *c, int timeout_ms,
	      int (*fn)(const struct fp_flow *f, void *arg), void *arg)
{
	struct fp_parse p = { .fn = fn, .arg = arg };
	struct timespec start, now;
	int fd = mnl_socket_get_fd(c->nl), ret = 0, left;
	char *buf;

	if (!c->events_group) {
		errno = ENOENT;
		return -1;
	}
	if (mnl_socket_setsockopt(c->nl, NETLINK_ADD_MEMBERSHIP, &c->events_group,
				  sizeof(c->events_group)) < 0)
		return -1;
	buf = malloc(FP_BUF);
	if (!buf)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!p.stopped) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
					  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		if (poll(&pfd, 1, left) <= 0)
			continue;	/* timeout or EINTR: the loop checks the time */
		n = mnl_socket_recvfrom(c->nl, buf, FP_BUF);
		if (n < 0) {
			ret = -1;
			break;
		}
		/* Notifications carry sequence 0 and port id 0. */
		if (mnl_cb_run(buf, (size_t)n, 0, 0, fp_event_msg, &p) < 0) {
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}

int fp_raw(struct fp_client *c, uint8_t cmd, const void *attrs, size_t len)
{
	char buf[2048];
	struct nlmsghdr *nlh;

	if (len > sizeof(buf) - 64) {
		errno = EMSGSIZE;
		return -1;
	}
	nlh = fp_msg(c, buf, cmd);
	memcpy((char *)nlh + nlh->nlmsg_len, attrs, len);
	nlh->nlmsg_len += (uint32_t)len;
	return fp_talk(c, nlh, NULL, NULL);
}

static int fp_fmt_ep(char *buf, size_t size, const char *key, const struct sn_endpoint *e)
{
	char s[SN_ADDRSTRLEN];

	if (!e->addr.family && !e->port)
		return 0;
	if (e->addr.family)
		sn_endpoint_format(e, s, sizeof(s));
	else
		snprintf(s, sizeof(s), ":%u", e->port);
	return snprintf(buf, size, " %s=%s", key, s);
}

int fp_format(const struct fp_flow *f, char *buf, size_t size)
{
	size_t n = 0;
	int r;

#define FP_ADD(expr) do {						\
		r = (expr);						\
		if (r < 0)						\
			return r;					\
		n += (size_t)r;						\
	} while (0)
#define FP_AT buf + (n < size ? n : size), (n < size ? size - n : 0)
	FP_ADD(snprintf(FP_AT, "id=%" PRIu32, f->id));
	FP_ADD(fp_fmt_ep(FP_AT, "match", &f->match_dst));
	FP_ADD(fp_fmt_ep(FP_AT, "src", &f->match_src));
	FP_ADD(fp_fmt_ep(FP_AT, "snat", &f->new_src));
	FP_ADD(fp_fmt_ep(FP_AT, "dnat", &f->new_dst));
	if (f->flags & SIPNAT_FP_F_LATCH)
		FP_ADD(snprintf(FP_AT, " latch=%" PRIu32 "ms", f->latch_window_ms));
	if (f->flags & SIPNAT_FP_F_DSCP)
		FP_ADD(snprintf(FP_AT, " dscp=%u", f->dscp));
	if (f->flags & SIPNAT_FP_F_OWNED)
		FP_ADD(snprintf(FP_AT, " owned"));
	if (f->reverse_id)
		FP_ADD(snprintf(FP_AT, " reverse=%" PRIu32, f->reverse_id));
	FP_ADD(snprintf(FP_AT, " timeout=%" PRIu32 " cookie=%" PRIu64
			" packets=%" PRIu64 " bytes=%" PRIu64 " idle_ms=%" PRIu64
			" rtp=%" PRIu64 " lost=%" PRIu64 " ssrc_changes=%" PRIu32,
			f->timeout_s, f->cookie, f->st.packets, f->st.bytes, f->st.idle_ms,
			f->st.rtp_packets, f->st.rtp_lost, f->st.rtp_ssrc_changes));
	if (f->st.has_ssrc)
		FP_ADD(snprintf(FP_AT, " ssrc=0x%08" PRIx32, f->st.rtp_ssrc));
	if (f->st.has_jitter)
		FP_ADD(snprintf(FP_AT, " jitter=%" PRIu32, f->st.rtp_jitter));
	if (f->st.latched_sport)
		FP_ADD(snprintf(FP_AT, " latched=%u", f->st.latched_sport));
#undef FP_AT
#undef FP_ADD
	return (int)n;
}

struct fp_status_acc {
	char *text;
	size_t len, size;
	int n;
};

static int fp_status_line(const struct fp_flow *f, void *arg)
{
	struct fp_status_acc *a = arg;
	char line[512];
	int l = fp_format(f, line, sizeof(line));
	char *t;

	if (l < 0)
		return 0;
	if (a->len + (size_t)l + 4 > a->size) {
		size_t size = a->size ? a->size * 2 : 4096;

		while (size < a->len + (size_t)l + 4)
			size *= 2;
		t = realloc(a->text, size);
		if (!t)
			return 1;	/* print what fits */
		a->text = t;
		a->size = size;
	}
	a->len += (size_t)snprintf(a->text + a->len, a->size - a->len, "  %s\n", line);
	a->n++;
	return 0;
}

void fp_print_status(FILE *out)
{
	struct fp_status_acc a = { 0 };
	struct fp_client c;
	bool intr;

	if (fp_open(&c) < 0)
		return;		/* no module: nothing to say */
	if (fp_dump(&c, false, 0, fp_status_line, &a, &intr) == 0) {
		fprintf(out, "fastpath: %d flows%s\n", a.n, intr ? " (changed while listed)" : "");
		if (a.text)
			fputs(a.text, out);
	} else {
		fprintf(out, "fastpath: cannot list flows: %s\n", strerror(errno));
	}
	free(a.text);
	fp_close(&c);
}

/* The public port of private media port p under entry e (unchanged when
 * the entry has no media port translation or p is outside its range). */
static uint16_t fp_pub_port(const struct natmap_entry *e, uint16_t p)
{
	if (e->media_priv_lo && p >= e->media_priv_lo && p <= e->media_priv_hi)
		return (uint16_t)(e->media_pub_lo + (p - e->media_priv_lo));
	return p;
}

/* Is p towards the inside party (the inbound one of a pair)? */
static bool fp_inbound(const struct natmap *m, const struct pinhole *p)
{
	return p->pub.addr.family || natmap_by_priv(m, &p->dst);
}

int fp_stream_flows(const struct natmap *m, const struct pinhole *a, const struct pinhole *b,
		    uint64_t cookie, uint32_t timeout_s, uint32_t clock_rate,
		    struct fp_flow *fin, struct fp_flow *fout)
{
	const struct pinhole *in = a, *out = b;
	const struct natmap_entry *e;
	struct sn_endpoint pub;

	if (!fp_inbound(m, in) || fp_inbound(m, out)) {
		in = b;
		out = a;
	}
	if (!fp_inbound(m, in) || fp_inbound(m, out))
		return -1;
	/* Where the outside peer sends: the pinhole says (pinhole.h), or the
	 * static map does for pinholes made without it. */
	if (in->pub.addr.family) {
		pub = in->pub;
	} else {
		e = natmap_by_priv(m, &in->dst);
		pub.addr = e->pub;
		pub.port = fp_pub_port(e, in->dport);
	}
	/* One stream: UDP both ways, between the same two addresses, the
	 * outside one not ours; the public side of the inside one's family. */
	if (in->l4proto != IPPROTO_UDP || out->l4proto != IPPROTO_UDP ||
	    !sn_addr_equal(&out->src, &in->dst) || !sn_addr_equal(&out->dst, &in->src) ||
	    natmap_by_priv(m, &out->dst) || natmap_by_pub(m, &out->dst) ||
	    !in->dport || !out->dport || !pub.port || pub.addr.family != in->dst.family ||
	    (out->sport && out->sport != in->dport))
		return -1;

	memset(fin, 0, sizeof(*fin));
	memset(fout, 0, sizeof(*fout));
	fin->match_dst = pub;
	fin->match_src.addr = in->src;
	fin->new_dst.addr = in->dst;
	if (pub.port != in->dport)
		fin->new_dst.port = in->dport;

	fout->match_dst.addr = out->dst;
	fout->match_dst.port = out->dport;
	fout->match_src.addr = out->src;
	fout->new_src.addr = pub.addr;
	/* With port translation the source port picks the mapping, so it must
	 * be the inside party's (symmetric RTP); without, any port of the
	 * inside address goes out as the NAT would send it, unchanged. */
	if (pub.port != in->dport) {
		fout->match_src.port = in->dport;
		fout->new_src.port = pub.port;
	}

	fin->cookie = fout->cookie = cookie;
	fin->timeout_s = fout->timeout_s = timeout_s;
	fin->clock_rate = fout->clock_rate = clock_rate;
	/* Owned: if nfqd dies, its flows go and the media takes the normal
	 * path, where its pinholes still are until they time out. */
	fin->flags = fout->flags = SIPNAT_FP_F_OWNED;
	return 0;
}
