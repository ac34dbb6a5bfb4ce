/* conf.c - nfqd's configuration file and the flags that mirror it.
 *
 * Owns: the table of keys, value syntax and range checks, the
 * "FILE:LINE: KEY: why" error line.
 * Must not: open sockets, touch the kernel, print, or exit; the caller
 * prints the error line and exits with status 2.
 *
 * Every key may be given once per file, except map, public-name and
 * media-ports, which add to the map each time.  A flag given after the
 * file replaces the file's value (or adds, for the repeated keys).
 */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longer lines are refused rather than silently split. */
#define CONF_LINE_MAX 4096

enum ktype { K_MAP, K_NAME, K_MEDIA_PORTS, K_MASQ, K_BOOL, K_U32, K_STR };

struct key {
	const char *name;
	enum ktype type;
	size_t off;		/* offsetof the field in struct conf */
	uint32_t min, max;	/* K_U32 range; K_STR: max length (min unused) */
	int (*check)(const char *v, char *err, size_t errlen);	/* K_STR */
};

static int check_table(const char *v, char *err, size_t errlen);
static int check_backend(const char *v, char *err, size_t errlen);
static int check_path(const char *v, char *err, size_t errlen);
static int check_level(const char *v, char *err, size_t errlen);
static int check_fastpath(const char *v, char *err, size_t errlen);
static int check_pat_ports(const char *v, char *err, size_t errlen);

#define F(f) offsetof(struct conf, f)
static const struct key keys[] = {
	{ "map", K_MAP, 0, 0, 0, NULL },
	{ "public-name", K_NAME, 0, 0, 0, NULL },
	{ "media-ports", K_MEDIA_PORTS, 0, 0, 0, NULL },
	{ "masquerade", K_MASQ, 0, 0, 0, NULL },
	{ "pat-ports", K_STR, F(pat_ports), 0, sizeof(((struct conf *)0)->pat_ports) - 1,
	  check_pat_ports },
	{ "pat-timeout", K_U32, F(pat_timeout_s), 10, 86400, NULL },
	{ "rewrite-from-to", K_BOOL, F(rewrite_from_to), 0, 0, NULL },
	{ "strict", K_BOOL, F(strict), 0, 0, NULL },
	{ "queue", K_U32, F(queue_num), 0, 65535, NULL },
	{ "fail-closed", K_BOOL, F(fail_closed), 0, 0, NULL },
	{ "nft-table", K_STR, F(table), 0, sizeof(((struct conf *)0)->table) - 1, check_table },
	{ "media-backend", K_STR, F(media_backend), 0,
	  sizeof(((struct conf *)0)->media_backend) - 1, check_backend },
	/* A day is far beyond any sane media or setup timeout; it keeps
	 * the millisecond arithmetic of dialog.c well inside 64 bits. */
	{ "media-timeout", K_U32, F(media_timeout_s), 1, 86400, NULL },
	{ "setup-timeout", K_U32, F(setup_timeout_s), 1, 86400, NULL },
	{ "session-timeout", K_U32, F(session_timeout_s), 1, 7 * 86400, NULL },
	{ "max-dialogs", K_U32, F(max_dialogs), 1, 10000000, NULL },
	{ "max-pinholes", K_U32, F(max_pinholes), 1, 40000000, NULL },
	{ "max-pinholes-per-dialog", K_U32, F(max_pinholes_per_dialog), 1, 1024, NULL },
	{ "control-socket", K_STR, F(control_socket), 0,
	  sizeof(((struct conf *)0)->control_socket) - 1, check_path },
	{ "log-level", K_STR, F(log_level), 0, sizeof(((struct conf *)0)->log_level) - 1,
	  check_level },
	{ "allow-kernel-alg", K_BOOL, F(allow_kernel_alg), 0, 0, NULL },
	{ "fastpath", K_STR, F(fastpath), 0, sizeof(((struct conf *)0)->fastpath) - 1,
	  check_fastpath },
};
#undef F

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->queue_num = 0;
	snprintf(c->table, sizeof(c->table), "sipnat");
	snprintf(c->media_backend, sizeof(c->media_backend), "auto");
	c->media_timeout_s = 60;
	c->setup_timeout_s = 180;
	c->session_timeout_s = 7200;
	c->max_dialogs = 100000;
	c->max_pinholes = 400000;
	c->max_pinholes_per_dialog = 32;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", CONF_DEFAULT_SOCKET);
	snprintf(c->log_level, sizeof(c->log_level), "info");
	snprintf(c->fastpath, sizeof(c->fastpath), "auto");
	snprintf(c->pat_ports, sizeof(c->pat_ports), "40000-49999");
	c->pat_timeout_s = 1800;
}

int conf_pat_ports(const char *v, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(v, '-');

	if (!dash || sn_port_parse(v, (size_t)(dash - v), lo) ||
	    sn_port_parse(dash + 1, strlen(dash + 1), hi) || *hi < *lo || *hi - *lo < 3)
		return -1;
	return 0;
}

static int check_pat_ports(const char *v, char *err, size_t errlen)
{
	uint16_t lo, hi;

	if (conf_pat_ports(v, &lo, &hi)) {
		if (err && errlen)
			snprintf(err, errlen, "expected LO-HI with at least 4 ports, not '%s'", v);
		return -1;
	}
	return 0;
}

static int why(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
	return -1;
}

