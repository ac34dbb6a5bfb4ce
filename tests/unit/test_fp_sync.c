/* Unit tests of fp_sync.c's pure part: which pinhole intents make which
 * fast-path flows, their removal, and the refresh of pinholes whose media
 * the fast path carries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>

#include "../../kmod/uapi/sipnat_fp.h"
#include "fp_sync.h"

#define R "198.51.100.20"
#define P "10.0.0.5"
#define PUB "203.0.113.5"

static struct natmap map;

static struct pinhole ph(const char *src, const char *dst, uint16_t dport)
{
	struct pinhole p = { .l4proto = IPPROTO_UDP, .dport = dport, .timeout_s = 60 };

	assert_int_equal(sn_addr_parse(&p.src, src, strlen(src)), 0);
	assert_int_equal(sn_addr_parse(&p.dst, dst, strlen(dst)), 0);
	return p;
}

/* Towards the inside party, as dialog.c makes it: pub set. */
static struct pinhole in_ph(const char *pub, uint16_t pport, uint16_t port)
{
	struct pinhole p = ph(R, P, port);

	assert_int_equal(sn_addr_parse(&p.pub.addr, pub, strlen(pub)), 0);
	p.pub.port = pport;
	return p;
}

static struct pinhole out_ph(uint16_t rport, uint16_t sport)
{
	struct pinhole p = ph(P, R, rport);

	p.sport = sport;
	return p;
}

static struct fp_sync *new_sync(void)
{
	struct fp_sync_conf c = { .map = &map, .timeout_s = 60, .cookie_base = 100 };
	struct fp_sync *s = fp_sync_new(&c);

	assert_non_null(s);
	return s;
}

static void line(const struct fp_flow *f, char *buf, size_t n)
{
	assert_true(fp_format(f, buf, n) > 0);
}

static int setup(void **state)
{
	char err[128];

	(void)state;
	memset(&map, 0, sizeof(map));
	return natmap_add_spec(&map, P "=" PUB, err, sizeof(err));
}

/* Both pinholes of a stream, in either order: one add of both flows. */
static void test_stream_both_ways(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole in = in_ph(PUB, 20000, 20000), out = out_ph(30000, 20000);
	struct fp_change c;
	char buf[512];

	(void)state;
	fp_sync_pin(s, true, &in);
	assert_false(fp_sync_take(s, &c));	/* one direction only: nothing */
	fp_sync_pin(s, true, &out);
	assert_true(fp_sync_take(s, &c));
	assert_true(c.add);
	assert_int_equal(c.cookie, 101);
	assert_int_equal(c.in.cookie, 101);
	assert_int_equal(c.out.cookie, 101);
	line(&c.in, buf, sizeof(buf));
	assert_non_null(strstr(buf, "match=" PUB ":20000 src=" R " dnat=" P " "));
	line(&c.out, buf, sizeof(buf));
	assert_non_null(strstr(buf, "match=" R ":30000 src=" P " snat=" PUB " "));
	assert_true(c.in.flags & SIPNAT_FP_F_OWNED);
	assert_int_equal(c.in.timeout_s, 60);
	assert_false(fp_sync_take(s, &c));
	/* A refresh of an open pinhole changes nothing. */
	fp_sync_pin(s, true, &out);
	fp_sync_pin(s, true, &in);
	assert_false(fp_sync_take(s, &c));
	fp_sync_free(s);

	s = new_sync();
	fp_sync_pin(s, true, &out);
	fp_sync_pin(s, true, &in);
	assert_true(fp_sync_take(s, &c));
	assert_true(c.add);
	assert_false(fp_sync_take(s, &c));
	fp_sync_free(s);
}

/* RTP and RTCP: two streams, each outbound pinhole with the inbound one
 * whose dport is its sport, whatever the order of the intents. */
static void test_rtp_rtcp_pairing(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole pins[4] = {
		out_ph(30001, 20001), in_ph(PUB, 20000, 20000),
		in_ph(PUB, 20001, 20001), out_ph(30000, 20000),
	};
	struct fp_change c;
	int adds = 0;
	uint64_t cookies[2] = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++)
		fp_sync_pin(s, true, &pins[i]);
	while (fp_sync_take(s, &c)) {
		assert_true(c.add);
		assert_true(adds < 2);
		cookies[adds++] = c.cookie;
		/* in 20000 goes with out 30000, 20001 with 30001 */
		assert_int_equal(c.out.match_dst.port - 30000, c.in.match_dst.port - 20000);
	}
	assert_int_equal(adds, 2);
	assert_true(cookies[0] != cookies[1]);
	fp_sync_free(s);
}

/* Closing either pinhole removes the stream's flows (one delete by its
 * cookie); closing the other then does nothing more. */
