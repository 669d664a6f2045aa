/*
 * File data: vfs_open() flags, descriptors, read/write/pread/pwrite,
 * lseek, truncation and holes, huge offsets, fsync, files that stay open
 * after unlink or rename, special files.
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int conf_open_ok(vfs *v, const char *path, int flags)
{
	int fd = vfs_open(v, path, flags, 0644);

	assert_true(fd >= 0);
	return fd;
}

static void test_files_creat_excl_trunc(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	assert_int_equal(vfs_open(v, "/f", O_RDONLY, 0), -ENOENT);
	fd = vfs_open(v, "/f", O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "hello", 5), 5);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0640);
	assert_int_equal(vfs_open(v, "/f", O_WRONLY | O_CREAT | O_EXCL, 0644),
	                 -EEXIST);
	/* O_CREAT on an existing file neither truncates nor changes mode. */
	fd = vfs_open(v, "/f", O_RDWR | O_CREAT, 0777);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0640);
	conf_expect_str(v, "/f", "hello");
	/* O_TRUNC truncates, even with O_RDONLY as on Linux. */
	fd = conf_open_ok(v, "/f", O_RDONLY | O_TRUNC);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "");
	conf_put(v, "/f", "again");
	fd = conf_open_ok(v, "/f", O_WRONLY | O_TRUNC);
	assert_int_equal(vfs_write(v, fd, "ab", 2), 2);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "ab");
	/* O_EXCL applies to directories and symlinks too. */
	conf_mkdir(v, "/d");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_open(v, "/d", O_RDONLY | O_CREAT | O_EXCL, 0644),
	                 -EEXIST);
	assert_int_equal(vfs_open(v, "/l", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -EEXIST);
	conf_expect_str(v, "/f", "ab");
}

static void test_files_open_bad_access_mode_einval(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_open(v, "/f", O_ACCMODE, 0), -EINVAL);
	assert_int_equal(vfs_open(v, "/new", O_ACCMODE | O_CREAT, 0644),
	                 -EINVAL);
	assert_int_equal(vfs_lstat(v, "/new", &(vfs_attr){0}), -ENOENT);
}

/* Linux 6.4 and later: O_CREAT | O_DIRECTORY is EINVAL before any
 * lookup, whatever the path names, and nothing is created. */
