/* Unit tests of pat.c: stable leases, no clashes, RTP/RTCP pairs, a full
 * pool, expiry hand-back, and a randomized run against an obviously right
 * linear model of who holds which port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "pat.h"

static struct pat_key key(const char *ip, uint16_t port, uint8_t proto)
{
	struct pat_key k;

	memset(&k, 0, sizeof(k));
	assert_int_equal(sn_addr_parse(&k.addr, ip, strlen(ip)), 0);
	k.port = port;
	k.proto = proto;
	return k;
}

static void test_stable_distinct(void **state)
{
	struct pat_conf c = { 40000, 40009, 60 };
	struct pat *p = pat_new(&c);
	struct pat_key a = key("10.0.0.2", 5060, IPPROTO_UDP), b = key("10.0.0.3", 5060, IPPROTO_UDP);
	struct pat_key t = key("10.0.0.2", 5060, IPPROTO_TCP), got;
	uint16_t pa, pb, pt;
	bool n;

	assert_non_null(p);
	pa = pat_get(p, &a, 0, &n);
	assert_true(n);
	pb = pat_get(p, &b, 0, &n);
	assert_true(n);
	assert_int_not_equal(pa, 0);
	assert_int_not_equal(pb, 0);
	assert_int_not_equal(pa, pb);
	assert_int_equal(pat_get(p, &a, 1000, &n), pa);	/* stable, refreshed */
	assert_false(n);
	pt = pat_get(p, &t, 0, &n);	/* TCP: its own pool */
	assert_int_equal(pt, 40000);
	assert_int_equal(pat_lookup(p, &b), pb);
	assert_true(pat_by_pub(p, pb, IPPROTO_UDP, &got));
	assert_true(sn_addr_equal(&got.addr, &b.addr));
	assert_int_equal(got.port, 5060);
	assert_false(pat_by_pub(p, 40009, IPPROTO_UDP, NULL));
	assert_false(pat_by_pub(p, 39999, IPPROTO_UDP, NULL));
	assert_int_equal(pat_count(p), 3);
	assert_int_equal(pat_stamp(p, &a), 0);
	pat_set_stamp(p, &a, 42);
	assert_int_equal(pat_stamp(p, &a), 42);
	assert_int_equal(pat_stamp(p, &b), 0);
	assert_true(pat_release(p, &a, NULL));
	pat_set_stamp(p, &a, 43);		/* no lease: nothing */
	assert_int_equal(pat_stamp(p, &a), 0);
	assert_int_not_equal(pat_get(p, &a, 2000, &n), 0);
	assert_int_equal(pat_stamp(p, &a), 0);		/* a new lease starts at 0 */
	assert_null(pat_new(&(struct pat_conf){ 0, 10, 60 }));
	assert_null(pat_new(&(struct pat_conf){ 50, 10, 60 }));
	pat_free(p);
}

