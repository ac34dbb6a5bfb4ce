/* Unit tests of cmd_rewrite.c: `nfqd rewrite` run in-process with its
 * stdin, stdout and stderr redirected: usage, exit codes, the --explain
 * lines byte for byte, --config, strict-mode drops. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "rewrite.h"

/* Runs `nfqd rewrite` in-process with stdout/stderr captured. */
static int run_cmd(char **argv, char *out, size_t outsz, char *err, size_t errsz)
{
	char o[] = "/tmp/sipnat-test-out-XXXXXX", e[] = "/tmp/sipnat-test-err-XXXXXX";
	int fo = mkstemp(o), fe = mkstemp(e), so = dup(1), se = dup(2), si = dup(0), rc, argc = 0;
	int nul = open("/dev/null", O_RDONLY);
	ssize_t n;

	while (argv[argc])
		argc++;
	assert_true(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fo, 1);
	dup2(fe, 2);
	dup2(nul, 0);	/* "-" reads an empty stdin, never the terminal */
	rc = cmd_rewrite(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	dup2(si, 0);
	close(so);
	close(se);
	close(si);
	close(nul);
	n = pread(fo, out, outsz - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(fe, err, errsz - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	unlink(o);
	unlink(e);
	return rc;
}

static void test_cmd_rewrite(void **state)
{
	static char out[RW_MAX_MESSAGE + 1], err[8192];
	static const char msg[] =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-c\r\n"
		"From: <sip:a@example.org>;tag=a\r\nTo: <sip:b@example.com>;tag=b\r\n"
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:b@10.0.0.5:5062>\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 49\r\n\r\n"
		"v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 20002 RTP/AVP 0\r\n";
	char path[] = "/tmp/sipnat-test-msg-XXXXXX", conf[] = "/tmp/sipnat-test-conf-XXXXXX";
	int fd = mkstemp(path), cf = mkstemp(conf);

	assert_true(fd >= 0 && cf >= 0);
	assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	close(fd);
	{
		static const char c[] = "map = 10.0.0.5:5062=203.0.113.5:5060\n"
					"media-ports = 10.0.0.5:20000-20999=203.0.113.5:40000\n";

		assert_int_equal(write(cf, c, strlen(c)), (ssize_t)strlen(c));
		close(cf);
	}
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--help", NULL }, out, sizeof(out), err,
				 sizeof(err)), 0);
	assert_non_null(strstr(out, "usage: nfqd rewrite --dir out|in"));
	assert_int_equal(run_cmd((char *[]){ "rewrite", path, NULL }, out, sizeof(out), err,
				 sizeof(err)), 2);
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out", "--map", "10.0.0.5",
					     path, NULL }, out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "nfqd rewrite: --map: "));
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "sideways", NULL }, out,
				 sizeof(out), err, sizeof(err)), 2);
	/* names before maps on the command line are fine */
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out", "--explain",
					     "--public-name", "203.0.113.5=pbx.example.net",
					     "--map", "10.0.0.5:5062=203.0.113.5:5060", path, NULL },
				 out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "Contact: <sip:b@pbx.example.net:5060>\r\n"));
	assert_non_null(strstr(err, "edit contact 173+13 \"10.0.0.5:5062\" -> \"pbx.example.net:5060\"\n"));
	assert_non_null(strstr(err, "edit sdp_c= 256+8 \"10.0.0.5\" -> \"203.0.113.5\"\n"));
	assert_non_null(strstr(err, "edit content-length 236+2 \"49\" -> \"52\"\n"));
	assert_non_null(strstr(err, "media 0 audio RTP/AVP udp private=10.0.0.5:20002 "
				    "public=203.0.113.5:20002 rtcp=- mux=no dir=sendrecv pinhole=yes\n"));
	assert_non_null(strstr(err, "result rewritten edits=3 media=1\n"));
	/* the configuration file, and the way back */
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out", "--config", conf, path,
					     NULL }, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "m=audio 40002 RTP/AVP 0\r\n"));
	assert_non_null(strstr(out, "Contact: <sip:b@203.0.113.5:5060>\r\n"));
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "in", "--config", conf,
					     "--explain", "-", NULL }, out, sizeof(out), err,
				 sizeof(err)), 0);	/* stdin is empty here */
	assert_non_null(strstr(err, "result passthrough reason=empty\n"));
	/* strict mode: an invalid corpus message (when the corpus is there) */
	if (access("../shared/corpus/sip/110-rfc4475-3_1_2_17-mismatch01.sip", R_OK) == 0) {
		assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "in", "--strict", "--explain",
						     "--map", "10.0.0.5=203.0.113.5",
						     "../shared/corpus/sip/110-rfc4475-3_1_2_17-mismatch01.sip",
						     NULL }, out, sizeof(out), err, sizeof(err)), 0);
		assert_string_equal(out, "");
		assert_string_equal(err, "result drop reason=bad-cseq\n");
	}
	/* a masqueraded phone's leases: signalling by the map, media by pairs */
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out",
					     "--map", "10.0.0.5:5062=198.51.100.1:40000",
					     "--media-pair", "10.0.0.5:20002=198.51.100.1:40010",
					     path, NULL }, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "Contact: <sip:b@198.51.100.1:40000>\r\n"
				    "Content-Type: application/sdp\r\nContent-Length: 53\r\n\r\n"
				    "v=0\r\nc=IN IP4 198.51.100.1\r\nm=audio 40010 RTP/AVP 0\r\n"));
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out",
					     "--media-pair", "10.0.0.5:20002=198.51.100.1:40010",
					     path, NULL }, out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "give the map first"));
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "in", "--config", "/nonexistent",
					     path, NULL }, out, sizeof(out), err, sizeof(err)), 2);
	unlink(path);
	unlink(conf);
}

/* Over RW_MAX_MESSAGE: forwarded whole and unchanged, said on stderr. */
static void test_cmd_too_big(void **state)
{
	static char big[RW_MAX_MESSAGE + 5000], out[RW_MAX_MESSAGE + 6000], err[4096];
	char path[] = "/tmp/sipnat-test-big-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	memset(big, 'x', sizeof(big));
	memcpy(big, "OPTIONS sip:a@10.0.0.5 SIP/2.0\r\n", 33);
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	assert_int_equal(run_cmd((char *[]){ "rewrite", "--dir", "out", "--explain", "--map",
					     "10.0.0.5=203.0.113.5", path, NULL },
				 out, sizeof(out), err, sizeof(err)), 0);
	assert_memory_equal(out, big, sizeof(big));
	assert_non_null(strstr(err, "input larger than 65535 bytes: passed through unchanged (too-big)\n"));
	assert_non_null(strstr(err, "result passthrough reason=too-big\n"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_rewrite),
		cmocka_unit_test(test_cmd_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
