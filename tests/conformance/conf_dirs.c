/*
 * Directories: mkdir, rmdir, unlink, link counts, vfs_readdir() order,
 * cookies and vfs_dir_seek(), and iteration while the directory changes.
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>

static void test_dirs_mkdir_basics(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_mkdir(v, "/d");
	a = conf_lstat(v, "/d");
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(vfs_mkdir(v, "/d", 0755), -EEXIST);
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_mkdir(v, "/f", 0755), -EEXIST);
	conf_symlink(v, "d", "/ld");
	assert_int_equal(vfs_mkdir(v, "/ld", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/no/d", 0755), -ENOENT);
	assert_int_equal(vfs_mkdir(v, "/f/d", 0755), -ENOTDIR);
	/* Through a symlink to a directory. */
	assert_int_equal(vfs_mkdir(v, "/ld/sub", 0700), 0);
	assert_int_equal(conf_lstat(v, "/d/sub").mode, S_IFDIR | 0700);
	/* Sticky is kept, setuid is dropped, umask applies. */
	assert_int_equal(vfs_mkdir(v, "/m", 07777), 0);
	assert_int_equal(conf_lstat(v, "/m").mode, S_IFDIR | 01755);
}

static void test_dirs_nlink_counts_subdirs(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/p");
	conf_mkdir(v, "/q");
	assert_int_equal(conf_lstat(v, "/p").nlink, 2);
	conf_mkdir(v, "/p/a");
	conf_mkdir(v, "/p/b");
	conf_put(v, "/p/f", "x");
	assert_int_equal(conf_lstat(v, "/p").nlink, 4);
	assert_int_equal(vfs_rename(v, "/p/a", "/q/a", 0), 0);
	assert_int_equal(conf_lstat(v, "/p").nlink, 3);
	assert_int_equal(conf_lstat(v, "/q").nlink, 3);
	assert_int_equal(vfs_rmdir(v, "/q/a"), 0);
	assert_int_equal(conf_lstat(v, "/q").nlink, 2);
	/* Exchanging a directory with a file moves the ".." link. */
	assert_int_equal(vfs_rename(v, "/p/b", "/q/g", 0), 0);
	conf_put(v, "/p/file", "y");
	assert_int_equal(vfs_rename(v, "/q/g", "/p/file", VFS_RENAME_EXCHANGE),
	                 0);
	assert_int_equal(conf_lstat(v, "/p").nlink, 3);
	assert_int_equal(conf_lstat(v, "/q").nlink, 2);
	assert_int_equal(conf_lstat(v, "/p/file").mode & S_IFMT, S_IFDIR);
	assert_int_equal(conf_lstat(v, "/q/g").mode & S_IFMT, S_IFREG);
}

