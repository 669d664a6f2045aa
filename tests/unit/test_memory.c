/*
 * Unit tests of the memory store, calling its vtable directly (no core):
 * node lifetime and lookup counts, sparse files and their limits,
 * directories and readdir cookies, rename semantics, timestamps, and the
 * SPEC constructor. The conformance suite covers the same store through
 * the path API; these tests pin down the store's own contract.
 */
#include "vfs/vfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- Helpers ------------------------------------------------------------ */

typedef struct fixture {
	vfs_store *s;
	const vfs_backend_ops *o;
	void *st;
	uint64_t root;
} fixture;

static fixture *fx_new(const vfs_memory_options *opts)
{
	fixture *f = calloc(1, sizeof(*f));
	vfs_attr a;

	assert_non_null(f);
	assert_int_equal(vfs_memory_new(&f->s, opts), 0);
	f->o = &f->s->ops;
	f->st = f->s->state;
	assert_int_equal(f->o->root(f->st, &f->root, &a), 0);
	return f;
}

static void fx_free(fixture *f)
{
	f->o->forget(f->st, f->root, 1);
	vfs_store_free(f->s);
	free(f);
}

static int setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static int mk(fixture *f, uint64_t dir, const char *name, uint32_t mode,
              uint64_t *out)
{
	vfs_newnode nn;
	vfs_attr a;
	uint64_t id;
	int rc;

	memset(&nn, 0, sizeof(nn));
	nn.mode = mode;
	nn.uid = 1000;
	nn.gid = 100;
	if (S_ISLNK(mode)) {
		nn.target = "target/of/link";
		nn.target_len = strlen(nn.target);
	}
	rc = f->o->mknod(f->st, dir, name, &nn, &id, &a);
	if (rc == 0) {
		assert_int_equal(a.ino, id);
		if (out)
			*out = id;
		else
			f->o->forget(f->st, id, 1);
	}
	return rc;
}

static vfs_attr attr_of(fixture *f, uint64_t id)
{
	vfs_attr a;
	assert_int_equal(f->o->getattr(f->st, id, &a), 0);
	return a;
}

static int look(fixture *f, uint64_t dir, const char *name, uint64_t *out)
{
	vfs_attr a;
	uint64_t id;
	int rc = f->o->lookup(f->st, dir, name, &id, &a);
	if (rc == 0) {
		if (out)
			*out = id;
		else
			f->o->forget(f->st, id, 1);
	}
	return rc;
}

static int64_t pwr(fixture *f, uint64_t id, const void *buf, size_t n,
                   int64_t off)
{
	return f->o->write(f->st, id, NULL, buf, n, &off, 0);
}

static int set_size(fixture *f, uint64_t id, int64_t size)
{
	vfs_setattr sa;
	vfs_attr a;

	memset(&sa, 0, sizeof(sa));
	sa.valid = VFS_SET_SIZE;
	sa.size = size;
	return f->o->setattr(f->st, id, &sa, &a);
}

static vfs_statvfs stats(fixture *f)
{
	vfs_statvfs s;
	assert_int_equal(f->o->statfs(f->st, &s), 0);
	return s;
}

static int ts_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

static void pause_clock(void)
{
	struct timespec t = {0, 2000000};
	nanosleep(&t, NULL);
}

/* ---- Nodes -------------------------------------------------------------- */

static void test_memory_root_attributes(void **state)
{
	fixture *f = *state;
	vfs_attr a = attr_of(f, f->root);

	assert_int_equal(a.ino, 1);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.uid, geteuid());
	assert_int_equal(a.gid, getegid());
	assert_int_equal(f->o->readlink(f->st, f->root, NULL, 0), -EINVAL);
}

static void test_memory_all_node_types(void **state)
{
	fixture *f = *state;
	static const uint32_t types[] = {S_IFREG,  S_IFDIR, S_IFLNK, S_IFIFO,
	                                 S_IFSOCK, S_IFCHR, S_IFBLK};
	char buf[64];
	vfs_newnode nn;
	vfs_attr a;
	uint64_t id;
	void *fh;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%zu", i);
		assert_int_equal(mk(f, f->root, name, types[i] | 0640, &id), 0);
		a = attr_of(f, id);
		assert_int_equal(a.mode, types[i] | 0640);
		assert_int_equal(a.uid, 1000);
		assert_int_equal(a.gid, 100);
		f->o->forget(f->st, id, 1);
	}
	memset(&nn, 0, sizeof(nn));
	nn.mode = S_IFCHR | 0600;
	nn.rdev = 0x0103;
	assert_int_equal(f->o->mknod(f->st, f->root, "null", &nn, &id, &a), 0);
	assert_int_equal(a.rdev, 0x0103);
	assert_int_equal(f->o->open(f->st, id, 0, &fh), -ENXIO);
	f->o->forget(f->st, id, 1);

	assert_int_equal(look(f, f->root, "n2", &id), 0);
	a = attr_of(f, id);
	assert_int_equal(a.size, strlen("target/of/link"));
	assert_int_equal(f->o->readlink(f->st, id, buf, sizeof(buf)), 14);
	assert_memory_equal(buf, "target/of/link", 14);
	assert_int_equal(f->o->readlink(f->st, id, buf, 3), 14);
	assert_memory_equal(buf, "tar", 3);
	f->o->forget(f->st, id, 1);

	nn.mode = 0170000 | 0644; /* no such type */
	assert_int_equal(f->o->mknod(f->st, f->root, "bad", &nn, &id, &a),
	                 -EINVAL);
	assert_int_equal(mk(f, f->root, "n0", S_IFDIR | 0755, NULL), -EEXIST);
	assert_int_equal(attr_of(f, f->root).nlink, 3); /* one subdir */
}

