/*
 * Path resolution: empty paths, length limits, slashes, "." and "..",
 * trailing slashes, symlink following and loops, vfs_realpath().
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>

static void test_paths_empty_is_enoent(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	vfs_statvfs sf;
	char buf[64];

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_stat(v, "", &a), -ENOENT);
	assert_int_equal(vfs_lstat(v, "", &a), -ENOENT);
	assert_int_equal(vfs_open(v, "", O_RDONLY, 0), -ENOENT);
	assert_int_equal(vfs_open(v, "", O_WRONLY | O_CREAT, 0644), -ENOENT);
	assert_int_equal(vfs_mkdir(v, "", 0755), -ENOENT);
	assert_int_equal(vfs_rmdir(v, ""), -ENOENT);
	assert_int_equal(vfs_unlink(v, ""), -ENOENT);
	assert_int_equal(vfs_rename(v, "", "/x", 0), -ENOENT);
	assert_int_equal(vfs_rename(v, "/f", "", 0), -ENOENT);
	assert_int_equal(vfs_symlink(v, "", "/x"), -ENOENT);
	assert_int_equal(vfs_symlink(v, "f", ""), -ENOENT);
	assert_int_equal(vfs_link(v, "", "/x"), -ENOENT);
	assert_int_equal(vfs_link(v, "/f", ""), -ENOENT);
	assert_int_equal(vfs_readlink(v, "", buf, sizeof buf), -ENOENT);
	assert_int_equal(vfs_mknod(v, "", S_IFIFO | 0644, 0), -ENOENT);
	assert_int_equal(vfs_chmod(v, "", 0644), -ENOENT);
	assert_int_equal(vfs_chown(v, "", 1, 1), -ENOENT);
	assert_int_equal(vfs_lchown(v, "", 1, 1), -ENOENT);
	assert_int_equal(vfs_truncate(v, "", 0), -ENOENT);
	assert_int_equal(vfs_utimens(v, "", NULL, 0), -ENOENT);
	assert_int_equal(vfs_statfs(v, "", &sf), -ENOENT);
	assert_int_equal(vfs_opendir(v, ""), -ENOENT);
	assert_int_equal(vfs_realpath(v, "", buf, sizeof buf), -ENOENT);
	/* Nothing was created by any of these. */
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "f\n");
	free(ls);
}

static void test_paths_component_255_ok_256_enametoolong(void **state)
{
	vfs *v = conf_vfs(state);
	char *n255 = conf_repeat('n', 255), *n256 = conf_repeat('n', 256);
	char p[600];
	vfs_attr a;
	vfs_dirent de;
	int fd;

	snprintf(p, sizeof p, "/%s", n256);
	assert_int_equal(vfs_open(v, p, O_WRONLY | O_CREAT, 0644),
	                 -ENAMETOOLONG);
	assert_int_equal(vfs_stat(v, p, &a), -ENAMETOOLONG);
	assert_int_equal(vfs_mkdir(v, p, 0755), -ENAMETOOLONG);
	assert_int_equal(vfs_symlink(v, "x", p), -ENAMETOOLONG);
	assert_int_equal(vfs_mknod(v, p, S_IFIFO | 0644, 0), -ENAMETOOLONG);
	snprintf(p, sizeof p, "/%s", n255);
	conf_put(v, p, "long");
	conf_expect_str(v, p, "long");
	fd = vfs_opendir(v, "/");
	assert_true(fd >= 0);
	int found = 0;
	while (vfs_readdir(v, fd, &de) == 1) {
		if (de.namelen == 255) {
			assert_memory_equal(de.name, n255, 256);
			found++;
		}
	}
	assert_int_equal(found, 1);
	assert_int_equal(vfs_close(v, fd), 0);
	/* A too-long component inside an existing directory path. */
	conf_mkdir(v, "/d");
	snprintf(p, sizeof p, "/d/%s/x", n256);
	assert_int_equal(vfs_stat(v, p, &a), -ENAMETOOLONG);
	snprintf(p, sizeof p, "/%s", n255);
	assert_int_equal(vfs_rename(v, p, "/short", 0), 0);
	snprintf(p, sizeof p, "/d/%s", n256);
	assert_int_equal(vfs_rename(v, "/short", p, 0), -ENAMETOOLONG);
	assert_int_equal(vfs_link(v, "/short", p), -ENAMETOOLONG);
	conf_expect_str(v, "/short", "long");
	free(n255);
	free(n256);
}

