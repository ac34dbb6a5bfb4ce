/* Unit tests of medport.c: a private port is kept when nobody else holds
 * it, a second party gets another even/odd pair, re-offers are stable, a
 * separate a=rtcp port, expiry frees, a refused (EBUSY) port moves the
 * stream, and the table and search stay bounded; then a randomized run
 * against a linear model: no two live leases share a public port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "medport.h"

#define S 1000u	/* ms per second */

static struct sn_addr ip(const char *s)
{
	struct sn_addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(sn_addr_parse(&a, s, strlen(s)), 0);
	return a;
}

static struct medport_key key(const char *pub, const char *priv, uint16_t port)
{
	struct medport_key k;

	memset(&k, 0, sizeof(k));
	k.pub = ip(pub);
	k.priv = ip(priv);
	k.port = port;
	k.proto = IPPROTO_UDP;
	return k;
}

static struct medport *mk(uint16_t lo, uint16_t hi, uint32_t max)
{
	struct medport_conf c = { lo, hi, 60, 30, max, { 1, 2 } };
	struct medport *m = medport_new(&c);

	assert_non_null(m);
	return m;
}

static void test_keep_and_move(void **state)
{
	struct medport *m = mk(40000, 40099, 64);
	struct medport_key a = key("203.0.113.10", "10.0.0.10", 4000);
	struct medport_key b = key("203.0.113.10", "10.0.0.11", 4000);
	struct medport_key c = key("203.0.113.11", "10.0.0.12", 4000);
	struct medport_claim cl[4];
	struct medport_stats st;
	uint16_t pb;

	(void)state;
	assert_int_equal(medport_get_pair(m, &a, 0), 4000);	/* kept */
	pb = medport_get_pair(m, &b, 0);
	assert_int_not_equal(pb, 4000);
	assert_true(pb >= 40000 && pb <= 40098);
	assert_int_equal(pb % 2, 0);
	/* Another public address: its own port is free there. */
	assert_int_equal(medport_get_pair(m, &c, 0), 4000);
	/* Re-offers keep both, in either order. */
	assert_int_equal(medport_get_pair(m, &b, 10 * S), pb);
	assert_int_equal(medport_get_pair(m, &a, 10 * S), 4000);
	/* Only moved ports are claims: RTP and RTCP of b. */
	assert_int_equal(medport_claims(m, &a.pub, &a.priv, IPPROTO_UDP, 10 * S, cl, 4), 0);
	assert_int_equal(medport_claims(m, &b.pub, &b.priv, IPPROTO_UDP, 10 * S, cl, 4), 2);
	assert_true((cl[0].priv == 4000 && cl[0].pub == pb && cl[1].priv == 4001 &&
		     cl[1].pub == pb + 1) ||
		    (cl[1].priv == 4000 && cl[1].pub == pb && cl[0].priv == 4001 &&
		     cl[0].pub == pb + 1));
	medport_get_stats(m, &st);
	assert_int_equal(st.active, 6);
	assert_int_equal(st.moved, 2);
	assert_int_equal(st.failed, 0);
	medport_free(m);
}

static void test_rtcp_and_odd(void **state)
{
	struct medport *m = mk(40000, 40099, 64);
	struct medport_key a = key("203.0.113.10", "10.0.0.10", 4000);
	struct medport_key ar = key("203.0.113.10", "10.0.0.10", 4005);
	struct medport_key b = key("203.0.113.10", "10.0.0.11", 4001);
	struct medport_key br = key("203.0.113.10", "10.0.0.11", 4005);
	uint16_t p;

	(void)state;
	assert_int_equal(medport_get_pair(m, &a, 0), 4000);
	assert_int_equal(medport_get(m, &ar, 0), 4005);		/* a=rtcp, kept */
	/* b's pair 4001/4002 overlaps a's 4001: moved to an even pair. */
	p = medport_get_pair(m, &b, 0);
	assert_true(p >= 40000 && p % 2 == 0);
	/* b's own a=rtcp 4005 is a's: one pool port, stable. */
	p = medport_get(m, &br, 0);
	assert_true(p >= 40000 && p <= 40099);
	assert_int_equal(medport_get(m, &br, 5 * S), p);
	/* Port 0 and 65535 have no pair. */
	a.port = 0;
	assert_int_equal(medport_get_pair(m, &a, 0), 0);
	assert_int_equal(medport_get(m, &a, 0), 0);
	a.port = 65535;
	assert_int_equal(medport_get_pair(m, &a, 0), 0);
	medport_free(m);
}

