/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtp.h - per-flow RTP figures from the fixed RTP header: SSRC changes,
 * sequence gaps and the RFC 3550 interarrival jitter.
 *
 * Owns: the arithmetic on one stream's state.  Must not: touch an skb, take a
 * lock, read a clock or allocate.  The caller serialises updates of one state
 * and passes the arrival time in; that keeps rtp.c pure, so the same file is
 * compiled into the module and into tests/unit/test_rtp.c.
 */
#ifndef SIPNAT_FP_RTP_H
#define SIPNAT_FP_RTP_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define FP_RTP_HDR_LEN		12
#define FP_RTP_MAX_DROPOUT	3000	/* RFC 3550 A.1: larger jumps resync */
#define FP_RTP_MAX_MISORDER	100	/* ... smaller steps back are late */
#define FP_RTP_MAX_GAP_NS	60000000000ULL	/* longer silence restarts jitter */

struct fp_rtp {
	uint64_t packets;	/* packets that parsed as RTP v2 */
	uint64_t lost;		/* sequence numbers skipped */
	uint64_t last_arrival_ns;
	uint32_t ssrc;
	uint32_t ssrc_changes;
	uint32_t jitter_q4;	/* jitter * 16, RFC 3550 A.8 */
	uint32_t last_ts;
	uint16_t max_seq;
	uint8_t have_ssrc;
	uint8_t have_transit;
};

/*
 * fp_rtp_update - account one packet's UDP payload
 * @s: the stream state, zeroed before the first packet
 * @p: the UDP payload (only its first FP_RTP_HDR_LEN bytes are read)
 * @len: how many bytes @p holds (the payload may be longer)
 * @now_ns: arrival time on any monotonic nanosecond clock
 * @clock_rate: the stream's RTP clock in Hz, 0 if unknown (no jitter then)
 *
 * Returns 0 if the payload was taken as RTP, -1 if it was not RTP (too
 * short, not version 2, or RTCP multiplexed on the port): @s is unchanged.
 */
int fp_rtp_update(struct fp_rtp *s, const uint8_t *p, size_t len,
		  uint64_t now_ns, uint32_t clock_rate);

static inline uint32_t fp_rtp_jitter(const struct fp_rtp *s)
{
	return s->jitter_q4 >> 4;
}

#endif