static void test_paths_4096_enametoolong_4095_accepted(void **state)
{
	vfs *v = conf_vfs(state);
	char *p = conf_repeat('a', 4096);
	vfs_attr a;

	/* "/" then components of 199 bytes: nothing exists. */
	p[0] = '/';
	for (size_t i = 200; i < 4096; i += 200) {
		p[i] = '/';
	}
	assert_int_equal(vfs_stat(v, p, &a), -ENAMETOOLONG);
	assert_int_equal(vfs_open(v, p, O_WRONLY | O_CREAT, 0644),
	                 -ENAMETOOLONG);
	assert_int_equal(vfs_mkdir(v, p, 0755), -ENAMETOOLONG);
	p[4095] = '\0';
	assert_int_equal(vfs_stat(v, p, &a), -ENOENT);
	free(p);
	/* Slashes count too: 4094 slashes and "f" reach /f ... */
	conf_put(v, "/f", "x");
	p = conf_repeat('/', 4096);
	p[4094] = 'f';
	p[4095] = '\0';
	assert_int_equal(vfs_stat(v, p, &a), 0);
	assert_int_equal(a.size, 1);
	free(p);
	/* ... and 4095 slashes and "f" do not. */
	p = conf_repeat('/', 4097);
	p[4095] = 'f';
	p[4096] = '\0';
	assert_int_equal(vfs_stat(v, p, &a), -ENAMETOOLONG);
	free(p);
	/* "./" repeated past the limit: checked before resolution. */
	p = conf_repeat('.', 5000);
	for (size_t i = 1; i < 5000; i += 2) {
		p[i] = '/';
	}
	assert_int_equal(vfs_stat(v, p, &a), -ENAMETOOLONG);
	free(p);
	/* A symlink target of 4095 bytes is fine, 4096 is not. */
	p = conf_repeat('t', 4096);
	assert_int_equal(vfs_symlink(v, p, "/l4096"), -ENAMETOOLONG);
	p[4095] = '\0';
	assert_int_equal(vfs_symlink(v, p, "/l4095"), 0);
	assert_int_equal(conf_lstat(v, "/l4095").size, 4095);
	char *buf = malloc(5000);
	assert_non_null(buf);
	assert_int_equal(vfs_readlink(v, "/l4095", buf, 5000), 4095);
	assert_memory_equal(buf, p, 4095);
	free(buf);
	free(p);
}

static void test_paths_repeated_slashes_and_dots(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/e");
	conf_put(v, "/d/e/f", "data");
	conf_expect_str(v, "//d///e////f", "data");
	conf_expect_str(v, "d/e/f", "data");
	conf_expect_str(v, "/./d/./e/./f", "data");
	conf_expect_str(v, "/d/../d/e/../e/f", "data");
	conf_expect_str(v, "./d/e/f", "data");
	conf_expect_str(v, "../d/e/f", "data");
	conf_expect_str(v, "/d/e/.//./f", "data");
	assert_int_equal(conf_stat(v, "/d/e/.").ino, conf_stat(v, "/d/e").ino);
	assert_int_equal(conf_stat(v, "/d/e/..").ino, conf_stat(v, "/d").ino);
	assert_int_equal(conf_stat(v, "/d/e//").ino, conf_stat(v, "/d/e").ino);
}

