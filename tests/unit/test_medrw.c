/* Unit tests of medrw.c, exact bytes: two phones behind one public
 * address announce the same media ports; the first is forwarded exactly
 * as without the allocator, the second gets moved ports in m= and a=rtcp
 * (a pair for RTP/RTCP, a pool port for a separate a=rtcp), a re-offer is
 * the same, a message towards the second maps them back, and a port the
 * kernel refused moves at the next offer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "medrw.h"

static struct arena arena;
static char outbuf[RW_MAX_MESSAGE + 1];

/* An INVITE from host (Via/Contact hp) with media at c= addr. */
static void invite(char *buf, size_t len, const char *hp, const char *addr, unsigned rtp,
		   unsigned video, unsigned vrtcp)
{
	char sdp[512];

	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\nm=video %u RTP/AVP 96\r\na=rtcp:%u\r\n",
		 addr, addr, rtp, video, vrtcp);
	snprintf(buf, len,
		 "INVITE sip:bob@198.51.100.30 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s;branch=z9hG4bK776asdhds\r\n"
		 "Max-Forwards: 70\r\nTo: <sip:bob@198.51.100.30>\r\n"
		 "From: <sip:alice@example.com>;tag=1928301774\r\n"
		 "Call-ID: a84b4c76e66710\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@%s>\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 hp, hp, strlen(sdp), sdp);
}

/* The party's one-entry map, as ctmap.c makes it per packet. */
static void party(struct natmap *m, const char *priv, uint16_t pport, uint16_t pubport)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(sn_addr_parse(&m->e[0].priv, priv, strlen(priv)), 0);
	assert_int_equal(sn_addr_parse(&m->e[0].pub, "203.0.113.10", 12), 0);
	m->e[0].priv_port = pport;
	m->e[0].pub_port = pubport;
	m->n = 1;
}

static const char *run(struct medport *mp, struct natmap *m, const char *msg, enum rw_dir dir,
		       uint64_t now, struct rw_result *res)
{
	struct rw_config cfg = { .map = m };
	struct rw_input in = { .msg = (const uint8_t *)msg, .len = strlen(msg), .dir = dir,
			       .transport = RW_UDP };

	m->e[0].n_media_pairs = 0;	/* fresh per packet, as in the daemon */
	arena_reset(&arena);
	if (mp)
		medrw_rewrite(mp, &m->e[0], &cfg, &in, &arena, res, now);
	else
		rw_rewrite(&cfg, &in, &arena, res);
	assert_true(res->out_len <= RW_MAX_MESSAGE);
	memcpy(outbuf, res->out, res->out_len);
	outbuf[res->out_len] = '\0';
	return outbuf;
}

static void test_two_phones(void **state)
{
	struct medport_conf c = { 40000, 40099, 1800, 180, 256, { 3, 4 } };
	struct medport *mp = medport_new(&c);
	struct natmap ma, mb;
	struct rw_result res;
	char in[2048], want[2048], plain[2048];
	const char *via;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(arena_init(&arena, ARENA_DEFAULT_SIZE), 0);
	party(&ma, "10.0.0.10", 0, 0);		/* the kernel kept 5060 */
	party(&mb, "10.0.0.11", 5060, 1024);	/* ... and moved the second */

	/* A: byte for byte what the core alone forwards. */
	invite(in, sizeof(in), "10.0.0.10:5060", "10.0.0.10", 4000, 4002, 4009);
	snprintf(plain, sizeof(plain), "%s", run(NULL, &ma, in, RW_OUT, 0, &res));
	assert_string_equal(run(mp, &ma, in, RW_OUT, 0, &res), plain);
	assert_int_equal(res.sip.media[0].rewritten.port, 4000);
	invite(want, sizeof(want), "203.0.113.10:5060", "203.0.113.10", 4000, 4002, 4009);
	assert_string_equal(plain, want);

	/* B: the same ports, moved: RTP/RTCP pairs, a pool port for 4009. */
	invite(in, sizeof(in), "10.0.0.11:5060", "10.0.0.11", 4000, 4002, 4009);
	invite(want, sizeof(want), "203.0.113.10:1024", "203.0.113.10", 40000, 40002, 40004);
	assert_string_equal(run(mp, &mb, in, RW_OUT, 1000, &res), want);
	assert_int_equal(res.sip.media[0].orig.port, 4000);
	assert_int_equal(res.sip.media[0].rewritten.port, 40000);
	assert_int_equal(res.sip.media[1].rtcp_rewritten, 40004);
	/* A re-offer of both: the same bytes. */
	assert_string_equal(run(mp, &mb, in, RW_OUT, 2000, &res), want);
	invite(in, sizeof(in), "10.0.0.10:5060", "10.0.0.10", 4000, 4002, 4009);
	assert_string_equal(run(mp, &ma, in, RW_OUT, 2000, &res), plain);

	/* Towards B, its public view maps back to the private one (a
	 * request's top Via stays: it is the sender's). */
	invite(in, sizeof(in), "203.0.113.10:1024", "203.0.113.10", 40000, 40002, 40004);
	invite(want, sizeof(want), "10.0.0.11:5060", "10.0.0.11", 4000, 4002, 4009);
	via = strstr(want, "UDP 10.0.0.11:5060;");
	assert_non_null(via);
	snprintf(plain, sizeof(plain), "%.*sUDP 203.0.113.10:1024;%s", (int)(via - want), want,
		 via + strlen("UDP 10.0.0.11:5060;"));
	assert_string_equal(run(mp, &mb, in, RW_IN, 3000, &res), plain);

	/* The kernel refused 40002 (video RTP): B's next offer moves video
	 * only; audio and the separate a=rtcp keep theirs. */
	assert_true(medport_refused(mp, &mb.e[0].pub, 40002, IPPROTO_UDP, 4000));
	invite(in, sizeof(in), "10.0.0.11:5060", "10.0.0.11", 4000, 4002, 4009);
	invite(want, sizeof(want), "203.0.113.10:1024", "203.0.113.10", 40000, 40006, 40004);
	assert_string_equal(run(mp, &mb, in, RW_OUT, 5000, &res), want);

	/* Held or FQDN media is not the party's: nothing leased for it. */
	invite(in, sizeof(in), "10.0.0.11:5060", "0.0.0.0", 5000, 5002, 5009);
	run(mp, &mb, in, RW_OUT, 6000, &res);
	assert_int_equal(mb.e[0].n_media_pairs, 0);
	arena_free(&arena);
	medport_free(mp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_phones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
