/*
 * Fault injection: a failed mutation leaves the namespace as it was.
 *
 * For each mutating path-API call (one case per call below), and for
 * N = 1, 2, ... until the call completes without reaching the fault, the
 * test builds a fresh namespace whose "/" is a fault store wrapping a
 * memory store, fills it with a fixed tree, takes a snapshot (every name,
 * type, mode, size, blocks, nlink, uid, gid, mtime, inode, file contents
 * and link targets; not atime or ctime) and the statfs free counts, arms
 * the fault store to fail its N-th call, and performs the call. If the
 * fault was injected and the call failed, the call must have returned the
 * injected errno and the snapshot and free counts must be unchanged. A
 * call that succeeds although a store call failed under it is reported:
 * the core chose to absorb that failure. The open(O_CREAT) cases also run
 * with the store's optional create() hidden, as for a store without one,
 * so that the core's mknod + open + undo path is tried as well.
 *
 * The file holds: the environment (namespace, tree), snapshots and their
 * comparison, the cases, and the driver.
 */
#include "fault_store.h"

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

/*
 * The errors injected, each in a full pass over every case: first one that
 * no code path produces on its own, so it can be told apart; then errors a
 * store really returns and the core may react to (ENOENT from a lookup
 * makes open(O_CREAT) try to create, ENOSPC and EIO are what a full or
 * failing store says).
 */
static const int injected_errnos[] = {ENOTRECOVERABLE, ENOENT, ENOSPC, EIO};
static int injected; /* the one in use; the test is single-threaded */
/* Largest file the snapshot reads. */
#define SNAP_MAX_FILE ((int64_t)4 << 20)

/* ---- Environment -------------------------------------------------------- */

typedef struct env {
	vfs *v;
	fault_store *fault;
	int fd; /* opened by a case's setup; closed after its call */
} env;

/* "text (-N)" for a result, naming the injected errno. */
static const char *errname(int64_t rc, char *buf, size_t len)
{
	if (rc == -injected)
		snprintf(buf, len, "the injected error %s (%lld)",
		         vfs_strerror((int)rc), (long long)rc);
	else
		snprintf(buf, len, "%s (%lld)", vfs_strerror((int)rc),
		         (long long)rc);
	return buf;
}

static void must(int64_t rc, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, vfs_strerror((int)rc));
}

static void put_file(vfs *v, const char *path, const char *data, int64_t off,
                     uint32_t mode)
{
	int fd = vfs_open(v, path, O_WRONLY | O_CREAT, mode);

	must(fd, path);
	must(vfs_pwrite(v, fd, data, strlen(data), off), path);
	must(vfs_close(v, fd), path);
}

static void env_build_tree(env *e)
{
	vfs *v = e->v;

	must(vfs_mkdir(v, "/a", 0755), "mkdir /a");
	put_file(v, "/a/f1", "hello world", 0, 0644);
	must(vfs_mkdir(v, "/a/sub", 0700), "mkdir /a/sub");
	put_file(v, "/a/sub/deep", "deep", 0, 0600);
	must(vfs_mkdir(v, "/b", 0755), "mkdir /b");
	must(vfs_mkdir(v, "/e", 0755), "mkdir /e");
	put_file(v, "/file", "file contents\n", 0, 0644);
	put_file(v, "/big", "head", 0, 0644);
	put_file(v, "/big", "tail", 9000, 0644);
	put_file(v, "/hard1", "linked", 0, 0644);
	must(vfs_link(v, "/hard1", "/a/hard2"), "link /a/hard2");
	must(vfs_symlink(v, "a/f1", "/lnk"), "symlink /lnk");
	must(vfs_symlink(v, "b/target", "/dangle"), "symlink /dangle");
	must(vfs_mknod(v, "/fifo", S_IFIFO | 0644, 0), "mknod /fifo");
}

/* plain: hide the store's optional create(), so that the core takes its
 * mknod + open (+ unlink on failure) path as for stores without one. */
