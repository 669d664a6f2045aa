/*
 * Mounts: mount points as directories, nesting, longest-prefix matching on
 * component boundaries, read-only mounts (EROFS with Linux's precedence),
 * EXDEV, EBUSY, identity (st_ino/st_dev) across mounts, and the limits of
 * memory stores. Sub-mounts use memory stores.
 */
#include "conf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static void conf_mount(vfs *v, const char *path, const char *spec)
{
	char err[256] = "";
	int rc = vfs_mount_spec(v, path, spec, err, sizeof err);

	if (rc != 0) {
		fail_msg("mount %s at %s: %s (%s)", spec, path,
		         vfs_strerror(rc), err);
	}
}

static void test_mounts_mount_point_appears_as_directory(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_dirent de;
	vfs_attr a;
	int fd, n = 0;

	conf_put(v, "/file", "x");
	conf_mount(v, "/mnt", "memory");
	a = conf_stat(v, "/mnt");
	assert_int_equal(a.mode & S_IFMT, S_IFDIR);
	assert_int_equal(conf_lstat(v, "/mnt").ino, a.ino);
	fd = vfs_opendir(v, "/");
	assert_true(fd >= 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		if (strcmp(de.name, "mnt") == 0) {
			assert_int_equal(de.type, S_IFDIR);
			assert_int_equal(de.ino, a.ino);
			n++;
		}
	}
	assert_int_equal(n, 1);
	assert_int_equal(vfs_close(v, fd), 0);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "file\nmnt\n");
	free(ls);
	ls = conf_ls(v, "/mnt");
	assert_string_equal(ls, "");
	free(ls);
	/* ".." of a mount root is the parent in the mounting namespace. */
	conf_mkdir(v, "/d");
	conf_mount(v, "/d/m", "memory");
	assert_int_equal(conf_stat(v, "/d/m/..").ino, conf_stat(v, "/d").ino);
	fd = vfs_opendir(v, "/d/m");
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_int_equal(de.ino, conf_stat(v, "/d/m").ino);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, "..");
	assert_int_equal(de.ino, conf_stat(v, "/d").ino);
	assert_int_equal(vfs_close(v, fd), 0);
	char buf[64];
	assert_int_equal(vfs_realpath(v, "/d/m/./x/../", buf, sizeof buf),
	                 -ENOENT);
	assert_int_equal(vfs_realpath(v, "/d/m/.", buf, sizeof buf), 4);
	assert_string_equal(buf, "/d/m");
	/* After unmounting, a mount point that the store lacks is gone. */
	assert_int_equal(vfs_mount_remove(v, "/mnt"), 0);
	assert_int_equal(vfs_stat(v, "/mnt", &a), -ENOENT);
	ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nfile\n");
	free(ls);
}

static void test_mounts_mount_hides_existing_directory(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/e");
	conf_put(v, "/e/hidden", "under");
	conf_mount(v, "/e", "memory");
	assert_int_equal(vfs_stat(v, "/e/hidden", &(vfs_attr){0}), -ENOENT);
	conf_put(v, "/e/top", "over");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "e\n");
	free(ls);
	ls = conf_ls(v, "/e");
	assert_string_equal(ls, "top\n");
	free(ls);
	assert_int_equal(vfs_mount_remove(v, "/e"), 0);
	conf_expect_str(v, "/e/hidden", "under");
	assert_int_equal(vfs_stat(v, "/e/top", &(vfs_attr){0}), -ENOENT);
}

