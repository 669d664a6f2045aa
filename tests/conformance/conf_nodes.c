/*
 * The node API used by frontends: lookups, references, creation of every
 * node type without umask, attribute changes, links and renames by node,
 * descriptors from nodes, and writes on behalf of a caller.
 */
#include "conf.h"

#include <stdlib.h>

static const vfs_cred conf_root = {0, 0, 0, NULL};
static const vfs_cred conf_user = {1000, 1000, 0, NULL};

static vfs_node *conf_root_node(vfs *v)
{
	vfs_node *n = NULL;

	assert_int_equal(vfs_node_root(v, &n), 0);
	assert_non_null(n);
	return n;
}

static vfs_node *conf_resolve(vfs *v, const char *path, int flags)
{
	vfs_node *n = NULL;

	assert_int_equal(vfs_node_resolve(v, &conf_root, path, flags, &n), 0);
	assert_non_null(n);
	return n;
}

static void test_nodes_root_and_lookup(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *root, *n = NULL;
	vfs_attr a, b;
	char *n256 = conf_repeat('x', 256);

	conf_put(v, "/f", "data");
	root = conf_root_node(v);
	assert_int_equal(vfs_node_getattr(v, root, &a), 0);
	conf_assert_attr_equal(a, conf_stat(v, "/"));
	assert_int_equal(vfs_node_lookup(v, &conf_root, root, "f", &n, &a), 0);
	assert_non_null(n);
	conf_assert_attr_equal(a, conf_lstat(v, "/f"));
	assert_int_equal(vfs_node_getattr(v, n, &b), 0);
	conf_assert_attr_equal(a, b);
	assert_int_equal(
	        vfs_node_lookup(v, &conf_root, root, "missing", &n, &a),
	        -ENOENT);
	const char *bad[] = {"", ".", "..", "a/b", "/f", "f/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		vfs_node *m = NULL;
		assert_int_equal(
		        vfs_node_lookup(v, &conf_root, root, bad[i], &m, &a),
		        -EINVAL);
		assert_int_equal(vfs_node_mknod(v, &conf_root, root, bad[i],
		                                S_IFREG | 0644, 0, NULL, &m,
		                                &a),
		                 -EINVAL);
		assert_int_equal(vfs_node_unlink(v, &conf_root, root, bad[i]),
		                 -EINVAL);
	}
	assert_int_equal(vfs_node_lookup(v, &conf_root, root, n256, &n, &a),
	                 -ENAMETOOLONG);
	/* A file is not a directory. */
	vfs_node *f = conf_resolve(v, "/f", 0);
	vfs_node *m = NULL;
	assert_int_equal(vfs_node_lookup(v, &conf_root, f, "x", &m, &a),
	                 -ENOTDIR);
	vfs_node_put(v, f, 1);
	vfs_node_put(v, n, 1);
	vfs_node_put(v, root, 1);
	vfs_node_put(v, NULL, 1);
	free(n256);
}

