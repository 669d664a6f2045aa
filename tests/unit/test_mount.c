/*
 * Unit tests for the mount table and walking across mounts: mount points
 * that exist only in the trie, longest-prefix matching on component
 * boundaries, busy rules, inode numbers across stores, and a trie node
 * left behind by an unmount that must not follow a renamed directory.
 */
#include "vfs/core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

static int setup(void **state)
{
	vfs *v;

	assert_int_equal(vfs_new(&v, NULL), 0);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	vfs_free(*state);
	return 0;
}

static void mount_memory(vfs *v, const char *path, unsigned flags)
{
	vfs_store *s;

	assert_int_equal(vfs_memory_new(&s, NULL), 0);
	assert_int_equal(vfs_mount_add(v, path, s, flags), 0);
}

static void put(vfs *v, const char *path, const char *text)
{
	int fd = vfs_open(v, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, text, strlen(text)),
	                 (int64_t)strlen(text));
	assert_int_equal(vfs_close(v, fd), 0);
}

static void expect(vfs *v, const char *path, const char *text)
{
	char buf[256];
	int fd = vfs_open(v, path, O_RDONLY, 0);
	int64_t n;

	assert_true(fd >= 0);
	n = vfs_read(v, fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
	assert_int_equal(vfs_close(v, fd), 0);
}

/* Count how often name appears in the listing of path. */
static int listed(vfs *v, const char *path, const char *name)
{
	vfs_dirent e;
	int fd = vfs_opendir(v, path), count = 0, rc;

	assert_true(fd >= 0);
	while ((rc = vfs_readdir(v, fd, &e)) == 1)
		count += strcmp(e.name, name) == 0;
	assert_int_equal(rc, 0);
	assert_int_equal(vfs_close(v, fd), 0);
	return count;
}

static void test_mount_empty_root_is_readonly_dir(void **state)
{
	vfs *v = *state;
	vfs_attr a;

	assert_int_equal(vfs_stat(v, "/", &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(vfs_mkdir(v, "/a", 0755), -EROFS);
	assert_int_equal(vfs_open(v, "/f", O_CREAT | O_WRONLY, 0644), -EROFS);
	assert_int_equal(vfs_stat(v, "/a", &a), -ENOENT);
	assert_int_equal(listed(v, "/", "."), 1);
	assert_int_equal(listed(v, "/", ".."), 1);
}

static void test_mount_point_missing_in_parent_shows_as_dir(void **state)
{
	vfs *v = *state;
	vfs_attr a;

	mount_memory(v, "/", 0);
	mount_memory(v, "/srv/data", 0);
	/* /srv does not exist in the root store: it is virtual. */
	assert_int_equal(vfs_stat(v, "/srv", &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(vfs_stat(v, "/srv/data", &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(listed(v, "/", "srv"), 1);
	assert_int_equal(listed(v, "/srv", "data"), 1);
	/* Nothing but mounts lives in a virtual directory. */
	assert_int_equal(vfs_mkdir(v, "/srv/x", 0755), -EROFS);
	assert_int_equal(vfs_mkdir(v, "/srv", 0755), -EEXIST);
	assert_int_equal(vfs_open(v, "/srv", O_CREAT | O_RDWR, 0644), -EISDIR);
	put(v, "/srv/data/f", "in data");
	expect(v, "/srv/data/f", "in data");
	expect(v, "/srv/../srv/./data//f", "in data");
}

static void test_mount_point_shadows_store_dir(void **state)
{
	vfs *v = *state;

	mount_memory(v, "/", 0);
	assert_int_equal(vfs_mkdir(v, "/mnt", 0755), 0);
	put(v, "/mnt/under", "hidden");
	mount_memory(v, "/mnt", 0);
	assert_int_equal(listed(v, "/", "mnt"), 1);
	assert_int_equal(listed(v, "/mnt", "under"), 0);
	put(v, "/mnt/over", "mounted");
	assert_int_equal(vfs_mount_remove(v, "/mnt"), 0);
	expect(v, "/mnt/under", "hidden");
	assert_int_equal(listed(v, "/mnt", "over"), 0);
}

static void test_mount_longest_prefix_on_component_boundary(void **state)
{
	vfs *v = *state;
	vfs_attr a, b;

	mount_memory(v, "/", 0);
	mount_memory(v, "/mnt/a", 0);
	assert_int_equal(vfs_mkdir(v, "/mnt/ab", 0755), -EROFS); /* virtual */
	mount_memory(v, "/mnt/a/b", 0);
	put(v, "/mnt/a/f", "a");
	put(v, "/mnt/a/b/f", "b");
	assert_int_equal(vfs_stat(v, "/mnt/a/f", &a), 0);
	assert_int_equal(vfs_stat(v, "/mnt/a/b/f", &b), 0);
	assert_true(a.dev != b.dev);
	assert_true(a.ino != b.ino);
	expect(v, "/mnt/a/b/../f", "a");
	expect(v, "/mnt/a/b/../b/f", "b");
	assert_int_equal(vfs_stat(v, "/mnt/ab", &a), -ENOENT);
}

static void test_mount_busy_rules(void **state)
{
	vfs *v = *state;
	vfs_store *s;
	vfs_node *n;
	vfs_cred cred = {0};
	int fd;

	mount_memory(v, "/", 0);
	mount_memory(v, "/m", 0);
	assert_int_equal(vfs_memory_new(&s, NULL), 0);
	assert_int_equal(vfs_mount_add(v, "/m", s, 0), -EBUSY);
	vfs_store_free(s);

	mount_memory(v, "/m/n", 0);
	assert_int_equal(vfs_mount_remove(v, "/m"), -EBUSY);
	assert_int_equal(vfs_mount_remove(v, "/m/n"), 0);

	put(v, "/m/f", "x");
	fd = vfs_open(v, "/m/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_mount_remove(v, "/m"), -EBUSY);
	assert_int_equal(vfs_close(v, fd), 0);

	/* A frontend holding a node keeps the mount busy too. */
	assert_int_equal(vfs_node_resolve(v, &cred, "/m/f", 0, &n), 0);
	assert_int_equal(vfs_mount_remove(v, "/m"), -EBUSY);
	vfs_node_put(v, n, 1);

	assert_int_equal(vfs_mount_remove(v, "/m/f"), -EINVAL);
	assert_int_equal(vfs_mount_remove(v, "/nowhere"), -ENOENT);
	assert_int_equal(vfs_mount_remove(v, "/m"), 0);
	assert_int_equal(vfs_mount_remove(v, "/m"), -ENOENT);
}

static void test_mount_points_are_busy_for_namespace_ops(void **state)
{
	vfs *v = *state;

	mount_memory(v, "/", 0);
	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	mount_memory(v, "/d/m", 0);
	assert_int_equal(vfs_rmdir(v, "/d/m"), -EBUSY);
	assert_int_equal(vfs_unlink(v, "/d/m"), -EISDIR);
	assert_int_equal(vfs_rename(v, "/d/m", "/d/x", 0), -EBUSY);
	/* A directory holding a mount point cannot move either. */
	assert_int_equal(vfs_rename(v, "/d", "/e", 0), -EBUSY);
	assert_int_equal(vfs_mkdir(v, "/e", 0755), 0);
	assert_int_equal(vfs_rename(v, "/e", "/d/m", 0), -EBUSY);
	/* The types come first, as in Linux: a file onto the mount point
	 * (a directory) is EISDIR. */
	put(v, "/f", "x");
	assert_int_equal(vfs_rename(v, "/f", "/d/m", 0), -EISDIR);
	assert_int_equal(vfs_link(v, "/f", "/d/m"), -EEXIST);
	assert_int_equal(vfs_symlink(v, "/f", "/d/m"), -EEXIST);
}

static void test_mount_cross_mount_rename_link_exdev(void **state)
{
	vfs *v = *state;

	mount_memory(v, "/", 0);
	mount_memory(v, "/other", 0);
	put(v, "/f", "x");
	assert_int_equal(vfs_rename(v, "/f", "/other/f", 0), -EXDEV);
	assert_int_equal(vfs_link(v, "/f", "/other/f"), -EXDEV);
	expect(v, "/f", "x");
}

static void test_mount_readonly_refuses_mutation(void **state)
{
	vfs *v = *state;
	char err[128];
	int fd;

	mount_memory(v, "/", 0);
	put(v, "/f", "x");
	assert_int_equal(
	        vfs_mount_spec(v, "/ro", "memory,ro", err, sizeof(err)), 0);
	assert_int_equal(vfs_mkdir(v, "/ro/d", 0755), -EROFS);
	assert_int_equal(vfs_open(v, "/ro/f", O_CREAT | O_WRONLY, 0644),
	                 -EROFS);
	assert_int_equal(vfs_mkdir(v, "/ro", 0755), -EEXIST);
	fd = vfs_open(v, "/ro", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(vfs_chmod(v, "/ro", 0700), -EROFS);
	assert_int_equal(vfs_utimens(v, "/ro", NULL, 0), -EROFS);
	assert_int_equal(vfs_unlink(v, "/ro/missing"), -EROFS);
	mount_memory(v, "/ro2", VFS_MOUNT_RDONLY);
	assert_int_equal(vfs_mkdir(v, "/ro2/d", 0755), -EROFS);
}

static void test_mount_inodes_unique_across_stores(void **state)
{
	vfs *v = *state;
	vfs_attr r1, r2, v1;

	mount_memory(v, "/", 0);
	mount_memory(v, "/a/b", 0);
	assert_int_equal(vfs_stat(v, "/", &r1), 0);
	assert_int_equal(vfs_stat(v, "/a/b", &r2), 0);
	assert_int_equal(vfs_stat(v, "/a", &v1), 0);
	assert_true(r1.ino != r2.ino);
	assert_true(r1.ino != v1.ino && r2.ino != v1.ino);
	assert_true(r1.dev != r2.dev);
	/* The first mount keeps its store's numbers. */
	assert_int_equal(r1.ino, 1);
}

static void test_mount_dotdot_leaves_mount_root(void **state)
{
	vfs *v = *state;
	char buf[64];

	mount_memory(v, "/", 0);
	mount_memory(v, "/m", 0);
	put(v, "/top", "top");
	expect(v, "/m/../top", "top");
	expect(v, "/m/../../../top", "top");
	assert_int_equal(vfs_realpath(v, "/m/..", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(vfs_realpath(v, "/m/.", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "/m");
}

static void test_mount_symlink_into_other_mount(void **state)
{
	vfs *v = *state;
	char buf[64];

	mount_memory(v, "/", 0);
	mount_memory(v, "/m", 0);
	put(v, "/m/f", "in m");
	assert_int_equal(vfs_symlink(v, "/m/f", "/abs"), 0);
	assert_int_equal(vfs_symlink(v, "../f", "/m/rel"), 0);
	put(v, "/f", "at root");
	expect(v, "/abs", "in m");
	/* "../f" from /m is /f in the root store. */
	expect(v, "/m/rel", "at root");
	assert_int_equal(vfs_realpath(v, "/abs", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "/m/f");
}

static void test_mount_unmounted_trie_does_not_follow_rename(void **state)
{
	vfs *v = *state;
	vfs_cred cred = {0};
	vfs_node *held;
	vfs_attr a;

	mount_memory(v, "/", 0);
	assert_int_equal(vfs_mkdir(v, "/a", 0755), 0);
	/* Keep /a's node alive across everything below. */
	assert_int_equal(vfs_node_resolve(v, &cred, "/a", 0, &held), 0);
	mount_memory(v, "/a/b", 0);
	assert_int_equal(vfs_mount_remove(v, "/a/b"), 0);
	assert_int_equal(vfs_rename(v, "/a", "/z", 0), 0);
	mount_memory(v, "/a/x", 0);
	/* The mount is at /a/x, never below the renamed directory. */
	assert_int_equal(vfs_stat(v, "/a/x", &a), 0);
	assert_int_equal(vfs_stat(v, "/z/x", &a), -ENOENT);
	assert_int_equal(listed(v, "/z", "x"), 0);
	vfs_node_put(v, held, 1);
	assert_int_equal(vfs_mount_remove(v, "/a/x"), 0);
}

static void test_mount_under_file_is_enotdir(void **state)
{
	vfs *v = *state;
	vfs_store *s;

	mount_memory(v, "/", 0);
	put(v, "/f", "x");
	assert_int_equal(vfs_memory_new(&s, NULL), 0);
	assert_int_equal(vfs_mount_add(v, "/f", s, 0), -ENOTDIR);
	assert_int_equal(vfs_mount_add(v, "/f/x", s, 0), -ENOTDIR);
	assert_int_equal(vfs_mount_add(v, "/x/.", s, 0), -ENOENT);
	assert_int_equal(vfs_mount_add(v, "/x/../y", s, 0), -ENOENT);
	assert_int_equal(vfs_mount_add(v, "", s, 0), -ENOENT);
	assert_int_equal(vfs_mount_add(v, "/y", s, 42), -EINVAL);
	vfs_store_free(s);
}

static void test_mount_root_over_virtual_root(void **state)
{
	vfs *v = *state;

	mount_memory(v, "/x", 0);
	put(v, "/x/f", "x");
	mount_memory(v, "/", 0);
	expect(v, "/x/f", "x");
	assert_int_equal(vfs_mkdir(v, "/y", 0755), 0);
	assert_int_equal(listed(v, "/", "x"), 1);
	assert_int_equal(listed(v, "/", "y"), 1);
	assert_int_equal(vfs_mount_remove(v, "/"), -EBUSY);
	assert_int_equal(vfs_mount_remove(v, "/x"), 0);
	assert_int_equal(vfs_mount_remove(v, "/"), 0);
	assert_int_equal(vfs_mkdir(v, "/y", 0755), -EROFS);
}

static void test_mount_many_then_free(void **state)
{
	vfs *v = *state;
	char path[64];

	mount_memory(v, "/", 0);
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/m/%d/%d", i % 7, i);
		mount_memory(v, path, 0);
	}
	assert_int_equal(listed(v, "/m", "3"), 1);
	snprintf(path, sizeof(path), "/m/%d/%d/f", 5, 5);
	put(v, path, "five");
	/* vfs_free in teardown unmounts all of them. */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_mount_empty_root_is_readonly_dir),
	        T(test_mount_point_missing_in_parent_shows_as_dir),
	        T(test_mount_point_shadows_store_dir),
	        T(test_mount_longest_prefix_on_component_boundary),
	        T(test_mount_busy_rules),
	        T(test_mount_points_are_busy_for_namespace_ops),
	        T(test_mount_cross_mount_rename_link_exdev),
	        T(test_mount_readonly_refuses_mutation),
	        T(test_mount_inodes_unique_across_stores),
	        T(test_mount_dotdot_leaves_mount_root),
	        T(test_mount_symlink_into_other_mount),
	        T(test_mount_unmounted_trie_does_not_follow_rename),
	        T(test_mount_under_file_is_enotdir),
	        T(test_mount_root_over_virtual_root),
	        T(test_mount_many_then_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