static void test_dirs_rmdir(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/d/f", "x");
	assert_int_equal(vfs_rmdir(v, "/d"), -ENOTEMPTY);
	assert_int_equal(vfs_rmdir(v, "/d/f"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/missing"), -ENOENT);
	assert_int_equal(vfs_unlink(v, "/d/f"), 0);
	conf_symlink(v, "d", "/ld");
	assert_int_equal(vfs_rmdir(v, "/ld"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/d"), 0);
	assert_int_equal(vfs_lstat(v, "/d", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_rmdir(v, "/d"), -ENOENT);
	/* A directory holding only a symlink or a FIFO is not empty. */
	conf_mkdir(v, "/e");
	assert_int_equal(vfs_mknod(v, "/e/p", S_IFIFO | 0644, 0), 0);
	assert_int_equal(vfs_rmdir(v, "/e"), -ENOTEMPTY);
	assert_int_equal(vfs_unlink(v, "/e/p"), 0);
	assert_int_equal(vfs_rmdir(v, "/e"), 0);
}

static void test_dirs_unlink(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/f", "target");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_unlink(v, "/l"), 0);
	assert_int_equal(vfs_lstat(v, "/l", &(vfs_attr){0}), -ENOENT);
	conf_expect_str(v, "/f", "target");
	assert_int_equal(vfs_unlink(v, "/f"), 0);
	assert_int_equal(vfs_unlink(v, "/f"), -ENOENT);
	conf_mkdir(v, "/d");
	assert_int_equal(vfs_unlink(v, "/d"), -EISDIR);
	assert_int_equal(vfs_mknod(v, "/p", S_IFIFO | 0644, 0), 0);
	assert_int_equal(vfs_unlink(v, "/p"), 0);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\n");
	free(ls);
}

static void test_dirs_readdir_dot_entries_and_types(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de;
	int fd, n = 0;

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/d/f", "x");
	conf_symlink(v, "f", "/d/l");
	assert_int_equal(vfs_mknod(v, "/d/p", S_IFIFO | 0644, 0), 0);
	assert_int_equal(vfs_mknod(v, "/d/s", S_IFSOCK | 0644, 0), 0);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, ".");
	assert_int_equal(de.namelen, 1);
	assert_int_equal(de.type, S_IFDIR);
	assert_int_equal(de.ino, conf_lstat(v, "/d").ino);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, "..");
	assert_int_equal(de.namelen, 2);
	assert_int_equal(de.type, S_IFDIR);
	assert_int_equal(de.ino, conf_lstat(v, "/").ino);
	while (vfs_readdir(v, fd, &de) == 1) {
		char p[300];
		vfs_attr a;
		snprintf(p, sizeof p, "/d/%s", de.name);
		a = conf_lstat(v, p);
		assert_int_equal(de.ino, a.ino);
		assert_int_equal(de.type, a.mode & S_IFMT);
		assert_int_equal(de.namelen, strlen(de.name));
		n++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(vfs_readdir(v, fd, &de), 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	/* ".." of the root is the root. */
	fd = vfs_opendir(v, "/");
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, "..");
	assert_int_equal(de.ino, conf_lstat(v, "/").ino);
	assert_int_equal(vfs_close(v, fd), 0);
	char *ls = conf_ls(v, "/d");
	assert_string_equal(ls, "f\nl\np\ns\nsub\n");
	free(ls);
}

static void test_dirs_readdir_errors(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de;
	int fd;

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_opendir(v, "/f"), -ENOTDIR);
	assert_int_equal(vfs_opendir(v, "/missing"), -ENOENT);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), -ENOTDIR);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_readdir(v, fd, &de), -EBADF);
	assert_int_equal(vfs_readdir(v, -1, &de), -EBADF);
	/* opendir follows a symlink to a directory. */
	conf_mkdir(v, "/d");
	conf_put(v, "/d/inner", "x");
	conf_symlink(v, "d", "/ld");
	char *ls = conf_ls(v, "/ld");
	assert_string_equal(ls, "inner\n");
	free(ls);
	ls = conf_ls(v, "/d/");
	assert_string_equal(ls, "inner\n");
	free(ls);
}

static void conf_make_n(vfs *v, const char *dir, int n)
{
	char p[64];

	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/e%04d", dir, i);
		int fd = vfs_open(v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(vfs_close(v, fd), 0);
	}
}

static int conf_index(const char *name)
{
	if (name[0] != 'e' || strlen(name) != 5) {
		return -1;
	}
	return atoi(name + 1);
}

static void test_dirs_readdir_1000_entries_each_once(void **state)
{
	vfs *v = conf_vfs(state);
	char *seen = calloc(1000, 1);
	vfs_dirent de;
	int fd, n = 0, rc;

	assert_non_null(seen);
	conf_mkdir(v, "/d");
	conf_make_n(v, "/d", 1000);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		int i = conf_index(de.name);
		assert_true(i >= 0 && i < 1000);
		assert_int_equal(seen[i], 0);
		assert_int_equal(de.type, S_IFREG);
		seen[i] = 1;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 1000);
	assert_int_equal(vfs_close(v, fd), 0);
	free(seen);
}

static void test_dirs_dir_seek_resumes_after_cookie(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de, all[40];
	int fd, n = 0;

	conf_mkdir(v, "/d");
	conf_make_n(v, "/d", 30);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		assert_true(n < 40);
		all[n++] = de;
	}
	assert_int_equal(n, 32);
	/* Rewind. */
	assert_int_equal(vfs_dir_seek(v, fd, 0), 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, ".");
	/* Resume after each entry, including "." and "..". */
	for (int k = 0; k < n; k++) {
		assert_int_equal(vfs_dir_seek(v, fd, all[k].off), 0);
		if (k == n - 1) {
			assert_int_equal(vfs_readdir(v, fd, &de), 0);
		} else {
			assert_int_equal(vfs_readdir(v, fd, &de), 1);
			assert_string_equal(de.name, all[k + 1].name);
			assert_int_equal(de.ino, all[k + 1].ino);
			assert_int_equal(de.off, all[k + 1].off);
		}
	}
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_dir_seek(v, fd, 0), -EBADF);
	/* A cookie stays valid on a new descriptor. */
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_dir_seek(v, fd, all[10].off), 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, all[11].name);
	assert_int_equal(vfs_close(v, fd), 0);
}