static void test_nodes_resolve_follow_and_nofollow(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *n;
	vfs_attr a;
	char buf[8];

	conf_put(v, "/f", "x");
	conf_symlink(v, "f", "/l");
	n = conf_resolve(v, "/l", 0);
	assert_int_equal(vfs_node_getattr(v, n, &a), 0);
	assert_int_equal(a.ino, conf_lstat(v, "/f").ino);
	assert_int_equal(vfs_node_readlink(v, n, buf, sizeof buf), -EINVAL);
	vfs_node_put(v, n, 1);
	n = conf_resolve(v, "/l", VFS_NOFOLLOW);
	assert_int_equal(vfs_node_getattr(v, n, &a), 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(vfs_node_readlink(v, n, buf, sizeof buf), 1);
	assert_int_equal(buf[0], 'f');
	vfs_node_put(v, n, 1);
	vfs_node *m = NULL;
	assert_int_equal(vfs_node_resolve(v, &conf_root, "/missing", 0, &m),
	                 -ENOENT);
	assert_int_equal(vfs_node_resolve(v, &conf_root, "", 0, &m), -ENOENT);
}

static void test_nodes_mknod_every_type_without_umask(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *root = conf_root_node(v), *n = NULL;
	vfs_attr a;
	char buf[16];

	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "reg",
	                                S_IFREG | 0666, 0, NULL, &n, &a),
	                 0);
	assert_int_equal(a.mode, S_IFREG | 0666);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1000);
	conf_assert_attr_equal(a, conf_lstat(v, "/reg"));
	vfs_node_put(v, n, 1);
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "dir",
	                                S_IFDIR | 0777, 0, NULL, &n, &a),
	                 0);
	assert_int_equal(a.mode, S_IFDIR | 0777);
	assert_int_equal(a.nlink, 2);
	vfs_node_put(v, n, 1);
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "sym",
	                                S_IFLNK | 0777, 0, "reg", &n, &a),
	                 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.size, 3);
	assert_int_equal(vfs_node_readlink(v, n, buf, sizeof buf), 3);
	assert_memory_equal(buf, "reg", 3);
	vfs_node_put(v, n, 1);
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "fifo",
	                                S_IFIFO | 0666, 0, NULL, &n, &a),
	                 0);
	assert_int_equal(a.mode, S_IFIFO | 0666);
	assert_int_equal(vfs_node_open(v, &conf_user, n, O_RDONLY), -ENXIO);
	vfs_node_put(v, n, 1);
	if (!conf_is("disk")) {
		assert_int_equal(vfs_node_mknod(v, &conf_user, root, "chr",
		                                S_IFCHR | 0620, makedev(4, 1),
		                                NULL, &n, &a),
		                 0);
		assert_int_equal(a.mode, S_IFCHR | 0620);
		assert_int_equal(a.rdev, makedev(4, 1));
		vfs_node_put(v, n, 1);
	}
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "reg",
	                                S_IFREG | 0644, 0, NULL, &n, &a),
	                 -EEXIST);
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "e",
	                                S_IFLNK | 0777, 0, "", &n, &a),
	                 -ENOENT);
	vfs_node_put(v, root, 1);
}

static void test_nodes_create_and_open(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *root = conf_root_node(v), *n = NULL, *m = NULL;
	vfs_attr a, b;
	vfs_dirent de;
	char buf[16];
	int fd;

	fd = vfs_node_create(v, &conf_user, root, "f", O_RDWR | O_EXCL, 0640,
	                     &n, &a);
	assert_true(fd >= 0);
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(vfs_pwrite(v, fd, "created", 7, 0), 7);
	assert_int_equal(vfs_fd_node(v, fd, &m), 0);
	assert_int_equal(vfs_node_getattr(v, m, &b), 0);
	assert_int_equal(b.ino, a.ino);
	assert_int_equal(b.size, 7);
	vfs_node_put(v, m, 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_node_create(v, &conf_user, root, "f",
	                                 O_RDWR | O_EXCL, 0640, &m, &a),
	                 -EEXIST);
	fd = vfs_node_create(v, &conf_user, root, "f", O_RDONLY, 0600, &m, &a);
	assert_true(fd >= 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, 0), 7);
	assert_memory_equal(buf, "created", 7);
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_node_put(v, m, 1);
	fd = vfs_node_open(v, &conf_user, n, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "");
	assert_int_equal(vfs_node_open(v, &conf_user, n, O_ACCMODE), -EINVAL);
	vfs_node_put(v, n, 1);
	/* A directory node opens for reading and lists. */
	assert_int_equal(vfs_node_open(v, &conf_root, root, O_WRONLY), -EISDIR);
	fd = vfs_node_open(v, &conf_root, root, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, ".");
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_node_put(v, root, 1);
}