static void test_mounts_nested(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr root, a, b;

	conf_mkdir(v, "/mnt");
	conf_mount(v, "/mnt/a", "memory");
	conf_mount(v, "/mnt/a/b", "memory");
	conf_put(v, "/mnt/a/f", "in a");
	conf_put(v, "/mnt/a/b/f", "in b");
	conf_expect_str(v, "/mnt/a/f", "in a");
	conf_expect_str(v, "/mnt/a/b/f", "in b");
	root = conf_stat(v, "/");
	a = conf_stat(v, "/mnt/a/f");
	b = conf_stat(v, "/mnt/a/b/f");
	assert_int_not_equal(a.dev, root.dev);
	assert_int_not_equal(b.dev, root.dev);
	assert_int_not_equal(a.dev, b.dev);
	char *ls = conf_ls(v, "/mnt/a");
	assert_string_equal(ls, "b\nf\n");
	free(ls);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), -EBUSY);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a/b"), 0);
	assert_int_equal(vfs_stat(v, "/mnt/a/b/f", &a), -ENOENT);
	ls = conf_ls(v, "/mnt/a");
	assert_string_equal(ls, "f\n");
	free(ls);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), 0);
	assert_int_equal(vfs_stat(v, "/mnt/a", &a), -ENOENT);
}

static void test_mounts_longest_prefix_on_component_boundary(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t rootdev;

	conf_mkdir(v, "/mnt");
	conf_mount(v, "/mnt/a", "memory");
	conf_mkdir(v, "/mnt/ab");
	conf_put(v, "/mnt/ab/f", "root store");
	conf_put(v, "/mnt/a.txt", "root store too");
	conf_put(v, "/mnt/a/f", "mounted");
	rootdev = conf_stat(v, "/").dev;
	assert_int_equal(conf_stat(v, "/mnt/ab").dev, rootdev);
	assert_int_equal(conf_stat(v, "/mnt/ab/f").dev, rootdev);
	assert_int_equal(conf_stat(v, "/mnt/a.txt").dev, rootdev);
	assert_int_not_equal(conf_stat(v, "/mnt/a/f").dev, rootdev);
	conf_expect_str(v, "/mnt/ab/f", "root store");
	conf_expect_str(v, "/mnt/a/f", "mounted");
	char *ls = conf_ls(v, "/mnt");
	assert_string_equal(ls, "a\na.txt\nab\n");
	free(ls);
	assert_int_equal(vfs_mount_remove(v, "/mnt/ab"), -EINVAL);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a/"), 0);
	ls = conf_ls(v, "/mnt");
	assert_string_equal(ls, "a.txt\nab\n");
	free(ls);
}

static void test_mounts_mount_errors(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_store *s = NULL;

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_mount_spec(v, "/f/x", "memory", NULL, 0),
	                 -ENOTDIR);
	assert_int_equal(vfs_mount_spec(v, "", "memory", NULL, 0), -ENOENT);
	conf_mount(v, "/m", "memory");
	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), -EBUSY);
	assert_int_equal(vfs_mount_spec(v, "/m/", "memory", NULL, 0), -EBUSY);
	assert_int_equal(vfs_memory_new(&s, NULL), 0);
	assert_int_equal(vfs_mount_add(v, "/m", s, 0), -EBUSY);
	vfs_store_free(s);
	/* As umount(2): a missing path is ENOENT, a non-mount EINVAL. */
	assert_int_equal(vfs_mount_remove(v, "/nothing"), -ENOENT);
	assert_int_equal(vfs_mount_remove(v, "/f"), -EINVAL);
	conf_mkdir(v, "/plain");
	assert_int_equal(vfs_mount_remove(v, "/plain"), -EINVAL);
}

