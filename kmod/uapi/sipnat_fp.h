/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sipnat_fp.h - the contract between the sipnat_fp kernel module and nfqd.
 *
 * sipnat_fp forwards the UDP packets of programmed media flows from an early
 * prerouting hook (before defragmentation and conntrack): it rewrites
 * addresses and ports, decrements the TTL / hop limit, routes and transmits
 * the packet itself.  Packets it does not match, and matched packets it has
 * any doubt about (fragment, IP options or IPv6 extension headers, TTL <= 1,
 * larger than the route's MTU, GSO, no unicast route, a next hop without a
 * neighbour entry yet, shared or non-linear headers), continue on the normal
 * path untouched.  Forwarded packets skip
 * conntrack and the forward and postrouting hooks, like an nft flowtable.
 *
 * The hook runs in prerouting at priority -420 (after raw rules placed
 * before defragmentation, before defragmentation and conntrack).  A matched
 * packet is routed by its new destination alone (no source, mark or TOS
 * policy routing; the route is cached per flow and CPU), and nothing is
 * done at all while the namespace has IPsec policies.
 *
 * A flow is one direction of one media stream.  Flows live in the network
 * namespace whose generic netlink socket created them and are matched only
 * against packets entering that namespace.
 *
 * Generic netlink family SIPNAT_FP_GENL_NAME, version SIPNAT_FP_GENL_VERSION,
 * multicast group SIPNAT_FP_MCGRP_EVENTS.  Every command needs CAP_NET_ADMIN
 * in the user namespace that owns the network namespace, dumps included.
 * Every attribute is validated strictly: an unknown attribute, an attribute
 * the command does not take, a wrong type or length, or trailing garbage
 * fails the whole request with -EINVAL; a value (or an address length)
 * outside the range given below fails with -ERANGE.  extack names the
 * attribute.  Nothing is half applied.
 *
 * Commands
 * --------
 *
 * SIPNAT_FP_CMD_ADD (doit): create one flow.  Required: FAMILY, MATCH_DADDR,
 *   MATCH_DPORT.  Optional: MATCH_SADDR, MATCH_SPORT, NEW_SADDR, NEW_SPORT,
 *   NEW_DADDR, NEW_DPORT (an absent NEW_* leaves that field as it came),
 *   FLAGS, DSCP, TIMEOUT, CLOCK_RATE, LATCH_WINDOW, REVERSE, COOKIE.
 *   The reply is a SIPNAT_FP_CMD_ADD message carrying ID and the flow as GET
 *   returns it.  Errors:
 *     -EINVAL      a missing required attribute, an address whose length is
 *                  not that of FAMILY, port 0, an unspecified, multicast or
 *                  broadcast address, LATCH without MATCH_SADDR or with
 *                  MATCH_SPORT, LATCH_WINDOW without LATCH
 *     -EOPNOTSUPP  FAMILY is not AF_INET/AF_INET6, or FLAGS has unknown bits
 *     -EEXIST      a flow with the same match (address, port, and the same
 *                  source selector) exists
 *     -ENOENT      REVERSE names no flow; -EBUSY: that flow already has one;
 *                  -EAFNOSUPPORT: it is of the other family
 *     -ENOSPC      the namespace holds max_flows flows (module parameter)
 *     -ENOMEM
 *
 * SIPNAT_FP_CMD_DEL (doit): remove flows.  Exactly one selector: ID (that
 *   flow) or COOKIE (every flow carrying it, e.g. all flows of one dialog);
 *   none or both: -EBADR.  No flow matched: -ENOENT.  Removed flows are not
 *   announced on the events group (the caller knows).
 *
 * SIPNAT_FP_CMD_GET (doit): ID required; the reply describes that flow
 *   (-ENOENT if none).
 * SIPNAT_FP_CMD_GET (dumpit, NLM_F_DUMP): every flow of the namespace, one
 *   message per flow, so a dump never overflows a message; optional COOKIE
 *   restricts it to the flows carrying that cookie.  If flows are added or
 *   removed while a dump spans several recv() calls, the messages after the
 *   change carry NLM_F_DUMP_INTR: restart the dump if you need a snapshot.
 *
 * SIPNAT_FP_CMD_FLUSH (doit): remove every flow of the namespace.  No
 *   attributes.  Flows are not announced.
 *
 * SIPNAT_FP_CMD_EXPIRED (notification only, on SIPNAT_FP_MCGRP_EVENTS): a
 *   flow was removed because it saw no packet for TIMEOUT seconds (or never
 *   latched within LATCH_WINDOW and then idled out).  The attributes are
 *   those of GET, with the final STATS.  Sending this command: -EOPNOTSUPP.
 *
 * Attributes (all in host byte order unless marked "network order")
 * ----------------------------------------------------------------
 *
 *   SIPNAT_FP_A_ID            u32, assigned by the kernel: 1..2^31-1,
 *                             allocated cyclically, so not reused before
 *                             the namespace went through 2^31 flows
 *   SIPNAT_FP_A_FAMILY        u16, AF_INET or AF_INET6
 *   SIPNAT_FP_A_MATCH_DADDR   binary, 4 or 16 bytes (network order): the
 *                             destination address of packets to take
 *   SIPNAT_FP_A_MATCH_DPORT   u16 (network order), != 0
 *   SIPNAT_FP_A_MATCH_SADDR   like MATCH_DADDR: take only packets from this
 *                             source (optional; a flow with a source selector
 *                             wins over one without for the same destination)
 *   SIPNAT_FP_A_MATCH_SPORT   u16 (network order), needs MATCH_SADDR
 *   SIPNAT_FP_A_NEW_SADDR     like MATCH_DADDR: written as the source address
 *   SIPNAT_FP_A_NEW_SPORT     u16 (network order), != 0
 *   SIPNAT_FP_A_NEW_DADDR     like MATCH_DADDR: written as the destination
 *                             address; the packet is routed towards it
 *   SIPNAT_FP_A_NEW_DPORT     u16 (network order), != 0
 *   SIPNAT_FP_A_FLAGS         u32, SIPNAT_FP_F_* bits
 *   SIPNAT_FP_A_DSCP          u8, 0..63: written into the DS field (ECN
 *                             bits kept); only with SIPNAT_FP_F_DSCP
 *   SIPNAT_FP_A_TIMEOUT       u32, seconds 1..86400 (default 60): idle time
 *                             after which the flow is removed and announced
 *   SIPNAT_FP_A_CLOCK_RATE    u32, Hz 1..1000000: RTP clock of the stream;
 *                             without it no jitter is computed
 *   SIPNAT_FP_A_LATCH_WINDOW  u32, milliseconds 1..600000 (default 10000)
 *   SIPNAT_FP_A_REVERSE       u32, the ID of the flow carrying the other
 *                             direction of the stream.  Links both flows:
 *                             when this flow latches a source port, the
 *                             reverse flow's NEW_DPORT follows it
 *   SIPNAT_FP_A_COOKIE        u64, opaque to the kernel (nfqd: the dialog);
 *                             a flow added without one carries 0
 *   SIPNAT_FP_A_STATS         nested, in replies only (-EINVAL in requests):
 *     SIPNAT_FP_S_PACKETS       u64, packets forwarded by the fast path
 *     SIPNAT_FP_S_BYTES         u64, their bytes (IP header included)
 *     SIPNAT_FP_S_IDLE_MS       u64, ms since the last forwarded packet, or
 *                               since the flow was added if none yet
 *     SIPNAT_FP_S_RTP_PACKETS   u64, packets that parsed as RTP version 2
 *     SIPNAT_FP_S_RTP_SSRC      u32, the current SSRC (after an RTP packet)
 *     SIPNAT_FP_S_RTP_SSRC_CHANGES u32, times the SSRC changed
 *     SIPNAT_FP_S_RTP_LOST      u64, sequence numbers skipped (RFC 3550
 *                               "cumulative number of packets lost", never
 *                               decreased by late or duplicate packets)
 *     SIPNAT_FP_S_RTP_JITTER    u32, RFC 3550 interarrival jitter in RTP
 *                               timestamp units (needs CLOCK_RATE)
 *     SIPNAT_FP_S_LATCHED_SPORT u16 (network order), present once a
 *                               SIPNAT_FP_F_LATCH flow has latched
 *   SIPNAT_FP_A_PAD           padding for u64 attributes, ignored
 *
 * Flags (SIPNAT_FP_A_FLAGS)
 * -------------------------
 *
 *   SIPNAT_FP_F_LATCH  symmetric-RTP latching for a peer behind a NAT: the
 *                      first packet from MATCH_SADDR within LATCH_WINDOW
 *                      fixes the source port; afterwards only that port
 *                      matches.  Before that, any port from MATCH_SADDR
 *                      matches; a flow that has not latched when the window
 *                      closes matches nothing (its packets take the normal
 *                      path) until it idles out.
 *   SIPNAT_FP_F_DSCP   write SIPNAT_FP_A_DSCP (required with this flag).
 *   SIPNAT_FP_F_OWNED  the flow belongs to the netlink socket that added it
 *                      and is removed (not announced) when that socket is
 *                      closed: a daemon sets it so that its flows do not
 *                      outlive it, and a crashed nfqd's media falls back to
 *                      the normal path at once.
 */