static env *env_new(bool plain)
{
	vfs_memory_options mo;
	vfs_store *mem = NULL, *fst = NULL;
	env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->fd = -1;
	memset(&mo, 0, sizeof(mo));
	mo.version = VFS_MEMORY_OPTIONS_VERSION;
	mo.max_bytes = 64 << 20;
	mo.max_inodes = 1000;
	must(vfs_new(&e->v, NULL), "vfs_new");
	must(vfs_memory_new(&mem, &mo), "vfs_memory_new");
	must(fault_store_new(&fst, &e->fault, mem), "fault_store_new");
	if (plain)
		fst->ops.create = NULL;
	must(vfs_mount_add(e->v, "/", fst, 0), "mount /");
	env_build_tree(e);
	return e;
}

static void env_free(env *e)
{
	if (e->fd >= 0)
		vfs_close(e->v, e->fd);
	vfs_free(e->v);
	free(e);
}

static vfs_statvfs env_stats(env *e)
{
	vfs_statvfs sf;

	memset(&sf, 0, sizeof(sf));
	must(vfs_statfs(e->v, "/", &sf), "statfs");
	return sf;
}

/* ---- Snapshots ---------------------------------------------------------- */

typedef struct snap_entry {
	char *path;
	vfs_attr a;
	char *data; /* file contents or link target */
	size_t len;
} snap_entry;

typedef struct snap {
	snap_entry *e;
	size_t n, cap;
} snap;

static void snap_add(env *e, snap *s, const char *path)
{
	snap_entry *x;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->e = realloc(s->e, s->cap * sizeof(*s->e));
		assert_non_null(s->e);
	}
	x = &s->e[s->n++];
	memset(x, 0, sizeof(*x));
	x->path = strdup(path);
	assert_non_null(x->path);
	must(vfs_lstat(e->v, path, &x->a), path);
	if (S_ISREG(x->a.mode)) {
		int fd;
		size_t done = 0;

		if (x->a.size > SNAP_MAX_FILE)
			fail_msg("%s: %lld bytes, too large to compare", path,
			         (long long)x->a.size);
		x->len = (size_t)x->a.size;
		x->data = malloc(x->len + 1);
		assert_non_null(x->data);
		fd = vfs_open(e->v, path, O_RDONLY, 0);
		must(fd, path);
		while (done < x->len) {
			int64_t r = vfs_pread(e->v, fd, x->data + done,
			                      x->len - done, (int64_t)done);
			must(r, path);
			if (r == 0)
				fail_msg("%s: short read at %zu", path, done);
			done += (size_t)r;
		}
		vfs_close(e->v, fd);
	} else if (S_ISLNK(x->a.mode)) {
		int r;

		x->data = malloc(VFS_PATH_MAX);
		assert_non_null(x->data);
		r = vfs_readlink(e->v, path, x->data, VFS_PATH_MAX);
		must(r, path);
		x->len = (size_t)r;
	}
}

static void snap_dir(env *e, snap *s, const char *dir)
{
	vfs_dirent de;
	int fd = vfs_opendir(e->v, dir);
	int r;

	must(fd, dir);
	while ((r = vfs_readdir(e->v, fd, &de)) == 1) {
		char path[VFS_PATH_MAX];
		size_t at;

		if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", dir,
		         strcmp(dir, "/") == 0 ? "" : "/", de.name);
		at = s->n;
		snap_add(e, s, path);
		if (S_ISDIR(s->e[at].a.mode))
			snap_dir(e, s, path);
	}
	must(r, dir);
	vfs_close(e->v, fd);
}

static int snap_cmp_path(const void *a, const void *b)
{
	return strcmp(((const snap_entry *)a)->path,
	              ((const snap_entry *)b)->path);
}

static snap snap_take(env *e)
{
	snap s;

	memset(&s, 0, sizeof(s));
	snap_add(e, &s, "/");
	snap_dir(e, &s, "/");
	qsort(s.e, s.n, sizeof(*s.e), snap_cmp_path);
	return s;
}

