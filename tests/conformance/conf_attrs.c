/*
 * Attributes: stat results, chmod/chown and their setuid/setgid rules,
 * vfs_utimens(), vfs_statfs(), and which operations update which
 * timestamps (checked against tmpfs and ext4).
 */
#include "conf.h"

#include <stdlib.h>
#include <unistd.h>

static void test_attrs_new_file(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0 = conf_now();
	vfs_attr a, d;
	int fd;

	conf_mkdir(v, "/d");
	conf_age(v, "/d");
	t0 = conf_now();
	fd = vfs_open(v, "/d/f", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0644);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(a.size, 0);
	assert_int_equal(a.blocks, 0);
	assert_int_equal(a.rdev, 0);
	assert_true(a.blksize > 0);
	assert_ts_new(a.mtime, t0);
	assert_int_equal(a.mtime.tv_sec, a.ctime.tv_sec);
	assert_int_equal(a.mtime.tv_nsec, a.ctime.tv_nsec);
	assert_int_equal(a.atime.tv_sec, a.ctime.tv_sec);
	assert_int_equal(a.atime.tv_nsec, a.ctime.tv_nsec);
	d = conf_lstat(v, "/d");
	assert_ts_new(d.mtime, t0);
	assert_ts_new(d.ctime, t0);
	assert_int_equal(d.mtime.tv_sec, d.ctime.tv_sec);
	assert_int_equal(d.mtime.tv_nsec, d.ctime.tv_nsec);
	/* fstat, stat and lstat agree. */
	conf_assert_attr_equal(conf_stat(v, "/d/f"), a);
	conf_assert_attr_equal(conf_lstat(v, "/d/f"), a);
	assert_int_equal(a.dev, d.dev);
	assert_int_not_equal(a.ino, d.ino);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_attrs_chmod(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_put(v, "/f", "x");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_chmod(v, "/f", 0600), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0600);
	assert_int_equal(vfs_chmod(v, "/f", 07777), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 07777);
	/* Type bits in the argument are ignored. */
	assert_int_equal(vfs_chmod(v, "/f", S_IFDIR | 0640), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0640);
	/* chmod follows the final symlink. */
	assert_int_equal(vfs_chmod(v, "/l", 0604), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0604);
	assert_int_equal(conf_lstat(v, "/l").mode, S_IFLNK | 0777);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fchmod(v, fd, 0400), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0400);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_chmod(v, "/missing", 0600), -ENOENT);
	conf_mkdir(v, "/d");
	assert_int_equal(vfs_chmod(v, "/d", 01777), 0);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 01777);
}

static void test_attrs_chown(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	int fd;

	conf_put(v, "/f", "x");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_chown(v, "/f", 1000, 2000), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 2000);
	assert_int_equal(vfs_chown(v, "/f", (uint32_t)-1, 3000), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 3000);
	assert_int_equal(vfs_chown(v, "/f", 4000, (uint32_t)-1), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.uid, 4000);
	assert_int_equal(a.gid, 3000);
	/* chown follows, lchown does not. */
	assert_int_equal(vfs_chown(v, "/l", 5, 6), 0);
	assert_int_equal(conf_lstat(v, "/f").uid, 5);
	assert_int_equal(conf_lstat(v, "/l").uid, (uint32_t)geteuid());
	assert_int_equal(vfs_lchown(v, "/l", 7, 8), 0);
	a = conf_lstat(v, "/l");
	assert_int_equal(a.uid, 7);
	assert_int_equal(a.gid, 8);
	assert_int_equal(conf_lstat(v, "/f").uid, 5);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fchown(v, fd, 9, 10), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.uid, 9);
	assert_int_equal(a.gid, 10);
	assert_int_equal(vfs_chown(v, "/missing", 1, 1), -ENOENT);
}

static void test_attrs_chown_clears_setuid_setgid(void **state)
{
	vfs *v = conf_vfs(state);

	/* Measured on tmpfs as root: chown of a regular file drops
	 * S_ISUID, and S_ISGID when group-executable; even (-1, -1). */
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_chmod(v, "/f", 06755), 0);
	assert_int_equal(vfs_chown(v, "/f", (uint32_t)-1, (uint32_t)-1), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0755);
	assert_int_equal(vfs_chmod(v, "/f", 06755), 0);
	assert_int_equal(vfs_chown(v, "/f", 1000, (uint32_t)-1), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0755);
	/* S_ISGID without group execute is kept. */
	assert_int_equal(vfs_chmod(v, "/f", 02745), 0);
	assert_int_equal(vfs_chown(v, "/f", 1000, 1000), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 02745);
	/* Directories keep both. */
	conf_mkdir(v, "/d");
	assert_int_equal(vfs_chmod(v, "/d", 06755), 0);
	assert_int_equal(vfs_chown(v, "/d", 1000, 1000), 0);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 06755);
}