static void test_nodes_link_unlink_rmdir_rename(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *root, *d, *f;
	vfs_attr a;

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/d/sub/inner", "i");
	root = conf_root_node(v);
	d = conf_resolve(v, "/d", 0);
	f = conf_resolve(v, "/f", 0);
	assert_int_equal(vfs_node_link(v, &conf_root, f, d, "g", &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.ino, conf_lstat(v, "/d/g").ino);
	assert_int_equal(vfs_node_link(v, &conf_root, f, d, "g", &a), -EEXIST);
	assert_int_equal(vfs_node_link(v, &conf_root, d, root, "d2", &a),
	                 -EPERM);
	assert_int_equal(vfs_node_rmdir(v, &conf_root, d, "sub"), -ENOTEMPTY);
	assert_int_equal(vfs_node_rmdir(v, &conf_root, d, "g"), -ENOTDIR);
	assert_int_equal(vfs_node_unlink(v, &conf_root, root, "d"), -EISDIR);
	assert_int_equal(vfs_node_unlink(v, &conf_root, d, "missing"), -ENOENT);
	assert_int_equal(vfs_node_unlink(v, &conf_root, d, "g"), 0);
	assert_int_equal(vfs_node_getattr(v, f, &a), 0);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(
	        vfs_node_rename(v, &conf_root, root, "f", d, "moved", 0), 0);
	conf_expect_str(v, "/d/moved", "x");
	assert_int_equal(
	        vfs_node_rename(v, &conf_root, d, "moved", d, "sub", 0),
	        -EISDIR);
	assert_int_equal(vfs_node_rename(v, &conf_root, d, "moved", d, "sub",
	                                 VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	assert_int_equal(vfs_node_rename(v, &conf_root, d, "moved", d, "sub",
	                                 VFS_RENAME_EXCHANGE),
	                 0);
	conf_expect_str(v, "/d/sub", "x");
	conf_expect_str(v, "/d/moved/inner", "i");
	assert_int_equal(
	        vfs_node_rename(v, &conf_root, d, "sub", d, "x", 1u << 7),
	        -EINVAL);
	assert_int_equal(vfs_node_rename(v, &conf_root, root, "d", d, "x", 0),
	                 -EINVAL);
	assert_int_equal(vfs_node_rename(v, &conf_root, d, "..", d, "x", 0),
	                 -EINVAL);
	/* Across mounts. */
	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), 0);
	vfs_node *m = conf_resolve(v, "/m", 0);
	assert_int_equal(vfs_node_rename(v, &conf_root, d, "sub", m, "x", 0),
	                 -EXDEV);
	assert_int_equal(vfs_node_link(v, &conf_root, f, m, "x", &a), -EXDEV);
	vfs_node_put(v, m, 1);
	/* The node of an unlinked file stays usable. */
	assert_int_equal(vfs_unlink(v, "/d/sub"), 0);
	assert_int_equal(vfs_node_getattr(v, f, &a), 0);
	assert_int_equal(a.nlink, 0);
	int fd = vfs_node_open(v, &conf_root, f, O_RDONLY);
	assert_true(fd >= 0);
	char c;
	assert_int_equal(vfs_read(v, fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_node_put(v, f, 1);
	vfs_node_put(v, d, 1);
	vfs_node_put(v, root, 1);
}

static void test_nodes_setattr(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_setattr s;
	vfs_attr a;
	vfs_node *n;
	struct timespec t0;

	conf_put(v, "/f", "hello");
	n = conf_resolve(v, "/f", 0);
	memset(&s, 0, sizeof s);
	s.valid = VFS_SET_MODE;
	s.mode = 06755;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 06755);
	s.valid = VFS_SET_UID | VFS_SET_GID;
	s.uid = 1000;
	s.gid = 2000;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), 0);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 2000);
	assert_int_equal(a.mode, S_IFREG | 0755);
	conf_age(v, "/f");
	t0 = conf_now();
	s.valid = VFS_SET_SIZE;
	s.size = 2;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), 0);
	assert_int_equal(a.size, 2);
	assert_ts_new(a.mtime, t0);
	assert_ts_new(a.ctime, t0);
	conf_expect_str(v, "/f", "he");
	s.valid = VFS_SET_ATIME | VFS_SET_MTIME;
	s.atime = (struct timespec){10, 20};
	s.mtime = (struct timespec){30, 40};
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), 0);
	assert_int_equal(a.atime.tv_sec, 10);
	assert_int_equal(a.atime.tv_nsec, 20);
	assert_int_equal(a.mtime.tv_sec, 30);
	assert_int_equal(a.mtime.tv_nsec, 40);
	t0 = conf_now();
	s.valid = VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), 0);
	assert_ts_new(a.atime, t0);
	assert_ts_new(a.mtime, t0);
	s.valid = VFS_SET_SIZE;
	s.size = -1;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), -EINVAL);
	s.size = VFS_FILE_SIZE_MAX + 1;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), -EFBIG);
	vfs_node_put(v, n, 1);
	/* Size of a directory. */
	conf_mkdir(v, "/d");
	n = conf_resolve(v, "/d", 0);
	s.size = 0;
	assert_int_equal(vfs_node_setattr(v, &conf_root, n, &s, &a), -EISDIR);
	vfs_node_put(v, n, 1);
}

