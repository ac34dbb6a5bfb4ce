/* probe.h - `nfqd --probe`: what the running kernel offers sipnat.
 *
 * Owns: asking the kernel (bind a queue, set queue flags, look up the
 * nft table) and printing one "name: yes|no (why)" line per feature.
 * Must not: change anything that outlives the probe: a queue it binds is
 * unbound, nothing is created.
 */
#ifndef SIPNAT_PROBE_H
#define SIPNAT_PROBE_H

#include <stdio.h>

#include "conf.h"

/* Returns the exit status: 0, or 1 when not even a queue can be bound. */
int probe_run(const struct conf *c, FILE *out);

#endif
