/* siphash.h - SipHash-2-4 (Aumasson, Bernstein), a keyed hash for tables
 * whose keys come off the wire (Call-IDs, SDP addresses): with a random
 * key nobody outside can make the chains long on purpose.
 *
 * Owns: the function.  Must not: choose the key (callers do, from
 * getrandom() where they may make syscalls).
 */
#ifndef SIPNAT_SIPHASH_H
#define SIPNAT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t sn_siphash(const uint64_t key[2], const void *data, size_t len);

#endif
