/*
 * Unit tests for path and name checks, size and SPEC parsing: the pure
 * functions every call goes through before a store is touched.
 */
#include "vfs/core_int.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A path of len bytes: components of `comp` 'a's separated by '/'. */
static char *make_path(size_t len, size_t comp)
{
	char *p = malloc(len + 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (i % (comp + 1) == comp) ? '/' : 'a';
	p[len] = '\0';
	return p;
}

static void test_path_empty_is_enoent(void **state)
{
	assert_int_equal(vfs__path_check(""), -ENOENT);
	assert_int_equal(vfs_path_check("", 0), -ENOENT);
	assert_int_equal(vfs_path_check(NULL, 0), -ENOENT);
}

static void test_path_null_is_efault(void **state)
{
	assert_int_equal(vfs__path_check(NULL), -EFAULT);
	assert_int_equal(vfs_path_check(NULL, 3), -EFAULT);
}

static void test_path_length_limit(void **state)
{
	char *ok = make_path(VFS_PATH_MAX - 1, 100);
	char *bad = make_path(VFS_PATH_MAX, 100);

	assert_int_equal(vfs__path_check(ok), 0);
	assert_int_equal(vfs_path_check(ok, strlen(ok)), 0);
	assert_int_equal(vfs__path_check(bad), -ENAMETOOLONG);
	assert_int_equal(vfs_path_check(bad, strlen(bad)), -ENAMETOOLONG);
	free(ok);
	free(bad);
}

static void test_path_dots_count_toward_length(void **state)
{
	/* "././././..." longer than PATH_MAX: the length is checked on the
	 * string before resolution, as Linux does. */
	char *p = malloc(VFS_PATH_MAX + 2);

	assert_non_null(p);
	for (size_t i = 0; i < VFS_PATH_MAX + 1; i++)
		p[i] = (i % 2) ? '/' : '.';
	p[VFS_PATH_MAX + 1] = '\0';
	assert_int_equal(vfs__path_check(p), -ENAMETOOLONG);
	free(p);
}

static void test_path_component_limit(void **state)
{
	char name[VFS_NAME_MAX + 3];

	memset(name, 'x', sizeof(name));
	name[0] = '/';
	name[VFS_NAME_MAX + 1] = '\0'; /* "/" + 255 bytes */
	assert_int_equal(vfs__path_check(name), 0);
	name[VFS_NAME_MAX + 1] = 'x';
	name[VFS_NAME_MAX + 2] = '\0'; /* "/" + 256 bytes */
	assert_int_equal(vfs__path_check(name), -ENAMETOOLONG);
	assert_int_equal(vfs_path_check(name, strlen(name)), -ENAMETOOLONG);
}

static void test_path_embedded_nul_is_einval(void **state)
{
	static const char p[] = {'/', 'a', '\0', 'b'};

	assert_int_equal(vfs_path_check(p, sizeof(p)), -EINVAL);
	assert_int_equal(vfs_path_check(p, 2), 0);
	/* Even a NUL at the very end of a counted string is refused. */
	assert_int_equal(vfs_path_check("/a", 3), -EINVAL);
}

static void test_path_slashes_and_dots_pass(void **state)
{
	assert_int_equal(vfs__path_check("///a//b/./c/../"), 0);
	assert_int_equal(vfs__path_check("/"), 0);
	assert_int_equal(vfs__path_check("."), 0);
}

static void test_name_check(void **state)
{
	char longname[VFS_NAME_MAX + 2];

	assert_int_equal(vfs__name_check("a"), 0);
	assert_int_equal(vfs__name_check("..."), 0);
	assert_int_equal(vfs__name_check(".a"), 0);
	assert_int_equal(vfs__name_check(""), -EINVAL);
	assert_int_equal(vfs__name_check("."), -EINVAL);
	assert_int_equal(vfs__name_check(".."), -EINVAL);
	assert_int_equal(vfs__name_check("a/b"), -EINVAL);
	assert_int_equal(vfs__name_check("/"), -EINVAL);
	assert_int_equal(vfs__name_check(NULL), -EFAULT);
	memset(longname, 'n', sizeof(longname));
	longname[VFS_NAME_MAX] = '\0';
	assert_int_equal(vfs__name_check(longname), 0);
	longname[VFS_NAME_MAX] = 'n';
	longname[VFS_NAME_MAX + 1] = '\0';
	assert_int_equal(vfs__name_check(longname), -ENAMETOOLONG);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(vfs__parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vfs__parse_size("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(vfs__parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(vfs__parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(vfs__parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(vfs__parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(vfs__parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(vfs__parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(vfs__parse_size("", &v), -EINVAL);
	assert_int_equal(vfs__parse_size("-1", &v), -EINVAL);
	assert_int_equal(vfs__parse_size("1X", &v), -EINVAL);
	assert_int_equal(vfs__parse_size("1MM", &v), -EINVAL);
	assert_int_equal(vfs__parse_size(" 1", &v), -EINVAL);
	assert_int_equal(vfs__parse_size(NULL, &v), -EINVAL);
}

static void test_spec_errors_name_the_bad_part(void **state)
{
	char err[256];
	vfs_store *s = NULL;

	assert_int_equal(vfs_store_open(&s, "bogus", err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(vfs_store_open(&s, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(vfs_store_open(&s, "memory,", err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	        vfs_store_open(&s, "memory,colour=red", err, sizeof(err)),
	        -EINVAL);
	assert_non_null(strstr(err, "colour"));
	assert_int_equal(
	        vfs_store_open(&s, "memory,size=12Q", err, sizeof(err)),
	        -EINVAL);
	assert_non_null(strstr(err, "size"));
	assert_null(s);
}

static void test_spec_memory_options(void **state)
{
	char err[256];
	vfs_store *s = NULL;

	assert_int_equal(vfs_store_open(&s, "memory,size=1M,inodes=10,ro", err,
	                                sizeof(err)),
	                 0);
	assert_non_null(s);
	assert_int_equal(s->mount_flags, VFS_MOUNT_RDONLY);
	vfs_store_free(s);
	assert_int_equal(vfs_store_open(&s, "memory,ro,rw", err, sizeof(err)),
	                 0);
	assert_int_equal(s->mount_flags, 0);
	vfs_store_free(s);
}

static void test_spec_too_long(void **state)
{
	size_t len = 3 * VFS_PATH_MAX;
	char *spec = malloc(len + 1);
	vfs_store *s = NULL;

	assert_non_null(spec);
	memcpy(spec, "disk:/", 6);
	memset(spec + 6, 'a', len - 6);
	spec[len] = '\0';
	assert_int_equal(vfs_store_open(&s, spec, NULL, 0), -ENAMETOOLONG);
	free(spec);
}

static void test_store_new_checks_vtable(void **state)
{
	vfs_backend_ops ops;
	vfs_store *s = NULL;

	memset(&ops, 0, sizeof(ops));
	assert_int_equal(vfs_store_new(&s, &ops, NULL, 0), -EINVAL);
	ops.version = VFS_BACKEND_VERSION + 1;
	ops.size = sizeof(ops);
	assert_int_equal(vfs_store_new(&s, &ops, NULL, 0), -EINVAL);
	ops.version = VFS_BACKEND_VERSION;
	/* Required members missing. */
	assert_int_equal(vfs_store_new(&s, &ops, NULL, 0), -EINVAL);
	assert_null(s);
}

static void test_strerror_covers_errnos(void **state)
{
	assert_string_equal(vfs_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(vfs_strerror(ENOENT), "No such file or directory");
	assert_string_equal(vfs_strerror(-EXDEV), "Invalid cross-device link");
	assert_string_equal(vfs_strerror(0), "Success");
	assert_string_equal(vfs_strerror(-99999), "Unknown error");
	assert_string_equal(vfs_strerror(-ELOOP),
	                    "Too many levels of symbolic links");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_path_empty_is_enoent),
	        cmocka_unit_test(test_path_null_is_efault),
	        cmocka_unit_test(test_path_length_limit),
	        cmocka_unit_test(test_path_dots_count_toward_length),
	        cmocka_unit_test(test_path_component_limit),
	        cmocka_unit_test(test_path_embedded_nul_is_einval),
	        cmocka_unit_test(test_path_slashes_and_dots_pass),
	        cmocka_unit_test(test_name_check),
	        cmocka_unit_test(test_parse_size),
	        cmocka_unit_test(test_spec_errors_name_the_bad_part),
	        cmocka_unit_test(test_spec_memory_options),
	        cmocka_unit_test(test_spec_too_long),
	        cmocka_unit_test(test_store_new_checks_vtable),
	        cmocka_unit_test(test_strerror_covers_errnos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
