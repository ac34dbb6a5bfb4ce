/* natmap.c - see natmap.h. */
#include "natmap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *why, const char *spec)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: '%s'", why, spec);
	return -1;
}

static struct natmap_entry *find_priv(struct natmap *m, const struct sn_addr *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (sn_addr_equal(&m->e[i].priv, a))
			return &m->e[i];
	return NULL;
}

static struct natmap_entry *find_pub(struct natmap *m, const struct sn_addr *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (sn_addr_equal(&m->e[i].pub, a))
			return &m->e[i];
	return NULL;
}

int natmap_add_spec(struct natmap *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	struct sn_endpoint priv, pub;
	struct natmap_entry *e;

	if (!eq)
		return fail(err, errlen, "map needs PRIV[:PORT]=PUB[:PORT]", spec);
	if (sn_endpoint_parse(&priv, spec, (size_t)(eq - spec)))
		return fail(err, errlen, "bad private address", spec);
	if (sn_endpoint_parse(&pub, eq + 1, strlen(eq + 1)))
		return fail(err, errlen, "bad public address", spec);
	if (priv.addr.family != pub.addr.family)
		return fail(err, errlen, "private and public address families differ", spec);
	if (!priv.port != !pub.port)
		return fail(err, errlen, "give a port on both sides or on neither", spec);
	if (sn_addr_is_special(&priv.addr) || sn_addr_is_special(&pub.addr))
		return fail(err, errlen, "unspecified, loopback or multicast address", spec);

	e = find_priv(m, &priv.addr);
	if (e && !sn_addr_equal(&e->pub, &pub.addr))
		return fail(err, errlen, "private address already mapped to another public one", spec);
	if (!e) {
		struct natmap_entry *other = find_pub(m, &pub.addr);

		if (other)
			return fail(err, errlen, "public address already mapped", spec);
		/* An address on both sides would make a rewritten message
		 * rewritable again (a chain), breaking idempotence. */
		if (find_pub(m, &priv.addr) || find_priv(m, &pub.addr) ||
		    sn_addr_equal(&priv.addr, &pub.addr))
			return fail(err, errlen, "address is private in one mapping and public in another", spec);
		if (m->n == NATMAP_MAX)
			return fail(err, errlen, "too many map entries", spec);
		e = &m->e[m->n++];
		memset(e, 0, sizeof(*e));
		e->priv = priv.addr;
		e->pub = pub.addr;
	}
	if (priv.port) {
		if (e->priv_port && (e->priv_port != priv.port || e->pub_port != pub.port))
			return fail(err, errlen, "one port translation per mapping", spec);
		e->priv_port = priv.port;
		e->pub_port = pub.port;
	}
	return 0;
}

static bool valid_fqdn(const char *s)
{
	size_t len = strlen(s), label = 0;
	bool alpha = false;

	if (len == 0 || len > NATMAP_FQDN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha = true;
		if (++label > 63)
			return false;
	}
	return alpha;	/* a name, not an address in disguise */
}

int natmap_add_name(struct natmap *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	struct sn_addr pub;
	struct natmap_entry *e;

	if (!eq)
		return fail(err, errlen, "public-name needs PUB=FQDN", spec);
	if (sn_addr_parse(&pub, spec, (size_t)(eq - spec)))
		return fail(err, errlen, "bad public address", spec);
	if (!valid_fqdn(eq + 1))
		return fail(err, errlen, "bad host name", spec);
	e = find_pub(m, &pub);
	if (!e)
		return fail(err, errlen, "public address is in no map entry (give the map first)", spec);
	snprintf(e->fqdn, sizeof(e->fqdn), "%s", eq + 1);
	return 0;
}

int natmap_add_media_ports(struct natmap *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *dash, *colon, *pcolon;
	struct sn_addr priv, pub;
	uint16_t lo, hi, publo;
	struct natmap_entry *e;

	if (!eq)
		return fail(err, errlen, "media-ports needs PRIV:LO-HI=PUB:LO", spec);
	colon = memrchr(spec, ':', (size_t)(eq - spec));
	dash = colon ? memchr(colon, '-', (size_t)(eq - colon)) : NULL;
	pcolon = strrchr(eq + 1, ':');
	if (!colon || !dash || !pcolon)
		return fail(err, errlen, "media-ports needs PRIV:LO-HI=PUB:LO", spec);
	if (sn_addr_parse(&priv, spec[0] == '[' ? spec + 1 : spec,
			  (size_t)(colon - spec) - (spec[0] == '[' ? 2 : 0)) ||
	    sn_addr_parse(&pub, eq[1] == '[' ? eq + 2 : eq + 1,
			  (size_t)(pcolon - eq - 1) - (eq[1] == '[' ? 2 : 0)))
		return fail(err, errlen, "bad address", spec);
	if (sn_port_parse(colon + 1, (size_t)(dash - colon - 1), &lo) ||
	    sn_port_parse(dash + 1, (size_t)(eq - dash - 1), &hi) ||
	    sn_port_parse(pcolon + 1, strlen(pcolon + 1), &publo) || hi < lo ||
	    (unsigned)publo + (hi - lo) > 65535)
		return fail(err, errlen, "bad port range", spec);
	e = find_priv(m, &priv);
	if (!e || !sn_addr_equal(&e->pub, &pub))
		return fail(err, errlen, "addresses are not a map entry (give the map first)", spec);
	e->media_priv_lo = lo;
	e->media_priv_hi = hi;
	e->media_pub_lo = publo;
	return 0;
}

