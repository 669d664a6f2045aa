/*
 * Permission checks (VFS_CHECK_PERMISSIONS) for a non-root caller, as the
 * kernel makes them: search and read/write bits with owner, group and
 * supplementary groups, owner-only chmod/chown/utimens, sticky
 * directories. Without the option nothing is checked.
 */
#include "conf.h"

#include <stdlib.h>

static const uint32_t conf_user_groups[1] = {50};
static const vfs_cred conf_user = {1000, 1000, 1, conf_user_groups};
static const vfs_cred conf_other = {1001, 1001, 0, NULL};
static const vfs_cred conf_root = {0, 0, 0, NULL};

static void conf_as(vfs *v, const vfs_cred *c)
{
	assert_int_equal(vfs_cred_set(v, c), 0);
}

static void conf_owned(vfs *v, const char *path, uint32_t mode, uint32_t uid,
                       uint32_t gid)
{
	conf_put(v, path, "data");
	assert_int_equal(vfs_chown(v, path, uid, gid), 0);
	assert_int_equal(vfs_chmod(v, path, mode), 0);
}

/* A fresh instance with checks on, populated as root. */
static vfs *conf_perm_vfs(void **state)
{
	vfs_options o;
	vfs *v;

	memset(&o, 0, sizeof o);
	o.version = VFS_OPTIONS_VERSION;
	o.flags = VFS_CHECK_PERMISSIONS;
	v = conf_reopen(state, &o);
	conf_as(v, &conf_root);
	assert_int_equal(vfs_chmod(v, "/", 0755), 0);
	assert_int_equal(vfs_chown(v, "/", 0, 0), 0);
	return v;
}

static void test_perms_search_permission(void **state)
{
	vfs *v = conf_perm_vfs(state);
	vfs_attr a;

	assert_int_equal(vfs_mkdir(v, "/p700", 0700), 0);
	conf_put(v, "/p700/f", "x");
	assert_int_equal(vfs_mkdir(v, "/p644", 0755), 0);
	conf_put(v, "/p644/f", "y");
	assert_int_equal(vfs_chmod(v, "/p644", 0644), 0);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_stat(v, "/p700/f", &a), -EACCES);
	assert_int_equal(vfs_open(v, "/p700/f", O_RDONLY, 0), -EACCES);
	assert_int_equal(vfs_open(v, "/p700/new", O_WRONLY | O_CREAT, 0644),
	                 -EACCES);
	assert_int_equal(vfs_opendir(v, "/p700"), -EACCES);
	assert_int_equal(vfs_stat(v, "/p700", &a), 0);
	/* Read without search: listing works, lookups do not. */
	assert_int_equal(vfs_stat(v, "/p644/f", &a), -EACCES);
	char *ls = conf_ls(v, "/p644");
	assert_string_equal(ls, "f\n");
	free(ls);
	/* Root is not checked. */
	conf_as(v, &conf_root);
	assert_int_equal(vfs_stat(v, "/p700/f", &a), 0);
}