static void test_pairs(void **state)
{
	struct pat_conf c = { 40001, 40010, 60 };	/* odd lo: first pair 40002 */
	struct pat *p = pat_new(&c);
	struct pat_key a = key("10.0.0.2", 6000, IPPROTO_UDP), b = key("10.0.0.3", 6000, IPPROTO_UDP);
	struct pat_key a1 = a, s = key("10.0.0.2", 5060, IPPROTO_UDP);
	struct pat_lease l[8];
	uint16_t pa, pb, ps;
	bool n;

	a1.port = 6001;
	ps = pat_get(p, &s, 0, &n);
	assert_int_equal(ps, 40001);
	pa = pat_get_pair(p, &a, 0, &n);
	assert_true(n);
	assert_int_equal(pa % 2, 0);
	assert_int_equal(pat_lookup(p, &a1), pa + 1);
	pb = pat_get_pair(p, &b, 0, &n);
	assert_int_equal(pb % 2, 0);
	assert_true(pb != pa && pb != pa + 1);
	/* a re-offer keeps the pair */
	assert_int_equal(pat_get_pair(p, &a, 5000, &n), pa);
	assert_false(n);
	assert_int_equal(pat_leases_of(p, &a.addr, IPPROTO_UDP, l, 8), 3);
	/* RTCP leased alone at an odd port first: the pair moves, and the
	 * old lease comes back from pat_expire() for the kernel. */
	{
		struct pat_key c1 = key("10.0.0.4", 7001, IPPROTO_UDP), c0 = c1;
		uint16_t old = pat_get(p, &c1, 0, &n), pc;

		c0.port = 7000;
		assert_int_not_equal(old, 0);
		pc = pat_get_pair(p, &c0, 0, &n);
		if (old % 2 == 1 && pat_lookup(p, &c0) == old - 1) {
			assert_int_equal(pc, old - 1);	/* it happened to fit */
		} else {
			assert_int_equal(pc % 2, 0);
			assert_int_equal(pat_lookup(p, &c1), pc + 1);
			assert_false(pat_by_pub(p, old, IPPROTO_UDP, NULL) &&
				     old != pc && old != pc + 1);
		}
	}
	assert_int_equal(pat_get_pair(p, &(struct pat_key){ a.addr, 65535, IPPROTO_UDP }, 0, &n),
			 0);
	pat_free(p);
}

static void test_full_expire(void **state)
{
	struct pat_conf c = { 40000, 40003, 10 };
	struct pat *p = pat_new(&c);
	struct pat_lease out[8];
	struct pat_key k[5];
	bool n;

	for (int i = 0; i < 5; i++)
		k[i] = key("10.0.0.2", (uint16_t)(1000 + i), IPPROTO_UDP);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pat_get(p, &k[i], 0, &n), 40000 + i);
	assert_int_equal(pat_get(p, &k[4], 0, &n), 0);	/* full: no eviction */
	assert_int_equal(pat_get_pair(p, &k[4], 0, &n), 0);
	pat_get(p, &k[1], 5000, &n);			/* k[1] lives to 15 s */
	/* expired but not handed back: still not reusable */
	assert_int_equal(pat_get(p, &k[4], 11000, &n), 0);
	assert_int_equal(pat_expire(p, 11000, out, 8), 3);
	assert_int_equal(out[0].pub_port, 40000);
	assert_int_equal(out[0].key.port, 1000);
	assert_int_equal(pat_count(p), 1);
	assert_int_equal(pat_get(p, &k[4], 11000, &n), 40000);	/* next-fit, wrapped */
	assert_true(pat_release(p, &k[1], &out[0]));
	assert_int_equal(out[0].pub_port, 40001);
	assert_false(pat_release(p, &k[1], NULL));
	assert_int_equal(pat_lookup(p, &k[1]), 0);
	/* bounded hand-back */
	assert_int_equal(pat_expire(p, 99999999, out, 0), 0);
	assert_int_equal(pat_expire(p, 99999999, out, 8), 1);
	assert_int_equal(pat_count(p), 0);
	pat_free(p);
}

/* Random gets, pairs, releases and expiries against a linear model: at
 * every step no public port is held by two keys, every live key's port is
 * the model's, and the model's owner of every port is pat_by_pub's. */
