/* Unit tests of the rewrite core (rewrite.c, sdp_rewrite.c): every rule of
 * the map with exact expected bytes, idempotence, the inverse, and the
 * corpus: every invalid message passes through byte-identical. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "rewrite.h"

static struct natmap map;
static struct arena arena;
static char outbuf[RW_MAX_MESSAGE + 1];

static void map_reset(void)
{
	memset(&map, 0, sizeof(map));
}

static void add_map(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_spec(&map, spec, err, sizeof(err)), 0);
}

static void add_name(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_name(&map, spec, err, sizeof(err)), 0);
}

static void add_media(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_media_ports(&map, spec, err, sizeof(err)), 0);
}

/* Runs the core; returns the output as a NUL-terminated string. */
static const char *rw_full(const char *msg, size_t len, enum rw_dir dir, bool fromto,
			   bool strict, enum rw_transport tr, struct rw_result *res)
{
	struct rw_config cfg = { .map = &map, .rewrite_from_to = fromto, .strict = strict };
	struct rw_input in = { .msg = (const uint8_t *)msg, .len = len, .dir = dir,
			       .transport = tr };

	arena_reset(&arena);
	rw_rewrite(&cfg, &in, &arena, res);
	assert_true(res->out_len <= RW_MAX_MESSAGE);
	memcpy(outbuf, res->out, res->out_len);
	outbuf[res->out_len] = '\0';
	return outbuf;
}

static const char *rw(const char *msg, enum rw_dir dir, struct rw_result *res)
{
	return rw_full(msg, strlen(msg), dir, false, false, RW_UDP, res);
}

/* out must equal want; rewriting want again changes nothing. */
static void expect(const char *msg, enum rw_dir dir, const char *want)
{
	struct rw_result res;
	char *copy;

	rw(msg, dir, &res);
	assert_string_equal(outbuf, want);
	assert_int_equal(res.status, strcmp(msg, want) ? RW_REWRITTEN : RW_UNCHANGED);
	copy = strdup(outbuf);
	rw(copy, dir, &res);
	assert_int_equal(res.status, RW_UNCHANGED);
	assert_string_equal(outbuf, want);
	free(copy);
}

static int setup(void **state)
{
	map_reset();
	return arena_init(&arena, ARENA_DEFAULT_SIZE);
}

static int teardown(void **state)
{
	arena_free(&arena);
	return 0;
}

#define INVITE_HDRS(ruri, via, contact)                                              \
	"INVITE " ruri " SIP/2.0\r\n"                                                \
	"Via: SIP/2.0/UDP " via ";branch=z9hG4bK776asdhds\r\n"                       \
	"Max-Forwards: 70\r\n"                                                       \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                                   \
	"From: Alice <sip:alice@10.0.0.5>;tag=1928301774\r\n"                        \
	"Call-ID: a84b4c76e66710@10.0.0.5\r\n"                                       \
	"CSeq: 314159 INVITE\r\n"                                                    \
	"Contact: <sip:alice@" contact ">\r\n"

