/* sipload.c - SIP load generator for `make bench`: both ends of the calls.
 *
 * Owns: generating realistic SIP calls (INVITE with SDP, 200 OK with SDP,
 * ACK, BYE, 200) between a phone socket in one network namespace and a
 * server socket in another, pacing them (fixed rate, or a fixed number of
 * calls in flight), and measuring messages/s and one-way latency of every
 * message.  Both sockets live in this one process (each is created after a
 * setns() into its namespace), so a lost message is noticed by the sender
 * and both ends read the same clock: the send time is CLOCK_REALTIME taken
 * just before sendto(), the receive time is the kernel's SO_TIMESTAMPNS
 * stamp (also CLOCK_REALTIME) of when the packet entered the receiving
 * namespace, so our own wake-up delay on a busy machine is not counted.
 * Pacing and timeouts use CLOCK_MONOTONIC.
 * Must not: send anywhere but the addresses it is given (the bench's own
 * namespaces), run unbounded (every phase has a deadline), or parse SIP
 * beyond finding its own X-Bench header and copying the Via line back.
 *
 * Each message carries "X-Bench: <call> <kind> <send time ns>"; the kinds
 * are I (INVITE), O (200 to INVITE), A (ACK), B (BYE), P (200 to BYE).
 * The router in between may rewrite addresses and lengths; the X-Bench
 * header stays as it is, so it is what the receiver reads.
 *
 * Output: one line of key=value pairs on stdout (bench.sh parses it).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#define MSG_MAX 4096
#define RING 65536			/* call slots; > any window or rate*timeout */
#define MAX_SAMPLES (8u << 20)		/* latency samples kept (32 MiB) */
#define STALL_NS (2000ull * 1000000)	/* a call not progressing this long is lost */
#define DRAIN_NS (1000ull * 1000000)	/* wait for stragglers after the last call */

enum mix { MIX_CALL, MIX_DIALOG, MIX_INVITE };
static const unsigned msgs_per_call[] = { 5, 3, 1 };

struct opts {
	const char *tx_ns, *rx_ns, *label;
	struct sockaddr_in tx, rx;	/* phone (private) and server addresses */
	char priv[INET_ADDRSTRLEN];	/* phone's address, for the leak count */
	char pub[INET_ADDRSTRLEN];	/* its public view, for the leak count */
	enum mix mix;
	double rate;			/* messages/s; 0: closed loop */
	unsigned window;		/* calls in flight (closed loop) */
	double duration;		/* seconds of measurement */
	unsigned long calls;		/* stop after this many calls (0: duration) */
};

enum cstate { C_FREE, C_INVITED, C_ACKED, C_BYE };

struct call {
	uint8_t state;
	uint32_t id;
	uint64_t t_last;
};

struct stats {
	uint64_t sent, recvd, recvd_in_window, lost_calls, done_calls, started;
	uint64_t out_msgs, out_priv_leak, in_msgs, in_pub_leak, send_err, bad;
	uint32_t *lat;			/* ns, capped at UINT32_MAX */
	size_t nlat, caplat;
};

static struct opts o;
static struct call ring[RING];
static struct stats st;
static int fd_tx = -1, fd_rx = -1;
static uint32_t run_id;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* This process's on-CPU time.  Without IRQ time accounting (the host
 * kernel), the softirq work our sendto() triggers on the way through the
 * router namespace runs in our context and is counted here too. */
static uint64_t self_cpu_ns(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/schedstat", "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void die(const char *what)
{
	fprintf(stderr, "sipload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sipload --tx-ns NS --rx-ns NS --tx IP:PORT --rx IP:PORT\n"
		"               [--pub IP] [--mix call|dialog|invite] [--label NAME]\n"
		"               (--rate MSGS_PER_S | --window CALLS) (--duration S | --calls N)\n");
	exit(2);
}

static void parse_ep(struct sockaddr_in *sa, const char *s)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		usage();
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		usage();
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		usage();
}

/* A UDP socket bound to addr inside network namespace ns.  The socket
 * keeps that namespace after we move on to the next one. */
