/* stats.h - nfqd's counters, and their text and JSON forms for
 * `nfqd status`.
 *
 * Owns: the counter table and formatting it.
 * Must not: do I/O (the caller writes the text where it belongs).
 * Single-threaded: the queue loop is the only writer.
 */
#ifndef SIPNAT_STATS_H
#define SIPNAT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dialog.h"
#include "fp_sync.h"
#include "medport.h"
#include "pkt.h"
#include "rewrite.h"

/* Packets accepted unchanged without reaching the core. */
enum stats_skip {
	SKIP_NO_MAP,		/* neither address is a mapped private one */
	SKIP_BOTH_MAPPED,	/* both are: inside-to-inside, not ours */
	SKIP_NO_PAYLOAD,	/* the queue message carried no packet */
	SKIP_TOO_BIG,		/* the rewrite would not fit in an IP packet */
	SKIP__COUNT
};

struct stats {
	uint64_t start_ms;		/* now_ms() when the daemon started */
	uint64_t seen;			/* packets received from the queue */
	uint64_t out, in;		/* by direction, of those given to the core */
	uint64_t rewritten;
	uint64_t unchanged;		/* parsed, nothing to change */
	uint64_t passthrough[RW_R__COUNT];	/* by rw_reason */
	uint64_t pkt_error[PKT__COUNT];	/* not IP/UDP we can read (accepted) */
	uint64_t skipped[SKIP__COUNT];
	uint64_t dropped;		/* strict mode */
	uint64_t verdict_errors;	/* the kernel refused a verdict */
	uint64_t enobufs;		/* socket overruns: packets lost to the queue */
	uint64_t pin_opened, pin_closed, pin_expired, pin_failed;
	uint64_t dialogs_active;	/* gauges, set by the loop */
	uint64_t pinholes_active;
	bool have_dlg;			/* dlg valid: pinholes are tracked */
	struct dialog_stats dlg;
	/* From /proc/net/netfilter/nfnetlink_queue when status is asked. */
	bool kernel_valid;
	uint64_t kernel_queue_total, kernel_queue_dropped, kernel_user_dropped;
	uint16_t queue_num;
	const struct fp_sync *fps;	/* the kmod fast path, NULL when off */
	/* masq.c, when masquerade is configured (have_masq) */
	bool have_masq;
	uint64_t masq_leases_active, masq_leased, masq_lease_failed, masq_kernel_failed;
	uint64_t masq_released_media, masq_released_signalling;	/* before their timeout */
	/* medport.c, in conntrack helper mode (have_medport) */
	bool have_medport;
	struct medport_stats medport;
	uint64_t medport_kernel_failed;	/* pat_snat4/pat_dnat4 elements not written */
};

const char *stats_skip_name(enum stats_skip s);

#define STATS_PROC_QUEUE "/proc/net/netfilter/nfnetlink_queue"

/* Reads the kernel's line for queue_num from the proc file (per network
 * namespace) into s; false when absent (queue not bound). */
bool stats_read_kernel(struct stats *s, const char *proc_path);

/* Writes the counters as "name value" lines, or one JSON object when
 * json.  Returns the length (truncated at size - 1 like snprintf). */
size_t stats_format(const struct stats *s, uint64_t now, bool json, char *buf, size_t size);

#endif