static void test_files_open_creat_directory_einval(void **state)
{
	static const struct {
		const char *path;
		int flags;
	} cases[] = {
	        {"/new", O_RDWR},       {"/new", O_WRONLY | O_EXCL},
	        {"/d", O_RDONLY},       {"/f", O_WRONLY | O_EXCL},
	        {"/nodir/x", O_RDONLY}, {".", O_RDONLY},
	};
	static const char *names[] = {"new", "d"};
	vfs *v = conf_vfs(state);
	vfs_node *root = NULL, *n = NULL;
	vfs_cred cred = {0, 0, 0, NULL};
	vfs_attr a;

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(
		        vfs_open(v, cases[i].path,
		                 cases[i].flags | O_CREAT | O_DIRECTORY, 0644),
		        -EINVAL);
	assert_int_equal(vfs_node_root(v, &root), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_int_equal(vfs_node_create(v, &cred, root, names[i],
		                                 O_RDWR | O_DIRECTORY, 0644, &n,
		                                 &a),
		                 -EINVAL);
	vfs_node_put(v, root, 1);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\n");
	free(ls);
	conf_expect_str(v, "/f", "x");
}

static void test_files_open_directory_flags(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;
	char buf[4];

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_open(v, "/d", O_WRONLY, 0), -EISDIR);
	assert_int_equal(vfs_open(v, "/d", O_RDWR, 0), -EISDIR);
	assert_int_equal(vfs_open(v, "/d", O_RDONLY | O_CREAT, 0644), -EISDIR);
	assert_int_equal(vfs_open(v, "/d", O_RDONLY | O_TRUNC, 0), -EISDIR);
	assert_int_equal(vfs_open(v, "/f", O_RDONLY | O_DIRECTORY, 0),
	                 -ENOTDIR);
	assert_int_equal(vfs_truncate(v, "/d", 0), -EISDIR);
	fd = conf_open_ok(v, "/d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), -EISDIR);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, 0), -EISDIR);
	assert_int_equal(vfs_write(v, fd, "x", 1), -EBADF);
	assert_int_equal(vfs_ftruncate(v, fd, 0), -EINVAL);
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_open_mode_bits_and_ignored_flags(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	/* Type bits in the mode are ignored; setuid is kept for root. */
	fd = vfs_open(v, "/t", O_WRONLY | O_CREAT, S_IFDIR | 0640);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/t").mode, S_IFREG | 0640);
	fd = vfs_open(v, "/s", O_WRONLY | O_CREAT, 04755);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/s").mode, S_IFREG | 04755);
	/* Flags outside the supported set are ignored. */
	fd = vfs_open(v, "/n",
	              O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOATIME |
	                      O_SYNC,
	              0600);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "ok", 2), 2);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/n", "ok");
	/* O_CREAT|O_TRUNC on a new file, and O_TRUNC|O_APPEND. */
	fd = vfs_open(v, "/ct", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "abc", 3), 3);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_open(v, "/ct", O_WRONLY | O_TRUNC | O_APPEND, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "d", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/ct", "d");
	/* SEEK_DATA and SEEK_HOLE as on Linux: the
	 * end of file is a hole, and past it both give ENXIO. */
	fd = vfs_open(v, "/ct", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_DATA), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_HOLE), 1);
	assert_int_equal(vfs_lseek(v, fd, 1, SEEK_DATA), -ENXIO);
	assert_int_equal(vfs_lseek(v, fd, 5, SEEK_HOLE), -ENXIO);
	assert_int_equal(vfs_lseek(v, fd, -1, SEEK_DATA), -ENXIO);
	assert_int_equal(vfs_lseek(v, fd, 0, 5), -EINVAL);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_nofollow(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_put(v, "/f", "target");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_open(v, "/l", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	assert_int_equal(vfs_open(v, "/l", O_WRONLY | O_NOFOLLOW | O_TRUNC, 0),
	                 -ELOOP);
	conf_expect_str(v, "/f", "target");
	fd = conf_open_ok(v, "/f", O_RDONLY | O_NOFOLLOW);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = conf_open_ok(v, "/l", O_RDONLY);
	char buf[16];
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 6);
	assert_memory_equal(buf, "target", 6);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_close_and_bad_descriptors(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[4];
	int fd, fd2;

	fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);
	fd2 = conf_open_ok(v, "/f", O_RDWR);
	assert_int_not_equal(fd, fd2);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), -EBADF);
	assert_int_equal(vfs_read(v, fd, buf, 1), -EBADF);
	assert_int_equal(vfs_write(v, fd, buf, 1), -EBADF);
	assert_int_equal(vfs_pread(v, fd, buf, 1, 0), -EBADF);
	assert_int_equal(vfs_pwrite(v, fd, buf, 1, 0), -EBADF);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_SET), -EBADF);
	assert_int_equal(vfs_fstat(v, fd, &a), -EBADF);
	assert_int_equal(vfs_ftruncate(v, fd, 0), -EBADF);
	assert_int_equal(vfs_fsync(v, fd), -EBADF);
	assert_int_equal(vfs_fdatasync(v, fd), -EBADF);
	assert_int_equal(vfs_fchmod(v, fd, 0600), -EBADF);
	assert_int_equal(vfs_fchown(v, fd, 1, 1), -EBADF);
	assert_int_equal(vfs_futimens(v, fd, NULL), -EBADF);
	assert_int_equal(vfs_close(v, -1), -EBADF);
	assert_int_equal(vfs_close(v, 1 << 30), -EBADF);
	assert_int_equal(vfs_read(v, -5, buf, 1), -EBADF);
	/* The other descriptor is unaffected. */
	assert_int_equal(vfs_write(v, fd2, "ok", 2), 2);
	assert_int_equal(vfs_close(v, fd2), 0);
	conf_expect_str(v, "/f", "ok");
}

static void test_files_max_handles_emfile(void **state)
{
	vfs_options o;
	vfs *v;
	int fds[4];

	memset(&o, 0, sizeof o);
	o.version = VFS_OPTIONS_VERSION;
	o.max_handles = 4;
	v = conf_reopen(state, &o);
	conf_put(v, "/f", "x");
	for (int i = 0; i < 4; i++) {
		fds[i] = conf_open_ok(v, "/f", O_RDONLY);
	}
	assert_int_equal(vfs_open(v, "/f", O_RDONLY, 0), -EMFILE);
	assert_int_equal(vfs_opendir(v, "/"), -EMFILE);
	assert_int_equal(vfs_open(v, "/new", O_WRONLY | O_CREAT, 0644),
	                 -EMFILE);
	assert_int_equal(vfs_lstat(v, "/new", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_close(v, fds[2]), 0);
	fds[2] = conf_open_ok(v, "/f", O_RDONLY);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vfs_close(v, fds[i]), 0);
	}
}

static void test_files_read_write_position(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[32];
	int fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);

	assert_int_equal(vfs_write(v, fd, "hello ", 6), 6);
	assert_int_equal(vfs_write(v, fd, "world", 5), 5);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 11);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_SET), 0);
	assert_int_equal(vfs_read(v, fd, buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 6);
	assert_memory_equal(buf, " world", 6);
	assert_int_equal(vfs_read(v, fd, buf, 0), 0);
	assert_int_equal(vfs_write(v, fd, buf, 0), 0);
	assert_int_equal(vfs_lseek(v, fd, 6, SEEK_SET), 6);
	assert_int_equal(vfs_write(v, fd, "W", 1), 1);
	/* pread/pwrite leave the position alone. */
	assert_int_equal(vfs_pwrite(v, fd, "H", 1, 0), 1);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 7);
	assert_int_equal(vfs_pread(v, fd, buf, 4, 7), 4);
	assert_memory_equal(buf, "orld", 4);
	assert_int_equal(vfs_pread(v, fd, buf, 4, 9), 2);
	assert_int_equal(vfs_pread(v, fd, buf, 4, 11), 0);
	assert_int_equal(vfs_pread(v, fd, buf, 4, 1000), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 7);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "Hello World");
}

