/*
 * tests/fuse/test_cli.c: the vfsmount program as a user meets it.
 *
 *   test_cli VFSMOUNT
 *
 * Bad arguments (one line naming the bad part, exit status 2, nothing
 * mounted), --help and --version, shutdown on SIGTERM, SIGINT and
 * fusermount3 -u with the mount point left usable, a daemon killed with
 * SIGKILL (the mount gives ENOTCONN and teardown still detaches it),
 * detaching into the background, -o ro, -s, several -m mounts in one
 * namespace, lookup counts that balance, and host changes under a disk
 * store shown at once despite long cache timeouts.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *vfsmount_path;
static harness_daemon daemon_;

#define ERR(call) ((call) < 0 ? errno : 0)

static const char *P(const char *rel)
{
	static char bufs[4][512];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof bufs[0], "%s/%s", daemon_.mnt, rel);
	return b;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Each test leaves no daemon or mount behind, pass or fail. */
static int teardown(void **state)
{
	harness_stop(&daemon_);
	return 0;
}

static void on_fatal_signal(int sig)
{
	if (daemon_.pid > 0)
		kill(daemon_.pid, SIGKILL);
	_exit(128 + sig);
}

/* ---- Bad arguments ------------------------------------------------------ */

/* Run vfsmount with args (NULL-terminated) and a fresh mount point when
 * with_mnt; expect exit status 2, one line on stderr containing want, and
 * nothing mounted. */
static void expect_usage_error(bool with_mnt, const char *want, ...)
{
	const char *argv[16];
	char mnt[256] = "", err[4096], out[4096];
	size_t n = 0;
	va_list ap;
	int status;

	argv[n++] = vfsmount_path;
	argv[n++] = "-f";
	va_start(ap, want);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	if (with_mnt) {
		assert_int_equal(harness_tmpdir(mnt, sizeof mnt, "mnt"), 0);
		argv[n++] = mnt;
	}
	argv[n] = NULL;
	status = harness_run(argv, out, sizeof out, err, sizeof err, 20000);
	if (with_mnt) {
		bool mounted = harness_mounted(mnt);

		if (mounted)
			umount2(mnt, MNT_DETACH);
		rmdir(mnt);
		assert_false(mounted);
	}
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 2 ||
	    count_lines(err) != 1 || strstr(err, want) == NULL)
		fail_msg("want exit 2 and one line naming \"%s\"; got status "
		         "%#x, stderr:\n%s",
		         want, (unsigned)status, err);
	assert_string_equal(out, "");
	assert_memory_equal(err, "vfsmount: ", 10);
}

static void test_cli_bad_arguments(void **state)
{
	expect_usage_error(true, "bogus", "-m", "/x=bogus", NULL);
	expect_usage_error(true, "nonsense", "-m", "nonsense", NULL);
	expect_usage_error(true, "=memory", "-m", "=memory", NULL);
	expect_usage_error(true, "/y=", "-m", "/y=", NULL);
	expect_usage_error(true, "size", "-m", "/=memory,size=lots", NULL);
	expect_usage_error(true, "frobnicate", "-m", "/=memory,frobnicate=1",
	                   NULL);
	expect_usage_error(true, "/nonexistent-dir-for-vfs-test", "-m",
	                   "/d=disk:/nonexistent-dir-for-vfs-test", NULL);
	expect_usage_error(true, "no_such_fuse_option", "-o",
	                   "no_such_fuse_option", NULL);
	expect_usage_error(true, "entry_timeout", "-o", "entry_timeout=-1",
	                   NULL);
	expect_usage_error(false, "extra-argument", "/tmp", "extra-argument",
	                   NULL);
	expect_usage_error(false, "MOUNTPOINT", NULL);
	expect_usage_error(false, "/nonexistent-mountpoint-for-vfs",
	                   "/nonexistent-mountpoint-for-vfs", NULL);
	/* A store inside the mount point would make the daemon wait on
	 * itself. */
	{
		char mnt[256], spec[400], sq[400];
		const char *argv[8];
		char err[4096];
		int status;

		assert_int_equal(harness_tmpdir(mnt, sizeof mnt, "mnt"), 0);
		snprintf(spec, sizeof spec, "/=disk:%s", mnt);
		snprintf(sq, sizeof sq, "/s=sqlite:%s/db.sqlite", mnt);
		argv[0] = vfsmount_path;
		argv[1] = "-f";
		argv[2] = "-m";
		argv[3] = spec;
		argv[4] = mnt;
		argv[5] = NULL;
		status = harness_run(argv, NULL, 0, err, sizeof err, 20000);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		assert_non_null(strstr(err, "inside the mount point"));
		assert_int_equal(count_lines(err), 1);
		argv[3] = sq;
		status = harness_run(argv, NULL, 0, err, sizeof err, 20000);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		assert_non_null(strstr(err, "inside the mount point"));
		assert_false(harness_mounted(mnt));
		rmdir(mnt);
	}
	/* The same mount point twice in the namespace. */
	expect_usage_error(true, "/a", "-m", "/a=memory", "-m", "/a=memory",
	                   NULL);
}

