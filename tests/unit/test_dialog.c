/* Unit tests of dialog.c: offer/answer to pinhole intents, with rw_result
 * values built by hand (the rewrite core is not involved).
 *
 * Cast: inside phone 10.0.0.5 (public 203.0.113.5), outside media server
 * 198.51.100.20 (and .21, .22 for forks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdio.h>

#include "dialog.h"
#include "siphash.h"

#define MAXI 128

struct msg {
	struct rw_result r;
	struct rw_media m[4];
};

static struct natmap map;
static struct pin_intent out[MAXI];

static struct dialog_limits lim(void)
{
	struct dialog_limits l = {
		.max_dialogs = 100, .max_pinholes_per_dialog = 32, .max_pinholes = 1000,
		.media_timeout_s = 60, .setup_timeout_s = 180, .session_timeout_s = 7200,
		.map = &map,
	};
	return l;
}

static int setup(void **state)
{
	char err[128];

	memset(&map, 0, sizeof(map));
	assert_int_equal(natmap_add_spec(&map, "10.0.0.5:5062=203.0.113.5:5060", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_spec(&map, "[fd00::5]=[2001:db8::5]", err, sizeof(err)), 0);
	return 0;
}

static void ep(struct sn_endpoint *e, const char *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sn_addr_parse(&e->addr, a, strlen(a)), 0);
	e->port = port;
}

static void start(struct msg *m, bool req, const char *method, int status, uint32_t cseq,
		  const char *cid, const char *ft, const char *tt)
{
	memset(m, 0, sizeof(*m));
	m->r.status = RW_REWRITTEN;
	m->r.sip.is_request = req;
	snprintf(m->r.sip.method, sizeof(m->r.sip.method), "%s", method);
	m->r.sip.status = status;
	m->r.sip.cseq = cseq;
	m->r.sip.call_id = cid;
	m->r.sip.from_tag = ft;
	m->r.sip.to_tag = tt;
	m->r.sip.media = m->m;
}

#define REQ(m, meth, cseq, cid, ft, tt) start(m, true, meth, 0, cseq, cid, ft, tt)
#define RSP(m, st, meth, cseq, cid, ft, tt) start(m, false, meth, st, cseq, cid, ft, tt)

/* One m= line.  orig is the address as received; for dir OUT the test
 * passes the private one (what the phone sent). */
static struct rw_media *media(struct msg *m, const char *addr, uint16_t port)
{
	struct rw_media *x = &m->m[m->r.sip.n_media++];

	m->r.sip.has_sdp = true;
	snprintf(x->type, sizeof(x->type), "audio");
	snprintf(x->proto, sizeof(x->proto), "RTP/AVP");
	x->l4proto = IPPROTO_UDP;
	ep(&x->orig, addr, port);
	x->rewritten = x->orig;
	x->nports = 1;
	x->mdir = RW_SENDRECV;
	x->hold = sn_addr_is_any(&x->orig.addr);
	return x;
}

static size_t feed(struct dialog_table *t, enum rw_dir dir, struct msg *m, uint64_t now)
{
	return dialog_on_message(t, dir, &m->r, now, out, MAXI);
}

static bool has(size_t n, enum pin_op op, const char *src, const char *dst, uint16_t dport)
{
	struct sn_addr s, d;

	sn_addr_parse(&s, src, strlen(src));
	sn_addr_parse(&d, dst, strlen(dst));
	for (size_t i = 0; i < n; i++)
		if (out[i].op == op && out[i].ph.dport == dport &&
		    sn_addr_equal(&out[i].ph.src, &s) && sn_addr_equal(&out[i].ph.dst, &d) &&
		    out[i].ph.l4proto == IPPROTO_UDP)
			return true;
	return false;
}

static size_t count_op(size_t n, enum pin_op op)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += out[i].op == op;
	return c;
}

/* The four pinholes of one audio stream, 10.0.0.5:lport <-> peer:pport. */
static void assert_four(size_t n, enum pin_op op, const char *peer, uint16_t lport, uint16_t pport)
{
	assert_true(has(n, op, peer, "10.0.0.5", lport));
	assert_true(has(n, op, peer, "10.0.0.5", lport + 1));
	assert_true(has(n, op, "10.0.0.5", peer, pport));
	assert_true(has(n, op, "10.0.0.5", peer, pport + 1));
}

/* The class the intent for src -> dst:dport carries; -1: no such intent. */
static int class_of(size_t n, const char *src, const char *dst, uint16_t dport)
{
	struct sn_addr s, d;

	sn_addr_parse(&s, src, strlen(src));
	sn_addr_parse(&d, dst, strlen(dst));
	for (size_t i = 0; i < n; i++)
		if (out[i].ph.dport == dport && sn_addr_equal(&out[i].ph.src, &s) &&
		    sn_addr_equal(&out[i].ph.dst, &d))
			return out[i].ph.mclass;
	return -1;
}

/* Outbound call with the offer in the INVITE, answer in 200, BYE. */
static struct dialog_table *basic_call(uint64_t *now)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	REQ(&m, "INVITE", 1, "c1", "a", "");
	media(&m, "10.0.0.5", 4000);
	assert_int_equal(feed(t, RW_OUT, &m, *now), 0);
	RSP(&m, 100, "INVITE", 1, "c1", "a", "");
	assert_int_equal(feed(t, RW_IN, &m, *now), 0);
	RSP(&m, 200, "INVITE", 1, "c1", "a", "b");
	media(&m, "198.51.100.20", 5000);
	n = feed(t, RW_IN, &m, *now += 1000);
	assert_int_equal(n, 4);
	assert_four(n, PIN_OPEN, "198.51.100.20", 4000, 5000);
	assert_int_equal(out[0].ph.timeout_s, 60);
	assert_int_equal(dialog_pinhole_count(t), 4);
	REQ(&m, "ACK", 1, "c1", "a", "b");
	assert_int_equal(feed(t, RW_OUT, &m, *now), 0);
	/* the INVITE's proto dialog lingers 32 s for late forks */
	assert_int_equal(dialog_count(t), 2);
	*now += 33000;
	assert_int_equal(dialog_expire(t, *now, out, MAXI), 0);
	assert_int_equal(dialog_count(t), 1);
	return t;
}