static void test_removal(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole in = in_ph(PUB, 20000, 20000), out = out_ph(30000, 20000);
	struct fp_change c;
	struct fp_sync_stats st;
	uint64_t cookie;

	(void)state;
	fp_sync_pin(s, true, &in);
	fp_sync_pin(s, true, &out);
	assert_true(fp_sync_take(s, &c));
	cookie = c.cookie;
	fp_sync_get_stats(s, &st);
	assert_int_equal(st.streams, 1);
	fp_sync_pin(s, false, &in);
	assert_true(fp_sync_take(s, &c));
	assert_false(c.add);
	assert_int_equal(c.cookie, cookie);
	fp_sync_pin(s, false, &out);
	assert_false(fp_sync_take(s, &c));
	fp_sync_get_stats(s, &st);
	assert_int_equal(st.streams, 0);
	assert_int_equal(st.removed, 1);

	/* Reopened: a new stream with a new cookie. */
	fp_sync_pin(s, true, &in);
	fp_sync_pin(s, true, &out);
	assert_true(fp_sync_take(s, &c));
	assert_true(c.add);
	assert_true(c.cookie != cookie);
	/* Opened and closed before the module heard of it: nothing at all. */
	fp_sync_pin(s, false, &out);
	assert_true(fp_sync_take(s, &c));	/* the delete of the one above */
	assert_false(c.add);
	fp_sync_pin(s, true, &out);
	fp_sync_pin(s, false, &in);
	assert_false(fp_sync_take(s, &c));
	/* Closing a pinhole nobody opened is harmless. */
	fp_sync_pin(s, false, &in);
	assert_false(fp_sync_take(s, &c));
	fp_sync_free(s);
}

/* Masquerade/PAT: the public port is the pinhole's pub, not the map's;
 * the inside address needs no map entry, and the ports are translated. */
static void test_pub_port_translation(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole in = in_ph("203.0.113.1", 40002, 20000), out = out_ph(30000, 20000);
	struct fp_change c;
	char buf[512];

	(void)state;
	in.dst.u.v4.s_addr = htonl(0x0a000063);	/* 10.0.0.99: not in the map */
	out.src = in.dst;
	fp_sync_pin(s, true, &out);
	fp_sync_pin(s, true, &in);
	assert_true(fp_sync_take(s, &c));
	line(&c.in, buf, sizeof(buf));
	assert_non_null(strstr(buf, "match=203.0.113.1:40002 src=" R " dnat=10.0.0.99:20000 "));
	line(&c.out, buf, sizeof(buf));
	assert_non_null(strstr(buf, "match=" R ":30000 src=10.0.0.99:20000 snat=203.0.113.1:40002 "));
	fp_sync_free(s);
}

/* What makes no flow: TCP, an outbound pinhole without sport or whose
 * sport names no inbound one, another remote. */
static void test_no_stream(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole in = in_ph(PUB, 20000, 20000);
	struct pinhole tcp_in = in, tcp_out = out_ph(30000, 20000);
	struct pinhole nosport = out_ph(30000, 0), wrong = out_ph(30000, 20002);
	struct pinhole other = ph(P, "198.51.100.30", 30000);
	struct fp_change c;

	(void)state;
	tcp_in.l4proto = tcp_out.l4proto = IPPROTO_TCP;
	fp_sync_pin(s, true, &tcp_in);
	fp_sync_pin(s, true, &tcp_out);
	fp_sync_pin(s, true, &in);
	fp_sync_pin(s, true, &nosport);
	fp_sync_pin(s, true, &wrong);
	other.sport = 20000;
	fp_sync_pin(s, true, &other);
	assert_false(fp_sync_take(s, &c));
	fp_sync_free(s);
}

/* The tick's decision: a direction whose packets grew gets its pinhole
 * refreshed, at most every timeout/4; an idle one does not. */
static void test_refresh(void **state)
{
	struct fp_sync *s = new_sync();
	struct pinhole in = in_ph(PUB, 20000, 20000), out = out_ph(30000, 20000), r;
	struct fp_change c;
	struct fp_flow f;
	char buf[4096];

	(void)state;
	fp_sync_pin(s, true, &in);
	fp_sync_pin(s, true, &out);
	assert_true(fp_sync_take(s, &c));
	f = c.in;
	f.id = 7;
	f.st.packets = 10;
	f.st.bytes = 2000;
	assert_true(fp_sync_seen(s, &f, 20000, &r));
	assert_int_equal(r.dport, 20000);	/* the inbound pinhole */
	assert_false(fp_sync_seen(s, &f, 21000, &r));	/* no new packets */
	f.st.packets = 20;
	assert_false(fp_sync_seen(s, &f, 21000, &r));	/* too soon (15 s) */
	assert_true(fp_sync_seen(s, &f, 35000, &r));
	f = c.out;
	f.id = 8;
	assert_false(fp_sync_seen(s, &f, 40000, &r));	/* no packets out */
	f.st.packets = 3;
	assert_true(fp_sync_seen(s, &f, 40000, &r));
	assert_int_equal(r.dport, 30000);
	f.cookie = 999;					/* not ours */
	f.st.packets = 50;
	assert_false(fp_sync_seen(s, &f, 90000, &r));

	assert_true(fp_sync_format(s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"dir\": \"in\""));
	assert_non_null(strstr(buf, "\"packets\": 20, \"bytes\": 2000"));
	assert_non_null(strstr(buf, "\"dir\": \"out\""));
	assert_true(fp_sync_format(s, false, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "fastpath-flow dir=in id=7 match=" PUB ":20000"));
	/* Too small for one object: nothing rather than half of one. */
	assert_int_equal(fp_sync_format(s, true, buf, 40), 0);
	assert_string_equal(buf, "");
	fp_sync_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_stream_both_ways, setup),
		cmocka_unit_test_setup(test_rtp_rtcp_pairing, setup),
		cmocka_unit_test_setup(test_removal, setup),
		cmocka_unit_test_setup(test_pub_port_translation, setup),
		cmocka_unit_test_setup(test_no_stream, setup),
		cmocka_unit_test_setup(test_refresh, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