static void test_cli_help_version(void **state)
{
	const char *help[] = {vfsmount_path, "--help", NULL};
	const char *version[] = {vfsmount_path, "--version", NULL};
	char out[16384], err[16384];
	int status;

	status = harness_run(help, out, sizeof out, err, sizeof err, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "usage: vfsmount"));
	assert_non_null(strstr(out, "-m VPATH=SPEC"));

	status = harness_run(version, out, sizeof out, err, sizeof err, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "vfsmount 0."));
	assert_non_null(strstr(out, "libfuse 3."));
}

/* ---- Shutdown ----------------------------------------------------------- */

static void start_plain(const char *extra)
{
	const char *argv[] = {vfsmount_path, "-f", extra, NULL};

	if (extra == NULL)
		argv[2] = NULL;
	assert_int_equal(harness_start(&daemon_, argv, -1), 0);
}

/* The daemon ends by itself with status 0, the mount is gone and the
 * mount point is an ordinary empty directory again. */
static void expect_clean_exit(void)
{
	int status;
	struct statfs sf;

	assert_int_equal(harness_wait(daemon_.pid, &status, 15000), 0);
	daemon_.pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(harness_mounted(daemon_.mnt));
	assert_int_equal(statfs(daemon_.mnt, &sf), 0);
	assert_true(sf.f_type != HARNESS_FUSE_MAGIC);
	assert_int_equal(rmdir(daemon_.mnt), 0);
	daemon_.mnt[0] = '\0';
}