static void test_memory_create_is_mknod_and_open(void **state)
{
	fixture *f = *state;
	vfs_newnode nn;
	vfs_attr a;
	uint64_t id;
	void *fh = (void *)1;

	memset(&nn, 0, sizeof(nn));
	nn.mode = S_IFREG | 0600;
	assert_int_equal(
	        f->o->create(f->st, f->root, "c", &nn, O_RDWR, &id, &a, &fh),
	        0);
	assert_null(fh);
	assert_int_equal(a.ino, id);
	assert_int_equal(a.mode, S_IFREG | 0600);
	assert_int_equal(pwr(f, id, "x", 1, 0), 1);
	assert_int_equal(
	        f->o->create(f->st, f->root, "c", &nn, O_RDWR, &id, &a, &fh),
	        -EEXIST);
	nn.mode = S_IFDIR | 0700;
	assert_int_equal(
	        f->o->create(f->st, f->root, "d", &nn, O_RDONLY, &id, &a, &fh),
	        -EINVAL);
	assert_int_equal(look(f, f->root, "d", NULL), -ENOENT);
	assert_int_equal(look(f, f->root, "c", &id), 0);
	f->o->forget(f->st, id, 2);
}

static void test_memory_names_are_bytes(void **state)
{
	fixture *f = *state;
	char longname[VFS_NAME_MAX + 1];

	memset(longname, 'a', VFS_NAME_MAX);
	longname[VFS_NAME_MAX] = '\0';
	assert_int_equal(mk(f, f->root, "\xff\xfe", S_IFREG | 0644, NULL), 0);
	assert_int_equal(mk(f, f->root, "\xff\xfe\x01", S_IFREG | 0644, NULL),
	                 0);
	assert_int_equal(mk(f, f->root, longname, S_IFREG | 0644, NULL), 0);
	assert_int_equal(look(f, f->root, "\xff\xfe", NULL), 0);
	assert_int_equal(look(f, f->root, "\xff", NULL), -ENOENT);
	assert_int_equal(look(f, f->root, "A", NULL), -ENOENT);
	assert_int_equal(look(f, f->root, longname, NULL), 0);
	longname[VFS_NAME_MAX - 1] = '\0';
	assert_int_equal(look(f, f->root, longname, NULL), -ENOENT);
}

static void test_memory_lookup_errors(void **state)
{
	fixture *f = *state;
	uint64_t file;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &file), 0);
	assert_int_equal(look(f, file, "x", NULL), -ENOTDIR);
	assert_int_equal(look(f, f->root, "nope", NULL), -ENOENT);
	assert_int_equal(mk(f, file, "x", S_IFREG | 0644, NULL), -ENOTDIR);
	/* An id never handed out. */
	assert_int_equal(f->o->getattr(f->st, 999999, &(vfs_attr){0}), -ESTALE);
	f->o->forget(f->st, file, 1);
}

static void test_memory_unlinked_file_lives_while_looked_up(void **state)
{
	fixture *f = *state;
	uint64_t id;
	char buf[8];
	vfs_statvfs before = stats(f), during;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(pwr(f, id, "hello", 5, 0), 5);
	assert_int_equal(f->o->unlink(f->st, f->root, "f"), 0);
	assert_int_equal(look(f, f->root, "f", NULL), -ENOENT);
	assert_int_equal(attr_of(f, id).nlink, 0);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, 8, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(pwr(f, id, "!", 1, 5), 1);
	/* Cannot be linked back once it has no names. */
	assert_int_equal(f->o->link(f->st, id, f->root, "g", NULL), -ENOENT);
	during = stats(f);
	assert_int_equal(during.ffree, before.ffree - 1);
	assert_int_equal(during.bfree, before.bfree - 1);
	f->o->forget(f->st, id, 1);
	during = stats(f);
	assert_int_equal(during.ffree, before.ffree);
	assert_int_equal(during.bfree, before.bfree);
	assert_int_equal(f->o->getattr(f->st, id, &(vfs_attr){0}), -ESTALE);
}

static void test_memory_lookup_counts_add_up(void **state)
{
	fixture *f = *state;
	uint64_t id, id2;
	vfs_statvfs before = stats(f);

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(look(f, f->root, "f", &id2), 0);
	assert_int_equal(id, id2);
	assert_int_equal(look(f, f->root, "f", NULL), 0); /* +1 -1 */
	assert_int_equal(f->o->unlink(f->st, f->root, "f"), 0);
	f->o->forget(f->st, id, 1); /* one lookup still held */
	assert_int_equal(attr_of(f, id).nlink, 0);
	f->o->forget(f->st, id, 1);
	assert_int_equal(stats(f).ffree, before.ffree);
}

