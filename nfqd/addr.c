/* addr.c - see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int sn_addr_parse(struct sn_addr *a, const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN];

	/* inet_pton stops at a NUL: "10.0.0.5\0junk" must not pass as an
	 * address (a wire field holding one would be replaced whole). */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (memchr(buf, ':', len)) {
		if (inet_pton(AF_INET6, buf, &a->u.v6) != 1)
			return -1;
		a->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, buf, &a->u.v4) != 1)
		return -1;
	a->family = AF_INET;
	return 0;
}

int sn_port_parse(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int sn_endpoint_parse(struct sn_endpoint *e, const char *s, size_t len)
{
	const char *colon;

	memset(e, 0, sizeof(*e));
	if (len == 0)
		return -1;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb || sn_addr_parse(&e->addr, s + 1, (size_t)(rb - s - 1)) ||
		    e->addr.family != AF_INET6)
			return -1;
		if ((size_t)(rb - s + 1) == len)
			return 0;
		if (rb[1] != ':')
			return -1;
		return sn_port_parse(rb + 2, len - (size_t)(rb - s + 2), &e->port);
	}
	colon = memchr(s, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
		return sn_addr_parse(&e->addr, s, len);	/* bare IPv6 */
	if (!colon)
		return sn_addr_parse(&e->addr, s, len);
	if (sn_addr_parse(&e->addr, s, (size_t)(colon - s)) || e->addr.family != AF_INET)
		return -1;
	return sn_port_parse(colon + 1, len - (size_t)(colon - s) - 1, &e->port);
}

bool sn_addr_equal(const struct sn_addr *a, const struct sn_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
	return true;
}

bool sn_addr_is_any(const struct sn_addr *a)
{
	if (a->family == AF_INET)
		return a->u.v4.s_addr == htonl(INADDR_ANY);
	if (a->family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->u.v6);
	return false;
}

bool sn_addr_is_special(const struct sn_addr *a)
{
	if (a->family == AF_INET) {
		uint32_t h = ntohl(a->u.v4.s_addr);

		return h == 0 || (h >> 24) == 127 || (h >> 28) == 0xe ||
		       h == 0xffffffffu || (h >> 28) == 0xf;
	}
	if (a->family == AF_INET6) {
		const struct in6_addr *v6 = &a->u.v6;

		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			struct sn_addr v4 = { .family = AF_INET };

			memcpy(&v4.u.v4, &v6->s6_addr[12], 4);
			return sn_addr_is_special(&v4);
		}
		return IN6_IS_ADDR_UNSPECIFIED(v6) || IN6_IS_ADDR_LOOPBACK(v6) ||
		       IN6_IS_ADDR_MULTICAST(v6);
	}
	return true;
}

size_t sn_addr_format(const struct sn_addr *a, char *buf, size_t size)
{
	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, &a->u, buf, (socklen_t)size);
	return strlen(buf);
}

size_t sn_endpoint_format(const struct sn_endpoint *e, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	sn_addr_format(&e->addr, ip, sizeof(ip));
	if (e->addr.family == AF_INET6)
		n = e->port ? snprintf(buf, size, "[%s]:%u", ip, e->port)
			    : snprintf(buf, size, "[%s]", ip);
	else
		n = e->port ? snprintf(buf, size, "%s:%u", ip, e->port)
			    : snprintf(buf, size, "%s", ip);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}
