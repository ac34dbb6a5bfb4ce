/* fuzz_rewrite.c - libFuzzer target for rw_rewrite(), both directions, with
 * a fixed map that covers the addresses the seed corpus carries.
 *
 * Input: byte 0 picks the variant (bit 0 direction, bit 1 transport, bit 2
 * strict, bit 3 rewrite_from_to); the rest is the message.  Seeds are whole
 * corpus files, so byte 0 is a letter of the start line: every variant gets
 * seeds.  Crashes, sanitizer reports and broken rw_check.h properties
 * (abort) are findings.
 *
 * Owns: nothing the daemon uses.  Must not: write files (libFuzzer's
 * -artifact_prefix decides where crashes go).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "natmap.h"
#include "rewrite.h"
#include "rw_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const map_specs[] = {
	"10.10.2.101=198.51.100.1",
	"192.168.1.2:5065=198.51.100.2:5060",
	"192.168.1.50=198.51.100.50",
	"10.0.0.1=198.51.100.201",
	"172.16.42.1=198.51.100.42",
	"192.168.1.8:5062=198.51.100.8:5060",
	"[fd00::10]=[2001:db8::10]",
	"[fd00::9:1]:5062=[2001:db8::9:1]:5060",
};

static struct natmap map;
static struct arena a1, a2;

static void setup(void)
{
	char err[200];

	for (size_t i = 0; i < sizeof(map_specs) / sizeof(map_specs[0]); i++)
		if (natmap_add_spec(&map, map_specs[i], err, sizeof(err))) {
			fprintf(stderr, "fuzz_rewrite: map: %s\n", err);
			abort();
		}
	if (natmap_add_name(&map, "198.51.100.50=pbx.example.net", err, sizeof(err)) ||
	    natmap_add_media_ports(&map, "192.168.1.50:6000-6099=198.51.100.50:40000",
				   err, sizeof(err)) ||
	    arena_init(&a1, ARENA_DEFAULT_SIZE) || arena_init(&a2, ARENA_DEFAULT_SIZE))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct rw_config cfg = { .map = &map };
	struct rw_input in = { 0 };
	struct rw_result res;
	struct rwchk_report rep = { .n = 0 };

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	in.dir = data[0] & 1 ? RW_IN : RW_OUT;
	in.transport = data[0] & 2 ? RW_TCP : RW_UDP;
	cfg.strict = data[0] & 4;
	cfg.rewrite_from_to = data[0] & 8;
	in.msg = data + 1;
	in.len = size - 1;

	arena_reset(&a1);
	rw_rewrite(&cfg, &in, &a1, &res);
	rwchk_check(&cfg, &in, &res, &rep);
	if (rep.n == 0)
		rwchk_check_idempotent(&cfg, &in, &res, &a2, &rep);
	if (rep.n) {
		for (int k = 0; k < rep.n && k < 8; k++)
			fprintf(stderr, "fuzz_rewrite: %s\n", rep.why[k]);
		abort();
	}
	return 0;
}