static void test_memory_hard_links(void **state)
{
	fixture *f = *state;
	uint64_t id, dir;
	vfs_attr a;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(mk(f, f->root, "d", S_IFDIR | 0755, &dir), 0);
	assert_int_equal(f->o->link(f->st, id, f->root, "g", &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(f->o->link(f->st, id, f->root, "g", &a), -EEXIST);
	assert_int_equal(f->o->link(f->st, dir, f->root, "e", &a), -EPERM);
	assert_int_equal(f->o->unlink(f->st, f->root, "f"), 0);
	assert_int_equal(attr_of(f, id).nlink, 1);
	assert_int_equal(f->o->unlink(f->st, f->root, "d"), -EISDIR);
	assert_int_equal(f->o->rmdir(f->st, f->root, "g"), -ENOTDIR);
	assert_int_equal(f->o->unlink(f->st, f->root, "zz"), -ENOENT);
	f->o->forget(f->st, id, 1);
	f->o->forget(f->st, dir, 1);
}

static int count_fill(void *ctx, const char *name, size_t namelen, uint64_t ino,
                      uint32_t type, uint64_t next)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_memory_directory_link_counts(void **state)
{
	fixture *f = *state;
	uint64_t a, b;
	int n = 0;

	assert_int_equal(mk(f, f->root, "a", S_IFDIR | 0755, &a), 0);
	assert_int_equal(mk(f, a, "b", S_IFDIR | 0755, &b), 0);
	assert_int_equal(mk(f, a, "c", S_IFDIR | 0755, NULL), 0);
	assert_int_equal(mk(f, a, "file", S_IFREG | 0644, NULL), 0);
	assert_int_equal(attr_of(f, a).nlink, 4);
	assert_int_equal(attr_of(f, f->root).nlink, 3);
	assert_int_equal(f->o->rmdir(f->st, f->root, "a"), -ENOTEMPTY);
	assert_int_equal(f->o->rmdir(f->st, a, "c"), 0);
	assert_int_equal(attr_of(f, a).nlink, 3);
	/* A removed directory that is still looked up accepts no entries. */
	assert_int_equal(f->o->rmdir(f->st, a, "b"), 0);
	assert_int_equal(attr_of(f, b).nlink, 0);
	assert_int_equal(mk(f, b, "x", S_IFREG | 0644, NULL), -ENOENT);
	assert_int_equal(f->o->readdir(f->st, b, 0, count_fill, &n), -ENOENT);
	assert_int_equal(n, 0);
	f->o->forget(f->st, b, 1);
	f->o->forget(f->st, a, 1);
}

/* ---- Sparse files ------------------------------------------------------- */

static void test_memory_sparse_write_far(void **state)
{
	fixture *f = *state;
	int64_t off = (int64_t)1 << 40;
	uint64_t id;
	char buf[16];
	vfs_attr a;
	vfs_statvfs before = stats(f);

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(pwr(f, id, "x", 1, off), 1);
	a = attr_of(f, id);
	assert_int_equal(a.size, off + 1);
	assert_int_equal(a.blocks, 8); /* one 4 KiB page */
	assert_int_equal(stats(f).bfree, before.bfree - 1);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(f->o->read(f->st, id, NULL, buf, 16, off - 8), 9);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[8], 'x');
	assert_int_equal(f->o->read(f->st, id, NULL, buf, 16, 12345), 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, 16, off + 1), 0);
	/* Up to the last byte allowed. */
	assert_int_equal(pwr(f, id, "y", 1, VFS_FILE_SIZE_MAX - 1), 1);
	assert_int_equal(attr_of(f, id).size, VFS_FILE_SIZE_MAX);
	assert_int_equal(attr_of(f, id).blocks, 16);
	f->o->forget(f->st, id, 1);
}

static void test_memory_limit_write_fails_before_allocating(void **state)
{
	fixture *f = *state;
	uint64_t id;
	vfs_statvfs before;
	int64_t off;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	before = stats(f);
	assert_int_equal(pwr(f, id, "x", 1, VFS_FILE_SIZE_MAX), -EFBIG);
	assert_int_equal(attr_of(f, id).size, 0);
	assert_int_equal(stats(f).bfree, before.bfree);
	assert_int_equal(set_size(f, id, (int64_t)1 << 40), 0);
	assert_int_equal(attr_of(f, id).blocks, 0);
	assert_int_equal(stats(f).bfree, before.bfree);
	assert_int_equal(set_size(f, id, VFS_FILE_SIZE_MAX + 1), -EFBIG);
	/* Append beyond the limit. */
	assert_int_equal(set_size(f, id, VFS_FILE_SIZE_MAX), 0);
	off = 0;
	assert_int_equal(
	        f->o->write(f->st, id, NULL, "z", 1, &off, VFS_WRITE_APPEND),
	        -EFBIG);
	assert_int_equal(attr_of(f, id).size, VFS_FILE_SIZE_MAX);
	assert_int_equal(stats(f).bfree, before.bfree);
	f->o->forget(f->st, id, 1);
}

static void test_memory_truncate_zeroes_tail(void **state)
{
	fixture *f = *state;
	static char data[10000], buf[10000];
	uint64_t id;

	memset(data, 'x', sizeof(data));
	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(pwr(f, id, data, sizeof(data), 0), sizeof(data));
	assert_int_equal(attr_of(f, id).blocks, 24);
	assert_int_equal(set_size(f, id, 5000), 0);
	assert_int_equal(attr_of(f, id).blocks, 16);
	assert_int_equal(set_size(f, id, 10000), 0);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, sizeof(buf), 0),
	                 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf[i], i < 5000 ? 'x' : 0);
	/* Writing past the end after a shrink leaves zeros in the gap. */
	assert_int_equal(set_size(f, id, 100), 0);
	assert_int_equal(pwr(f, id, "y", 1, 9000), 1);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, sizeof(buf), 0),
	                 9001);
	for (int i = 0; i < 9000; i++)
		assert_int_equal(buf[i], i < 100 ? 'x' : 0);
	assert_int_equal(set_size(f, id, 0), 0);
	assert_int_equal(attr_of(f, id).blocks, 0);
	f->o->forget(f->st, id, 1);
}