static void test_nodes_setattr_checks_owner(void **state)
{
	vfs_options o;
	vfs_setattr s;
	vfs_attr a;
	vfs_node *n;
	vfs *v;

	memset(&o, 0, sizeof o);
	o.version = VFS_OPTIONS_VERSION;
	o.flags = VFS_CHECK_PERMISSIONS;
	v = conf_reopen(state, &o);
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_chmod(v, "/", 0755), 0);
	n = conf_resolve(v, "/f", 0);
	memset(&s, 0, sizeof s);
	s.valid = VFS_SET_MODE;
	s.mode = 0777;
	assert_int_equal(vfs_node_setattr(v, &conf_user, n, &s, &a), -EPERM);
	s.valid = VFS_SET_MTIME;
	assert_int_equal(vfs_node_setattr(v, &conf_user, n, &s, &a), -EPERM);
	s.valid = VFS_SET_SIZE;
	assert_int_equal(vfs_node_setattr(v, &conf_user, n, &s, &a), -EACCES);
	assert_int_equal(vfs_node_open(v, &conf_user, n, O_WRONLY), -EACCES);
	vfs_node *root = conf_root_node(v), *m = NULL;
	assert_int_equal(vfs_node_mknod(v, &conf_user, root, "g",
	                                S_IFREG | 0644, 0, NULL, &m, &a),
	                 -EACCES);
	assert_int_equal(vfs_node_unlink(v, &conf_user, root, "f"), -EACCES);
	vfs_node_put(v, root, 1);
	assert_int_equal(vfs_node_getattr(v, n, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0644);
	vfs_node_put(v, n, 1);
	conf_expect_str(v, "/f", "x");
}

static void test_nodes_pwrite_as_clears_setuid(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_put(v, "/f", "data");
	assert_int_equal(vfs_chmod(v, "/f", 06755), 0);
	fd = vfs_open(v, "/f", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite_as(v, &conf_root, fd, "R", 1, 0), 1);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 06755);
	assert_int_equal(vfs_pwrite_as(v, &conf_user, fd, "U", 1, 1), 1);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0755);
	assert_int_equal(vfs_pwrite_as(v, &conf_user, fd, "x", 1, -1), -EINVAL);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_expect_str(v, "/f", "RUta");
}

static void test_nodes_references(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_node *n, *root = NULL;
	vfs_attr a;

	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), 0);
	conf_put(v, "/m/f", "x");
	n = conf_resolve(v, "/m/f", 0);
	vfs_node_hold(v, n, 2);
	vfs_node_put(v, n, 1);
	vfs_node_put(v, n, 1);
	assert_int_equal(vfs_node_getattr(v, n, &a), 0);
	assert_int_equal(vfs_mount_remove(v, "/m"), -EBUSY);
	vfs_node_put(v, n, 1);
	/* Crossing a mount point by lookup. */
	assert_int_equal(vfs_mount_spec(v, "/m2", "memory", NULL, 0), 0);
	assert_int_equal(vfs_node_root(v, &root), 0);
	assert_int_equal(vfs_node_lookup(v, &conf_root, root, "m2", &n, &a), 0);
	assert_int_equal(a.mode & S_IFMT, S_IFDIR);
	assert_int_not_equal(a.dev, conf_stat(v, "/").dev);
	assert_int_equal(a.ino, conf_stat(v, "/m2").ino);
	vfs_statvfs sf;
	assert_int_equal(vfs_node_statfs(v, n, &sf), 0);
	assert_int_equal(sf.namemax, 255);
	vfs_node_put(v, n, 1);
	vfs_node_put(v, root, 1);
	assert_int_equal(vfs_mount_remove(v, "/m"), 0);
	assert_int_equal(vfs_mount_remove(v, "/m2"), 0);
}

int conf_run_nodes(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_nodes_root_and_lookup),
	        CONF_TEST(test_nodes_resolve_follow_and_nofollow),
	        CONF_TEST(test_nodes_mknod_every_type_without_umask),
	        CONF_TEST(test_nodes_create_and_open),
	        CONF_TEST(test_nodes_link_unlink_rmdir_rename),
	        CONF_TEST(test_nodes_setattr),
	        CONF_TEST(test_nodes_setattr_checks_owner),
	        CONF_TEST(test_nodes_pwrite_as_clears_setuid),
	        CONF_TEST(test_nodes_references),
	};
	return CONF_RUN_GROUP("nodes", tests);
}
