/* Unit tests of ctmap.c: NFQA_CT payloads as the kernel builds them (made
 * here with libmnl) and the NAT view taken from their tuples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ctmap.h"

static struct sn_endpoint ep(const char *s)
{
	struct sn_endpoint e;

	assert_int_equal(sn_endpoint_parse(&e, s, strlen(s)), 0);
	return e;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const char *src, const char *dst)
{
	struct sn_endpoint s = ep(src), d = ep(dst);
	bool v4 = s.addr.family == AF_INET;
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16, s.addr.u.bytes);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16, d.addr.u.bytes);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(s.port));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(d.port));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* Builds an NFQA_CT payload into buf; returns its length. */
static size_t build_ct(char *buf, size_t size, const char *os, const char *od, const char *rs,
		       const char *rd)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));	/* skipped */
	put_tuple(nlh, CTA_TUPLE_ORIG, os, od);
	put_tuple(nlh, CTA_TUPLE_REPLY, rs, rd);
	return nlh->nlmsg_len - mnl_nlmsg_size(0);
}

static const void *payload(const char *buf)
{
	return buf + mnl_nlmsg_size(0);
}

static void check_ep(const struct sn_endpoint *e, const char *want)
{
	char b[SN_ADDRSTRLEN];

	sn_endpoint_format(e, b, sizeof(b));
	assert_string_equal(b, want);
}

/* Inbound call to a server behind static NAT with port translation. */
static void test_dnat_port(void **state)
{
	char buf[1024], b[SN_ADDRSTRLEN];
	struct ct_tuple o, r;
	struct ctmap_view v;
	size_t len = build_ct(buf, sizeof(buf), "198.51.100.20:5060", "203.0.113.5:5060",
			      "10.0.0.5:5062", "198.51.100.20:5060");

	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), 0);
	/* the INVITE: original direction, from outside */
	assert_int_equal(ctmap_view(&o, &r, false, &v), 0);
	assert_int_equal(v.dir, RW_IN);
	check_ep(&v.src, "198.51.100.20:5060");
	check_ep(&v.dst, "10.0.0.5:5062");
	sn_addr_format(&v.entry.priv, b, sizeof(b));
	assert_string_equal(b, "10.0.0.5");
	sn_addr_format(&v.entry.pub, b, sizeof(b));
	assert_string_equal(b, "203.0.113.5");
	assert_int_equal(v.entry.priv_port, 5062);
	assert_int_equal(v.entry.pub_port, 5060);
	assert_int_equal(v.master.outside_dir, 0);
	check_ep(&v.master.orig.dst, "203.0.113.5:5060");
	/* the 200 OK: reply direction, from inside */
	assert_int_equal(ctmap_view(&o, &r, true, &v), 0);
	assert_int_equal(v.dir, RW_OUT);
	check_ep(&v.src, "10.0.0.5:5062");
	check_ep(&v.dst, "198.51.100.20:5060");
}

/* Phone calling out through masquerade that changed its port. */
static void test_snat_masquerade(void **state)
{
	char buf[1024];
	struct ct_tuple o, r;
	struct ctmap_view v;
	size_t len = build_ct(buf, sizeof(buf), "10.0.0.10:5060", "198.51.100.20:5060",
			      "198.51.100.20:5060", "203.0.113.1:1024");

	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), 0);
	assert_int_equal(ctmap_view(&o, &r, false, &v), 0);
	assert_int_equal(v.dir, RW_OUT);
	check_ep(&v.src, "10.0.0.10:5060");
	check_ep(&v.dst, "198.51.100.20:5060");
	assert_int_equal(v.entry.priv_port, 5060);
	assert_int_equal(v.entry.pub_port, 1024);
	assert_int_equal(v.master.outside_dir, 1);
	assert_int_equal(ctmap_view(&o, &r, true, &v), 0);
	assert_int_equal(v.dir, RW_IN);
	check_ep(&v.dst, "10.0.0.10:5060");
}

/* Address-only NAT over IPv6: no ports in the entry. */
static void test_snat_v6(void **state)
{
	char buf[1024];
	struct ct_tuple o, r;
	struct ctmap_view v;
	size_t len = build_ct(buf, sizeof(buf), "[fd00::10]:5060", "[2001:db8::20]:5060",
			      "[2001:db8::20]:5060", "[2001:db8::10]:5060");

	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), 0);
	assert_int_equal(ctmap_view(&o, &r, false, &v), 0);
	assert_int_equal(v.dir, RW_OUT);
	assert_int_equal(v.entry.priv.family, AF_INET6);
	assert_int_equal(v.entry.priv_port, 0);
	assert_int_equal(v.entry.pub_port, 0);
}

/* No translation, or translation on both ends: nothing to go by. */
static void test_no_view(void **state)
{
	char buf[1024];
	struct ct_tuple o, r;
	struct ctmap_view v;
	size_t len = build_ct(buf, sizeof(buf), "10.0.0.10:5060", "10.0.0.5:5062",
			      "10.0.0.5:5062", "10.0.0.10:5060");

	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), 0);
	assert_int_equal(ctmap_view(&o, &r, false, &v), -1);
	len = build_ct(buf, sizeof(buf), "10.0.0.10:5060", "203.0.113.5:5060", "10.0.0.5:5062",
		       "203.0.113.10:5060");
	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), 0);
	assert_int_equal(ctmap_view(&o, &r, false, &v), -1);
}

/* Malformed payloads are refused, never read past. */
static void test_malformed(void **state)
{
	char buf[1024];
	struct ct_tuple o, r;
	size_t len = build_ct(buf, sizeof(buf), "10.0.0.10:5060", "198.51.100.20:5060",
			      "198.51.100.20:5060", "203.0.113.10:5060");

	assert_int_equal(ctmap_parse(NULL, 0, &o, &r), -1);
	for (size_t cut = 1; cut < len; cut++)
		assert_int_equal(ctmap_parse(payload(buf), cut, &o, &r) == 0 && cut < len, false);
	/* mixed families */
	len = build_ct(buf, sizeof(buf), "10.0.0.10:5060", "198.51.100.20:5060",
		       "[2001:db8::20]:5060", "[2001:db8::10]:5060");
	assert_int_equal(ctmap_parse(payload(buf), len, &o, &r), -1);
	assert_true(ctmap_is_reply(3));
	assert_true(ctmap_is_reply(4));
	assert_false(ctmap_is_reply(0));
	assert_false(ctmap_is_reply(2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnat_port),
		cmocka_unit_test(test_snat_masquerade),
		cmocka_unit_test(test_snat_v6),
		cmocka_unit_test(test_no_view),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
