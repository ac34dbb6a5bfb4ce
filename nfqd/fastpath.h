/* fastpath.h - nfqd's client of the sipnat_fp kernel module: a generic
 * netlink socket speaking kmod/uapi/sipnat_fp.h (read that for what each
 * command does and which errors come back).
 *
 * Owns: building the requests, reading the replies and acks, turning flow
 * attributes into struct fp_flow and back.  Must not: know SIP, dialogs or
 * when a flow should exist (the daemon decides); it is the only nfqd code
 * that knows the module exists.
 *
 * Every function returns 0 or -1 with errno set: ENOENT from fp_open() means
 * the module is not loaded (then nothing else changes: nfqd works without
 * it); other errno values are the kernel's answer (EINVAL, EEXIST, ...), or
 * EPROTO for a reply that does not parse.
 */
#ifndef SIPNAT_FASTPATH_H
#define SIPNAT_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "natmap.h"
#include "pinhole.h"

struct mnl_socket;

struct fp_client {
	struct mnl_socket *nl;
	uint16_t family_id;
	uint32_t events_group;		/* multicast group id, 0 if none */
	unsigned int portid;
	uint32_t seq;
};

/* The figures the kernel keeps per flow (SIPNAT_FP_A_STATS). */
struct fp_stats {
	uint64_t packets, bytes, idle_ms;
	uint64_t rtp_packets, rtp_lost;
	uint32_t rtp_ssrc, rtp_ssrc_changes, rtp_jitter;
	uint16_t latched_sport;		/* 0: not latched */
	bool has_ssrc, has_jitter;
};

/* One flow.  Ports are in host order; an address of family 0 or a port 0
 * means "not given" (match anything / leave unchanged). */
struct fp_flow {
	uint32_t id;			/* replies; selector for del/get */
	struct sn_endpoint match_dst;	/* required */
	struct sn_endpoint match_src;
	struct sn_endpoint new_src, new_dst;
	uint32_t flags;			/* SIPNAT_FP_F_* */
	uint8_t dscp;
	uint32_t timeout_s, clock_rate, latch_window_ms;	/* 0: default/none */
	uint32_t reverse_id;
	uint64_t cookie;
	struct fp_stats st;		/* replies only */
};

int fp_open(struct fp_client *c);
void fp_close(struct fp_client *c);

/* Adds f; on success f->id is the kernel's ID for it. */
int fp_add(struct fp_client *c, struct fp_flow *f);
int fp_del(struct fp_client *c, uint32_t id);
int fp_del_cookie(struct fp_client *c, uint64_t cookie);
int fp_get(struct fp_client *c, uint32_t id, struct fp_flow *out);
/* Calls fn once per flow (only those with the cookie if has_cookie); stops
 * early, returning 0, when fn returns nonzero.  *intr is set if the kernel
 * marked the dump inconsistent (flows changed meanwhile; may be NULL). */
int fp_dump(struct fp_client *c, bool has_cookie, uint64_t cookie,
	    int (*fn)(const struct fp_flow *f, void *arg), void *arg, bool *intr);
int fp_flush(struct fp_client *c);

/* Joins the "events" group and calls fn for each flow the module removed
 * for idleness (SIPNAT_FP_CMD_EXPIRED, with the final figures), for at most
 * timeout_ms or until fn returns nonzero.  0, or -1 with errno set. */
int fp_events(struct fp_client *c, int timeout_ms,
	      int (*fn)(const struct fp_flow *f, void *arg), void *arg);

/* Sends command cmd with attrs (len bytes of ready-made attributes, not
 * checked here) and waits for the ack: for tests and for debugging the
 * module's validation.  Replies other than the ack are ignored. */
int fp_raw(struct fp_client *c, uint8_t cmd, const void *attrs, size_t len);

/*
 * fp_stream_flows - the two flows that carry one media stream through the
 * NAT, from the stream's two pinholes (pinhole.h: as the forward hook sees
 * them, i.e. the inbound one with the private destination).  The public
 * side is the inbound pinhole's pub, or (pinholes without it) the map's.
 *
 *   in:  remote -> public:pport      becomes remote -> private:port
 *        (match dst public:pport, src remote address; dnat private:port)
 *   out: private -> remote:rport     becomes public -> remote:rport
 *        (match dst remote:rport, src private address; snat public.  When
 *        pport != port, the source port must be port (symmetric RTP) and
 *        becomes pport)
 *
 * Both get cookie, timeout_s and clock_rate (0: none) and SIPNAT_FP_F_OWNED;
 * the caller adds the inbound flow first and sets fout->reverse_id to its
 * ID.  Returns 0, or -1 when the pair is not one stream (either order of the
 * pinholes is accepted; the outbound one's sport, when given, must be the
 * inbound one's dport).  Pure: no I/O.
 */
int fp_stream_flows(const struct natmap *m, const struct pinhole *a, const struct pinhole *b,
		    uint64_t cookie, uint32_t timeout_s, uint32_t clock_rate,
		    struct fp_flow *fin, struct fp_flow *fout);

/* For `nfqd status`: "fastpath: N flows" and one fp_format line per flow
 * (indented), or nothing at all when the module is not loaded. */
void fp_print_status(FILE *out);

/* One line, "id=3 match=... packets=... ...", no newline.  Returns the
 * length snprintf would have written. */
int fp_format(const struct fp_flow *f, char *buf, size_t size);

#endif
