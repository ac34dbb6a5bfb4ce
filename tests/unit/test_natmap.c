/* Unit tests of natmap.c and addr.c: the map syntax admins type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "natmap.h"

static void test_addr_parse(void **state)
{
	struct sn_endpoint e;
	char buf[SN_ADDRSTRLEN];

	assert_int_equal(sn_endpoint_parse(&e, "10.0.0.5:5062", 13), 0);
	assert_int_equal(e.port, 5062);
	sn_endpoint_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.5:5062");
	assert_int_equal(sn_endpoint_parse(&e, "[2001:db8::1]:5060", 18), 0);
	assert_int_equal(e.addr.family, AF_INET6);
	assert_int_equal(e.port, 5060);
	assert_int_equal(sn_endpoint_parse(&e, "2001:db8::1", 11), 0);
	assert_int_equal(e.port, 0);
	assert_int_equal(sn_endpoint_parse(&e, "10.0.0.5:0", 10), -1);
	assert_int_equal(sn_endpoint_parse(&e, "10.0.0.5:65536", 14), -1);
	assert_int_equal(sn_endpoint_parse(&e, "10.0.0", 6), -1);
	assert_int_equal(sn_endpoint_parse(&e, "[::1", 4), -1);
}

static void test_special(void **state)
{
	struct sn_addr a;

	sn_addr_parse(&a, "127.0.0.1", 9);
	assert_true(sn_addr_is_special(&a));
	sn_addr_parse(&a, "224.0.0.1", 9);
	assert_true(sn_addr_is_special(&a));
	sn_addr_parse(&a, "255.255.255.255", 15);
	assert_true(sn_addr_is_special(&a));
	sn_addr_parse(&a, "::ffff:127.0.0.1", 16);
	assert_true(sn_addr_is_special(&a));
	sn_addr_parse(&a, "198.51.100.7", 12);
	assert_false(sn_addr_is_special(&a));
}

static void test_map_specs(void **state)
{
	static struct natmap m;
	char err[128];
	struct sn_addr a;
	const struct natmap_entry *e;

	memset(&m, 0, sizeof(m));
	assert_int_equal(natmap_add_spec(&m, "10.0.0.5:5062=203.0.113.5:5060", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_spec(&m, "10.0.0.6=203.0.113.6", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_name(&m, "203.0.113.5=sip.example.com", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_spec(&m, "[fd00::5]:5062=[2001:db8::5]:5060", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_media_ports(&m, "10.0.0.6:20000-20999=203.0.113.6:40000", err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);

	sn_addr_parse(&a, "10.0.0.5", 8);
	e = natmap_by_priv(&m, &a);
	assert_non_null(e);
	assert_int_equal(e->pub_port, 5060);
	assert_int_equal(e->priv_port, 5062);
	assert_ptr_equal(natmap_by_name(&m, "SIP.example.COM", 15), e);
	sn_addr_parse(&a, "203.0.113.6", 11);
	e = natmap_by_pub(&m, &a);
	assert_non_null(e);
	assert_int_equal(e->media_pub_lo, 40000);
	assert_int_equal(e->media_priv_hi, 20999);

	/* Errors an admin would make. */
	assert_int_equal(natmap_add_spec(&m, "10.0.0.5", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_spec(&m, "10.0.0.7=2001:db8::7", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_spec(&m, "10.0.0.7:5060=203.0.113.7", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_spec(&m, "10.0.0.7=203.0.113.5", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already mapped"));
	assert_int_equal(natmap_add_name(&m, "203.0.113.9=x.example", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_name(&m, "203.0.113.6=1.2.3.4", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_spec(&m, "127.0.0.1=203.0.113.8", err, sizeof(err)), -1);
}

/* masquerade = NET/PLEN=PUB: prefixes, and what counts as inside/public. */
static void test_masquerade(void **state)
{
	static struct natmap m;
	char err[128];
	struct sn_addr a;

	memset(&m, 0, sizeof(m));
	assert_int_equal(natmap_add_spec(&m, "10.0.0.5=203.0.113.5", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/24=198.51.100.1", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_masquerade(&m, "172.16.0.0/12=198.51.100.2", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.1/24=198.51.100.1", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/33=198.51.100.1", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/=198.51.100.1", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/24=203.0.113.5", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/24=10.0.0.9", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "fd00::/64=198.51.100.1", err, sizeof(err)), -1);
	assert_int_equal(natmap_add_masquerade(&m, "10.0.0.0/24", err, sizeof(err)), -1);
	assert_int_equal(m.n_masq, 2);
	sn_addr_parse(&a, "10.0.0.77", 9);
	assert_ptr_equal(natmap_masq_by_priv(&m, &a), &m.masq[0]);
	assert_true(natmap_is_inside(&m, &a));
	sn_addr_parse(&a, "172.31.255.1", 12);
	assert_ptr_equal(natmap_masq_by_priv(&m, &a), &m.masq[1]);
	sn_addr_parse(&a, "172.32.0.1", 10);
	assert_null(natmap_masq_by_priv(&m, &a));
	assert_false(natmap_is_inside(&m, &a));
	sn_addr_parse(&a, "198.51.100.2", 12);
	assert_true(natmap_is_public(&m, &a));
	sn_addr_parse(&a, "203.0.113.5", 11);
	assert_true(natmap_is_public(&m, &a));
	sn_addr_parse(&a, "198.51.100.3", 12);
	assert_false(natmap_is_public(&m, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_special),
		cmocka_unit_test(test_map_specs),
		cmocka_unit_test(test_masquerade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
