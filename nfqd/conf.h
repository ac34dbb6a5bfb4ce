/* conf.h - nfqd's configuration: one struct filled from /etc/sipnat/nfqd.conf
 * and from command-line flags that mirror the file's keys one to one
 * (key "map" in the file is --map on the command line).
 *
 * Owns: parsing and validating keys and values.
 * Must not: open sockets or touch the kernel; it reads one file.
 * Errors are one line, "FILE:LINE: KEY: why" (or "--KEY: why" for flags),
 * and the caller exits with status 2.
 */
#ifndef SIPNAT_CONF_H
#define SIPNAT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natmap.h"

#define CONF_DEFAULT_PATH "/etc/sipnat/nfqd.conf"
#define CONF_DEFAULT_SOCKET "/run/sipnat/nfqd.sock"

struct conf {
	struct natmap map;		/* map, public-name, media-ports, masquerade */
	char pat_ports[16];		/* pat-ports = LO-HI (40000-49999): masquerade's pool */
	uint32_t pat_timeout_s;		/* pat-timeout = SECONDS (1800): lease lifetime */
	bool rewrite_from_to;		/* rewrite-from-to = yes|no (no) */
	bool strict;			/* strict = yes|no (no): drop what cannot be parsed */
	uint16_t queue_num;		/* queue = N (0) */
	bool fail_closed;		/* fail-closed = yes|no (no): no bypass when nfqd is gone */
	char table[64];			/* nft-table = NAME (sipnat), family inet */
	char media_backend[16];		/* media-backend = auto|nftset|expect|none (auto) */
	uint32_t media_timeout_s;	/* media-timeout = SECONDS (60) */
	uint32_t setup_timeout_s;	/* setup-timeout = SECONDS (180) */
	uint32_t session_timeout_s;	/* session-timeout = SECONDS (7200) */
	uint32_t max_dialogs;		/* max-dialogs = N (100000) */
	uint32_t max_pinholes;		/* max-pinholes = N (400000) */
	uint32_t max_pinholes_per_dialog; /* max-pinholes-per-dialog = N (32) */
	char control_socket[108];	/* control-socket = PATH (/run/sipnat/nfqd.sock) */
	char log_level[16];		/* log-level = error|warn|info|debug (info) */
	char fastpath[8];		/* fastpath = auto|no (auto): program sipnat_fp */
	bool allow_kernel_alg;		/* allow-kernel-alg = yes|no (no): start even when
					 * the ruleset attaches the kernel's SIP helper */
};

void conf_defaults(struct conf *c);
/* Sets one key from a string value; 0, or -1 with the reason in err. */
int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errlen);
/* Reads a file of "key = value" lines (# comments, blank lines).  0, or -1
 * with "FILE:LINE: KEY: why" in err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* conf_set for a command-line flag --KEY: the error comes back as the
 * whole line "--KEY: why". */
int conf_set_flag(struct conf *c, const char *key, const char *value, char *err, size_t errlen);
bool conf_is_key(const char *key);
/* yes|no keys: as flags, "--strict" alone means yes. */
bool conf_key_is_bool(const char *key);
/* map, public-name and media-ports: each use adds to the map. */
bool conf_key_repeats(const char *key);
/* The i-th key name (for building option tables, help); NULL past the end. */
const char *conf_key_name(size_t i);
/* Parses a pat-ports value: 0, or -1 when it is not LO-HI (4+ ports). */
int conf_pat_ports(const char *v, uint16_t *lo, uint16_t *hi);
/* Checks between keys once everything is set: 0, or -1 with "KEY: why". */
int conf_check(const struct conf *c, char *err, size_t errlen);

#endif