static void test_perms_read_write_bits(void **state)
{
	vfs *v = conf_perm_vfs(state);
	int fd;

	conf_owned(v, "/rootf", 0644, 0, 0);
	conf_owned(v, "/g50", 0604, 0, 50);
	conf_owned(v, "/g50b", 0060, 0, 50);
	conf_owned(v, "/own", 0600, 1000, 1000);
	conf_owned(v, "/own000", 0000, 1000, 1000);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_open(v, "/rootf", O_WRONLY, 0), -EACCES);
	assert_int_equal(vfs_open(v, "/rootf", O_RDWR, 0), -EACCES);
	assert_int_equal(vfs_open(v, "/rootf", O_RDONLY | O_TRUNC, 0), -EACCES);
	assert_int_equal(vfs_truncate(v, "/rootf", 0), -EACCES);
	fd = vfs_open(v, "/rootf", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	/* The group class applies to members, and "other" is not consulted. */
	assert_int_equal(vfs_open(v, "/g50", O_RDONLY, 0), -EACCES);
	fd = vfs_open(v, "/g50b", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_open(v, "/own", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_open(v, "/own000", O_RDONLY, 0), -EACCES);
	conf_as(v, &conf_root);
	conf_expect_str(v, "/rootf", "data");
	fd = vfs_open(v, "/own000", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_perms_unwritable_directory(void **state)
{
	vfs *v = conf_perm_vfs(state);

	conf_mkdir(v, "/rd");
	conf_owned(v, "/rd/f", 0666, 1000, 1000);
	conf_owned(v, "/mine", 0666, 1000, 1000);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_open(v, "/rd/x", O_WRONLY | O_CREAT, 0644),
	                 -EACCES);
	assert_int_equal(vfs_mkdir(v, "/rd/y", 0755), -EACCES);
	assert_int_equal(vfs_symlink(v, "t", "/rd/z"), -EACCES);
	assert_int_equal(vfs_mknod(v, "/rd/p", S_IFIFO | 0644, 0), -EACCES);
	assert_int_equal(vfs_link(v, "/mine", "/rd/h"), -EACCES);
	assert_int_equal(vfs_unlink(v, "/rd/f"), -EACCES);
	assert_int_equal(vfs_rename(v, "/rd/f", "/rd/g", 0), -EACCES);
	assert_int_equal(vfs_rename(v, "/rd/f", "/moved", 0), -EACCES);
	/* The file itself stays writable. */
	conf_put(v, "/rd/f", "written");
	conf_as(v, &conf_root);
	conf_expect_str(v, "/rd/f", "written");
	char *ls = conf_ls(v, "/rd");
	assert_string_equal(ls, "f\n");
	free(ls);
}

static void test_perms_chmod_chown_owner_only(void **state)
{
	vfs *v = conf_perm_vfs(state);
	int fd;

	conf_owned(v, "/rootf", 0644, 0, 0);
	conf_owned(v, "/own", 0600, 1000, 1000);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_chmod(v, "/rootf", 0777), -EPERM);
	assert_int_equal(vfs_chown(v, "/rootf", 1000, (uint32_t)-1), -EPERM);
	fd = vfs_open(v, "/rootf", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_fchmod(v, fd, 0777), -EPERM);
	assert_int_equal(vfs_fchown(v, fd, 1000, 1000), -EPERM);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_chmod(v, "/own", 0640), 0);
	/* The owner may change the group to one of theirs only. */
	assert_int_equal(vfs_chown(v, "/own", (uint32_t)-1, 50), 0);
	assert_int_equal(vfs_chown(v, "/own", (uint32_t)-1, 60), -EPERM);
	assert_int_equal(vfs_chown(v, "/own", 1001, (uint32_t)-1), -EPERM);
	assert_int_equal(vfs_chown(v, "/own", 1000, 1000), 0);
	conf_as(v, &conf_root);
	vfs_attr a = conf_lstat(v, "/own");
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1000);
	assert_int_equal(conf_lstat(v, "/rootf").mode, S_IFREG | 0644);
	assert_int_equal(conf_lstat(v, "/rootf").uid, 0);
}

static void test_perms_utimens_rules(void **state)
{
	vfs *v = conf_perm_vfs(state);
	struct timespec set[2] = {{100, 0}, {200, 0}};
	struct timespec now[2] = {{0, VFS_UTIME_NOW}, {0, VFS_UTIME_NOW}};
	struct timespec omit[2] = {{0, VFS_UTIME_OMIT}, {0, VFS_UTIME_OMIT}};

	conf_owned(v, "/rootf", 0644, 0, 0);
	conf_owned(v, "/open", 0666, 0, 0);
	conf_owned(v, "/own", 0400, 1000, 1000);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_utimens(v, "/open", NULL, 0), 0);
	assert_int_equal(vfs_utimens(v, "/open", now, 0), 0);
	assert_int_equal(vfs_utimens(v, "/rootf", NULL, 0), -EACCES);
	assert_int_equal(vfs_utimens(v, "/open", set, 0), -EPERM);
	assert_int_equal(vfs_utimens(v, "/rootf", omit, 0), 0);
	assert_int_equal(vfs_utimens(v, "/own", set, 0), 0);
	assert_int_equal(vfs_utimens(v, "/own", NULL, 0), 0);
	conf_as(v, &conf_root);
	assert_int_not_equal(conf_lstat(v, "/open").mtime.tv_sec, 200);
}

