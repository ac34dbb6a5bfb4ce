/* daemon.c - `nfqd` itself: options and configuration, then the queue
 * loop that feeds every queued SIP packet to the rewrite core.
 *
 *   queue_receive -> on_packet: pkt_parse -> direction from the map
 *       -> rw_rewrite -> pkt_rebuild -> dialog_on_message -> pinhole
 *       backend (before the verdict: media may follow the message at
 *       once) -> verdict
 *
 * Owns: option parsing, the main loop, signals (TERM/INT stop, HUP
 * reloads), the per-packet arena (reset once per packet) and counting.
 * Must not: look into SIP (rewrite.c does), speak netlink (queue.c does),
 * or drop a packet it could not parse unless strict says so.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "arena.h"
#include "cmds.h"
#include "conf.h"
#include "ctl.h"
#include "cthelper.h"
#include "ctmap.h"
#include "dialog.h"
#include "fp_sync.h"
#include "log.h"
#include "masq.h"
#include "medport.h"
#include "medrw.h"
#include "pat_nft.h"
#include "pinhole.h"
#include "pkt.h"
#include "probe.h"
#include "queue.h"
#include "rewrite.h"
#include "stats.h"

#ifndef NFQD_VERSION
#define NFQD_VERSION "0.1"
#endif

/* Packets handled per wakeup before the loop looks at signals, the
 * control socket and timers again. */
#define BURST 64
#define TICK_MS 1000
/* Helper mode: media port leases and refused marks (medport.c); about 8
 * streams' worth for each of 512 parties. */
#define MEDPORT_ENTRIES 4096

enum { OPT_KEY = 256, OPT_PROBE = 1000, OPT_CHECK, OPT_HELP, OPT_VERSION, OPT_CONFIG };

struct flag {
	const char *key, *value;
};

struct daemon {
	struct conf conf;
	const char *conf_path;	/* NULL: the default, if it exists */
	struct flag *flags;	/* command-line keys, re-applied on reload */
	size_t nflags;
	struct rw_config rw;
	struct arena arena;
	struct queue q;
	struct ctl ctl;
	struct stats st;
	struct ratelimit rl_pkt, rl_queue, rl_pin;
	/* Media pinholes; dt is NULL with media-backend none. */
	struct dialog_table *dt;
	const struct pinhole_ops *pin;
	void *pin_ctx;
	struct fp_sync *fps;	/* kmod fast path; NULL: off (fastpath = no, no pinholes) */
	uint64_t last_expire;
	uint64_t last_kernel_check, kernel_drops_seen;
	struct pin_intent intents[DIALOG_INTENTS_MIN];
	struct masq *masq;	/* NULL without masquerade keys */
	/* Conntrack helper mode (media-backend expect): the kernel queues the
	 * helped SIP flows with their conntrack; ctnm is the one-entry map
	 * taken from it for a packet whose host no `map` names. */
	bool helper;
	struct natmap ctnm;
	/* Helper mode: public media ports of the inside parties, so two
	 * behind one public address never announce the same one. */
	struct medport *mp;
	struct ratelimit rl_busy;
	/* ... and the maps that make the kernel's NAT use moved ports
	 * (sipnat-helper.nft pat_snat4/pat_dnat4): opened at the first moved
	 * port, since the ruleset is loaded after nfqd registered the helper. */
	struct pat_nft *mpnft;
	uint64_t mpnft_tried;
	uint64_t mpnft_failed;
};

static volatile sig_atomic_t got_stop, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static void nfqd_usage(FILE *f)
{
	fprintf(f,
		"usage: nfqd [-c FILE] [-n] [--probe] [--KEY VALUE]...   run the queue daemon\n"
		"       nfqd rewrite [options] FILE                       rewrite one message\n"
		"       nfqd status [--json] [--control-socket PATH]      a running nfqd's counters\n"
		"       nfqd --version | --help\n"
		"\n"
		"  -c, --config FILE     configuration file (default " CONF_DEFAULT_PATH ")\n"
		"  -n, --check-config    check the configuration, print \"configuration OK\", exit\n"
		"      --probe           report what the running kernel supports, exit\n"
		"  --KEY VALUE           any nfqd.conf(5) key; yes|no keys also as --KEY alone\n"
		"                        keys:");
	for (size_t i = 0; conf_key_name(i); i++)
		fprintf(f, "%s%s", i % 4 == 0 ? "\n                          " : " ",
			conf_key_name(i));
	fprintf(f, "\nSee nfqd(8) and nfqd.conf(5).\n");
}