/* Every mutation on a read-only mount whose store holds nothing. */
static void conf_check_ro_empty(vfs *v, const char *mp)
{
	char p[64], q[64];
	vfs_statvfs sf;
	struct timespec ts[2] = {{1, 0}, {2, 0}};

	assert_int_equal(vfs_mkdir(v, mp, 0755), -EEXIST);
	snprintf(p, sizeof p, "%s/x", mp);
	snprintf(q, sizeof q, "%s/y", mp);
	assert_int_equal(vfs_mkdir(v, p, 0755), -EROFS);
	assert_int_equal(vfs_open(v, p, O_WRONLY | O_CREAT, 0644), -EROFS);
	assert_int_equal(vfs_open(v, p, O_RDONLY | O_CREAT, 0644), -EROFS);
	assert_int_equal(vfs_symlink(v, "t", p), -EROFS);
	assert_int_equal(vfs_mknod(v, p, S_IFIFO | 0644, 0), -EROFS);
	assert_int_equal(vfs_unlink(v, p), -EROFS);
	assert_int_equal(vfs_rmdir(v, p), -EROFS);
	assert_int_equal(vfs_rename(v, p, q, 0), -EROFS);
	assert_int_equal(vfs_chmod(v, mp, 0700), -EROFS);
	assert_int_equal(vfs_chown(v, mp, 1, 1), -EROFS);
	assert_int_equal(vfs_lchown(v, mp, 1, 1), -EROFS);
	assert_int_equal(vfs_utimens(v, mp, NULL, 0), -EROFS);
	assert_int_equal(vfs_utimens(v, mp, ts, 0), -EROFS);
	assert_int_equal(vfs_rmdir(v, mp), -EBUSY);
	assert_int_equal(vfs_statfs(v, mp, &sf), 0);
	assert_int_equal(sf.flags & VFS_MOUNT_RDONLY, VFS_MOUNT_RDONLY);
	char *ls = conf_ls(v, mp);
	assert_string_equal(ls, "");
	free(ls);
	int fd = vfs_opendir(v, mp);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fchmod(v, fd, 0700), -EROFS);
	assert_int_equal(vfs_fchown(v, fd, 1, 1), -EROFS);
	assert_int_equal(vfs_futimens(v, fd, NULL), -EROFS);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_mounts_readonly_empty_store(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_store *s = NULL;

	conf_mount(v, "/ro", "memory,ro");
	conf_check_ro_empty(v, "/ro");
	assert_int_equal(vfs_store_open(&s, "memory", NULL, 0), 0);
	assert_int_equal(vfs_mount_add(v, "/ro2", s, VFS_MOUNT_RDONLY), 0);
	conf_check_ro_empty(v, "/ro2");
	/* The rest of the namespace stays writable. */
	conf_put(v, "/rw", "ok");
	conf_expect_str(v, "/rw", "ok");
}

