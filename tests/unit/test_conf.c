/* Unit tests of conf.c: the files and flags an admin writes, good and bad,
 * and the exact error lines they get back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char path[64];

/* Writes text to a fresh temporary file named in path. */
static void write_conf(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Loads text into a defaulted conf; returns conf_load's result, err filled. */
static int load(struct conf *c, const char *text, char *err, size_t errlen)
{
	int rc;

	conf_defaults(c);
	write_conf(text, strlen(text));
	rc = conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

/* Expects load to fail with "PATH:suffix". */
static void expect_err(const char *text, const char *suffix)
{
	static struct conf c;
	char err[512], want[512];

	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%s", path, suffix);
	assert_string_equal(err, want);
}

static void test_defaults(void **state)
{
	static struct conf c;
	char err[256] = "";

	assert_int_equal(load(&c, "", err, sizeof(err)), 0);
	assert_int_equal(c.map.n, 0);
	assert_false(c.strict);
	assert_false(c.fail_closed);
	assert_false(c.allow_kernel_alg);
	assert_false(c.rewrite_from_to);
	assert_int_equal(c.queue_num, 0);
	assert_string_equal(c.table, "sipnat");
	assert_string_equal(c.media_backend, "auto");
	assert_int_equal(c.media_timeout_s, 60);
	assert_int_equal(c.setup_timeout_s, 180);
	assert_int_equal(c.session_timeout_s, 7200);
	assert_int_equal(c.max_dialogs, 100000);
	assert_int_equal(c.max_pinholes, 400000);
	assert_int_equal(c.max_pinholes_per_dialog, 32);
	assert_string_equal(c.control_socket, "/run/sipnat/nfqd.sock");
	assert_string_equal(c.log_level, "info");
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
}

static void test_good_file(void **state)
{
	static struct conf c;
	char err[256] = "";
	const char *text =
		"# sipnat\n"
		"\n"
		"map = 10.0.0.5:5062=203.0.113.5:5060\n"
		"map=10.0.0.6=203.0.113.6   # second phone\n"
		"\tmap = [fd00::5]=[2001:db8::5]\r\n"
		"public-name = 203.0.113.5=sip.example.com\n"
		"media-ports = 10.0.0.6:20000-20999=203.0.113.6:40000\n"
		"rewrite-from-to = yes\n"
		"strict = On\n"
		"queue = 65535\n"
		"fail-closed = true\n"
		"nft-table = sip_nat-2\n"
		"media-backend = nftset\n"
		"media-timeout = 30\n"
		"setup-timeout = 90\n"
		"session-timeout = 3600\n"
		"max-dialogs = 10\n"
		"max-pinholes = 40\n"
		"max-pinholes-per-dialog = 4\n"
		"control-socket = /tmp/x.sock\n"
		"log-level = debug\n";

	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.map.n, 3);
	assert_string_equal(c.map.e[0].fqdn, "sip.example.com");
	assert_int_equal(c.map.e[0].priv_port, 5062);
	assert_int_equal(c.map.e[1].media_pub_lo, 40000);
	assert_int_equal(c.map.e[2].priv.family, AF_INET6);
	assert_true(c.rewrite_from_to);
	assert_true(c.strict);
	assert_int_equal(c.queue_num, 65535);
	assert_true(c.fail_closed);
	assert_string_equal(c.table, "sip_nat-2");
	assert_string_equal(c.media_backend, "nftset");
	assert_int_equal(c.media_timeout_s, 30);
	assert_int_equal(c.setup_timeout_s, 90);
	assert_int_equal(c.session_timeout_s, 3600);
	assert_int_equal(c.max_dialogs, 10);
	assert_int_equal(c.max_pinholes, 40);
	assert_int_equal(c.max_pinholes_per_dialog, 4);
	assert_string_equal(c.control_socket, "/tmp/x.sock");
	assert_string_equal(c.log_level, "debug");
}

static void test_bad_files(void **state)
{
	char big[6000];

	expect_err("frobnicate = 1\n", "1: frobnicate: unknown key");
	expect_err("\n# c\nstrict = maybe\n", "3: strict: expected yes or no, not 'maybe'");
	expect_err("queue = 65536\n", "1: queue: expected a number from 0 to 65535, not '65536'");
	expect_err("queue = -1\n", "1: queue: expected a number from 0 to 65535, not '-1'");
	expect_err("queue = 99999999999999999999999\n",
		   "1: queue: expected a number from 0 to 65535, not '99999999999999999999999'");
	expect_err("media-timeout = 0\n",
		   "1: media-timeout: expected a number from 1 to 86400, not '0'");
	expect_err("queue = 1\nqueue = 2\n", "2: queue: given twice");
	expect_err("strict\n", "1: strict: expected 'key = value'");
	expect_err("strict =\n", "1: strict: missing value");
	expect_err(" = yes\n", "1: -: missing key before '='");
	expect_err("map = 10.0.0.5\n",
		   "1: map: map needs PRIV[:PORT]=PUB[:PORT]: '10.0.0.5'");
	expect_err("public-name = 203.0.113.5=sip.example.com\n",
		   "1: public-name: public address is in no map entry (give the map first): "
		   "'203.0.113.5=sip.example.com'");
	expect_err("media-backend = kernel\n",
		   "1: media-backend: expected auto, nftset, expect or none, not 'kernel'");
	expect_err("log-level = loud\n",
		   "1: log-level: expected error, warn, info or debug, not 'loud'");
	expect_err("control-socket = run/x.sock\n",
		   "1: control-socket: expected an absolute path, not 'run/x.sock'");
	expect_err("nft-table = a b\n",
		   "1: nft-table: table name may hold only letters, digits, _ and -: 'a b'");
	expect_err("nft-table = 0123456789012345678901234567890123456789012345678901234567890123\n",
		   "1: nft-table: longer than 63 bytes");

	memset(big, 'x', sizeof(big));
	memcpy(big, "map = ", 6);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	expect_err(big, "1: -: line too long");

	/* An embedded NUL must not hide the rest of the line. */
	{
		static struct conf c;
		char err[256];
		static const char text[] = "strict = no\0 # x\n";

		conf_defaults(&c);
		write_conf(text, sizeof(text) - 1);
		assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, ":1: -: NUL byte in line"));
		unlink(path);
	}
}

