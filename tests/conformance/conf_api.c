/*
 * Instances, options, credentials, umask, store specs, vfs_strerror() and
 * vfs_path_check(): the calls that do not walk the namespace.
 */
#include "conf.h"

#include <limits.h>
#include <unistd.h>
#include <stdlib.h>

static void test_api_new_rejects_unknown_options_version(void **state)
{
	vfs_options o;
	vfs *v = (vfs *)state; /* any non-NULL value: must be left alone */
	vfs *orig = v;

	(void)state;
	memset(&o, 0, sizeof o);
	o.version = VFS_OPTIONS_VERSION + 100;
	assert_int_equal(vfs_new(&v, &o), -EINVAL);
	assert_ptr_equal(v, orig);
	o.version = 0;
	assert_int_equal(vfs_new(&v, &o), -EINVAL);
}

static void test_api_free_accepts_null(void **state)
{
	(void)state;
	vfs_free(NULL);
	vfs_store_free(NULL);
}

static void test_api_empty_namespace_is_readonly_dir(void **state)
{
	vfs *v;
	vfs_attr a;
	char *ls;

	(void)state;
	assert_int_equal(vfs_new(&v, NULL), 0);
	assert_int_equal(vfs_stat(v, "/", &a), 0);
	assert_int_equal(a.mode & S_IFMT, S_IFDIR);
	assert_int_equal(vfs_mkdir(v, "/x", 0755), -EROFS);
	assert_int_equal(vfs_open(v, "/f", O_WRONLY | O_CREAT, 0644), -EROFS);
	assert_int_equal(vfs_stat(v, "/x", &a), -ENOENT);
	ls = conf_ls(v, "/");
	assert_string_equal(ls, "");
	free(ls);
	/* A mount elsewhere appears in the empty root. */
	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), 0);
	ls = conf_ls(v, "/");
	assert_string_equal(ls, "m\n");
	free(ls);
	assert_int_equal(vfs_stat(v, "/m", &a), 0);
	assert_int_equal(a.mode & S_IFMT, S_IFDIR);
	conf_put(v, "/m/f", "x");
	conf_expect_str(v, "/m/f", "x");
	vfs_free(v);
}

static void test_api_cred_set_rejects_bad_groups(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_cred c = {1000, 1000, 1, NULL};
	uint32_t *many;

	assert_int_equal(vfs_cred_set(v, &c), -EINVAL);
	many = calloc(65537, sizeof *many);
	assert_non_null(many);
	c.groups = many;
	c.ngroups = 65537;
	assert_int_equal(vfs_cred_set(v, &c), -EINVAL);
	c.ngroups = 65536;
	assert_int_equal(vfs_cred_set(v, &c), 0);
	free(many);
	/* The instance copied the groups: creating still works. */
	conf_put(v, "/f", "x");
	assert_int_equal(conf_lstat(v, "/f").uid, 1000);
}

static void test_api_new_nodes_owned_by_credentials(void **state)
{
	vfs *v = conf_vfs(state);
	uint32_t groups[2] = {7, 8};
	vfs_cred c = {1234, 5678, 2, groups};
	vfs_attr a;

	conf_put(v, "/root-owned", "x");
	a = conf_lstat(v, "/root-owned");
	assert_int_equal(a.uid, (uint32_t)geteuid());
	assert_int_equal(a.gid, (uint32_t)getegid());
	assert_int_equal(vfs_cred_set(v, &c), 0);
	conf_put(v, "/f", "x");
	conf_mkdir(v, "/d");
	conf_symlink(v, "f", "/l");
	assert_int_equal(vfs_mknod(v, "/p", S_IFIFO | 0644, 0), 0);
	const char *paths[] = {"/f", "/d", "/l", "/p"};
	for (size_t i = 0; i < 4; i++) {
		a = conf_lstat(v, paths[i]);
		assert_int_equal(a.uid, 1234);
		assert_int_equal(a.gid, 5678);
	}
}

static void test_api_umask_applies_to_creation(void **state)
{
	vfs *v = conf_vfs(state);
	int fd;

	assert_int_equal(vfs_umask(v, 027), 022);
	assert_int_equal(vfs_umask(v, 027), 027);
	fd = vfs_open(v, "/f", O_WRONLY | O_CREAT, 0777);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0750);
	assert_int_equal(vfs_mkdir(v, "/d", 0777), 0);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 0750);
	assert_int_equal(vfs_mknod(v, "/p", S_IFIFO | 0666, 0), 0);
	assert_int_equal(conf_lstat(v, "/p").mode, S_IFIFO | 0640);
	/* Symlinks are always 0777. */
	conf_symlink(v, "f", "/l");
	assert_int_equal(conf_lstat(v, "/l").mode, S_IFLNK | 0777);
	assert_int_equal(vfs_umask(v, 0), 027);
	fd = vfs_open(v, "/g", O_WRONLY | O_CREAT, 0666);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/g").mode, S_IFREG | 0666);
}

static void test_api_default_umask_is_022(void **state)
{
	vfs *v = conf_vfs(state);
	int fd = vfs_open(v, "/f", O_WRONLY | O_CREAT, 0666);

	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(conf_lstat(v, "/f").mode, S_IFREG | 0644);
	assert_int_equal(vfs_mkdir(v, "/d", 0777), 0);
	assert_int_equal(conf_lstat(v, "/d").mode, S_IFDIR | 0755);
}