/* A read-only mount over a store that already holds files. */
static void test_mounts_readonly_existing_entries(void **state)
{
	vfs *v = conf_vfs(state);
	char spec[1300], rospec[1310];
	vfs *fill;
	vfs_attr a;
	int fd;

	conf_extra_spec(state, spec, sizeof spec);
	assert_int_equal(vfs_new(&fill, NULL), 0);
	conf_mount(fill, "/", spec);
	conf_put(fill, "/f", "read only");
	conf_put(fill, "/g", "other");
	conf_mkdir(fill, "/d");
	conf_put(fill, "/d/inner", "i");
	conf_mkdir(fill, "/empty");
	conf_symlink(fill, "f", "/lf");
	conf_symlink(fill, "nowhere", "/dangling");
	vfs_free(fill);
	snprintf(rospec, sizeof rospec, "%s,ro", spec);
	conf_mount(v, "/ro", rospec);

	assert_int_equal(vfs_open(v, "/ro/f", O_WRONLY, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/ro/f", O_RDWR, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/ro/f", O_RDONLY | O_TRUNC, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/ro/f", O_WRONLY | O_APPEND, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/ro/lf", O_WRONLY, 0), -EROFS);
	fd = vfs_open(v, "/ro/f", O_RDONLY | O_NOATIME, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_open(v, "/ro/f", O_RDONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fchmod(v, fd, 0600), -EROFS);
	assert_int_equal(vfs_fchown(v, fd, 1, 1), -EROFS);
	assert_int_equal(vfs_futimens(v, fd, NULL), -EROFS);
	assert_int_equal(vfs_ftruncate(v, fd, 0), -EINVAL);
	assert_int_equal(vfs_fsync(v, fd), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(
	        vfs_open(v, "/ro/f", O_WRONLY | O_CREAT | O_EXCL, 0644),
	        -EEXIST);
	assert_int_equal(vfs_open(v, "/ro/dangling", O_WRONLY | O_CREAT, 0644),
	                 -EROFS);
	assert_int_equal(vfs_open(v, "/ro/new", O_RDONLY | O_CREAT, 0644),
	                 -EROFS);
	assert_int_equal(vfs_truncate(v, "/ro/f", 0), -EROFS);
	assert_int_equal(vfs_chmod(v, "/ro/f", 0600), -EROFS);
	assert_int_equal(vfs_chown(v, "/ro/f", 1, 1), -EROFS);
	assert_int_equal(vfs_lchown(v, "/ro/lf", 1, 1), -EROFS);
	assert_int_equal(vfs_utimens(v, "/ro/f", NULL, 0), -EROFS);
	assert_int_equal(vfs_utimens(v, "/ro/lf", NULL, VFS_NOFOLLOW), -EROFS);
	assert_int_equal(vfs_unlink(v, "/ro/f"), -EROFS);
	assert_int_equal(vfs_unlink(v, "/ro/missing"), -EROFS);
	assert_int_equal(vfs_rmdir(v, "/ro/empty"), -EROFS);
	assert_int_equal(vfs_rmdir(v, "/ro/missing"), -EROFS);
	assert_int_equal(vfs_rmdir(v, "/ro/f"), -EROFS);
	assert_int_equal(vfs_rename(v, "/ro/f", "/ro/h", 0), -EROFS);
	assert_int_equal(vfs_rename(v, "/ro/missing", "/ro/h", 0), -EROFS);
	assert_int_equal(vfs_rename(v, "/ro/f", "/ro/g", VFS_RENAME_EXCHANGE),
	                 -EROFS);
	/* Existence is checked before the read-only state. */
	assert_int_equal(vfs_mkdir(v, "/ro/d", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/ro/f", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/ro/dangling", 0755), -EEXIST);
	assert_int_equal(vfs_link(v, "/ro/f", "/ro/g"), -EEXIST);
	assert_int_equal(vfs_symlink(v, "x", "/ro/f"), -EEXIST);
	assert_int_equal(vfs_mknod(v, "/ro/f", S_IFIFO | 0644, 0), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/ro/new", 0755), -EROFS);
	assert_int_equal(vfs_link(v, "/ro/f", "/ro/new"), -EROFS);
	assert_int_equal(vfs_symlink(v, "x", "/ro/new"), -EROFS);
	assert_int_equal(vfs_mknod(v, "/ro/new", S_IFIFO | 0644, 0), -EROFS);
	assert_int_equal(vfs_mkdir(v, "/ro/nodir/x", 0755), -ENOENT);
	/* Reads work and nothing changed. */
	conf_expect_str(v, "/ro/f", "read only");
	conf_expect_str(v, "/ro/lf", "read only");
	conf_expect_str(v, "/ro/d/inner", "i");
	a = conf_lstat(v, "/ro/f");
	assert_int_equal(a.mode, S_IFREG | 0644);
	assert_int_equal(a.nlink, 1);
	char *ls = conf_ls(v, "/ro");
	assert_string_equal(ls, "d\ndangling\nempty\nf\ng\nlf\n");
	free(ls);
}

static void test_mounts_cross_mount_exdev(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mount(v, "/m", "memory");
	conf_put(v, "/a", "root");
	conf_put(v, "/m/b", "mounted");
	conf_mkdir(v, "/dir");
	assert_int_equal(vfs_rename(v, "/a", "/m/a", 0), -EXDEV);
	assert_int_equal(vfs_rename(v, "/m/b", "/b", 0), -EXDEV);
	assert_int_equal(vfs_rename(v, "/a", "/m/b", 0), -EXDEV);
	assert_int_equal(vfs_rename(v, "/a", "/m/b", VFS_RENAME_EXCHANGE),
	                 -EXDEV);
	assert_int_equal(vfs_rename(v, "/dir", "/m/dir", 0), -EXDEV);
	assert_int_equal(vfs_link(v, "/a", "/m/a"), -EXDEV);
	assert_int_equal(vfs_link(v, "/m/b", "/b"), -EXDEV);
	conf_expect_str(v, "/a", "root");
	conf_expect_str(v, "/m/b", "mounted");
	assert_int_equal(vfs_lstat(v, "/m/a", &(vfs_attr){0}), -ENOENT);
	/* Within one mount, fine. */
	assert_int_equal(vfs_rename(v, "/m/b", "/m/c", 0), 0);
	assert_int_equal(vfs_link(v, "/m/c", "/m/d"), 0);
	/* Symlinks may point anywhere. */
	conf_symlink(v, "/a", "/m/toroot");
	conf_expect_str(v, "/m/toroot", "root");
}

static void test_mounts_busy(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_mkdir(v, "/mnt");
	conf_mount(v, "/mnt/a", "memory");
	conf_put(v, "/mnt/a/f", "x");
	fd = vfs_open(v, "/mnt/a/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), -EBUSY);
	conf_expect_str(v, "/mnt/a/f", "x");
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_opendir(v, "/mnt/a");
	assert_true(fd >= 0);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), -EBUSY);
	assert_int_equal(vfs_close(v, fd), 0);
	/* The mount point itself cannot be removed or renamed. */
	assert_int_equal(vfs_rmdir(v, "/mnt/a"), -EBUSY);
	assert_int_equal(vfs_unlink(v, "/mnt/a"), -EISDIR);
	assert_int_equal(vfs_rename(v, "/mnt/a", "/mnt/b", 0), -EBUSY);
	conf_mkdir(v, "/x");
	assert_int_equal(vfs_rename(v, "/x", "/mnt/a", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/x", "/mnt/a", VFS_RENAME_EXCHANGE),
	                 -EBUSY);
	/* Nor can a directory holding one be renamed. */
	assert_int_equal(vfs_rename(v, "/mnt", "/mnt2", 0), -EBUSY);
	assert_int_equal(vfs_rmdir(v, "/mnt"), -ENOTEMPTY);
	conf_expect_str(v, "/mnt/a/f", "x");
	/* A referenced node keeps the mount busy too. */
	vfs_node *n = NULL;
	vfs_cred root = {0, 0, 0, NULL};
	assert_int_equal(vfs_node_resolve(v, &root, "/mnt/a/f", 0, &n), 0);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), -EBUSY);
	vfs_node_put(v, n, 1);
	assert_int_equal(vfs_mount_remove(v, "/mnt/a"), 0);
	assert_int_equal(vfs_rmdir(v, "/mnt"), 0);
}

static void test_mounts_ino_unique_across_mounts(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a, b, r1, r2;
	vfs_dirent de;
	int fd;

	conf_mount(v, "/m1", "memory");
	conf_mount(v, "/m2", "memory");
	/* The same sequence of creations in two fresh stores. */
	conf_put(v, "/m1/f", "1");
	conf_put(v, "/m2/f", "2");
	a = conf_stat(v, "/m1/f");
	b = conf_stat(v, "/m2/f");
	assert_int_not_equal(a.ino, b.ino);
	assert_int_not_equal(a.dev, b.dev);
	r1 = conf_stat(v, "/m1");
	r2 = conf_stat(v, "/m2");
	assert_int_not_equal(r1.ino, r2.ino);
	assert_int_not_equal(r1.ino, conf_stat(v, "/").ino);
	assert_int_not_equal(r1.dev, r2.dev);
	assert_int_equal(r1.dev, a.dev);
	fd = vfs_opendir(v, "/m2");
	assert_true(fd >= 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		if (strcmp(de.name, "f") == 0) {
			assert_int_equal(de.ino, b.ino);
		}
	}
	assert_int_equal(vfs_close(v, fd), 0);
	/* Stable while the node lives. */
	assert_int_equal(conf_stat(v, "/m1/f").ino, a.ino);
	assert_int_equal(vfs_rename(v, "/m1/f", "/m1/g", 0), 0);
	assert_int_equal(conf_stat(v, "/m1/g").ino, a.ino);
}

static void test_mounts_memory_inode_limit(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_statvfs sf;
	char p[32];

	conf_mount(v, "/lim", "memory,inodes=8");
	assert_int_equal(vfs_statfs(v, "/lim", &sf), 0);
	assert_int_equal(sf.files, 8);
	assert_int_equal(sf.ffree, 7);
	/* The root is one of the 8. */
	conf_mkdir(v, "/lim/d");
	conf_symlink(v, "d", "/lim/l");
	assert_int_equal(vfs_mknod(v, "/lim/p", S_IFIFO | 0644, 0), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "/lim/f%d", i);
		conf_put(v, p, "x");
	}
	assert_int_equal(vfs_statfs(v, "/lim", &sf), 0);
	assert_int_equal(sf.ffree, 0);
	assert_int_equal(vfs_open(v, "/lim/g", O_WRONLY | O_CREAT, 0644),
	                 -ENOSPC);
	assert_int_equal(vfs_mkdir(v, "/lim/g", 0755), -ENOSPC);
	assert_int_equal(vfs_symlink(v, "x", "/lim/g"), -ENOSPC);
	assert_int_equal(vfs_mknod(v, "/lim/g", S_IFIFO | 0644, 0), -ENOSPC);
	/* Hard links take no inode. */
	assert_int_equal(vfs_link(v, "/lim/f0", "/lim/h"), 0);
	assert_int_equal(vfs_lstat(v, "/lim/g", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_unlink(v, "/lim/f1"), 0);
	conf_put(v, "/lim/g", "fits again");
	conf_expect_str(v, "/lim/g", "fits again");
	/* Through vfs_memory_new() as well. */
	vfs_memory_options o;
	vfs_store *s = NULL;
	memset(&o, 0, sizeof o);
	o.version = VFS_MEMORY_OPTIONS_VERSION;
	o.max_inodes = 2;
	assert_int_equal(vfs_memory_new(&s, &o), 0);
	assert_int_equal(vfs_mount_add(v, "/two", s, 0), 0);
	conf_put(v, "/two/a", "a");
	assert_int_equal(vfs_open(v, "/two/b", O_WRONLY | O_CREAT, 0644),
	                 -ENOSPC);
}

static void test_mounts_memory_byte_limit(void **state)
{
	vfs *v = conf_vfs(state);
	unsigned char *chunk, buf[16];
	vfs_statvfs sf;
	vfs_attr a;
	int fd;

	chunk = malloc(65536);
	assert_non_null(chunk);
	for (int i = 0; i < 65536; i++) {
		chunk[i] = (unsigned char)(i * 31 + 7);
	}
	conf_mount(v, "/lim", "memory,size=1M");
	assert_int_equal(vfs_statfs(v, "/lim", &sf), 0);
	assert_int_equal(sf.bsize * sf.blocks, 1 << 20);
	fd = vfs_open(v, "/lim/f", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(vfs_write(v, fd, chunk, 65536), 65536);
	}
	assert_int_equal(vfs_statfs(v, "/lim", &sf), 0);
	assert_int_equal(sf.bfree, 0);
	assert_int_equal(vfs_write(v, fd, "x", 1), -ENOSPC);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 5 << 20), -ENOSPC);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 1 << 20);
	assert_int_equal(vfs_pread(v, fd, buf, 16, 0), 16);
	assert_memory_equal(buf, chunk, 16);
	assert_int_equal(vfs_pread(v, fd, buf, 16, (1 << 20) - 16), 16);
	assert_memory_equal(buf, chunk + 65536 - 16, 16);
	/* Rewriting allocated bytes needs no space. */
	assert_int_equal(vfs_pwrite(v, fd, "rewrite", 7, 100), 7);
	/* Holes are not allocated: growing by truncation still works. */
	assert_int_equal(vfs_ftruncate(v, fd, (int64_t)1 << 40), 0);
	assert_int_equal(vfs_pread(v, fd, buf, 4, (int64_t)1 << 30), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(vfs_close(v, fd), 0);
	/* Freed space is usable again. */
	assert_int_equal(vfs_unlink(v, "/lim/f"), 0);
	conf_write_file(v, "/lim/g", chunk, 65536);
	conf_expect(v, "/lim/g", chunk, 65536);
	free(chunk);
}