static void test_memory_append(void **state)
{
	fixture *f = *state;
	uint64_t id;
	int64_t off = 0;
	char buf[8];

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(pwr(f, id, "abc", 3, 0), 3);
	assert_int_equal(
	        f->o->write(f->st, id, NULL, "de", 2, &off, VFS_WRITE_APPEND),
	        2);
	assert_int_equal(off, 3);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, 8, 0), 5);
	assert_memory_equal(buf, "abcde", 5);
	f->o->forget(f->st, id, 1);
}

static void test_memory_limits(void **state)
{
	vfs_memory_options o = {.version = VFS_MEMORY_OPTIONS_VERSION,
	                        .max_bytes = 16384,
	                        .max_inodes = 3,
	                        .max_file_size = 1 << 20};
	fixture *f = fx_new(&o);
	static char data[20000], buf[20000];
	uint64_t id;
	vfs_statvfs s = stats(f);

	(void)state;
	assert_int_equal(s.bsize, 4096);
	assert_int_equal(s.blocks, 4);
	assert_int_equal(s.bfree, 4);
	assert_int_equal(s.files, 3);
	assert_int_equal(s.ffree, 2);
	assert_int_equal(s.namemax, 255);

	assert_int_equal(mk(f, f->root, "a", S_IFREG | 0644, &id), 0);
	assert_int_equal(mk(f, f->root, "b", S_IFDIR | 0755, NULL), 0);
	assert_int_equal(mk(f, f->root, "c", S_IFREG | 0644, NULL), -ENOSPC);
	assert_int_equal(stats(f).ffree, 0);

	memset(data, 'q', sizeof(data));
	assert_int_equal(pwr(f, id, data, 4096, 4096), 4096);
	/* 3 more pages needed, 3 free: fits. Then nothing fits. */
	assert_int_equal(pwr(f, id, data, 12288, 8192), 12288);
	assert_int_equal(stats(f).bfree, 0);
	assert_int_equal(pwr(f, id, data, 1, 0), -ENOSPC);
	assert_int_equal(pwr(f, id, data, 1, 30000), -ENOSPC);
	assert_int_equal(attr_of(f, id).size, 20480);
	/* Overwriting allocated pages needs no space. */
	assert_int_equal(pwr(f, id, "r", 1, 5000), 1);
	/* A write partly over a hole fails whole and changes nothing. */
	assert_int_equal(set_size(f, id, 8192), 0);
	assert_int_equal(stats(f).bfree, 3);
	assert_int_equal(pwr(f, id, data, 20000, 4096), -ENOSPC);
	assert_int_equal(stats(f).bfree, 3);
	assert_int_equal(f->o->read(f->st, id, NULL, buf, sizeof(buf), 0),
	                 8192);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(buf[i], i < 4096 ? 0 : i == 5000 ? 'r' : 'q');
	/* Sparse growth past the byte limit is fine; past maxfile is not. */
	assert_int_equal(set_size(f, id, 1 << 20), 0);
	assert_int_equal(set_size(f, id, (1 << 20) + 1), -EFBIG);
	assert_int_equal(pwr(f, id, "x", 1, 1 << 20), -EFBIG);
	assert_int_equal(attr_of(f, id).size, 1 << 20);
	/* Crossing the size limit writes what fits, as at s_maxbytes. */
	assert_int_equal(set_size(f, id, (1 << 20) - 2), 0);
	assert_int_equal(pwr(f, id, "xyz", 3, (1 << 20) - 2), 2);
	assert_int_equal(attr_of(f, id).size, 1 << 20);
	f->o->forget(f->st, id, 1);
	fx_free(f);
}