static void test_files_two_descriptors_share_data(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[8];
	int a = conf_open_ok(v, "/f", O_RDWR | O_CREAT);
	int b = conf_open_ok(v, "/f", O_RDWR);

	assert_int_equal(vfs_write(v, a, "abc", 3), 3);
	assert_int_equal(vfs_lseek(v, b, 0, SEEK_CUR), 0);
	assert_int_equal(vfs_read(v, b, buf, sizeof buf), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(vfs_write(v, b, "de", 2), 2);
	assert_int_equal(vfs_pread(v, a, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "abcde", 5);
	assert_int_equal(vfs_close(v, a), 0);
	assert_int_equal(vfs_close(v, b), 0);
}

static void test_files_wrong_direction_ebadf(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[4];
	int fd;

	conf_put(v, "/f", "data");
	fd = conf_open_ok(v, "/f", O_RDONLY);
	assert_int_equal(vfs_write(v, fd, "x", 1), -EBADF);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 0), -EBADF);
	assert_int_equal(vfs_ftruncate(v, fd, 0), -EINVAL);
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_fdatasync(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = conf_open_ok(v, "/f", O_WRONLY);
	assert_int_equal(vfs_read(v, fd, buf, 1), -EBADF);
	assert_int_equal(vfs_pread(v, fd, buf, 1, 0), -EBADF);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "data");
}

static void test_files_append(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];
	int fd;

	conf_put(v, "/f", "abc");
	fd = conf_open_ok(v, "/f", O_RDWR | O_APPEND);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 0);
	assert_int_equal(vfs_write(v, fd, "de", 2), 2);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 5);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_SET), 0);
	assert_int_equal(vfs_write(v, fd, "f", 1), 1);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 6);
	/* pwrite on O_APPEND appends and leaves the position. */
	assert_int_equal(vfs_lseek(v, fd, 1, SEEK_SET), 1);
	assert_int_equal(vfs_pwrite(v, fd, "GH", 2, 0), 2);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 1);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 7);
	assert_memory_equal(buf, "bcdefGH", 7);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "abcdefGH");
	/* Another descriptor's writes move the end an appender uses. */
	int a = conf_open_ok(v, "/f", O_WRONLY | O_APPEND);
	int b = conf_open_ok(v, "/f", O_WRONLY);
	assert_int_equal(vfs_pwrite(v, b, "0123456789", 10, 0), 10);
	assert_int_equal(vfs_write(v, a, "!", 1), 1);
	assert_int_equal(vfs_close(v, a), 0);
	assert_int_equal(vfs_close(v, b), 0);
	conf_expect_str(v, "/f", "0123456789!");
}

static void test_files_lseek(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];
	int fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);

	assert_int_equal(vfs_write(v, fd, "0123456789", 10), 10);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_END), 10);
	assert_int_equal(vfs_lseek(v, fd, -3, SEEK_END), 7);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 3);
	assert_memory_equal(buf, "789", 3);
	assert_int_equal(vfs_lseek(v, fd, -2, SEEK_CUR), 8);
	assert_int_equal(vfs_lseek(v, fd, -11, SEEK_END), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, -9, SEEK_CUR), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, -1, SEEK_SET), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, 0, 7), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, 0, -1), -EINVAL);
	/* Failed seeks leave the position. */
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 8);
	assert_int_equal(vfs_lseek(v, fd, INT64_MAX, SEEK_CUR), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, INT64_MAX, SEEK_END), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 8);
	/* Beyond the end: reads give 0, writes leave a hole of zeros. */
	assert_int_equal(vfs_lseek(v, fd, 5, SEEK_END), 15);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect(v, "/f", "0123456789\0\0\0\0\0x", 16);
}

static void test_files_size_limit_offsets(void **state)
{
	vfs *v = conf_vfs(state);
	const int64_t max = VFS_FILE_SIZE_MAX;
	vfs_attr a;
	char buf[16];
	int fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);

	/* As a Linux filesystem whose s_maxbytes is VFS_FILE_SIZE_MAX. */
	assert_int_equal(vfs_lseek(v, fd, max, SEEK_SET), max);
	assert_int_equal(vfs_write(v, fd, "x", 1), -EFBIG);
	assert_int_equal(vfs_lseek(v, fd, max + 1, SEEK_SET), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, INT64_MAX, SEEK_SET), -EINVAL);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, max), -EFBIG);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, max + 100), -EFBIG);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 0);
	/* A write that crosses the limit is cut short there. */
	assert_int_equal(vfs_pwrite(v, fd, "0123456789", 10, max - 5), 5);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, max);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, max - 7), 7);
	assert_memory_equal(buf,
	                    "\0\0"
	                    "01234",
	                    7);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, max), 0);
	assert_int_equal(vfs_pread(v, fd, buf, 4, 1 << 20), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(vfs_close(v, fd), 0);
	/* O_APPEND at and across the limit follows the same rule. */
	fd = conf_open_ok(v, "/f", O_WRONLY | O_APPEND);
	assert_int_equal(vfs_write(v, fd, "x", 1), -EFBIG);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 0), -EFBIG);
	assert_int_equal(vfs_ftruncate(v, fd, max - 2), 0);
	assert_int_equal(vfs_write(v, fd, "abcd", 4), 2);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, max);
	assert_int_equal(vfs_close(v, fd), 0);
}

