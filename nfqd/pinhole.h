/* pinhole.h - what a media pinhole is, and the interface every pinhole
 * backend implements (nft set elements here; conntrack expectations on
 * kernels that allow them).
 *
 * A pinhole lets packets of one l4 protocol from src (any source port) to
 * dst:dport through the firewall, for at most timeout_s seconds unless
 * refreshed.  Backends are the only code that speaks their kernel API.
 */
#ifndef SIPNAT_PINHOLE_H
#define SIPNAT_PINHOLE_H

#include <stdint.h>

#include "addr.h"

struct ct_master;	/* ctmap.h */

/* What kind of media a pinhole carries, from its m= line's media type.
 * Backends with per-kind limits use it (conntrack expectation classes,
 * cthelper.h): audio and video are the bulk of a call's streams, the
 * rest (image/T.38, application, text, message) gets a smaller budget so
 * it cannot crowd them out. */
enum pin_class {
	PIN_CLASS_AV = 0,	/* m=audio, m=video */
	PIN_CLASS_OTHER = 1,	/* any other media type */
};

struct pinhole {
	uint8_t l4proto;	/* IPPROTO_UDP / IPPROTO_TCP */
	/* enum pin_class.  Not part of a pinhole's identity: two streams
	 * that need the same tuple share one pinhole, which keeps the class
	 * of the first (the kernel matches packets by tuple, not by kind). */
	uint8_t mclass;
	struct sn_addr src;	/* the peer's media address (its SDP c=) */
	struct sn_addr dst;	/* the receiver, as the firewall sees it */
	uint16_t dport;
	uint32_t timeout_s;
	/* Towards the inside party only: where the outside peer sends, i.e.
	 * the inside party's public address and port as its rewritten SDP
	 * announced them (the NAT turns that into dst:dport).  Backends that
	 * program the translation themselves (conntrack expectations, nft dnat
	 * maps) need it.  Family 0 on pinholes towards the outside party.
	 * Not part of a pinhole's identity (pinhole_equal). */
	struct sn_endpoint pub;
	/* Towards the outside party only: the port the inside party sends
	 * this stream from, taken to be its own receive port of the same
	 * stream (symmetric RTP, RFC 4961); 0 if unknown.  It pairs this
	 * pinhole with the inbound one of the same stream (dst = src, dport =
	 * sport), which the fast path needs to program both directions.  Not
	 * part of a pinhole's identity either. */
	uint16_t sport;
};

struct pin_backend_conf {
	const char *table;	/* nft table, default "sipnat" (family inet) */
	uint32_t default_timeout_s;
	/* Optional: where open() writes a one-line reason when it fails
	 * (e.g. "... load the ruleset first: sipnat-rules load"). */
	char *errbuf;
	size_t errlen;
};

struct pinhole_ops {
	const char *name;
	/* 0, or -1 with errno set.  ctx is the backend's own state. */
	int (*open)(void **ctx, const struct pin_backend_conf *conf);
	int (*add)(void *ctx, const struct pinhole *p);	/* add or refresh */
	int (*del)(void *ctx, const struct pinhole *p);	/* absent: 0 */
	int (*flush)(void *ctx);			/* every sipnat pinhole */
	void (*close)(void *ctx);
	/* Optional (NULL: the backend does not need them).  set_master: the
	 * conntrack of the SIP flow whose packet is being handled (NULL after
	 * it), for backends that hang pinholes off that flow.  commit: work
	 * that add/del deferred, run once the verdicts of the receive burst
	 * are sent (a queued packet's conntrack is unconfirmed until then);
	 * returns how many operations failed. */
	void (*set_master)(void *ctx, const struct ct_master *m);
	int (*commit)(void *ctx);
	/* Optional: the pinholes towards the inside party whose public port
	 * the kernel refused since the last call because someone else holds
	 * it (an expectation's EBUSY), at most max; returns how many.  The
	 * caller moves those streams to other ports (medport.c). */
	size_t (*take_refused)(void *ctx, struct pinhole *out, size_t max);
};

/* The nft set backend (pin_nftset.c): elements of the sets media4/media6
 * in table inet <table>, loaded by scripts/sipnat-rules. */
extern const struct pinhole_ops pin_nftset_ops;
/* Conntrack expectations (pin_expect.c) off flows of the userspace helper
 * "sipnat" (cthelper.c): stock kernels. */
extern const struct pinhole_ops pin_expect_ops;

#endif
