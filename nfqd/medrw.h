/* medrw.h - helper mode's media ports in the rewrite: the per-message glue
 * between the packet's one-entry map (from its conntrack, ctmap.c), the
 * media port allocator (medport.c) and the rewrite core.
 *
 * The kernel's NAT already gives each inside party its own public
 * signalling port (Via, Contact follow the conntrack), but m= ports pass
 * unchanged; two parties behind one public address announcing the same
 * port would get clashing expectations.  So:
 *   out (from the inside party): pass 1 reports its streams (c= its
 *     private address; not held, not an FQDN, port not 0, one port each);
 *     each gets a lease (RTP/RTCP pair, a separate a=rtcp on its own);
 *     only when one moved, pass 2 writes the moved ports into m=/a=rtcp,
 *     so a message without a clash is forwarded exactly as before;
 *   in (towards it): its moved ports as pairs, so they map back.
 * Owns: that sequence.  Must not: do I/O or read the clock (pure, like
 * the core; tests/unit/test_medrw.c), or look into SIP itself.
 */
#ifndef SIPNAT_MEDRW_H
#define SIPNAT_MEDRW_H

#include <stdint.h>

#include "arena.h"
#include "medport.h"
#include "natmap.h"
#include "rewrite.h"

/* rw_rewrite() with the party's media ports.  e is the party's entry in
 * cfg->map (it gets the pairs; start it with none). */
void medrw_rewrite(struct medport *mp, struct natmap_entry *e, const struct rw_config *cfg,
		   const struct rw_input *in, struct arena *a, struct rw_result *res,
		   uint64_t now_ms);

#endif