static void test_mounts_memory_file_size_limit(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	int fd;

	conf_mount(v, "/lim", "memory,maxfile=64K");
	fd = vfs_open(v, "/lim/f", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "abc", 3, 0), 3);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 65536), -EFBIG);
	assert_int_equal(vfs_ftruncate(v, fd, 65537), -EFBIG);
	assert_int_equal(vfs_truncate(v, "/lim/f", 1 << 20), -EFBIG);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 3);
	assert_int_equal(vfs_pwrite(v, fd, "z", 1, 65535), 1);
	/* Crossing the limit writes what fits, as with s_maxbytes. */
	assert_int_equal(vfs_pwrite(v, fd, "0123456789", 10, 65530), 6);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 65536);
	assert_int_equal(vfs_ftruncate(v, fd, 65536), 0);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_END), 65536);
	assert_int_equal(vfs_write(v, fd, "y", 1), -EFBIG);
	char buf[8];
	assert_int_equal(vfs_pread(v, fd, buf, 8, 65530), 6);
	assert_memory_equal(buf, "012345", 6);
	assert_int_equal(vfs_pread(v, fd, buf, 3, 0), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(vfs_close(v, fd), 0);
}

/* As tmpfs: an unlinked file that is still open keeps its inode and its
 * bytes until the last descriptor closes. */