static void test_missing_file(void **state)
{
	static struct conf c;
	char err[256];

	conf_defaults(&c);
	assert_int_equal(conf_load(&c, "/nonexistent/nfqd.conf", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/nfqd.conf: No such file or directory");
}

static void test_flags(void **state)
{
	static struct conf c;
	char err[256];

	conf_defaults(&c);
	assert_int_equal(conf_set_flag(&c, "map", "10.0.0.5=203.0.113.5", err, sizeof(err)), 0);
	assert_int_equal(conf_set_flag(&c, "map", "10.0.0.6=203.0.113.6", err, sizeof(err)), 0);
	assert_int_equal(c.map.n, 2);
	/* Flags replace earlier values: the file's, then each other's. */
	assert_int_equal(conf_set_flag(&c, "queue", "3", err, sizeof(err)), 0);
	assert_int_equal(conf_set_flag(&c, "queue", "4", err, sizeof(err)), 0);
	assert_int_equal(c.queue_num, 4);
	assert_int_equal(conf_set_flag(&c, "strict", "no", err, sizeof(err)), 0);

	assert_int_equal(conf_set_flag(&c, "queue", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "--queue: expected a number from 0 to 65535, not 'x'");
	assert_int_equal(conf_set_flag(&c, "bogus", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "--bogus: unknown key");
	assert_int_equal(conf_set_flag(&c, "map", "10.0.0.7=203.0.113.5", err, sizeof(err)), -1);
	assert_string_equal(err, "--map: public address already mapped: '10.0.0.7=203.0.113.5'");

	assert_true(conf_is_key("max-pinholes-per-dialog"));
	assert_false(conf_is_key("config"));
	assert_true(conf_key_repeats("media-ports"));
	assert_false(conf_key_repeats("queue"));
	assert_true(conf_key_is_bool("strict"));
	assert_true(conf_key_is_bool("fail-closed"));
	assert_false(conf_key_is_bool("map"));
	assert_false(conf_key_is_bool("bogus"));
	/* allow-kernel-alg: a yes|no flag, off unless asked for */
	assert_true(conf_key_is_bool("allow-kernel-alg"));
	assert_int_equal(conf_set_flag(&c, "allow-kernel-alg", "yes", err, sizeof(err)), 0);
	assert_true(c.allow_kernel_alg);
	assert_int_equal(conf_set_flag(&c, "allow-kernel-alg", "maybe", err, sizeof(err)), -1);
	assert_string_equal(err, "--allow-kernel-alg: expected yes or no, not 'maybe'");
	assert_true(c.allow_kernel_alg);
	/* media-backend none: run without pinholes */
	assert_int_equal(conf_set_flag(&c, "media-backend", "none", err, sizeof(err)), 0);
	assert_string_equal(c.media_backend, "none");
	assert_string_equal(conf_key_name(0), "map");
	assert_null(conf_key_name(1000));

	assert_int_equal(conf_set_flag(&c, "max-pinholes", "8", err, sizeof(err)), 0);
	assert_int_equal(conf_set_flag(&c, "max-pinholes-per-dialog", "9", err, sizeof(err)), 0);
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "max-pinholes-per-dialog: larger than max-pinholes (8)");
}

static void test_pat_keys(void **state)
{
	static struct conf c;
	char err[256];
	uint16_t lo, hi;

	conf_defaults(&c);
	assert_int_equal(conf_pat_ports(c.pat_ports, &lo, &hi), 0);
	assert_int_equal(lo, 40000);
	assert_int_equal(hi, 49999);
	assert_int_equal(c.pat_timeout_s, 1800);
	assert_int_equal(conf_set_flag(&c, "masquerade", "10.0.0.0/24=198.51.100.1", err, sizeof(err)), 0);
	assert_int_equal(conf_set_flag(&c, "masquerade", "10.1.0.0/16=198.51.100.2", err, sizeof(err)), 0);
	assert_int_equal(c.map.n_masq, 2);
	assert_true(conf_key_repeats("masquerade"));
	assert_int_equal(conf_set_flag(&c, "pat-ports", "50000-50003", err, sizeof(err)), 0);
	assert_int_equal(conf_set_flag(&c, "pat-ports", "50000-50002", err, sizeof(err)), -1);
	assert_int_equal(conf_set_flag(&c, "pat-ports", "5-0", err, sizeof(err)), -1);
	assert_int_equal(conf_set_flag(&c, "pat-ports", "0-100", err, sizeof(err)), -1);
	assert_int_equal(conf_set_flag(&c, "pat-timeout", "5", err, sizeof(err)), -1);
	assert_int_equal(conf_set_flag(&c, "pat-timeout", "60", err, sizeof(err)), 0);
	assert_int_equal(c.pat_timeout_s, 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_pat_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
