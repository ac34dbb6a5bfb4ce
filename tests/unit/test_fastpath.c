/* Unit tests of fastpath.c's pure part: the two sipnat_fp flows that carry
 * one media stream through the static map, and the flow line format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>

#include "../../kmod/uapi/sipnat_fp.h"
#include "fastpath.h"

static struct pinhole ph(const char *src, const char *dst, uint16_t dport)
{
	struct pinhole p = { .l4proto = IPPROTO_UDP, .dport = dport, .timeout_s = 60 };

	assert_int_equal(sn_addr_parse(&p.src, src, strlen(src)), 0);
	assert_int_equal(sn_addr_parse(&p.dst, dst, strlen(dst)), 0);
	return p;
}

static void fmt(const struct fp_flow *f, char *buf, size_t n)
{
	assert_true(fp_format(f, buf, n) > 0);
}

static void test_static_map(void **state)
{
	struct natmap m = { 0 };
	char err[128], line[512];
	struct pinhole in = ph("198.51.100.7", "10.0.0.5", 4000);
	struct pinhole out = ph("10.0.0.5", "198.51.100.7", 30000);
	struct fp_flow fi, fo;

	assert_int_equal(natmap_add_spec(&m, "10.0.0.5=203.0.113.5", err, sizeof(err)), 0);
	/* Either order of the pinholes. */
	assert_int_equal(fp_stream_flows(&m, &out, &in, 7, 60, 8000, &fi, &fo), 0);
	fmt(&fi, line, sizeof(line));
	assert_non_null(strstr(line, "match=203.0.113.5:4000 src=198.51.100.7 dnat=10.0.0.5 "));
	fmt(&fo, line, sizeof(line));
	assert_non_null(strstr(line, "match=198.51.100.7:30000 src=10.0.0.5 snat=203.0.113.5 "));
	assert_int_equal(fi.cookie, 7);
	assert_int_equal(fo.clock_rate, 8000);
	assert_true(fi.flags & SIPNAT_FP_F_OWNED);
	assert_int_equal(fp_stream_flows(&m, &in, &out, 7, 60, 0, &fi, &fo), 0);
}

static void test_media_ports(void **state)
{
	struct natmap m = { 0 };
	char err[128], line[512];
	struct pinhole in = ph("198.51.100.7", "10.0.0.5", 10010);
	struct pinhole out = ph("10.0.0.5", "198.51.100.7", 30000);
	struct fp_flow fi, fo;

	assert_int_equal(natmap_add_spec(&m, "10.0.0.5=203.0.113.5", err, sizeof(err)), 0);
	assert_int_equal(natmap_add_media_ports(&m, "10.0.0.5:10000-10999=203.0.113.5:20000",
						err, sizeof(err)), 0);
	assert_int_equal(fp_stream_flows(&m, &in, &out, 1, 60, 0, &fi, &fo), 0);
	fmt(&fi, line, sizeof(line));
	assert_non_null(strstr(line, "match=203.0.113.5:20010 src=198.51.100.7 dnat=10.0.0.5:10010 "));
	fmt(&fo, line, sizeof(line));
	assert_non_null(strstr(line, "src=10.0.0.5:10010 snat=203.0.113.5:20010 "));
}

static void test_not_a_stream(void **state)
{
	struct natmap m = { 0 };
	char err[128];
	struct fp_flow fi, fo;
	struct pinhole in = ph("198.51.100.7", "10.0.0.5", 4000);
	struct pinhole out = ph("10.0.0.5", "198.51.100.7", 30000);
	struct pinhole other = ph("10.0.0.5", "198.51.100.8", 30000);
	struct pinhole unmapped = ph("198.51.100.7", "10.0.0.6", 4000);
	struct pinhole tcp = out;

	tcp.l4proto = IPPROTO_TCP;
	assert_int_equal(natmap_add_spec(&m, "10.0.0.5=203.0.113.5", err, sizeof(err)), 0);
	assert_int_equal(fp_stream_flows(&m, &in, &other, 0, 60, 0, &fi, &fo), -1);
	assert_int_equal(fp_stream_flows(&m, &unmapped, &out, 0, 60, 0, &fi, &fo), -1);
	assert_int_equal(fp_stream_flows(&m, &in, &tcp, 0, 60, 0, &fi, &fo), -1);
	assert_int_equal(fp_stream_flows(&m, &in, &in, 0, 60, 0, &fi, &fo), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_map),
		cmocka_unit_test(test_media_ports),
		cmocka_unit_test(test_not_a_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