static void test_memory_setattr(void **state)
{
	fixture *f = *state;
	uint64_t id, dir, lnk;
	vfs_setattr sa;
	vfs_attr a, before;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(mk(f, f->root, "d", S_IFDIR | 0755, &dir), 0);
	assert_int_equal(mk(f, f->root, "l", S_IFLNK | 0777, &lnk), 0);
	before = attr_of(f, id);
	pause_clock();
	memset(&sa, 0, sizeof(sa));
	sa.valid = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_ATIME |
	           VFS_SET_MTIME;
	sa.mode = S_IFDIR | 04711; /* type bits are ignored */
	sa.uid = 7;
	sa.gid = 8;
	sa.atime.tv_sec = 100;
	sa.mtime.tv_sec = 200;
	sa.mtime.tv_nsec = 5;
	assert_int_equal(f->o->setattr(f->st, id, &sa, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 04711);
	assert_int_equal(a.uid, 7);
	assert_int_equal(a.gid, 8);
	assert_int_equal(a.atime.tv_sec, 100);
	assert_int_equal(a.mtime.tv_sec, 200);
	assert_int_equal(a.mtime.tv_nsec, 5);
	assert_true(ts_cmp(a.ctime, before.ctime) > 0);
	/* As tmpfs: a new size stamps mtime and ctime; the same size on a
	 * file with no pages changes nothing; with pages it stamps again. */
	assert_int_equal(set_size(f, id, 10), 0);
	before = attr_of(f, id);
	assert_true(ts_cmp(before.mtime, a.ctime) > 0);
	assert_int_equal(ts_cmp(before.ctime, before.mtime), 0);
	pause_clock();
	assert_int_equal(set_size(f, id, 10), 0);
	a = attr_of(f, id);
	assert_int_equal(ts_cmp(a.mtime, before.mtime), 0);
	assert_int_equal(ts_cmp(a.ctime, before.ctime), 0);
	assert_int_equal(pwr(f, id, "x", 1, 0), 1);
	before = attr_of(f, id);
	pause_clock();
	assert_int_equal(set_size(f, id, 10), 0);
	a = attr_of(f, id);
	assert_true(ts_cmp(a.mtime, before.mtime) > 0);
	assert_true(ts_cmp(a.ctime, before.ctime) > 0);
	assert_int_equal(set_size(f, dir, 0), -EISDIR);
	assert_int_equal(set_size(f, lnk, 0), -EINVAL);
	f->o->forget(f->st, id, 1);
	f->o->forget(f->st, dir, 1);
	f->o->forget(f->st, lnk, 1);
}

static void test_memory_timestamps(void **state)
{
	fixture *f = *state;
	uint64_t id, d2;
	vfs_attr r0, f0, f1, r1;

	assert_int_equal(mk(f, f->root, "d2", S_IFDIR | 0755, &d2), 0);
	r0 = attr_of(f, f->root);
	pause_clock();
	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	f0 = attr_of(f, id);
	assert_int_equal(ts_cmp(f0.atime, f0.mtime), 0);
	assert_int_equal(ts_cmp(f0.mtime, f0.ctime), 0);
	r1 = attr_of(f, f->root);
	assert_true(ts_cmp(r1.mtime, r0.mtime) > 0);
	assert_int_equal(ts_cmp(r1.mtime, r1.ctime), 0);

	pause_clock();
	assert_int_equal(pwr(f, id, "x", 1, 0), 1);
	f1 = attr_of(f, id);
	assert_true(ts_cmp(f1.mtime, f0.mtime) > 0);
	assert_int_equal(ts_cmp(f1.ctime, f1.mtime), 0);
	assert_int_equal(ts_cmp(f1.atime, f0.atime), 0);

	pause_clock();
	assert_int_equal(f->o->link(f->st, id, d2, "g", NULL), 0);
	f0 = attr_of(f, id);
	assert_true(ts_cmp(f0.ctime, f1.ctime) > 0);
	assert_int_equal(ts_cmp(f0.mtime, f1.mtime), 0);
	assert_int_equal(ts_cmp(attr_of(f, d2).mtime, f0.ctime), 0);

	pause_clock();
	r0 = attr_of(f, f->root);
	assert_int_equal(f->o->rename(f->st, f->root, "f", d2, "h", 0), 0);
	f1 = attr_of(f, id);
	assert_true(ts_cmp(f1.ctime, f0.ctime) > 0);
	assert_true(ts_cmp(attr_of(f, f->root).mtime, r0.mtime) > 0);
	assert_int_equal(ts_cmp(attr_of(f, d2).mtime, f1.ctime), 0);

	pause_clock();
	assert_int_equal(f->o->unlink(f->st, d2, "g"), 0);
	f0 = attr_of(f, id);
	assert_true(ts_cmp(f0.ctime, f1.ctime) > 0);
	assert_int_equal(ts_cmp(attr_of(f, d2).ctime, f0.ctime), 0);
	f->o->forget(f->st, id, 1);
	f->o->forget(f->st, d2, 1);
}

/* ---- Directories -------------------------------------------------------- */

typedef struct seen {
	unsigned char *count; /* per entry number */
	size_t max;
	size_t taken;
	size_t limit; /* stop after this many in one call */
	uint64_t cookie;
	bool other; /* a name that is not "eN" */
} seen;

static int seen_fill(void *ctx, const char *name, size_t namelen, uint64_t ino,
                     uint32_t type, uint64_t next)
{
	seen *s = ctx;
	unsigned long k;

	if (s->taken == s->limit)
		return 1;
	assert_int_equal(strlen(name), namelen);
	assert_true(next != 0 && next < ((uint64_t)1 << 62));
	assert_true(next > s->cookie);
	if (name[0] == 'e' && sscanf(name + 1, "%lu", &k) == 1 && k < s->max)
		s->count[k]++;
	else
		s->other = true;
	s->cookie = next;
	s->taken++;
	return 0;
}

static void test_memory_readdir_stable_under_changes(void **state)
{
	fixture *f = *state;
	enum { N = 10000 };
	seen s;
	char name[32];
	uint64_t dir;
	clock_t t0 = clock();
	int rounds = 0;

	memset(&s, 0, sizeof(s));
	s.count = calloc(2 * N, 1);
	s.max = 2 * N;
	assert_non_null(s.count);
	assert_int_equal(mk(f, f->root, "d", S_IFDIR | 0755, &dir), 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_int_equal(mk(f, dir, name, S_IFREG | 0644, NULL), 0);
	}
	/* Read 7 at a time; between chunks remove two entries and add one.
	 * Removed entries: e(N-1-2r) and e(N-2-2r), from the end. Entries
	 * e0..e(N/2) exist throughout. Also rename one over another. */
	for (;;) {
		size_t before = s.taken;
		s.limit = s.taken + 7;
		assert_int_equal(
		        f->o->readdir(f->st, dir, s.cookie, seen_fill, &s), 0);
		if (s.taken == before)
			break;
		if (rounds < N / 4) {
			snprintf(name, sizeof(name), "e%d", N - 1 - 2 * rounds);
			assert_int_equal(f->o->unlink(f->st, dir, name), 0);
			snprintf(name, sizeof(name), "e%d", N - 2 - 2 * rounds);
			assert_int_equal(f->o->unlink(f->st, dir, name), 0);
			snprintf(name, sizeof(name), "e%d", N + rounds);
			assert_int_equal(mk(f, dir, name, S_IFREG | 0644, NULL),
			                 0);
		}
		rounds++;
	}
	for (int i = 0; i <= N / 2; i++)
		assert_int_equal(s.count[i], 1);
	for (int i = 0; i < 2 * N; i++)
		assert_true(s.count[i] <= 1);
	assert_false(s.other);
	/* 10,000 entries in chunks must not take quadratic time. */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	free(s.count);
	f->o->forget(f->st, dir, 1);
}

static void test_memory_readdir_resume_and_types(void **state)
{
	fixture *f = *state;
	seen s;
	uint64_t dir;

	memset(&s, 0, sizeof(s));
	s.count = calloc(8, 1);
	s.max = 8;
	s.limit = 100;
	assert_int_equal(mk(f, f->root, "d", S_IFDIR | 0755, &dir), 0);
	assert_int_equal(f->o->readdir(f->st, dir, 0, seen_fill, &s), 0);
	assert_int_equal(s.taken, 0);
	assert_int_equal(mk(f, dir, "e0", S_IFREG | 0644, NULL), 0);
	assert_int_equal(mk(f, dir, "e1", S_IFDIR | 0755, NULL), 0);
	assert_int_equal(f->o->readdir(f->st, dir, 0, seen_fill, &s), 0);
	assert_int_equal(s.taken, 2);
	/* Resuming at the last cookie gives nothing more. */
	assert_int_equal(f->o->readdir(f->st, dir, s.cookie, seen_fill, &s), 0);
	assert_int_equal(s.taken, 2);
	/* Replacing a name by rename keeps its place. */
	assert_int_equal(mk(f, dir, "e2", S_IFDIR | 0755, NULL), 0);
	assert_int_equal(f->o->rename(f->st, dir, "e2", dir, "e1", 0), 0);
	assert_int_equal(f->o->readdir(f->st, dir, s.cookie, seen_fill, &s), 0);
	assert_int_equal(s.taken, 2);
	free(s.count);
	f->o->forget(f->st, dir, 1);
}

/* ---- Rename ------------------------------------------------------------- */

static void test_memory_rename_errors(void **state)
{
	fixture *f = *state;
	uint64_t a, b;

	assert_int_equal(mk(f, f->root, "a", S_IFDIR | 0755, &a), 0);
	assert_int_equal(mk(f, a, "b", S_IFDIR | 0755, &b), 0);
	assert_int_equal(mk(f, b, "x", S_IFREG | 0644, NULL), 0);
	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, NULL), 0);
	assert_int_equal(mk(f, f->root, "e", S_IFDIR | 0755, NULL), 0);

	assert_int_equal(f->o->rename(f->st, f->root, "zz", f->root, "y", 0),
	                 -ENOENT);
	assert_int_equal(f->o->rename(f->st, f->root, "a", b, "in", 0),
	                 -EINVAL);
	assert_int_equal(f->o->rename(f->st, f->root, "a", a, "in", 0),
	                 -EINVAL);
	assert_int_equal(f->o->rename(f->st, f->root, "a", f->root, "f", 0),
	                 -ENOTDIR);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "a", 0),
	                 -EISDIR);
	assert_int_equal(f->o->rename(f->st, f->root, "e", f->root, "a", 0),
	                 -ENOTEMPTY);
	/* A file onto a directory that holds it: the ancestor check comes
	 * before the type check, as on Linux. */
	assert_int_equal(f->o->rename(f->st, b, "x", f->root, "a", 0),
	                 -ENOTEMPTY);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "e",
	                              VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "new",
	                              VFS_RENAME_EXCHANGE),
	                 -ENOENT);
	assert_int_equal(
	        f->o->rename(f->st, f->root, "f", f->root, "new",
	                     VFS_RENAME_EXCHANGE | VFS_RENAME_NOREPLACE),
	        -EINVAL);
	/* Exchanging a directory with its own ancestor. */
	assert_int_equal(
	        f->o->rename(f->st, a, "b", f->root, "a", VFS_RENAME_EXCHANGE),
	        -EINVAL);
	assert_int_equal(attr_of(f, a).nlink, 3);
	assert_int_equal(look(f, b, "x", NULL), 0);
	f->o->forget(f->st, a, 1);
	f->o->forget(f->st, b, 1);
}

