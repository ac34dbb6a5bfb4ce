/* patuse.h - which leased endpoints of masqueraded phones live media
 * pinholes still point at, so masq.c can tell when a lease is no longer
 * needed.
 *
 * Owns: the set of distinct live pinholes towards masqueraded phones (peer
 * address -> phone address:port, protocol), fed from the dialog layer's
 * intents.  Opens are idempotent (the dialog layer re-emits opens to
 * refresh), a close forgets one pinhole.  Pure: no I/O, no clock.
 * Must not: decide what is released (masq.c does, by the rules in masq.h).
 *
 * Bounded: at most max pinholes.  When one more cannot be recorded the set
 * is lossy (some endpoint may be in use unseen) until it is empty again;
 * while lossy, callers must release nothing.
 */
#ifndef SIPNAT_PATUSE_H
#define SIPNAT_PATUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct patuse;

/* NULL when out of memory (max 0 is allowed: always lossy once used). */
struct patuse *patuse_new(size_t max);
void patuse_free(struct patuse *u);

/* A live pinhole from peer to ep (proto).  Recording one already there
 * changes nothing.  false when the set is full (it becomes lossy). */
bool patuse_open(struct patuse *u, const struct sn_addr *peer, const struct sn_endpoint *ep,
		 uint8_t proto);
/* That pinhole closed.  true when it was recorded. */
bool patuse_close(struct patuse *u, const struct sn_addr *peer, const struct sn_endpoint *ep,
		  uint8_t proto);

/* Live pinholes towards ep (proto), and towards any port of addr. */
size_t patuse_count(const struct patuse *u, const struct sn_endpoint *ep, uint8_t proto);
size_t patuse_count_addr(const struct patuse *u, const struct sn_addr *addr);

/* The i-th recorded pinhole's endpoint and protocol (i < patuse_size()),
 * in no particular order. */
void patuse_at(const struct patuse *u, size_t i, struct sn_endpoint *ep, uint8_t *proto);

/* false while some pinhole could not be recorded (see above). */
bool patuse_reliable(const struct patuse *u);
size_t patuse_size(const struct patuse *u);

#endif
