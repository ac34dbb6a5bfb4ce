/* log.h - nfqd's log lines: syslog levels, to stderr (systemd's journal
 * picks them up, with the level, from a "<N>" prefix when JOURNAL_STREAM
 * says stderr is the journal).
 *
 * Owns: level filtering and rate limiting of repeated warnings.
 * Must not: be called per packet at info level or above without a
 * ratelimit; block.
 */
#ifndef SIPNAT_LOG_H
#define SIPNAT_LOG_H

#include <stdint.h>

enum log_level { LOG_L_ERROR = 3, LOG_L_WARN = 4, LOG_L_INFO = 6, LOG_L_DEBUG = 7 };

/* "error", "warn", "info", "debug"; -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);

void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_L_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_L_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_L_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_L_DEBUG, __VA_ARGS__)

/* At most burst messages per interval_ms; the next one that passes says
 * how many were suppressed in between. */
struct ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t start_ms;
	uint32_t printed;
	uint64_t suppressed;
};

#define RATELIMIT_INIT { 10000, 5, 0, 0, 0 }

void log_rl(struct ratelimit *rl, enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Monotonic milliseconds (shared by the daemon loop). */
uint64_t now_ms(void);

#endif