static int ns_socket(const char *ns, const struct sockaddr_in *addr)
{
	char path[PATH_MAX];
	int nsfd, fd, one = 1, buf = 8 << 20;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(path);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns");
	close(nsfd);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		die("SO_TIMESTAMPNS");
	/* Bursts of a closed loop must not be lost in our own buffers. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("bind");
	return fd;
}

/* ---- message building ------------------------------------------------ */

/* The timestamp is written last, right before sendto, into a fixed-width
 * field: "%020" PRIu64 at the offset build_* returns. */
#define TS_PLACEHOLDER "00000000000000000000"
#define TS_WIDTH 20

struct msg {
	char buf[MSG_MAX];
	size_t len;
	size_t ts_off;
};

static void msg_put(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void msg_put(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->len, sizeof(m->buf) - m->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(m->buf) - m->len) {
		fprintf(stderr, "sipload: message too long\n");
		exit(1);
	}
	m->len += (size_t)n;
}

static void put_xbench(struct msg *m, uint32_t id, char kind)
{
	msg_put(m, "X-Bench: %" PRIu32 " %c ", id, kind);
	m->ts_off = m->len;
	msg_put(m, TS_PLACEHOLDER "\r\n");
}

static void put_sdp(struct msg *m, const char *user, const char *ip, unsigned port)
{
	char sdp[512];
	int n = snprintf(sdp, sizeof(sdp),
			 "v=0\r\n"
			 "o=%s 2890844526 2890844526 IN IP4 %s\r\n"
			 "s=-\r\n"
			 "c=IN IP4 %s\r\n"
			 "t=0 0\r\n"
			 "m=audio %u RTP/AVP 0 8 101\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "a=fmtp:101 0-15\r\n"
			 "a=ptime:20\r\n"
			 "a=sendrecv\r\n",
			 user, ip, ip, port);

	if (n < 0 || (size_t)n >= sizeof(sdp))
		exit(1);
	msg_put(m, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", n, sdp);
}

/* Phone side: INVITE, ACK, BYE in the private view. */
static void build_request(struct msg *m, uint32_t id, char kind)
{
	char dst[INET_ADDRSTRLEN];
	const char *method = kind == 'I' ? "INVITE" : kind == 'A' ? "ACK" : "BYE";
	unsigned cseq = kind == 'B' ? 2 : 1;
	unsigned port = ntohs(o.rx.sin_port), myport = ntohs(o.tx.sin_port);

	inet_ntop(AF_INET, &o.rx.sin_addr, dst, sizeof(dst));
	m->len = 0;
	msg_put(m, "%s sip:bob@%s:%u SIP/2.0\r\n", method, dst, port);
	msg_put(m, "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%08" PRIx32 "-%" PRIu32 "-%c;rport\r\n",
		o.priv, myport, run_id, id, kind);
	msg_put(m, "Max-Forwards: 70\r\n");
	msg_put(m, "From: \"Alice\" <sip:alice@example.org>;tag=a%" PRIu32 "\r\n", id);
	if (kind == 'I')
		msg_put(m, "To: <sip:bob@example.net>\r\n");
	else
		msg_put(m, "To: <sip:bob@example.net>;tag=b%" PRIu32 "\r\n", id);
	msg_put(m, "Call-ID: %08" PRIx32 "-%" PRIu32 "@bench.example.org\r\n", run_id, id);
	msg_put(m, "CSeq: %u %s\r\n", cseq, method);
	msg_put(m, "Contact: <sip:alice@%s:%u>\r\n", o.priv, myport);
	msg_put(m, "User-Agent: sipnat-bench\r\n");
	put_xbench(m, id, kind);
	if (kind == 'I')
		put_sdp(m, "alice", o.priv, 20000 + 2 * (id % 10000));
	else
		msg_put(m, "Content-Length: 0\r\n\r\n");
}

/* Copies the request's Via line(s) verbatim, as a real UAS does: that is
 * what the router must map back on the way in. */
static void put_vias(struct msg *m, const char *req, size_t len)
{
	const char *p = req, *end = req + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol ? (size_t)(eol - p + 1) : (size_t)(end - p);

		if (l <= 2)	/* blank line: end of headers */
			break;
		if ((l > 4 && strncasecmp(p, "Via:", 4) == 0) ||
		    (l > 2 && strncasecmp(p, "v:", 2) == 0)) {
			if (l >= sizeof(m->buf) - m->len)
				exit(1);
			memcpy(m->buf + m->len, p, l);
			m->len += l;
		}
		p += l;
	}
}

/* Server side: 200 OK to INVITE (kind O, with SDP) or to BYE (kind P). */
static void build_response(struct msg *m, uint32_t id, char kind, const char *req, size_t len)
{
	char me[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o.rx.sin_addr, me, sizeof(me));
	m->len = 0;
	msg_put(m, "SIP/2.0 200 OK\r\n");
	put_vias(m, req, len);
	msg_put(m, "From: \"Alice\" <sip:alice@example.org>;tag=a%" PRIu32 "\r\n", id);
	msg_put(m, "To: <sip:bob@example.net>;tag=b%" PRIu32 "\r\n", id);
	msg_put(m, "Call-ID: %08" PRIx32 "-%" PRIu32 "@bench.example.org\r\n", run_id, id);
	msg_put(m, "CSeq: %s\r\n", kind == 'O' ? "1 INVITE" : "2 BYE");
	msg_put(m, "Contact: <sip:bob@%s:%u>\r\n", me, ntohs(o.rx.sin_port));
	msg_put(m, "Server: sipnat-bench\r\n");
	put_xbench(m, id, kind);
	if (kind == 'O')
		put_sdp(m, "bob", me, 30000 + 2 * (id % 10000));
	else
		msg_put(m, "Content-Length: 0\r\n\r\n");
}

static void send_msg(int fd, struct msg *m, const struct sockaddr_in *to)
{
	char ts[TS_WIDTH + 1];

	snprintf(ts, sizeof(ts), "%020" PRIu64, wall_ns());
	memcpy(m->buf + m->ts_off, ts, TS_WIDTH);
	if (sendto(fd, m->buf, m->len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		st.send_err++;
	else
		st.sent++;
}

/* ---- receiving --------------------------------------------------------- */

struct xb {
	uint32_t id;
	char kind;
	uint64_t t;
};

static bool find_xbench(const char *p, size_t len, struct xb *x)
{
	static const char key[] = "\nX-Bench: ";
	const char *h = memmem(p, len, key, sizeof(key) - 1);
	char tmp[64];
	size_t n;
	unsigned long id;
	unsigned long long t;
	char kind;

	if (!h)
		return false;
	h += sizeof(key) - 1;
	n = (size_t)(p + len - h);
	if (n > sizeof(tmp) - 1)
		n = sizeof(tmp) - 1;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%lu %c %llu", &id, &kind, &t) != 3 || id > UINT32_MAX)
		return false;
	x->id = (uint32_t)id;
	x->kind = kind;
	x->t = t;
	return true;
}

static void add_sample(uint64_t lat)
{
	if (st.nlat == st.caplat) {
		size_t ncap = st.caplat ? st.caplat * 2 : 65536;
		uint32_t *n;

		if (ncap > MAX_SAMPLES)
			return;
		n = realloc(st.lat, ncap * sizeof(*n));
		if (!n)
			return;
		st.lat = n;
		st.caplat = ncap;
	}
	st.lat[st.nlat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
}

static struct call *slot(uint32_t id)
{
	struct call *c = &ring[id % RING];

	return c->state != C_FREE && c->id == id ? c : NULL;
}

static uint64_t t_start, t_end;	/* measurement window */
static uint64_t active;		/* calls in flight */

static void end_call(struct call *c)
{
	c->state = C_FREE;
	st.done_calls++;
	if (active)
		active--;
}

/* t_recv: monotonic, for the window and stalls; t_stamp: the kernel's
 * receive stamp, for latency. */
static void on_message(bool at_server, const char *buf, size_t len,
		       const struct sockaddr_in *from, uint64_t t_recv, uint64_t t_stamp)
{
	struct xb x;
	struct call *c;
	struct msg m;

	if (!find_xbench(buf, len, &x) || x.t > t_stamp) {
		st.bad++;
		return;
	}
	st.recvd++;
	if (t_recv >= t_start && t_recv < t_end)
		st.recvd_in_window++;
	add_sample(t_stamp - x.t);
	/* Rewrite evidence: what reaches the server must not show the
	 * phone's private address; what reaches the phone must not show its
	 * public one.  (Plain forwarding leaks on purpose: the baseline.) */
	if (at_server) {
		st.out_msgs++;
		if (memmem(buf, len, o.priv, strlen(o.priv)))
			st.out_priv_leak++;
	} else {
		st.in_msgs++;
		if (o.pub[0] && memmem(buf, len, o.pub, strlen(o.pub)))
			st.in_pub_leak++;
	}
	c = slot(x.id);
	if (!c)
		return;		/* a straggler of a call already given up */
	c->t_last = t_recv;
	switch (x.kind) {
	case 'I':
		if (o.mix == MIX_INVITE) {
			end_call(c);
			break;
		}
		build_response(&m, x.id, 'O', buf, len);
		send_msg(fd_rx, &m, from);
		break;
	case 'O':
		build_request(&m, x.id, 'A');
		send_msg(fd_tx, &m, &o.rx);
		if (o.mix == MIX_DIALOG) {
			c->state = C_ACKED;	/* done once the ACK arrives */
			break;
		}
		build_request(&m, x.id, 'B');
		send_msg(fd_tx, &m, &o.rx);
		c->state = C_BYE;
		break;
	case 'A':
		if (o.mix == MIX_DIALOG)
			end_call(c);
		break;
	case 'B':
		build_response(&m, x.id, 'P', buf, len);
		send_msg(fd_rx, &m, from);
		break;
	case 'P':
		end_call(c);
		break;
	default:
		st.bad++;
	}
}

static void drain(int fd, bool at_server)
{
	char buf[MSG_MAX + 1];
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cbuf;
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int budget = 256;	/* let the other socket have its turn */

	while (budget-- > 0) {
		uint64_t stamp = 0;

		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				st.bad++;
			return;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				stamp = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			}
		if (!stamp)
			stamp = wall_ns();
		buf[n] = '\0';
		on_message(at_server, buf, (size_t)n, &from, now_ns(), stamp);
	}
}

/* ---- driving calls ------------------------------------------------------ */

static uint32_t next_id = 1;

static bool start_call(uint64_t now)
{
	struct call *c = &ring[next_id % RING];
	struct msg m;

	if (c->state != C_FREE)
		return false;
	c->state = C_INVITED;
	c->id = next_id++;
	c->t_last = now;
	st.started++;
	build_request(&m, c->id, 'I');
	send_msg(fd_tx, &m, &o.rx);
	return true;
}

/* Gives up on calls that stopped progressing (a message was lost) and
 * counts the calls still open.  Called every few ms.  Calls end roughly in
 * the order they start, so only ids from the oldest live one on are
 * scanned: a few windows' worth, not the whole ring. */
static uint32_t oldest = 1;

static void sweep(uint64_t now)
{
	bool all_done_so_far = true;

	if (next_id - oldest > RING)
		oldest = next_id - RING;
	active = 0;
	for (uint32_t id = oldest; id < next_id; id++) {
		struct call *c = &ring[id % RING];

		if (c->state == C_FREE || c->id != id) {
			if (all_done_so_far)
				oldest = id + 1;
			continue;
		}
		if (now - c->t_last > STALL_NS) {
			c->state = C_FREE;
			st.lost_calls++;
			if (all_done_so_far)
				oldest = id + 1;
		} else {
			all_done_so_far = false;
			active++;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i;

	if (!st.nlat)
		return 0;
	i = (size_t)(p / 100.0 * (double)(st.nlat - 1) + 0.5);
	return st.lat[i] / 1000.0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tx-ns", required_argument, 0, 't' }, { "rx-ns", required_argument, 0, 'r' },
		{ "tx", required_argument, 0, 'T' },	{ "rx", required_argument, 0, 'R' },
		{ "pub", required_argument, 0, 'p' },	{ "mix", required_argument, 0, 'm' },
		{ "rate", required_argument, 0, 'q' },	{ "window", required_argument, 0, 'w' },
		{ "duration", required_argument, 0, 'd' }, { "calls", required_argument, 0, 'c' },
		{ "label", required_argument, 0, 'l' },	{ 0, 0, 0, 0 }
	};
	bool have_tx = false, have_rx = false;
	struct sigaction sa;
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	struct pollfd pfd[3];
	uint64_t t0, now, last_sweep, deadline = 0, cpu0;
	double call_rate;
	int tfd, c;

	o.mix = MIX_CALL;
	o.window = 0;
	o.label = "run";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': o.tx_ns = optarg; break;
		case 'r': o.rx_ns = optarg; break;
		case 'T': parse_ep(&o.tx, optarg); have_tx = true; break;
		case 'R': parse_ep(&o.rx, optarg); have_rx = true; break;
		case 'p':
			if (strlen(optarg) >= sizeof(o.pub))
				usage();
			strcpy(o.pub, optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "call")) o.mix = MIX_CALL;
			else if (!strcmp(optarg, "dialog")) o.mix = MIX_DIALOG;
			else if (!strcmp(optarg, "invite")) o.mix = MIX_INVITE;
			else usage();
			break;
		case 'q': o.rate = strtod(optarg, NULL); break;
		case 'w': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o.duration = strtod(optarg, NULL); break;
		case 'c': o.calls = strtoul(optarg, NULL, 10); break;
		case 'l': o.label = optarg; break;
		default: usage();
		}
	}
	if (!o.tx_ns || !o.rx_ns || !have_tx || !have_rx || (o.rate <= 0) == (o.window == 0) ||
	    o.window >= RING / 2 || o.rate > 1e6 || (o.duration <= 0) == (o.calls == 0) ||
	    o.duration > 600 || o.calls > 10000000)
		usage();
	inet_ntop(AF_INET, &o.tx.sin_addr, o.priv, sizeof(o.priv));

	fd_rx = ns_socket(o.rx_ns, &o.rx);
	fd_tx = ns_socket(o.tx_ns, &o.tx);
	run_id = (uint32_t)getpid() ^ (uint32_t)now_ns();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		die("timerfd");
	pfd[0] = (struct pollfd){ .fd = fd_tx, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd_rx, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = tfd, .events = POLLIN };

	call_rate = o.rate / msgs_per_call[o.mix];
	cpu0 = self_cpu_ns();
	t0 = last_sweep = now_ns();
	t_start = t0;
	/* With --calls the window is the whole run (bounded at 600 s). */
	t_end = o.calls ? t0 + 600ull * 1000000000 : t0 + (uint64_t)(o.duration * 1e9);

	while (!stop) {
		bool more;

		now = now_ns();
		more = o.calls ? st.started < o.calls && now < t_end : now < t_end;
		if (more) {
			if (o.rate > 0) {
				uint64_t due = (uint64_t)((double)(now - t0) / 1e9 * call_rate) + 1;

				while (st.started < due && (!o.calls || st.started < o.calls))
					if (!start_call(now))
						break;
			} else {
				while (active < o.window && (!o.calls || st.started < o.calls)) {
					if (!start_call(now))
						break;
					active++;
				}
			}
		} else {
			if (!deadline)		/* last call started: drain */
				deadline = now + DRAIN_NS + STALL_NS;
			sweep(now);
			if (active == 0 || now > deadline)
				break;
		}
		if (poll(pfd, 3, 100) < 0 && errno != EINTR)
			die("poll");
		if (pfd[0].revents)
			drain(fd_tx, false);
		if (pfd[1].revents)
			drain(fd_rx, true);
		if (pfd[2].revents) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				die("timerfd read");
		}
		now = now_ns();
		if (now - last_sweep > 5000000) {
			sweep(now);
			last_sweep = now;
		}
	}
	now = now_ns();
	sweep(now + STALL_NS + 1);	/* what is left is lost */
	if (o.calls)
		t_end = now;

	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u32);
	{
		double secs = (double)(t_end - t_start) / 1e9;

		printf("label=%s mix=%s mode=%s secs=%.2f sent=%" PRIu64 " recvd=%" PRIu64
		       " rate=%.0f calls=%" PRIu64 " done=%" PRIu64 " lost_calls=%" PRIu64
		       " p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f out_msgs=%" PRIu64
		       " out_priv_leak=%" PRIu64 " in_msgs=%" PRIu64 " in_pub_leak=%" PRIu64
		       " send_err=%" PRIu64 " bad=%" PRIu64 " cpu_ns=%" PRIu64 "\n",
		       o.label, o.mix == MIX_CALL ? "call" : o.mix == MIX_DIALOG ? "dialog" : "invite",
		       o.rate > 0 ? "rate" : "window", secs, st.sent, st.recvd,
		       secs > 0 ? (double)st.recvd_in_window / secs : 0.0, st.started, st.done_calls,
		       st.lost_calls, pct(50), pct(90), pct(99), pct(100), st.out_msgs,
		       st.out_priv_leak, st.in_msgs, st.in_pub_leak, st.send_err, st.bad,
		       self_cpu_ns() - cpu0);
	}
	free(st.lat);
	close(tfd);
	close(fd_tx);
	close(fd_rx);
	return 0;
}