/* lseek() on a directory as on tmpfs: SEEK_SET and SEEK_CUR to any
 * position that is not negative, EINVAL for the rest (SEEK_END included)
 * leaving the position as it was; and the positions are the offsets
 * vfs_readdir() gives, mount points and store entries alike. */
static void test_dirs_lseek_positions(void **state)
{
	static const struct {
		int64_t off;
		int whence;
		int64_t want;
	} seeks[] = {
	        {0, SEEK_CUR, 0},
	        {5, SEEK_SET, 5},
	        {3, SEEK_CUR, 8},
	        {-20, SEEK_CUR, -EINVAL},
	        {-1, SEEK_SET, -EINVAL},
	        {0, SEEK_END, -EINVAL},
	        {4, SEEK_END, -EINVAL},
	        {0, SEEK_DATA, -EINVAL},
	        {0, SEEK_HOLE, -EINVAL},
	        {0, 7, -EINVAL},
	        {0, SEEK_CUR, 8},
	        {INT64_MAX, SEEK_SET, INT64_MAX},
	        {1, SEEK_CUR, -EINVAL},
	        {-INT64_MAX, SEEK_CUR, 0},
	        {1 << 20, SEEK_SET, 1 << 20},
	};
	vfs *v = conf_vfs(state);
	vfs_dirent de, all[16];
	int fd, n = 0;

	conf_mkdir(v, "/d");
	conf_make_n(v, "/d", 5);
	assert_int_equal(vfs_mount_spec(v, "/d/mnt", "memory", NULL, 0), 0);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof seeks / sizeof seeks[0]; i++)
		assert_int_equal(
		        vfs_lseek(v, fd, seeks[i].off, seeks[i].whence),
		        seeks[i].want);
	/* Nothing there: reading finds the end. */
	assert_int_equal(vfs_readdir(v, fd, &de), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_SET), 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		assert_true(n < 16);
		all[n++] = de;
		assert_true(de.off <= (uint64_t)INT64_MAX);
		assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR),
		                 (int64_t)de.off);
	}
	assert_int_equal(n, 8);
	assert_string_equal(all[0].name, ".");
	for (int k = 0; k + 1 < n; k++) {
		assert_int_equal(
		        vfs_lseek(v, fd, (int64_t)all[k].off, SEEK_SET),
		        (int64_t)all[k].off);
		assert_int_equal(vfs_readdir(v, fd, &de), 1);
		assert_string_equal(de.name, all[k + 1].name);
	}
	assert_int_equal(vfs_lseek(v, fd, (int64_t)all[n - 1].off, SEEK_SET),
	                 (int64_t)all[n - 1].off);
	assert_int_equal(vfs_readdir(v, fd, &de), 0);
	/* Rewinding lists from "." again. */
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_SET), 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, ".");
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_dirs_dir_seek_cookie_survives_removal(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de;
	char removed[300], p[320];
	int fd, n = 0;

	conf_mkdir(v, "/d");
	conf_make_n(v, "/d", 20);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(vfs_readdir(v, fd, &de), 1);
	}
	/* Remove the entry the cookie points at, then resume after it. */
	strcpy(removed, de.name);
	snprintf(p, sizeof p, "/d/%s", removed);
	assert_int_equal(vfs_unlink(v, p), 0);
	assert_int_equal(vfs_dir_seek(v, fd, de.off), 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		assert_string_not_equal(de.name, removed);
		n++;
	}
	/* 2 dot entries + 20 files; 12 read before; one of them removed. */
	assert_int_equal(n, 10);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_dirs_readdir_during_mutation(void **state)
{
	vfs *v = conf_vfs(state);
	int *seen = calloc(3000, sizeof *seen);
	vfs_dirent de;
	char p[64];
	int fd, rc, reads = 0;

	assert_non_null(seen);
	conf_mkdir(v, "/d");
	conf_make_n(v, "/d", 1000);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	/*
	 * Entries 0..499 live throughout. Every tenth read removes one of
	 * 500..999 and creates one of 1000..; those may or may not show up,
	 * but nothing may show up twice and none of 0..499 may be missed.
	 */
	int del = 500, add = 1000;
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		int i = conf_index(de.name);
		assert_true(i >= 0 && i < 3000);
		seen[i]++;
		assert_int_equal(seen[i], 1);
		if (++reads % 10 == 0 && del < 1000) {
			snprintf(p, sizeof p, "/d/e%04d", del++);
			assert_int_equal(vfs_unlink(v, p), 0);
			snprintf(p, sizeof p, "/d/e%04d", add++);
			int nfd = vfs_open(v, p, O_WRONLY | O_CREAT | O_EXCL,
			                   0644);
			assert_true(nfd >= 0);
			assert_int_equal(vfs_close(v, nfd), 0);
		}
	}
	assert_int_equal(rc, 0);
	for (int i = 0; i < 500; i++) {
		if (seen[i] != 1) {
			fail_msg("e%04d seen %d times", i, seen[i]);
		}
	}
	/* Entries removed before being read cannot have been returned after
	 * their removal; entries never removed are all there. */
	for (int i = del; i < 1000; i++) {
		assert_int_equal(seen[i], 1);
	}
	assert_int_equal(vfs_close(v, fd), 0);
	free(seen);
}