static void snap_free(snap *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].path);
		free(s->e[i].data);
	}
	free(s->e);
	memset(s, 0, sizeof(*s));
}

/* Describe the first difference into buf; 0 when identical. */
static int snap_diff(const snap *x, const snap *y, char *buf, size_t len)
{
	size_t i = 0, j = 0;

	while (i < x->n || j < y->n) {
		const snap_entry *p = i < x->n ? &x->e[i] : NULL;
		const snap_entry *q = j < y->n ? &y->e[j] : NULL;
		int c = !p ? 1 : !q ? -1 : strcmp(p->path, q->path);

		if (c < 0) {
			snprintf(buf, len, "%s disappeared", p->path);
			return 1;
		}
		if (c > 0) {
			snprintf(buf, len, "%s appeared", q->path);
			return 1;
		}
#define DIFF(field, fmt, type)                                                 \
	if (p->a.field != q->a.field) {                                        \
		snprintf(buf, len, "%s: " #field " " fmt " -> " fmt, p->path,  \
		         (type)p->a.field, (type)q->a.field);                  \
		return 1;                                                      \
	}
		DIFF(mode, "%o", unsigned)
		DIFF(nlink, "%u", unsigned)
		DIFF(uid, "%u", unsigned)
		DIFF(gid, "%u", unsigned)
		DIFF(size, "%lld", long long)
		DIFF(blocks, "%lld", long long)
		DIFF(rdev, "%llu", unsigned long long)
		DIFF(ino, "%llu", unsigned long long)
		DIFF(mtime.tv_sec, "%lld", long long)
		DIFF(mtime.tv_nsec, "%ld", long)
#undef DIFF
		if (p->len != q->len ||
		    (p->len && memcmp(p->data, q->data, p->len) != 0)) {
			snprintf(buf, len, "%s: contents differ", p->path);
			return 1;
		}
		i++;
		j++;
	}
	return 0;
}

/* ---- Cases -------------------------------------------------------------- */

typedef struct fault_case {
	const char *name;
	void (*setup)(env *e);  /* unfaulted, after the tree; may be NULL */
	int64_t (*act)(env *e); /* the call under test */
	int64_t expect;         /* its result without a fault (>= 0: ok) */
	/* Free inodes the call returns once done, fault or not (close of an
	 * unlinked file must release it whatever happens). */
	int64_t release_inodes;
	bool plain; /* run without the store's create() */
} fault_case;

static char blob[6000];

static void open_file_wronly(env *e)
{
	e->fd = vfs_open(e->v, "/file", O_WRONLY, 0);
	must(e->fd, "open /file");
}

static void open_file_append(env *e)
{
	e->fd = vfs_open(e->v, "/file", O_WRONLY | O_APPEND, 0);
	must(e->fd, "open /file");
}

static void open_big_rdwr(env *e)
{
	e->fd = vfs_open(e->v, "/big", O_RDWR, 0);
	must(e->fd, "open /big");
}

static void open_and_unlink_file(env *e)
{
	e->fd = vfs_open(e->v, "/file", O_RDWR, 0);
	must(e->fd, "open /file");
	must(vfs_unlink(e->v, "/file"), "unlink /file");
}

static int64_t keep_fd(env *e, int fd)
{
	if (fd >= 0)
		e->fd = fd;
	return fd;
}

static int64_t act_creat(env *e)
{
	return keep_fd(e, vfs_open(e->v, "/a/new", O_CREAT | O_WRONLY, 0640));
}

static int64_t act_creat_excl(env *e)
{
	return keep_fd(
	        e, vfs_open(e->v, "/b/new", O_CREAT | O_EXCL | O_RDWR, 0600));
}

static int64_t act_creat_exists(env *e)
{
	return keep_fd(
	        e, vfs_open(e->v, "/file", O_CREAT | O_EXCL | O_RDWR, 0600));
}