static void test_attrs_setgid_directory_inheritance(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_mkdir(v, "/g");
	assert_int_equal(vfs_chown(v, "/g", 0, 1234), 0);
	assert_int_equal(vfs_chmod(v, "/g", 02775), 0);
	conf_put(v, "/g/file", "x");
	a = conf_lstat(v, "/g/file");
	assert_int_equal(a.gid, 1234);
	assert_int_equal(a.mode, S_IFREG | 0644);
	conf_mkdir(v, "/g/sub");
	a = conf_lstat(v, "/g/sub");
	assert_int_equal(a.gid, 1234);
	assert_int_equal(a.mode, S_IFDIR | 02755);
	/* And again one level down, through the inherited bit. */
	conf_put(v, "/g/sub/deeper", "y");
	assert_int_equal(conf_lstat(v, "/g/sub/deeper").gid, 1234);
	assert_int_equal(vfs_mknod(v, "/g/fifo", S_IFIFO | 0644, 0), 0);
	assert_int_equal(conf_lstat(v, "/g/fifo").gid, 1234);
	conf_symlink(v, "file", "/g/sl");
	assert_int_equal(conf_lstat(v, "/g/sl").gid, 1234);
	/* Without the bit, new entries take the creator's group. */
	conf_mkdir(v, "/plain");
	assert_int_equal(vfs_chown(v, "/plain", 0, 1234), 0);
	conf_put(v, "/plain/f", "z");
	assert_int_equal(conf_lstat(v, "/plain/f").gid, (uint32_t)getegid());
}

