/*
 * vfs_rename(): plain renames, replacement rules, RENAME_NOREPLACE,
 * RENAME_EXCHANGE, flags, self-renames and renames into one's own subtree.
 */
#include "conf.h"

#include <stdlib.h>

static void test_rename_file_keeps_inode_and_data(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t ino;

	conf_mkdir(v, "/d");
	conf_put(v, "/a", "payload");
	ino = conf_lstat(v, "/a").ino;
	assert_int_equal(vfs_rename(v, "/a", "/b", 0), 0);
	assert_int_equal(vfs_lstat(v, "/a", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(conf_lstat(v, "/b").ino, ino);
	conf_expect_str(v, "/b", "payload");
	assert_int_equal(vfs_rename(v, "/b", "/d/c", 0), 0);
	assert_int_equal(conf_lstat(v, "/d/c").ino, ino);
	conf_expect_str(v, "/d/c", "payload");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\n");
	free(ls);
}

static void test_rename_replaces_file(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t ino;

	conf_put(v, "/a", "new");
	conf_put(v, "/b", "old");
	ino = conf_lstat(v, "/a").ino;
	assert_int_equal(vfs_rename(v, "/a", "/b", 0), 0);
	assert_int_equal(conf_lstat(v, "/b").ino, ino);
	conf_expect_str(v, "/b", "new");
	assert_int_equal(vfs_lstat(v, "/a", &(vfs_attr){0}), -ENOENT);
	/* A symlink is renamed, not followed, and can be replaced. */
	conf_put(v, "/t", "t");
	conf_symlink(v, "t", "/l");
	assert_int_equal(vfs_rename(v, "/b", "/l", 0), 0);
	assert_int_equal(conf_lstat(v, "/l").mode, S_IFREG | 0644);
	conf_expect_str(v, "/t", "t");
	conf_symlink(v, "t", "/l2");
	assert_int_equal(vfs_rename(v, "/l2", "/l3", 0), 0);
	assert_int_equal(conf_lstat(v, "/l3").mode, S_IFLNK | 0777);
}

static void test_rename_directories(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/d/f", "inside");
	conf_mkdir(v, "/empty");
	conf_mkdir(v, "/full");
	conf_put(v, "/full/x", "x");
	conf_put(v, "/file", "file");
	assert_int_equal(vfs_rename(v, "/d", "/full", 0), -ENOTEMPTY);
	assert_int_equal(vfs_rename(v, "/d", "/file", 0), -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/file", "/empty", 0), -EISDIR);
	assert_int_equal(vfs_rename(v, "/d", "/d/sub", 0), -EINVAL);
	conf_mkdir(v, "/d/sub");
	assert_int_equal(vfs_rename(v, "/d", "/d/sub/inner", 0), -EINVAL);
	assert_int_equal(vfs_rename(v, "/d", "/d/sub", 0), -EINVAL);
	assert_int_equal(vfs_rename(v, "/d/sub", "/d", 0), -ENOTEMPTY);
	/* A file onto its own parent: the ancestor check comes first. */
	assert_int_equal(vfs_rename(v, "/d/f", "/d", 0), -ENOTEMPTY);
	conf_put(v, "/d/sub/g", "g");
	assert_int_equal(vfs_rename(v, "/d/sub/g", "/d", 0), -ENOTEMPTY);
	assert_int_equal(vfs_rename(v, "/d/sub/g", "/d", VFS_RENAME_EXCHANGE),
	                 -EINVAL);
	assert_int_equal(vfs_unlink(v, "/d/sub/g"), 0);
	assert_int_equal(vfs_rename(v, "/d/f", "/d", VFS_RENAME_EXCHANGE),
	                 -EINVAL);
	assert_int_equal(vfs_rename(v, "/d", "/d/sub", VFS_RENAME_EXCHANGE),
	                 -EINVAL);
	/* Replacing an empty directory works. */
	assert_int_equal(vfs_rmdir(v, "/d/sub"), 0);
	assert_int_equal(vfs_rename(v, "/d", "/empty", 0), 0);
	conf_expect_str(v, "/empty/f", "inside");
	assert_int_equal(vfs_lstat(v, "/d", &(vfs_attr){0}), -ENOENT);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "empty\nfile\nfull\n");
	free(ls);
	/* Moving a directory keeps its subtree reachable by the new path. */
	conf_mkdir(v, "/empty/deep");
	conf_put(v, "/empty/deep/g", "g");
	assert_int_equal(vfs_rename(v, "/empty", "/full/moved", 0), 0);
	conf_expect_str(v, "/full/moved/deep/g", "g");
	assert_int_equal(conf_stat(v, "/full/moved/deep/../..").ino,
	                 conf_stat(v, "/full").ino);
}

static void test_rename_onto_itself_is_noop(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_link(v, "/f", "/g"), 0);
	assert_int_equal(vfs_rename(v, "/d", "/d", 0), 0);
	assert_int_equal(vfs_rename(v, "/d", "/d/", 0), 0);
	assert_int_equal(vfs_rename(v, "/f", "/f", 0), 0);
	assert_int_equal(vfs_rename(v, "/f", "//./f", 0), 0);
	/* Two links to one inode: nothing happens, both names stay. */
	assert_int_equal(vfs_rename(v, "/f", "/g", 0), 0);
	assert_int_equal(conf_lstat(v, "/f").nlink, 2);
	assert_int_equal(conf_lstat(v, "/g").nlink, 2);
	assert_int_equal(vfs_rename(v, "/f", "/g", VFS_RENAME_EXCHANGE), 0);
	assert_int_equal(vfs_rename(v, "/f", "/f", VFS_RENAME_EXCHANGE), 0);
	assert_int_equal(vfs_rename(v, "/f", "/f", VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	assert_int_equal(vfs_rename(v, "/f", "/g", VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\ng\n");
	free(ls);
}

static void test_rename_noreplace(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/a", "a");
	conf_put(v, "/b", "b");
	conf_mkdir(v, "/d");
	assert_int_equal(vfs_rename(v, "/a", "/b", VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	assert_int_equal(vfs_rename(v, "/a", "/d", VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	conf_symlink(v, "nowhere", "/dangling");
	assert_int_equal(vfs_rename(v, "/a", "/dangling", VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	conf_expect_str(v, "/a", "a");
	conf_expect_str(v, "/b", "b");
	assert_int_equal(vfs_rename(v, "/a", "/c", VFS_RENAME_NOREPLACE), 0);
	conf_expect_str(v, "/c", "a");
	assert_int_equal(vfs_lstat(v, "/a", &(vfs_attr){0}), -ENOENT);
}

static void test_rename_exchange(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t ia, id;

	conf_put(v, "/a", "content a");
	conf_mkdir(v, "/d");
	conf_put(v, "/d/inner", "i");
	ia = conf_lstat(v, "/a").ino;
	id = conf_lstat(v, "/d").ino;
	assert_int_equal(vfs_rename(v, "/a", "/d", VFS_RENAME_EXCHANGE), 0);
	assert_int_equal(conf_lstat(v, "/a").ino, id);
	assert_int_equal(conf_lstat(v, "/d").ino, ia);
	conf_expect_str(v, "/d", "content a");
	conf_expect_str(v, "/a/inner", "i");
	assert_int_equal(vfs_rename(v, "/a", "/missing", VFS_RENAME_EXCHANGE),
	                 -ENOENT);
	assert_int_equal(vfs_rename(v, "/missing", "/a", VFS_RENAME_EXCHANGE),
	                 -ENOENT);
	/* Across directories. */
	conf_mkdir(v, "/e");
	conf_put(v, "/e/x", "x");
	assert_int_equal(vfs_rename(v, "/e/x", "/a/inner", VFS_RENAME_EXCHANGE),
	                 0);
	conf_expect_str(v, "/e/x", "i");
	conf_expect_str(v, "/a/inner", "x");
	/* Exchanging a directory with a non-empty one is fine. */
	conf_mkdir(v, "/f1");
	conf_put(v, "/f1/one", "1");
	assert_int_equal(vfs_rename(v, "/f1", "/e", VFS_RENAME_EXCHANGE), 0);
	conf_expect_str(v, "/e/one", "1");
	conf_expect_str(v, "/f1/x", "i");
}

static void test_rename_bad_flags_einval(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/a", "a");
	conf_put(v, "/b", "b");
	assert_int_equal(vfs_rename(v, "/a", "/c",
	                            VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE),
	                 -EINVAL);
	assert_int_equal(vfs_rename(v, "/a", "/b",
	                            VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE),
	                 -EINVAL);
	assert_int_equal(vfs_rename(v, "/a", "/c", 1u << 5), -EINVAL);
	assert_int_equal(vfs_rename(v, "/a", "/c", 1u << 31), -EINVAL);
	assert_int_equal(vfs_rename(v, "/a", "/c", 1u << 2), -EINVAL);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "a\nb\n");
	free(ls);
	conf_expect_str(v, "/a", "a");
}

static void test_rename_errors_leave_both_names(void **state)
{
	vfs *v = conf_vfs(state);

	conf_put(v, "/f", "f");
	conf_mkdir(v, "/d");
	conf_put(v, "/d/x", "x");
	assert_int_equal(vfs_rename(v, "/missing", "/y", 0), -ENOENT);
	assert_int_equal(vfs_rename(v, "/f", "/nodir/y", 0), -ENOENT);
	assert_int_equal(vfs_rename(v, "/f", "/f/y", 0), -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/f", "/d", 0), -EISDIR);
	assert_int_equal(vfs_rename(v, "/d", "/f", 0), -ENOTDIR);
	conf_expect_str(v, "/f", "f");
	conf_expect_str(v, "/d/x", "x");
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\n");
	free(ls);
}

/* Linux's order (do_renameat2, then vfs_rename): EXDEV before "." and
 * ".." (EBUSY); a missing source (ENOENT); NOREPLACE finding the target
 * (EEXIST) or EXCHANGE missing it (ENOENT); trailing slashes on
 * non-directories (ENOTDIR); a directory into its own subtree (EINVAL) or
 * onto an ancestor of the source (ENOTEMPTY); the same file on both
 * sides, which does nothing; the types; and last a mount point's EBUSY.
 * Every case fails or does nothing, so the tree ends as it began. */
static void test_rename_check_order(void **state)
{
	static const struct {
		const char *from, *to;
		unsigned flags;
		int want;
	} cases[] = {
	        {"/s/", "/s", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/f", "/f/", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/f/", "/g", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/f/", "/missing", VFS_RENAME_EXCHANGE, -ENOENT},
	        {"/f", "/missing/", VFS_RENAME_EXCHANGE, -ENOENT},
	        {"/missing", "/f", VFS_RENAME_NOREPLACE, -ENOENT},
	        {"/missing/", "/f/", VFS_RENAME_EXCHANGE, -ENOENT},
	        {"/f", "/f/", 0, -ENOTDIR},
	        {"/f", "/h/", 0, -ENOTDIR},
	        {"/f/", "/h", 0, -ENOTDIR},
	        {"/d/sub/x/", "/d", 0, -ENOTDIR},
	        {"/d/sub", "/d/", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/d/sub", "/d", 0, -ENOTEMPTY},
	        {"/d/sub", "/d", VFS_RENAME_EXCHANGE, -EINVAL},
	        {"/d", "/d/sub/n/", 0, -EINVAL},
	        {"/d/", "/d/sub/new/", 0, -EINVAL},
	        {"/d", "/d/sub/", VFS_RENAME_EXCHANGE, -EINVAL},
	        {"/d", "/d/sub/x", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/d", "/d/sub/x", 0, -EINVAL},
	        {"/f", "/h", 0, 0},
	        {"/f", "/h", VFS_RENAME_EXCHANGE, 0},
	        {"/f", "/h", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/d", "/d/", 0, 0},
	        {"/f", "/d/..", VFS_RENAME_EXCHANGE, -EBUSY},
	        {"/f", ".", VFS_RENAME_NOREPLACE, -EEXIST},
	        {".", "/f", VFS_RENAME_NOREPLACE, -EBUSY},
	        {"/f", "/e", 0, -EISDIR},
	        {"/e", "/f", 0, -ENOTDIR},
	        /* Next to a mount point (a memory store at /m). */
	        {"/m/.", "/x", 0, -EXDEV},
	        {"/f", "/m/.", 0, -EXDEV},
	        {"/m/y", "/m/..", 0, -EBUSY},
	        {"/f", "/m/", 0, -ENOTDIR},
	        {"/f", "/m", VFS_RENAME_NOREPLACE, -EEXIST},
	        {"/f", "/m", 0, -EISDIR},
	        {"/m", "/f", 0, -ENOTDIR},
	        {"/m", "/m", 0, 0},
	        {"/m/", "/m", VFS_RENAME_EXCHANGE, 0},
	        {"/e", "/m", 0, -EBUSY},
	        {"/m", "/e", VFS_RENAME_EXCHANGE, -EBUSY},
	        {"/m", "/m2", 0, -EBUSY},
	};
	vfs *v = conf_vfs(state);
	char *ls;

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/d/sub/x", "x");
	conf_mkdir(v, "/e");
	conf_put(v, "/f", "f");
	conf_put(v, "/g", "g");
	assert_int_equal(vfs_link(v, "/f", "/h"), 0);
	conf_symlink(v, "b", "/s");
	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), 0);
	conf_put(v, "/m/y", "y");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = vfs_rename(v, cases[i].from, cases[i].to,
		                    cases[i].flags);

		if (rc != cases[i].want)
			fail_msg("rename(\"%s\", \"%s\", %u) = %s, want %s",
			         cases[i].from, cases[i].to, cases[i].flags,
			         vfs_strerror(rc), vfs_strerror(cases[i].want));
	}
	ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\ne\nf\ng\nh\nm\ns\n");
	free(ls);
	conf_expect_str(v, "/d/sub/x", "x");
	conf_expect_str(v, "/f", "f");
	conf_expect_str(v, "/g", "g");
	conf_expect_str(v, "/m/y", "y");
	assert_int_equal(conf_lstat(v, "/h").ino, conf_lstat(v, "/f").ino);
	assert_int_equal(conf_lstat(v, "/e").mode & S_IFMT, S_IFDIR);
}

/* RENAME_EXCHANGE: a trailing slash on the target needs a directory there
 * (ENOTDIR otherwise, nothing exchanged), as one on the source does. */
static void test_rename_exchange_trailing_slash(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t f, d;

	conf_put(v, "/f", "f");
	conf_put(v, "/g", "g");
	conf_mkdir(v, "/d");
	f = conf_lstat(v, "/f").ino;
	d = conf_lstat(v, "/d").ino;
	assert_int_equal(vfs_rename(v, "/f", "/g/", VFS_RENAME_EXCHANGE),
	                 -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/d", "/g/", VFS_RENAME_EXCHANGE),
	                 -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/f/", "/d/", VFS_RENAME_EXCHANGE),
	                 -ENOTDIR);
	conf_expect_str(v, "/g", "g");
	assert_int_equal(conf_lstat(v, "/f").ino, f);
	/* A slash on the directory's name alone is fine. */
	assert_int_equal(vfs_rename(v, "/f", "/d/", VFS_RENAME_EXCHANGE), 0);
	assert_int_equal(conf_lstat(v, "/f").ino, d);
	conf_expect_str(v, "/d", "f");
}

int conf_run_rename(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_rename_file_keeps_inode_and_data),
	        CONF_TEST(test_rename_replaces_file),
	        CONF_TEST(test_rename_directories),
	        CONF_TEST(test_rename_onto_itself_is_noop),
	        CONF_TEST(test_rename_noreplace),
	        CONF_TEST(test_rename_exchange),
	        CONF_TEST(test_rename_bad_flags_einval),
	        CONF_TEST(test_rename_errors_leave_both_names),
	        CONF_TEST(test_rename_check_order),
	        CONF_TEST(test_rename_exchange_trailing_slash),
	};
	return CONF_RUN_GROUP("rename", tests);
}
