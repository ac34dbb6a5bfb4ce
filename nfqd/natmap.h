/* natmap.h - the static NAT map: which private address (and port) appears
 * outside as which public address (and port, and name).
 *
 * Owns: the table and its pure lookups, and parsing of the map syntax shared
 * by the config file and the command line.
 * Must not: resolve names, allocate per packet, know about SIP.
 */
#ifndef SIPNAT_NATMAP_H
#define SIPNAT_NATMAP_H

#include "addr.h"

#define NATMAP_MAX 64
#define NATMAP_FQDN_MAX 254
#define NATMAP_PAIRS_MAX 16	/* 8 streams with RTP and RTCP each */

struct natmap_entry {
	struct sn_addr priv;
	struct sn_addr pub;
	/* Signalling port translation (public 5060 <-> private 5062); both 0
	 * when the entry translates addresses only. */
	uint16_t priv_port;
	uint16_t pub_port;
	/* Public name used instead of pub in SIP headers (never in SDP). */
	char fqdn[NATMAP_FQDN_MAX + 1];
	/* Media port translation: private [lo, hi] <-> public [pub_lo, ...].
	 * All 0 when m= ports stay as they are (the default). */
	uint16_t media_priv_lo, media_priv_hi, media_pub_lo;
	/* Media port pairs, checked before the range: one private port <->
	 * one public port each.  Port address translation (pat.c) fills them
	 * per message, since its ports are leased, not linear; the static map
	 * never does.  RTCP needs its own pair (it is not implied). */
	struct natmap_port_pair {
		uint16_t priv, pub;
	} media_pairs[NATMAP_PAIRS_MAX];
	uint8_t n_media_pairs;
};

/* Masquerade: phones in a private network share one public address;
 * nfqd leases them public ports itself (pat.c, masq.c).  The rewrite core
 * never reads these: it gets a one-entry map per message instead. */
#define NATMAP_MASQ_MAX 16
struct natmap_masq {
	struct sn_addr net;	/* network address (host bits zero) */
	uint8_t plen;		/* prefix length */
	struct sn_addr pub;
};

struct natmap {
	struct natmap_entry e[NATMAP_MAX];
	size_t n;
	struct natmap_masq masq[NATMAP_MASQ_MAX];
	size_t n_masq;
};

/* "PRIV[:PORT]=PUB[:PORT]" (IPv6 in brackets when a port follows).  A
 * second spec for the same private address adds a port translation to it.
 * Returns 0, or -1 with a one-line reason in err. */
int natmap_add_spec(struct natmap *m, const char *spec, char *err, size_t errlen);
/* "PUB=FQDN": the name SIP headers carry for that public address. */
int natmap_add_name(struct natmap *m, const char *spec, char *err, size_t errlen);
/* "PRIV:LO-HI=PUB:LO": media (m=) port translation for a mapped address. */
int natmap_add_media_ports(struct natmap *m, const char *spec, char *err, size_t errlen);

/* "PRIV:PORT=PUB:PORT": one media port pair for a mapped address, as
 * masquerade leases them per message (for `nfqd rewrite` and tests). */
int natmap_add_media_pair(struct natmap *m, const char *spec, char *err, size_t errlen);
/* Adds the pair priv <-> pub to e unless priv has one already.  false
 * when e has no room left (NATMAP_PAIRS_MAX). */
bool natmap_entry_add_pair(struct natmap_entry *e, uint16_t priv, uint16_t pub);
/* "NET/PLEN=PUB" (IPv4): masquerade that network behind PUB. */
int natmap_add_masquerade(struct natmap *m, const char *spec, char *err, size_t errlen);
/* The masquerade rule whose network holds a, or NULL. */
const struct natmap_masq *natmap_masq_by_priv(const struct natmap *m, const struct sn_addr *a);
/* a is inside: a mapped private address or in a masqueraded network. */
bool natmap_is_inside(const struct natmap *m, const struct sn_addr *a);
/* a is ours outside: a mapped public address or a masquerade address. */
bool natmap_is_public(const struct natmap *m, const struct sn_addr *a);

const struct natmap_entry *natmap_by_priv(const struct natmap *m, const struct sn_addr *a);
const struct natmap_entry *natmap_by_pub(const struct natmap *m, const struct sn_addr *a);
/* Case-insensitive match of a host name against the entries' FQDNs. */
const struct natmap_entry *natmap_by_name(const struct natmap *m, const char *host, size_t len);

#endif