static void test_memory_rename_same_node(void **state)
{
	fixture *f = *state;
	uint64_t id;

	assert_int_equal(mk(f, f->root, "f", S_IFREG | 0644, &id), 0);
	assert_int_equal(f->o->link(f->st, id, f->root, "g", NULL), 0);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "g", 0), 0);
	assert_int_equal(look(f, f->root, "f", NULL), 0);
	assert_int_equal(look(f, f->root, "g", NULL), 0);
	assert_int_equal(attr_of(f, id).nlink, 2);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "f", 0), 0);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "f",
	                              VFS_RENAME_EXCHANGE),
	                 0);
	assert_int_equal(f->o->rename(f->st, f->root, "f", f->root, "f",
	                              VFS_RENAME_NOREPLACE),
	                 -EEXIST);
	assert_int_equal(attr_of(f, id).nlink, 2);
	f->o->forget(f->st, id, 1);
}

static void test_memory_rename_replaces(void **state)
{
	fixture *f = *state;
	uint64_t src, dst, d1, d2, sub, e;
	vfs_statvfs before;
	char buf[4];

	assert_int_equal(mk(f, f->root, "src", S_IFREG | 0644, &src), 0);
	assert_int_equal(mk(f, f->root, "dst", S_IFREG | 0644, &dst), 0);
	assert_int_equal(pwr(f, src, "S", 1, 0), 1);
	before = stats(f);
	assert_int_equal(f->o->rename(f->st, f->root, "src", f->root, "dst", 0),
	                 0);
	assert_int_equal(look(f, f->root, "src", NULL), -ENOENT);
	assert_int_equal(attr_of(f, dst).nlink, 0);
	f->o->forget(f->st, dst, 1);
	assert_int_equal(stats(f).ffree, before.ffree + 1);
	assert_int_equal(look(f, f->root, "dst", &dst), 0);
	assert_int_equal(dst, src);
	assert_int_equal(f->o->read(f->st, dst, NULL, buf, 4, 0), 1);
	f->o->forget(f->st, dst, 1);

	/* Directories across parents: ".." counts follow. */
	assert_int_equal(mk(f, f->root, "d1", S_IFDIR | 0755, &d1), 0);
	assert_int_equal(mk(f, f->root, "d2", S_IFDIR | 0755, &d2), 0);
	assert_int_equal(mk(f, d1, "sub", S_IFDIR | 0755, &sub), 0);
	assert_int_equal(mk(f, d2, "empty", S_IFDIR | 0755, &e), 0);
	assert_int_equal(attr_of(f, d1).nlink, 3);
	assert_int_equal(attr_of(f, d2).nlink, 3);
	assert_int_equal(f->o->rename(f->st, d1, "sub", d2, "empty", 0), 0);
	assert_int_equal(attr_of(f, d1).nlink, 2);
	assert_int_equal(attr_of(f, d2).nlink, 3);
	assert_int_equal(attr_of(f, e).nlink, 0);
	assert_int_equal(attr_of(f, sub).nlink, 2);
	/* sub now lives in d2: moving d2 under sub must fail. */
	assert_int_equal(f->o->rename(f->st, f->root, "d2", sub, "x", 0),
	                 -EINVAL);
	assert_int_equal(f->o->rename(f->st, f->root, "d1", sub, "x", 0), 0);
	assert_int_equal(attr_of(f, sub).nlink, 3);
	assert_int_equal(attr_of(f, f->root).nlink, 3); /* d2 only */
	f->o->forget(f->st, e, 1);
	f->o->forget(f->st, sub, 1);
	f->o->forget(f->st, d1, 1);
	f->o->forget(f->st, d2, 1);
	f->o->forget(f->st, src, 1);
}

