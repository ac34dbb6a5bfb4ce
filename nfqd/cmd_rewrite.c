/* cmd_rewrite.c - placeholder until `nfqd rewrite` lands. */
#include <stdio.h>

#include "cmds.h"

int cmd_rewrite(int argc, char **argv)
{
	fprintf(stderr, "nfqd: rewrite is not built yet\n");
	return 2;
}