static void test_paths_dotdot_at_root_stays_at_root(void **state)
{
	vfs *v = conf_vfs(state);
	uint64_t root;

	conf_put(v, "/a", "top");
	conf_mkdir(v, "/d");
	root = conf_stat(v, "/").ino;
	assert_int_equal(conf_stat(v, "/..").ino, root);
	assert_int_equal(conf_stat(v, "/../../..").ino, root);
	assert_int_equal(conf_stat(v, "..").ino, root);
	conf_expect_str(v, "/../../a", "top");
	conf_expect_str(v, "../a", "top");
	conf_expect_str(v, "/d/../../../a", "top");
	/* A symlink cannot climb out either. */
	conf_symlink(v, "../../../../a", "/d/up");
	conf_expect_str(v, "/d/up", "top");
	conf_put(v, "/../../created", "new");
	conf_expect_str(v, "/created", "new");
}

static void test_paths_trailing_slash_on_file(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_put(v, "/f", "data");
	assert_int_equal(vfs_stat(v, "/f/", &a), -ENOTDIR);
	assert_int_equal(vfs_lstat(v, "/f/", &a), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f/", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f/", O_RDONLY | O_CREAT, 0644), -EISDIR);
	assert_int_equal(vfs_open(v, "/new/", O_RDONLY | O_CREAT, 0644),
	                 -EISDIR);
	assert_int_equal(vfs_open(v, "/new/", O_WRONLY | O_CREAT, 0644),
	                 -EISDIR);
	assert_int_equal(vfs_unlink(v, "/f/"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/f/"), -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/f/", "/x", 0), -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/f", "/x/", 0), -ENOTDIR);
	assert_int_equal(vfs_link(v, "/f/", "/y"), -ENOTDIR);
	assert_int_equal(vfs_link(v, "/f", "/new/"), -ENOENT);
	assert_int_equal(vfs_symlink(v, "x", "/new/"), -ENOENT);
	assert_int_equal(vfs_mkdir(v, "/f/", 0755), -EEXIST);
	assert_int_equal(vfs_open(v, "/f/.", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f/..", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(vfs_stat(v, "/f/.", &a), -ENOTDIR);
	assert_int_equal(vfs_stat(v, "/f/..", &a), -ENOTDIR);
	assert_int_equal(vfs_truncate(v, "/f/", 0), -ENOTDIR);
	assert_int_equal(vfs_chmod(v, "/f/", 0600), -ENOTDIR);
	/* Nothing changed. */
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "f\n");
	free(ls);
	conf_expect_str(v, "/f", "data");
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0644);
}

static void test_paths_trailing_slash_on_dir(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	assert_int_equal(vfs_mkdir(v, "/newdir/", 0755), 0);
	assert_int_equal(conf_lstat(v, "/newdir").mode, S_IFDIR | 0755);
	assert_int_equal(conf_stat(v, "/newdir/").ino,
	                 conf_stat(v, "/newdir").ino);
	fd = vfs_open(v, "/newdir/", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_rename(v, "/newdir/", "/other/", 0), 0);
	assert_int_equal(vfs_rmdir(v, "/other/"), 0);
	assert_int_equal(vfs_stat(v, "/other", &(vfs_attr){0}), -ENOENT);
	/* mkdir "d//" and "d/." forms. */
	assert_int_equal(vfs_mkdir(v, "/two//", 0755), 0);
	assert_int_equal(vfs_mkdir(v, "/two/.", 0755), -EEXIST);
}