static void test_memory_rename_exchange(void **state)
{
	fixture *f = *state;
	uint64_t d1, d2, file, dir, id = 0;

	assert_int_equal(mk(f, f->root, "d1", S_IFDIR | 0755, &d1), 0);
	assert_int_equal(mk(f, f->root, "d2", S_IFDIR | 0755, &d2), 0);
	assert_int_equal(mk(f, d1, "file", S_IFREG | 0644, &file), 0);
	assert_int_equal(mk(f, d2, "dir", S_IFDIR | 0755, &dir), 0);
	assert_int_equal(
	        f->o->rename(f->st, d1, "file", d2, "dir", VFS_RENAME_EXCHANGE),
	        0);
	assert_int_equal(look(f, d1, "file", &id), 0);
	assert_int_equal(id, dir);
	f->o->forget(f->st, id, 1);
	assert_int_equal(look(f, d2, "dir", &id), 0);
	assert_int_equal(id, file);
	f->o->forget(f->st, id, 1);
	assert_int_equal(attr_of(f, d1).nlink, 3);
	assert_int_equal(attr_of(f, d2).nlink, 2);
	assert_int_equal(attr_of(f, file).nlink, 1);
	/* dir's parent is now d1: d1 may not go under it. */
	assert_int_equal(f->o->rename(f->st, f->root, "d1", dir, "x", 0),
	                 -EINVAL);
	assert_int_equal(f->o->rename(f->st, f->root, "d2", dir, "x", 0), 0);
	f->o->forget(f->st, d1, 1);
	f->o->forget(f->st, d2, 1);
	f->o->forget(f->st, file, 1);
	f->o->forget(f->st, dir, 1);
}

/* ---- Threads ---------------------------------------------------------- */

typedef struct stress {
	fixture *f;
	uint64_t dir;
	unsigned seed;
} stress;

static int stress_fill(void *ctx, const char *name, size_t namelen,
                       uint64_t ino, uint32_t type, uint64_t next)
{
	return 0;
}

static void *stress_worker(void *arg)
{
	stress *w = arg;
	const vfs_backend_ops *o = w->f->o;
	void *st = w->f->st;
	static char buf[9000];

	for (int i = 0; i < 5000; i++) {
		char a[16], b[16];
		vfs_newnode nn;
		vfs_setattr sa;
		vfs_attr at;
		uint64_t id;
		int64_t off;
		int k = rand_r(&w->seed) % 32;

		snprintf(a, sizeof(a), "f%d", k);
		snprintf(b, sizeof(b), "f%d", rand_r(&w->seed) % 32);
		memset(&nn, 0, sizeof(nn));
		nn.mode = (k & 1 ? S_IFDIR : S_IFREG) | 0644;
		switch (rand_r(&w->seed) % 6) {
		case 0:
			if (o->mknod(st, w->dir, a, &nn, &id, &at) == 0)
				o->forget(st, id, 1);
			break;
		case 1:
			o->unlink(st, w->dir, a);
			o->rmdir(st, w->dir, a);
			break;
		case 2:
			o->rename(st, w->dir, a, w->dir, b,
			          (unsigned)(rand_r(&w->seed) % 3));
			break;
		case 3:
			o->readdir(st, w->dir, 0, stress_fill, NULL);
			break;
		case 4:
			if (o->lookup(st, w->dir, a, &id, &at) != 0)
				break;
			off = rand_r(&w->seed) % 20000;
			o->write(st, id, NULL, buf, sizeof(buf), &off, 0);
			memset(&sa, 0, sizeof(sa));
			sa.valid = VFS_SET_SIZE;
			sa.size = rand_r(&w->seed) % 30000;
			o->setattr(st, id, &sa, &at);
			o->forget(st, id, 1);
			break;
		default:
			if (o->lookup(st, w->dir, a, &id, &at) != 0)
				break;
			o->link(st, id, w->dir, b, &at);
			o->forget(st, id, 1);
			break;
		}
	}
	return NULL;
}