static void test_mounts_memory_orphan_keeps_its_inode(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_mount(v, "/lim", "memory,inodes=3");
	fd = vfs_open(v, "/lim/f", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_unlink(v, "/lim/f"), 0);
	conf_put(v, "/lim/g", "g");
	assert_int_equal(vfs_open(v, "/lim/h", O_WRONLY | O_CREAT, 0644),
	                 -ENOSPC);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_put(v, "/lim/h", "h");
	char *ls = conf_ls(v, "/lim");
	assert_string_equal(ls, "g\nh\n");
	free(ls);
}

static void test_mounts_path_resolution(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t rootdev = conf_stat(v, "/").dev;

	conf_mkdir(v, "/d");
	conf_symlink(v, "d", "/ld");
	/* Intermediate symlinks are followed, as mount(2) does. */
	conf_mount(v, "/ld/m", "memory");
	conf_put(v, "/d/m/f", "via d");
	assert_int_not_equal(conf_stat(v, "/d/m").dev, rootdev);
	conf_expect_str(v, "/ld/m/f", "via d");
	char buf[64];
	assert_int_equal(vfs_realpath(v, "/ld/m/f", buf, sizeof buf), 6);
	assert_string_equal(buf, "/d/m/f");
	assert_int_equal(vfs_mount_remove(v, "/d/m"), 0);
	/* A final symlink is not followed, and is no directory to mount on;
	 * neither is a file. */
	assert_int_equal(vfs_mount_spec(v, "/ld", "memory", NULL, 0), -ENOTDIR);
	assert_int_equal(conf_lstat(v, "/ld").mode, S_IFLNK | 0777);
	assert_int_equal(conf_stat(v, "/d").dev, rootdev);
	conf_put(v, "/file", "x");
	assert_int_equal(vfs_mount_spec(v, "/file", "memory", NULL, 0),
	                 -ENOTDIR);
	conf_expect_str(v, "/file", "x");
	/* Relative and untidy mount paths name the same place. */
	conf_mount(v, "rel//", "memory");
	assert_int_not_equal(conf_stat(v, "/rel").dev, rootdev);
	assert_int_equal(vfs_mount_spec(v, "/rel", "memory", NULL, 0), -EBUSY);
	assert_int_equal(vfs_mount_remove(v, "//rel/"), 0);
}