static void test_paths_trailing_slash_follows_symlink(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[16];

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	conf_symlink(v, "d", "/ld");
	conf_symlink(v, "f", "/lf");
	assert_int_equal(conf_lstat(v, "/ld").mode, S_IFLNK | 0777);
	assert_int_equal(conf_lstat(v, "/ld/").mode, S_IFDIR | 0755);
	assert_int_equal(vfs_lstat(v, "/lf/", &(vfs_attr){0}), -ENOTDIR);
	assert_int_equal(vfs_unlink(v, "/ld/"), -ENOTDIR);
	assert_int_equal(vfs_unlink(v, "/lf/"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/ld/"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/ld"), -ENOTDIR);
	assert_int_equal(vfs_readlink(v, "/ld/", buf, sizeof buf), -EINVAL);
	assert_int_equal(vfs_mkdir(v, "/ld/", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/lf/", 0755), -EEXIST);
	assert_int_equal(conf_lstat(v, "/ld").mode, S_IFLNK | 0777);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 0755);
}

static void test_paths_file_used_as_directory(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_stat(v, "/f/x", &a), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f/x", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f/x", O_WRONLY | O_CREAT, 0644),
	                 -ENOTDIR);
	assert_int_equal(vfs_mkdir(v, "/f/x", 0755), -ENOTDIR);
	assert_int_equal(vfs_unlink(v, "/f/x"), -ENOTDIR);
	assert_int_equal(vfs_rmdir(v, "/f/x"), -ENOTDIR);
	assert_int_equal(vfs_symlink(v, "t", "/f/x"), -ENOTDIR);
	assert_int_equal(vfs_mknod(v, "/f/x", S_IFIFO | 0644, 0), -ENOTDIR);
	assert_int_equal(vfs_rename(v, "/f", "/f/x", 0), -ENOTDIR);
	assert_int_equal(vfs_link(v, "/f", "/f/x"), -ENOTDIR);
	assert_int_equal(vfs_opendir(v, "/f"), -ENOTDIR);
	assert_int_equal(vfs_open(v, "/f", O_RDONLY | O_DIRECTORY, 0),
	                 -ENOTDIR);
}

static void test_paths_missing_parent_is_enoent(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;

	conf_put(v, "/f", "x");
	assert_int_equal(vfs_stat(v, "/no/x", &a), -ENOENT);
	assert_int_equal(vfs_open(v, "/no/x", O_WRONLY | O_CREAT, 0644),
	                 -ENOENT);
	assert_int_equal(vfs_mkdir(v, "/no/x", 0755), -ENOENT);
	assert_int_equal(vfs_symlink(v, "t", "/no/x"), -ENOENT);
	assert_int_equal(vfs_link(v, "/f", "/no/x"), -ENOENT);
	assert_int_equal(vfs_rename(v, "/f", "/no/x", 0), -ENOENT);
	assert_int_equal(vfs_rename(v, "/no/x", "/y", 0), -ENOENT);
	assert_int_equal(vfs_link(v, "/missing", "/y"), -ENOENT);
	assert_int_equal(vfs_unlink(v, "/missing"), -ENOENT);
	assert_int_equal(vfs_rmdir(v, "/missing"), -ENOENT);
	assert_int_equal(vfs_mknod(v, "/no/x", S_IFIFO | 0644, 0), -ENOENT);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "f\n");
	free(ls);
}

/* "." and ".." as the final component. */
static void test_paths_dot_and_dotdot_final_component(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_mkdir(v, ".", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/d/..", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/d/.", 0755), -EEXIST);
	assert_int_equal(vfs_link(v, "/f", "/d/."), -EEXIST);
	assert_int_equal(vfs_symlink(v, "f", "/d/.."), -EEXIST);
	assert_int_equal(vfs_mknod(v, "/d/.", S_IFIFO | 0644, 0), -EEXIST);
	assert_int_equal(vfs_rmdir(v, "."), -EINVAL);
	assert_int_equal(vfs_rmdir(v, "/d/."), -EINVAL);
	assert_int_equal(vfs_rmdir(v, "/d/.."), -ENOTEMPTY);
	assert_int_equal(vfs_unlink(v, "."), -EISDIR);
	assert_int_equal(vfs_unlink(v, "/d/.."), -EISDIR);
	assert_int_equal(vfs_unlink(v, "/d"), -EISDIR);
	assert_int_equal(vfs_rename(v, "/d/.", "/x", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/d/..", "/x", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/f", "/d/.", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/f", "/d/..", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/f", ".", 0), -EBUSY);
	assert_int_equal(vfs_open(v, ".", O_CREAT | O_WRONLY, 0644), -EISDIR);
	assert_int_equal(vfs_open(v, "/d/..", O_CREAT | O_RDONLY, 0644),
	                 -EISDIR);
	int fd = vfs_open(v, "/d/.", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	/* Everything is still in place. */
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\n");
	free(ls);
	ls = conf_ls(v, "/d");
	assert_string_equal(ls, "");
	free(ls);
}

