/* Unit tests of sdp_scan.c: lines (CRLF, bare LF, blank lines), c=/o=/m=,
 * a=rtcp with and without address, candidates, multipart splitting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sdp_scan.h"

#define U(s) ((const uint8_t *)(s))

static bool span_is(const char *m, struct ss_span s, const char *want)
{
	return s.len == strlen(want) && memcmp(m + s.off, want, s.len) == 0;
}

#define assert_span(m, s, want)                                                     \
	do {                                                                        \
		if (!span_is(m, s, want))                                           \
			fail_msg("span '%.*s' != '%s'", (int)(s).len, (m) + (s).off, want); \
	} while (0)

static void test_lines(void **state)
{
	static const char b[] = "v=0\r\no=- 1 2 IN IP6 fd00::5\n\r\n"
				"c=IN IP4 224.2.1.1/127/3\r\nm=video 49170/2 RTP/AVP 31\r\nbad\r\n";
	struct sdp_line l;
	struct sdp_addr c;
	struct sdp_media m;
	size_t pos = 0, end = strlen(b);

	assert_int_equal(sdp_next_line(U(b), &pos, end, &l), 1);
	assert_int_equal(l.type, 'v');
	assert_int_equal(sdp_next_line(U(b), &pos, end, &l), 1);
	assert_int_equal(l.type, 'o');
	assert_int_equal(sdp_parse_origin(U(b), l.val, &c), 0);
	assert_true(c.ip6);
	assert_true(c.is_literal);
	assert_span(b, c.addr, "fd00::5");
	assert_int_equal(sdp_next_line(U(b), &pos, end, &l), 1);	/* blank skipped */
	assert_int_equal(l.type, 'c');
	assert_int_equal(sdp_parse_conn(U(b), l.val, &c), 0);
	assert_span(b, c.addr, "224.2.1.1");
	assert_int_equal(sdp_next_line(U(b), &pos, end, &l), 1);
	assert_int_equal(sdp_parse_media(U(b), l.val, &m), 0);
	assert_span(b, m.media, "video");
	assert_span(b, m.port, "49170");
	assert_int_equal(m.portnum, 49170);
	assert_int_equal(m.nports, 2);
	assert_span(b, m.proto, "RTP/AVP");
	assert_int_equal(sdp_next_line(U(b), &pos, end, &l), -1);
}

static void test_conn_kinds(void **state)
{
	struct sdp_addr c;
	static const char name[] = "IN IP4 media.example.com";
	static const char wrongfam[] = "IN IP4 ::1";
	static const char other[] = "ATM NSAP 47.0000";

	assert_int_equal(sdp_parse_conn(U(name), (struct ss_span){ 0, strlen(name) }, &c), 0);
	assert_false(c.is_literal);
	assert_int_equal(sdp_parse_conn(U(wrongfam), (struct ss_span){ 0, strlen(wrongfam) }, &c), 0);
	assert_false(c.is_literal);
	assert_int_equal(sdp_parse_conn(U(other), (struct ss_span){ 0, strlen(other) }, &c), -1);
	/* an embedded NUL is not an address (addr.c) */
	assert_int_equal(sdp_parse_conn(U("IN IP4 10.0.0.5\0x"), (struct ss_span){ 0, 17 }, &c), 0);
	assert_false(c.is_literal);
}

static void test_rtcp_candidate(void **state)
{
	static const char a1[] = "rtcp:53020";
	static const char a2[] = "rtcp:53020 IN IP6 2001:db8::1";
	static const char a3[] = "candidate:1 1 UDP 2130706431 10.0.1.1 8998 typ host";
	static const char a4[] = "remote-candidates:1 192.0.2.3 45664 2 192.0.2.3 45665";
	struct sdp_rtcp r;
	struct sdp_cand k;

	assert_true(sdp_attr_is(U(a1), (struct ss_span){ 0, strlen(a1) }, "rtcp"));
	assert_false(sdp_attr_is(U("rtcp-mux"), (struct ss_span){ 0, 8 }, "rtcp"));
	assert_int_equal(sdp_parse_rtcp(U(a1), (struct ss_span){ 0, strlen(a1) }, &r), 0);
	assert_int_equal(r.portnum, 53020);
	assert_false(r.has_addr);
	assert_int_equal(sdp_parse_rtcp(U(a2), (struct ss_span){ 0, strlen(a2) }, &r), 0);
	assert_true(r.has_addr);
	assert_span(a2, r.addr.addr, "2001:db8::1");
	assert_int_equal(sdp_parse_candidate(U(a3), (struct ss_span){ 0, strlen(a3) }, &k), 0);
	assert_span(a3, k.addr, "10.0.1.1");
	assert_int_equal(k.portnum, 8998);
	assert_int_equal(sdp_remote_candidate(U(a4), (struct ss_span){ 0, strlen(a4) }, 1, &k), 1);
	assert_span(a4, k.port, "45665");
	assert_int_equal(sdp_remote_candidate(U(a4), (struct ss_span){ 0, strlen(a4) }, 2, &k), 0);
}

static void test_multipart(void **state)
{
	static const char ct[] = "multipart/mixed; boundary=\"b1\"";
	static const char body[] = "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
				   "--b1\nCONTENT-TYPE: Application/SDP\n\nv=0\n"
				   "--b1--\r\nepilogue";
	struct ss_span b;
	struct mime_part p[4];

	assert_true(ct_is_multipart(U(ct), (struct ss_span){ 0, strlen(ct) }, &b));
	assert_span(ct, b, "b1");
	/* the boundary text sits before the body in the same buffer */
	{
		static const char all[] = "b1\r\n";
		struct ss_span bs = { 0, 2 };
		char buf[256];

		snprintf(buf, sizeof(buf), "%s%s", all, body);
		assert_int_equal(mime_split(U(buf), (struct ss_span){ 4, strlen(body) }, bs, p, 4), 2);
		assert_false(p[0].is_sdp);
		assert_span(buf, p[0].body, "hi");
		assert_true(p[1].is_sdp);
		assert_span(buf, p[1].body, "v=0");
		assert_int_equal(mime_split(U(buf), (struct ss_span){ 4, strlen(body) - 14 }, bs, p, 4),
				 -1);	/* no closing delimiter */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_conn_kinds),
		cmocka_unit_test(test_rtcp_candidate),
		cmocka_unit_test(test_multipart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