typedef struct conf_mount_race {
	vfs *v;
	atomic_int stop;
	atomic_int bad;
	pthread_mutex_t lock; /* protects note */
	char note[128];
} conf_mount_race;

static void conf_race_bad(conf_mount_race *r, const char *what, int64_t rc)
{
	pthread_mutex_lock(&r->lock);
	if (r->bad++ == 0) {
		snprintf(r->note, sizeof r->note, "%s: %lld", what,
		         (long long)rc);
	}
	pthread_mutex_unlock(&r->lock);
}

static void *conf_mounter(void *arg)
{
	conf_mount_race *r = arg;

	for (int i = 0; i < 200; i++) {
		int rc = vfs_mount_spec(r->v, "/m", "memory", NULL, 0);
		if (rc != 0) {
			conf_race_bad(r, "mount", rc);
			break;
		}
		while ((rc = vfs_mount_remove(r->v, "/m")) == -EBUSY) {
			;
		}
		if (rc != 0) {
			conf_race_bad(r, "unmount", rc);
			break;
		}
	}
	atomic_store(&r->stop, 1);
	return NULL;
}

static void *conf_mount_walker(void *arg)
{
	conf_mount_race *r = arg;
	vfs_attr a;

	while (!atomic_load(&r->stop)) {
		int fd = vfs_open(r->v, "/m/f", O_RDWR | O_CREAT, 0644);
		if (fd >= 0) {
			int64_t n = vfs_pwrite(r->v, fd, "x", 1, 0);
			if (n != 1) {
				conf_race_bad(r, "pwrite", n);
			}
			vfs_close(r->v, fd);
		} else if (fd != -ENOENT) {
			conf_race_bad(r, "open", fd);
		}
		int rc = vfs_stat(r->v, "/m", &a);
		if (rc != 0 && rc != -ENOENT) {
			conf_race_bad(r, "stat", rc);
		}
	}
	return NULL;
}

