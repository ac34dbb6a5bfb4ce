/* Unit tests of ctl.c and stats.c: the control socket answers known
 * requests, refuses others, survives overlong and silent clients, and
 * will not steal a socket another daemon answers on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "stats.h"

static char dir[32], path[96];
static struct ctl ctl;
static struct stats st;

/* One round of the daemon's loop for the control socket. */
static void serve_once(int timeout_ms)
{
	struct pollfd pfd[1 + CTL_CLIENTS];
	size_t n = ctl_pollfds(&ctl, pfd, 1 + CTL_CLIENTS);

	poll(pfd, n, timeout_ms);
	ctl_handle(&ctl, pfd, n, &st, now_ms());
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends req, serves until the daemon closes, returns what came back. */
static size_t ask(const char *req, size_t len, char *out, size_t size)
{
	int fd = client();
	size_t got = 0;

	serve_once(50);		/* accept */
	assert_int_equal(write(fd, req, len), (ssize_t)len);
	for (int i = 0; i < 20; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		serve_once(20);
		if (poll(&p, 1, 0) <= 0)
			continue;
		r = read(fd, out + got, size - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_ctl.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/nfqd.sock", dir);	/* run/ made by ctl_open */
	memset(&st, 0, sizeof(st));
	st.start_ms = now_ms();
	st.queue_num = 65530;	/* no such queue in /proc: no kernel lines */
	st.seen = 42;
	st.passthrough[RW_R_NOT_SIP] = 3;
	assert_int_equal(ctl_open(&ctl, path), 0);
	return 0;
}

static int teardown(void **state)
{
	char run[160];

	ctl_close(&ctl);
	snprintf(run, sizeof(run), "%s/run", dir);
	rmdir(run);
	rmdir(dir);
	return 0;
}

static void test_status(void **state)
{
	char out[8192];

	ask("status\n", 7, out, sizeof(out));
	assert_non_null(strstr(out, "\nseen 42\n"));
	assert_non_null(strstr(out, "\npassthrough-not-sip 3\n"));
	assert_null(strstr(out, "kernel-queue-total"));
	ask("status json\n", 12, out, sizeof(out));
	assert_true(out[0] == '{');
	assert_non_null(strstr(out, "\"seen\": 42, "));
	assert_non_null(strstr(out, "}\n"));
}

static void test_bad_requests(void **state)
{
	char out[8192], big[CTL_REQ_MAX + 10];

	ask("stats\n", 6, out, sizeof(out));
	assert_string_equal(out, "error: unknown request\n");
	ask("status\0x\n", 9, out, sizeof(out));	/* NUL inside */
	assert_string_equal(out, "error: unknown request\n");
	/* No newline within CTL_REQ_MAX bytes: dropped without an answer. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(ask(big, CTL_REQ_MAX, out, sizeof(out)), 0);
	/* And the daemon still answers afterwards. */
	ask("status\n", 7, out, sizeof(out));
	assert_non_null(strstr(out, "\nseen 42\n"));
}

static void test_more_clients_than_slots(void **state)
{
	int fds[CTL_CLIENTS + 2];
	char out[8192];

	/* Silent clients fill every slot; one more is turned away, and
	 * after the timeout the slots are free again. */
	for (int i = 0; i < CTL_CLIENTS + 2; i++) {
		fds[i] = client();
		serve_once(20);
	}
	usleep((CTL_TIMEOUT_MS + 100) * 1000);
	serve_once(0);
	for (int i = 0; i < CTL_CLIENTS + 2; i++)
		close(fds[i]);
	ask("status\n", 7, out, sizeof(out));
	assert_non_null(strstr(out, "\nseen 42\n"));
}

static void test_socket_taken(void **state)
{
	struct ctl other;

	/* A live daemon answers on path: the second one must not steal it. */
	assert_int_equal(ctl_open(&other, path), -1);
	assert_int_equal(errno, EADDRINUSE);
}

static void test_stale_socket(void **state)
{
	struct ctl again;
	char out[8192];

	/* A socket nobody listens on (a crashed daemon's) is replaced. */
	close(ctl.lfd);
	ctl.lfd = -1;
	assert_int_equal(ctl_open(&again, path), 0);
	ctl = again;
	ask("status\n", 7, out, sizeof(out));
	assert_non_null(strstr(out, "\nseen 42\n"));
}

static void test_format_truncates(void **state)
{
	char small[32];
	size_t n = stats_format(&st, st.start_ms, false, small, sizeof(small));

	assert_int_equal(n, sizeof(small) - 1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(stats_format(&st, st.start_ms, true, small, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_clients_than_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_truncates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
