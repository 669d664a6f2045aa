/*
 * tests/fuse/harness.c: the daemon harness for the FUSE end-to-end tests
 * (see harness.h). Everything here is bounded in time: a test may fail,
 * but it never hangs on a dead or stuck daemon, and a mount it made never
 * outlives it.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void harness_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool harness_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (path == NULL)
		path = "/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		if (n > 0 && n + strlen(prog) + 2 < sizeof buf) {
			memcpy(buf, path, n);
			buf[n] = '/';
			strcpy(buf + n + 1, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

void harness_require_fuse(void)
{
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		fprintf(stderr, "SKIP: /dev/fuse is not usable\n");
		exit(77);
	}
	if (!harness_in_path("fusermount3")) {
		fprintf(stderr, "SKIP: fusermount3 not found\n");
		exit(77);
	}
}

int harness_wait(pid_t pid, int *status, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms)
			return -1;
		harness_sleep_ms(5);
	}
}

/* Find path in /proc/self/mountinfo; *minor gets the device minor, which
 * for FUSE names the connection in /sys/fs/fuse/connections. Reading
 * mountinfo never touches the mount, so it cannot hang on a stuck daemon. */
static bool harness_mountinfo(const char *path, unsigned *minor)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[8192];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		/* id parent major:minor root MOUNTPOINT ... */
		unsigned maj = 0, min = 0;
		char *p = line;
		size_t n;

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2)
			continue;
		for (int i = 0; i < 4 && p != NULL; i++) {
			p = strchr(p, ' ');
			if (p != NULL)
				p++;
		}
		if (p == NULL)
			continue;
		n = strcspn(p, " ");
		if (n == strlen(path) && strncmp(p, path, n) == 0) {
			found = true;
			if (minor != NULL)
				*minor = min;
		}
	}
	fclose(f);
	return found;
}

bool harness_mounted(const char *path)
{
	return harness_mountinfo(path, NULL);
}

/* Cut a FUSE connection: the daemon's reads fail and it exits, even while
 * a lazily unmounted tree is still held open by someone. */
static void harness_abort(unsigned minor)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "/sys/fs/fuse/connections/%u/abort", minor);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0) {
		/* already gone */
	}
	close(fd);
}

int harness_tmpdir(char *buf, size_t len, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/vfs-%s-XXXXXX", tmp, tag) >= len)
		return -1;
	return mkdtemp(buf) != NULL ? 0 : -1;
}

static int harness_rm_one(const char *path, const struct stat *st, int flag,
                          struct FTW *ftw)
{
	remove(path);
	return 0;
}

void harness_rmtree(const char *path)
{
	if (path[0] != '\0')
		nftw(path, harness_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static pid_t harness_spawn(const char *const *argv, int out_fd, int err_fd,
                           bool die_with_parent)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	if (err_fd >= 0)
		dup2(err_fd, STDERR_FILENO);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int harness_start(harness_daemon *d, const char *const *argv, int stderr_fd)
{
	const char *full[64];
	size_t n = 0;
	struct statfs sf;
	int status;

	d->pid = -1;
	if (harness_tmpdir(d->mnt, sizeof d->mnt, "mnt") < 0) {
		d->mnt[0] = '\0';
		return -1;
	}
	while (argv[n] != NULL && n < 62) {
		full[n] = argv[n];
		n++;
	}
	full[n++] = d->mnt;
	full[n] = NULL;
	d->pid = harness_spawn(full, -1, stderr_fd, true);
	if (d->pid < 0)
		goto fail;
	/* Up to 20 s for the mount to show up and answer statfs. */
	for (int waited = 0; waited < 20000; waited += 10) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "vfsmount exited early (status %#x)\n",
			        (unsigned)status);
			d->pid = -1;
			goto fail;
		}
		if (harness_mounted(d->mnt) && statfs(d->mnt, &sf) == 0 &&
		    sf.f_type == HARNESS_FUSE_MAGIC)
			return 0;
		harness_sleep_ms(10);
	}
	fprintf(stderr, "mount at %s never became live\n", d->mnt);
fail:
	harness_stop(d);
	return -1;
}

int harness_run(const char *const *argv, char *out, size_t outlen, char *err,
                size_t errlen, int timeout_ms)
{
	char outpath[] = "/tmp/vfs-out-XXXXXX";
	char errpath[] = "/tmp/vfs-err-XXXXXX";
	int ofd = mkstemp(outpath);
	int efd = mkstemp(errpath);
	int status = -1;
	pid_t pid;

	if (ofd < 0 || efd < 0)
		goto out;
	pid = harness_spawn(argv, ofd, efd, true);
	if (pid < 0)
		goto out;
	if (harness_wait(pid, &status, timeout_ms) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		status = -1;
	}
	if (out != NULL && outlen > 0) {
		ssize_t r = pread(ofd, out, outlen - 1, 0);
		out[r > 0 ? r : 0] = '\0';
	}
	if (err != NULL && errlen > 0) {
		ssize_t r = pread(efd, err, errlen - 1, 0);
		err[r > 0 ? r : 0] = '\0';
	}
out:
	if (ofd >= 0) {
		close(ofd);
		unlink(outpath);
	}
	if (efd >= 0) {
		close(efd);
		unlink(errpath);
	}
	return status;
}

int harness_stop(harness_daemon *d)
{
	unsigned minor = 0;
	bool have_conn = false;
	int status = -1;

	if (d->mnt[0] != '\0' && harness_mountinfo(d->mnt, &minor)) {
		const char *um[] = {"fusermount3", "-u", d->mnt, NULL};
		const char *lazy[] = {"fusermount3", "-u", "-z", d->mnt, NULL};

		have_conn = true;
		if (harness_run(um, NULL, 0, NULL, 0, 10000) != 0 &&
		    harness_mounted(d->mnt))
			harness_run(lazy, NULL, 0, NULL, 0, 10000);
		if (harness_mounted(d->mnt))
			umount2(d->mnt, MNT_DETACH);
	}
	if (d->pid > 0) {
		/* A lazily detached mount stays connected while anything
		 * holds it open (a test that failed with a descriptor
		 * open): give the daemon a moment, then cut the
		 * connection, then kill. */
		if (harness_wait(d->pid, &status, 5000) < 0 && have_conn) {
			fprintf(stderr,
			        "vfsmount still running after unmount; "
			        "aborting connection %u\n",
			        minor);
			harness_abort(minor);
			if (harness_wait(d->pid, &status, 10000) == 0)
				status = -1; /* ended, but not cleanly */
		}
		if (status == -1 && kill(d->pid, 0) == 0) {
			fprintf(stderr, "vfsmount did not exit; killing it\n");
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
		}
		d->pid = -1;
	}
	if (d->mnt[0] != '\0') {
		if (rmdir(d->mnt) < 0)
			fprintf(stderr, "rmdir %s: %s\n", d->mnt,
			        strerror(errno));
		d->mnt[0] = '\0';
	}
	return status;
}
