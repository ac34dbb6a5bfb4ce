/* dialog_mem.c - the bench's fallback memory probe: N open dialogs held by
 * the rewrite core and the dialog table in this one process, no daemon.
 *
 * Owns: feeding N INVITE(+SDP, out) / 200 OK(+SDP, in) pairs through
 * rw_rewrite() and dialog_on_message() exactly as the queue loop would,
 * then printing the process's VmRSS/VmHWM before and after.  bench.sh uses
 * it only when nfqd cannot run as a daemon; the number is then a lower
 * bound of the daemon's (no queue buffers, no pinhole backend).
 * Must not: touch the network or the kernel; pinhole intents are counted
 * and dropped.
 *
 *   dialog_mem [N]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "arena.h"
#include "dialog.h"
#include "natmap.h"
#include "rewrite.h"

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static size_t sdp(char *buf, size_t n, const char *user, const char *ip, unsigned port)
{
	int l = snprintf(buf, n,
			 "v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
			 "a=sendrecv\r\n",
			 user, ip, ip, port);
	return l < 0 ? 0 : (size_t)l;
}

static size_t invite(char *buf, size_t n, unsigned long i)
{
	char body[512];
	size_t bl = sdp(body, sizeof(body), "alice", "10.0.0.5", 20000 + 2 * (unsigned)(i % 10000));
	int l = snprintf(buf, n,
			 "INVITE sip:bob@198.51.100.10:5060 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-%lu;rport\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@example.org>;tag=a%lu\r\n"
			 "To: <sip:bob@example.net>\r\n"
			 "Call-ID: %lu@bench.example.org\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Contact: <sip:alice@10.0.0.5:5060>\r\n"
			 "Content-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 i, i, i, bl, body);
	return l < 0 || (size_t)l >= n ? 0 : (size_t)l;
}

static size_t ok200(char *buf, size_t n, unsigned long i)
{
	char body[512];
	size_t bl = sdp(body, sizeof(body), "bob", "198.51.100.10", 30000 + 2 * (unsigned)(i % 10000));
	int l = snprintf(buf, n,
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-%lu;rport=5060\r\n"
			 "From: <sip:alice@example.org>;tag=a%lu\r\n"
			 "To: <sip:bob@example.net>;tag=b%lu\r\n"
			 "Call-ID: %lu@bench.example.org\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Contact: <sip:bob@198.51.100.10:5060>\r\n"
			 "Content-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 i, i, i, i, bl, body);
	return l < 0 || (size_t)l >= n ? 0 : (size_t)l;
}

static void ep(struct sn_endpoint *e, const char *s)
{
	if (sn_endpoint_parse(e, s, strlen(s)) < 0)
		exit(1);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000, i, rewritten = 0;
	struct dialog_limits lim = {
		.max_dialogs = 100000, .max_pinholes_per_dialog = 32, .max_pinholes = 400000,
		.media_timeout_s = 60, .setup_timeout_s = 180, .session_timeout_s = 7200,
	};
	static struct pin_intent pi[64];
	struct natmap map = { .n = 0 };
	struct rw_config cfg = { .map = &map };
	struct dialog_table *t;
	struct arena a;
	char err[128], buf[4096];
	long rss0, hwm0;
	uint64_t now = 1000, opens = 0;

	if (n == 0 || n > 1000000 || natmap_add_spec(&map, "10.0.0.5=203.0.113.5", err, sizeof(err)) ||
	    arena_init(&a, ARENA_DEFAULT_SIZE) < 0) {
		fprintf(stderr, "dialog_mem: bad N or setup failed\n");
		return 2;
	}
	t = dialog_table_new(&lim);
	if (!t)
		return 1;
	rss0 = status_kb("VmRSS");
	hwm0 = status_kb("VmHWM");
	for (i = 0; i < n; i++) {
		struct rw_input in = { .transport = RW_UDP };
		struct rw_result r;
		size_t k;

		in.msg = (const uint8_t *)buf;
		in.len = invite(buf, sizeof(buf), i);
		in.dir = RW_OUT;
		ep(&in.src, "10.0.0.5:5060");
		ep(&in.dst, "198.51.100.10:5060");
		arena_reset(&a);
		rw_rewrite(&cfg, &in, &a, &r);
		rewritten += r.status == RW_REWRITTEN;
		if (r.status == RW_REWRITTEN || r.status == RW_UNCHANGED)
			dialog_on_message(t, RW_OUT, &r, now, pi, 64);

		in.len = ok200(buf, sizeof(buf), i);
		in.dir = RW_IN;
		ep(&in.src, "198.51.100.10:5060");
		ep(&in.dst, "10.0.0.5:5060");	/* after DNAT, as the forward hook sees it */
		arena_reset(&a);
		rw_rewrite(&cfg, &in, &a, &r);
		rewritten += r.status == RW_REWRITTEN;
		if (r.status == RW_REWRITTEN || r.status == RW_UNCHANGED) {
			k = dialog_on_message(t, RW_IN, &r, now, pi, 64);
			while (k--)
				opens += pi[k].op == PIN_OPEN;
		}
		now += 1;
	}
	{
		long rss1 = status_kb("VmRSS"), hwm1 = status_kb("VmHWM");

		printf("dialogs open: %zu, pinholes: %zu (open intents %" PRIu64 "), messages rewritten: %lu of %lu\n",
		       dialog_count(t), dialog_pinhole_count(t), opens, rewritten, 2 * n);
		printf("before: VmRSS %ld kB  VmHWM %ld kB\n", rss0, hwm0);
		printf("after:  VmRSS %ld kB  VmHWM %ld kB\n", rss1, hwm1);
		/* Per call, as bench.sh prints it for the daemon: the table also
		 * holds each answered INVITE's fork-proto dialog for a while. */
		printf("growth: %ld kB, %.0f bytes per INVITE/200 pair\n", rss1 - rss0,
		       (double)(rss1 - rss0) * 1024.0 / (double)n);
	}
	dialog_table_free(t);
	arena_free(&a);
	return 0;
}