#ifndef _UAPI_SIPNAT_FP_H
#define _UAPI_SIPNAT_FP_H

#define SIPNAT_FP_GENL_NAME		"sipnat_fp"
#define SIPNAT_FP_GENL_VERSION		1
#define SIPNAT_FP_MCGRP_EVENTS		"events"

enum sipnat_fp_cmd {
	SIPNAT_FP_CMD_UNSPEC,
	SIPNAT_FP_CMD_ADD,
	SIPNAT_FP_CMD_DEL,
	SIPNAT_FP_CMD_GET,
	SIPNAT_FP_CMD_FLUSH,
	SIPNAT_FP_CMD_EXPIRED,
	__SIPNAT_FP_CMD_MAX
};
#define SIPNAT_FP_CMD_MAX (__SIPNAT_FP_CMD_MAX - 1)

enum sipnat_fp_attr {
	SIPNAT_FP_A_UNSPEC,
	SIPNAT_FP_A_ID,
	SIPNAT_FP_A_FAMILY,
	SIPNAT_FP_A_MATCH_DADDR,
	SIPNAT_FP_A_MATCH_DPORT,
	SIPNAT_FP_A_MATCH_SADDR,
	SIPNAT_FP_A_MATCH_SPORT,
	SIPNAT_FP_A_NEW_SADDR,
	SIPNAT_FP_A_NEW_SPORT,
	SIPNAT_FP_A_NEW_DADDR,
	SIPNAT_FP_A_NEW_DPORT,
	SIPNAT_FP_A_FLAGS,
	SIPNAT_FP_A_DSCP,
	SIPNAT_FP_A_TIMEOUT,
	SIPNAT_FP_A_CLOCK_RATE,
	SIPNAT_FP_A_LATCH_WINDOW,
	SIPNAT_FP_A_REVERSE,
	SIPNAT_FP_A_COOKIE,
	SIPNAT_FP_A_STATS,
	SIPNAT_FP_A_PAD,
	__SIPNAT_FP_A_MAX
};
#define SIPNAT_FP_A_MAX (__SIPNAT_FP_A_MAX - 1)