/* defaults <- file <- flags, then the checks between keys. */
static int build_conf(struct conf *c, const char *path, const struct flag *flags, size_t n,
		      char *err, size_t errlen)
{
	conf_defaults(c);
	if (path || access(CONF_DEFAULT_PATH, F_OK) == 0) {
		if (conf_load(c, path ? path : CONF_DEFAULT_PATH, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (conf_set_flag(c, flags[i].key, flags[i].value, err, errlen))
			return -1;
	if (conf_check(c, err, errlen))
		return -1;
	/* As conntrack helper nfqd reads the NAT mapping off each flow's
	 * conntrack; auto decides at start (media_open). */
	if (c->map.n == 0 && c->map.n_masq == 0 && strcmp(c->media_backend, "expect") &&
	    strcmp(c->media_backend, "auto")) {
		snprintf(err, errlen, "map: no mapping given (map = PRIVATE=PUBLIC, "
			 "or masquerade = NET/PLEN=PUBLIC); only media-backend expect "
			 "takes the mapping from conntrack");
		return -1;
	}
	return 0;
}

static void apply_conf(struct daemon *d)
{
	d->rw.map = &d->conf.map;
	d->rw.rewrite_from_to = d->conf.rewrite_from_to;
	d->rw.strict = d->conf.strict;
	log_set_level((enum log_level)log_level_parse(d->conf.log_level));
}

/* SIGHUP: the map, rewrite options and log level change in place; what
 * is bound to sockets or sized at start needs a restart. */
static void reload(struct daemon *d)
{
	static struct conf nc;
	char err[512];

	if (build_conf(&nc, d->conf_path, d->flags, d->nflags, err, sizeof(err))) {
		log_err("reload: %s (keeping the running configuration)", err);
		return;
	}
#define KEEP_NUM(f, key) do { if (nc.f != d->conf.f) { \
		log_warn("reload: %s changes only on restart", key); nc.f = d->conf.f; } } while (0)
#define KEEP_STR(f, key) do { if (strcmp(nc.f, d->conf.f)) { \
		log_warn("reload: %s changes only on restart", key); \
		memcpy(nc.f, d->conf.f, sizeof(nc.f)); } } while (0)
	KEEP_NUM(queue_num, "queue");
	KEEP_NUM(fail_closed, "fail-closed");
	KEEP_NUM(media_timeout_s, "media-timeout");
	KEEP_NUM(setup_timeout_s, "setup-timeout");
	KEEP_NUM(session_timeout_s, "session-timeout");
	KEEP_NUM(max_dialogs, "max-dialogs");
	KEEP_NUM(max_pinholes, "max-pinholes");
	KEEP_NUM(max_pinholes_per_dialog, "max-pinholes-per-dialog");
	KEEP_STR(table, "nft-table");
	KEEP_STR(media_backend, "media-backend");
	KEEP_STR(control_socket, "control-socket");
	KEEP_STR(fastpath, "fastpath");
#undef KEEP_NUM
#undef KEEP_STR
	d->conf = nc;
	apply_conf(d);
	log_info("reloaded configuration: %zu map entries", d->conf.map.n);
}

/* The kmod fast path (fp_sync.h) programs streams from pinhole intents, so
 * it exists only with a dialog table.  Without the module: one info line,
 * and nothing else changes. */
