/* fuzz_sip_scan.c - libFuzzer target for the SIP scanner (sip_scan.h): the
 * start line and header table, then every value helper on every header, the
 * way rewrite.c walks a message.
 *
 * Input: the whole message; stream mode (TCP rules) when its length is odd,
 * so both modes get every seed.  Findings: crashes, sanitizer reports, a span
 * outside the message or outside the span it was cut from (abort).
 *
 * Owns: nothing the daemon uses.  Must not: write files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sip_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *base;
static size_t total;

/* A span must lie inside [lo, lo+len) of its parent. */
static void inside(struct ss_span s, struct ss_span parent, const char *what)
{
	/* absent fields are empty spans at offset 0 */
	if (s.len == 0)
		return;
	if (s.off < parent.off || s.len > parent.len ||
	    s.off - parent.off > parent.len - s.len) {
		fprintf(stderr, "fuzz_sip_scan: %s span %zu+%zu outside %zu+%zu\n",
			what, s.off, s.len, parent.off, parent.len);
		abort();
	}
}

static void walk_uri(struct ss_span uri, struct ss_span parent)
{
	struct ss_uri u;
	struct ss_span pv;

	inside(uri, parent, "uri");
	if (ss_uri_parse(base, uri, &u) == 0) {
		inside(u.host, uri, "uri host");
		inside(u.port, uri, "uri port");
		(void)ss_host_valid(base, u.host);
	}
	(void)ss_param(base, uri, "transport", &pv);
	(void)ss_param(base, uri, "maddr", &pv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ss_header hdrs[SS_MAX_HEADERS];
	struct ss_msg m;
	struct ss_span all = { 0, size };

	base = data;
	total = size;
	if (ss_scan(data, size, size & 1, hdrs, SS_MAX_HEADERS, &m) != 0)
		return 0;
	if (m.n_hdrs > SS_MAX_HEADERS || m.body_off > size)
		abort();
	if (m.is_request) {
		inside(m.method, all, "method");
		inside(m.ruri, all, "request-uri");
		walk_uri(m.ruri, all);
	}
	for (size_t i = 0; i < m.n_hdrs; i++) {
		const struct ss_header *h = &hdrs[i];
		struct ss_span v, uri;
		size_t pos = h->value.off, guard = 0;

		inside(h->name, all, "header name");
		inside(h->value, all, "header value");
		while (ss_next_value(data, h->value, &pos, &v)) {
			inside(v, h->value, "list value");
			if (++guard > h->value.len + 1) {
				fprintf(stderr, "fuzz_sip_scan: ss_next_value does not advance\n");
				abort();
			}
			if (h->id == SS_H_VIA) {
				struct ss_via via;

				if (ss_via_parse(data, v, &via) == 0) {
					inside(via.host, v, "via host");
					inside(via.port, v, "via port");
					inside(via.received, v, "via received");
					inside(via.rport, v, "via rport");
					(void)ss_host_valid(data, via.host);
				}
			} else if (ss_value_uri(data, v, &uri) == 0) {
				walk_uri(uri, v);
			}
		}
	}
	return 0;
}