static void test_offer_answer_bye(void **state)
{
	uint64_t now = 1000;
	struct dialog_table *t = basic_call(&now);
	struct msg m;
	size_t n;

	/* BYE from the callee: its From-tag is b. */
	REQ(&m, "BYE", 1, "c1", "b", "a");
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(n, 4);
	assert_four(n, PIN_CLOSE, "198.51.100.20", 4000, 5000);
	assert_string_equal(out[0].why, "bye");
	assert_int_equal(dialog_count(t), 0);
	assert_int_equal(dialog_pinhole_count(t), 0);
	RSP(&m, 200, "BYE", 1, "c1", "b", "a");
	assert_int_equal(feed(t, RW_OUT, &m, now), 0);
	dialog_table_free(t);
}

static void test_inbound_call_and_rtcp_attr(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	/* The outside calls in; its SDP names a=rtcp:7001, ours is rtcp-mux
	 * but the offer is not, so RTCP stays on separate ports. */
	REQ(&m, "INVITE", 10, "in1", "x", "");
	media(&m, "198.51.100.20", 7000)->rtcp_orig = 7009;
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	RSP(&m, 200, "INVITE", 10, "in1", "x", "y");
	media(&m, "10.0.0.5", 4000)->rtcp_mux = true;
	n = feed(t, RW_OUT, &m, 0);
	assert_int_equal(n, 4);
	assert_true(has(n, PIN_OPEN, "198.51.100.20", "10.0.0.5", 4000));
	assert_true(has(n, PIN_OPEN, "198.51.100.20", "10.0.0.5", 4001));
	assert_true(has(n, PIN_OPEN, "10.0.0.5", "198.51.100.20", 7000));
	assert_true(has(n, PIN_OPEN, "10.0.0.5", "198.51.100.20", 7009));
	/* BYE from the caller (outside). */
	REQ(&m, "BYE", 11, "in1", "x", "y");
	assert_int_equal(count_op(feed(t, RW_IN, &m, 0), PIN_CLOSE), 4);

	/* Both sides rtcp-mux: RTP ports only. */
	REQ(&m, "INVITE", 1, "in2", "x", "");
	media(&m, "198.51.100.20", 7000)->rtcp_mux = true;
	feed(t, RW_IN, &m, 0);
	RSP(&m, 200, "INVITE", 1, "in2", "x", "y");
	media(&m, "10.0.0.5", 4000)->rtcp_mux = true;
	assert_int_equal(feed(t, RW_OUT, &m, 0), 2);
	dialog_table_free(t);
}