static void test_attrs_nonroot_write_clears_setuid(void **state)
{
	vfs *v = conf_vfs(state);
	uint32_t groups[1] = {50};
	vfs_cred user = {1000, 1000, 1, groups};
	vfs_cred root = {0, 0, 0, NULL};
	int fd;

	const char *names[] = {"/u1", "/u2", "/u3", "/u4", "/u5", "/u6", "/u7"};
	for (size_t i = 0; i < 7; i++) {
		conf_put(v, names[i], "data");
		assert_int_equal(vfs_chown(v, names[i], 1000, 1000), 0);
	}
	assert_int_equal(vfs_chmod(v, "/u1", 04755), 0);
	assert_int_equal(vfs_chmod(v, "/u2", 06755), 0);
	assert_int_equal(vfs_chown(v, "/u3", 1000, 50), 0);
	assert_int_equal(vfs_chmod(v, "/u3", 02644), 0);
	assert_int_equal(vfs_chmod(v, "/u4", 02644), 0);
	assert_int_equal(vfs_chmod(v, "/u5", 04755), 0);
	assert_int_equal(vfs_chmod(v, "/u6", 06755), 0);
	assert_int_equal(vfs_chmod(v, "/u7", 06755), 0);
	/* A root writer keeps the bits. */
	fd = vfs_open(v, "/u7", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u7").mode, S_IFREG | 06755);
	assert_int_equal(vfs_cred_set(v, &user), 0);
	fd = vfs_open(v, "/u1", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u1").mode, S_IFREG | 0755);
	fd = vfs_open(v, "/u2", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 2), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u2").mode, S_IFREG | 0755);
	/* S_ISGID without group execute stays for a writer in the group. */
	fd = vfs_open(v, "/u3", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u3").mode, S_IFREG | 02644);
	fd = vfs_open(v, "/u4", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u4").mode, S_IFREG | 02644);
	/* truncate and ftruncate clear them too. */
	assert_int_equal(vfs_truncate(v, "/u5", 1), 0);
	assert_int_equal(conf_lstat(v, "/u5").mode, S_IFREG | 0755);
	fd = vfs_open(v, "/u6", O_WRONLY, 0);
	assert_true(fd >= 0);
	/* An empty write changes nothing. */
	assert_int_equal(vfs_write(v, fd, "", 0), 0);
	assert_int_equal(conf_lstat(v, "/u6").mode, S_IFREG | 06755);
	assert_int_equal(vfs_ftruncate(v, fd, 4), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/u6").mode, S_IFREG | 0755);
	assert_int_equal(vfs_cred_set(v, &root), 0);
}

static void test_attrs_utimens(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec ts[2] = {{1000, 500}, {2000, 600}}, t0;
	vfs_attr a;

	conf_put(v, "/f", "x");
	t0 = conf_now();
	assert_int_equal(vfs_utimens(v, "/f", ts, 0), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.atime.tv_sec, 1000);
	assert_int_equal(a.atime.tv_nsec, 500);
	assert_int_equal(a.mtime.tv_sec, 2000);
	assert_int_equal(a.mtime.tv_nsec, 600);
	assert_ts_new(a.ctime, t0);
	/* OMIT leaves a time, NOW sets it; tv_sec is ignored with both. */
	struct timespec omit_now[2] = {{5, VFS_UTIME_OMIT}, {7, VFS_UTIME_NOW}};
	t0 = conf_now();
	assert_int_equal(vfs_utimens(v, "/f", omit_now, 0), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.atime.tv_sec, 1000);
	assert_int_equal(a.atime.tv_nsec, 500);
	assert_ts_new(a.mtime, t0);
	struct timespec set_omit[2] = {{3000, 0}, {9, VFS_UTIME_OMIT}};
	vfs_attr before = conf_lstat(v, "/f");
	assert_int_equal(vfs_utimens(v, "/f", set_omit, 0), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.atime.tv_sec, 3000);
	assert_int_equal(a.mtime.tv_sec, before.mtime.tv_sec);
	assert_int_equal(a.mtime.tv_nsec, before.mtime.tv_nsec);
	/* NULL: both now. */
	conf_age(v, "/f");
	t0 = conf_now();
	assert_int_equal(vfs_utimens(v, "/f", NULL, 0), 0);
	a = conf_lstat(v, "/f");
	assert_ts_new(a.atime, t0);
	assert_ts_new(a.mtime, t0);
	/* Times before 1970 and after 2038. */
	struct timespec wide[2] = {{-86400, 1}, {(time_t)1 << 33, 999999999}};
	assert_int_equal(vfs_utimens(v, "/f", wide, 0), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.atime.tv_sec, -86400);
	assert_int_equal(a.atime.tv_nsec, 1);
	assert_int_equal(a.mtime.tv_sec, (time_t)1 << 33);
	assert_int_equal(a.mtime.tv_nsec, 999999999);
}

static void test_attrs_utimens_both_omit_changes_nothing(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec omit[2] = {{0, VFS_UTIME_OMIT}, {0, VFS_UTIME_OMIT}};
	vfs_attr a, b;

	conf_put(v, "/f", "x");
	conf_age(v, "/f");
	a = conf_lstat(v, "/f");
	conf_sleep_ms(20);
	assert_int_equal(vfs_utimens(v, "/f", omit, 0), 0);
	b = conf_lstat(v, "/f");
	conf_assert_attr_equal(a, b);
}

static void test_attrs_utimens_nofollow_on_symlink(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec ts[2] = {{111, 1}, {222, 2}};
	vfs_attr a;

	conf_put(v, "/f", "x");
	conf_symlink(v, "f", "/l");
	conf_age(v, "/f");
	assert_int_equal(vfs_utimens(v, "/l", ts, VFS_NOFOLLOW), 0);
	a = conf_lstat(v, "/l");
	assert_int_equal(a.atime.tv_sec, 111);
	assert_int_equal(a.mtime.tv_sec, 222);
	assert_int_equal(a.mtime.tv_nsec, 2);
	a = conf_lstat(v, "/f");
	assert_ts_old(a.atime);
	assert_ts_old(a.mtime);
	/* Without the flag the target changes. */
	assert_int_equal(vfs_utimens(v, "/l", ts, 0), 0);
	a = conf_lstat(v, "/f");
	assert_int_equal(a.mtime.tv_sec, 222);
	/* Dangling link: only NOFOLLOW works. */
	conf_symlink(v, "nowhere", "/dl");
	assert_int_equal(vfs_utimens(v, "/dl", ts, 0), -ENOENT);
	assert_int_equal(vfs_utimens(v, "/dl", ts, VFS_NOFOLLOW), 0);
	assert_int_equal(conf_lstat(v, "/dl").atime.tv_sec, 111);
}

static void test_attrs_utimens_errors(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec bad1[2] = {{1, 1000000000}, {1, 0}};
	struct timespec bad2[2] = {{1, 0}, {1, -1}};
	struct timespec bad3[2] = {{1, 0}, {1, VFS_UTIME_NOW + 1}};
	struct timespec ok[2] = {{1, 0}, {1, 0}};
	vfs_attr a, b;
	int fd;

	conf_put(v, "/f", "x");
	a = conf_lstat(v, "/f");
	assert_int_equal(vfs_utimens(v, "/f", bad1, 0), -EINVAL);
	assert_int_equal(vfs_utimens(v, "/f", bad2, 0), -EINVAL);
	assert_int_equal(vfs_utimens(v, "/f", bad3, 0), -EINVAL);
	assert_int_equal(vfs_utimens(v, "/f", ok, 0x1), -EINVAL);
	assert_int_equal(vfs_utimens(v, "/f", ok, VFS_NOFOLLOW | 0x4000),
	                 -EINVAL);
	assert_int_equal(vfs_utimens(v, "/missing", ok, 0), -ENOENT);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_futimens(v, fd, bad1), -EINVAL);
	b = conf_lstat(v, "/f");
	conf_assert_attr_equal(a, b);
	assert_int_equal(vfs_futimens(v, fd, ok), 0);
	b = conf_lstat(v, "/f");
	assert_int_equal(b.atime.tv_sec, 1);
	assert_int_equal(b.mtime.tv_sec, 1);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_attrs_statfs(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_statvfs s;

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_statfs(v, "/", &s), 0);
	assert_int_equal(s.namemax, 255);
	assert_int_equal(s.flags & VFS_MOUNT_RDONLY, 0);
	assert_true(s.bsize > 0);
	assert_true(s.bfree <= s.blocks);
	assert_true(s.bavail <= s.blocks);
	assert_true(s.ffree <= s.files);
	assert_int_equal(vfs_statfs(v, "/f", &s), 0);
	assert_int_equal(s.namemax, 255);
	assert_int_equal(vfs_statfs(v, "/missing", &s), -ENOENT);
}

/* ---- timestamps ------------------------------------------------------- */

static void test_attrs_write_updates_mtime_ctime(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0;
	vfs_attr a;
	char buf[4];
	int fd;

	conf_put(v, "/f", "hello");
	conf_age(v, "/f");
	a = conf_lstat(v, "/f");
	conf_sleep_ms(20);
	fd = vfs_open(v, "/f", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_read(v, fd, buf, 4), 4);
	vfs_attr r = conf_lstat(v, "/f");
	assert_ts_old(r.mtime);
	assert_int_equal(r.ctime.tv_sec, a.ctime.tv_sec);
	assert_int_equal(r.ctime.tv_nsec, a.ctime.tv_nsec);
	t0 = conf_now();
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	a = conf_lstat(v, "/f");
	assert_ts_new(a.mtime, t0);
	assert_ts_new(a.ctime, t0);
	conf_age(v, "/f");
	t0 = conf_now();
	assert_int_equal(vfs_pwrite(v, fd, "y", 1, 0), 1);
	a = conf_lstat(v, "/f");
	assert_ts_new(a.mtime, t0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_attrs_chmod_chown_update_ctime_only(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0;
	vfs_attr a;

	conf_put(v, "/f", "x");
	conf_age(v, "/f");
	conf_sleep_ms(20);
	t0 = conf_now();
	assert_int_equal(vfs_chmod(v, "/f", 0600), 0);
	a = conf_lstat(v, "/f");
	assert_ts_old(a.mtime);
	assert_ts_old(a.atime);
	assert_ts_new(a.ctime, t0);
	conf_age(v, "/f");
	conf_sleep_ms(20);
	t0 = conf_now();
	assert_int_equal(vfs_chown(v, "/f", 1, 1), 0);
	a = conf_lstat(v, "/f");
	assert_ts_old(a.mtime);
	assert_ts_new(a.ctime, t0);
}

static void test_attrs_truncate_updates_mtime_ctime(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0;
	vfs_attr a;
	int fd;

	conf_put(v, "/f", "hello");
	conf_age(v, "/f");
	t0 = conf_now();
	assert_int_equal(vfs_truncate(v, "/f", 2), 0);
	a = conf_lstat(v, "/f");
	assert_ts_new(a.mtime, t0);
	assert_ts_new(a.ctime, t0);
	/* O_TRUNC updates them even on an empty file (tmpfs and ext4). */
	assert_int_equal(vfs_truncate(v, "/f", 0), 0);
	conf_age(v, "/f");
	t0 = conf_now();
	fd = vfs_open(v, "/f", O_WRONLY | O_TRUNC, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	a = conf_lstat(v, "/f");
	assert_ts_new(a.mtime, t0);
	/* Opening for writing without writing changes nothing. */
	conf_age(v, "/f");
	fd = vfs_open(v, "/f", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	a = conf_lstat(v, "/f");
	assert_ts_old(a.mtime);
}

/* Age path, truncate it to size (through a descriptor with by_fd) and
 * say whether that stamped mtime and ctime (always both or neither). */
static bool truncate_stamps(vfs *v, const char *path, bool by_fd, int64_t size)
{
	int fd = by_fd ? vfs_open(v, path, O_WRONLY, 0) : -1;
	struct timespec c0;
	vfs_attr a;
	bool mtime_new, ctime_new;

	assert_true(fd >= 0 || !by_fd);
	conf_age(v, path);
	c0 = conf_lstat(v, path).ctime;
	conf_sleep_ms(10);
	assert_int_equal(by_fd ? vfs_ftruncate(v, fd, size)
	                       : vfs_truncate(v, path, size),
	                 0);
	if (by_fd)
		assert_int_equal(vfs_close(v, fd), 0);
	a = conf_lstat(v, path);
	assert_int_equal(a.size, size);
	mtime_new = a.mtime.tv_sec != CONF_OLD_SEC || a.mtime.tv_nsec != 0;
	ctime_new =
	        a.ctime.tv_sec != c0.tv_sec || a.ctime.tv_nsec != c0.tv_nsec;
	assert_int_equal(mtime_new, ctime_new);
	return mtime_new;
}

/* truncate(2) to the size a file already has stamps mtime and ctime on
 * tmpfs only when there are data pages to trim; an empty or all-hole file
 * keeps both. ftruncate(2) always stamps them. */
static void test_attrs_truncate_same_size_times(void **state)
{
	vfs *v = conf_vfs(state);
	char zeros[100] = {0};
	int fd;

	conf_put(v, "/data", "hello");
	conf_put(v, "/empty", "");
	conf_put(v, "/holes", "");
	assert_int_equal(vfs_truncate(v, "/holes", 8192), 0);
	assert_true(truncate_stamps(v, "/data", false, 5));
	assert_false(truncate_stamps(v, "/empty", false, 0));
	assert_false(truncate_stamps(v, "/holes", false, 8192));
	assert_true(truncate_stamps(v, "/empty", true, 0));
	assert_true(truncate_stamps(v, "/holes", true, 8192));
	/* A cut below the only data page leaves no data to trim; a cut
	 * inside a data page keeps that page. */
	fd = vfs_open(v, "/p", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 8192), 1);
	assert_int_equal(vfs_pwrite(v, fd, "y", 1, 20000), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_true(truncate_stamps(v, "/p", false, 4096));
	assert_false(truncate_stamps(v, "/p", false, 4096));
	fd = vfs_open(v, "/q", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "z", 1, 200), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_true(truncate_stamps(v, "/q", false, 100));
	assert_true(truncate_stamps(v, "/q", false, 100));
	conf_expect(v, "/q", zeros, sizeof zeros);
	assert_true(truncate_stamps(v, "/q", false, 300));
	conf_expect_str(v, "/data", "hello");
}

static void test_attrs_create_and_remove_update_parent(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0;
	vfs_attr a;

	conf_mkdir(v, "/d");
	const char *ops[] = {"mkdir", "create", "symlink", "mknod",
	                     "link",  "unlink", "rmdir"};
	conf_put(v, "/src", "x");
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		conf_age(v, "/d");
		conf_age(v, "/src");
		t0 = conf_now();
		switch (i) {
		case 0:
			conf_mkdir(v, "/d/sub");
			break;
		case 1:
			conf_put(v, "/d/f", "x");
			break;
		case 2:
			conf_symlink(v, "f", "/d/l");
			break;
		case 3:
			assert_int_equal(
			        vfs_mknod(v, "/d/p", S_IFIFO | 0644, 0), 0);
			break;
		case 4:
			assert_int_equal(vfs_link(v, "/src", "/d/h"), 0);
			a = conf_lstat(v, "/src");
			assert_ts_old(a.mtime);
			assert_ts_new(a.ctime, t0);
			break;
		case 5:
			assert_int_equal(vfs_unlink(v, "/d/h"), 0);
			a = conf_lstat(v, "/src");
			assert_ts_old(a.mtime);
			assert_ts_new(a.ctime, t0);
			break;
		case 6:
			assert_int_equal(vfs_rmdir(v, "/d/sub"), 0);
			break;
		}
		a = conf_lstat(v, "/d");
		if (!conf_ts_ge(a.mtime, t0) || !conf_ts_ge(a.ctime, t0)) {
			fail_msg("%s did not update the parent's mtime/ctime",
			         ops[i]);
		}
	}
	/* The new nodes carry fresh times too. */
	a = conf_lstat(v, "/d/l");
	assert_true(a.mtime.tv_sec > CONF_OLD_SEC);
}

static void test_attrs_rename_timestamps(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec t0;
	vfs_attr a;

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/e");
	conf_put(v, "/d/n", "x");
	conf_put(v, "/victim", "v");
	assert_int_equal(vfs_link(v, "/victim", "/e/v"), 0);
	conf_age(v, "/d");
	conf_age(v, "/e");
	conf_age(v, "/d/n");
	conf_age(v, "/victim");
	conf_sleep_ms(20);
	t0 = conf_now();
	assert_int_equal(vfs_rename(v, "/d/n", "/e/v", 0), 0);
	a = conf_lstat(v, "/d");
	assert_ts_new(a.mtime, t0);
	assert_ts_new(a.ctime, t0);
	a = conf_lstat(v, "/e");
	assert_ts_new(a.mtime, t0);
	assert_ts_new(a.ctime, t0);
	/* The moved node: ctime only. */
	a = conf_lstat(v, "/e/v");
	assert_ts_old(a.mtime);
	assert_ts_old(a.atime);
	assert_ts_new(a.ctime, t0);
	/* The replaced node lost a link: ctime. */
	a = conf_lstat(v, "/victim");
	assert_int_equal(a.nlink, 1);
	assert_ts_old(a.mtime);
	assert_ts_new(a.ctime, t0);
	/* A directory moved between parents: same rules. */
	conf_mkdir(v, "/d/sub");
	conf_age(v, "/d");
	conf_age(v, "/e");
	conf_age(v, "/d/sub");
	t0 = conf_now();
	assert_int_equal(vfs_rename(v, "/d/sub", "/e/sub", 0), 0);
	assert_ts_new(conf_lstat(v, "/d").mtime, t0);
	assert_ts_new(conf_lstat(v, "/e").mtime, t0);
	a = conf_lstat(v, "/e/sub");
	assert_ts_old(a.mtime);
	assert_ts_new(a.ctime, t0);
	/* A rename onto itself touches nothing. */
	conf_age(v, "/e");
	conf_age(v, "/e/v");
	assert_int_equal(vfs_rename(v, "/e/v", "/e/v", 0), 0);
	assert_ts_old(conf_lstat(v, "/e").mtime);
	assert_ts_old(conf_lstat(v, "/e/v").mtime);
}

static void test_attrs_opendir_readdir_keep_mtime(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a, b;

	conf_mkdir(v, "/d");
	conf_put(v, "/d/f", "x");
	conf_age(v, "/d");
	a = conf_lstat(v, "/d");
	conf_sleep_ms(20);
	char *ls = conf_ls(v, "/d");
	free(ls);
	b = conf_lstat(v, "/d");
	assert_ts_old(b.mtime);
	assert_int_equal(a.ctime.tv_sec, b.ctime.tv_sec);
	assert_int_equal(a.ctime.tv_nsec, b.ctime.tv_nsec);
}

int conf_run_attrs(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_attrs_new_file),
	        CONF_TEST(test_attrs_chmod),
	        CONF_TEST(test_attrs_chown),
	        CONF_TEST(test_attrs_chown_clears_setuid_setgid),
	        CONF_TEST(test_attrs_setgid_directory_inheritance),
	        CONF_TEST(test_attrs_nonroot_write_clears_setuid),
	        CONF_TEST(test_attrs_utimens),
	        CONF_TEST(test_attrs_utimens_both_omit_changes_nothing),
	        CONF_TEST(test_attrs_utimens_nofollow_on_symlink),
	        CONF_TEST(test_attrs_utimens_errors),
	        CONF_TEST(test_attrs_statfs),
	        CONF_TEST(test_attrs_write_updates_mtime_ctime),
	        CONF_TEST(test_attrs_chmod_chown_update_ctime_only),
	        CONF_TEST(test_attrs_truncate_updates_mtime_ctime),
	        CONF_TEST(test_attrs_truncate_same_size_times),
	        CONF_TEST(test_attrs_create_and_remove_update_parent),
	        CONF_TEST(test_attrs_rename_timestamps),
	        CONF_TEST(test_attrs_opendir_readdir_keep_mtime),
	};
	return CONF_RUN_GROUP("attrs", tests);
}