static void test_api_store_open_rejects_bad_specs(void **state)
{
	vfs_store *s = NULL;
	char err[256];

	(void)state;
	memset(err, 0, sizeof err);
	assert_int_equal(vfs_store_open(&s, "memory,bogus=1", err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	memset(err, 0, sizeof err);
	assert_int_equal(vfs_store_open(&s, "memory,size=12Q", err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "size"));
	assert_int_equal(vfs_store_open(&s, "memory,inodes=", NULL, 0),
	                 -EINVAL);
	assert_int_equal(vfs_store_open(&s, "", NULL, 0), -EINVAL);
	/* A tiny error buffer is respected and still terminated. */
	memset(err, 'x', sizeof err);
	assert_int_equal(vfs_store_open(&s, "memory,bogus=1", err, 4), -EINVAL);
	assert_true(strlen(err) <= 3);
	assert_int_equal(err[5], 'x');
}

static void test_api_store_open_and_mount_add(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_store *s = NULL;

	assert_int_equal(vfs_store_open(&s, "memory", NULL, 0), 0);
	assert_non_null(s);
	assert_int_equal(vfs_mount_add(v, "/m", s, 0x80), -EINVAL);
	/* Still ours after a failed mount. */
	assert_int_equal(vfs_mount_add(v, "/m", s, 0), 0);
	conf_put(v, "/m/f", "data");
	conf_expect_str(v, "/m/f", "data");
	assert_int_equal(vfs_mount_remove(v, "/m"), 0);
	assert_int_equal(vfs_stat(v, "/m/f", &(vfs_attr){0}), -ENOENT);
	s = NULL;
	assert_int_equal(vfs_memory_new(&s, NULL), 0);
	vfs_store_free(s);
}

static void test_api_memory_new_rejects_bad_version(void **state)
{
	vfs_memory_options o;
	vfs_store *s = NULL;

	(void)state;
	memset(&o, 0, sizeof o);
	o.version = VFS_MEMORY_OPTIONS_VERSION + 7;
	assert_int_equal(vfs_memory_new(&s, &o), -EINVAL);
}

static void test_api_strerror_texts(void **state)
{
	(void)state;
	assert_string_equal(vfs_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(vfs_strerror(ENOENT), strerror(ENOENT));
	assert_string_equal(vfs_strerror(-EROFS), strerror(EROFS));
	assert_string_equal(vfs_strerror(-ENAMETOOLONG),
	                    strerror(ENAMETOOLONG));
	assert_string_equal(vfs_strerror(0), "Success");
	assert_string_equal(vfs_strerror(INT_MIN), "Unknown error");
	assert_string_equal(vfs_strerror(INT_MAX), "Unknown error");
	assert_string_equal(vfs_strerror(-99999), "Unknown error");
}

/* vfs_path_check() must not read past len: the buffers carry no NUL. */
static int conf_check(const char *s, size_t len)
{
	char *b = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(b);
	memcpy(b, s, len);
	rc = vfs_path_check(b, len);
	free(b);
	return rc;
}

static void test_api_path_check(void **state)
{
	char *p;

	(void)state;
	assert_int_equal(conf_check("a\0b", 3), -EINVAL);
	assert_int_equal(conf_check("ab\0", 3), -EINVAL);
	assert_int_equal(conf_check("\0", 1), -EINVAL);
	assert_int_equal(conf_check("", 0), -ENOENT);
	assert_int_equal(conf_check("abc", 3), 0);
	assert_int_equal(conf_check("/a//b/./../c/", 13), 0);
	p = conf_repeat('a', 4096);
	assert_int_equal(conf_check(p, 4096), -ENAMETOOLONG);
	for (size_t i = 200; i < 4095; i += 200) {
		p[i] = '/';
	}
	assert_int_equal(conf_check(p, 4096), -ENAMETOOLONG);
	assert_int_equal(conf_check(p, 4095), 0);
	free(p);
	p = conf_repeat('b', 300);
	p[0] = '/';
	assert_int_equal(conf_check(p, 256), 0);             /* "/" + 255 */
	assert_int_equal(conf_check(p, 257), -ENAMETOOLONG); /* 256 */
	p[128] = '/';
	assert_int_equal(conf_check(p, 300), 0);
	free(p);
}

int conf_run_api(void)
{
	struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_api_new_rejects_unknown_options_version),
	        cmocka_unit_test(test_api_free_accepts_null),
	        cmocka_unit_test(test_api_empty_namespace_is_readonly_dir),
	        CONF_TEST(test_api_cred_set_rejects_bad_groups),
	        CONF_TEST(test_api_new_nodes_owned_by_credentials),
	        CONF_TEST(test_api_umask_applies_to_creation),
	        CONF_TEST(test_api_default_umask_is_022),
	        cmocka_unit_test(test_api_store_open_rejects_bad_specs),
	        CONF_TEST(test_api_store_open_and_mount_add),
	        cmocka_unit_test(test_api_memory_new_rejects_bad_version),
	        cmocka_unit_test(test_api_strerror_texts),
	        cmocka_unit_test(test_api_path_check),
	};
	return CONF_RUN_GROUP("api", tests);
}