/* Linux checks a negative pread/pwrite offset before the descriptor
 * (ksys_pread64), so EINVAL wins over EBADF and EISDIR; offset + count
 * overflowing comes before a directory's EISDIR too. */
static void test_files_negative_offset_einval_first(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_cred cred = {0, 0, 0, NULL};
	char buf[16];
	int ro, wo, dir;

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "abc");
	ro = conf_open_ok(v, "/f", O_RDONLY);
	wo = conf_open_ok(v, "/f", O_WRONLY);
	dir = conf_open_ok(v, "/d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(vfs_pread(v, 4321, buf, 1, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, 4321, buf, 1, 0), -EBADF);
	assert_int_equal(vfs_pwrite(v, -1, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_pwrite(v, -1, "x", 1, 0), -EBADF);
	assert_int_equal(vfs_pwrite_as(v, &cred, 4321, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, wo, buf, 1, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, wo, buf, 0, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, wo, buf, 1, 0), -EBADF);
	assert_int_equal(vfs_pwrite(v, ro, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_pwrite(v, ro, "x", 0, INT64_MIN), -EINVAL);
	assert_int_equal(vfs_pwrite(v, ro, "x", 1, 0), -EBADF);
	assert_int_equal(vfs_pread(v, dir, buf, 1, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, dir, buf, 1, INT64_MAX), -EINVAL);
	assert_int_equal(vfs_pread(v, dir, buf, 1, 1), -EISDIR);
	assert_int_equal(vfs_pwrite(v, dir, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_pwrite(v, dir, "x", 1, 0), -EBADF);
	assert_int_equal(vfs_close(v, ro), 0);
	assert_int_equal(vfs_close(v, wo), 0);
	assert_int_equal(vfs_close(v, dir), 0);
	conf_expect_str(v, "/f", "abc");
}

static void test_files_bad_offsets_einval(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];
	int fd;

	conf_put(v, "/f", "abc");
	fd = conf_open_ok(v, "/f", O_RDWR);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_pread(v, fd, buf, 1, -1), -EINVAL);
	assert_int_equal(vfs_pwrite(v, fd, "0123456789", 10, INT64_MAX - 5),
	                 -EINVAL);
	assert_int_equal(vfs_pread(v, fd, buf, 4, INT64_MAX - 2), -EINVAL);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, INT64_MIN), -EINVAL);
	/* Counts above INT64_MAX: refused before the buffer is touched. */
	assert_int_equal(vfs_read(v, fd, buf, (size_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(vfs_write(v, fd, buf, (size_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(vfs_pread(v, fd, buf, SIZE_MAX, 0), -EINVAL);
	assert_int_equal(vfs_pwrite(v, fd, buf, SIZE_MAX, 0), -EINVAL);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "abc");
}

static void test_files_truncate_holes_read_zeros(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];
	int fd;

	conf_put(v, "/f", "abcdef");
	assert_int_equal(vfs_truncate(v, "/f", 2), 0);
	conf_expect_str(v, "/f", "ab");
	/* Bytes cut off earlier come back as zeros, not as old data. */
	assert_int_equal(vfs_truncate(v, "/f", 6), 0);
	conf_expect(v, "/f", "ab\0\0\0\0", 6);
	fd = conf_open_ok(v, "/f", O_RDWR);
	assert_int_equal(vfs_lseek(v, fd, 4, SEEK_SET), 4);
	assert_int_equal(vfs_ftruncate(v, fd, 1), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 4);
	assert_int_equal(vfs_write(v, fd, "Z", 1), 1);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "a\0\0\0Z", 5);
	assert_int_equal(vfs_ftruncate(v, fd, -1), -EINVAL);
	assert_int_equal(vfs_truncate(v, "/f", -1), -EINVAL);
	assert_int_equal(vfs_ftruncate(v, fd, VFS_FILE_SIZE_MAX + 1), -EFBIG);
	assert_int_equal(vfs_truncate(v, "/f", INT64_MAX), -EFBIG);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect(v, "/f", "a\0\0\0Z", 5);
	/* A large hole in the middle of a page-crossing file. */
	conf_put(v, "/g", "start");
	assert_int_equal(vfs_truncate(v, "/g", 100000), 0);
	fd = conf_open_ok(v, "/g", O_RDWR);
	assert_int_equal(vfs_pwrite(v, fd, "end", 3, 100000), 3);
	char *big = malloc(100003);
	assert_non_null(big);
	assert_int_equal(vfs_pread(v, fd, big, 100003, 0), 100003);
	assert_memory_equal(big, "start", 5);
	for (size_t i = 5; i < 100000; i++) {
		if (big[i] != 0) {
			fail_msg("byte %zu of the hole is %d", i, big[i]);
		}
	}
	assert_memory_equal(big + 100000, "end", 3);
	free(big);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_truncate(v, "/missing", 0), -ENOENT);
	/* truncate follows a symlink. */
	conf_symlink(v, "g", "/lg");
	assert_int_equal(vfs_truncate(v, "/lg", 2), 0);
	conf_expect_str(v, "/g", "st");
}

static void test_files_truncate_to_max_is_sparse(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[8];
	int fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);

	assert_int_equal(vfs_ftruncate(v, fd, VFS_FILE_SIZE_MAX), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, VFS_FILE_SIZE_MAX);
	assert_true(a.blocks < 64);
	assert_int_equal(vfs_pread(v, fd, buf, 8, VFS_FILE_SIZE_MAX - 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_END), VFS_FILE_SIZE_MAX);
	assert_int_equal(vfs_ftruncate(v, fd, 0), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_pwrite_at_2_40_sparse(void **state)
{
	vfs *v = conf_vfs(state);
	const int64_t off = (int64_t)1 << 40;
	vfs_attr a;
	char buf[8];
	int fd = conf_open_ok(v, "/f", O_RDWR | O_CREAT);

	assert_int_equal(vfs_pwrite(v, fd, "x", 1, off), 1);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, off + 1);
	/* Allocated space stays small: at most 1 MiB for one byte. */
	assert_true(a.blocks * 512 <= (1 << 20));
	assert_int_equal(vfs_pread(v, fd, buf, 8, off - 3), 4);
	assert_memory_equal(buf, "\0\0\0x", 4);
	assert_int_equal(vfs_pread(v, fd, buf, 8, 12345678), 8);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_large_file_roundtrip(void **state)
{
	vfs *v = conf_vfs(state);
	const size_t n = 3 * 1024 * 1024 + 17;
	unsigned char *data = malloc(n), *back = malloc(n);
	vfs_attr a;
	int fd;

	assert_non_null(data);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++) {
		data[i] = (unsigned char)((i * 7919u) >> 3);
	}
	fd = conf_open_ok(v, "/big", O_RDWR | O_CREAT);
	/* Unaligned pieces across block boundaries. */
	size_t off = 0, step = 1;
	while (off < n) {
		size_t len = step < n - off ? step : n - off;
		assert_int_equal(vfs_write(v, fd, data + off, len),
		                 (int64_t)len);
		off += len;
		step = step * 3 + 1;
	}
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_fdatasync(v, fd), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, (int64_t)n);
	assert_true(a.blocks * 512 >= (int64_t)n);
	assert_true(a.blksize > 0);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = conf_open_ok(v, "/big", O_RDONLY);
	assert_int_equal(vfs_read(v, fd, back, n), (int64_t)n);
	assert_memory_equal(back, data, n);
	assert_int_equal(vfs_pread(v, fd, back, 10, 4095), 10);
	assert_memory_equal(back, data + 4095, 10);
	assert_int_equal(vfs_close(v, fd), 0);
	free(data);
	free(back);
}

