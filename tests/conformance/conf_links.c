/*
 * Hard links, symbolic links, vfs_readlink() and vfs_mknod().
 */
#include "conf.h"

#include <stdlib.h>

static void test_links_hard_link_shares_inode(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a, b;

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "shared");
	assert_int_equal(vfs_link(v, "/f", "/d/g"), 0);
	a = conf_lstat(v, "/f");
	b = conf_lstat(v, "/d/g");
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(a.dev, b.dev);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(b.nlink, 2);
	/* Writes through one name show through the other. */
	conf_put(v, "/d/g", "changed");
	conf_expect_str(v, "/f", "changed");
	assert_int_equal(vfs_chmod(v, "/f", 0600), 0);
	assert_int_equal(conf_lstat(v, "/d/g").mode, S_IFREG | 0600);
	assert_int_equal(vfs_unlink(v, "/f"), 0);
	assert_int_equal(conf_lstat(v, "/d/g").nlink, 1);
	conf_expect_str(v, "/d/g", "changed");
}

static void test_links_hard_link_errors(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	conf_put(v, "/g", "y");
	assert_int_equal(vfs_link(v, "/d", "/d2"), -EPERM);
	assert_int_equal(vfs_link(v, "/f", "/g"), -EEXIST);
	assert_int_equal(vfs_link(v, "/f", "/d"), -EEXIST);
	assert_int_equal(vfs_link(v, "/missing", "/h"), -ENOENT);
	assert_int_equal(vfs_link(v, "/f", "/missing/h"), -ENOENT);
	assert_int_equal(vfs_link(v, "/f", "/f"), -EEXIST);
	assert_int_equal(conf_lstat(v, "/f").nlink, 1);
	conf_expect_str(v, "/g", "y");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\ng\n");
	free(ls);
}

static void test_links_hard_link_to_symlink_not_followed(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_put(v, "/f", "x");
	conf_symlink(v, "f", "/l");
	conf_symlink(v, "nowhere", "/dangling");
	assert_int_equal(vfs_link(v, "/l", "/l2"), 0);
	a = conf_lstat(v, "/l2");
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.ino, conf_lstat(v, "/l").ino);
	assert_int_equal(conf_lstat(v, "/f").nlink, 1);
	assert_int_equal(vfs_link(v, "/dangling", "/d2"), 0);
	assert_int_equal(conf_lstat(v, "/d2").mode, S_IFLNK | 0777);
}

static void test_links_symlink_basics(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[64];

	conf_put(v, "/f", "x");
	conf_symlink(v, "some/relative/../target", "/l");
	a = conf_lstat(v, "/l");
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.size, 23);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(vfs_readlink(v, "/l", buf, sizeof buf), 23);
	assert_memory_equal(buf, "some/relative/../target", 23);
	assert_int_equal(vfs_symlink(v, "", "/e"), -ENOENT);
	assert_int_equal(vfs_symlink(v, "x", "/f"), -EEXIST);
	assert_int_equal(vfs_symlink(v, "x", "/l"), -EEXIST);
	assert_int_equal(vfs_symlink(v, "x", "/missing/l"), -ENOENT);
	/* Targets are bytes: anything but NUL. */
	conf_symlink(v, "\xff/ /\n", "/odd");
	assert_int_equal(vfs_readlink(v, "/odd", buf, sizeof buf), 5);
	assert_memory_equal(buf, "\xff/ /\n", 5);
	/* stat follows, lstat does not. */
	conf_symlink(v, "f", "/lf");
	assert_int_equal(conf_stat(v, "/lf").ino, conf_lstat(v, "/f").ino);
	assert_int_not_equal(conf_lstat(v, "/lf").ino, conf_lstat(v, "/f").ino);
	assert_int_equal(vfs_stat(v, "/l", &a), -ENOENT);
}

static void test_links_readlink_truncates_without_nul(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];

	conf_symlink(v, "abcdef", "/l");
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(vfs_readlink(v, "/l", buf, 3), 3);
	assert_memory_equal(buf, "abcZ", 4);
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(vfs_readlink(v, "/l", buf, 6), 6);
	assert_memory_equal(buf, "abcdefZ", 7);
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(vfs_readlink(v, "/l", buf, 7), 6);
	assert_memory_equal(buf, "abcdefZ", 7);
	assert_int_equal(vfs_readlink(v, "/l", buf, 0), -EINVAL);
}