static void test_dirs_readdir_of_removed_directory(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de;
	vfs_attr a;
	int fd;

	conf_mkdir(v, "/d");
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_rmdir(v, "/d"), 0);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.mode & S_IFMT, S_IFDIR);
	assert_int_equal(a.nlink, 0);
	/* Linux (tmpfs, ext4): getdents on a removed directory is ENOENT. */
	assert_int_equal(vfs_readdir(v, fd, &de), -ENOENT);
	assert_int_equal(vfs_close(v, fd), 0);
}

/* Long names in quantity: every store must list each once, with its
 * bytes intact, and resume after any cookie. */
static void test_dirs_many_long_names(void **state)
{
	vfs *v = conf_vfs(state);
	char name[256], path[300];
	char *seen = calloc(300, 1);
	vfs_dirent de, mid;
	int fd, n = 0, rc;

	assert_non_null(seen);
	conf_mkdir(v, "/long");
	for (int i = 0; i < 300; i++) {
		memset(name, 'a' + i % 26, 255);
		snprintf(name, 6, "%05d", i);
		name[5] = '_';
		name[255] = '\0';
		snprintf(path, sizeof path, "/long/%s", name);
		conf_put(v, path, name);
	}
	fd = vfs_opendir(v, "/long");
	assert_true(fd >= 0);
	memset(&mid, 0, sizeof mid);
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		if (de.name[0] == '.') {
			continue;
		}
		int i = atoi(de.name);
		assert_true(i >= 0 && i < 300);
		assert_int_equal(de.namelen, 255);
		assert_int_equal(de.name[255], '\0');
		for (int k = 6; k < 255; k++) {
			assert_int_equal(de.name[k], 'a' + i % 26);
		}
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		if (++n == 150) {
			mid = de;
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 300);
	/* Resume from the middle: exactly the other 150 remain. */
	assert_int_equal(vfs_dir_seek(v, fd, mid.off), 0);
	n = 0;
	while (vfs_readdir(v, fd, &de) == 1) {
		n++;
	}
	assert_int_equal(n, 150);
	assert_int_equal(vfs_close(v, fd), 0);
	snprintf(path, sizeof path, "/long/%s", mid.name);
	conf_expect_str(v, path, mid.name);
	free(seen);
}

int conf_run_dirs(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_dirs_mkdir_basics),
	        CONF_TEST(test_dirs_nlink_counts_subdirs),
	        CONF_TEST(test_dirs_rmdir),
	        CONF_TEST(test_dirs_unlink),
	        CONF_TEST(test_dirs_readdir_dot_entries_and_types),
	        CONF_TEST(test_dirs_readdir_errors),
	        CONF_TEST(test_dirs_readdir_1000_entries_each_once),
	        CONF_TEST(test_dirs_dir_seek_resumes_after_cookie),
	        CONF_TEST(test_dirs_dir_seek_cookie_survives_removal),
	        CONF_TEST(test_dirs_lseek_positions),
	        CONF_TEST(test_dirs_readdir_during_mutation),
	        CONF_TEST(test_dirs_many_long_names),
	        CONF_TEST(test_dirs_readdir_of_removed_directory),
	};
	return CONF_RUN_GROUP("dirs", tests);
}