static void test_late_offer(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	REQ(&m, "INVITE", 1, "lo", "a", "");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	RSP(&m, 200, "INVITE", 1, "lo", "a", "b");
	media(&m, "198.51.100.20", 5000);		/* the offer */
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	/* 200 retransmitted: still an offer waiting for the ACK */
	RSP(&m, 200, "INVITE", 1, "lo", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	REQ(&m, "ACK", 1, "lo", "a", "b");
	media(&m, "10.0.0.5", 4000);			/* the answer */
	n = feed(t, RW_OUT, &m, 0);
	assert_int_equal(n, 4);
	assert_four(n, PIN_OPEN, "198.51.100.20", 4000, 5000);
	dialog_table_free(t);
}

static void test_early_media_prack_fork(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	REQ(&m, "INVITE", 1, "fk", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	/* fork 1: reliable 183 with SDP; PRACK without SDP */
	RSP(&m, 183, "INVITE", 1, "fk", "a", "f1");
	media(&m, "198.51.100.21", 5100);
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(n, 4);
	assert_four(n, PIN_OPEN, "198.51.100.21", 4000, 5100);
	REQ(&m, "PRACK", 2, "fk", "a", "f1");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	/* fork 2: its own early media, does not disturb fork 1 */
	RSP(&m, 183, "INVITE", 1, "fk", "a", "f2");
	media(&m, "198.51.100.22", 5200);
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(n, 4);
	assert_four(n, PIN_OPEN, "198.51.100.22", 4000, 5200);
	/* UPDATE in fork 2's early dialog moves its port (offer from the
	 * callee, answer in the 200 to the UPDATE). */
	REQ(&m, "UPDATE", 7, "fk", "f2", "a");
	media(&m, "198.51.100.22", 5300);
	n = feed(t, RW_IN, &m, 0);
	/* pending: 5300 opens at once; 5200 stays until the answer */
	assert_int_equal(count_op(n, PIN_CLOSE), 0);
	assert_true(has(n, PIN_OPEN, "10.0.0.5", "198.51.100.22", 5300));
	RSP(&m, 200, "UPDATE", 7, "fk", "f2", "a");
	media(&m, "10.0.0.5", 4000);
	n = feed(t, RW_OUT, &m, 0);
	assert_true(has(n, PIN_CLOSE, "10.0.0.5", "198.51.100.22", 5200));
	assert_true(has(n, PIN_CLOSE, "10.0.0.5", "198.51.100.22", 5201));
	assert_int_equal(count_op(n, PIN_CLOSE), 2);
	assert_int_equal(dialog_count(t), 3);	/* proto + two early */
	assert_int_equal(dialog_pinhole_count(t), 8);
	/* fork 1 answers (same SDP as its 183): fork 2 ends, fork 1 stays */
	RSP(&m, 200, "INVITE", 1, "fk", "a", "f1");
	media(&m, "198.51.100.21", 5100);
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_four(n, PIN_CLOSE, "198.51.100.22", 4000, 5300);
	assert_false(has(n, PIN_CLOSE, "198.51.100.21", "10.0.0.5", 4000));
	assert_int_equal(dialog_pinhole_count(t), 4);
	/* the forking proxy's 487 for fork 2 never reaches us; the CANCEL
	 * it sends downstream is not ours either.  Our BYE ends fork 1. */
	REQ(&m, "BYE", 3, "fk", "a", "f1");
	n = feed(t, RW_OUT, &m, 0);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_int_equal(dialog_pinhole_count(t), 0);
	/* the proto lingers 32 s for late 2xx of other forks, then goes */
	assert_int_equal(dialog_count(t), 1);
	dialog_expire(t, 40000, out, MAXI);
	assert_int_equal(dialog_count(t), 0);
	dialog_table_free(t);
}

static void test_reinvite_hold_resume_port(void **state)
{
	uint64_t now = 0;
	struct dialog_table *t = basic_call(&now);
	struct msg m;
	size_t n;

	/* hold from the outside: c=0.0.0.0 */
	REQ(&m, "INVITE", 2, "c1", "b", "a");
	media(&m, "0.0.0.0", 5000)->mdir = RW_SENDONLY;
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(count_op(n, PIN_CLOSE), 0);	/* old stays until the answer */
	RSP(&m, 200, "INVITE", 2, "c1", "b", "a");
	media(&m, "10.0.0.5", 4000)->mdir = RW_RECVONLY;
	n = feed(t, RW_OUT, &m, now);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_int_equal(dialog_pinhole_count(t), 0);
	/* resume, from us, with a new local port; answer from a new peer port */
	REQ(&m, "INVITE", 2, "c1", "a", "b");
	media(&m, "10.0.0.5", 4100);
	n = feed(t, RW_OUT, &m, now);
	assert_int_equal(n, 0);	/* peer still on hold: no address to open to */
	RSP(&m, 200, "INVITE", 2, "c1", "a", "b");
	media(&m, "198.51.100.20", 5500);
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(n, 4);
	assert_four(n, PIN_OPEN, "198.51.100.20", 4100, 5500);
	/* a rejected re-INVITE (488) changes nothing in the end */
	REQ(&m, "INVITE", 3, "c1", "a", "b");
	media(&m, "10.0.0.5", 4200);
	n = feed(t, RW_OUT, &m, now);
	assert_int_equal(count_op(n, PIN_OPEN), 2);	/* new local port, pending */
	RSP(&m, 488, "INVITE", 3, "c1", "a", "b");
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(count_op(n, PIN_CLOSE), 2);
	assert_true(has(n, PIN_CLOSE, "198.51.100.20", "10.0.0.5", 4200));
	assert_int_equal(dialog_pinhole_count(t), 4);
	assert_int_equal(dialog_count(t), 1);
	/* a=inactive closes everything; 481 ends the dialog */
	REQ(&m, "UPDATE", 4, "c1", "a", "b");
	media(&m, "10.0.0.5", 4100)->mdir = RW_INACTIVE;
	feed(t, RW_OUT, &m, now);
	RSP(&m, 200, "UPDATE", 4, "c1", "a", "b");
	media(&m, "198.51.100.20", 5500)->mdir = RW_INACTIVE;
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	RSP(&m, 481, "UPDATE", 5, "c1", "a", "b");
	feed(t, RW_IN, &m, now);
	assert_int_equal(dialog_count(t), 0);
	dialog_table_free(t);
}

/* A re-offer whose public media port moved (medport.c in helper mode:
 * same private port, another public one): the inbound pinholes keep
 * their identity, but the backend must hear of the new public port: a
 * close with the old one, an open with the new. */
static size_t with_pub(size_t n, enum pin_op op, uint16_t dport, uint16_t pport)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += out[i].op == op && out[i].ph.dport == dport && out[i].ph.pub.port == pport;
	return c;
}

static void test_public_port_moves(void **state)
{
	uint64_t now = 0;
	struct dialog_table *t = basic_call(&now);
	struct rw_media *x;
	struct msg m;
	size_t n;

	(void)state;
	REQ(&m, "INVITE", 2, "c1", "a", "b");
	x = media(&m, "10.0.0.5", 4000);
	ep(&x->rewritten, "203.0.113.5", 40000);
	feed(t, RW_OUT, &m, now);
	RSP(&m, 200, "INVITE", 2, "c1", "a", "b");
	media(&m, "198.51.100.20", 5000);
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(with_pub(n, PIN_CLOSE, 4000, 4000), 1);
	assert_int_equal(with_pub(n, PIN_CLOSE, 4001, 4001), 1);
	assert_int_equal(with_pub(n, PIN_OPEN, 4000, 40000), 1);
	assert_int_equal(with_pub(n, PIN_OPEN, 4001, 40001), 1);
	assert_int_equal(dialog_pinhole_count(t), 4);
	/* The same again: only refreshes, no close. */
	REQ(&m, "INVITE", 3, "c1", "a", "b");
	x = media(&m, "10.0.0.5", 4000);
	ep(&x->rewritten, "203.0.113.5", 40000);
	feed(t, RW_OUT, &m, now);
	RSP(&m, 200, "INVITE", 3, "c1", "a", "b");
	media(&m, "198.51.100.20", 5000);
	n = feed(t, RW_IN, &m, now);
	assert_int_equal(count_op(n, PIN_CLOSE), 0);
	dialog_table_free(t);
}

/* Answer in a reliable 183, PRACK, then a 200 without SDP: the 200
 * re-emits the opens (the elements may have idled out while it rang). */
static void test_confirm_refreshes(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	REQ(&m, "INVITE", 1, "cr", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 183, "INVITE", 1, "cr", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 4);
	REQ(&m, "PRACK", 2, "cr", "a", "b");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	RSP(&m, 200, "PRACK", 2, "cr", "a", "b");
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	RSP(&m, 200, "INVITE", 1, "cr", "a", "b");
	n = feed(t, RW_IN, &m, 90000);
	assert_int_equal(count_op(n, PIN_OPEN), 4);
	assert_four(n, PIN_OPEN, "198.51.100.20", 4000, 5000);
	assert_int_equal(dialog_pinhole_count(t), 4);
	dialog_table_free(t);
}

static void test_cancel_and_failure(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n;

	/* early media, then CANCEL */
	REQ(&m, "INVITE", 1, "cx", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 183, "INVITE", 1, "cx", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 4);
	REQ(&m, "CANCEL", 1, "cx", "a", "");
	n = feed(t, RW_OUT, &m, 0);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_string_equal(out[0].why, "cancel");
	assert_int_equal(dialog_count(t), 0);
	RSP(&m, 487, "INVITE", 1, "cx", "a", "b");
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);

	/* early media, then 486 from the same fork */
	REQ(&m, "INVITE", 1, "fx", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 183, "INVITE", 1, "fx", "a", "b");
	media(&m, "198.51.100.20", 5000);
	feed(t, RW_IN, &m, 0);
	RSP(&m, 180, "INVITE", 1, "fx", "a", "c");
	feed(t, RW_IN, &m, 0);
	assert_int_equal(dialog_count(t), 3);
	RSP(&m, 486, "INVITE", 1, "fx", "a", "c");
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_string_equal(out[0].why, "failure");
	assert_int_equal(dialog_count(t), 0);

	/* 603 without any 18x: the proto goes */
	REQ(&m, "INVITE", 1, "dx", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	assert_int_equal(dialog_count(t), 1);
	RSP(&m, 603, "INVITE", 1, "dx", "a", "z");
	feed(t, RW_IN, &m, 0);
	assert_int_equal(dialog_count(t), 0);
	assert_int_equal(dialog_pinhole_count(t), 0);
	dialog_table_free(t);
}

static void test_timeouts(void **state)
{
	uint64_t now = 5000;
	struct dialog_table *t = basic_call(&now);
	struct msg m;
	size_t n;

	/* a call that never got a 2xx: setup timeout (180 s) */
	REQ(&m, "INVITE", 1, "st", "a", "");
	media(&m, "10.0.0.5", 4002);
	feed(t, RW_OUT, &m, now);
	RSP(&m, 183, "INVITE", 1, "st", "a", "b");
	media(&m, "198.51.100.20", 6000);
	feed(t, RW_IN, &m, now);
	assert_int_equal(dialog_count(t), 3);
	assert_int_equal(dialog_expire(t, now + 179000, out, MAXI), 0);
	n = dialog_expire(t, now + 181000, out, MAXI);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_string_equal(out[0].why, "timeout");
	assert_int_equal(dialog_count(t), 1);
	/* the established call: session timeout (7200 s), refreshed by SIP */
	REQ(&m, "OPTIONS", 9, "c1", "a", "b");
	feed(t, RW_OUT, &m, now + 3600000);
	assert_int_equal(dialog_expire(t, now + 7300000, out, MAXI), 0);
	n = dialog_expire(t, now + 3600000 + 7201000, out, MAXI);
	assert_int_equal(count_op(n, PIN_CLOSE), 4);
	assert_int_equal(dialog_count(t), 0);
	dialog_table_free(t);
}

static void test_caps(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t;
	struct dialog_stats st;
	struct msg m;
	size_t n;

	l.max_pinholes_per_dialog = 6;
	l.max_pinholes = 10;
	l.max_dialogs = 4;
	t = dialog_table_new(&l);
	/* two streams = 8 pinholes, cap 6 per dialog */
	REQ(&m, "INVITE", 1, "k1", "a", "");
	media(&m, "10.0.0.5", 4000);
	media(&m, "10.0.0.5", 4010);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "k1", "a", "b");
	media(&m, "198.51.100.20", 5000);
	media(&m, "198.51.100.20", 5010);
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(n, 6);
	/* second call: only 4 left in the table */
	REQ(&m, "INVITE", 1, "k2", "a", "");
	media(&m, "10.0.0.5", 4100);
	media(&m, "10.0.0.5", 4110);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "k2", "a", "b");
	media(&m, "198.51.100.20", 5100);
	media(&m, "198.51.100.20", 5110);
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(n, 4);
	assert_int_equal(dialog_pinhole_count(t), 10);
	/* dialogs: k1, k2 and their lingering protos; a fifth takes the
	 * place of the oldest one in setup (k1's proto) */
	REQ(&m, "INVITE", 1, "k3", "a", "");
	media(&m, "10.0.0.5", 4200);
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	assert_int_equal(dialog_count(t), 4);
	assert_int_equal(dialog_pinhole_count(t), 10);
	dialog_get_stats(t, &st);
	assert_true(st.pins_refused_cap >= 2);
	assert_int_equal(st.dialogs_evicted, 1);
	assert_int_equal(st.dialogs_refused, 0);
	dialog_table_free(t);
}

