/* daemon.c - placeholder until the queue daemon lands. */
#include <stdio.h>

#include "cmds.h"

int cmd_daemon(int argc, char **argv)
{
	fprintf(stderr, "nfqd: the daemon is not built yet\n");
	return 1;
}

int cmd_status(int argc, char **argv)
{
	fprintf(stderr, "nfqd: status is not built yet\n");
	return 1;
}
