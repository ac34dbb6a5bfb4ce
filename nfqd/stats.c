/* stats.c - see stats.h.
 *
 * Owns: names of the counters as `nfqd status` prints them.  They are an
 * interface (scripts grep them): add names, do not rename.
 * Must not: do I/O beyond reading the kernel's proc line.
 */
#include "stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const skip_names[SKIP__COUNT] = {
	[SKIP_NO_MAP] = "no-map",
	[SKIP_BOTH_MAPPED] = "both-mapped",
	[SKIP_NO_PAYLOAD] = "no-payload",
	[SKIP_TOO_BIG] = "rewritten-too-big",
};

const char *stats_skip_name(enum stats_skip s)
{
	return (unsigned)s < SKIP__COUNT ? skip_names[s] : "?";
}

bool stats_read_kernel(struct stats *s, const char *proc_path)
{
	FILE *f = fopen(proc_path, "r");
	char line[256];
	bool found = false;

	s->kernel_valid = false;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned q, mode;
		unsigned long long portid, total, range, qdrop, udrop;

		/* queue portid total copy_mode copy_range queue_dropped
		 * user_dropped id_sequence 1 */
		if (sscanf(line, "%u %llu %llu %u %llu %llu %llu", &q, &portid, &total, &mode,
			   &range, &qdrop, &udrop) == 7 && q == s->queue_num) {
			s->kernel_queue_total = total;
			s->kernel_queue_dropped = qdrop;
			s->kernel_user_dropped = udrop;
			found = true;
			break;
		}
	}
	fclose(f);
	s->kernel_valid = found;
	return found;
}

struct out {
	char *buf;
	size_t size, len;
	bool json;
	bool first;
};

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

/* One counter: "name value" in text, "name": value in JSON. */
static void num(struct out *o, const char *name, uint64_t v)
{
	if (o->json) {
		emit(o, "%s\"%s\": %" PRIu64, o->first ? "" : ", ", name, v);
		o->first = false;
	} else {
		emit(o, "%s %" PRIu64 "\n", name, v);
	}
}

size_t stats_format(const struct stats *s, uint64_t now, bool json, char *buf, size_t size)
{
	struct out o = { buf, size, 0, json, true };
	char name[64];

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (json)
		emit(&o, "{");
	num(&o, "uptime-seconds", (now - s->start_ms) / 1000);
	num(&o, "queue", s->queue_num);
	num(&o, "seen", s->seen);
	num(&o, "out", s->out);
	num(&o, "in", s->in);
	num(&o, "rewritten", s->rewritten);
	num(&o, "unchanged", s->unchanged);
	for (int r = 1; r < RW_R__COUNT; r++) {
		snprintf(name, sizeof(name), "passthrough-%s", rw_reason_name((enum rw_reason)r));
		num(&o, name, s->passthrough[r]);
	}
	for (int p = 1; p < PKT__COUNT; p++) {
		snprintf(name, sizeof(name), "passthrough-%s", pkt_status_name((enum pkt_status)p));
		num(&o, name, s->pkt_error[p]);
	}
	for (int k = 0; k < SKIP__COUNT; k++) {
		snprintf(name, sizeof(name), "passthrough-%s", stats_skip_name((enum stats_skip)k));
		num(&o, name, s->skipped[k]);
	}
	num(&o, "dropped", s->dropped);
	num(&o, "verdict-errors", s->verdict_errors);
	num(&o, "queue-enobufs", s->enobufs);
	if (s->kernel_valid) {
		num(&o, "kernel-queue-total", s->kernel_queue_total);
		num(&o, "kernel-queue-dropped", s->kernel_queue_dropped);
		num(&o, "kernel-user-dropped", s->kernel_user_dropped);
	}
	num(&o, "pinholes-opened", s->pin_opened);
	num(&o, "pinholes-closed", s->pin_closed);
	num(&o, "pinholes-expired", s->pin_expired);
	num(&o, "pinholes-failed", s->pin_failed);
	num(&o, "pinholes-active", s->pinholes_active);
	num(&o, "dialogs-active", s->dialogs_active);
	if (s->have_dlg) {
		num(&o, "dialogs-created", s->dlg.dialogs_created);
		num(&o, "dialogs-ended", s->dlg.dialogs_ended);
		num(&o, "dialogs-refused", s->dlg.dialogs_refused);
		num(&o, "pinholes-refused-cap", s->dlg.pins_refused_cap);
		num(&o, "pinholes-refused-addr", s->dlg.pins_refused_addr);
		num(&o, "dialog-messages-ignored", s->dlg.ignored);
	}
	if (s->have_masq) {
		num(&o, "masquerade-leases-active", s->masq_leases_active);
		num(&o, "masquerade-leased", s->masq_leased);
		num(&o, "masquerade-lease-failed", s->masq_lease_failed);
		num(&o, "masquerade-kernel-failed", s->masq_kernel_failed);
		num(&o, "masquerade-released-media", s->masq_released_media);
		num(&o, "masquerade-released-signalling", s->masq_released_signalling);
	}
	if (s->have_medport) {
		num(&o, "media-ports-active", s->medport.active);
		num(&o, "media-ports-moved", s->medport.moved);
		num(&o, "media-ports-failed", s->medport.failed);
		num(&o, "media-ports-refused", s->medport.refused);
		num(&o, "media-ports-refused-active", s->medport.busy);
		num(&o, "media-ports-kernel-failed", s->medport_kernel_failed);
	}
	if (s->fps) {
		struct fp_sync_stats fs;

		fp_sync_get_stats(s->fps, &fs);
		num(&o, "fastpath-loaded", fp_sync_active(s->fps));
		num(&o, "fastpath-streams", fs.streams);
		num(&o, "fastpath-streams-added", fs.added);
		num(&o, "fastpath-streams-removed", fs.removed);
		num(&o, "fastpath-streams-expired", fs.expired);
		num(&o, "fastpath-add-failed", fs.failed);
		num(&o, "fastpath-pinhole-refreshes", fs.refreshed);
		num(&o, "fastpath-unpaired", fs.unpaired);
		/* The flows' own figures: one line each, or a JSON array. */
		if (json)
			emit(&o, ", \"fastpath-flows\": [");
		if (o.len + 4 < o.size)
			o.len += fp_sync_format(s->fps, json, o.buf + o.len, o.size - o.len - (json ? 3 : 0));
		if (json)
			emit(&o, "]");
	}
	if (json)
		emit(&o, "}\n");
	return o.len;
}