/* A flood of INVITEs nobody answers, into a full table: the oldest
 * dialogs in setup make room (an early dialog's pinholes close), the
 * established call keeps its media. */
static void test_eviction(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t;
	struct dialog_stats st;
	uint64_t now = 0;
	struct msg m;
	char cid[16];
	size_t n;

	l.max_dialogs = 4;
	t = basic_call(&now);	/* c1 established, 4 pinholes, 1 dialog */
	dialog_table_free(t);
	t = dialog_table_new(&l);
	now = 0;
	REQ(&m, "INVITE", 1, "est", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, now);
	RSP(&m, 200, "INVITE", 1, "est", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, now), 4);
	now += 40000;
	dialog_expire(t, now, out, MAXI);	/* the proto's linger ends */
	/* a call ringing with early media */
	REQ(&m, "INVITE", 1, "ring", "a", "");
	media(&m, "10.0.0.5", 4100);
	feed(t, RW_OUT, &m, now);
	RSP(&m, 183, "INVITE", 1, "ring", "a", "b");
	media(&m, "198.51.100.21", 5100);
	assert_int_equal(feed(t, RW_IN, &m, now), 4);
	assert_int_equal(dialog_count(t), 3);
	/* the flood: 4th fits, 5th evicts ring's proto, 6th ring's early dialog */
	for (int i = 0; i < 10; i++) {
		snprintf(cid, sizeof(cid), "fl%d", i);
		REQ(&m, "INVITE", 1, cid, "x", "");
		n = feed(t, RW_IN, &m, now);
		if (i == 2) {
			assert_int_equal(count_op(n, PIN_CLOSE), 4);
			assert_four(n, PIN_CLOSE, "198.51.100.21", 4100, 5100);
			assert_string_equal(out[0].why, "evicted");
		} else {
			assert_int_equal(n, 0);
		}
		assert_int_equal(dialog_count(t), i == 0 ? 4 : 4);
	}
	dialog_get_stats(t, &st);
	assert_int_equal(st.dialogs_evicted, 9);
	assert_int_equal(st.dialogs_refused, 0);
	assert_int_equal(dialog_pinhole_count(t), 4);	/* est's, untouched */
	REQ(&m, "BYE", 2, "est", "a", "b");
	assert_int_equal(count_op(feed(t, RW_OUT, &m, now), PIN_CLOSE), 4);
	dialog_table_free(t);
}