static void fastpath_open(struct daemon *d)
{
	struct fp_sync_conf fc = { .map = &d->conf.map, .timeout_s = d->conf.media_timeout_s,
				   .cookie_base = (uint64_t)getpid() << 32 };

	if (strcmp(d->conf.fastpath, "auto") || !d->dt)
		return;
	if (getrandom(fc.hash_key, sizeof(fc.hash_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(fc.hash_key))
		log_warn("fastpath: getrandom: %s; hash key not random", strerror(errno));
	d->fps = fp_sync_new(&fc);
	if (!d->fps)
		log_warn("fastpath: out of memory; media takes the normal path");
	else if (fp_sync_start(d->fps) == 0)
		log_info("fastpath: sipnat_fp is loaded; established media streams use it");
	else
		log_info("fastpath: sipnat_fp is not loaded (%s); media takes the normal path",
			 strerror(errno));
	d->st.fps = d->fps;
}

/* Helper mode's media port allocator: moved ports come from pat-ports,
 * leases live pat-timeout from their last use, a refused port stays taken
 * as long as the expectation that holds it may live. */
static int medport_open(struct daemon *d, char *err, size_t errlen)
{
	struct medport_conf mc = { .ttl_s = d->conf.pat_timeout_s, .busy_s = CTH_TIMEOUT_S,
				   .max = MEDPORT_ENTRIES };

	if (conf_pat_ports(d->conf.pat_ports, &mc.lo, &mc.hi)) {
		snprintf(err, errlen, "pat-ports: bad range '%s'", d->conf.pat_ports);
		return -1;
	}
	if (getrandom(mc.hash_key, sizeof(mc.hash_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(mc.hash_key))
		log_warn("media ports: getrandom: %s; hash key not random", strerror(errno));
	d->mp = medport_new(&mc);
	if (!d->mp) {
		snprintf(err, errlen, "media ports: out of memory");
		return -1;
	}
	d->rl_busy = (struct ratelimit)RATELIMIT_INIT;
	return 0;
}

/* media-backend expect: registers the conntrack helper and opens the
 * expectation backend.  0, or -1 with the reason in err (nothing left
 * registered). */
static int media_open_expect(struct daemon *d, const struct dialog_limits *lim, char *err,
			     size_t errlen)
{
	struct pin_backend_conf pc = { .table = d->conf.table,
				       .default_timeout_s = d->conf.media_timeout_s,
				       .errbuf = err, .errlen = errlen };

	if (cthelper_register(d->conf.queue_num, err, errlen))
		return -1;
	if (pin_expect_ops.open(&d->pin_ctx, &pc)) {
		cthelper_unregister();
		return -1;
	}
	d->pin = &pin_expect_ops;
	d->helper = true;
	d->dt = dialog_table_new(lim);
	if (!d->dt || medport_open(d, err, errlen)) {
		if (!d->dt)
			snprintf(err, errlen, "dialog table: out of memory");
		dialog_table_free(d->dt);
		d->dt = NULL;
		d->pin->close(d->pin_ctx);
		d->pin = NULL;
		d->helper = false;
		cthelper_unregister();
		return -1;
	}
	return 0;
}

/* The helper is global to the machine and stays while a ruleset names it
 * (EBUSY): flows in progress keep it, and a restarted nfqd takes it over. */
static void helper_close(struct daemon *d)
{
	if (!d->helper)
		return;
	d->helper = false;
	if (cthelper_unregister() == 0)
		log_info("conntrack helper %s unregistered", CTHELPER_NAME);
	else if (errno == EBUSY)
		log_info("conntrack helper %s stays registered: the ruleset names it "
			 "(sipnat-rules unload removes it)", CTHELPER_NAME);
	else
		log_warn("conntrack helper %s: unregister: %s", CTHELPER_NAME, strerror(errno));
}

/* Public media ports the kernel refused (EBUSY: another owner's
 * expectation): taken for a while, so the stream's next offer moves. */
static void media_refused(struct daemon *d, uint64_t now)
{
	struct pinhole r[16];
	size_t n;

	if (!d->mp || !d->pin->take_refused)
		return;
	while ((n = d->pin->take_refused(d->pin_ctx, r, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			char a[SN_ADDRSTRLEN];

			if (!medport_refused(d->mp, &r[i].pub.addr, r[i].pub.port, r[i].l4proto,
					     now))
				continue;	/* logged when it was marked */
			sn_addr_format(&r[i].pub.addr, a, sizeof(a));
			log_rl(&d->rl_busy, LOG_L_WARN,
			       "media port %s:%u/%u is held by another expectation (EBUSY); "
			       "the stream moves to another port at its next offer", a,
			       r[i].pub.port, r[i].l4proto);
		}
}

/* The party's moved media ports (e's pairs after an outbound message) as
 * pat_snat4/pat_dnat4 elements, before the verdict: its own media must
 * leave from the moved port, or the peer's media to that port clashes
 * with it in conntrack.  Renewed with every offer; they outlive the lease
 * by half (pat-timeout).  IPv4 UDP only, like the maps. */
static void moved_to_kernel(struct daemon *d, const struct natmap_entry *e, uint64_t now)
{
	char err[256];
	uint32_t ttl = d->conf.pat_timeout_s;

	if (e->n_media_pairs == 0 || e->pub.family != AF_INET)
		return;
	if (!d->mpnft) {
		if (d->mpnft_tried && now - d->mpnft_tried < 10 * TICK_MS)
			return;
		d->mpnft_tried = now;
		if (pat_nft_open(&d->mpnft, d->conf.table, err, sizeof(err))) {
			d->mpnft_failed++;
			log_rl(&d->rl_busy, LOG_L_WARN, "moved media ports: %s; media of a "
			       "moved stream sent first by the inside host may be lost", err);
			return;
		}
	}
	for (unsigned i = 0; i < e->n_media_pairs; i++) {
		struct pat_lease l = { { e->priv, e->media_pairs[i].priv, IPPROTO_UDP },
				       e->media_pairs[i].pub, 0 };

		pat_nft_put(d->mpnft, &l, &e->pub, ttl + ttl / 2, true);
	}
	if (pat_nft_commit(d->mpnft)) {
		d->mpnft_failed++;
		log_rl(&d->rl_busy, LOG_L_WARN, "moved media ports: nft map elements: %s",
		       strerror(errno));
	}
}

/* Deferred backend work, once the verdicts it waited for are sent. */
static void media_commit(struct daemon *d)
{
	if (d->pin && d->pin->commit) {
		d->st.pin_failed += (uint64_t)d->pin->commit(d->pin_ctx);
		media_refused(d, now_ms());
	}
}


/* Helper mode: direction, endpoints and map from the packet's conntrack.
 * Returns the map to rewrite with, or NULL (no conntrack or no NAT in it:
 * the caller falls back to the static map). */
static const struct natmap *ct_direction(struct daemon *d, struct rw_input *in)
{
	const void *ct;
	size_t len;
	uint32_t ctinfo;
	struct ct_tuple o, r;
	struct ctmap_view v;

	if (d->pin && d->pin->set_master)
		d->pin->set_master(d->pin_ctx, NULL);
	if (!queue_packet_ct(&d->q, &ct, &len, &ctinfo) || ctmap_parse(ct, len, &o, &r) ||
	    ctmap_view(&o, &r, ctmap_is_reply(ctinfo), &v))
		return NULL;
	in->dir = v.dir;
	in->src = v.src;
	in->dst = v.dst;
	if (d->pin && d->pin->set_master)
		d->pin->set_master(d->pin_ctx, &v.master);
	/* A host the config maps keeps its names and media-ports. */
	if (natmap_by_priv(&d->conf.map, &v.entry.priv))
		return &d->conf.map;
	d->ctnm.e[0] = v.entry;
	d->ctnm.n = 1;
	return &d->ctnm;
}

/* Opens the pinhole backend and the dialog table.  0, or -1 with the
 * reason in err. */
static int media_open(struct daemon *d, char *err, size_t errlen)
{
	const struct conf *c = &d->conf;
	struct pin_backend_conf pc = { .table = c->table,
				       .default_timeout_s = c->media_timeout_s,
				       .errbuf = err, .errlen = errlen };
	struct dialog_limits lim = {
		.max_dialogs = c->max_dialogs,
		.max_pinholes_per_dialog = c->max_pinholes_per_dialog,
		.max_pinholes = c->max_pinholes,
		.media_timeout_s = c->media_timeout_s,
		.setup_timeout_s = c->setup_timeout_s,
		.session_timeout_s = c->session_timeout_s,
		.map = &d->conf.map,	/* d->conf is updated in place on reload */
	};

	err[0] = '\0';
	if (!strcmp(c->media_backend, "none"))
		return 0;
	/* Call-IDs come from the wire: an unkeyed hash would let a peer pick
	 * IDs that all land in one bucket.  A short read leaves a weaker but
	 * still working key, so it is only logged. */
	if (getrandom(lim.hash_key, sizeof(lim.hash_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(lim.hash_key))
		log_warn("dialogs: getrandom: %s; hash key not random", strerror(errno));
	if (!strcmp(c->media_backend, "expect"))
		return media_open_expect(d, &lim, err, errlen);
	d->pin = &pin_nftset_ops;
	if (d->pin->open(&d->pin_ctx, &pc)) {
		if (!err[0])
			snprintf(err, errlen, "pinhole backend %s, table inet %s: %s",
				 d->pin->name, c->table, strerror(errno));
		d->pin = NULL;
		if (strcmp(c->media_backend, "auto"))
			return -1;
		/* auto: no nftset ruleset loaded; a kernel with conntrack
		 * helpers gets the expectation backend. */
		{
			char e2[256];

			if (media_open_expect(d, &lim, e2, sizeof(e2)) == 0) {
				err[0] = '\0';
				log_info("media-backend auto: expect (conntrack helper %s)",
					 CTHELPER_NAME);
				return 0;
			}
			log_info("media-backend auto: not expect: %s", e2);
			if (c->map.n == 0 && c->map.n_masq == 0) {
				snprintf(err, errlen, "map: no mapping given (map = PRIVATE=PUBLIC), "
					 "and no conntrack helper to take it from (%s)", e2);
				return -1;
			}
		}
		/* auto: rewriting SIP is still worth doing where the admin's
		 * own rules pass media; say loudly that nobody opens it. */
		log_warn("%s", err);
		log_warn("media-backend auto: running without pinholes (set media-backend "
			 "= nftset to make this an error)");
		err[0] = '\0';
		return 0;
	}
	d->dt = dialog_table_new(&lim);
	if (!d->dt) {
		snprintf(err, errlen, "dialog table: out of memory");
		d->pin->close(d->pin_ctx);
		d->pin = NULL;
		return -1;
	}
	fastpath_open(d);
	return 0;
}

/* flush: remove our pinholes; not when start failed, since the queue may
 * be held by another nfqd whose pinholes these are. */
static void media_close(struct daemon *d, bool flush)
{
	/* First: the module drops our flows with the socket, and media goes
	 * back to the pinholes, which stay. */
	fp_sync_free(d->fps);
	d->fps = NULL;
	d->st.fps = NULL;
	if (d->pin) {
		if (flush && d->pin->flush(d->pin_ctx))
			log_warn("pinholes: flush at exit: %s", strerror(errno));
		d->pin->close(d->pin_ctx);
		d->pin = NULL;
	}
	if (d->dt) {
		dialog_table_free(d->dt);
		d->dt = NULL;
	}
	medport_free(d->mp);
	d->mp = NULL;
	pat_nft_close(d->mpnft);
	d->mpnft = NULL;
}

/* Hands n intents to the backend; expiry says they came from timeouts. */
static void apply_intents(struct daemon *d, size_t n, bool expiry)
{
	for (size_t i = 0; i < n; i++) {
		const struct pin_intent *pi = &d->intents[i];
		char src[SN_ADDRSTRLEN], dst[SN_ADDRSTRLEN];
		bool open = pi->op == PIN_OPEN;
		int r = open ? d->pin->add(d->pin_ctx, &pi->ph) : d->pin->del(d->pin_ctx, &pi->ph);

		/* The fast path bypasses the firewall: only for open pinholes. */
		if (d->fps && (r == 0 || !open))
			fp_sync_pin(d->fps, open, &pi->ph);
		if (d->masq)	/* what the dialogs hold, whatever the backend said */
			masq_pin(d->masq, open, &pi->ph);
		sn_addr_format(&pi->ph.src, src, sizeof(src));
		sn_addr_format(&pi->ph.dst, dst, sizeof(dst));
		if (r) {
			d->st.pin_failed++;
			log_rl(&d->rl_pin, LOG_L_WARN, "pinhole %s %s -> %s port %u/%u (%s): %s",
			       open ? "open" : "close", src, dst, pi->ph.dport, pi->ph.l4proto,
			       pi->why ? pi->why : "-", strerror(errno));
			continue;
		}
		if (open)
			d->st.pin_opened++;
		else if (expiry)
			d->st.pin_expired++;
		else
			d->st.pin_closed++;
		log_debug("pinhole %s %s -> %s port %u/%u (%s)", open ? "open" : "close", src,
			  dst, pi->ph.dport, pi->ph.l4proto, pi->why ? pi->why : "-");
	}
	if (d->fps)
		fp_sync_commit(d->fps);
	if (d->masq)
		masq_pins_done(d->masq);
}

static void media_expire(struct daemon *d, uint64_t now)
{
	size_t n;

	if (now - d->last_expire < TICK_MS)
		return;
	d->last_expire = now;
	/* Bounded: a huge expiry wave is spread over several ticks. */
	for (int round = 0; d->dt && round < 16; round++) {
		n = dialog_expire(d->dt, now, d->intents, DIALOG_INTENTS_MIN);
		apply_intents(d, n, true);
		if (n < DIALOG_INTENTS_MIN)
			break;
	}
	if (d->mp)
		medport_expire(d->mp, now, MEDPORT_ENTRIES);
	/* After the dialogs: leases their closes released are gone already;
	 * expired ones are handed back, their map elements removed. */
	if (d->masq)
		masq_expire(d->masq, now);
}

static void media_gauges(struct daemon *d)
{
	if (!d->dt)
		return;
	d->st.dialogs_active = dialog_count(d->dt);
	d->st.pinholes_active = dialog_pinhole_count(d->dt);
	dialog_get_stats(d->dt, &d->st.dlg);
	d->st.have_dlg = true;
}

/* Once a second: did the kernel drop packets of our queue (queue full, or
 * our socket full)?  It counts only real drops: with fail-open it accepts
 * those packets unrewritten and counts nothing. */
static void kernel_drops_check(struct daemon *d, uint64_t now)
{
	uint64_t drops;

	if (now - d->last_kernel_check < TICK_MS)
		return;
	d->last_kernel_check = now;
	if (!stats_read_kernel(&d->st, STATS_PROC_QUEUE))
		return;
	drops = d->st.kernel_queue_dropped + d->st.kernel_user_dropped;
	if (drops > d->kernel_drops_seen)
		log_rl(&d->rl_queue, LOG_L_WARN,
		       "queue %u: the kernel dropped %llu packets since the last check "
		       "(totals: queue full %llu, socket full %llu)", d->conf.queue_num,
		       (unsigned long long)(drops - d->kernel_drops_seen),
		       (unsigned long long)d->st.kernel_queue_dropped,
		       (unsigned long long)d->st.kernel_user_dropped);
	d->kernel_drops_seen = drops;
}

static void on_packet(void *ctx, const uint8_t *data, size_t len, struct queue_verdict *v)
{
	struct daemon *d = ctx;
	struct pkt_info pi;
	enum pkt_status ps;
	const struct natmap_entry *from, *to;
	enum masq_dir md = MASQ_NONE;
	struct rw_input in;
	struct rw_config rw;
	struct rw_result res;
	uint8_t *out;
	size_t n;

	arena_reset(&d->arena);
	d->st.seen++;
	v->kind = QV_ACCEPT;
	if (!data || len == 0) {
		d->st.skipped[SKIP_NO_PAYLOAD]++;
		return;
	}
	ps = pkt_parse(data, len, &pi);
	if (ps != PKT_OK) {
		d->st.pkt_error[ps]++;
		log_rl(&d->rl_pkt, LOG_L_DEBUG, "packet passed unread: %s", pkt_status_name(ps));
		return;
	}
	memset(&in, 0, sizeof(in));
	in.msg = data + pi.payload_off;
	in.len = pi.payload_len;
	in.transport = RW_UDP;
	rw = d->rw;
	if (!d->helper || !(rw.map = ct_direction(d, &in))) {
		/* FORWARD hook: outbound is seen before SNAT (source
		 * private), inbound after DNAT (destination private). */
		rw.map = d->rw.map;
		from = natmap_by_priv(&d->conf.map, &pi.src.addr);
		to = natmap_by_priv(&d->conf.map, &pi.dst.addr);
		if (!from && !to && d->masq)
			md = masq_dir(d->masq, &pi);	/* a phone behind the masquerade */
		if (md == MASQ_NONE && !from == !to) {
			d->st.skipped[from ? SKIP_BOTH_MAPPED : SKIP_NO_MAP]++;
			return;
		}
		in.dir = from || md == MASQ_OUT ? RW_OUT : RW_IN;
		in.src = pi.src;
		in.dst = pi.dst;
	}
	if (in.dir == RW_OUT)
		d->st.out++;
	else
		d->st.in++;
	memset(&res, 0, sizeof(res));
	if (md != MASQ_NONE) {
		masq_rewrite(d->masq, &d->rw, &in, &d->arena, &res, now_ms());
	} else if (d->mp && rw.map == &d->ctnm) {
		medrw_rewrite(d->mp, &d->ctnm.e[0], &rw, &in, &d->arena, &res, now_ms());
		if (in.dir == RW_OUT)
			moved_to_kernel(d, &d->ctnm.e[0], now_ms());
	} else {
		rw_rewrite(&rw, &in, &d->arena, &res);
	}
	switch (res.status) {
	case RW_UNCHANGED:
		d->st.unchanged++;
		if (d->dt)
			apply_intents(d, dialog_on_message(d->dt, in.dir, &res, now_ms(),
							   d->intents, DIALOG_INTENTS_MIN), false);
		return;
	case RW_PASSTHROUGH:
		d->st.passthrough[(unsigned)res.reason < RW_R__COUNT ? res.reason : 0]++;
		log_rl(&d->rl_pkt, LOG_L_DEBUG, "message passed unchanged: %s",
		       rw_reason_name(res.reason));
		return;
	case RW_DROP:
		d->st.dropped++;
		log_rl(&d->rl_pkt, LOG_L_WARN, "strict: dropped a message: %s",
		       rw_reason_name(res.reason));
		v->kind = QV_DROP;
		return;
	case RW_REWRITTEN:
		break;
	}
	out = arena_alloc(&d->arena, pi.payload_off + res.out_len);
	n = out ? pkt_rebuild(data, &pi, res.out, res.out_len, out,
			      pi.payload_off + res.out_len) : 0;
	if (n == 0) {
		/* Forwarding the original beats losing the message. */
		d->st.skipped[SKIP_TOO_BIG]++;
		log_rl(&d->rl_pkt, LOG_L_WARN, "rewritten message does not fit a packet "
		       "(%zu bytes); forwarded unchanged", res.out_len);
		return;
	}
	d->st.rewritten++;
	if (d->dt)
		apply_intents(d, dialog_on_message(d->dt, in.dir, &res, now_ms(), d->intents,
						   DIALOG_INTENTS_MIN), false);
	v->kind = QV_ACCEPT_NEW;
	v->data = out;
	v->len = n;
}

/* Parses argv into d (flags kept for reload).  Returns -1 to go on, else
 * the exit status. */
static int parse_args(struct daemon *d, int argc, char **argv, bool *check, bool *probe)
{
	static const struct option fixed[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "probe", no_argument, NULL, OPT_PROBE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), nkeys = 0, k;
	struct option *opts;
	int o, rc = -1;

	while (conf_key_name(nkeys))
		nkeys++;
	opts = calloc(nfixed + nkeys + 1, sizeof(*opts));
	d->flags = calloc((size_t)argc + 1, sizeof(*d->flags));
	if (!opts || !d->flags) {
		fprintf(stderr, "nfqd: out of memory\n");
		free(opts);
		return 1;
	}
	memcpy(opts, fixed, sizeof(fixed));
	for (k = 0; k < nkeys; k++) {
		const char *name = conf_key_name(k);

		opts[nfixed + k] = (struct option){ name,
			conf_key_is_bool(name) ? optional_argument : required_argument,
			NULL, OPT_KEY + (int)k };
	}
	optind = 1;
	while (rc < 0 && (o = getopt_long(argc, argv, "c:nhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
		case OPT_CONFIG:
			d->conf_path = optarg;
			break;
		case 'n':
		case OPT_CHECK:
			*check = true;
			break;
		case OPT_PROBE:
			*probe = true;
			break;
		case 'h':
		case OPT_HELP:
			nfqd_usage(stdout);
			rc = 0;
			break;
		case 'V':
		case OPT_VERSION:
			printf("nfqd %s\n", NFQD_VERSION);
			rc = 0;
			break;
		default:
			if (o >= OPT_KEY && o < OPT_KEY + (int)nkeys) {
				d->flags[d->nflags].key = conf_key_name((size_t)(o - OPT_KEY));
				d->flags[d->nflags].value = optarg ? optarg : "yes";
				d->nflags++;
				break;
			}
			fprintf(stderr, "Try 'nfqd --help'.\n");
			rc = 2;
		}
	}
	if (rc < 0 && optind < argc) {
		fprintf(stderr, "nfqd: unexpected argument '%s'\n", argv[optind]);
		rc = 2;
	}
	free(opts);
	return rc;
}

/* Two SIP ALGs on one flow undo each other's rewrites: the kernel's
 * (nf_conntrack_sip, attached by `ct helper set`) must not see the flows
 * nfqd rewrites.  Refused before anything is bound.  0: go on. */
static int kernel_alg_check(const struct conf *c)
{
	struct probe_alg_hit hits[PROBE_ALG_MAX];
	char where[256];
	int n = probe_kernel_alg(hits, PROBE_ALG_MAX);

	if (n < 0) {
		log_warn("cannot read the nftables ruleset to look for the kernel's SIP ALG: %s",
			 strerror(-n));
		return 0;
	}
	for (int i = 0; i < n && i < PROBE_ALG_MAX; i++) {
		probe_alg_where(&hits[i], where, sizeof(where));
		if (c->allow_kernel_alg)
			log_warn("the kernel's SIP ALG is attached in %s: allowed by "
				 "allow-kernel-alg; keep it off the flows nfqd rewrites", where);
		else
			log_err("the kernel's SIP ALG is attached in %s: two ALGs on one flow "
				"undo each other; remove it or start with --allow-kernel-alg", where);
	}
	return n > 0 && !c->allow_kernel_alg;
}

static int run(struct daemon *d)
{
	struct pollfd pfd[1 + 1 + CTL_CLIENTS];
	sigset_t block, orig;
	struct sigaction sa;
	char err[512];
	int rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: ppoll must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are taken only inside ppoll, so a flag is never set
	 * between its check and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);

	if (kernel_alg_check(&d->conf))
		return 1;
	if (arena_init(&d->arena, ARENA_DEFAULT_SIZE)) {
		log_err("arena: out of memory");
		return 1;
	}
	/* Pinholes first: a start that fails should not have bound the
	 * queue (and so taken SIP away from the bypass) even briefly. */
	if (media_open(d, err, sizeof(err))) {
		if (!err[0])
			snprintf(err, sizeof(err), "map: no mapping given (map = PRIVATE=PUBLIC), "
				 "and no conntrack helper to take it from");
		log_err("%s", err);
		arena_free(&d->arena);
		return 1;
	}
	/* The masquerade's maps too, for the same reason. */
	if (masq_open(&d->masq, &d->conf, err, sizeof(err))) {
		log_err("%s", err);
		media_close(d, false);
		helper_close(d);
		arena_free(&d->arena);
		return 1;
	}
	if (queue_open(&d->q, d->conf.queue_num, !d->conf.fail_closed, err, sizeof(err))) {
		log_err("%s", err);
		masq_close(d->masq);
		media_close(d, false);
		helper_close(d);
		arena_free(&d->arena);
		return 1;
	}
	if (d->helper && queue_want_conntrack(&d->q, err, sizeof(err))) {
		log_err("%s: the conntrack helper needs it", err);
		queue_close(&d->q);
		masq_close(d->masq);
		media_close(d, false);
		helper_close(d);
		arena_free(&d->arena);
		return 1;
	}
	if (ctl_open(&d->ctl, d->conf.control_socket)) {
		log_err("control socket %s: %s", d->conf.control_socket,
			errno == EADDRINUSE ? "another nfqd answers there" : strerror(errno));
		masq_close(d->masq);
		queue_close(&d->q);
		media_close(d, false);
		helper_close(d);
		arena_free(&d->arena);
		return 1;
	}
	/* Pinholes a previous nfqd left stay: calls in progress keep their
	 * media, and each closes by itself once its media stops
	 * (media-timeout).  Exits do not flush either, for the same reason. */
	d->st.start_ms = now_ms();
	d->st.queue_num = d->conf.queue_num;
	log_info("queue %u bound (%s), %zu map entries, pinholes: %s, control socket %s",
		 d->conf.queue_num, d->conf.fail_closed ? "fail-closed" : "fail-open",
		 d->conf.map.n, d->pin ? d->pin->name : "none", d->conf.control_socket);

	while (!got_stop) {
		struct timespec ts = { TICK_MS / 1000, (TICK_MS % 1000) * 1000000L };
		size_t n;
		int r;

		pfd[0] = (struct pollfd){ .fd = queue_fd(&d->q), .events = POLLIN };
		n = 1 + ctl_pollfds(&d->ctl, pfd + 1, sizeof(pfd) / sizeof(pfd[0]) - 1);
		r = ppoll(pfd, n, &ts, &orig);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		media_expire(d, now_ms());
		if (d->fps)
			fp_sync_tick(d->fps, now_ms(), d->pin, d->pin_ctx);
		media_commit(d);
		kernel_drops_check(d, now_ms());
		if (r <= 0)
			continue;
		if (pfd[0].revents & (POLLIN | POLLERR)) {
			uint64_t enobufs = d->q.enobufs, verrs = d->q.verdict_errors;

			if (queue_receive(&d->q, on_packet, d, BURST) < 0) {
				log_err("queue: %s", strerror(errno));
				rc = 1;
				break;
			}
			/* After queue_receive sent the burst's verdicts. */
			media_commit(d);
			if (d->q.enobufs != enobufs)
				log_rl(&d->rl_queue, LOG_L_WARN,
				       "queue: socket overrun, the kernel dropped packets "
				       "(%llu overruns so far)", (unsigned long long)d->q.enobufs);
			if (d->q.verdict_errors != verrs)
				log_rl(&d->rl_queue, LOG_L_WARN,
				       "queue: the kernel refused a verdict (%llu so far); the "
				       "packet is accepted unchanged with the next batch",
				       (unsigned long long)d->q.verdict_errors);
		}
		if (d->masq) {
			struct masq_stats ms;

			masq_get_stats(d->masq, &ms);
			d->st.have_masq = true;
			d->st.masq_leases_active = ms.active;
			d->st.masq_leased = ms.leased;
			d->st.masq_lease_failed = ms.lease_failed;
			d->st.masq_kernel_failed = ms.kernel_failed;
			d->st.masq_released_media = ms.released_media;
			d->st.masq_released_signalling = ms.released_signalling;
		}
		if (d->mp) {
			d->st.have_medport = true;
			medport_get_stats(d->mp, &d->st.medport);
			d->st.medport_kernel_failed = d->mpnft_failed;
		}
		d->st.enobufs = d->q.enobufs;
		d->st.verdict_errors = d->q.verdict_errors;
		media_gauges(d);
		ctl_handle(&d->ctl, pfd + 1, n - 1, &d->st, now_ms());
	}
	log_info("stopping: %llu packets seen, %llu rewritten",
		 (unsigned long long)d->st.seen, (unsigned long long)d->st.rewritten);
	/* Packets still queued are accepted unchanged by the kernel.  The
	 * pinholes stay: the ruleset cuts a flow whose pinhole is gone, so a
	 * flush here would cut every call in progress on a restart.  Each ages
	 * out once its media stops; `sipnat-rules unload` removes them all. */
	queue_close(&d->q);
	masq_close(d->masq);
	media_close(d, false);
	helper_close(d);
	ctl_close(&d->ctl);
	arena_free(&d->arena);
	return rc;
}

int cmd_daemon(int argc, char **argv)
{
	static struct daemon d;
	bool check = false, probe = false;
	char err[512];
	int rc;

	memset(&d, 0, sizeof(d));
	d.rl_pkt = (struct ratelimit)RATELIMIT_INIT;
	d.rl_queue = (struct ratelimit)RATELIMIT_INIT;
	rc = parse_args(&d, argc, argv, &check, &probe);
	if (rc >= 0)
		goto out;
	if (probe) {
		/* The probe wants the queue number and table, not a map. */
		conf_defaults(&d.conf);
		if ((d.conf_path || access(CONF_DEFAULT_PATH, F_OK) == 0) &&
		    conf_load(&d.conf, d.conf_path ? d.conf_path : CONF_DEFAULT_PATH, err,
			      sizeof(err))) {
			fprintf(stderr, "nfqd: %s\n", err);
			rc = 2;
			goto out;
		}
		for (size_t i = 0; i < d.nflags; i++)
			if (conf_set_flag(&d.conf, d.flags[i].key, d.flags[i].value, err,
					  sizeof(err))) {
				fprintf(stderr, "nfqd: %s\n", err);
				rc = 2;
				goto out;
			}
		rc = probe_run(&d.conf, stdout);
		goto out;
	}
	if (build_conf(&d.conf, d.conf_path, d.flags, d.nflags, err, sizeof(err))) {
		fprintf(stderr, "nfqd: %s\n", err);
		rc = 2;
		goto out;
	}
	if (check) {
		printf("configuration OK\n");
		rc = 0;
		goto out;
	}
	apply_conf(&d);
	rc = run(&d);
out:
	free(d.flags);
	return rc;
}