static void test_links_readlink_errors(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];

	conf_put(v, "/f", "x");
	conf_mkdir(v, "/d");
	conf_symlink(v, "f", "/d/l");
	conf_symlink(v, "d", "/ld");
	assert_int_equal(vfs_readlink(v, "/f", buf, sizeof buf), -EINVAL);
	assert_int_equal(vfs_readlink(v, "/d", buf, sizeof buf), -EINVAL);
	assert_int_equal(vfs_readlink(v, "/missing", buf, sizeof buf), -ENOENT);
	/* Intermediate links are followed, the final one is read. */
	assert_int_equal(vfs_readlink(v, "/ld/l", buf, sizeof buf), 1);
	assert_int_equal(buf[0], 'f');
	assert_int_equal(vfs_readlink(v, "/", buf, sizeof buf), -EINVAL);
}

static void test_links_mknod_kept_as_metadata(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	assert_int_equal(vfs_mknod(v, "/fifo", S_IFIFO | 0640, 0), 0);
	a = conf_lstat(v, "/fifo");
	assert_int_equal(a.mode, S_IFIFO | 0640);
	assert_int_equal(a.rdev, 0);
	assert_int_equal(a.size, 0);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(vfs_mknod(v, "/sock", S_IFSOCK | 0600, 0), 0);
	assert_int_equal(conf_lstat(v, "/sock").mode, S_IFSOCK | 0600);
	assert_int_equal(vfs_mknod(v, "/reg", S_IFREG | 0600, 0), 0);
	a = conf_lstat(v, "/reg");
	assert_int_equal(a.mode, S_IFREG | 0600);
	assert_int_equal(a.size, 0);
	conf_put(v, "/reg", "usable");
	conf_expect_str(v, "/reg", "usable");
	if (conf_is("disk")) {
		/* The disk store refuses device nodes unless asked. */
		assert_int_equal(
		        vfs_mknod(v, "/chr", S_IFCHR | 0666, makedev(1, 3)),
		        -EPERM);
		assert_int_equal(vfs_lstat(v, "/chr", &a), -ENOENT);
		return;
	}
	assert_int_equal(vfs_mknod(v, "/chr", S_IFCHR | 0666, makedev(1, 3)),
	                 0);
	a = conf_lstat(v, "/chr");
	assert_int_equal(a.mode, S_IFCHR | 0644);
	assert_int_equal(a.rdev, makedev(1, 3));
	assert_int_equal(
	        vfs_mknod(v, "/blk", S_IFBLK | 0600, makedev(259, 70000)), 0);
	a = conf_lstat(v, "/blk");
	assert_int_equal(a.mode, S_IFBLK | 0600);
	assert_int_equal(a.rdev, makedev(259, 70000));
	/* The special files survive a rename and appear in readdir. */
	assert_int_equal(vfs_rename(v, "/blk", "/blk2", 0), 0);
	assert_int_equal(conf_lstat(v, "/blk2").rdev, makedev(259, 70000));
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "blk2\nchr\nfifo\nreg\nsock\n");
	free(ls);
}

static void test_links_mknod_errors(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_mknod(v, "/f", S_IFIFO | 0644, 0), -EEXIST);
	/* Linux gives EPERM for S_IFDIR and EINVAL for other bad types. */
	assert_int_equal(vfs_mknod(v, "/d", S_IFDIR | 0755, 0), -EPERM);
	assert_int_equal(vfs_mknod(v, "/l", S_IFLNK | 0777, 0), -EINVAL);
	assert_int_equal(vfs_mknod(v, "/x", S_IFMT | 0644, 0), -EINVAL);
	assert_int_equal(vfs_mknod(v, "/missing/p", S_IFIFO | 0644, 0),
	                 -ENOENT);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "f\n");
	free(ls);
}

int conf_run_links(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_links_hard_link_shares_inode),
	        CONF_TEST(test_links_hard_link_errors),
	        CONF_TEST(test_links_hard_link_to_symlink_not_followed),
	        CONF_TEST(test_links_symlink_basics),
	        CONF_TEST(test_links_readlink_truncates_without_nul),
	        CONF_TEST(test_links_readlink_errors),
	        CONF_TEST(test_links_mknod_kept_as_metadata),
	        CONF_TEST(test_links_mknod_errors),
	};
	return CONF_RUN_GROUP("links", tests);
}
