/* rw_check.h - the properties every rw_rewrite() result must have, shared by
 * the corpus checker (tests/corpus/rwcheck.c) and the fuzz targets.
 *
 * Owns: judging one result against its input and the map: the status says
 * what happened, out is the input with exactly the listed spans replaced,
 * Content-Length moved with the body, no replacement carries an address of
 * the side it leaves, a second pass changes nothing.
 * Must not: know which header a policy rewrites (that is the expected
 * files' job) or print anything but one line per broken property.
 *
 * Header-only (static functions) so each test binary stays one file.
 */
#ifndef SIPNAT_RW_CHECK_H
#define SIPNAT_RW_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rewrite.h"

struct rwchk_report {
	char why[8][200];		/* broken properties, first 8 */
	int n;
};

static inline void rwchk_fail(struct rwchk_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void rwchk_fail(struct rwchk_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n < 8) {
		va_start(ap, fmt);
		vsnprintf(r->why[r->n], sizeof(r->why[0]), fmt, ap);
		va_end(ap);
	}
	r->n++;
}

/* Offset of the first byte of the body (after CRLFCRLF or LFLF), or len
 * when the headers never end. */
static inline size_t rwchk_body_start(const uint8_t *m, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (m[i] != '\n')
			continue;
		if (m[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* The value of the one Content-Length (or compact "l") header.  Returns 1
 * and sets *v, 0 when absent, -1 when repeated, folded or unparsable: the
 * check only speaks about messages whose length was unambiguous. */
static inline int rwchk_content_length(const uint8_t *m, size_t len, unsigned long *v)
{
	size_t hend = rwchk_body_start(m, len), i = 0;
	int found = 0;

	/* skip the start line */
	while (i < hend && m[i] != '\n')
		i++;
	i++;
	while (i < hend) {
		size_t ls = i, le = i, n;

		while (le < hend && m[le] != '\n')
			le++;
		i = le + 1;
		n = 0;
		while (ls + n < le && m[ls + n] != ':' && m[ls + n] != ' ' && m[ls + n] != '\t')
			n++;
		if (!((n == 14 && strncasecmp((const char *)m + ls, "Content-Length", 14) == 0) ||
		      (n == 1 && (m[ls] == 'l' || m[ls] == 'L'))))
			continue;
		size_t p = ls + n;

		while (p < le && (m[p] == ' ' || m[p] == '\t'))
			p++;
		if (p >= le || m[p] != ':')
			continue;
		p++;
		while (p < le && (m[p] == ' ' || m[p] == '\t'))
			p++;
		unsigned long val = 0;
		size_t digits = 0;

		while (p < le && m[p] >= '0' && m[p] <= '9' && digits < 9) {
			val = val * 10 + (unsigned long)(m[p] - '0');
			p++;
			digits++;
		}
		while (p < le && (m[p] == ' ' || m[p] == '\t' || m[p] == '\r'))
			p++;
		if (digits == 0 || p != le)
			return -1;
		/* a folded continuation would hide part of the value */
		if (i < hend && (m[i] == ' ' || m[i] == '\t'))
			return -1;
		if (found)
			return -1;
		found = 1;
		*v = val;
	}
	return found;
}

/* True when the address text t (n bytes) occurs in s[0..len) as a whole
 * token: not inside a longer number or IPv6 literal. */
static inline bool rwchk_has_token(const char *s, size_t len, const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > len)
		return false;
	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(s + i, t, n) != 0)
			continue;
		char b = i ? s[i - 1] : ' ', a = i + n < len ? s[i + n] : ' ';
		bool v6 = strchr(t, ':') != NULL;

		if ((b >= '0' && b <= '9') || b == '.' || (v6 && (b == ':' || (b >= 'a' && b <= 'f') ||
								 (b >= 'A' && b <= 'F'))))
			continue;
		if ((a >= '0' && a <= '9') ||
		    (a == '.' && i + n + 1 < len && s[i + n + 1] >= '0' && s[i + n + 1] <= '9') ||
		    (v6 && (a == ':' || (a >= 'a' && a <= 'f') || (a >= 'A' && a <= 'F'))))
			continue;
		return true;
	}
	return false;
}

