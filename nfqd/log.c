/* log.c - see log.h.
 *
 * Owns: formatting one line per message onto stderr.
 * Must not: allocate or block for long: a full pipe loses lines, it does
 * not stall the packet path (stderr is unbuffered; a write error is
 * ignored because there is nowhere better to report it).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level level = LOG_L_INFO;
static int journal = -1;	/* -1: not looked at yet */

int log_level_parse(const char *name)
{
	if (!strcmp(name, "error"))
		return LOG_L_ERROR;
	if (!strcmp(name, "warn"))
		return LOG_L_WARN;
	if (!strcmp(name, "info"))
		return LOG_L_INFO;
	if (!strcmp(name, "debug"))
		return LOG_L_DEBUG;
	return -1;
}

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void vlog(enum log_level l, const char *fmt, va_list ap)
{
	static const char *const names[8] = { "emerg", "alert", "crit", "error",
					       "warning", "notice", "info", "debug" };
	char line[1024];
	int n;

	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		n = snprintf(line, sizeof(line), "<%d>", (int)l);
	else
		n = snprintf(line, sizeof(line), "nfqd: %s: ", names[l & 7]);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	if (l > level)
		return;
	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

void log_rl(struct ratelimit *rl, enum log_level l, const char *fmt, ...)
{
	uint64_t now;
	va_list ap;

	if (l > level)
		return;
	now = now_ms();
	if (now - rl->start_ms >= rl->interval_ms) {
		rl->start_ms = now;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	if (rl->suppressed) {
		log_msg(l, "(%llu similar messages suppressed)",
			(unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}
