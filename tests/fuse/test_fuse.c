/*
 * tests/fuse/test_fuse.c: end-to-end tests through a real FUSE mount.
 *
 *   test_fuse VFSMOUNT KIND      (KIND: memory, disk or sqlite)
 *
 * The group setup starts `VFSMOUNT -f` with a root store of KIND on a
 * fresh temporary mount point; every test then makes real system calls
 * under its own directory of the mount and compares results and errno
 * values with what tmpfs gives. The group teardown always unmounts and
 * reaps the daemon, and checks that a clean unmount ends it with status 0
 * (under sanitizers that also means no leak reports).
 *
 * Sections: setup and helpers; files; directories and names; rename and
 * links; lifetime; big, sparse and concurrent I/O; attributes; callers
 * other than root; limits; main.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- Setup and helpers -------------------------------------------------- */

static const char *vfsmount_path;
static const char *store_kind;
static harness_daemon daemon_;

/* A path inside the mount, in one of a few rotating buffers. */
static const char *P(const char *fmt, ...)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(b, sizeof bufs[0], "%s/", daemon_.mnt);
	va_start(ap, fmt);
	vsnprintf(b + n, sizeof bufs[0] - n, fmt, ap);
	va_end(ap);
	return b;
}

/* errno of a failing call, or 0 when it succeeded. */
#define ERR(call) ((call) < 0 ? errno : 0)

static int group_setup(void **state)
{
	char spec[600];
	const char *argv[8];
	size_t n = 0;

	argv[n++] = vfsmount_path;
	argv[n++] = "-f";
	/* Other users may enter (the nobody tests); default_permissions,
	 * always on, keeps them to what the modes allow. */
	argv[n++] = "-oallow_other";
	daemon_.store[0] = '\0';
	if (strcmp(store_kind, "memory") != 0) {
		if (harness_tmpdir(daemon_.store, sizeof daemon_.store,
		                   "store") < 0)
			return -1;
		/* mkdtemp makes 0700; the disk store's root shows the host
		 * directory's mode, and the nobody tests must get in. */
		chmod(daemon_.store, 0755);
		if (strcmp(store_kind, "sqlite") == 0)
			snprintf(spec, sizeof spec, "/=sqlite:%s/db.sqlite",
			         daemon_.store);
		else if (strcmp(store_kind, "disk") == 0)
			/* suid: keep setuid/setgid bits on host files, so
			 * the tmpfs rules for clearing them can be seen. */
			snprintf(spec, sizeof spec, "/=disk:%s,suid",
			         daemon_.store);
		else
			snprintf(spec, sizeof spec, "/=%s:%s", store_kind,
			         daemon_.store);
		argv[n++] = "-m";
		argv[n++] = spec;
	}
	argv[n] = NULL;
	return harness_start(&daemon_, argv, -1) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	int status = harness_stop(&daemon_);

	harness_rmtree(daemon_.store);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "vfsmount did not exit cleanly (status %#x)\n",
		        (unsigned)status);
		return -1;
	}
	return 0;
}

/* The harness must never leave a mount behind, even when meson kills the
 * test on a timeout. */
static void on_fatal_signal(int sig)
{
	if (daemon_.pid > 0)
		kill(daemon_.pid, SIGKILL);
	_exit(128 + sig);
}

static void mkdir_ok(const char *path)
{
	assert_int_equal(ERR(mkdir(path, 0755)), 0);
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(close(fd), 0);
}

static void read_expect(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
	close(fd);
}

/* Run fn in a child as uid/gid 65534 with the given supplementary
 * groups; returns fn's result (0 for success). */
static int as_nobody_in(int (*fn)(void), size_t ngroups, const gid_t *groups)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(ngroups, groups) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			_exit(100);
		_exit(fn());
	}
	if (pid < 0 || harness_wait(pid, &status, 60000) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int as_nobody(int (*fn)(void))
{
	return as_nobody_in(fn, 0, NULL);
}

/* ---- Files -------------------------------------------------------------- */

static void test_file_create_read_write(void **state)
{
	char buf[16];
	struct stat st;
	int fd, fd2;

	mkdir_ok(P("crw"));
	fd = open(P("crw/f"), O_RDWR | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, getuid());

	assert_int_equal(ERR(open(P("crw/f"), O_RDWR | O_CREAT | O_EXCL, 0640)),
	                 EEXIST);
	assert_int_equal(ERR(open(P("crw/missing"), O_RDONLY)), ENOENT);
	assert_int_equal(ERR(open(P("crw/f/"), O_RDONLY)), ENOTDIR);
	assert_int_equal(ERR(open(P("crw/f/x"), O_RDONLY)), ENOTDIR);
	assert_int_equal(ERR(open(P("crw"), O_WRONLY)), EISDIR);
	assert_int_equal(ERR(open(P("crw/f"), O_RDONLY | O_DIRECTORY)),
	                 ENOTDIR);

	/* Read-only descriptor: write is EBADF, ftruncate EINVAL. */
	fd2 = open(P("crw/f"), O_RDONLY);
	assert_true(fd2 >= 0);
	assert_int_equal(ERR(write(fd2, "x", 1)), EBADF);
	assert_int_equal(ERR(ftruncate(fd2, 0)), EINVAL);
	close(fd2);

	/* Reading a directory descriptor: EISDIR. */
	fd2 = open(P("crw"), O_RDONLY | O_DIRECTORY);
	assert_true(fd2 >= 0);
	assert_int_equal(ERR(read(fd2, buf, sizeof buf)), EISDIR);
	close(fd2);

	/* O_APPEND: pwrite at 0 still appends, as on Linux. */
	fd2 = open(P("crw/f"), O_WRONLY | O_APPEND);
	assert_true(fd2 >= 0);
	assert_int_equal(pwrite(fd2, "!!", 2, 0), 2);
	close(fd2);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 7);
	assert_memory_equal(buf, "hello!!", 7);

	/* O_TRUNC on open. */
	fd2 = open(P("crw/f"), O_WRONLY | O_TRUNC);
	assert_true(fd2 >= 0);
	close(fd2);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);
}