/* A small deterministic generator, so that failures reproduce. */
static uint64_t conf_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random pwrite/ftruncate/write sequences mirrored in a plain buffer: every
 * store must end up byte-for-byte equal to the model, which catches block
 * boundary, partial-block and truncate-then-extend mistakes.
 */
static void test_files_random_io_matches_model(void **state)
{
	vfs *v = conf_vfs(state);
	const size_t cap = 300000;
	unsigned char *model = calloc(cap, 1), *back = malloc(cap + 1);
	unsigned char piece[9000];
	size_t size = 0;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	vfs_attr a;
	int fd;

	assert_non_null(model);
	assert_non_null(back);
	fd = conf_open_ok(v, "/model", O_RDWR | O_CREAT);
	for (int op = 0; op < 400; op++) {
		uint64_t r = conf_rand(&seed);
		if (r % 5 == 0) {
			size_t ns = (size_t)(conf_rand(&seed) % cap);
			assert_int_equal(vfs_ftruncate(v, fd, (int64_t)ns), 0);
			if (ns > size) {
				memset(model + size, 0, ns - size);
			}
			size = ns;
		} else {
			size_t len =
			        1 + (size_t)(conf_rand(&seed) % sizeof piece);
			size_t off = (size_t)(conf_rand(&seed) % (cap - len));
			for (size_t i = 0; i < len; i++) {
				piece[i] = (unsigned char)conf_rand(&seed);
			}
			if (r % 5 == 1) {
				assert_int_equal(vfs_lseek(v, fd, (int64_t)off,
				                           SEEK_SET),
				                 (int64_t)off);
				assert_int_equal(vfs_write(v, fd, piece, len),
				                 (int64_t)len);
			} else {
				assert_int_equal(vfs_pwrite(v, fd, piece, len,
				                            (int64_t)off),
				                 (int64_t)len);
			}
			if (off > size) {
				memset(model + size, 0, off - size);
			}
			memcpy(model + off, piece, len);
			if (off + len > size) {
				size = off + len;
			}
		}
		if (op % 50 == 49) {
			assert_int_equal(vfs_fstat(v, fd, &a), 0);
			assert_int_equal(a.size, (int64_t)size);
			assert_int_equal(vfs_pread(v, fd, back, cap + 1, 0),
			                 (int64_t)size);
			if (memcmp(back, model, size) != 0) {
				fail_msg("contents differ from the model after "
				         "operation %d",
				         op);
			}
		}
	}
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect(v, "/model", model, size);
	free(model);
	free(back);
}