/* open(O_CREAT) on ".", ".." or "/": the directory exists, so O_EXCL is
 * EEXIST and without it EISDIR, before a read-only mount's EROFS; a
 * trailing slash is EISDIR with or without O_EXCL (Linux's do_open()). */
static void test_paths_creat_excl_on_dot_eexist(void **state)
{
	static const char *dots[] = {".",     "..",    "/",     "/d/.",
	                             "/d/..", "/d/./", "/ro/.", "/ro/.."};
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "x");
	assert_int_equal(vfs_mount_spec(v, "/ro", "memory,ro", NULL, 0), 0);
	for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
		assert_int_equal(
		        vfs_open(v, dots[i], O_WRONLY | O_CREAT | O_EXCL, 0644),
		        -EEXIST);
		assert_int_equal(vfs_open(v, dots[i], O_RDONLY | O_CREAT, 0644),
		                 -EISDIR);
	}
	assert_int_equal(vfs_open(v, "/f/.", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -ENOTDIR);
	assert_int_equal(vfs_open(v, "/no/.", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -ENOENT);
	assert_int_equal(vfs_open(v, "/new/", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -EISDIR);
	assert_int_equal(vfs_open(v, "/d/", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -EISDIR);
	assert_int_equal(vfs_open(v, "/d", O_RDWR | O_CREAT | O_EXCL, 0644),
	                 -EEXIST);
	/* Nothing was created. */
	assert_int_equal(conf_lstat(v, "/d").nlink, 2);
	assert_int_equal(vfs_lstat(v, "/new", &(vfs_attr){0}), -ENOENT);
	char *ls = conf_ls(v, "/");
	assert_string_equal(ls, "d\nf\nro\n");
	free(ls);
}

static void test_paths_root_as_final_component(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	assert_int_equal(vfs_rmdir(v, "/"), -EBUSY);
	assert_int_equal(vfs_unlink(v, "/"), -EISDIR);
	assert_int_equal(vfs_rename(v, "/", "/zz", 0), -EBUSY);
	assert_int_equal(vfs_rename(v, "/d", "/", 0), -EBUSY);
	assert_int_equal(vfs_mkdir(v, "/", 0755), -EEXIST);
	assert_int_equal(vfs_open(v, "/", O_CREAT | O_WRONLY, 0644), -EISDIR);
	assert_int_equal(vfs_open(v, "/", O_WRONLY, 0), -EISDIR);
	assert_int_equal(vfs_symlink(v, "x", "/"), -EEXIST);
	assert_int_equal(vfs_link(v, "/d", "/"), -EEXIST);
	assert_int_equal(vfs_mknod(v, "/", S_IFIFO | 0644, 0), -EEXIST);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 0755);
}

static void test_paths_symlink_loop_eloop(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	char buf[8];

	conf_symlink(v, "lb", "/la");
	conf_symlink(v, "la", "/lb");
	conf_symlink(v, "self", "/self");
	assert_int_equal(vfs_stat(v, "/la", &a), -ELOOP);
	assert_int_equal(vfs_open(v, "/la", O_RDONLY, 0), -ELOOP);
	assert_int_equal(vfs_open(v, "/self", O_RDONLY, 0), -ELOOP);
	assert_int_equal(vfs_stat(v, "/la/", &a), -ELOOP);
	assert_int_equal(vfs_open(v, "/la/", O_RDONLY, 0), -ELOOP);
	assert_int_equal(vfs_stat(v, "/la/x", &a), -ELOOP);
	assert_int_equal(vfs_open(v, "/la/x", O_WRONLY | O_CREAT, 0644),
	                 -ELOOP);
	assert_int_equal(vfs_open(v, "/la", O_WRONLY | O_CREAT, 0644), -ELOOP);
	assert_int_equal(vfs_chmod(v, "/la", 0600), -ELOOP);
	assert_int_equal(vfs_truncate(v, "/la", 0), -ELOOP);
	assert_int_equal(vfs_realpath(v, "/la", buf, sizeof buf), -ELOOP);
	assert_int_equal(vfs_mkdir(v, "/la", 0755), -EEXIST);
	assert_int_equal(vfs_lstat(v, "/la", &a), 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(vfs_readlink(v, "/la", buf, sizeof buf), 2);
	assert_memory_equal(buf, "lb", 2);
	assert_int_equal(vfs_unlink(v, "/la"), 0);
	assert_int_equal(vfs_lstat(v, "/la", &a), -ENOENT);
}

static void test_paths_symlink_chain_40_ok_41_eloop(void **state)
{
	vfs *v = conf_vfs(state);
	char name[32], target[32];
	vfs_attr a;

	conf_put(v, "/f", "end");
	/* c0 -> f, c1 -> c0, ...: following cN takes N + 1 links. */
	for (int i = 0; i <= 41; i++) {
		snprintf(name, sizeof name, "/c%d", i);
		if (i == 0) {
			snprintf(target, sizeof target, "f");
		} else {
			snprintf(target, sizeof target, "c%d", i - 1);
		}
		conf_symlink(v, target, name);
	}
	conf_expect_str(v, "/c38", "end");
	conf_expect_str(v, "/c39", "end");
	assert_int_equal(vfs_open(v, "/c40", O_RDONLY, 0), -ELOOP);
	assert_int_equal(vfs_stat(v, "/c40", &a), -ELOOP);
	assert_int_equal(vfs_stat(v, "/c41", &a), -ELOOP);
	assert_int_equal(vfs_stat(v, "/c39", &a), 0);
	assert_int_equal(vfs_lstat(v, "/c41", &a), 0);
	/* The count is per resolution, across components: 20 + 20 ok. */
	conf_mkdir(v, "/d");
	conf_put(v, "/d/g", "deep");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "/e%d", i);
		if (i == 0) {
			snprintf(target, sizeof target, "d");
		} else {
			snprintf(target, sizeof target, "e%d", i - 1);
		}
		conf_symlink(v, target, name);
	}
	conf_symlink(v, "/c18", "/d/h");     /* 1 + 19 links */
	conf_expect_str(v, "/e19/h", "end"); /* 20 + 20 = 40 */
	conf_symlink(v, "/c19", "/d/i");
	assert_int_equal(vfs_stat(v, "/e19/i", &a), -ELOOP); /* 41 */
}

static void test_paths_dangling_symlink_creat(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_mkdir(v, "/d");
	conf_symlink(v, "target", "/d/dl");
	conf_symlink(v, "/abs", "/dl2");
	conf_symlink(v, "/nodir/x", "/dl3");
	assert_int_equal(
	        vfs_open(v, "/d/dl", O_WRONLY | O_CREAT | O_EXCL, 0644),
	        -EEXIST);
	assert_int_equal(
	        vfs_open(v, "/d/dl", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644),
	        -ELOOP);
	assert_int_equal(vfs_mkdir(v, "/d/dl", 0755), -EEXIST);
	assert_int_equal(vfs_mkdir(v, "/d/dl/", 0755), -EEXIST);
	assert_int_equal(vfs_lstat(v, "/d/target", &(vfs_attr){0}), -ENOENT);
	fd = vfs_open(v, "/d/dl", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "via link", 8), 8);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/d/target").mode, S_IFREG | 0600);
	conf_expect_str(v, "/d/target", "via link");
	assert_int_equal(conf_lstat(v, "/d/dl").mode, S_IFLNK | 0777);
	fd = vfs_open(v, "/dl2", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/abs").mode, S_IFREG | 0644);
	assert_int_equal(vfs_open(v, "/dl3", O_WRONLY | O_CREAT, 0644),
	                 -ENOENT);
	/* Existing target with O_CREAT|O_NOFOLLOW is ELOOP too. */
	assert_int_equal(
	        vfs_open(v, "/dl2", O_RDONLY | O_CREAT | O_NOFOLLOW, 0644),
	        -ELOOP);
	assert_int_equal(vfs_open(v, "/dl2", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
}

static void test_paths_dotdot_after_symlink_uses_target_parent(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/d/x", "in d");
	conf_put(v, "/x", "in root");
	conf_symlink(v, "/d/sub", "/l");
	conf_expect_str(v, "/l/../x", "in d");
	conf_mkdir(v, "/d2");
	conf_symlink(v, "../d/sub", "/d2/rel");
	conf_expect_str(v, "/d2/rel/../x", "in d");
	conf_expect_str(v, "/d2/rel/../../x", "in root");
	char buf[64];
	assert_int_equal(vfs_realpath(v, "/l/..", buf, sizeof buf), 2);
	assert_string_equal(buf, "/d");
}

static void test_paths_absolute_symlink_resolves_from_vfs_root(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/d");
	conf_put(v, "/f", "root file");
	conf_symlink(v, "/f", "/d/abs");
	conf_symlink(v, "/../../../f", "/d/abs2");
	conf_symlink(v, "//d/./abs", "/d/abs3");
	conf_expect_str(v, "/d/abs", "root file");
	conf_expect_str(v, "/d/abs2", "root file");
	conf_expect_str(v, "/d/abs3", "root file");
	/* From inside another mount, "/" is still the VFS root. */
	assert_int_equal(vfs_mount_spec(v, "/d/m", "memory", NULL, 0), 0);
	conf_symlink(v, "/f", "/d/m/abs");
	conf_symlink(v, "../../f", "/d/m/rel");
	conf_expect_str(v, "/d/m/abs", "root file");
	conf_expect_str(v, "/d/m/rel", "root file");
}

static void test_paths_nofollow_only_affects_final_component(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	conf_mkdir(v, "/d");
	conf_put(v, "/d/f", "x");
	conf_symlink(v, "d", "/ld");
	fd = vfs_open(v, "/ld/f", O_RDONLY | O_NOFOLLOW, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_open(v, "/ld", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	assert_int_equal(
	        vfs_open(v, "/ld", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0),
	        -ENOTDIR);
	fd = vfs_open(v, "/ld", O_RDONLY | O_DIRECTORY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
}

static void test_paths_names_are_bytes(void **state)
{
	vfs *v = conf_vfs(state);
	const char *names[] = {
	        "\xff\xfe",  "A", "a", "with space", "new\nline", "\xc3\xbc",
	        "u\xcc\x88", "*", "%", "_",          "a.",        "-"};
	size_t n = sizeof names / sizeof names[0];
	char p[64], *ls;

	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof p, "/%s", names[i]);
		conf_put(v, p, names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof p, "/%s", names[i]);
		conf_expect_str(v, p, names[i]);
	}
	ls = conf_ls(v, "/");
	assert_string_equal(ls, "%\n*\n-\nA\n_\na\na.\nnew\nline\n"
	                        "u\xcc\x88\nwith space\n\xc3\xbc\n\xff\xfe\n");
	free(ls);
	assert_int_equal(vfs_stat(v, "/b", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_stat(v, "/B", &(vfs_attr){0}), -ENOENT);
	assert_int_equal(vfs_unlink(v, "/A"), 0);
	conf_expect_str(v, "/a", "a");
}

static void test_paths_realpath_canonical(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[256];

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/d/sub/f", "x");
	conf_symlink(v, "/d/sub", "/l");
	conf_symlink(v, "../d/sub/f", "/d/rel");
	assert_int_equal(vfs_realpath(v, "/", buf, sizeof buf), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(vfs_realpath(v, "//d///sub/", buf, sizeof buf), 6);
	assert_string_equal(buf, "/d/sub");
	assert_int_equal(vfs_realpath(v, "d/./sub/../sub/f", buf, sizeof buf),
	                 8);
	assert_string_equal(buf, "/d/sub/f");
	assert_int_equal(vfs_realpath(v, "/../../d", buf, sizeof buf), 2);
	assert_string_equal(buf, "/d");
	assert_int_equal(vfs_realpath(v, "/l", buf, sizeof buf), 6);
	assert_string_equal(buf, "/d/sub");
	assert_int_equal(vfs_realpath(v, "/l/f", buf, sizeof buf), 8);
	assert_string_equal(buf, "/d/sub/f");
	assert_int_equal(vfs_realpath(v, "/d/rel", buf, sizeof buf), 8);
	assert_string_equal(buf, "/d/sub/f");
	assert_int_equal(vfs_realpath(v, "/..", buf, sizeof buf), 1);
	assert_string_equal(buf, "/");
}

static void test_paths_realpath_errors(void **state)
{
	vfs *v = conf_vfs(state);
	char buf[64];

	conf_mkdir(v, "/d");
	conf_mkdir(v, "/d/sub");
	conf_put(v, "/f", "x");
	conf_symlink(v, "nowhere", "/dangling");
	/* "/d/sub" needs 7 bytes with its NUL. */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(vfs_realpath(v, "/d/sub", buf, 6), -ERANGE);
	assert_int_equal(buf[6], 'Z');
	assert_int_equal(vfs_realpath(v, "/d/sub", buf, 0), -ERANGE);
	assert_int_equal(vfs_realpath(v, "/d/sub", buf, 7), 6);
	assert_string_equal(buf, "/d/sub");
	assert_int_equal(vfs_realpath(v, "/missing", buf, sizeof buf), -ENOENT);
	assert_int_equal(vfs_realpath(v, "/dangling", buf, sizeof buf),
	                 -ENOENT);
	assert_int_equal(vfs_realpath(v, "/f/", buf, sizeof buf), -ENOTDIR);
	assert_int_equal(vfs_realpath(v, "/f/x", buf, sizeof buf), -ENOTDIR);
	char *p = conf_repeat('a', 4096);
	assert_int_equal(vfs_realpath(v, p, buf, sizeof buf), -ENAMETOOLONG);
	free(p);
}

int conf_run_paths(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_paths_empty_is_enoent),
	        CONF_TEST(test_paths_component_255_ok_256_enametoolong),
	        CONF_TEST(test_paths_4096_enametoolong_4095_accepted),
	        CONF_TEST(test_paths_repeated_slashes_and_dots),
	        CONF_TEST(test_paths_dotdot_at_root_stays_at_root),
	        CONF_TEST(test_paths_trailing_slash_on_file),
	        CONF_TEST(test_paths_trailing_slash_on_dir),
	        CONF_TEST(test_paths_trailing_slash_follows_symlink),
	        CONF_TEST(test_paths_file_used_as_directory),
	        CONF_TEST(test_paths_missing_parent_is_enoent),
	        CONF_TEST(test_paths_dot_and_dotdot_final_component),
	        CONF_TEST(test_paths_creat_excl_on_dot_eexist),
	        CONF_TEST(test_paths_root_as_final_component),
	        CONF_TEST(test_paths_symlink_loop_eloop),
	        CONF_TEST(test_paths_symlink_chain_40_ok_41_eloop),
	        CONF_TEST(test_paths_dangling_symlink_creat),
	        CONF_TEST(test_paths_dotdot_after_symlink_uses_target_parent),
	        CONF_TEST(test_paths_absolute_symlink_resolves_from_vfs_root),
	        CONF_TEST(test_paths_nofollow_only_affects_final_component),
	        CONF_TEST(test_paths_names_are_bytes),
	        CONF_TEST(test_paths_realpath_canonical),
	        CONF_TEST(test_paths_realpath_errors),
	};
	return CONF_RUN_GROUP("paths", tests);
}