static void touch_some(void)
{
	int fd = open(P("f"), O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(mkdir(P("d"), 0755), 0);
}

static void test_cli_sigterm_unmounts(void **state)
{
	start_plain(NULL);
	touch_some();
	assert_int_equal(kill(daemon_.pid, SIGTERM), 0);
	expect_clean_exit();
}

static void test_cli_sigint_unmounts(void **state)
{
	start_plain(NULL);
	touch_some();
	assert_int_equal(kill(daemon_.pid, SIGINT), 0);
	expect_clean_exit();
}

static void test_cli_fusermount_unmounts(void **state)
{
	const char *um[] = {"fusermount3", "-u", daemon_.mnt, NULL};

	start_plain(NULL);
	touch_some();
	assert_int_equal(harness_run(um, NULL, 0, NULL, 0, 10000), 0);
	expect_clean_exit();
}

static void test_cli_sigkill_detached_in_teardown(void **state)
{
	struct stat st;
	int status;

	start_plain(NULL);
	touch_some();
	assert_int_equal(kill(daemon_.pid, SIGKILL), 0);
	assert_int_equal(harness_wait(daemon_.pid, &status, 10000), 0);
	daemon_.pid = -1;
	assert_true(WIFSIGNALED(status));
	/* The connection is gone: calls fail at once, they do not hang. */
	assert_int_equal(ERR(stat(P("f"), &st)), ENOTCONN);
	assert_true(harness_mounted(daemon_.mnt));
	/* Teardown detaches it and leaves the directory removable. */
	harness_stop(&daemon_);
	assert_int_equal(daemon_.mnt[0], '\0');
}

static void test_cli_background(void **state)
{
	char mnt[256], err[4096];
	const char *argv[] = {vfsmount_path, mnt, NULL};
	const char *um[] = {"fusermount3", "-u", mnt, NULL};
	struct statfs sf;
	int status;

	assert_int_equal(harness_tmpdir(mnt, sizeof mnt, "mnt"), 0);
	/* Without -f the command returns once the mount is live. */
	status = harness_run(argv, NULL, 0, err, sizeof err, 20000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(harness_mounted(mnt));
	assert_int_equal(statfs(mnt, &sf), 0);
	assert_int_equal(sf.f_type, HARNESS_FUSE_MAGIC);
	assert_int_equal(harness_run(um, NULL, 0, NULL, 0, 10000), 0);
	assert_false(harness_mounted(mnt));
	assert_int_equal(rmdir(mnt), 0);
}

/* ---- Options ------------------------------------------------------------ */

static void test_cli_readonly(void **state)
{
	struct statvfs sv;
	struct stat st;

	start_plain("-oro");
	assert_int_equal(statvfs(daemon_.mnt, &sv), 0);
	assert_true(sv.f_flag & ST_RDONLY);
	assert_int_equal(ERR(open(P("f"), O_WRONLY | O_CREAT, 0644)), EROFS);
	assert_int_equal(ERR(mkdir(P("d"), 0755)), EROFS);
	assert_int_equal(ERR(stat(P("f"), &st)), ENOENT);
	assert_int_equal(ERR(chmod(daemon_.mnt, 0700)), EROFS);
}

static void test_cli_single_thread(void **state)
{
	char buf[8];
	int fd;

	start_plain("-s");
	touch_some();
	fd = open(P("f"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof buf), 1);
	close(fd);
	assert_int_equal(kill(daemon_.pid, SIGTERM), 0);
	expect_clean_exit();
}

static void test_cli_several_mounts(void **state)
{
	const char *argv[] = {vfsmount_path, "-f",
	                      "-m",          "/=memory",
	                      "-m",          "/small=memory,size=1M",
	                      "-m",          "/ro=memory,ro",
	                      NULL};
	static char chunk[256 * 1024];
	struct stat st, st2;
	int fd, rc = 0;

	assert_int_equal(harness_start(&daemon_, argv, -1), 0);
	assert_int_equal(stat(P("small"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(P("ro"), &st2), 0);
	assert_true(st.st_dev != st2.st_dev || st.st_ino != st2.st_ino);
	/* The size limit of one store shows through: ENOSPC. */
	fd = open(P("small/f"), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 16 && rc == 0; i++)
		rc = ERR(write(fd, chunk, sizeof chunk));
	assert_int_equal(rc, ENOSPC);
	close(fd);
	/* Across mounts: EXDEV for rename and link. */
	fd = open(P("top"), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ERR(rename(P("top"), P("small/top"))), EXDEV);
	assert_int_equal(ERR(link(P("top"), P("small/top"))), EXDEV);
	/* A ",ro" store: EROFS inside it only. */
	assert_int_equal(ERR(mkdir(P("ro/d"), 0755)), EROFS);
	assert_int_equal(mkdir(P("d"), 0755), 0);
	/* Mount points cannot be removed. */
	assert_int_equal(ERR(rmdir(P("small"))), EBUSY);
}

/* Inodes in use on the mount, from statfs. */
static long used_inodes(void)
{
	struct statvfs sv;

	if (statvfs(daemon_.mnt, &sv) < 0)
		return -1;
	return (long)(sv.f_files - sv.f_ffree);
}

static void drop_kernel_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "2", 1) < 0) {
			/* not permitted: the poll below times out */
		}
		close(fd);
	}
}

/*
 * Lookup counts balance: every reference the daemon hands the kernel
 * (lookup, create, mkdir, symlink, link, readdirplus entries) comes back
 * through forget. A memory store frees an unlinked inode only when its
 * last reference goes, so once the kernel has dropped its caches the
 * inode count must return to where it started; a leaked reference keeps
 * an orphan alive, an extra put would free too early and crash.
 */