static int64_t act_creat_trunc(env *e)
{
	return keep_fd(
	        e, vfs_open(e->v, "/file", O_CREAT | O_TRUNC | O_WRONLY, 0600));
}

static int64_t act_creat_dangling(env *e)
{
	return keep_fd(e, vfs_open(e->v, "/dangle", O_CREAT | O_WRONLY, 0644));
}

static int64_t act_open_trunc(env *e)
{
	return keep_fd(e, vfs_open(e->v, "/a/f1", O_TRUNC | O_WRONLY, 0));
}

static int64_t act_write(env *e)
{
	return vfs_write(e->v, e->fd, blob, sizeof(blob));
}

static int64_t act_pwrite_hole(env *e)
{
	return vfs_pwrite(e->v, e->fd, "xyz", 3, 200000);
}

static int64_t act_pwrite_inside(env *e)
{
	return vfs_pwrite(e->v, e->fd, "XY", 2, 1);
}

static int64_t act_append(env *e)
{
	return vfs_write(e->v, e->fd, blob, 100);
}

static int64_t act_ftruncate_shrink(env *e)
{
	return vfs_ftruncate(e->v, e->fd, 10);
}

static int64_t act_ftruncate_grow(env *e)
{
	return vfs_ftruncate(e->v, e->fd, 1 << 20);
}

static int64_t act_truncate_shrink(env *e)
{
	return vfs_truncate(e->v, "/a/f1", 2);
}

static int64_t act_truncate_grow(env *e)
{
	return vfs_truncate(e->v, "/file", 50000);
}

static int64_t act_mkdir(env *e)
{
	return vfs_mkdir(e->v, "/a/sub/newdir", 0750);
}

static int64_t act_mkdir_exists(env *e)
{
	return vfs_mkdir(e->v, "/a/sub", 0750);
}

static int64_t act_rmdir(env *e)
{
	return vfs_rmdir(e->v, "/e");
}

static int64_t act_rmdir_nonempty(env *e)
{
	return vfs_rmdir(e->v, "/a");
}

static int64_t act_unlink(env *e)
{
	return vfs_unlink(e->v, "/a/f1");
}

static int64_t act_unlink_hardlink(env *e)
{
	return vfs_unlink(e->v, "/hard1");
}

static int64_t act_unlink_symlink(env *e)
{
	return vfs_unlink(e->v, "/lnk");
}

static int64_t act_rename(env *e)
{
	return vfs_rename(e->v, "/file", "/b/moved", 0);
}

static int64_t act_rename_same_dir(env *e)
{
	return vfs_rename(e->v, "/file", "/file2", 0);
}

static int64_t act_rename_over(env *e)
{
	return vfs_rename(e->v, "/file", "/a/f1", 0);
}

static int64_t act_rename_hardlinks(env *e)
{
	return vfs_rename(e->v, "/hard1", "/a/hard2", 0);
}

static int64_t act_rename_noreplace(env *e)
{
	return vfs_rename(e->v, "/file", "/b/nr", VFS_RENAME_NOREPLACE);
}

static int64_t act_rename_noreplace_exists(env *e)
{
	return vfs_rename(e->v, "/file", "/a/f1", VFS_RENAME_NOREPLACE);
}

static int64_t act_rename_exchange(env *e)
{
	return vfs_rename(e->v, "/file", "/a/f1", VFS_RENAME_EXCHANGE);
}

static int64_t act_rename_exchange_dir_file(env *e)
{
	return vfs_rename(e->v, "/a/sub", "/file", VFS_RENAME_EXCHANGE);
}

static int64_t act_rename_dir(env *e)
{
	return vfs_rename(e->v, "/a/sub", "/b/sub2", 0);
}

static int64_t act_rename_dir_over_empty(env *e)
{
	return vfs_rename(e->v, "/a/sub", "/e", 0);
}