/* Checks one result.  in/res as given to and returned by rw_rewrite(). */
static inline void rwchk_check(const struct rw_config *cfg, const struct rw_input *in,
		      const struct rw_result *res, struct rwchk_report *r)
{
	const struct natmap *map = cfg->map;

	switch (res->status) {
	case RW_REWRITTEN:
	case RW_UNCHANGED:
		if (res->reason != RW_OK)
			rwchk_fail(r, "status %d with reason %s", res->status, rw_reason_name(res->reason));
		break;
	case RW_PASSTHROUGH:
	case RW_DROP:
		if (res->reason == RW_OK || res->reason >= RW_R__COUNT)
			rwchk_fail(r, "passthrough without a reason (%d)", res->reason);
		if (res->status == RW_DROP && !cfg->strict)
			rwchk_fail(r, "dropped without strict mode");
		break;
	default:
		rwchk_fail(r, "unknown status %d", res->status);
		return;
	}
	if (!res->out && res->out_len)
		rwchk_fail(r, "out is NULL with out_len %zu", res->out_len);
	if (res->status == RW_REWRITTEN || res->status == RW_UNCHANGED) {
		/* what dialog.c reads: strings terminated (ASan catches a read
		 * past the arena piece), "" rather than NULL, media in bounds */
		const struct rw_sip *s = &res->sip;

		if (!s->call_id || !s->from_tag || !s->to_tag)
			rwchk_fail(r, "call_id/from_tag/to_tag NULL on a parsed message");
		else if (strlen(s->call_id) + strlen(s->from_tag) + strlen(s->to_tag) > in->len)
			rwchk_fail(r, "call_id/tags longer than the message");
		if (!memchr(s->method, '\0', sizeof(s->method)))
			rwchk_fail(r, "method not terminated");
		if (s->n_media && !s->media)
			rwchk_fail(r, "%zu media without an array", s->n_media);
		for (size_t k = 0; s->media && k < s->n_media; k++) {
			const struct rw_media *md = &s->media[k];

			if (!memchr(md->type, '\0', sizeof(md->type)) ||
			    !memchr(md->proto, '\0', sizeof(md->proto)) ||
			    (unsigned)md->mdir > RW_INACTIVE)
				rwchk_fail(r, "media %zu: type/proto unterminated or bad direction", k);
		}
	}
	if (res->status != RW_REWRITTEN) {
		if (res->out_len != in->len || (in->len && memcmp(res->out, in->msg, in->len)))
			rwchk_fail(r, "status %d but out differs from the input", res->status);
		if (res->n_edits && res->status != RW_UNCHANGED)
			rwchk_fail(r, "%zu edits on a message passed through", res->n_edits);
		return;
	}
	if (res->n_edits == 0 || !res->edits)
		rwchk_fail(r, "rewritten with no edits listed");

	/* out == input with each span replaced, spans in order, apart */
	size_t ip = 0, op = 0;

	for (size_t k = 0; k < res->n_edits; k++) {
		const struct rw_edit *e = &res->edits[k];

		if (e->off < ip || e->off > in->len || e->len > in->len - e->off) {
			rwchk_fail(r, "edit %zu (%zu+%zu) out of order or out of bounds", k, e->off, e->len);
			return;
		}
		if (!e->where || (e->text_len && !e->text)) {
			rwchk_fail(r, "edit %zu lacks where or text", k);
			return;
		}
		size_t same = e->off - ip;

		if (op + same + e->text_len > res->out_len ||
		    memcmp(res->out + op, in->msg + ip, same) ||
		    memcmp(res->out + op + same, e->text, e->text_len)) {
			rwchk_fail(r, "out is not the input with edit %zu (%s at %zu) applied", k, e->where, e->off);
			return;
		}
		op += same + e->text_len;
		ip = e->off + e->len;

		/* the replacement carries no address of the side it leaves */
		for (size_t j = 0; map && j < map->n; j++) {
			char a[SN_ADDRSTRLEN];
			const struct natmap_entry *me = &map->e[j];

			sn_addr_format(in->dir == RW_OUT ? &me->priv : &me->pub, a, sizeof(a));
			if (rwchk_has_token(e->text, e->text_len, a))
				rwchk_fail(r, "edit %zu (%s) writes %s, an address of the %s side",
					 k, e->where, a, in->dir == RW_OUT ? "private" : "public");
			if (in->dir == RW_IN && me->fqdn[0] &&
			    rwchk_has_token(e->text, e->text_len, me->fqdn))
				rwchk_fail(r, "edit %zu (%s) writes the public name %s inbound",
					 k, e->where, me->fqdn);
		}
	}
	if (op + (in->len - ip) != res->out_len ||
	    memcmp(res->out + op, in->msg + ip, in->len - ip))
		rwchk_fail(r, "out does not end with the input's tail after the last edit");
	if (res->out_len == in->len && !memcmp(res->out, in->msg, in->len))
		rwchk_fail(r, "status rewritten but out equals the input");

	/* Content-Length moved exactly as much as the body did */
	unsigned long cl_in, cl_out;
	int hi = rwchk_content_length(in->msg, in->len, &cl_in);
	int ho = rwchk_content_length(res->out, res->out_len, &cl_out);

	if (hi == 1) {
		long din = (long)(in->len - rwchk_body_start(in->msg, in->len)) - (long)cl_in;

		if (ho != 1)
			rwchk_fail(r, "Content-Length was readable before the rewrite, not after");
		else if ((long)(res->out_len - rwchk_body_start(res->out, res->out_len)) - (long)cl_out != din)
			rwchk_fail(r, "Content-Length %lu -> %lu does not follow the body (%zu -> %zu bytes)",
				 cl_in, cl_out, in->len - rwchk_body_start(in->msg, in->len),
				 res->out_len - rwchk_body_start(res->out, res->out_len));
	} else if (hi == 0 && ho != 0) {
		rwchk_fail(r, "Content-Length appeared where there was none");
	}
}

/* Rewrites out again in the same direction: nothing may change. */
static inline void rwchk_check_idempotent(const struct rw_config *cfg, const struct rw_input *in,
				 const struct rw_result *res, struct arena *a2,
				 struct rwchk_report *r)
{
	struct rw_input in2 = *in;
	struct rw_result res2;

	if (res->status != RW_REWRITTEN)
		return;
	in2.msg = res->out;
	in2.len = res->out_len;
	arena_reset(a2);
	rw_rewrite(cfg, &in2, a2, &res2);
	if (res2.out_len != res->out_len || memcmp(res2.out, res->out, res->out_len))
		rwchk_fail(r, "not idempotent: a second %s pass changed %zu span(s), first at %zu (%s)",
			 in->dir == RW_OUT ? "out" : "in", res2.n_edits,
			 res2.n_edits ? res2.edits[0].off : 0,
			 res2.n_edits ? res2.edits[0].where : "?");
}

#endif
