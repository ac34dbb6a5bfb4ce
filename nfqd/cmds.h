/* cmds.h - nfqd's subcommands.  main.c only picks one; each lives in the
 * file named beside it.  Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 bad usage or configuration. */
#ifndef SIPNAT_CMDS_H
#define SIPNAT_CMDS_H

int cmd_daemon(int argc, char **argv);	/* daemon.c: the queue daemon (default) */
int cmd_rewrite(int argc, char **argv);	/* cmd_rewrite.c: the core on a file */
int cmd_status(int argc, char **argv);	/* ctl.c: counters of a running nfqd */
int cmd_fp(int argc, char **argv);	/* cmd_fp.c: the sipnat_fp module by hand */

#endif
