/* main.c - picks the subcommand; no protocol logic lives here.
 *
 *   nfqd [daemon options]      run the queue daemon (see nfqd(8))
 *   nfqd rewrite [options]     run the rewrite core on a file
 *   nfqd status [options]      print a running daemon's counters
 *   nfqd fp COMMAND ...        program the sipnat_fp kernel module by hand
 */
#include <string.h>

#include "cmds.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "rewrite") == 0)
		return cmd_rewrite(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "fp") == 0)
		return cmd_fp(argc - 1, argv + 1);
	return cmd_daemon(argc, argv);
}