static void test_basic_out_in(void **state)
{
	static const char sdp_priv[] =
		"v=0\r\n"
		"o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n"
		"s=-\r\n"
		"c=IN IP4 10.0.0.5\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	static const char sdp_pub[] =
		"v=0\r\n"
		"o=alice 2890844526 2890844526 IN IP4 203.0.113.5\r\n"
		"s=-\r\n"
		"c=IN IP4 203.0.113.5\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	char in[2048], want[2048];
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	snprintf(in, sizeof(in),
		 INVITE_HDRS("sip:bob@10.0.0.9", "10.0.0.5:5060", "10.0.0.5:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_priv), sdp_priv);
	snprintf(want, sizeof(want),
		 INVITE_HDRS("sip:bob@10.0.0.9", "203.0.113.5:5060", "203.0.113.5:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_pub), sdp_pub);
	expect(in, RW_OUT, want);
	rw(in, RW_OUT, &res);
	assert_int_equal(res.sip.n_media, 1);
	assert_string_equal(res.sip.media[0].type, "audio");
	assert_int_equal(res.sip.media[0].orig.port, 49170);
	assert_int_equal(res.sip.media[0].rewritten.port, 49170);
	assert_string_equal(res.sip.call_id, "a84b4c76e66710@10.0.0.5");
	assert_string_equal(res.sip.from_tag, "1928301774");
	assert_string_equal(res.sip.to_tag, "");
	assert_string_equal(res.sip.method, "INVITE");
	assert_int_equal(res.sip.cseq, 314159);
	assert_true(res.sip.has_sdp);
}

/* Port address translation (pat.c) hands the core a one-entry map per
 * message: signalling port by the map's port translation, media ports by
 * media_pairs[] (leased, not linear; pairs win over a range).  Via,
 * Contact (no port: the default 5060), m= and a=rtcp all carry the leased
 * ports, and the inverse restores the private view. */
static void test_media_pairs(void **state)
{
	static const char sdp_priv[] =
		"v=0\r\n"
		"o=- 1 1 IN IP4 10.0.0.2\r\n"
		"s=-\r\n"
		"c=IN IP4 10.0.0.2\r\n"
		"t=0 0\r\n"
		"m=audio 6000 RTP/AVP 0\r\n"
		"a=rtcp:6001\r\n"
		"m=video 6002 RTP/AVP 96\r\n";
	static const char sdp_pub[] =
		"v=0\r\n"
		"o=- 1 1 IN IP4 203.0.113.20\r\n"
		"s=-\r\n"
		"c=IN IP4 203.0.113.20\r\n"
		"t=0 0\r\n"
		"m=audio 40010 RTP/AVP 0\r\n"
		"a=rtcp:40011\r\n"
		"m=video 6002 RTP/AVP 96\r\n";
	char in[2048], want[2048];
	struct rw_result res;

	add_map("10.0.0.2:5060=203.0.113.20:40002");
	add_media("10.0.0.2:6000-6001=203.0.113.20:30000");	/* pairs win */
	map.e[0].media_pairs[0] = (struct natmap_port_pair){ 6000, 40010 };
	map.e[0].media_pairs[1] = (struct natmap_port_pair){ 6001, 40011 };
	map.e[0].n_media_pairs = 2;
	snprintf(in, sizeof(in),
		 INVITE_HDRS("sip:bob@198.51.100.30", "10.0.0.2:5060", "10.0.0.2")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_priv), sdp_priv);
	snprintf(want, sizeof(want),
		 INVITE_HDRS("sip:bob@198.51.100.30", "203.0.113.20:40002",
			     "203.0.113.20:40002")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_pub), sdp_pub);
	expect(in, RW_OUT, want);
	rw(in, RW_OUT, &res);
	assert_int_equal(res.sip.n_media, 2);
	assert_int_equal(res.sip.media[0].orig.port, 6000);
	assert_int_equal(res.sip.media[0].rewritten.port, 40010);
	assert_int_equal(res.sip.media[0].rtcp_orig, 6001);
	assert_int_equal(res.sip.media[0].rtcp_rewritten, 40011);
	assert_int_equal(res.sip.media[1].rewritten.port, 6002);

	/* The inverse: the registrar's INVITE to the public contact. */
	snprintf(in, sizeof(in),
		 INVITE_HDRS("sip:alice@203.0.113.20:40002", "198.51.100.30:5060",
			     "198.51.100.30:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_pub), sdp_pub);
	snprintf(want, sizeof(want),
		 INVITE_HDRS("sip:alice@10.0.0.2:5060", "198.51.100.30:5060",
			     "198.51.100.30:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_priv), sdp_priv);
	expect(in, RW_IN, want);
}

/* FQDN in SIP headers (SDP keeps the IP), port translation both ways. */
static void test_fqdn_port(void **state)
{
	static const char in_out[] =
		"REGISTER sip:registrar.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.5:5062;rport;branch=z9hG4bKnashds7\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=456248\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"Contact: <sip:alice@10.0.0.5:5062;transport=udp>;expires=7200;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want_out[] =
		"REGISTER sip:registrar.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP sip.example.net:5060;rport;branch=z9hG4bKnashds7\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=456248\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"Contact: <sip:alice@sip.example.net:5060;transport=udp>;expires=7200;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char req_in[] =
		"INVITE sip:alice@sip.example.net SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1\r\n"
		"Route: <sip:203.0.113.5;lr>\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:bob@example.org>;tag=1\r\n"
		"Call-ID: x1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want_in[] =
		"INVITE sip:alice@10.0.0.5:5062 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1\r\n"
		"Route: <sip:10.0.0.5:5062;lr>\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:bob@example.org>;tag=1\r\n"
		"Call-ID: x1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";

	add_map("10.0.0.5:5062=203.0.113.5:5060");
	add_name("203.0.113.5=sip.example.net");
	add_media("10.0.0.5:20000-20999=203.0.113.5:40000");
	expect(in_out, RW_OUT, want_out);
	expect(req_in, RW_IN, want_in);
}

/* A message with Content-Length filled in: hdrs ends without the CL line. */
static char *with_body(const char *hdrs, const char *ctype, const char *body)
{
	static char bufs[4][8192];
	static int k;
	char *b = bufs[k++ & 3];

	snprintf(b, 8192, "%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", hdrs, ctype,
		 strlen(body), body);
	return b;
}

/* out gives pub, in gives priv back; both idempotent. */
static void expect_pair(const char *priv, const char *pub)
{
	char *p = strdup(priv), *q = strdup(pub);

	expect(p, RW_OUT, q);
	expect(q, RW_IN, p);
	free(p);
	free(q);
}

#define RESP_HDRS(via, contact, rr)                                                  \
	"SIP/2.0 200 OK\r\n"                                                         \
	"Via: SIP/2.0/UDP " via ";branch=z9hG4bK-1\r\n"                              \
	"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-0\r\n"                         \
	"Record-Route: " rr "\r\n"                                                   \
	"To: <sip:bob@example.com>;tag=b1\r\n"                                       \
	"From: <sip:alice@example.org>;tag=a1\r\n"                                   \
	"Call-ID: c-1\r\n"                                                           \
	"CSeq: 7 INVITE\r\n"                                                         \
	"Contact: " contact "\r\n"

/* A 200 OK from the inside answers an outside INVITE: Contact, Record-Route
 * and SDP change, the Vias (the outside's) do not; and back. */
static void test_response_inverse(void **state)
{
	static const char sdp_priv[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
				       "t=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtcp:20001\r\n";
	static const char sdp_pub[] = "v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\n"
				      "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtcp:40001\r\n";
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	add_media("10.0.0.5:20000-20999=203.0.113.5:40000");
	expect_pair(with_body(RESP_HDRS("198.51.100.9", "<sip:bob@10.0.0.5:5060>;expires=60",
					"<sip:p.example.com;lr>, <sip:10.0.0.5;lr>"),
			      "application/sdp", sdp_priv),
		    with_body(RESP_HDRS("198.51.100.9", "<sip:bob@203.0.113.5:5060>;expires=60",
					"<sip:p.example.com;lr>, <sip:203.0.113.5;lr>"),
			      "application/sdp", sdp_pub));
	rw(with_body(RESP_HDRS("198.51.100.9", "<sip:bob@10.0.0.5>", "<sip:x>"), "application/sdp",
		     sdp_priv), RW_OUT, &res);
	assert_int_equal(res.status, RW_REWRITTEN);
	assert_int_equal(res.sip.status, 200);
	assert_string_equal(res.sip.method, "INVITE");
	assert_string_equal(res.sip.to_tag, "b1");
	assert_int_equal(res.sip.n_media, 1);
	assert_int_equal(res.sip.media[0].orig.port, 20000);
	assert_int_equal(res.sip.media[0].rewritten.port, 40000);
	assert_int_equal(res.sip.media[0].rtcp_orig, 20001);
	assert_int_equal(res.sip.media[0].rtcp_rewritten, 40001);
}

/* Responses coming in: top Via sent-by, received= and rport= back to the
 * private view (RFC 3581 policy in rewrite.c); a second Via is left. */
static void test_via_received_rport(void **state)
{
	static const char in[] =
		"SIP/2.0 401 Unauthorized\r\n"
		"v: SIP/2.0/UDP sip.example.net;rport=5060;received=203.0.113.5;branch=z9hG4bK1,"
		" SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK0\r\n"
		"To: <sip:a@example.com>;tag=t\r\nf: <sip:a@example.com>;tag=f\r\n"
		"i: x\r\nCSeq: 2 REGISTER\r\nl: 0\r\n\r\n";
	static const char want[] =
		"SIP/2.0 401 Unauthorized\r\n"
		"v: SIP/2.0/UDP 10.0.0.5:5062;rport=5062;received=10.0.0.5;branch=z9hG4bK1,"
		" SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK0\r\n"
		"To: <sip:a@example.com>;tag=t\r\nf: <sip:a@example.com>;tag=f\r\n"
		"i: x\r\nCSeq: 2 REGISTER\r\nl: 0\r\n\r\n";
	static const char other[] =
		"SIP/2.0 401 Unauthorized\r\n"
		"Via: SIP/2.0/UDP 198.51.100.7;rport=5060;received=203.0.113.5;branch=z9hG4bK1\r\n"
		"To: <sip:a@example.com>;tag=t\r\nFrom: <sip:a@example.com>;tag=f\r\n"
		"Call-ID: x\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";

	add_map("10.0.0.5:5062=203.0.113.5:5060");
	add_name("203.0.113.5=sip.example.net");
	expect(in, RW_IN, want);
	expect(other, RW_IN, other);	/* not our sent-by: received stays */
}

/* Every Contact of a list, Refer-To, From/To only when configured, compact
 * forms, folding, bare LF (kept). */
static void test_lists_compact_lf(void **state)
{
	static const char in[] =
		"REFER sip:bob@198.51.100.2 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r\n"
		"From: <sip:alice@10.0.0.5>;tag=a\n"
		"t: <sip:bob@198.51.100.2>\n"
		"Call-ID: r1@10.0.0.5\n"
		"CSeq: 3 REFER\n"
		"m: <sip:alice@10.0.0.5>;q=0.5,\n"
		" \"A, B\" <sip:alice@10.0.0.6:5070;ob>;reg-id=1, <sip:x@198.51.100.3>\n"
		"r: <sip:carol@10.0.0.6?Replaces=abc%40def%3Bto-tag%3D1>\n"
		"l: 0\n\n";
	static const char want[] =
		"REFER sip:bob@198.51.100.2 SIP/2.0\n"
		"Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-r\n"
		"From: <sip:alice@10.0.0.5>;tag=a\n"
		"t: <sip:bob@198.51.100.2>\n"
		"Call-ID: r1@10.0.0.5\n"
		"CSeq: 3 REFER\n"
		"m: <sip:alice@203.0.113.5>;q=0.5,\n"
		" \"A, B\" <sip:alice@203.0.113.6:5070;ob>;reg-id=1, <sip:x@198.51.100.3>\n"
		"r: <sip:carol@203.0.113.6?Replaces=abc%40def%3Bto-tag%3D1>\n"
		"l: 0\n\n";
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	add_map("10.0.0.6=203.0.113.6");
	expect(in, RW_OUT, want);
	rw_full(in, strlen(in), RW_OUT, true, false, RW_UDP, &res);
	assert_non_null(strstr(outbuf, "From: <sip:alice@203.0.113.5>;tag=a\n"));
	assert_non_null(strstr(outbuf, "Call-ID: r1@10.0.0.5\n"));
}

/* Multipart: only the application/sdp part changes, boundaries stay. */
static void test_multipart(void **state)
{
	static const char hdrs[] =
		"INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-m\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: m1\r\nCSeq: 1 INVITE\r\n";
	static const char body_priv[] =
		"--xYzZY\r\nContent-Type: text/plain\r\n\r\nc=IN IP4 10.0.0.5\r\n"
		"--xYzZY\r\nContent-Type: application/sdp\r\n\r\n"
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"--xYzZY--\r\n";
	static const char body_pub[] =
		"--xYzZY\r\nContent-Type: text/plain\r\n\r\nc=IN IP4 10.0.0.5\r\n"
		"--xYzZY\r\nContent-Type: application/sdp\r\n\r\n"
		"v=0\r\no=- 1 1 IN IP4 203.0.113.55\r\ns=-\r\nc=IN IP4 203.0.113.55\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"--xYzZY--\r\n";
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.55");
	expect_pair(with_body(hdrs, "multipart/mixed;boundary=xYzZY", body_priv),
		    with_body(hdrs, "multipart/mixed;boundary=xYzZY", body_pub));
	rw(with_body(hdrs, "multipart/mixed; boundary=\"xYzZY\"", body_priv), RW_OUT, &res);
	assert_true(res.sip.has_sdp);
	assert_int_equal(res.sip.n_media, 1);
	rw(with_body(hdrs, "multipart/mixed;boundary=nope", body_priv), RW_OUT, &res);
	assert_int_equal(res.status, RW_PASSTHROUGH);
	assert_int_equal(res.reason, RW_R_BAD_MULTIPART);
}

/* ICE: the host candidate equal to c=/m= changes with them; srflx and
 * foreign candidates, raddr, a=crypto and a=fingerprint do not. */
static void test_ice_crypto(void **state)
{
	static const char hdrs[] =
		"INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-i\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: i1\r\nCSeq: 1 INVITE\r\n";
	static const char priv[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
		"a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
		"m=audio 20010 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
		"a=rtcp:20011 IN IP4 10.0.0.5\r\n"
		"a=candidate:1 1 UDP 2130706431 10.0.0.5 20010 typ host\r\n"
		"a=candidate:1 2 UDP 2130706430 10.0.0.5 20011 typ host\r\n"
		"a=candidate:2 1 UDP 1694498815 198.51.100.77 61000 typ srflx raddr 10.0.0.5 rport 20010\r\n"
		"a=remote-candidates:1 198.51.100.2 5000 2 198.51.100.2 5001\r\n";
	static const char pub[] =
		"v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
		"a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
		"m=audio 40010 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
		"a=rtcp:40011 IN IP4 203.0.113.5\r\n"
		"a=candidate:1 1 UDP 2130706431 203.0.113.5 40010 typ host\r\n"
		"a=candidate:1 2 UDP 2130706430 203.0.113.5 40011 typ host\r\n"
		"a=candidate:2 1 UDP 1694498815 198.51.100.77 61000 typ srflx raddr 10.0.0.5 rport 20010\r\n"
		"a=remote-candidates:1 198.51.100.2 5000 2 198.51.100.2 5001\r\n";
	/* c= is the srflx candidate: nothing of the stream changes. */
	static const char srflx[] =
		"v=0\r\no=- 1 1 IN IP4 198.51.100.77\r\ns=-\r\nc=IN IP4 198.51.100.77\r\nt=0 0\r\n"
		"m=audio 61000 RTP/AVP 0\r\n"
		"a=candidate:1 1 UDP 2130706431 10.0.0.5 20010 typ host\r\n"
		"a=candidate:2 1 UDP 1694498815 198.51.100.77 61000 typ srflx raddr 10.0.0.5 rport 20010\r\n";
	static const char srflx_pub[] =
		"v=0\r\no=- 1 1 IN IP4 198.51.100.77\r\ns=-\r\nc=IN IP4 198.51.100.77\r\nt=0 0\r\n"
		"m=audio 61000 RTP/AVP 0\r\n"
		"a=candidate:1 1 UDP 2130706431 203.0.113.5 40010 typ host\r\n"
		"a=candidate:2 1 UDP 1694498815 198.51.100.77 61000 typ srflx raddr 10.0.0.5 rport 20010\r\n";

	add_map("10.0.0.5=203.0.113.5");
	add_media("10.0.0.5:20000-20999=203.0.113.5:40000");
	expect_pair(with_body(hdrs, "application/sdp", priv), with_body(hdrs, "application/sdp", pub));
	expect(with_body(hdrs, "application/sdp", srflx), RW_OUT,
	       with_body(hdrs, "application/sdp", srflx_pub));
}

/* Several m= lines: port 0 stream and its c= untouched, hold, FQDN c=,
 * unmapped address, rtcp-mux, directions, TCP media. */
static void test_media_kinds(void **state)
{
	static const char hdrs[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-k\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>;tag=b\r\n"
		"Call-ID: k1\r\nCSeq: 1 INVITE\r\n";
	static const char priv[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\na=sendonly\r\n"
		"m=audio 5004 RTP/AVP 0\r\na=rtcp-mux\r\n"
		"m=video 0 RTP/AVP 31\r\nc=IN IP4 10.0.0.5\r\n"
		"m=image 6000 udptl t38\r\nc=IN IP4 0.0.0.0\r\n"
		"m=text 7000 RTP/AVP 98\r\nc=IN IP4 media.example.com\r\n"
		"m=application 9 TCP/MSRP *\r\nc=IN IP4 192.0.2.99\r\na=inactive\r\n";
	static const char pub[] =
		"v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\na=sendonly\r\n"
		"m=audio 5004 RTP/AVP 0\r\na=rtcp-mux\r\n"
		"m=video 0 RTP/AVP 31\r\nc=IN IP4 10.0.0.5\r\n"
		"m=image 6000 udptl t38\r\nc=IN IP4 0.0.0.0\r\n"
		"m=text 7000 RTP/AVP 98\r\nc=IN IP4 media.example.com\r\n"
		"m=application 9 TCP/MSRP *\r\nc=IN IP4 192.0.2.99\r\na=inactive\r\n";
	struct rw_result res;
	const struct rw_media *m;

	add_map("10.0.0.5=203.0.113.5");
	expect(with_body(hdrs, "application/sdp", priv), RW_OUT,
	       with_body(hdrs, "application/sdp", pub));
	rw(with_body(hdrs, "application/sdp", priv), RW_OUT, &res);
	assert_int_equal(res.sip.n_media, 5);
	m = res.sip.media;
	assert_string_equal(m[0].type, "audio");
	assert_true(m[0].rtcp_mux);
	assert_int_equal(m[0].mdir, RW_SENDONLY);
	assert_int_equal(m[0].rewritten.addr.u.v4.s_addr, htonl(0xcb007105));
	assert_int_equal(m[1].orig.port, 0);
	assert_int_equal(m[1].rewritten.port, 0);
	assert_true(m[2].hold);
	assert_string_equal(m[2].proto, "udptl");
	assert_true(m[3].conn_is_name);
	assert_int_equal(m[4].l4proto, IPPROTO_TCP);
	assert_int_equal(m[4].mdir, RW_INACTIVE);
	assert_int_equal(m[4].rewritten.addr.u.v4.s_addr, htonl(0xc0000263));
}

/* IPv6 mapping in headers (brackets) and SDP (bare), port translation. */
static void test_ipv6(void **state)
{
	static const char hdrs_priv[] =
		"INVITE sip:bob@[2001:db8::99] SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [fd00::5]:5062;branch=z9hG4bK-6\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: v6\r\nCSeq: 1 INVITE\r\nContact: <sip:a@[fd00::5]:5062>\r\n";
	static const char hdrs_pub[] =
		"INVITE sip:bob@[2001:db8::99] SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK-6\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: v6\r\nCSeq: 1 INVITE\r\nContact: <sip:a@[2001:db8::5]:5060>\r\n";
	static const char sdp_priv[] =
		"v=0\r\no=- 1 1 IN IP6 fd00::5\r\ns=-\r\nc=IN IP6 fd00::5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	static const char sdp_pub[] =
		"v=0\r\no=- 1 1 IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

	add_map("[fd00::5]:5062=[2001:db8::5]:5060");
	expect(with_body(hdrs_priv, "application/sdp", sdp_priv), RW_OUT,
	       with_body(hdrs_pub, "application/sdp", sdp_pub));
}

/* FQDN: headers get the name, SDP the IP; a name in c= is never touched;
 * Content-Length follows the body (here it grows). */
static void test_fqdn_sdp_clen(void **state)
{
	static const char hdrs_priv[] =
		"INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK-f\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: f1\r\nCSeq: 1 INVITE\r\nContact: <sips:a@10.0.0.5>\r\n";
	static const char hdrs_pub[] =
		"INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
		"Via: SIP/2.0/TCP pbx.example.net;branch=z9hG4bK-f\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: f1\r\nCSeq: 1 INVITE\r\nContact: <sips:a@pbx.example.net>\r\n";
	static const char sdp_priv[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	static const char sdp_pub[] =
		"v=0\r\no=- 1 1 IN IP4 203.0.113.255\r\ns=-\r\nc=IN IP4 203.0.113.255\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct rw_result res;
	char *p;

	add_map("10.0.0.5=203.0.113.255");
	add_name("203.0.113.255=pbx.example.net");
	p = with_body(hdrs_priv, "application/sdp", sdp_priv);
	rw_full(p, strlen(p), RW_OUT, false, false, RW_TCP, &res);
	assert_string_equal(outbuf, with_body(hdrs_pub, "application/sdp", sdp_pub));
	assert_non_null(strstr(outbuf, "Content-Length: 95\r\n"));
	assert_non_null(strstr(p, "Content-Length: 85\r\n"));
	/* and back: names in headers, the IP in SDP, to the private view */
	p = strdup(outbuf);
	expect(p, RW_IN, with_body("INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
				   "Via: SIP/2.0/TCP pbx.example.net;branch=z9hG4bK-f\r\n"
				   "From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
				   "Call-ID: f1\r\nCSeq: 1 INVITE\r\nContact: <sips:a@10.0.0.5>\r\n",
				   "application/sdp", sdp_priv));
	free(p);
}

/* Nothing of the map: unchanged and out == input; too big: passthrough. */
static void test_unchanged_toobig(void **state)
{
	static char big[RW_MAX_MESSAGE + 2];
	static const char msg[] =
		"OPTIONS sip:x@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-u\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
		"Call-ID: u1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct rw_config cfg = { .map = &map };
	struct rw_input in = { .msg = (const uint8_t *)msg, .len = strlen(msg) };
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	rw_rewrite(&cfg, &in, &arena, &res);
	assert_int_equal(res.status, RW_UNCHANGED);
	assert_ptr_equal(res.out, msg);
	assert_int_equal(res.n_edits, 0);
	memset(big, 'a', sizeof(big));
	memcpy(big, msg, strlen(msg));
	in.msg = (const uint8_t *)big;
	in.len = sizeof(big);
	rw_rewrite(&cfg, &in, &arena, &res);
	assert_int_equal(res.status, RW_PASSTHROUGH);
	assert_int_equal(res.reason, RW_R_TOO_BIG);
	assert_ptr_equal(res.out, big);
	assert_string_equal(rw_reason_name(RW_R_TOO_BIG), "too-big");
}

/* An edit replaces only what must change: digits (a port, Content-Length)
 * or host[:port] naming an address of the side the message leaves. */
static void check_edit_spans(const char *name, const char *msg, const struct rw_result *res,
			     enum rw_dir dir)
{
	for (size_t i = 0; i < res->n_edits; i++) {
		const struct rw_edit *e = &res->edits[i];
		struct sn_endpoint ep;
		const char *old = msg + e->off;
		size_t n = e->len, k;

		for (k = 0; k < n && old[k] >= '0' && old[k] <= '9'; k++)
			;
		if (k == n && n > 0)
			continue;
		if (sn_endpoint_parse(&ep, old, n) == 0 &&
		    (dir == RW_OUT ? natmap_by_priv(&map, &ep.addr) : natmap_by_pub(&map, &ep.addr)))
			continue;
		if (dir == RW_IN && natmap_by_name(&map, old, memchr(old, ':', n) ?
				   (size_t)((const char *)memchr(old, ':', n) - old) : n))
			continue;
		fail_msg("%s: edit %s replaces \"%.*s\"", name, e->where, (int)n, old);
	}
}

/* Every corpus message the core accepts, with every private address of the
 * corpus mapped: out and in are idempotent, the output scans again, and a
 * response (whose Vias out leaves alone) comes back byte-identical. */
static void test_corpus_properties(void **state)
{
	static const char *const priv[] = {
		"192.168.1.50", "192.168.1.2", "10.33.0.200", "192.168.1.60", "10.50.71.29",
		"10.5.0.10", "10.3.3.104", "10.1.1.241", "192.168.1.10", "172.21.9.155",
		"10.10.2.101", "192.168.178.22", "192.168.1.32", "192.168.0.109", "172.16.42.1",
		"10.3.3.8", "192.168.102.5", "192.168.1.8", "192.168.1.100", "192.168.0.4",
		"192.168.0.18", "172.21.40.44", "10.50.71.28", "10.5.0.1", "10.10.49.155",
		"10.10.10.155", "192.168.255.111", "192.168.1.73", "192.168.0.20", "10.0.0.100",
	};
	FILE *idx = fopen("../shared/corpus/sip/INDEX.tsv", "r");
	static char buf[RW_MAX_MESSAGE + 1], once[RW_MAX_MESSAGE + 1];
	char line[4096];
	int rewritten = 0, inverse = 0;

	if (!idx) {
		print_message("corpus not found (../shared/corpus/sip), skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "%s=100.64.0.%zu", priv[i], i + 1);
		add_map(spec);
	}
	while (fgets(line, sizeof(line), idx)) {
		char *f = strtok(line, "\t"), *tr;
		char path[512];
		struct rw_result res;
		enum rw_transport t;
		size_t n, n1;
		FILE *m;

		tr = strtok(NULL, "\t") ? strtok(NULL, "\t") : NULL;
		if (!f || !tr || strcmp(f, "file") == 0)
			continue;
		t = strcmp(tr, "UDP") ? RW_TCP : RW_UDP;
		snprintf(path, sizeof(path), "../shared/corpus/sip/%s", f);
		m = fopen(path, "rb");
		assert_non_null(m);
		n = fread(buf, 1, sizeof(buf), m);
		fclose(m);
		rw_full(buf, n, RW_OUT, false, false, t, &res);
		if (res.status == RW_PASSTHROUGH)
			continue;
		rewritten += res.status == RW_REWRITTEN;
		check_edit_spans(f, buf, &res, RW_OUT);
		n1 = res.out_len;
		memcpy(once, res.out, n1);
		rw_full(once, n1, RW_OUT, false, false, t, &res);
		if (res.status != RW_UNCHANGED)
			fail_msg("%s: out not idempotent (%s)", f, res.n_edits ? res.edits[0].where : "?");
		rw_full(once, n1, RW_IN, false, false, t, &res);
		assert_int_not_equal(res.status, RW_PASSTHROUGH);
		check_edit_spans(f, once, &res, RW_IN);
		if (buf[0] == 'S' && !memcmp(buf, "SIP/2.0 ", 8)) {
			if (res.out_len != n || memcmp(res.out, buf, n) != 0)
				fail_msg("%s: in(out(x)) != x", f);
			inverse++;
		}
		n1 = res.out_len;
		memcpy(once, res.out, n1);
		rw_full(once, n1, RW_IN, false, false, t, &res);
		if (res.status != RW_UNCHANGED)
			fail_msg("%s: in not idempotent (%s)", f, res.n_edits ? res.edits[0].where : "?");
	}
	fclose(idx);
	print_message("%d corpus messages rewritten, %d responses inverted\n", rewritten, inverse);
	assert_true(rewritten >= 20);
	assert_true(inverse >= 10);
}

/* maddr= in URIs and Via, keepalives in strict mode, map chains refused. */
static void test_maddr_keepalive_chain(void **state)
{
	static const char in[] =
		"BYE sip:bob@198.51.100.2;maddr=10.0.0.5 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.5;maddr=10.0.0.5;branch=z9hG4bK-b\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>;tag=b\r\n"
		"Call-ID: b1\r\nCSeq: 2 BYE\r\n"
		"Record-Route: <sip:p.example.com;maddr=10.0.0.5;lr>\r\nContent-Length: 0\r\n\r\n";
	static const char want[] =
		"BYE sip:bob@198.51.100.2;maddr=203.0.113.5 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.5;maddr=203.0.113.5;branch=z9hG4bK-b\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>;tag=b\r\n"
		"Call-ID: b1\r\nCSeq: 2 BYE\r\n"
		"Record-Route: <sip:p.example.com;maddr=203.0.113.5;lr>\r\nContent-Length: 0\r\n\r\n";
	struct rw_result res;
	char err[128];

	add_map("10.0.0.5=203.0.113.5");
	expect(in, RW_OUT, want);
	rw_full("\r\n\r\n", 4, RW_OUT, false, true, RW_UDP, &res);
	assert_int_equal(res.status, RW_PASSTHROUGH);
	assert_int_equal(res.reason, RW_R_EMPTY);
	{
		/* a tiny arena: our limit, forwarded even in strict mode */
		struct arena small;
		struct rw_config cfg = { .map = &map, .strict = true };
		struct rw_input inp = { .msg = (const uint8_t *)in, .len = strlen(in) };

		assert_int_equal(arena_init(&small, 4096), 0);
		rw_rewrite(&cfg, &inp, &small, &res);
		assert_int_equal(res.status, RW_PASSTHROUGH);
		assert_int_equal(res.reason, RW_R_NO_MEMORY);
		assert_ptr_equal(res.out, in);
		arena_free(&small);
	}
	rw_full("GET / HTTP/1.0\r\n\r\n", 18, RW_OUT, false, true, RW_UDP, &res);
	assert_int_equal(res.status, RW_DROP);
	assert_int_equal(res.reason, RW_R_NOT_SIP);
	assert_int_equal(natmap_add_spec(&map, "203.0.113.5=198.51.100.5", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_spec(&map, "10.0.0.9=10.0.0.5", err, sizeof(err)), -1);
}

/* Mutated corpus messages (a fixed-seed generator, bounded): whatever the
 * core decides, a passthrough is byte-identical, the output stays within
 * bounds, and a rewritten message is idempotent.  ASan/UBSan watch. */
static uint32_t rng = 0x5eed1234u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_mutations(void **state)
{
	static const char *const files[] = {
		"050-linphone-register-compact-headers.sip", "069-sipp-uac-invite.sip",
		"078-pjsua-tester-invite-ice-candidates-rtcp.sip",
		"079-pjsua-tester-invite-multipart-mixed-clutter.sip",
		"086-rfc4475-3_1_1_1-wsinv.sip", "048-patton-200-ok-vias-one-line-video-port0.sip",
		"064-pjmedia-sdp-invite-rtcp-mux-media-c.sip", "058-sofia-invite-ipv6-sdp-ip6-folded-vias.sip",
	};
	static const char bytes[] = "\r\n ,;:<>\"[]@=/0.5";
	static char orig[RW_MAX_MESSAGE + 1], buf[RW_MAX_MESSAGE + 1], once[RW_MAX_MESSAGE + 1];
	int runs = 0;

	add_map("192.168.1.8:5062=100.64.1.8:5060");
	add_map("192.168.1.50=100.64.1.50");
	add_map("192.168.1.60:5080=100.64.1.60:5060");
	add_map("192.168.0.4=100.64.0.4");
	add_map("10.10.10.155=100.64.10.155");
	add_map("192.168.178.22=100.64.178.22");
	add_map("192.168.255.111=100.64.255.111");
	add_media("192.168.0.4:4000-4999=100.64.0.4:14000");
	add_name("100.64.1.50=pbx.example.net");
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[512];
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "../shared/corpus/sip/%s", files[f]);
		if (!(fp = fopen(path, "rb"))) {
			print_message("%s missing, skipped\n", path);
			continue;
		}
		n = fread(orig, 1, sizeof(orig) - 1, fp);
		fclose(fp);
		for (int it = 0; it < 2000; it++) {
			size_t len = n;
			struct rw_result res;

			memcpy(buf, orig, n);
			for (int k = 1 + (int)(next_rand() % 4); k > 0 && len; k--) {
				size_t at = next_rand() % len;

				switch (next_rand() % 4) {
				case 0:
					buf[at] = bytes[next_rand() % (sizeof(bytes) - 1)];
					break;
				case 1:
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
					break;
				case 2:
					if (len < sizeof(buf) - 1) {
						memmove(buf + at + 1, buf + at, len - at);
						buf[at] = bytes[next_rand() % (sizeof(bytes) - 1)];
						len++;
					}
					break;
				default:
					len = at;
					break;
				}
			}
			for (int dir = RW_OUT; dir <= RW_IN; dir++) {
				rw_full(buf, len, (enum rw_dir)dir, it & 1, false, it & 2 ? RW_TCP : RW_UDP, &res);
				runs++;
				if (res.status == RW_PASSTHROUGH) {
					assert_int_equal(res.out_len, len);
					assert_memory_equal(res.out, buf, len);
					continue;
				}
				if (res.status == RW_UNCHANGED)
					continue;
				memcpy(once, res.out, res.out_len);
				len = res.out_len;
				rw_full(once, len, (enum rw_dir)dir, it & 1, false, it & 2 ? RW_TCP : RW_UDP, &res);
				if (res.status != RW_UNCHANGED)
					fail_msg("%s mutation %d dir %d: not idempotent (%s)", files[f], it, dir,
						 res.n_edits ? res.edits[0].where : rw_reason_name(res.reason));
				break;
			}
		}
	}
	print_message("%d mutated messages\n", runs);
}

/* Path (RFC 3327), LF-only SDP, odd ports with media-ports, a=rtcp without
 * an address, an a=rtcp address outside the map, To/From both ways. */
static void test_misc_rules(void **state)
{
	static const char reg[] =
		"REGISTER sip:example.com SIP/2.0\n"
		"Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-p\n"
		"Path: <sip:10.0.0.5;lr;ob>\n"
		"From: <sip:alice@example.com>;tag=f\nTo: <sip:alice@example.com>\n"
		"Call-ID: p1\nCSeq: 1 REGISTER\nContact: <sip:alice@10.0.0.7:5066>\nl: 0\n\n";
	static const char reg_pub[] =
		"REGISTER sip:example.com SIP/2.0\n"
		"Via: SIP/2.0/TCP 203.0.113.5:5060;branch=z9hG4bK-p\n"
		"Path: <sip:203.0.113.5;lr;ob>\n"
		"From: <sip:alice@example.com>;tag=f\nTo: <sip:alice@example.com>\n"
		"Call-ID: p1\nCSeq: 1 REGISTER\nContact: <sip:alice@10.0.0.7:5066>\nl: 0\n\n";
	static const char hdrs[] =
		"SIP/2.0 183 Session Progress\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-o\n"
		"From: <sip:a@10.0.0.5>;tag=a\nTo: <sip:b@203.0.113.5>;tag=b\n"
		"Call-ID: o1\nCSeq: 1 INVITE\n";
	static const char sdp_priv[] =
		"v=0\no=- 1 1 IN IP4 10.0.0.5\ns=-\nc=IN IP4 10.0.0.5\nt=0 0\n"
		"m=audio 20001 RTP/AVP 0\na=rtcp:20004\n"
		"m=video 20011 RTP/AVP 96\na=rtcp:20013 IN IP4 192.0.2.1\n"
		"m=audio 30000 RTP/AVP 0\n";
	static const char sdp_pub[] =
		"v=0\no=- 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\n"
		"m=audio 40001 RTP/AVP 0\na=rtcp:40004\n"
		"m=video 40011 RTP/AVP 96\na=rtcp:20013 IN IP4 192.0.2.1\n"
		"m=audio 30000 RTP/AVP 0\n";
	char a[2048], b[2048];
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	add_media("10.0.0.5:20000-20999=203.0.113.5:40000");
	expect(reg, RW_OUT, reg_pub);
	rw(reg_pub, RW_IN, &res);	/* a request's Via is not ours coming in */
	assert_non_null(strstr(outbuf, "Via: SIP/2.0/TCP 203.0.113.5:5060;"));
	assert_non_null(strstr(outbuf, "Path: <sip:10.0.0.5;lr;ob>\n"));
	snprintf(a, sizeof(a), "%sContent-Type: application/sdp\nContent-Length: %zu\n\n%s", hdrs,
		 strlen(sdp_priv), sdp_priv);
	snprintf(b, sizeof(b), "%sContent-Type: application/sdp\nContent-Length: %zu\n\n%s", hdrs,
		 strlen(sdp_pub), sdp_pub);
	expect(a, RW_OUT, b);
	rw(a, RW_OUT, &res);
	assert_int_equal(res.sip.n_media, 3);
	assert_int_equal(res.sip.media[0].rtcp_rewritten, 40004);
	assert_int_equal(res.sip.media[1].rtcp_orig, 20013);
	assert_int_equal(res.sip.media[1].rtcp_rewritten, 20013);
	assert_int_equal(res.sip.media[2].rewritten.port, 30000);
	/* From/To: only when configured, and then both ways */
	rw_full(a, strlen(a), RW_OUT, true, false, RW_UDP, &res);
	assert_non_null(strstr(outbuf, "From: <sip:a@203.0.113.5>;tag=a\n"));
	rw_full(a, strlen(a), RW_IN, true, false, RW_UDP, &res);
	assert_non_null(strstr(outbuf, "To: <sip:b@10.0.0.5>;tag=b\n"));
	assert_non_null(strstr(outbuf, "From: <sip:a@10.0.0.5>;tag=a\n"));
	{
		static const char pai[] =
			"INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-q\r\n"
			"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>\r\n"
			"Call-ID: q1\r\nCSeq: 1 INVITE\r\n"
			"P-Asserted-Identity: \"A\" <sip:100@10.0.0.5>, <tel:+100>\r\n"
			"Remote-Party-ID: <sip:100@10.0.0.5>;party=calling;screen=yes\r\n"
			"Content-Length: 0\r\n\r\n";

		rw(pai, RW_OUT, &res);
		assert_int_equal(res.status, RW_UNCHANGED);	/* switched off */
		rw_full(pai, strlen(pai), RW_OUT, true, false, RW_UDP, &res);
		assert_non_null(strstr(outbuf, "P-Asserted-Identity: \"A\" <sip:100@203.0.113.5>, <tel:+100>\r\n"));
		assert_non_null(strstr(outbuf, "Remote-Party-ID: <sip:100@203.0.113.5>;party=calling;screen=yes\r\n"));
	}
}

/* rw_sip.deregister: a REGISTER whose every binding ends now. */
static bool dereg(const char *contacts_and_expires)
{
	char msg[1024];
	struct rw_result res;

	snprintf(msg, sizeof(msg),
		 "REGISTER sip:198.51.100.30 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-r1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@198.51.100.30>;tag=r1\r\n"
		 "To: <sip:alice@198.51.100.30>\r\n"
		 "Call-ID: reg-1@10.0.0.5\r\n"
		 "CSeq: 7 REGISTER\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n", contacts_and_expires);
	rw(msg, RW_OUT, &res);
	assert_true(res.status == RW_REWRITTEN || res.status == RW_UNCHANGED);
	assert_int_equal(res.sip.cseq, 7);
	return res.sip.deregister;
}

static void test_deregister(void **state)
{
	struct rw_result res;

	(void)state;
	add_map("10.0.0.5:5062=203.0.113.5:5060");
	assert_true(dereg("Contact: <sip:alice@10.0.0.5:5062>\r\nExpires: 0\r\n"));
	assert_true(dereg("Contact: <sip:alice@10.0.0.5:5062>;expires=0\r\n"));
	assert_true(dereg("Contact: sip:alice@10.0.0.5:5062;expires=0\r\nExpires: 3600\r\n"));
	assert_true(dereg("Contact: *\r\nExpires: 0\r\n"));
	assert_true(dereg("m: <sip:a@10.0.0.5:5062>;expires=0, <sip:b@10.0.0.5:5062>\r\n"
			  "Expires: 00\r\n"));
	assert_false(dereg("Contact: <sip:alice@10.0.0.5:5062>\r\nExpires: 3600\r\n"));
	assert_false(dereg("Contact: <sip:alice@10.0.0.5:5062>\r\n"));
	assert_false(dereg("Expires: 0\r\n"));	/* a query */
	assert_false(dereg("Contact: <sip:alice@10.0.0.5:5062>;expires=0, "
			   "<sip:b@10.0.0.5:5062>\r\nExpires: 60\r\n"));
	/* the param inside <> belongs to the URI, not to the binding */
	assert_false(dereg("Contact: <sip:alice@10.0.0.5:5062;expires=0>\r\nExpires: 60\r\n"));
	assert_false(dereg("Contact: <sip:alice@10.0.0.5:5062>;expires=x\r\nExpires: 0\r\n"));
	assert_false(dereg("Contact: *\r\nExpires: 60\r\n"));
	/* not a REGISTER */
	rw(INVITE_HDRS("sip:bob@198.51.100.30", "10.0.0.5:5062", "10.0.0.5:5062")
	   "Expires: 0\r\nContent-Length: 0\r\n\r\n", RW_OUT, &res);
	assert_false(res.sip.deregister);
}

static void test_corpus_invalid_passthrough(void **state)
{
	FILE *idx = fopen("../shared/corpus/sip/INDEX.tsv", "r");
	char line[4096];
	int seen = 0;

	if (!idx) {
		print_message("corpus not found (../shared/corpus/sip), skipped\n");
		return;
	}
	add_map("10.0.0.1=203.0.113.1");
	add_map("192.168.1.50=203.0.113.50");
	while (fgets(line, sizeof(line), idx)) {
		char *f = strtok(line, "\t"), *valid;
		char path[512];
		static char buf[RW_MAX_MESSAGE + 1];
		struct rw_result res;
		size_t n;
		FILE *m;

		for (int k = 0; k < 3; k++)
			strtok(NULL, "\t");
		valid = strtok(NULL, "\t");
		if (!f || !valid || strcmp(valid, "torture-invalid") != 0)
			continue;
		snprintf(path, sizeof(path), "../shared/corpus/sip/%s", f);
		m = fopen(path, "rb");
		assert_non_null(m);
		n = fread(buf, 1, sizeof(buf), m);
		fclose(m);
		for (int dir = RW_OUT; dir <= RW_IN; dir++) {
			rw_full(buf, n, (enum rw_dir)dir, true, false, RW_UDP, &res);
			if (res.status != RW_PASSTHROUGH)
				fail_msg("%s: not passed through", f);
			assert_int_not_equal(res.reason, RW_OK);
			assert_int_equal(res.out_len, n);
			assert_memory_equal(res.out, buf, n);
			rw_full(buf, n, (enum rw_dir)dir, true, true, RW_UDP, &res);
			assert_int_equal(res.status, RW_DROP);
		}
		seen++;
	}
	fclose(idx);
	assert_true(seen >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_out_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fqdn_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_pairs, setup, teardown),
cmocka_unit_test_setup_teardown(test_response_inverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_via_received_rport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists_compact_lf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_crypto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fqdn_sdp_clen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_toobig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corpus_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maddr_keepalive_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misc_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corpus_invalid_passthrough, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