static void test_file_mode_umask(void **state)
{
	struct stat st;
	mode_t old = umask(0);
	int fd;

	/* The kernel applies the caller's umask; the daemon adds none. */
	mkdir_ok(P("umask"));
	fd = open(P("umask/f"), O_WRONLY | O_CREAT, 0777);
	assert_int_equal(mkdir(P("umask/d"), 0777), 0);
	umask(027);
	assert_int_equal(mkdir(P("umask/e"), 0777), 0);
	umask(old);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(P("umask/f"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(stat(P("umask/d"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(stat(P("umask/e"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
}

static void test_file_truncate(void **state)
{
	char buf[64];
	struct stat st;
	int fd;

	mkdir_ok(P("trunc"));
	write_file(P("trunc/f"), "abcdef");
	assert_int_equal(truncate(P("trunc/f"), 3), 0);
	read_expect(P("trunc/f"), "abc");
	assert_int_equal(truncate(P("trunc/f"), 10), 0);
	fd = open(P("trunc/f"), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 10);
	assert_memory_equal(buf, "abc\0\0\0\0\0\0\0", 10);
	assert_int_equal(ftruncate(fd, 1), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 1);
	assert_int_equal(ERR(ftruncate(fd, -1)), EINVAL);
	assert_int_equal(ERR(ftruncate(fd, INT64_MAX)), EFBIG);
	/* A failed truncate changed nothing. */
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 1);
	close(fd);
	assert_int_equal(ERR(truncate(P("trunc"), 0)), EISDIR);
	assert_int_equal(ERR(truncate(P("trunc/missing"), 0)), ENOENT);
}

/* ---- Directories and names ---------------------------------------------- */

static void test_dir_mkdir_rmdir_unlink(void **state)
{
	struct stat st;

	mkdir_ok(P("dirs"));
	mkdir_ok(P("dirs/d"));
	assert_int_equal(stat(P("dirs/d"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(ERR(mkdir(P("dirs/d"), 0755)), EEXIST);
	assert_int_equal(ERR(mkdir(P("dirs/missing/d"), 0755)), ENOENT);
	write_file(P("dirs/d/f"), "x");
	assert_int_equal(ERR(mkdir(P("dirs/d/f/g"), 0755)), ENOTDIR);
	assert_int_equal(ERR(rmdir(P("dirs/d"))), ENOTEMPTY);
	assert_int_equal(ERR(rmdir(P("dirs/d/f"))), ENOTDIR);
	assert_int_equal(ERR(unlink(P("dirs/d"))), EISDIR);
	assert_int_equal(ERR(unlink(P("dirs/d/missing"))), ENOENT);
	assert_int_equal(ERR(rmdir(P("dirs/d/."))), EINVAL);
	assert_int_equal(unlink(P("dirs/d/f")), 0);
	assert_int_equal(ERR(stat(P("dirs/d/f"), &st)), ENOENT);
	assert_int_equal(rmdir(P("dirs/d")), 0);
	assert_int_equal(ERR(stat(P("dirs/d"), &st)), ENOENT);
	/* A trailing slash on mkdir is fine. */
	mkdir_ok(P("dirs/e/"));
	assert_int_equal(rmdir(P("dirs/e")), 0);
}

static void test_name_too_long(void **state)
{
	char name[1200];
	int fd;

	mkdir_ok(P("names"));
	memset(name, 'n', sizeof name);
	name[255] = '\0';
	fd = open(P("names/%s", name), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	name[255] = 'n';
	name[256] = '\0';
	assert_int_equal(
	        ERR(open(P("names/%s", name), O_WRONLY | O_CREAT, 0644)),
	        ENAMETOOLONG);
	assert_int_equal(ERR(mkdir(P("names/%s", name), 0755)), ENAMETOOLONG);
	/* The kernel forwards names far longer than NAME_MAX. */
	name[256] = 'n';
	name[1100] = '\0';
	assert_int_equal(
	        ERR(open(P("names/%s", name), O_WRONLY | O_CREAT, 0644)),
	        ENAMETOOLONG);
}

/* ---- Rename and links --------------------------------------------------- */

static void test_rename_flags(void **state)
{
	struct stat st;

	mkdir_ok(P("ren"));
	write_file(P("ren/a"), "A");
	write_file(P("ren/b"), "B");

	/* RENAME_NOREPLACE onto an existing name: EEXIST, nothing moved. */
	assert_int_equal(ERR(renameat2(AT_FDCWD, P("ren/a"), AT_FDCWD,
	                               P("ren/b"), RENAME_NOREPLACE)),
	                 EEXIST);
	read_expect(P("ren/a"), "A");
	read_expect(P("ren/b"), "B");
	assert_int_equal(renameat2(AT_FDCWD, P("ren/a"), AT_FDCWD, P("ren/c"),
	                           RENAME_NOREPLACE),
	                 0);
	assert_int_equal(ERR(stat(P("ren/a"), &st)), ENOENT);
	read_expect(P("ren/c"), "A");

	/* RENAME_EXCHANGE swaps; a missing target is ENOENT. */
	assert_int_equal(renameat2(AT_FDCWD, P("ren/b"), AT_FDCWD, P("ren/c"),
	                           RENAME_EXCHANGE),
	                 0);
	read_expect(P("ren/b"), "A");
	read_expect(P("ren/c"), "B");
	assert_int_equal(ERR(renameat2(AT_FDCWD, P("ren/b"), AT_FDCWD,
	                               P("ren/zz"), RENAME_EXCHANGE)),
	                 ENOENT);
	assert_int_equal(
	        ERR(renameat2(AT_FDCWD, P("ren/b"), AT_FDCWD, P("ren/c"),
	                      RENAME_EXCHANGE | RENAME_NOREPLACE)),
	        EINVAL);

	/* Plain rename replaces. */
	assert_int_equal(rename(P("ren/b"), P("ren/c")), 0);
	read_expect(P("ren/c"), "A");
	assert_int_equal(ERR(stat(P("ren/b"), &st)), ENOENT);

	/* Directories. */
	mkdir_ok(P("ren/d1"));
	mkdir_ok(P("ren/d2"));
	write_file(P("ren/d2/f"), "x");
	assert_int_equal(ERR(rename(P("ren/d1"), P("ren/d2"))), ENOTEMPTY);
	assert_int_equal(ERR(rename(P("ren/d1"), P("ren/c"))), ENOTDIR);
	assert_int_equal(ERR(rename(P("ren/c"), P("ren/d1"))), EISDIR);
	assert_int_equal(ERR(rename(P("ren/d1"), P("ren/d1/sub"))), EINVAL);
	assert_int_equal(ERR(rename(P("ren/missing"), P("ren/x"))), ENOENT);
	mkdir_ok(P("ren/d3"));
	assert_int_equal(rename(P("ren/d1"), P("ren/d3")), 0);
	assert_int_equal(ERR(stat(P("ren/d1"), &st)), ENOENT);
	/* Renamed directory keeps its contents. */
	assert_int_equal(rename(P("ren/d2"), P("ren/d4")), 0);
	read_expect(P("ren/d4/f"), "x");

	/* Onto another link of the same file: a no-op, both names stay. */
	assert_int_equal(link(P("ren/c"), P("ren/c2")), 0);
	assert_int_equal(rename(P("ren/c"), P("ren/c2")), 0);
	read_expect(P("ren/c"), "A");
	read_expect(P("ren/c2"), "A");
}

static void test_link_hard(void **state)
{
	struct stat a, b;

	mkdir_ok(P("hl"));
	write_file(P("hl/a"), "data");
	assert_int_equal(link(P("hl/a"), P("hl/b")), 0);
	assert_int_equal(stat(P("hl/a"), &a), 0);
	assert_int_equal(stat(P("hl/b"), &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	assert_int_equal(b.st_nlink, 2);
	read_expect(P("hl/b"), "data");
	/* A write through one name shows through the other. */
	write_file(P("hl/b"), "new");
	read_expect(P("hl/a"), "new");
	assert_int_equal(ERR(link(P("hl/a"), P("hl/b"))), EEXIST);
	assert_int_equal(ERR(link(P("hl/missing"), P("hl/c"))), ENOENT);
	mkdir_ok(P("hl/d"));
	assert_int_equal(ERR(link(P("hl/d"), P("hl/d2"))), EPERM);
	assert_int_equal(unlink(P("hl/a")), 0);
	assert_int_equal(stat(P("hl/b"), &b), 0);
	assert_int_equal(b.st_nlink, 1);
	read_expect(P("hl/b"), "new");
}

static void test_symlink_readlink(void **state)
{
	char buf[128];
	struct stat st;
	ssize_t n;

	mkdir_ok(P("sl"));
	write_file(P("sl/target"), "T");
	assert_int_equal(symlink("target", P("sl/link")), 0);
	n = readlink(P("sl/link"), buf, sizeof buf);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "target", 6);
	/* readlink into a short buffer: cut, no NUL. */
	memset(buf, 'z', sizeof buf);
	assert_int_equal(readlink(P("sl/link"), buf, 3), 3);
	assert_memory_equal(buf, "tarz", 4);
	assert_int_equal(lstat(P("sl/link"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_size, 6);
	assert_int_equal(stat(P("sl/link"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	read_expect(P("sl/link"), "T");
	assert_int_equal(ERR(readlink(P("sl/target"), buf, sizeof buf)),
	                 EINVAL);
	assert_int_equal(symlink("nowhere", P("sl/dangling")), 0);
	assert_int_equal(ERR(stat(P("sl/dangling"), &st)), ENOENT);
	assert_int_equal(ERR(symlink("x", P("sl/link"))), EEXIST);
	assert_int_equal(ERR(open(P("sl/link"), O_RDONLY | O_NOFOLLOW)), ELOOP);
	assert_int_equal(ERR(mkdir(P("sl/dangling"), 0755)), EEXIST);
	/* Removing a link leaves the target. */
	assert_int_equal(unlink(P("sl/link")), 0);
	read_expect(P("sl/target"), "T");
}

/* ---- Lifetime ----------------------------------------------------------- */

static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_unlink_while_open(void **state)
{
	char buf[32];
	struct stat st;
	int fd;

	mkdir_ok(P("uwo"));
	fd = open(P("uwo/f"), O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "still here", 10), 10);
	assert_int_equal(unlink(P("uwo/f")), 0);
	assert_int_equal(ERR(stat(P("uwo/f"), &st)), ENOENT);
	/* No .fuse_hidden stand-in: the directory is really empty. */
	assert_int_equal(count_entries(P("uwo"), ".fuse_hidden"), 0);
	assert_int_equal(count_entries(P("uwo"), ""), 2);
	assert_int_equal(rmdir(P("uwo")), 0);
	/* The open file works on. */
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 10);
	assert_memory_equal(buf, "still here", 10);
	assert_int_equal(pwrite(fd, "!", 1, 10), 1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 11);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(ftruncate(fd, 2), 0);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 2);
	assert_int_equal(close(fd), 0);

	/* Renamed over while open: the old file stays readable. */
	mkdir_ok(P("uwo2"));
	write_file(P("uwo2/a"), "old");
	fd = open(P("uwo2/a"), O_RDONLY);
	assert_true(fd >= 0);
	write_file(P("uwo2/b"), "new");
	assert_int_equal(rename(P("uwo2/b"), P("uwo2/a")), 0);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), 3);
	assert_memory_equal(buf, "old", 3);
	close(fd);
	read_expect(P("uwo2/a"), "new");
	assert_int_equal(count_entries(P("uwo2"), ".fuse_hidden"), 0);
}

/* ---- Big, sparse and concurrent I/O ------------------------------------- */

#define BIG_CHUNK  (1u << 20)
#define BIG_CHUNKS 64

static void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = (seed + i) * 0x9E3779B97F4A7C15ull;
		memcpy(buf + i, &v, 8);
	}
}

static void test_io_large_file(void **state)
{
	unsigned char *w = malloc(BIG_CHUNK), *r = malloc(BIG_CHUNK);
	struct stat st;
	int fd;

	assert_non_null(w);
	assert_non_null(r);
	mkdir_ok(P("big"));
	fd = open(P("big/f"), O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < BIG_CHUNKS; i++) {
		fill_pattern(w, BIG_CHUNK, i * BIG_CHUNK);
		assert_int_equal(write(fd, w, BIG_CHUNK), BIG_CHUNK);
	}
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)BIG_CHUNK * BIG_CHUNKS);
	close(fd);
	/* Read back through a fresh descriptor, and past the page cache's
	 * help for good measure: compare every chunk. */
	fd = open(P("big/f"), O_RDONLY);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < BIG_CHUNKS; i++) {
		size_t got = 0;

		while (got < BIG_CHUNK) {
			ssize_t n = read(fd, r + got, BIG_CHUNK - got);
			assert_true(n > 0);
			got += (size_t)n;
		}
		fill_pattern(w, BIG_CHUNK, i * BIG_CHUNK);
		assert_memory_equal(r, w, BIG_CHUNK);
	}
	assert_int_equal(read(fd, r, 1), 0);
	close(fd);
	assert_int_equal(unlink(P("big/f")), 0);
	free(w);
	free(r);
}

static void test_io_sparse(void **state)
{
	const off_t far = (off_t)1 << 40;
	unsigned char buf[4096], zero[4096];
	struct stat st;
	int fd;

	memset(zero, 0, sizeof zero);
	mkdir_ok(P("sparse"));
	fd = open(P("sparse/f"), O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, far), 1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, far + 1);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), (ssize_t)sizeof buf);
	assert_memory_equal(buf, zero, sizeof buf);
	assert_int_equal(pread(fd, buf, sizeof buf, far / 2),
	                 (ssize_t)sizeof buf);
	assert_memory_equal(buf, zero, sizeof buf);
	assert_int_equal(pread(fd, buf, sizeof buf, far - 10), 11);
	assert_memory_equal(buf, zero, 10);
	assert_int_equal(buf[10], 'x');
	/* Beyond the VFS size cap (2^62): EFBIG from the daemon. */
	assert_int_equal(ERR(pwrite(fd, "y", 1, (off_t)1 << 62)), EFBIG);
	/* Offset + length overflowing: EINVAL. */
	assert_int_equal(ERR(pwrite(fd, "0123456789", 10, INT64_MAX - 5)),
	                 EINVAL);
	assert_int_equal(ERR(pwrite(fd, "y", 1, -1)), EINVAL);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, far + 1);
	close(fd);
	assert_int_equal(unlink(P("sparse/f")), 0);
}

#define CW_PROCS  8
#define CW_BLOCKS 128
#define CW_BLOCK  4096

static void test_io_concurrent_writers(void **state)
{
	unsigned char buf[CW_BLOCK];
	pid_t pids[CW_PROCS];
	struct stat st;
	int fd;

	mkdir_ok(P("cw"));
	fd = open(P("cw/f"), O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	for (int k = 0; k < CW_PROCS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			int cfd = open(P("cw/f"), O_WRONLY);
			unsigned char b[CW_BLOCK];

			if (cfd < 0)
				_exit(1);
			memset(b, 'a' + k, sizeof b);
			for (int i = 0; i < CW_BLOCKS; i++) {
				off_t off =
				        ((off_t)i * CW_PROCS + k) * CW_BLOCK;

				if (pwrite(cfd, b, sizeof b, off) != CW_BLOCK)
					_exit(2);
			}
			_exit(close(cfd) == 0 ? 0 : 3);
		}
	}
	for (int k = 0; k < CW_PROCS; k++) {
		int status;

		assert_int_equal(harness_wait(pids[k], &status, 120000), 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	fd = open(P("cw/f"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)CW_PROCS * CW_BLOCKS * CW_BLOCK);
	for (int i = 0; i < CW_PROCS * CW_BLOCKS; i++) {
		unsigned char want = (unsigned char)('a' + i % CW_PROCS);

		assert_int_equal(
		        pread(fd, buf, sizeof buf, (off_t)i * CW_BLOCK),
		        CW_BLOCK);
		for (size_t j = 0; j < sizeof buf; j++)
			if (buf[j] != want)
				fail_msg("block %d byte %zu: %c, want %c", i, j,
				         buf[j], want);
	}
	close(fd);

	/* Concurrent O_APPEND writers never overwrite each other. */
	fd = open(P("cw/log"), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	for (int k = 0; k < CW_PROCS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			int cfd = open(P("cw/log"), O_WRONLY | O_APPEND);
			char line[16];

			if (cfd < 0)
				_exit(1);
			memset(line, 'A' + k, sizeof line);
			for (int i = 0; i < 100; i++)
				if (write(cfd, line, sizeof line) != 16)
					_exit(2);
			_exit(0);
		}
	}
	for (int k = 0; k < CW_PROCS; k++) {
		int status;

		assert_int_equal(harness_wait(pids[k], &status, 120000), 0);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(stat(P("cw/log"), &st), 0);
	assert_int_equal(st.st_size, CW_PROCS * 100 * 16);
}

#define MANY 10000

static void test_readdir_10000(void **state)
{
	unsigned char *seen = calloc(MANY, 1);
	int dots = 0, total = 0;
	struct dirent *e;
	DIR *d;

	assert_non_null(seen);
	mkdir_ok(P("many"));
	for (int i = 0; i < MANY; i++) {
		int fd = open(P("many/f%05d", i), O_WRONLY | O_CREAT | O_EXCL,
		              0644);

		assert_true(fd >= 0);
		close(fd);
	}
	d = opendir(P("many"));
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		int i;

		total++;
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			dots++;
			continue;
		}
		assert_int_equal(sscanf(e->d_name, "f%05d", &i), 1);
		assert_true(i >= 0 && i < MANY);
		if (seen[i]++)
			fail_msg("entry %s returned twice", e->d_name);
		assert_int_equal(e->d_type, DT_REG);
	}
	closedir(d);
	assert_int_equal(dots, 2);
	assert_int_equal(total, MANY + 2);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(seen[i], 1);
	/* And the entries are really there: stat a few, remove all. */
	for (int i = 0; i < MANY; i++)
		assert_int_equal(unlink(P("many/f%05d", i)), 0);
	assert_int_equal(rmdir(P("many")), 0);
	free(seen);
}

static void test_readdir_seekdir(void **state)
{
	char first[256] = "", again[256] = "", rewound[256] = "";
	struct dirent *e;
	long pos;
	DIR *d;

	mkdir_ok(P("seek"));
	for (int i = 0; i < 40; i++) {
		int fd = open(P("seek/f%02d", i), O_WRONLY | O_CREAT, 0644);

		assert_true(fd >= 0);
		close(fd);
	}
	/* Gather first, assert after closedir: a failed assertion must not
	 * leave the directory open (it would keep the mount busy). */
	d = opendir(P("seek"));
	assert_non_null(d);
	for (int i = 0; i < 10; i++)
		readdir(d);
	/* seekdir is an lseek on the directory, which the kernel refuses
	 * for offsets it sees as negative: cookies must stay below 2^63. */
	pos = telldir(d);
	if ((e = readdir(d)) != NULL)
		snprintf(first, sizeof first, "%s", e->d_name);
	for (int i = 0; i < 5; i++)
		readdir(d);
	seekdir(d, pos);
	if ((e = readdir(d)) != NULL)
		snprintf(again, sizeof again, "%s", e->d_name);
	rewinddir(d);
	if ((e = readdir(d)) != NULL)
		snprintf(rewound, sizeof rewound, "%s", e->d_name);
	closedir(d);
	assert_string_not_equal(first, "");
	assert_string_equal(again, first);
	assert_string_equal(rewound, ".");
}

static void test_xattr_not_supported(void **state)
{
	char buf[64];

	mkdir_ok(P("xattr"));
	write_file(P("xattr/f"), "x");
	assert_int_equal(ERR(getxattr(P("xattr/f"), "user.a", buf, sizeof buf)),
	                 ENOTSUP);
	assert_int_equal(ERR(setxattr(P("xattr/f"), "user.a", "1", 1, 0)),
	                 ENOTSUP);
	assert_int_equal(ERR(listxattr(P("xattr/f"), buf, sizeof buf)),
	                 ENOTSUP);
	assert_int_equal(ERR(removexattr(P("xattr/f"), "user.a")), ENOTSUP);
	/* Writes still work (the kernel stopped asking for
	 * security.capability). */
	write_file(P("xattr/f"), "y");
	read_expect(P("xattr/f"), "y");
}

/* ---- Attributes --------------------------------------------------------- */

static bool ts_equal(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void test_attr_chmod_chown_utimens(void **state)
{
	struct timespec ts[2], before;
	struct stat st, st2;

	mkdir_ok(P("attr"));
	write_file(P("attr/f"), "x");
	assert_int_equal(chmod(P("attr/f"), 04751), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 04751);
	assert_int_equal(chown(P("attr/f"), 1234, 5678), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	/* chown of a regular file clears setuid, even for root. */
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(chown(P("attr/f"), (uid_t)-1, 42), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 42);

	/* Explicit times, then UTIME_OMIT and UTIME_NOW. */
	ts[0].tv_sec = 1000000000;
	ts[0].tv_nsec = 123456789;
	ts[1].tv_sec = 1100000000;
	ts[1].tv_nsec = 987654321;
	assert_int_equal(utimensat(AT_FDCWD, P("attr/f"), ts, 0), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_true(ts_equal(st.st_atim, ts[0]));
	assert_true(ts_equal(st.st_mtim, ts[1]));

	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 1200000000;
	ts[1].tv_nsec = 5;
	assert_int_equal(utimensat(AT_FDCWD, P("attr/f"), ts, 0), 0);
	assert_int_equal(stat(P("attr/f"), &st2), 0);
	assert_true(ts_equal(st2.st_atim, st.st_atim));
	assert_true(ts_equal(st2.st_mtim, ts[1]));

	clock_gettime(CLOCK_REALTIME, &before);
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_nsec = UTIME_OMIT;
	assert_int_equal(utimensat(AT_FDCWD, P("attr/f"), ts, 0), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_true(st.st_atim.tv_sec >= before.tv_sec - 1);
	assert_true(ts_equal(st.st_mtim, st2.st_mtim));

	assert_int_equal(utimensat(AT_FDCWD, P("attr/f"), NULL, 0), 0);
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_true(st.st_mtim.tv_sec >= before.tv_sec - 1);

	/* A symlink's own times with AT_SYMLINK_NOFOLLOW; lchown. */
	assert_int_equal(symlink("f", P("attr/l")), 0);
	assert_int_equal(lchown(P("attr/l"), 77, 88), 0);
	assert_int_equal(lstat(P("attr/l"), &st), 0);
	assert_int_equal(st.st_uid, 77);
	assert_int_equal(stat(P("attr/l"), &st), 0);
	assert_int_equal(st.st_uid, 1234);

	/* A write updates mtime. */
	ts[0].tv_sec = ts[1].tv_sec = 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, P("attr/f"), ts, 0), 0);
	write_file(P("attr/f"), "y");
	assert_int_equal(stat(P("attr/f"), &st), 0);
	assert_true(st.st_mtim.tv_sec >= before.tv_sec - 1);
}

static void test_mknod_special(void **state)
{
	struct stat st;

	mkdir_ok(P("nod"));
	assert_int_equal(mkfifo(P("nod/fifo"), 0640), 0);
	assert_int_equal(lstat(P("nod/fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(ERR(mkfifo(P("nod/fifo"), 0640)), EEXIST);
	assert_int_equal(mknod(P("nod/sock"), S_IFSOCK | 0600, 0), 0);
	assert_int_equal(lstat(P("nod/sock"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(mknod(P("nod/reg"), S_IFREG | 0600, 0), 0);
	assert_int_equal(lstat(P("nod/reg"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	if (strcmp(store_kind, "disk") != 0) {
		/* Memory and SQLite keep device nodes as metadata, as
		 * tmpfs does (the mount is nodev, so opening one fails). */
		assert_int_equal(
		        mknod(P("nod/chr"), S_IFCHR | 0600, makedev(1, 3)), 0);
		assert_int_equal(lstat(P("nod/chr"), &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_rdev, makedev(1, 3));
	}
	assert_int_equal(unlink(P("nod/fifo")), 0);
}

static void test_statfs_namemax(void **state)
{
	struct statvfs sv;

	assert_int_equal(statvfs(daemon_.mnt, &sv), 0);
	assert_int_equal(sv.f_namemax, 255);
	assert_true(sv.f_bsize > 0);
	assert_int_equal(sv.f_flag & ST_RDONLY, 0);
}

/* ---- Callers other than root -------------------------------------------- */

static int nobody_creates(void)
{
	struct stat st;
	int fd;

	fd = open(P("perm/pub/f"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return 10;
	if (fstat(fd, &st) < 0 || st.st_uid != 65534 || st.st_gid != 65534)
		return 11;
	close(fd);
	if (mkdir(P("perm/pub/d"), 0755) < 0)
		return 12;
	if (symlink("f", P("perm/pub/l")) < 0)
		return 13;
	if (lstat(P("perm/pub/l"), &st) < 0 || st.st_uid != 65534)
		return 14;
	if (mkfifo(P("perm/pub/p"), 0644) < 0)
		return 15;
	/* default_permissions: root's 0700 directory is closed to us. */
	if (ERR(open(P("perm/priv/x"), O_WRONLY | O_CREAT, 0644)) != EACCES)
		return 20;
	if (ERR(stat(P("perm/priv/secret"), &st)) != EACCES)
		return 21;
	if (ERR(opendir(P("perm/priv")) == NULL ? -1 : 0) != EACCES)
		return 22;
	/* Not the owner: chmod and chown are refused. */
	if (ERR(chmod(P("perm/rootfile"), 0777)) != EPERM)
		return 23;
	if (ERR(chown(P("perm/pub/f"), 0, 0)) != EPERM)
		return 24;
	/* Mode bits on a file: read-only to others. */
	if (ERR(open(P("perm/rootfile"), O_WRONLY)) != EACCES)
		return 25;
	/* Sticky /tmp-style directory: cannot remove root's file. */
	if (ERR(unlink(P("perm/pub/rootowned"))) != EPERM)
		return 26;
	return 0;
}

static int nobody_writes_suid(void)
{
	int fd = open(P("perm/pub/suid"), O_WRONLY);

	if (fd < 0)
		return 10;
	if (write(fd, "w", 1) != 1)
		return 11;
	close(fd);
	fd = open(P("perm/pub/suid2"), O_WRONLY);
	if (fd < 0)
		return 12;
	if (ftruncate(fd, 0) < 0)
		return 13;
	close(fd);
	/* open(O_TRUNC) clears them too. */
	fd = open(P("perm/pub/suid3"), O_WRONLY | O_TRUNC);
	if (fd < 0)
		return 14;
	close(fd);
	if (truncate(P("perm/pub/suid4"), 1) < 0)
		return 15;
	return 0;
}

/* As 65534 with supplementary group 4242: setgid may be kept on a file
 * of a group the caller belongs to only through its supplementary list,
 * and is dropped for a group it is not in. */
static int nobody_setgid_groups(void)
{
	struct stat st;
	int fd;

	fd = open(P("perm/pub/sg"), O_WRONLY | O_CREAT | O_EXCL, 0755);
	if (fd < 0)
		return 10;
	close(fd);
	if (chown(P("perm/pub/sg"), (uid_t)-1, 4242) < 0)
		return 11;
	if (chmod(P("perm/pub/sg"), 02755) < 0)
		return 12;
	if (stat(P("perm/pub/sg"), &st) < 0)
		return 13;
	if ((st.st_mode & 07777) != 02755)
		return 14;
	/* Not a member of 4343: chown is refused. */
	if (ERR(chown(P("perm/pub/sg"), (uid_t)-1, 4343)) != EPERM)
		return 15;
	/* mkdir in a setgid directory: group and setgid inherited. */
	if (mkdir(P("perm/sgdir/sub"), 0755) < 0)
		return 16;
	if (stat(P("perm/sgdir/sub"), &st) < 0)
		return 17;
	if (st.st_gid != 4242 || !(st.st_mode & S_ISGID))
		return 18;
	return 0;
}

static void test_perm_nonroot_caller(void **state)
{
	struct stat st;

	if (geteuid() != 0)
		skip();
	mkdir_ok(P("perm"));
	assert_int_equal(mkdir(P("perm/pub"), 01777), 0);
	assert_int_equal(chmod(P("perm/pub"), 01777), 0);
	assert_int_equal(mkdir(P("perm/priv"), 0700), 0);
	write_file(P("perm/priv/secret"), "s");
	write_file(P("perm/rootfile"), "r");
	write_file(P("perm/pub/rootowned"), "r");
	assert_int_equal(as_nobody(nobody_creates), 0);
	assert_int_equal(stat(P("perm/pub/f"), &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(stat(P("perm/pub/d"), &st), 0);
	assert_int_equal(st.st_uid, 65534);

	/* Setuid/setgid are cleared when someone else writes or
	 * truncates, exactly as on tmpfs. */
	write_file(P("perm/pub/suid"), "x");
	assert_int_equal(chmod(P("perm/pub/suid"), 06777), 0);
	write_file(P("perm/pub/suid2"), "x");
	assert_int_equal(chmod(P("perm/pub/suid2"), 06777), 0);
	write_file(P("perm/pub/suid3"), "x");
	assert_int_equal(chmod(P("perm/pub/suid3"), 06777), 0);
	write_file(P("perm/pub/suid4"), "x");
	assert_int_equal(chmod(P("perm/pub/suid4"), 02777), 0);
	assert_int_equal(as_nobody(nobody_writes_suid), 0);
	assert_int_equal(stat(P("perm/pub/suid3"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(stat(P("perm/pub/suid4"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(stat(P("perm/pub/suid"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(stat(P("perm/pub/suid2"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	/* Supplementary groups reach the daemon's setgid decisions. */
	assert_int_equal(mkdir(P("perm/sgdir"), 0777), 0);
	assert_int_equal(chown(P("perm/sgdir"), 0, 4242), 0);
	assert_int_equal(chmod(P("perm/sgdir"), 02777), 0);
	{
		const gid_t groups[] = {4242};

		assert_int_equal(as_nobody_in(nobody_setgid_groups, 1, groups),
		                 0);
	}
	/* Root writing keeps them (CAP_FSETID). */
	assert_int_equal(chmod(P("perm/pub/suid"), 06777), 0);
	write_file(P("perm/pub/suid"), "root");
	assert_int_equal(stat(P("perm/pub/suid"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 06777);
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_file_create_read_write),
	        cmocka_unit_test(test_file_mode_umask),
	        cmocka_unit_test(test_file_truncate),
	        cmocka_unit_test(test_dir_mkdir_rmdir_unlink),
	        cmocka_unit_test(test_name_too_long),
	        cmocka_unit_test(test_rename_flags),
	        cmocka_unit_test(test_link_hard),
	        cmocka_unit_test(test_symlink_readlink),
	        cmocka_unit_test(test_unlink_while_open),
	        cmocka_unit_test(test_io_large_file),
	        cmocka_unit_test(test_io_sparse),
	        cmocka_unit_test(test_io_concurrent_writers),
	        cmocka_unit_test(test_readdir_10000),
	        cmocka_unit_test(test_readdir_seekdir),
	        cmocka_unit_test(test_xattr_not_supported),
	        cmocka_unit_test(test_attr_chmod_chown_utimens),
	        cmocka_unit_test(test_mknod_special),
	        cmocka_unit_test(test_statfs_namemax),
	        cmocka_unit_test(test_perm_nonroot_caller),
	};
	char name[64];

	if (argc != 3) {
		fprintf(stderr, "usage: %s VFSMOUNT KIND\n", argv[0]);
		return 2;
	}
	harness_require_fuse();
	vfsmount_path = argv[1];
	store_kind = argv[2];
	signal(SIGTERM, on_fatal_signal);
	signal(SIGINT, on_fatal_signal);
	signal(SIGALRM, on_fatal_signal);
	snprintf(name, sizeof name, "fuse-%s", store_kind);
	return cmocka_run_group_tests_name(name, tests, group_setup,
	                                   group_teardown);
}