static void test_files_unlink_while_open(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[16];
	int fd;

	conf_put(v, "/f", "alive");
	fd = conf_open_ok(v, "/f", O_RDWR);
	assert_int_equal(vfs_unlink(v, "/f"), 0);
	assert_int_equal(vfs_lstat(v, "/f", &a), -ENOENT);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(a.size, 5);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 5);
	assert_memory_equal(buf, "alive", 5);
	assert_int_equal(vfs_write(v, fd, " still", 6), 6);
	assert_int_equal(vfs_ftruncate(v, fd, 20), 0);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, 0), 16);
	assert_memory_equal(buf, "alive still\0\0\0\0\0", 16);
	assert_int_equal(vfs_fchmod(v, fd, 0600), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0600);
	assert_int_equal(a.size, 20);
	/* The name is free again, for an unrelated file. */
	conf_put(v, "/f", "new");
	assert_int_not_equal(conf_lstat(v, "/f").ino, a.ino);
	assert_int_equal(vfs_pread(v, fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "alive", 5);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "new");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "f\n");
	free(ls);
}

static void test_files_rename_over_open_file(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[16];
	int fd;

	conf_put(v, "/old", "old data");
	conf_put(v, "/new", "new data");
	fd = conf_open_ok(v, "/old", O_RDWR);
	assert_int_equal(vfs_rename(v, "/new", "/old", 0), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 8);
	assert_memory_equal(buf, "old data", 8);
	assert_int_equal(vfs_pwrite(v, fd, "OLD", 3, 0), 3);
	conf_expect_str(v, "/old", "new data");
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/old", "new data");
	assert_int_equal(vfs_lstat(v, "/new", &a), -ENOENT);
}

static void test_files_fsync_fdatasync(void **state)
{
	vfs *v = conf_vfs(state);
	int fd = conf_open_ok(v, "/f", O_WRONLY | O_CREAT);

	assert_int_equal(vfs_write(v, fd, "durable", 7), 7);
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_fdatasync(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "durable");
	fd = vfs_opendir(v, "/");
	assert_true(fd >= 0);
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_files_data_survives_reopen(void **state)
{
	vfs *v = conf_vfs(state);
	struct timespec ts[2] = {{123, 456}, {789, 12}};
	unsigned char big[70000];
	vfs_attr a, b;

	for (size_t i = 0; i < sizeof big; i++) {
		big[i] = (unsigned char)(i % 251);
	}
	conf_mkdir(v, "/d");
	conf_put(v, "/d/f", "persisted");
	conf_symlink(v, "d/f", "/l");
	assert_int_equal(vfs_link(v, "/d/f", "/hard"), 0);
	assert_int_equal(vfs_chmod(v, "/d/f", 0604), 0);
	assert_int_equal(vfs_chown(v, "/d/f", 1000, 2000), 0);
	assert_int_equal(vfs_utimens(v, "/d/f", ts, 0), 0);
	assert_int_equal(vfs_mknod(v, "/fifo", S_IFIFO | 0600, 0), 0);
	conf_write_file(v, "/big", big, sizeof big);
	assert_int_equal(vfs_truncate(v, "/big", 1 << 20), 0);
	conf_mkdir(v, "/d/sub");
	a = conf_lstat(v, "/d/f");
	v = conf_reopen(state, NULL);
	b = conf_lstat(v, "/d/f");
	assert_int_equal(b.mode, S_IFREG | 0604);
	assert_int_equal(b.uid, 1000);
	assert_int_equal(b.gid, 2000);
	assert_int_equal(b.nlink, 2);
	assert_int_equal(b.size, 9);
	assert_int_equal(b.atime.tv_sec, 123);
	assert_int_equal(b.atime.tv_nsec, 456);
	assert_int_equal(b.mtime.tv_sec, 789);
	assert_int_equal(b.mtime.tv_nsec, 12);
	assert_int_equal(b.ctime.tv_sec, a.ctime.tv_sec);
	assert_int_equal(b.ctime.tv_nsec, a.ctime.tv_nsec);
	assert_int_equal(conf_lstat(v, "/hard").ino, b.ino);
	conf_expect_str(v, "/l", "persisted");
	assert_int_equal(conf_lstat(v, "/fifo").mode, S_IFIFO | 0600);
	assert_int_equal(conf_lstat(v, "/d").nlink, 3);
	unsigned char *back = calloc(1, 1 << 20);
	assert_non_null(back);
	memcpy(back, big, sizeof big);
	conf_expect(v, "/big", back, 1 << 20);
	free(back);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "big\nd\nfifo\nhard\nl\n");
	free(ls);
}