static int64_t act_rename_dir_into_itself(env *e)
{
	return vfs_rename(e->v, "/a", "/a/sub/x", 0);
}

static int64_t act_link(env *e)
{
	return vfs_link(e->v, "/file", "/b/l");
}

static int64_t act_symlink(env *e)
{
	return vfs_symlink(e->v, "x/y", "/b/s");
}

static int64_t act_mknod(env *e)
{
	return vfs_mknod(e->v, "/b/p", S_IFIFO | 0644, 0);
}

static int64_t act_chmod(env *e)
{
	return vfs_chmod(e->v, "/file", 0600);
}

static int64_t act_chmod_via_symlink(env *e)
{
	return vfs_chmod(e->v, "/lnk", 0600);
}

static int64_t act_chown(env *e)
{
	return vfs_chown(e->v, "/file", 1234, 5678);
}

static int64_t act_lchown(env *e)
{
	return vfs_lchown(e->v, "/lnk", 1234, 5678);
}

static int64_t act_utimens(env *e)
{
	struct timespec t[2] = {{1000, 1}, {2000, 2}};
	return vfs_utimens(e->v, "/file", t, 0);
}

static int64_t act_utimens_now(env *e)
{
	return vfs_utimens(e->v, "/a/f1", NULL, 0);
}

static int64_t act_fchmod(env *e)
{
	return vfs_fchmod(e->v, e->fd, 0604);
}

static int64_t act_fchown(env *e)
{
	return vfs_fchown(e->v, e->fd, 4321, 8765);
}

static int64_t act_futimens(env *e)
{
	struct timespec t[2] = {{3000, 3}, {4000, 4}};
	return vfs_futimens(e->v, e->fd, t);
}

static int64_t act_close_unlinked(env *e)
{
	int fd = e->fd;
	e->fd = -1;
	return vfs_close(e->v, fd);
}

static const fault_case cases[] = {
        {"open O_CREAT", NULL, act_creat, 0, 0, false},
        {"open O_CREAT|O_EXCL", NULL, act_creat_excl, 0, 0, false},
        {"open O_CREAT, store without create()", NULL, act_creat, 0, 0, true},
        {"open O_CREAT|O_EXCL, store without create()", NULL, act_creat_excl, 0,
         0, true},
        {"open O_CREAT dangling symlink, store without create()", NULL,
         act_creat_dangling, 0, 0, true},
        {"open O_CREAT|O_EXCL existing", NULL, act_creat_exists, -EEXIST, 0,
         false},
        {"open O_CREAT|O_TRUNC existing", NULL, act_creat_trunc, 0, 0, false},
        {"open O_CREAT dangling symlink", NULL, act_creat_dangling, 0, 0,
         false},
        {"open O_TRUNC", NULL, act_open_trunc, 0, 0, false},
        {"write extending", open_file_wronly, act_write, 0, 0, false},
        {"pwrite into hole", open_big_rdwr, act_pwrite_hole, 0, 0, false},
        {"pwrite inside", open_big_rdwr, act_pwrite_inside, 0, 0, false},
        {"write O_APPEND", open_file_append, act_append, 0, 0, false},
        {"ftruncate shrink", open_big_rdwr, act_ftruncate_shrink, 0, 0, false},
        {"ftruncate grow", open_big_rdwr, act_ftruncate_grow, 0, 0, false},
        {"truncate shrink", NULL, act_truncate_shrink, 0, 0, false},
        {"truncate grow", NULL, act_truncate_grow, 0, 0, false},
        {"mkdir", NULL, act_mkdir, 0, 0, false},
        {"mkdir existing", NULL, act_mkdir_exists, -EEXIST, 0, false},
        {"rmdir", NULL, act_rmdir, 0, 0, false},
        {"rmdir non-empty", NULL, act_rmdir_nonempty, -ENOTEMPTY, 0, false},
        {"unlink", NULL, act_unlink, 0, 0, false},
        {"unlink hard link", NULL, act_unlink_hardlink, 0, 0, false},
        {"unlink symlink", NULL, act_unlink_symlink, 0, 0, false},
        {"rename", NULL, act_rename, 0, 0, false},
        {"rename in one directory", NULL, act_rename_same_dir, 0, 0, false},
        {"rename over a file", NULL, act_rename_over, 0, 0, false},
        {"rename onto own hard link", NULL, act_rename_hardlinks, 0, 0, false},
        {"rename NOREPLACE", NULL, act_rename_noreplace, 0, 0, false},
        {"rename NOREPLACE existing", NULL, act_rename_noreplace_exists,
         -EEXIST, 0, false},
        {"rename EXCHANGE", NULL, act_rename_exchange, 0, 0, false},
        {"rename EXCHANGE dir and file", NULL, act_rename_exchange_dir_file, 0,
         0, false},
        {"rename directory", NULL, act_rename_dir, 0, 0, false},
        {"rename directory over empty one", NULL, act_rename_dir_over_empty, 0,
         0, false},
        {"rename directory into itself", NULL, act_rename_dir_into_itself,
         -EINVAL, 0, false},
        {"link", NULL, act_link, 0, 0, false},
        {"symlink", NULL, act_symlink, 0, 0, false},
        {"mknod", NULL, act_mknod, 0, 0, false},
        {"chmod", NULL, act_chmod, 0, 0, false},
        {"chmod through symlink", NULL, act_chmod_via_symlink, 0, 0, false},
        {"chown", NULL, act_chown, 0, 0, false},
        {"lchown", NULL, act_lchown, 0, 0, false},
        {"utimens", NULL, act_utimens, 0, 0, false},
        {"utimens now", NULL, act_utimens_now, 0, 0, false},
        {"fchmod", open_file_wronly, act_fchmod, 0, 0, false},
        {"fchown", open_file_wronly, act_fchown, 0, 0, false},
        {"futimens", open_file_wronly, act_futimens, 0, 0, false},
        {"close unlinked open file", open_and_unlink_file, act_close_unlinked,
         0, 1, false},
};