static int check_table(const char *v, char *err, size_t errlen)
{
	if (!*v)
		return why(err, errlen, "%sempty table name", "");
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return why(err, errlen, "table name may hold only letters, digits, _ and -: '%s'", v);
	return 0;
}

static int check_backend(const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "auto") && strcmp(v, "nftset") && strcmp(v, "expect") && strcmp(v, "none"))
		return why(err, errlen, "expected auto, nftset, expect or none, not '%s'", v);
	return 0;
}

static int check_path(const char *v, char *err, size_t errlen)
{
	if (v[0] != '/')
		return why(err, errlen, "expected an absolute path, not '%s'", v);
	return 0;
}

static int check_level(const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "error") && strcmp(v, "warn") && strcmp(v, "info") && strcmp(v, "debug"))
		return why(err, errlen, "expected error, warn, info or debug, not '%s'", v);
	return 0;
}

static int check_fastpath(const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "auto") && strcmp(v, "no"))
		return why(err, errlen, "expected auto or no, not '%s'", v);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
		 !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long n = 0;

	if (!*v)
		return -1;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (unsigned)(*p - '0');
		if (n > max)
			return -1;
	}
	if (n < min)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

bool conf_key_repeats(const char *key)
{
	const struct key *k = find_key(key);

	return k && (k->type == K_MAP || k->type == K_NAME || k->type == K_MEDIA_PORTS ||
		     k->type == K_MASQ);
}

bool conf_key_is_bool(const char *key)
{
	const struct key *k = find_key(key);

	return k && k->type == K_BOOL;
}

bool conf_is_key(const char *key)
{
	return find_key(key) != NULL;
}

const char *conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct key *k = find_key(key);
	uint8_t *base = (uint8_t *)c;
	uint32_t n;
	bool b;

	if (!k)
		return why(err, errlen, "%sunknown key", "");
	if (!value || !*value)
		return why(err, errlen, "%smissing value", "");
	switch (k->type) {
	case K_MAP:
		return natmap_add_spec(&c->map, value, err, errlen);
	case K_NAME:
		return natmap_add_name(&c->map, value, err, errlen);
	case K_MEDIA_PORTS:
		return natmap_add_media_ports(&c->map, value, err, errlen);
	case K_MASQ:
		return natmap_add_masquerade(&c->map, value, err, errlen);
	case K_BOOL:
		if (parse_bool(value, &b))
			return why(err, errlen, "expected yes or no, not '%s'", value);
		*(bool *)(base + k->off) = b;
		return 0;
	case K_U32:
		if (parse_u32(value, k->min, k->max, &n)) {
			if (err && errlen)
				snprintf(err, errlen, "expected a number from %u to %u, not '%s'",
					 k->min, k->max, value);
			return -1;
		}
		if (k->off == offsetof(struct conf, queue_num))
			c->queue_num = (uint16_t)n;
		else
			*(uint32_t *)(base + k->off) = n;
		return 0;
	case K_STR:
		if (strlen(value) > k->max) {
			if (err && errlen)
				snprintf(err, errlen, "longer than %u bytes", k->max);
			return -1;
		}
		if (k->check && k->check(value, err, errlen))
			return -1;
		snprintf((char *)(base + k->off), k->max + 1, "%s", value);
		return 0;
	}
	return why(err, errlen, "%sunknown key", "");
}

int conf_set_flag(struct conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	char why_[256];

	if (conf_set(c, key, value, why_, sizeof(why_)) == 0)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "--%s: %s", key, why_);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int line_err(char *err, size_t errlen, const char *path, unsigned line,
		    const char *key, const char *reason)
{
	if (err && errlen)
		snprintf(err, errlen, "%s:%u: %s: %s", path, line, key, reason);
	return -1;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char reason[256];
	bool seen[NKEYS] = { false };
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *line, *eq, *key, *value, *hash;
		const struct key *k;

		lineno++;
		if (len > CONF_LINE_MAX) {
			rc = line_err(err, errlen, path, lineno, "-", "line too long");
			break;
		}
		if (memchr(buf, '\0', (size_t)len)) {
			rc = line_err(err, errlen, path, lineno, "-", "NUL byte in line");
			break;
		}
		/* A '#' starts a comment anywhere: no value of ours holds one. */
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		line = trim(buf);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			rc = line_err(err, errlen, path, lineno, line, "expected 'key = value'");
			break;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		if (!*key) {
			rc = line_err(err, errlen, path, lineno, "-", "missing key before '='");
			break;
		}
		k = find_key(key);
		if (!k) {
			rc = line_err(err, errlen, path, lineno, key, "unknown key");
			break;
		}
		if (seen[k - keys] && !conf_key_repeats(key)) {
			rc = line_err(err, errlen, path, lineno, key, "given twice");
			break;
		}
		seen[k - keys] = true;
		if (conf_set(c, key, value, reason, sizeof(reason))) {
			rc = line_err(err, errlen, path, lineno, key, reason);
			break;
		}
	}
	if (!rc && ferror(f)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(buf);
	fclose(f);
	return rc;
}

int conf_check(const struct conf *c, char *err, size_t errlen)
{
	if (c->max_pinholes_per_dialog > c->max_pinholes) {
		if (err && errlen)
			snprintf(err, errlen, "max-pinholes-per-dialog: larger than max-pinholes (%u)",
				 c->max_pinholes);
		return -1;
	}
	return 0;
}