enum sipnat_fp_stats_attr {
	SIPNAT_FP_S_UNSPEC,
	SIPNAT_FP_S_PACKETS,
	SIPNAT_FP_S_BYTES,
	SIPNAT_FP_S_IDLE_MS,
	SIPNAT_FP_S_RTP_PACKETS,
	SIPNAT_FP_S_RTP_SSRC,
	SIPNAT_FP_S_RTP_SSRC_CHANGES,
	SIPNAT_FP_S_RTP_LOST,
	SIPNAT_FP_S_RTP_JITTER,
	SIPNAT_FP_S_LATCHED_SPORT,
	SIPNAT_FP_S_PAD,
	__SIPNAT_FP_S_MAX
};
#define SIPNAT_FP_S_MAX (__SIPNAT_FP_S_MAX - 1)

enum sipnat_fp_flags {
	SIPNAT_FP_F_LATCH	= 1U << 0,
	SIPNAT_FP_F_DSCP	= 1U << 1,
	SIPNAT_FP_F_OWNED	= 1U << 2,
	__SIPNAT_FP_F_ALL	= SIPNAT_FP_F_LATCH | SIPNAT_FP_F_DSCP | SIPNAT_FP_F_OWNED
};

#define SIPNAT_FP_TIMEOUT_DEFAULT	60	/* seconds */
#define SIPNAT_FP_TIMEOUT_MAX		86400
#define SIPNAT_FP_LATCH_WINDOW_DEFAULT	10000	/* milliseconds */
#define SIPNAT_FP_LATCH_WINDOW_MAX	600000
#define SIPNAT_FP_CLOCK_RATE_MAX	1000000

#endif /* _UAPI_SIPNAT_FP_H */