static void test_cli_lookup_counts_balance(void **state)
{
	const char *argv[] = {vfsmount_path, "-f", "-m",
	                      "/=memory,inodes=100000", NULL};
	char path[600];
	long base, now = -1;
	struct stat st;
	DIR *d;
	int fd;

	if (geteuid() != 0)
		skip();
	assert_int_equal(harness_start(&daemon_, argv, -1), 0);
	base = used_inodes();
	assert_true(base > 0);
	assert_int_equal(mkdir(P("d"), 0755), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof path, "%s/d/f%d", daemon_.mnt, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(mkdir(P("d/sub"), 0755), 0);
	assert_int_equal(link(P("d/f1"), P("d/hard")), 0);
	assert_int_equal(symlink("f1", P("d/sym")), 0);
	assert_int_equal(mknod(P("d/fifo"), S_IFIFO | 0644, 0), 0);
	/* readdir followed by a stat of each name: the kernel switches to
	 * readdirplus for this pattern. */
	for (int pass = 0; pass < 2; pass++) {
		struct dirent *e;

		d = opendir(P("d"));
		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			snprintf(path, sizeof path, "%s/d/%s", daemon_.mnt,
			         e->d_name);
			lstat(path, &st);
		}
		closedir(d);
	}
	/* An open file unlinked, and one renamed over, then closed. */
	fd = open(P("d/f2"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(rename(P("d/f3"), P("d/f2")), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof path, "%s/d/f%d", daemon_.mnt, i);
		unlink(path);
	}
	assert_int_equal(unlink(P("d/hard")), 0);
	assert_int_equal(unlink(P("d/sym")), 0);
	assert_int_equal(unlink(P("d/fifo")), 0);
	assert_int_equal(rmdir(P("d/sub")), 0);
	assert_int_equal(rmdir(P("d")), 0);
	close(fd);
	for (int i = 0; i < 100; i++) {
		drop_kernel_caches();
		now = used_inodes();
		if (now == base)
			break;
		usleep(50000);
	}
	assert_int_equal(now, base);
	/* And the daemon is still healthy. */
	assert_int_equal(kill(daemon_.pid, SIGTERM), 0);
	expect_clean_exit();
}

/* ---- Host changes under a disk store ----------------------------------- */

static int mkdir_0755(const char *path)
{
	return mkdir(path, 0755);
}

static void host_put(const char *dir, const char *name, const char *data)
{
	char path[600];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(close(fd), 0);
}

static void host_do(const char *dir, int (*fn)(const char *), const char *name)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(fn(path), 0);
}

/* The size lstat reports for rel in the mount, or -errno. */
static long mnt_size(const char *rel)
{
	struct stat st;

	return lstat(P(rel), &st) < 0 ? -errno : (long)st.st_size;
}

/* Poll until rel shows size want (or -ENOENT), for at most 5 s. */
static long mnt_size_within(const char *rel, long want)
{
	long got = mnt_size(rel);

	for (int i = 0; i < 100 && got != want; i++) {
		usleep(50000);
		got = mnt_size(rel);
	}
	return got;
}

/*
 * Another process changes HOSTDIR behind a disk store mounted with
 * minute-long cache timeouts. With host_watch (the default) the mount
 * shows each change at once, because vfsmount drops what the kernel has
 * cached; with no_host_watch the kernel keeps serving what it cached,
 * which shows the caches are really in play.
 */