static void test_expiry(void **state)
{
	struct medport *m = mk(40000, 40099, 64);
	struct medport_key a = key("203.0.113.10", "10.0.0.10", 4000);
	struct medport_key b = key("203.0.113.10", "10.0.0.11", 4000);
	struct medport_claim cl[4];
	struct medport_stats st;

	(void)state;
	assert_int_equal(medport_get_pair(m, &a, 0), 4000);
	assert_int_not_equal(medport_get_pair(m, &b, 0), 4000);
	/* Claims refresh: b stays past a's lifetime (60 s). */
	assert_int_equal(medport_claims(m, &b.pub, &b.priv, IPPROTO_UDP, 50 * S, cl, 4), 2);
	assert_int_equal(medport_expire(m, 61 * S, 100), 2);	/* a's RTP and RTCP */
	medport_get_stats(m, &st);
	assert_int_equal(st.active, 2);
	/* b holds its moved pair (stable), a third party now keeps 4000. */
	a = key("203.0.113.10", "10.0.0.12", 4000);
	assert_int_equal(medport_get_pair(m, &a, 62 * S), 4000);
	/* Lazily too: an expired lease does not block its port. */
	assert_int_equal(medport_expire(m, 200 * S, 100), 4);
	medport_get_stats(m, &st);
	assert_int_equal(st.active, 0);
	b = key("203.0.113.10", "10.0.0.11", 4000);
	assert_int_equal(medport_get_pair(m, &b, 300 * S), 4000);
	medport_free(m);
}

static void test_refused_moves(void **state)
{
	struct medport *m = mk(40000, 40099, 64);
	struct medport_key a = key("203.0.113.10", "10.0.0.10", 4000);
	struct medport_key b = key("203.0.113.10", "10.0.0.11", 6000);
	struct medport_stats st;
	uint16_t p, q;

	(void)state;
	assert_int_equal(medport_get_pair(m, &a, 0), 4000);
	/* The kernel said EBUSY for 4000: marked once. */
	assert_true(medport_refused(m, &a.pub, 4000, IPPROTO_UDP, 1 * S));
	assert_false(medport_refused(m, &a.pub, 4000, IPPROTO_UDP, 2 * S));
	/* The re-offer moves the stream, and keeps the new pair. */
	p = medport_get_pair(m, &a, 3 * S);
	assert_true(p >= 40000 && p % 2 == 0);
	assert_int_equal(medport_get_pair(m, &a, 4 * S), p);
	/* A refused moved port moves again. */
	assert_true(medport_refused(m, &a.pub, (uint16_t)(p + 1), IPPROTO_UDP, 5 * S));
	q = medport_get_pair(m, &a, 6 * S);
	assert_true(q >= 40000 && q != p);
	/* A refused port nobody holds is not handed out either. */
	assert_true(medport_refused(m, &b.pub, 6000, IPPROTO_UDP, 6 * S));
	assert_int_not_equal(medport_get_pair(m, &b, 7 * S), 6000);
	medport_get_stats(m, &st);
	assert_int_equal(st.refused, 4);
	assert_int_equal(st.busy, 3);
	/* The mark ends after busy_s (30 s); a new party keeps 6000 then. */
	b = key("203.0.113.10", "10.0.0.12", 6000);
	assert_int_equal(medport_get_pair(m, &b, 40 * S), 6000);
	medport_free(m);
}

