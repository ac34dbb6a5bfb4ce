// SPDX-License-Identifier: GPL-2.0
/*
 * rtp.c - RTP sequence, SSRC and jitter accounting (see rtp.h).
 *
 * Owns: the state machine of RFC 3550 appendix A.1 (reduced to what we
 * report) and A.8.  Must not: include anything but rtp.h and, in the kernel,
 * math64.h; it is also built in userspace by tests/unit/test_rtp.c.
 */
#include "rtp.h"

#ifdef __KERNEL__
#include <linux/math64.h>
#define fp_div_u64(a, b) div_u64((a), (b))
#else
#define fp_div_u64(a, b) ((a) / (b))
#endif

/* A transit difference beyond this is a clock jump, not jitter; clamping
 * keeps jitter_q4 (16 * jitter) far from overflowing 32 bits. */
#define FP_RTP_MAX_D	0x00ffffffU

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fp_rtp_seq(struct fp_rtp *s, uint16_t seq)
{
	uint16_t delta = (uint16_t)(seq - s->max_seq);

	if (delta == 0)
		return;			/* duplicate */
	if (delta < FP_RTP_MAX_DROPOUT) {
		s->lost += delta - 1u;	/* in order, maybe with a gap */
		s->max_seq = seq;
	} else if (delta <= 65536 - FP_RTP_MAX_MISORDER) {
		/* A jump no loss explains: the sender restarted its sequence
		 * (RFC 3550 A.1 resyncs after two such packets; one is enough
		 * for counting gaps, and counting a restart as loss would be
		 * wrong). */
		s->max_seq = seq;
	}
	/* else: late or reordered; already counted as skipped */
}

static void fp_rtp_jitter_update(struct fp_rtp *s, uint32_t ts, uint64_t now_ns,
				 uint32_t clock_rate)
{
	uint64_t gap_ns, arrival;
	int64_t d;

	if (s->have_transit && now_ns >= s->last_arrival_ns &&
	    now_ns - s->last_arrival_ns <= FP_RTP_MAX_GAP_NS) {
		gap_ns = now_ns - s->last_arrival_ns;
		/* gap_ns < 2^36 and clock_rate <= 10^6 < 2^20: no overflow. */
		arrival = fp_div_u64(gap_ns * clock_rate, 1000000000u);
		d = (int64_t)arrival - (int32_t)(ts - s->last_ts);
		if (d < 0)
			d = -d;
		if (d > FP_RTP_MAX_D)
			d = FP_RTP_MAX_D;
		/* J += (|D| - J) / 16, with J kept times 16 (RFC 3550 A.8). */
		s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
	}
	s->last_ts = ts;
	s->last_arrival_ns = now_ns;
	s->have_transit = 1;
}

int fp_rtp_update(struct fp_rtp *s, const uint8_t *p, size_t len,
		  uint64_t now_ns, uint32_t clock_rate)
{
	uint8_t pt;
	uint16_t seq;
	uint32_t ts, ssrc;

	if (len < FP_RTP_HDR_LEN || (p[0] >> 6) != 2)
		return -1;
	pt = p[1] & 0x7f;
	/* RTCP SR..APP (200..204) read as marker + payload type 72..76
	 * (RFC 5761 section 4): not part of the RTP stream. */
	if (pt >= 72 && pt <= 76)
		return -1;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ts = rd32(p + 4);
	ssrc = rd32(p + 8);

	s->packets++;
	if (!s->have_ssrc || ssrc != s->ssrc) {
		if (s->have_ssrc)
			s->ssrc_changes++;
		s->have_ssrc = 1;
		s->ssrc = ssrc;
		s->max_seq = seq;
		/* The new source's timestamps have another origin. */
		s->have_transit = 0;
	} else {
		fp_rtp_seq(s, seq);
	}
	if (clock_rate)
		fp_rtp_jitter_update(s, ts, now_ns, clock_rate);
	return 0;
}