/* The sqlite store's own checker finds nothing wrong after a workload
 * that renames, links, unlinks open files and truncates. */
static void test_files_sqlite_fsck_clean(void **state)
{
	vfs *v = conf_vfs(state);
	char report[2048] = "";
	int fd, rc;

	conf_mkdir(v, "/d");
	conf_put(v, "/d/a", "aaaa");
	conf_put(v, "/d/b", "bbbb");
	assert_int_equal(vfs_link(v, "/d/a", "/d/c"), 0);
	assert_int_equal(vfs_rename(v, "/d/b", "/d/a", 0), 0);
	assert_int_equal(vfs_truncate(v, "/d/c", 100000), 0);
	fd = vfs_open(v, "/d/c", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_unlink(v, "/d/c"), 0);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 70000), 1);
	/* Freed with the descriptor still open: the orphan goes away. */
	v = conf_reopen(state, NULL);
	rc = vfs_sqlite_fsck(conf_store_file(state), 0, report, sizeof report);
	if (rc != 0) {
		fail_msg("fsck: %d: %s", rc, report);
	}
	conf_expect_str(v, "/d/a", "bbbb");
	char *ls = conf_ls(v, "/d");
	assert_string_equal(ls, "a\n");
	free(ls);
}

/* A process that dies with an unlinked file open leaves an orphan that
 * the next open of the store reclaims (DESIGN.md, decision 7). */
static void test_files_sqlite_orphan_reclaimed_after_crash(void **state)
{
	char report[2048] = "";
	pid_t pid;
	int status, rc;

	conf_put(conf_vfs(state), "/keep", "kept");
	vfs_free(((conf_state *)*state)->v);
	((conf_state *)*state)->v = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vfs *c;
		char spec[1300];
		if (vfs_new(&c, NULL) != 0) {
			_exit(10);
		}
		snprintf(spec, sizeof spec, "%s", ((conf_state *)*state)->spec);
		if (vfs_mount_spec(c, "/", spec, NULL, 0) != 0) {
			_exit(11);
		}
		int fd = vfs_open(c, "/orphan", O_RDWR | O_CREAT, 0644);
		if (fd < 0 || vfs_pwrite(c, fd, "lost", 4, 0) != 4 ||
		    vfs_unlink(c, "/orphan") != 0) {
			_exit(12);
		}
		_exit(0); /* no vfs_free: as if the process crashed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	vfs *v = conf_reopen(state, NULL);
	conf_expect_str(v, "/keep", "kept");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "keep\n");
	free(ls);
	vfs_free(v);
	((conf_state *)*state)->v = NULL;
	rc = vfs_sqlite_fsck(conf_store_file(state), 0, report, sizeof report);
	if (rc != 0) {
		fail_msg("fsck after reclaim: %d: %s", rc, report);
	}
	conf_reopen(state, NULL);
}

/*
 * A writer killed at an arbitrary moment (SIGKILL) leaves a store where
 * every call that returned is there and the store is consistent: each
 * call is atomic (DESIGN.md, decision 10). The child creates /f<i> and
 * then records i in /counter, in a loop, until it is killed.
 */
static void test_files_killed_writer_leaves_completed_calls(void **state)
{
	conf_state *st = *state;
	char p[32], buf[16];
	pid_t pid;
	int status;

	vfs_free(st->v);
	st->v = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vfs *c;
		if (vfs_new(&c, NULL) != 0 ||
		    vfs_mount_spec(c, "/", st->spec, NULL, 0) != 0) {
			_exit(10);
		}
		int fd = vfs_open(c, "/counter", O_RDWR | O_CREAT, 0644);
		if (fd < 0) {
			_exit(11);
		}
		for (int i = 1;; i++) {
			char name[32], val[16];
			snprintf(name, sizeof name, "/f%d", i);
			int f = vfs_open(c, name, O_WRONLY | O_CREAT | O_EXCL,
			                 0644);
			if (f < 0 || vfs_close(c, f) != 0) {
				_exit(12);
			}
			snprintf(val, sizeof val, "%08d", i);
			if (vfs_pwrite(c, fd, val, 8, 0) != 8) {
				_exit(13);
			}
		}
	}
	conf_sleep_ms(400);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	vfs *v = conf_reopen(state, NULL);
	int fd = vfs_open(v, "/counter", O_RDONLY, 0);
	assert_true(fd >= 0);
	int64_t n = vfs_pread(v, fd, buf, sizeof buf, 0);
	assert_int_equal(vfs_close(v, fd), 0);
	int count = 0;
	if (n == 8) {
		buf[8] = '\0';
		count = atoi(buf);
	} else {
		assert_int_equal(n, 0);
	}
	assert_true(count > 0); /* the writer did get going */
	for (int i = 1; i <= count; i++) {
		snprintf(p, sizeof p, "/f%d", i);
		assert_int_equal(conf_lstat(v, p).mode, S_IFREG | 0644);
	}
	/* At most the one file whose counter update had not returned. */
	snprintf(p, sizeof p, "/f%d", count + 2);
	assert_int_equal(vfs_lstat(v, p, &(vfs_attr){0}), -ENOENT);
	if (conf_is("sqlite")) {
		char report[2048] = "";
		vfs_free(v);
		st->v = NULL;
		int rc = vfs_sqlite_fsck(conf_store_file(state), 0, report,
		                         sizeof report);
		if (rc != 0) {
			fail_msg("fsck after SIGKILL: %d: %s", rc, report);
		}
		conf_reopen(state, NULL);
	}
}

