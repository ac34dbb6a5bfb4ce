/* fuzz_sdp_scan.c - libFuzzer target for the SDP and multipart scanner
 * (sdp_scan.h): every line of the body parsed the way rewrite.c does, and a
 * multipart body split into parts that are scanned in turn.
 *
 * Input: a whole SIP message (the seeds); the body starts after the header
 * table sip_scan finds, or at byte 0 when there is none, so bare SDP also
 * gets fuzzed.  Findings: crashes, sanitizer reports, spans outside the body
 * (abort), a line loop that does not advance.
 *
 * Owns: nothing the daemon uses.  Must not: write files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sdp_scan.h"
#include "sip_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct ss_span s, struct ss_span parent, const char *what)
{
	/* absent fields are empty spans at offset 0 */
	if (s.len == 0)
		return;
	if (s.off < parent.off || s.len > parent.len ||
	    s.off - parent.off > parent.len - s.len) {
		fprintf(stderr, "fuzz_sdp_scan: %s span %zu+%zu outside %zu+%zu\n",
			what, s.off, s.len, parent.off, parent.len);
		abort();
	}
}

static void scan_sdp(const uint8_t *msg, struct ss_span body)
{
	size_t pos = body.off, end = body.off + body.len, guard = 0;
	struct sdp_line l;
	int r;

	while ((r = sdp_next_line(msg, &pos, end, &l)) == 1) {
		struct sdp_addr c;
		struct sdp_media md;
		struct sdp_rtcp rt;
		struct sdp_cand cd;

		inside(l.line, body, "line");
		inside(l.val, l.line, "value");
		if (++guard > body.len + 1 || pos > end) {
			fprintf(stderr, "fuzz_sdp_scan: sdp_next_line does not advance\n");
			abort();
		}
		switch (l.type) {
		case 'c':
			if (sdp_parse_conn(msg, l.val, &c) == 0)
				inside(c.addr, l.val, "c= addr");
			break;
		case 'o':
			if (sdp_parse_origin(msg, l.val, &c) == 0)
				inside(c.addr, l.val, "o= addr");
			break;
		case 'm':
			if (sdp_parse_media(msg, l.val, &md) == 0) {
				inside(md.port, l.val, "m= port");
				inside(md.proto, l.val, "m= proto");
			}
			break;
		case 'a':
			if (sdp_attr_is(msg, l.val, "rtcp") && sdp_parse_rtcp(msg, l.val, &rt) == 0) {
				inside(rt.port, l.val, "rtcp port");
				if (rt.has_addr)
					inside(rt.addr.addr, l.val, "rtcp addr");
			}
			if (sdp_attr_is(msg, l.val, "candidate") &&
			    sdp_parse_candidate(msg, l.val, &cd) == 0) {
				inside(cd.addr, l.val, "candidate addr");
				inside(cd.port, l.val, "candidate port");
			}
			if (sdp_attr_is(msg, l.val, "remote-candidates"))
				for (size_t i = 0; i < 64 && sdp_remote_candidate(msg, l.val, i, &cd) == 1; i++)
					inside(cd.addr, l.val, "remote-candidate addr");
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ss_header hdrs[SS_MAX_HEADERS];
	struct ss_msg m;
	struct ss_span body = { 0, size }, boundary;
	struct mime_part parts[16];

	if (ss_scan(data, size, false, hdrs, SS_MAX_HEADERS, &m) == 0 &&
	    m.body_off <= size) {
		body.off = m.body_off;
		body.len = size - m.body_off;
		for (size_t i = 0; i < m.n_hdrs; i++) {
			if (hdrs[i].id != SS_H_CONTENT_TYPE)
				continue;
			if (ct_is_multipart(data, hdrs[i].value, &boundary)) {
				int n = mime_split(data, body, boundary, parts, 16);

				for (int k = 0; k < n && k < 16; k++) {
					inside(parts[k].body, body, "part");
					scan_sdp(data, parts[k].body);
				}
			}
			(void)ct_is_sdp(data, hdrs[i].value);
		}
	}
	scan_sdp(data, body);
	return 0;
}
