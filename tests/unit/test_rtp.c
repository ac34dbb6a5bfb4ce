/* Unit tests of kmod/rtp.c, the module's RTP accounting, compiled here in
 * userspace from the same source file: sequence gaps, SSRC changes, RTCP
 * and junk refused, and the RFC 3550 jitter estimate against a reference
 * computed in floating point the way appendix A.8 describes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../kmod/rtp.c"

static void hdr(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = pt;
	p[2] = seq >> 8;
	p[3] = seq & 0xff;
	p[4] = ts >> 24;
	p[5] = ts >> 16 & 0xff;
	p[6] = ts >> 8 & 0xff;
	p[7] = ts & 0xff;
	p[8] = ssrc >> 24;
	p[9] = ssrc >> 16 & 0xff;
	p[10] = ssrc >> 8 & 0xff;
	p[11] = ssrc & 0xff;
}

static int feed(struct fp_rtp *s, uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t ns,
		uint32_t clock)
{
	uint8_t p[FP_RTP_HDR_LEN];

	hdr(p, 0, seq, ts, ssrc);
	return fp_rtp_update(s, p, sizeof(p), ns, clock);
}

static void test_not_rtp(void **state)
{
	struct fp_rtp s = { 0 };
	uint8_t p[FP_RTP_HDR_LEN];

	hdr(p, 0, 1, 0, 1);
	assert_int_equal(fp_rtp_update(&s, p, 11, 0, 0), -1);	/* short */
	p[0] = 0x40;						/* version 1 */
	assert_int_equal(fp_rtp_update(&s, p, sizeof(p), 0, 0), -1);
	hdr(p, 200 & 0x7f, 1, 0, 1);				/* RTCP SR */
	p[1] |= 0x80;
	assert_int_equal(fp_rtp_update(&s, p, sizeof(p), 0, 0), -1);
	assert_int_equal(s.packets, 0);
	assert_int_equal(s.have_ssrc, 0);
	hdr(p, 0x80 | 8, 1, 0, 1);				/* marker + PCMA */
	assert_int_equal(fp_rtp_update(&s, p, sizeof(p), 0, 0), 0);
	assert_int_equal(s.packets, 1);
}

static void test_gaps(void **state)
{
	struct fp_rtp s = { 0 };

	feed(&s, 65530, 0, 7, 0, 0);
	feed(&s, 65531, 0, 7, 0, 0);
	feed(&s, 65534, 0, 7, 0, 0);	/* 65532, 65533 missing */
	assert_int_equal(s.lost, 2);
	feed(&s, 1, 0, 7, 0, 0);	/* wraps; 65535 and 0 missing */
	assert_int_equal(s.lost, 4);
	feed(&s, 0, 0, 7, 0, 0);	/* late: not a gap, not a new maximum */
	feed(&s, 1, 0, 7, 0, 0);	/* duplicate */
	assert_int_equal(s.lost, 4);
	assert_int_equal(s.max_seq, 1);
	feed(&s, 30000, 0, 7, 0, 0);	/* restart, not 29998 lost packets */
	assert_int_equal(s.lost, 4);
	feed(&s, 30001, 0, 7, 0, 0);
	assert_int_equal(s.lost, 4);
	assert_int_equal(s.packets, 8);
}

static void test_ssrc_change(void **state)
{
	struct fp_rtp s = { 0 };

	feed(&s, 100, 0, 1, 0, 0);
	feed(&s, 101, 0, 1, 0, 0);
	feed(&s, 5000, 0, 2, 0, 0);	/* new source: its own sequence */
	feed(&s, 5001, 0, 2, 0, 0);
	assert_int_equal(s.ssrc_changes, 1);
	assert_int_equal(s.ssrc, 2);
	assert_int_equal(s.lost, 0);
	feed(&s, 102, 0, 1, 0, 0);
	assert_int_equal(s.ssrc_changes, 2);
}

/* Evenly spaced packets: no jitter, whatever the clock. */
static void test_jitter_zero(void **state)
{
	struct fp_rtp s = { 0 };
	uint32_t i;

	for (i = 0; i < 100; i++)
		feed(&s, (uint16_t)i, 1000 + i * 160, 9, 5000000000ULL + i * 20000000ULL, 8000);
	assert_int_equal(fp_rtp_jitter(&s), 0);
}

/* Random arrival noise: the integer estimate follows A.8's floating point
 * J += (|D| - J) / 16 within a timestamp unit or two. */
static void test_jitter_reference(void **state)
{
	struct fp_rtp s = { 0 };
	double ref = 0, prev_transit = 0;
	uint32_t i;

	srand(42);
	for (i = 0; i < 2000; i++) {
		uint64_t noise_us = (uint64_t)(rand() % 5000);
		uint64_t ns = 1000000000ULL + i * 20000000ULL + noise_us * 1000;
		uint32_t ts = 4000000000u + i * 160;	/* wraps on the way */
		/* arrival in timestamp units, as the module computes it */
		double transit = (double)((ns - 1000000000ULL) * 8000 / 1000000000ULL) -
				 (double)(uint32_t)(ts - 4000000000u);

		feed(&s, (uint16_t)i, ts, 3, ns, 8000);
		if (i > 0)
			ref += (fabs(transit - prev_transit) - ref) / 16;
		prev_transit = transit;
	}
	assert_true(fabs((double)fp_rtp_jitter(&s) - ref) <= 2.0);
	assert_true(ref > 5.0);	/* the test measured something */
}

/* A long silence restarts the estimate instead of counting as jitter. */
static void test_jitter_gap(void **state)
{
	struct fp_rtp s = { 0 };

	feed(&s, 1, 160, 9, 1000000000ULL, 8000);
	feed(&s, 2, 320, 9, 1000000000ULL + 120 * 1000000000ULL, 8000);
	assert_int_equal(fp_rtp_jitter(&s), 0);
	/* Without a clock rate no jitter is computed at all. */
	feed(&s, 3, 480, 9, 5, 0);
	assert_int_equal(fp_rtp_jitter(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_rtp),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_ssrc_change),
		cmocka_unit_test(test_jitter_zero),
		cmocka_unit_test(test_jitter_reference),
		cmocka_unit_test(test_jitter_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