/* Mounting and unmounting while other threads walk through the mount
 * point: every call sees the namespace with or without the mount. */
static void test_mounts_mount_while_walking(void **state)
{
	conf_mount_race r;
	pthread_t t[3];

	memset(&r, 0, sizeof r);
	pthread_mutex_init(&r.lock, NULL);
	r.v = conf_vfs(state);
	assert_int_equal(pthread_create(&t[0], NULL, conf_mounter, &r), 0);
	assert_int_equal(pthread_create(&t[1], NULL, conf_mount_walker, &r), 0);
	assert_int_equal(pthread_create(&t[2], NULL, conf_mount_walker, &r), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	pthread_mutex_destroy(&r.lock);
	if (atomic_load(&r.bad) != 0) {
		fail_msg("%d unexpected results, e.g. %s", atomic_load(&r.bad),
		         r.note);
	}
	assert_int_equal(vfs_stat(r.v, "/m", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_mount_remove(r.v, "/m"), -ENOENT);
}

int conf_run_mounts(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_mounts_mount_point_appears_as_directory),
	        CONF_TEST(test_mounts_mount_hides_existing_directory),
	        CONF_TEST(test_mounts_nested),
	        CONF_TEST(test_mounts_longest_prefix_on_component_boundary),
	        CONF_TEST(test_mounts_mount_errors),
	        CONF_TEST(test_mounts_path_resolution),
	        CONF_TEST(test_mounts_mount_while_walking),
	        CONF_TEST(test_mounts_readonly_empty_store),
	        CONF_TEST_ON("disk sqlite",
	                     test_mounts_readonly_existing_entries),
	        CONF_TEST(test_mounts_cross_mount_exdev),
	        CONF_TEST(test_mounts_busy),
	        CONF_TEST(test_mounts_ino_unique_across_mounts),
	        CONF_TEST_ON("memory", test_mounts_memory_inode_limit),
	        CONF_TEST_ON("memory", test_mounts_memory_byte_limit),
	        CONF_TEST_ON("memory", test_mounts_memory_file_size_limit),
	        CONF_TEST_ON("memory",
	                     test_mounts_memory_orphan_keeps_its_inode),
	};
	return CONF_RUN_GROUP("mounts", tests);
}
