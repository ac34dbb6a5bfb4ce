/*
 * tests/vm/init.c: PID 1 of the stock-kernel test guest (started by tests/vm/boot.sh).
 *
 * Owns: turning Debian's kernel plus a tiny initramfs into a machine that runs one job
 * script and reports its exit status to the host, and nothing else.  It must not decide
 * what a test is (the job script boot.sh writes does that) and must never report a
 * status it did not see: silence, a panic or a lost token are failures on the host.
 *
 * Stage 1 (in the initramfs): load the modules the initramfs carries (virtio PCI, 9p,
 * overlayfs; file names sort in load order), mount the host's root read-only over 9p
 * (tag "hostroot"), put a tmpfs overlay on it and move that to /.  The guest then has
 * the host's userspace and the repo tree at the same paths, and Debian's kernel with
 * /lib/modules/$KVER from the host's linux-image package.
 *
 * Stage 2 (in the new root): fresh /proc, /sys, /dev, /run, panic_on_warn, then run
 * /bin/bash JOB (sipnat.job= on the kernel command line) in its own session on ttyS0,
 * reap everything, and write "SIPNAT-VM-EXIT nonce=N status=S" to ttyS1, which boot.sh
 * connects to a file.  The nonce (sipnat.nonce=) makes a stale or forged line useless.
 * Then power off.  Any failure before that powers off without a token.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MODDIR "/modules"

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vm-init: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* No token has been written: the host counts this boot as failed. */
static void __attribute__((noreturn)) die(const char *what)
{
	msg("%s: %s; powering off without a result", what, strerror(errno));
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long fl,
		const char *opt, int must)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, fl, opt) != 0) {
		if (must)
			die(dst);
		msg("mount %s on %s: %s (carrying on)", type, dst, strerror(errno));
	}
}

static int ko_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && strcmp(d->d_name + n - 3, ".ko") == 0;
}

static void load_initramfs_modules(void)
{
	struct dirent **names;
	int n = scandir(MODDIR, &names, ko_filter, alphasort);

	if (n < 0)
		die("scandir " MODDIR);
	for (int i = 0; i < n; i++) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), MODDIR "/%s", names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(path);
		/* EEXIST: built into this kernel or already loaded, both fine. */
		if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
			die(path);
		close(fd);
		free(names[i]);
	}
	free(names);
}

static void stage1(void)
{
	const char *opt9p = "trans=virtio,version=9p2000.L,cache=loose,msize=262144";
	int tries;

	mnt("devtmpfs", "/dev", "devtmpfs", 0, NULL, 1);
	load_initramfs_modules();

	/* The virtio transport registers its channel asynchronously after probing. */
	mkdir("/host", 0755);
	for (tries = 0; mount("hostroot", "/host", "9p", MS_RDONLY, opt9p) != 0; tries++) {
		if (errno != ENOENT || tries >= 100)
			die("mount 9p hostroot");
		usleep(50000);
	}
	mnt("rw", "/rw", "tmpfs", 0, "mode=0755", 1);
	mkdir("/rw/upper", 0755);
	mkdir("/rw/work", 0755);
	mnt("overlay", "/newroot", "overlay", 0,
	    "lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work", 1);

	/* switch_root without deleting the initramfs: it is a few hundred KiB. */
	if (chdir("/newroot") != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0)
		die("switch root");
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

static void stage2(void)
{
	mnt("proc", "/proc", "proc", 0, NULL, 1);
	mnt("sysfs", "/sys", "sysfs", 0, NULL, 1);
	mnt("devtmpfs", "/dev", "devtmpfs", 0, NULL, 1);
	mnt("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666,mode=0620", 0);
	mnt("shm", "/dev/shm", "tmpfs", 0, "mode=1777", 0);
	/* The host's /run (its netns bind mounts, pid files) must not show through. */
	mnt("run", "/run", "tmpfs", 0, "mode=0755", 1);
	mnt("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL, 0);
	mnt("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL, 0);
	mkdir("/run/lock", 01777);
	/* Also on the command line; set here too so a changed command line cannot lose it. */
	write_file("/proc/sys/kernel/panic_on_warn", "1\n");
	sethostname("sipnat-vm", 9);
}

/* Value of key=... on the kernel command line, copied into buf; "" if absent. */
static void cmdline_get(const char *key, char *buf, size_t len)
{
	char line[4096], *p, *save = NULL;
	FILE *f = fopen("/proc/cmdline", "re");
	size_t klen = strlen(key);

	buf[0] = '\0';
	if (!f)
		die("/proc/cmdline");
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (p = strtok_r(line, " \n", &save); p; p = strtok_r(NULL, " \n", &save))
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			snprintf(buf, len, "%s", p + klen + 1);
}

static pid_t start_job(const char *job)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd;

		setsid();
		/* Opening the tty as session leader makes it the controlling terminal,
		 * so an interactive shell gets job control and ^C. */
		fd = open("/dev/ttyS0", O_RDWR);
		if (fd < 0)
			die("/dev/ttyS0");
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		clearenv();
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		setenv("HOME", "/root", 1);
		setenv("TERM", "linux", 1);
		setenv("LANG", "C.UTF-8", 1);
		execl("/bin/bash", "bash", job, (char *)NULL);
		msg("exec /bin/bash %s: %s", job, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* PID 1 inherits every orphan: reap them all, and remember the job's own status. */
static int wait_job(pid_t job)
{
	for (;;) {
		int st;
		pid_t p = wait(&st);

		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			die("wait");
		if (p != job)
			continue;
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		return 128 + WTERMSIG(st);
	}
}

static void kill_rest(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	kill(-1, SIGTERM);
	for (int i = 0; i < 10 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
		nanosleep(&ts, NULL);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(void)
{
	char job[1024], nonce[128], token[256];
	int fd, status;
	pid_t pid;

	if (getpid() != 1) {
		fprintf(stderr, "vm-init: must run as PID 1 in the test guest\n");
		return 2;
	}
	stage1();
	stage2();
	cmdline_get("sipnat.job", job, sizeof(job));
	cmdline_get("sipnat.nonce", nonce, sizeof(nonce));
	if (!job[0] || !nonce[0]) {
		errno = EINVAL;
		die("sipnat.job= or sipnat.nonce= missing from the kernel command line");
	}
	/* Open the result port before the job runs, so the job cannot take it. */
	fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		die("/dev/ttyS1");

	pid = start_job(job);
	status = wait_job(pid);
	kill_rest();
	sync();

	snprintf(token, sizeof(token), "SIPNAT-VM-EXIT nonce=%s status=%d\n", nonce, status);
	if (write(fd, token, strlen(token)) != (ssize_t)strlen(token))
		die("write result");
	tcdrain(fd);
	close(fd);
	fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
	if (fd >= 0)
		tcdrain(fd);
	reboot(RB_POWER_OFF);
	return 0;
}