static void test_special_addresses(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	const char *bad[] = { "127.0.0.1", "224.0.0.5", "255.255.255.255", "203.0.113.5",
			      "0.0.0.0" };
	struct msg m;
	char cid[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cid, sizeof(cid), "sp%zu", i);
		REQ(&m, "INVITE", 1, cid, "a", "");
		media(&m, "10.0.0.5", 4000);
		feed(t, RW_OUT, &m, 0);
		RSP(&m, 200, "INVITE", 1, cid, "a", "b");
		media(&m, bad[i], 5000);
		assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	}
	/* an inside address the map does not expose, an outside party that
	 * names one of our private addresses */
	REQ(&m, "INVITE", 1, "um", "a", "");
	media(&m, "10.0.0.77", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "um", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	REQ(&m, "INVITE", 1, "op", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "op", "a", "b");
	media(&m, "10.0.0.5", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	/* port 0: the stream is rejected */
	REQ(&m, "INVITE", 1, "p0", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "p0", "a", "b");
	media(&m, "198.51.100.20", 0);
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	/* an inside phone that writes its public address is read as private */
	REQ(&m, "INVITE", 1, "pub", "a", "");
	media(&m, "203.0.113.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "pub", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 4);
	assert_four(4, PIN_OPEN, "198.51.100.20", 4000, 5000);
	/* IPv6 works; the mapped public v6 is refused */
	REQ(&m, "INVITE", 1, "v6", "a", "");
	media(&m, "fd00::5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "v6", "a", "b");
	media(&m, "2001:db8::99", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 4);
	assert_true(has(4, PIN_OPEN, "2001:db8::99", "fd00::5", 4000));
	REQ(&m, "INVITE", 1, "v6b", "a", "");
	media(&m, "fd00::5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "v6b", "a", "b");
	media(&m, "2001:db8::5", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 0);
	dialog_table_free(t);
}

/* Two dialogs on one flow (same addresses and ports): ending one keeps
 * the pinholes the other still needs. */
static void test_shared_pinholes(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	const char *ids[] = { "s1", "s2" };
	struct msg m;
	size_t n;

	for (int i = 0; i < 2; i++) {
		REQ(&m, "INVITE", 1, ids[i], "a", "");
		media(&m, "10.0.0.5", 4000);
		feed(t, RW_OUT, &m, 0);
		RSP(&m, 200, "INVITE", 1, ids[i], "a", "b");
		media(&m, "198.51.100.20", 5000);
		n = feed(t, RW_IN, &m, 0);
		/* the second dialog only refreshes what is already open */
		assert_int_equal(count_op(n, PIN_OPEN), 4);
	}
	assert_int_equal(dialog_pinhole_count(t), 4);
	REQ(&m, "BYE", 2, "s1", "a", "b");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	REQ(&m, "BYE", 2, "s2", "a", "b");
	assert_int_equal(count_op(feed(t, RW_OUT, &m, 0), PIN_CLOSE), 4);
	dialog_table_free(t);
}

/* out[] with room for one intent: the rest comes out of later calls,
 * nothing is lost. */
static void test_deferred(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct msg m;
	size_t n, total = 0;

	REQ(&m, "INVITE", 1, "d1", "a", "");
	media(&m, "10.0.0.5", 4000);
	dialog_on_message(t, RW_OUT, &m.r, 0, out, 1);
	RSP(&m, 200, "INVITE", 1, "d1", "a", "b");
	media(&m, "198.51.100.20", 5000);
	total += dialog_on_message(t, RW_IN, &m.r, 0, out, 1);
	for (int i = 0; i < 10 && (n = dialog_expire(t, 0, out, 1)) > 0; i++) {
		assert_int_equal(out[0].op, PIN_OPEN);
		total += n;
	}
	assert_int_equal(total, 4);
	REQ(&m, "BYE", 2, "d1", "a", "b");
	total = dialog_on_message(t, RW_OUT, &m.r, 0, out, 1);
	for (int i = 0; i < 10 && (n = dialog_expire(t, 0, out, 1)) > 0; i++) {
		assert_int_equal(out[0].op, PIN_CLOSE);
		total += n;
	}
	assert_int_equal(total, 4);
	assert_int_equal(dialog_expire(t, 0, out, 1), 0);
	dialog_table_free(t);
}

/* Garbage in: passthrough results, missing tags, huge Call-ID. */
static void test_ignored(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	static char longid[1000];
	struct msg m;

	REQ(&m, "INVITE", 1, "g", "a", "");
	m.r.status = RW_PASSTHROUGH;
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	memset(longid, 'x', sizeof(longid) - 1);
	REQ(&m, "INVITE", 1, longid, "a", "");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	REQ(&m, "INVITE", 1, NULL, "a", "");
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	REQ(&m, "INVITE", 1, "g", NULL, NULL);
	media(&m, "10.0.0.5", 4000);
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	assert_int_equal(dialog_count(t), 1);
	RSP(&m, 200, "INVITE", 1, "g", NULL, "b");
	media(&m, "198.51.100.20", 5000);
	m.m[0].nports = 60000;	/* m=audio 5000/60000 is bounded */
	assert_true(feed(t, RW_IN, &m, 0) <= 32);
	dialog_table_free(t);
}

/* Each pinhole carries its stream's class: audio and video are class
 * AV, image (T.38) and the other types OTHER; a pair whose two m= lines
 * disagree (audio against text) gets OTHER.  Closes carry the class too. */
static void test_media_class(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	static const char *types[][2] = {
		{ "audio", "audio" }, { "image", "image" }, { "video", "video" },
		{ "audio", "text" },
	};
	struct msg m;
	size_t n;

	(void)state;
	REQ(&m, "INVITE", 1, "mc", "a", "");
	for (int i = 0; i < 4; i++)
		snprintf(media(&m, "10.0.0.5", (uint16_t)(4000 + 10 * i))->type, 16, "%s",
			 types[i][0]);
	assert_int_equal(feed(t, RW_OUT, &m, 0), 0);
	RSP(&m, 200, "INVITE", 1, "mc", "a", "b");
	for (int i = 0; i < 4; i++)
		snprintf(media(&m, "198.51.100.20", (uint16_t)(5000 + 10 * i))->type, 16, "%s",
			 types[i][1]);
	/* the fourth pair is a mismatch (audio against text): OTHER */
	n = feed(t, RW_IN, &m, 0);
	assert_int_equal(n, 16);
	for (int i = 0; i < 4; i++) {
		int want = i == 0 || i == 2 ? PIN_CLASS_AV : PIN_CLASS_OTHER;
		uint16_t lp = (uint16_t)(4000 + 10 * i), pp = (uint16_t)(5000 + 10 * i);

		assert_int_equal(class_of(n, "198.51.100.20", "10.0.0.5", lp), want);
		assert_int_equal(class_of(n, "198.51.100.20", "10.0.0.5", lp + 1), want);
		assert_int_equal(class_of(n, "10.0.0.5", "198.51.100.20", pp), want);
		assert_int_equal(class_of(n, "10.0.0.5", "198.51.100.20", pp + 1), want);
	}
	/* re-INVITE: the video answer now says "message": its pair drops to OTHER */
	REQ(&m, "INVITE", 2, "mc", "a", "b");
	for (int i = 0; i < 4; i++)
		snprintf(media(&m, "10.0.0.5", (uint16_t)(4000 + 10 * i))->type, 16, "%s",
			 types[i][0]);
	assert_int_equal(feed(t, RW_OUT, &m, 1000), 0);
	RSP(&m, 200, "INVITE", 2, "mc", "a", "b");
	for (int i = 0; i < 4; i++)
		snprintf(media(&m, "198.51.100.20", (uint16_t)(5000 + 10 * i))->type, 16, "%s",
			 i == 2 ? "message" : types[i][1]);
	n = feed(t, RW_IN, &m, 1000);
	/* same tuples: the pinholes are kept (a tuple is one pinhole), so the
	 * refresh keeps the class they were opened with */
	assert_int_equal(count_op(n, PIN_CLOSE), 0);
	REQ(&m, "BYE", 3, "mc", "a", "b");
	n = feed(t, RW_OUT, &m, 2000);
	assert_int_equal(n, 16);
	assert_int_equal(class_of(n, "198.51.100.20", "10.0.0.5", 4010), PIN_CLASS_OTHER);
	assert_int_equal(class_of(n, "198.51.100.20", "10.0.0.5", 4000), PIN_CLASS_AV);
	assert_int_equal(class_of(n, "198.51.100.20", "10.0.0.5", 4020), PIN_CLASS_AV);
	dialog_table_free(t);
}

/* The seam with the rewrite core: real messages through rw_rewrite(), the
 * results into dialog.c.  The phone's INVITE leaves with its private SDP
 * (10.0.0.5:20000), the answer comes from outside; the pinholes must name
 * the private receiver, as the forward hook sees it after DNAT. */
static const char invite_out[] =
	"INVITE sip:bob@198.51.100.30 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@10.0.0.5:5062>;tag=al1\r\n"
	"To: <sip:bob@198.51.100.30>\r\n"
	"Call-ID: seam-1@10.0.0.5\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@10.0.0.5:5062>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 122\r\n"
	"\r\n"
	"v=0\r\n"
	"o=- 1 1 IN IP4 10.0.0.5\r\n"
	"s=-\r\n"
	"c=IN IP4 10.0.0.5\r\n"
	"t=0 0\r\n"
	"m=audio 20000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtcp:20009\r\n";

static const char ok_in[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-1\r\n"
	"From: <sip:alice@203.0.113.5>;tag=al1\r\n"
	"To: <sip:bob@198.51.100.30>;tag=bo1\r\n"
	"Call-ID: seam-1@10.0.0.5\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:bob@198.51.100.30>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 118\r\n"
	"\r\n"
	"v=0\r\n"
	"o=- 2 2 IN IP4 198.51.100.20\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.20\r\n"
	"t=0 0\r\n"
	"m=audio 30000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

static void test_with_rewrite_core(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t = dialog_table_new(&l);
	struct rw_config cfg = { .map = &map };
	struct rw_input in = { .transport = RW_UDP };
	struct rw_result res;
	struct arena a;
	size_t n;

	assert_int_equal(arena_init(&a, ARENA_DEFAULT_SIZE), 0);
	in.msg = (const uint8_t *)invite_out;
	in.len = strlen(invite_out);
	in.dir = RW_OUT;
	rw_rewrite(&cfg, &in, &a, &res);
	assert_int_equal(res.status, RW_REWRITTEN);
	assert_int_equal(res.sip.n_media, 1);
	assert_int_equal(dialog_on_message(t, RW_OUT, &res, 0, out, MAXI), 0);
	arena_reset(&a);

	in.msg = (const uint8_t *)ok_in;
	in.len = strlen(ok_in);
	in.dir = RW_IN;
	rw_rewrite(&cfg, &in, &a, &res);
	assert_true(res.status == RW_REWRITTEN || res.status == RW_UNCHANGED);
	assert_string_equal(res.sip.to_tag, "bo1");
	n = dialog_on_message(t, RW_IN, &res, 0, out, MAXI);
	assert_int_equal(n, 4);
	assert_true(has(n, PIN_OPEN, "198.51.100.20", "10.0.0.5", 20000));
	assert_true(has(n, PIN_OPEN, "198.51.100.20", "10.0.0.5", 20009));
	assert_true(has(n, PIN_OPEN, "10.0.0.5", "198.51.100.20", 30000));
	assert_true(has(n, PIN_OPEN, "10.0.0.5", "198.51.100.20", 30001));
	/* Inbound pinholes carry the public view the peer sends to (what
	 * expectation and dnat-map backends program); outbound ones none. */
	for (size_t i = 0; i < n; i++) {
		char pub[SN_ADDRSTRLEN];

		if (out[i].ph.dst.family == AF_INET &&
		    !strcmp((sn_addr_format(&out[i].ph.dst, pub, sizeof(pub)), pub), "10.0.0.5")) {
			sn_addr_format(&out[i].ph.pub.addr, pub, sizeof(pub));
			assert_string_equal(pub, "203.0.113.5");
			assert_int_equal(out[i].ph.pub.port, out[i].ph.dport);
		} else {
			assert_int_equal(out[i].ph.pub.addr.family, 0);
		}
	}
	arena_free(&a);
	dialog_table_free(t);
}

/* Random message sequences over a few calls, forks and SDPs, checked
 * against the obvious model of the kernel's set built from the intents:
 * never a close of something not open, never a special or own address,
 * the model's size equals dialog_pinhole_count() once nothing is
 * deferred, and all timeouts leave nothing behind. */
#define MODEL_MAX 4096
static struct pinhole model[MODEL_MAX];
static size_t nmodel;
static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static long model_find(const struct pinhole *p)
{
	for (size_t i = 0; i < nmodel; i++)
		if (model[i].l4proto == p->l4proto && model[i].dport == p->dport &&
		    sn_addr_equal(&model[i].src, &p->src) && sn_addr_equal(&model[i].dst, &p->dst))
			return (long)i;
	return -1;
}

static void model_apply(size_t n)
{
	struct sn_addr pub, unmapped;

	sn_addr_parse(&pub, "203.0.113.5", 11);
	sn_addr_parse(&unmapped, "10.0.0.10", 9);
	for (size_t i = 0; i < n; i++) {
		long k = model_find(&out[i].ph);

		assert_false(sn_addr_is_special(&out[i].ph.src));
		assert_false(sn_addr_is_special(&out[i].ph.dst));
		assert_false(sn_addr_equal(&out[i].ph.src, &pub));
		assert_false(sn_addr_equal(&out[i].ph.dst, &pub));
		assert_false(sn_addr_equal(&out[i].ph.src, &unmapped));
		assert_false(sn_addr_equal(&out[i].ph.dst, &unmapped));
		assert_int_not_equal(out[i].ph.dport, 0);
		if (out[i].op == PIN_OPEN) {
			if (k < 0) {
				assert_true(nmodel < MODEL_MAX);
				model[nmodel++] = out[i].ph;
			}
		} else {
			assert_true(k >= 0);	/* close of a pinhole never opened */
			model[k] = model[--nmodel];
		}
	}
}

static void drain(struct dialog_table *t, uint64_t now)
{
	size_t n;

	for (int i = 0; i < 1000 && (n = dialog_expire(t, now, out, MAXI)) > 0; i++)
		model_apply(n);
	assert_int_equal(nmodel, dialog_pinhole_count(t));
}

static void random_sdp(struct msg *m, enum rw_dir dir)
{
	static const char *in_addrs[] = { "10.0.0.5", "10.0.0.5", "10.0.0.5", "10.0.0.10",
					  "10.0.0.5", "10.0.0.5", "203.0.113.5", "0.0.0.0" };
	static const char *out_addrs[] = { "198.51.100.20", "198.51.100.21", "198.51.100.20",
					   "198.51.100.21", "198.51.100.22", "198.51.100.20",
					   "198.51.100.22", "127.0.0.1", "203.0.113.5", "0.0.0.0",
					   "10.0.0.5" };
	size_t nm = 1 + rnd(3);

	for (size_t i = 0; i < nm; i++) {
		const char *a = dir == RW_OUT ? in_addrs[rnd(8)] : out_addrs[rnd(11)];
		struct rw_media *x = media(m, a, rnd(8) == 0 ? 0 : (uint16_t)(4000 + 2 * rnd(6)));

		x->rtcp_mux = rnd(3) == 0;
		x->nports = rnd(10) == 0 ? 2 : 1;
		x->mdir = rnd(8) == 0 ? RW_INACTIVE : RW_SENDRECV;
		if (rnd(6) == 0)
			x->rtcp_orig = (uint16_t)(6000 + rnd(4));
	}
}

static void test_random_sequences(void **state)
{
	static const char *methods[] = { "INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "PRACK",
					 "OPTIONS" };
	static const int statuses[] = { 100, 180, 183, 200, 200, 486, 487, 488, 481 };
	static const char *cids[] = { "r0", "r1", "r2", "r3", "r4", "r5" };
	static const char *tags[] = { "", "x1", "x2", "x3" };
	struct dialog_limits l = lim();
	struct dialog_table *t;
	struct dialog_stats st;
	uint64_t now = 1;
	size_t maxmodel = 0;
	struct msg m;

	l.max_pinholes = 30;		/* reach the caps too */
	l.max_pinholes_per_dialog = 12;
	l.max_dialogs = 12;
	t = dialog_table_new(&l);
	nmodel = 0;
	for (int step = 0; step < 100000; step++) {
		enum rw_dir dir = rnd(2) ? RW_OUT : RW_IN;
		const char *cid = cids[rnd(6)];
		/* mostly the caller "a" and a few callee tags, sometimes none */
		const char *ft = rnd(3) ? "a" : tags[1 + rnd(3)];
		const char *tt = !strcmp(ft, "a") ? tags[rnd(4)] : rnd(4) ? "a" : "";
		size_t n, max = 1 + rnd(12);

		if (rnd(2))
			REQ(&m, methods[rnd(7)], 1 + rnd(3), cid, ft, tt);
		else
			RSP(&m, statuses[rnd(9)], rnd(4) ? "INVITE" : "UPDATE", 1 + rnd(3), cid, ft, tt);
		if (rnd(2))
			random_sdp(&m, dir);
		n = dialog_on_message(t, dir, &m.r, now, out, max);
		assert_true(n <= max);
		model_apply(n);
		if (nmodel > maxmodel)
			maxmodel = nmodel;
		now += rnd(1500);
		if (rnd(50) == 0) {
			n = dialog_expire(t, now, out, 1 + rnd(4));
			model_apply(n);
		}
		if (rnd(100) == 0)
			drain(t, now);
		if (rnd(5000) == 0)
			now += 8000000;	/* past every timeout */
	}
	drain(t, now);
	drain(t, now + 8000000);
	dialog_get_stats(t, &st);
	print_message("random: %llu dialogs (%llu evicted), %llu opens, %llu closes, %llu deferred, "
		      "%llu refused (cap), %llu refused (addr), max model %zu\n",
		      (unsigned long long)st.dialogs_created, (unsigned long long)st.dialogs_evicted, (unsigned long long)st.pins_opened,
		      (unsigned long long)st.pins_closed, (unsigned long long)st.intents_deferred,
		      (unsigned long long)st.pins_refused_cap, (unsigned long long)st.pins_refused_addr,
		      maxmodel);
	/* the sequence must reach the states it is meant to test */
	assert_true(st.dialogs_created > 1000 && st.pins_opened > 1000 &&
		    st.intents_deferred > 100 && st.pins_refused_cap > 10 && maxmodel >= 24 &&
		    st.dialogs_evicted > 10);
	assert_int_equal(dialog_count(t), 0);
	assert_int_equal(dialog_pinhole_count(t), 0);
	assert_int_equal(nmodel, 0);
	dialog_table_free(t);
}

/* SipHash-2-4 test vectors from the paper (key 00..0f). */
static void test_siphash_vectors(void **state)
{
	const uint64_t key[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[15];

	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(sn_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(sn_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* A keyed table behaves the same. */
static void test_hash_key(void **state)
{
	struct dialog_limits l = lim();
	struct dialog_table *t;
	struct msg m;

	l.hash_key[0] = 0x0123456789abcdefULL;
	l.hash_key[1] = 42;
	t = dialog_table_new(&l);
	REQ(&m, "INVITE", 1, "hk", "a", "");
	media(&m, "10.0.0.5", 4000);
	feed(t, RW_OUT, &m, 0);
	RSP(&m, 200, "INVITE", 1, "hk", "a", "b");
	media(&m, "198.51.100.20", 5000);
	assert_int_equal(feed(t, RW_IN, &m, 0), 4);
	REQ(&m, "BYE", 2, "hk", "b", "a");
	assert_int_equal(count_op(feed(t, RW_IN, &m, 0), PIN_CLOSE), 4);
	dialog_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_offer_answer_bye, setup),
		cmocka_unit_test_setup(test_inbound_call_and_rtcp_attr, setup),
		cmocka_unit_test_setup(test_late_offer, setup),
		cmocka_unit_test_setup(test_early_media_prack_fork, setup),
		cmocka_unit_test_setup(test_reinvite_hold_resume_port, setup),
		cmocka_unit_test_setup(test_public_port_moves, setup),
		cmocka_unit_test_setup(test_confirm_refreshes, setup),
		cmocka_unit_test_setup(test_cancel_and_failure, setup),
		cmocka_unit_test_setup(test_timeouts, setup),
		cmocka_unit_test_setup(test_caps, setup),
		cmocka_unit_test_setup(test_eviction, setup),
		cmocka_unit_test_setup(test_special_addresses, setup),
		cmocka_unit_test_setup(test_shared_pinholes, setup),
		cmocka_unit_test_setup(test_deferred, setup),
		cmocka_unit_test_setup(test_ignored, setup),
		cmocka_unit_test_setup(test_media_class, setup),
		cmocka_unit_test_setup(test_with_rewrite_core, setup),
		cmocka_unit_test_setup(test_random_sequences, setup),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test_setup(test_hash_key, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
