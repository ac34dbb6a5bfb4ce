/* Unit tests of patuse.c: distinct pinholes per leased endpoint, opens
 * idempotent, counts per endpoint and per address, the lossy state when
 * full and its end once empty. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <netinet/in.h>

#include "patuse.h"

static struct sn_addr ip(const char *s)
{
	struct sn_addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(sn_addr_parse(&a, s, strlen(s)), 0);
	return a;
}

static struct sn_endpoint ep(const char *s, uint16_t port)
{
	struct sn_endpoint e = { ip(s), port };

	return e;
}

/* Two dialogs of one phone aim at its port 4000 from two peers: the port
 * is in use until both pinholes closed; refreshes do not count twice. */
static void test_two_dialogs_one_port(void **state)
{
	struct patuse *u = patuse_new(64);
	struct sn_addr p1 = ip("198.51.100.20"), p2 = ip("198.51.100.21");
	struct sn_endpoint e = ep("10.0.0.2", 4000), e1 = ep("10.0.0.2", 4001);
	struct sn_endpoint other = ep("10.0.0.3", 4000);
	struct sn_addr phone = ip("10.0.0.2");

	(void)state;
	assert_non_null(u);
	assert_true(patuse_open(u, &p1, &e, IPPROTO_UDP));
	assert_true(patuse_open(u, &p1, &e, IPPROTO_UDP));	/* refresh */
	assert_true(patuse_open(u, &p1, &e1, IPPROTO_UDP));
	assert_true(patuse_open(u, &p2, &e, IPPROTO_UDP));
	assert_true(patuse_open(u, &p2, &other, IPPROTO_UDP));
	assert_int_equal(patuse_size(u), 4);
	assert_int_equal(patuse_count(u, &e, IPPROTO_UDP), 2);
	assert_int_equal(patuse_count(u, &e, IPPROTO_TCP), 0);
	assert_int_equal(patuse_count_addr(u, &phone), 3);
	assert_true(patuse_close(u, &p1, &e, IPPROTO_UDP));
	assert_false(patuse_close(u, &p1, &e, IPPROTO_UDP));	/* closed already */
	assert_int_equal(patuse_count(u, &e, IPPROTO_UDP), 1);
	assert_true(patuse_close(u, &p2, &e, IPPROTO_UDP));
	assert_int_equal(patuse_count(u, &e, IPPROTO_UDP), 0);
	assert_int_equal(patuse_count(u, &e1, IPPROTO_UDP), 1);
	assert_true(patuse_close(u, &p1, &e1, IPPROTO_UDP));
	assert_int_equal(patuse_count_addr(u, &phone), 0);
	assert_int_equal(patuse_size(u), 1);
	{
		struct sn_endpoint got;
		uint8_t proto;

		patuse_at(u, 0, &got, &proto);
		assert_true(sn_addr_equal(&got.addr, &other.addr));
		assert_int_equal(got.port, 4000);
		assert_int_equal(proto, IPPROTO_UDP);
	}
	assert_true(patuse_reliable(u));
	patuse_free(u);
}

/* Full: the set turns lossy (callers release nothing) until it empties. */
static void test_lossy_until_empty(void **state)
{
	struct patuse *u = patuse_new(20);
	struct sn_addr peer = ip("198.51.100.20");

	(void)state;
	for (uint16_t i = 0; i < 20; i++) {
		struct sn_endpoint e = ep("10.0.0.2", (uint16_t)(4000 + 2 * i));

		assert_true(patuse_open(u, &peer, &e, IPPROTO_UDP));
	}
	assert_true(patuse_reliable(u));
	{
		struct sn_endpoint e = ep("10.0.0.2", 6000);

		assert_false(patuse_open(u, &peer, &e, IPPROTO_UDP));
		assert_false(patuse_reliable(u));
		assert_int_equal(patuse_count(u, &e, IPPROTO_UDP), 0);
	}
	for (uint16_t i = 0; i < 20; i++) {
		struct sn_endpoint e = ep("10.0.0.2", (uint16_t)(4000 + 2 * i));

		assert_true(patuse_close(u, &peer, &e, IPPROTO_UDP));
		assert_int_equal(patuse_reliable(u), i == 19);
	}
	patuse_free(u);
	/* max 0: nothing can be recorded */
	u = patuse_new(0);
	{
		struct sn_endpoint e = ep("10.0.0.2", 4000);

		assert_false(patuse_open(u, &peer, &e, IPPROTO_UDP));
		assert_false(patuse_reliable(u));
	}
	patuse_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_dialogs_one_port),
		cmocka_unit_test(test_lossy_until_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