static void test_perms_sticky_directory(void **state)
{
	vfs *v = conf_perm_vfs(state);
	int fd;

	assert_int_equal(vfs_mkdir(v, "/tmp", 0755), 0);
	assert_int_equal(vfs_chmod(v, "/tmp", 01777), 0);
	conf_as(v, &conf_user);
	conf_put(v, "/tmp/a", "user's");
	conf_mkdir(v, "/tmp/ad");
	conf_as(v, &conf_other);
	assert_int_equal(vfs_unlink(v, "/tmp/a"), -EPERM);
	assert_int_equal(vfs_rename(v, "/tmp/a", "/tmp/b", 0), -EPERM);
	assert_int_equal(vfs_rmdir(v, "/tmp/ad"), -EPERM);
	assert_int_equal(vfs_rename(v, "/tmp/ad", "/tmp/ae", 0), -EPERM);
	fd = vfs_open(v, "/tmp/c", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_rename(v, "/tmp/c", "/tmp/a", 0), -EPERM);
	assert_int_equal(vfs_unlink(v, "/tmp/c"), 0);
	conf_as(v, &conf_user);
	conf_expect_str(v, "/tmp/a", "user's");
	assert_int_equal(vfs_unlink(v, "/tmp/a"), 0);
	assert_int_equal(vfs_rmdir(v, "/tmp/ad"), 0);
}

static void test_perms_more_kernel_rules(void **state)
{
	vfs *v = conf_perm_vfs(state);
	vfs_attr a;
	int fd;

	/* Moving a directory to another parent needs write permission on
	 * the directory itself (its ".." changes); renaming it in place
	 * does not. */
	conf_mkdir(v, "/a");
	conf_mkdir(v, "/b");
	assert_int_equal(vfs_chmod(v, "/a", 0777), 0);
	assert_int_equal(vfs_chmod(v, "/b", 0777), 0);
	conf_mkdir(v, "/a/sub");
	/* O_CREAT of an existing file needs no write permission on the
	 * directory; creating a new one does. */
	conf_mkdir(v, "/rd");
	conf_owned(v, "/rd/f", 0666, 0, 0);
	/* Search without read: lookups work, listing does not. */
	assert_int_equal(vfs_mkdir(v, "/x711", 0711), 0);
	conf_put(v, "/x711/f", "x");
	/* Group of the file not among the caller's: chmod drops S_ISGID. */
	conf_owned(v, "/own", 0644, 1000, 777);
	/* The owner of a sticky directory may remove anyone's entries. */
	conf_mkdir(v, "/st");
	assert_int_equal(vfs_chown(v, "/st", 1000, 1000), 0);
	assert_int_equal(vfs_chmod(v, "/st", 01777), 0);
	conf_owned(v, "/st/other", 0644, 1001, 1001);
	conf_as(v, &conf_user);
	assert_int_equal(vfs_rename(v, "/a/sub", "/b/sub", 0), -EACCES);
	assert_int_equal(vfs_rename(v, "/a/sub", "/a/sub2", 0), 0);
	fd = vfs_open(v, "/rd/f", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_open(v, "/rd/g", O_WRONLY | O_CREAT, 0644),
	                 -EACCES);
	assert_int_equal(vfs_stat(v, "/x711/f", &a), 0);
	assert_int_equal(vfs_opendir(v, "/x711"), -EACCES);
	assert_int_equal(vfs_chmod(v, "/own", 02755), 0);
	assert_int_equal(conf_lstat(v, "/own").mode, S_IFREG | 0755);
	assert_int_equal(vfs_unlink(v, "/st/other"), 0);
	conf_as(v, &conf_root);
	assert_int_equal(vfs_lstat(v, "/b/sub", &a), -ENOENT);
	conf_lstat(v, "/a/sub2");
}

static void test_perms_off_by_default(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	assert_int_equal(vfs_mkdir(v, "/p700", 0700), 0);
	conf_put(v, "/p700/f", "x");
	assert_int_equal(vfs_chmod(v, "/p700/f", 0600), 0);
	conf_as(v, &conf_user);
	fd = vfs_open(v, "/p700/f", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "y", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	conf_put(v, "/p700/g", "new");
	assert_int_equal(conf_lstat(v, "/p700/g").uid, 1000);
	assert_int_equal(vfs_chmod(v, "/p700/f", 0644), 0);
	assert_int_equal(vfs_unlink(v, "/p700/g"), 0);
}

int conf_run_perms(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_perms_search_permission),
	        CONF_TEST(test_perms_read_write_bits),
	        CONF_TEST(test_perms_unwritable_directory),
	        CONF_TEST(test_perms_chmod_chown_owner_only),
	        CONF_TEST(test_perms_utimens_rules),
	        CONF_TEST(test_perms_sticky_directory),
	        CONF_TEST(test_perms_more_kernel_rules),
	        CONF_TEST(test_perms_off_by_default),
	};
	return CONF_RUN_GROUP("perms", tests);
}