static void test_files_special_files_enxio(void **state)
{
	vfs *v = conf_vfs(state);

	assert_int_equal(vfs_mknod(v, "/fifo", S_IFIFO | 0666, 0), 0);
	assert_int_equal(vfs_mknod(v, "/sock", S_IFSOCK | 0666, 0), 0);
	assert_int_equal(vfs_open(v, "/fifo", O_RDONLY, 0), -ENXIO);
	assert_int_equal(vfs_open(v, "/fifo", O_WRONLY, 0), -ENXIO);
	assert_int_equal(vfs_open(v, "/fifo", O_RDWR | O_CREAT, 0644), -ENXIO);
	assert_int_equal(vfs_open(v, "/sock", O_RDONLY, 0), -ENXIO);
	conf_symlink(v, "fifo", "/lfifo");
	assert_int_equal(vfs_open(v, "/lfifo", O_RDONLY, 0), -ENXIO);
	if (!conf_is("disk")) {
		assert_int_equal(
		        vfs_mknod(v, "/chr", S_IFCHR | 0666, makedev(1, 3)), 0);
		assert_int_equal(
		        vfs_mknod(v, "/blk", S_IFBLK | 0660, makedev(8, 1)), 0);
		assert_int_equal(vfs_open(v, "/chr", O_RDWR, 0), -ENXIO);
		assert_int_equal(vfs_open(v, "/blk", O_RDONLY, 0), -ENXIO);
	}
	assert_int_equal(vfs_truncate(v, "/fifo", 0), -EINVAL);
	assert_int_equal(conf_lstat(v, "/fifo").mode, S_IFIFO | 0644);
}

int conf_run_files(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_files_creat_excl_trunc),
	        CONF_TEST(test_files_open_bad_access_mode_einval),
	        CONF_TEST(test_files_open_creat_directory_einval),
	        CONF_TEST(test_files_open_directory_flags),
	        CONF_TEST(test_files_open_mode_bits_and_ignored_flags),
	        CONF_TEST(test_files_nofollow),
	        CONF_TEST(test_files_close_and_bad_descriptors),
	        CONF_TEST(test_files_max_handles_emfile),
	        CONF_TEST(test_files_read_write_position),
	        CONF_TEST(test_files_two_descriptors_share_data),
	        CONF_TEST(test_files_wrong_direction_ebadf),
	        CONF_TEST(test_files_append),
	        CONF_TEST(test_files_lseek),
	        CONF_TEST(test_files_size_limit_offsets),
	        CONF_TEST(test_files_negative_offset_einval_first),
	        CONF_TEST(test_files_bad_offsets_einval),
	        CONF_TEST(test_files_truncate_holes_read_zeros),
	        CONF_TEST(test_files_truncate_to_max_is_sparse),
	        CONF_TEST(test_files_pwrite_at_2_40_sparse),
	        CONF_TEST(test_files_large_file_roundtrip),
	        CONF_TEST(test_files_random_io_matches_model),
	        CONF_TEST(test_files_unlink_while_open),
	        CONF_TEST(test_files_rename_over_open_file),
	        CONF_TEST(test_files_fsync_fdatasync),
	        CONF_TEST_ON("disk sqlite", test_files_data_survives_reopen),
	        CONF_TEST_ON("sqlite", test_files_sqlite_fsck_clean),
	        CONF_TEST_ON("sqlite",
	                     test_files_sqlite_orphan_reclaimed_after_crash),
	        CONF_TEST_ON("disk sqlite",
	                     test_files_killed_writer_leaves_completed_calls),
	        CONF_TEST(test_files_special_files_enxio),
	};
	return CONF_RUN_GROUP("files", tests);
}