typedef struct inoset {
	uint64_t ino[64];
	int n;
	uint64_t pages;
	fixture *f;
} inoset;

static int inoset_fill(void *ctx, const char *name, size_t namelen,
                       uint64_t ino, uint32_t type, uint64_t next)
{
	inoset *s = ctx;

	for (int i = 0; i < s->n; i++) {
		if (s->ino[i] == ino)
			return 0;
	}
	assert_true(s->n < 64);
	s->ino[s->n++] = ino;
	s->pages += (uint64_t)attr_of(s->f, ino).blocks / 8;
	return 0;
}

/* Many threads mutate one directory; afterwards the counts add up. */
static void test_memory_threads_keep_counts(void **state)
{
	fixture *f = *state;
	enum { NT = 6 };
	pthread_t t[NT];
	stress w[NT];
	inoset s;
	uint64_t dir;
	vfs_statvfs sf;

	assert_int_equal(mk(f, f->root, "d", S_IFDIR | 0755, &dir), 0);
	for (int i = 0; i < NT; i++) {
		w[i].f = f;
		w[i].dir = dir;
		w[i].seed = (unsigned)i + 1;
		assert_int_equal(
		        pthread_create(&t[i], NULL, stress_worker, &w[i]), 0);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	memset(&s, 0, sizeof(s));
	s.f = f;
	assert_int_equal(f->o->readdir(f->st, dir, 0, inoset_fill, &s), 0);
	sf = stats(f);
	/* The root, d, and what d holds: nothing leaked or lost. */
	assert_int_equal(sf.files - sf.ffree, 2 + (uint64_t)s.n);
	assert_int_equal(sf.blocks - sf.bfree, s.pages);
	f->o->forget(f->st, dir, 1);
}

/* ---- SPEC constructor --------------------------------------------------- */

static void test_memory_spec_options(void **state)
{
	vfs__kv kv[3] = {{"size", "64K"}, {"inodes", "10"}, {"maxfile", "1M"}};
	vfs__kv bad[1] = {{"colour", "red"}};
	vfs__kv badval[1] = {{"size", "lots"}};
	char err[128] = "";
	vfs_store *s = NULL;
	vfs_statvfs st;

	(void)state;
	assert_int_equal(vfs__memory_open(&s, NULL, kv, 3, 0, err, sizeof(err)),
	                 0);
	assert_int_equal(s->ops.statfs(s->state, &st), 0);
	assert_int_equal(st.blocks, 16);
	assert_int_equal(st.files, 10);
	vfs_store_free(s);

	assert_int_equal(
	        vfs__memory_open(&s, NULL, bad, 1, 0, err, sizeof(err)),
	        -EINVAL);
	assert_non_null(strstr(err, "colour"));
	assert_int_equal(
	        vfs__memory_open(&s, NULL, badval, 1, 0, err, sizeof(err)),
	        -EINVAL);
	assert_non_null(strstr(err, "lots"));
	assert_int_equal(
	        vfs__memory_open(&s, "x", NULL, 0, 0, err, sizeof(err)),
	        -EINVAL);
	assert_int_equal(vfs__memory_open(&s, NULL, NULL, 0, VFS_MOUNT_RDONLY,
	                                  err, sizeof(err)),
	                 0);
	assert_int_equal(s->mount_flags, VFS_MOUNT_RDONLY);
	vfs_store_free(s);
}

static void test_memory_options_version(void **state)
{
	vfs_memory_options o = {.version = 0};
	vfs_store *s = NULL;

	(void)state;
	assert_int_equal(vfs_memory_new(&s, &o), -EINVAL);
	o.version = VFS_MEMORY_OPTIONS_VERSION + 1;
	assert_int_equal(vfs_memory_new(&s, &o), -EINVAL);
	assert_null(s);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_memory_root_attributes),
	        T(test_memory_all_node_types),
	        T(test_memory_create_is_mknod_and_open),
	        T(test_memory_names_are_bytes),
	        T(test_memory_lookup_errors),
	        T(test_memory_unlinked_file_lives_while_looked_up),
	        T(test_memory_lookup_counts_add_up),
	        T(test_memory_hard_links),
	        T(test_memory_directory_link_counts),
	        T(test_memory_sparse_write_far),
	        T(test_memory_limit_write_fails_before_allocating),
	        T(test_memory_truncate_zeroes_tail),
	        T(test_memory_append),
	        cmocka_unit_test(test_memory_limits),
	        T(test_memory_setattr),
	        T(test_memory_timestamps),
	        T(test_memory_readdir_stable_under_changes),
	        T(test_memory_readdir_resume_and_types),
	        T(test_memory_rename_errors),
	        T(test_memory_rename_same_node),
	        T(test_memory_rename_replaces),
	        T(test_memory_rename_exchange),
	        T(test_memory_threads_keep_counts),
	        cmocka_unit_test(test_memory_spec_options),
	        cmocka_unit_test(test_memory_options_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