static void test_bounded(void **state)
{
	struct medport_conf bad = { 0, 10, 60, 30, 8, { 0, 0 } };
	struct medport *m = mk(40000, 40003, 8);	/* two pool pairs, 8 entries */
	struct medport_key k;
	struct medport_stats st;
	char a[32];

	(void)state;
	/* Four parties on 4000: one keeps it, two get the pool's pairs, the
	 * fourth finds the pool full. */
	for (int i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d", 10 + i);
		k = key("203.0.113.10", a, 4000);
		if (i < 3)
			assert_int_not_equal(medport_get_pair(m, &k, 0), 0);
		else
			assert_int_equal(medport_get_pair(m, &k, 0), 0);
	}
	/* 6 of 8 entries used: a pair fits, a third does not. */
	k = key("203.0.113.10", "10.0.0.20", 5000);
	assert_int_equal(medport_get_pair(m, &k, 0), 5000);
	k = key("203.0.113.10", "10.0.0.21", 7000);
	assert_int_equal(medport_get_pair(m, &k, 0), 0);
	assert_false(medport_refused(m, &k.pub, 7000, IPPROTO_UDP, 0));
	medport_get_stats(m, &st);
	assert_int_equal(st.active, 8);
	assert_int_equal(st.failed, 2);
	medport_free(m);
	/* The search is bounded: a big pool with its first MEDPORT_PROBES
	 * candidates taken fails rather than walking the whole pool. */
	m = mk(40000, 60000, 4 * MEDPORT_PROBES + 8);
	for (int i = 0; i < MEDPORT_PROBES; i++) {
		k = key("203.0.113.10", "10.0.1.1", (uint16_t)(40000 + 2 * i));
		assert_int_equal(medport_get_pair(m, &k, 0), 40000 + 2 * i);
	}
	k = key("203.0.113.10", "10.0.2.2", 40000);
	assert_int_equal(medport_get_pair(m, &k, 0), 0);
	/* The cursor moved on: the next search starts past them. */
	k = key("203.0.113.10", "10.0.2.3", 40000);
	assert_int_not_equal(medport_get_pair(m, &k, 0), 0);
	medport_free(m);
	assert_null(medport_new(&bad));
	bad.lo = 20;
	assert_null(medport_new(&bad));
	bad.lo = 5;
	bad.max = 0;
	assert_null(medport_new(&bad));
}

/* Random gets, refusals and expiry on two public addresses and a small
 * pool; after each step no two live leases of one public address share a
 * public port, and no lease sits on a live refused mark it got after. */
static void test_random_model(void **state)
{
	struct medport *m = mk(40000, 40031, 256);
	struct { struct medport_key k; uint16_t pub; uint64_t exp; } own[512];
	size_t n = 0;
	uint64_t now = 0;

	(void)state;
	srand(7);
	for (int step = 0; step < 4000; step++) {
		char a[32];
		struct medport_key k;
		uint16_t p;

		now += (uint64_t)(rand() % 3) * S;
		snprintf(a, sizeof(a), "10.0.0.%d", 1 + rand() % 6);
		k = key(rand() % 2 ? "203.0.113.10" : "203.0.113.11", a,
			(uint16_t)(4000 + 2 * (rand() % 4)));
		if (rand() % 10 == 0) {
			medport_refused(m, &k.pub, (uint16_t)(40000 + rand() % 32), IPPROTO_UDP,
					now);
			continue;
		}
		if (rand() % 50 == 0)
			medport_expire(m, now, 1000);
		p = medport_get_pair(m, &k, now);
		if (!p)
			continue;
		/* Model: drop expired and this key's pair, then add. */
		for (size_t i = 0; i < n;) {
			bool same = own[i].k.port / 2 == k.port / 2 &&
				    sn_addr_equal(&own[i].k.priv, &k.priv) &&
				    sn_addr_equal(&own[i].k.pub, &k.pub);

			if (own[i].exp <= now || same)
				own[i] = own[--n];
			else
				i++;
		}
		for (int j = 0; j < 2 && n < 512; j++) {
			own[n].k = k;
			own[n].k.port = (uint16_t)(k.port + j);
			own[n].pub = (uint16_t)(p + j);
			own[n].exp = now + 60 * S;
			n++;
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (sn_addr_equal(&own[i].k.pub, &own[j].k.pub))
					assert_int_not_equal(own[i].pub, own[j].pub);
	}
	medport_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_and_move),
		cmocka_unit_test(test_rtcp_and_odd),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_refused_moves),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