#define RN 64
static void test_random_model(void **state)
{
	struct pat_conf c = { 50000, 50000 + RN - 1, 3 };
	struct pat *p = pat_new(&c);
	struct pat_key owner[RN];	/* model: owner of port 50000 + i */
	bool held[RN] = { false };
	struct pat_lease out[RN];
	uint64_t now = 0;

	srand(7);
	for (int step = 0; step < 20000; step++) {
		struct pat_key k = key(rand() % 2 ? "10.0.0.2" : "10.0.0.3",
				       (uint16_t)(6000 + rand() % 80), IPPROTO_UDP);
		int op = rand() % 10;
		bool n;

		now += (uint64_t)(rand() % 300);
		if (op < 5) {
			uint16_t pp = pat_get(p, &k, now, &n);

			if (pp) {
				assert_true(pp >= 50000 && pp < 50000 + RN);
				if (n) {
					assert_false(held[pp - 50000]);
					held[pp - 50000] = true;
					owner[pp - 50000] = k;
				}
				assert_true(held[pp - 50000]);
			}
		} else if (op < 7) {
			uint16_t pp = pat_get_pair(p, &k, now, &n);

			if (pp) {
				assert_int_equal(pp % 2, 0);
				for (int j = 0; j < 2; j++) {
					struct pat_key kk = k;

					kk.port = (uint16_t)(k.port + j);
					held[pp - 50000 + j] = true;
					owner[pp - 50000 + j] = kk;
				}
			}
		} else if (op < 8) {
			struct pat_lease l;

			if (pat_release(p, &k, &l)) {
				assert_true(held[l.pub_port - 50000]);
				held[l.pub_port - 50000] = false;
			}
		} else {
			size_t m = pat_expire(p, now, out, RN);

			for (size_t i = 0; i < m; i++)
				held[out[i].pub_port - 50000] = false;
		}
		/* a moved pair's old ports are dead, not free: only ports the
		 * model holds may be live, and each live one has its owner */
		for (int i = 0; i < RN; i++) {
			struct pat_key got;

			if (pat_by_pub(p, (uint16_t)(50000 + i), IPPROTO_UDP, &got)) {
				assert_true(held[i]);
				assert_int_equal(got.port, owner[i].port);
				assert_true(sn_addr_equal(&got.addr, &owner[i].addr));
				assert_int_equal(pat_lookup(p, &got), 50000 + i);
			}
		}
	}
	pat_free(p);
}

/* What masq.c's early releases rely on (masq.h rules 1, 2, 4): a media
 * pair is two leases, P even and P + 1, released one by one; a released
 * lease is gone from pat_leases_of() and never handed back by
 * pat_expire() (its elements are removed once, at the release); its port
 * can be leased again at once; the signalling lease is untouched. */
static void test_release_pair_then_signalling(void **state)
{
	struct pat_conf c = { 40000, 40003, 60 };	/* room for sig and one pair */
	struct pat *p = pat_new(&c);
	struct pat_key sig = key("10.0.0.2", 5060, IPPROTO_UDP);
	struct pat_key rtp = key("10.0.0.2", 4000, IPPROTO_UDP), rtcp = rtp;
	struct pat_key other = key("10.0.0.3", 4000, IPPROTO_UDP);
	struct pat_lease l[8];
	uint16_t ps, pr;
	bool n;

	(void)state;
	rtcp.port++;
	ps = pat_get(p, &sig, 0, &n);
	pr = pat_get_pair(p, &rtp, 0, &n);
	assert_int_not_equal(ps, 0);
	assert_int_equal(pr % 2, 0);
	assert_int_equal(pat_lookup(p, &rtcp), pr + 1);
	assert_int_equal(pat_leases_of(p, &sig.addr, IPPROTO_UDP, l, 8), 3);
	assert_true(pat_release(p, &rtp, &l[0]));
	assert_int_equal(l[0].pub_port, pr);
	assert_int_equal(pat_lookup(p, &rtcp), pr + 1);	/* its own lease */
	assert_true(pat_release(p, &rtcp, &l[0]));
	assert_int_equal(l[0].pub_port, pr + 1);
	assert_int_equal(pat_leases_of(p, &sig.addr, IPPROTO_UDP, l, 8), 1);
	assert_true(sn_addr_equal(&l[0].key.addr, &sig.addr));
	assert_int_equal(l[0].key.port, 5060);
	assert_int_equal(pat_lookup(p, &sig), ps);
	/* another phone gets the freed pair right away (the only one) */
	assert_int_equal(pat_get_pair(p, &other, 1000, &n), pr);
	assert_true(n);
	/* nothing released comes back from expiry: only sig and other's pair */
	assert_int_equal(pat_expire(p, 999999, l, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_false(l[i].key.port == 4000 && sn_addr_equal(&l[i].key.addr, &rtp.addr));
	assert_int_equal(pat_count(p), 0);
	pat_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_distinct),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_full_expire),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_release_pair_then_signalling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