/* ---- Driver ------------------------------------------------------------- */

/* Run one case with the fault at n. Returns true when the call ran to its
 * end without reaching the fault. Problems are counted in *bad. */
static bool run_once(const fault_case *fc, uint64_t n, int *bad)
{
	env *e = env_new(fc->plain);
	snap before, after;
	vfs_statvfs sf0, sf1;
	const char *member;
	char diff[512], eb[64], eb2[64];
	bool hit;
	int64_t rc;

	if (fc->setup)
		fc->setup(e);
	before = snap_take(e);
	sf0 = env_stats(e);

	fault_store_arm(e->fault, n, injected, FAULT_ALL);
	rc = fc->act(e);
	fault_store_disarm(e->fault);
	hit = fault_store_hit(e->fault);
	member = fault_store_hit_member(e->fault);
	if (e->fd >= 0 && fc->act != act_close_unlinked) {
		vfs_close(e->v, e->fd);
		e->fd = -1;
	}

	if (!hit) {
		if ((fc->expect >= 0 && rc < 0) ||
		    (fc->expect < 0 && rc != fc->expect)) {
			printf("FAULT %s: without a fault: %s (expected %s)\n",
			       fc->name, errname(rc, eb, sizeof(eb)),
			       errname(fc->expect, eb2, sizeof(eb2)));
			(*bad)++;
		}
		goto out;
	}
	if (rc >= 0) {
		printf("note  %s: N=%llu [%s]: succeeded although %s failed\n",
		       fc->name, (unsigned long long)n, vfs_strerror(-injected),
		       member);
		goto out;
	}
	if (rc != -injected && rc != fc->expect) {
		printf("note  %s: N=%llu [%s]: %s failed, call returned %s\n",
		       fc->name, (unsigned long long)n, vfs_strerror(-injected),
		       member, errname(rc, eb, sizeof(eb)));
	}

	after = snap_take(e);
	if (snap_diff(&before, &after, diff, sizeof(diff))) {
		printf("FAULT %s: N=%llu [%s]: %s failed (call returned %s) "
		       "but "
		       "the tree changed: %s\n",
		       fc->name, (unsigned long long)n, vfs_strerror(-injected),
		       member, errname(rc, eb, sizeof(eb)), diff);
		(*bad)++;
	}
	snap_free(&after);
	sf1 = env_stats(e);
	if (sf1.ffree != sf0.ffree + (uint64_t)fc->release_inodes ||
	    (fc->release_inodes == 0 && sf1.bfree != sf0.bfree)) {
		printf("FAULT %s: N=%llu [%s]: %s failed: free inodes %llu -> "
		       "%llu, "
		       "free blocks %llu -> %llu\n",
		       fc->name, (unsigned long long)n, vfs_strerror(-injected),
		       member, (unsigned long long)sf0.ffree,
		       (unsigned long long)sf1.ffree,
		       (unsigned long long)sf0.bfree,
		       (unsigned long long)sf1.bfree);
		(*bad)++;
	}
out:
	if (fc->release_inodes) {
		/* Fault or not, the unlinked file is gone once closed. */
		sf1 = env_stats(e);
		if (sf1.ffree != sf0.ffree + (uint64_t)fc->release_inodes) {
			printf("FAULT %s: N=%llu [%s]: free inodes %llu -> "
			       "%llu "
			       "after close\n",
			       fc->name, (unsigned long long)n,
			       vfs_strerror(-injected),
			       (unsigned long long)sf0.ffree,
			       (unsigned long long)sf1.ffree);
			(*bad)++;
		}
	}
	snap_free(&before);
	env_free(e);
	return !hit;
}

