/* addr.h - IPv4/IPv6 addresses as sipnat passes them around.
 *
 * Owns: parsing and printing of addresses and address:port pairs, the
 * classification the pinhole code needs (loopback, multicast, ...).
 * Must not: resolve names, touch sockets.
 */
#ifndef SIPNAT_ADDR_H
#define SIPNAT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct sn_addr {
	sa_family_t family;		/* AF_INET, AF_INET6, or 0 for "none" */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} u;
};

struct sn_endpoint {
	struct sn_addr addr;
	uint16_t port;			/* host order; 0 = not given */
};

/* Longest text form: "[" IPv6 "]:" port, NUL included. */
#define SN_ADDRSTRLEN (INET6_ADDRSTRLEN + 8)

/* Parses an IPv4 or IPv6 literal of exactly len bytes (no brackets, no
 * port).  Returns 0, or -1 when it is not a literal. */
int sn_addr_parse(struct sn_addr *a, const char *s, size_t len);

/* Parses "1.2.3.4", "1.2.3.4:5060", "::1", "[::1]" or "[::1]:5060".
 * Port 0 when absent.  Returns 0 or -1. */
int sn_endpoint_parse(struct sn_endpoint *e, const char *s, size_t len);

/* Parses a decimal port 1-65535 of exactly len bytes.  Returns 0 or -1. */
int sn_port_parse(const char *s, size_t len, uint16_t *port);

bool sn_addr_equal(const struct sn_addr *a, const struct sn_addr *b);
bool sn_addr_is_any(const struct sn_addr *a);		/* 0.0.0.0 or :: */
/* True for addresses no media pinhole may ever point at or come from:
 * unspecified, loopback, multicast, broadcast, link-local v4 broadcast. */
bool sn_addr_is_special(const struct sn_addr *a);

/* Writes the plain literal (IPv6 without brackets).  Returns the length. */
size_t sn_addr_format(const struct sn_addr *a, char *buf, size_t size);
/* Writes "a.b.c.d:port" or "[v6]:port" (no ":port" when port is 0). */
size_t sn_endpoint_format(const struct sn_endpoint *e, char *buf, size_t size);

#endif