const struct natmap_entry *natmap_by_priv(const struct natmap *m, const struct sn_addr *a)
{
	return find_priv((struct natmap *)m, a);
}

const struct natmap_entry *natmap_by_pub(const struct natmap *m, const struct sn_addr *a)
{
	return find_pub((struct natmap *)m, a);
}

const struct natmap_entry *natmap_by_name(const struct natmap *m, const char *host, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].fqdn[0] && strlen(m->e[i].fqdn) == len &&
		    strncasecmp(m->e[i].fqdn, host, len) == 0)
			return &m->e[i];
	return NULL;
}

static bool in_prefix(const struct sn_addr *a, const struct sn_addr *net, uint8_t plen)
{
	size_t full = plen / 8;

	if (a->family != net->family)
		return false;
	if (memcmp(a->u.bytes, net->u.bytes, full))
		return false;
	if (plen % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - plen % 8));

		return (a->u.bytes[full] & mask) == net->u.bytes[full];
	}
	return true;
}

int natmap_add_masquerade(struct natmap *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *slash;
	struct natmap_masq q;
	unsigned plen = 0;
	size_t i;

	memset(&q, 0, sizeof(q));
	slash = eq ? memchr(spec, '/', (size_t)(eq - spec)) : NULL;
	if (!eq || !slash)
		return fail(err, errlen, "masquerade needs NET/PLEN=PUBLIC", spec);
	if (sn_addr_parse(&q.net, spec, (size_t)(slash - spec)) || q.net.family != AF_INET)
		return fail(err, errlen, "bad network (IPv4 only)", spec);
	for (const char *p = slash + 1; p < eq; p++) {
		if (*p < '0' || *p > '9' || plen > 32)
			return fail(err, errlen, "bad prefix length", spec);
		plen = plen * 10 + (unsigned)(*p - '0');
	}
	if (slash + 1 == eq || plen < 8 || plen > 32)
		return fail(err, errlen, "prefix length must be 8-32", spec);
	q.plen = (uint8_t)plen;
	if (sn_addr_parse(&q.pub, eq + 1, strlen(eq + 1)) || q.pub.family != AF_INET ||
	    sn_addr_is_special(&q.pub))
		return fail(err, errlen, "bad public address", spec);
	for (i = 0; i < 4; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if (bits == 0)
			mask = 0;
		if (q.net.u.bytes[i] & (uint8_t)~mask)
			return fail(err, errlen, "network has host bits set", spec);
	}
	/* A masquerade address that is also a static one would make the
	 * public side ambiguous for messages coming in. */
	if (find_pub(m, &q.pub) || find_priv(m, &q.pub) || in_prefix(&q.pub, &q.net, q.plen))
		return fail(err, errlen, "public address is also in the map or the network", spec);
	if (m->n_masq == NATMAP_MASQ_MAX)
		return fail(err, errlen, "too many masquerade entries", spec);
	m->masq[m->n_masq++] = q;
	return 0;
}

const struct natmap_masq *natmap_masq_by_priv(const struct natmap *m, const struct sn_addr *a)
{
	for (size_t i = 0; i < m->n_masq; i++)
		if (in_prefix(a, &m->masq[i].net, m->masq[i].plen))
			return &m->masq[i];
	return NULL;
}

bool natmap_is_inside(const struct natmap *m, const struct sn_addr *a)
{
	return natmap_by_priv(m, a) || natmap_masq_by_priv(m, a);
}

bool natmap_is_public(const struct natmap *m, const struct sn_addr *a)
{
	if (natmap_by_pub(m, a))
		return true;
	for (size_t i = 0; i < m->n_masq; i++)
		if (sn_addr_equal(&m->masq[i].pub, a))
			return true;
	return false;
}

int natmap_add_media_pair(struct natmap *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	struct sn_endpoint priv, pub;
	struct natmap_entry *e;

	if (!eq || sn_endpoint_parse(&priv, spec, (size_t)(eq - spec)) ||
	    sn_endpoint_parse(&pub, eq + 1, strlen(eq + 1)) || !priv.port || !pub.port)
		return fail(err, errlen, "media-pair needs PRIV:PORT=PUB:PORT", spec);
	e = find_priv(m, &priv.addr);
	if (!e || !sn_addr_equal(&e->pub, &pub.addr))
		return fail(err, errlen, "addresses are not a map entry (give the map first)", spec);
	if (!natmap_entry_add_pair(e, priv.port, pub.port))
		return fail(err, errlen, "too many media pairs for this entry", spec);
	return 0;
}

bool natmap_entry_add_pair(struct natmap_entry *e, uint16_t priv, uint16_t pub)
{
	for (unsigned i = 0; i < e->n_media_pairs; i++)
		if (e->media_pairs[i].priv == priv)
			return true;
	if (e->n_media_pairs == NATMAP_PAIRS_MAX)
		return false;
	e->media_pairs[e->n_media_pairs++] = (struct natmap_port_pair){ priv, pub };
	return true;
}