static void test_fault_case(void **state)
{
	const fault_case *fc = *state;
	int bad = 0;
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(injected_errnos) / sizeof(int); i++) {
		injected = injected_errnos[i];
		for (n = 1; n < 1000; n++) {
			if (run_once(fc, n, &bad))
				break;
		}
		if (n == 1000)
			fail_msg(
			        "%s: still reaching the fault after 1000 calls",
			        fc->name);
	}
	printf("info  %s: faults injected at calls 1..%llu\n", fc->name,
	       (unsigned long long)n - 1);
	if (bad)
		fail_msg("%s: %d problem(s), listed above", fc->name, bad);
}

/*
 * A lookup that says ENOENT for a name that exists is what a store shows
 * when another thread creates the name between the core's lookup and its
 * create. open(O_CREAT) without O_EXCL must then open the file the other
 * creator made: it may never fail with EEXIST.
 */
static void test_fault_creat_race_opens_existing(void **state)
{
	for (int plain = 0; plain < 2; plain++) {
		env *e = env_new(plain);
		bool hit;
		int fd;

		fault_store_arm(e->fault, 1, ENOENT, FAULT_LOOKUP);
		fd = vfs_open(e->v, "/file", O_CREAT | O_WRONLY, 0644);
		fault_store_disarm(e->fault);
		hit = fault_store_hit(e->fault);
		if (fd >= 0)
			vfs_close(e->v, fd);
		env_free(e);
		assert_true(hit);
		if (fd < 0)
			fail_msg("open(O_CREAT) of a name created meanwhile%s: "
			         "%s",
			         plain ? " (store without create())" : "",
			         vfs_strerror(fd));
	}
}

int main(void)
{
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[NCASES];

	/* Our lines interleave with cmocka's. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(blob, 'b', sizeof(blob));
	for (size_t i = 0; i < NCASES; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].name;
		tests[i].test_func = test_fault_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	const struct CMUnitTest more[] = {
	        cmocka_unit_test(test_fault_creat_race_opens_existing),
	};
	int failed;

	failed = cmocka_run_group_tests_name("fault", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("fault races", more, NULL, NULL);
	return failed;
}