static void host_changes(bool watch, const char *timeouts)
{
	char store[256], spec[400];
	const char *argv[] = {
	        vfsmount_path, "-f", "-o",
	        timeouts,      "-o", watch ? "host_watch" : "no_host_watch",
	        "-m",          spec, NULL};

	assert_int_equal(harness_tmpdir(store, sizeof store, "host"), 0);
	snprintf(spec, sizeof spec, "/=disk:%s", store);
	host_put(store, "f", "abc");
	host_put(store, "gone", "x");
	host_do(store, mkdir_0755, "d");
	host_put(store, "d/inner", "inner");
	host_put(store, "d/a", "aa");
	assert_int_equal(harness_start(&daemon_, argv, -1), 0);
	/* Fill the kernel's caches, absent names included. */
	assert_int_equal(mnt_size("f"), 3);
	assert_int_equal(mnt_size("gone"), 1);
	assert_int_equal(mnt_size("new"), -ENOENT);
	assert_int_equal(mnt_size("d/inner"), 5);
	assert_int_equal(mnt_size("d/a"), 2);
	assert_int_equal(mnt_size("d/b"), -ENOENT);

	host_put(store, "f", "abcdef");
	host_put(store, "new", "n");
	host_do(store, unlink, "gone");
	host_put(store, "d/inner", "changed inner");
	{
		char from[600], to[600];

		snprintf(from, sizeof from, "%s/d/a", store);
		snprintf(to, sizeof to, "%s/d/b", store);
		assert_int_equal(rename(from, to), 0);
	}
	if (watch) {
		assert_int_equal(mnt_size_within("f", 6), 6);
		assert_int_equal(mnt_size_within("new", 1), 1);
		assert_int_equal(mnt_size_within("gone", -ENOENT), -ENOENT);
		assert_int_equal(mnt_size_within("d/inner", 13), 13);
		assert_int_equal(mnt_size_within("d/a", -ENOENT), -ENOENT);
		assert_int_equal(mnt_size_within("d/b", 2), 2);
	} else {
		usleep(1000000);
		assert_int_equal(mnt_size("f"), 3);
		assert_int_equal(mnt_size("new"), -ENOENT);
		assert_int_equal(mnt_size("gone"), 1);
		assert_int_equal(mnt_size("d/inner"), 5);
	}
	assert_int_equal(kill(daemon_.pid, SIGTERM), 0);
	expect_clean_exit();
	harness_rmtree(store);
}

static void test_cli_host_changes_shown(void **state)
{
	host_changes(true, "entry_timeout=60,attr_timeout=60,"
	                   "negative_timeout=60");
}

/* By default absent names are not cached under a disk store, so a name
 * created on the host needs no notification. */
static void test_cli_host_changes_shown_default_negative(void **state)
{
	host_changes(true, "entry_timeout=60,attr_timeout=60");
}

static void test_cli_host_changes_cached_without_watch(void **state)
{
	host_changes(false, "entry_timeout=60,attr_timeout=60,"
	                    "negative_timeout=60");
}

int main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_cli_bad_arguments, teardown),
	        cmocka_unit_test_teardown(test_cli_help_version, teardown),
	        cmocka_unit_test_teardown(test_cli_sigterm_unmounts, teardown),
	        cmocka_unit_test_teardown(test_cli_sigint_unmounts, teardown),
	        cmocka_unit_test_teardown(test_cli_fusermount_unmounts,
	                                  teardown),
	        cmocka_unit_test_teardown(test_cli_sigkill_detached_in_teardown,
	                                  teardown),
	        cmocka_unit_test_teardown(test_cli_background, teardown),
	        cmocka_unit_test_teardown(test_cli_readonly, teardown),
	        cmocka_unit_test_teardown(test_cli_single_thread, teardown),
	        cmocka_unit_test_teardown(test_cli_several_mounts, teardown),
	        cmocka_unit_test_teardown(test_cli_host_changes_shown,
	                                  teardown),
	        cmocka_unit_test_teardown(
	                test_cli_host_changes_shown_default_negative, teardown),
	        cmocka_unit_test_teardown(
	                test_cli_host_changes_cached_without_watch, teardown),
	        cmocka_unit_test_teardown(test_cli_lookup_counts_balance,
	                                  teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VFSMOUNT\n", argv[0]);
		return 2;
	}
	harness_require_fuse();
	vfsmount_path = argv[1];
	signal(SIGTERM, on_fatal_signal);
	signal(SIGINT, on_fatal_signal);
	return cmocka_run_group_tests_name("fuse-cli", tests, NULL, NULL);
}
