/*
 * Fault injection inside the SQLite store: the N-th SQLite call fails.
 *
 * For each mutating operation below and N = 1, 2, ... until the operation
 * completes without reaching the fault, a fresh copy of a template
 * database is mounted, the tree is snapshotted (names, types, modes,
 * sizes, nlink, owners, mtimes, contents, link targets), the store is armed
 * to make its N-th sqlite3_step/prepare return SQLITE_IOERR, and the
 * operation runs. If the fault fired, the operation must have failed and
 * the snapshot must be unchanged, in this process and after remounting;
 * fsck must find the file clean. A second pass injects SQLITE_BUSY, which
 * the store retries: the operation must then give its normal result
 * (sampled at a few N to keep the run short).
 *
 * The file holds: the environment, the cases, the driver.
 */
#include "sqlite_test.h"
#include "backends/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

/* ---- environment ------------------------------------------------------- */

typedef struct env {
	char dir[512];
	char tmpl[600], db[600];
	vfs *v;
	vfs_store *store;
	int fd;
} env;

static unsigned char blob[300000];

static void env_template(env *e)
{
	vfs *v = st_mount_ok(e->tmpl, NULL);

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(i * 7 + (i >> 9));
	st_put(v, "/f", "hello", 5);
	st_put(v, "/big", blob, sizeof(blob));
	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	st_put(v, "/d/g", "gg", 2);
	assert_int_equal(vfs_mkdir(v, "/d/sub", 0700), 0);
	st_put(v, "/d/sub/x", "x", 1);
	assert_int_equal(vfs_mkdir(v, "/e", 0755), 0);
	st_put(v, "/h", "hard", 4);
	assert_int_equal(vfs_link(v, "/h", "/h2"), 0);
	assert_int_equal(vfs_symlink(v, "f", "/l"), 0);
	vfs_free(v);
}

static void env_copy(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

/* Mount a fresh copy of the template, keeping the store handle. */
static void env_mount(env *e, bool fresh)
{
	char spec[700], err[512] = "";
	int rc;

	if (fresh) {
		char p[700];
		snprintf(p, sizeof(p), "%s-wal", e->db);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", e->db);
		unlink(p);
		env_copy(e->tmpl, e->db);
	}
	snprintf(spec, sizeof(spec), "sqlite:%s", e->db);
	assert_int_equal(vfs_new(&e->v, NULL), 0);
	rc = vfs_store_open(&e->store, spec, err, sizeof(err));
	if (rc < 0)
		fail_msg("store open: %s", err);
	assert_int_equal(vfs_mount_add(e->v, "/", e->store, 0), 0);
	e->fd = -1;
}

static void env_unmount(env *e)
{
	if (e->fd >= 0)
		vfs_close(e->v, e->fd);
	vfs_free(e->v);
	e->v = NULL;
	e->store = NULL;
}

/* ---- cases ------------------------------------------------------------- */

typedef struct fcase {
	const char *name;
	void (*setup)(env *e); /* before the snapshot, may open e->fd */
	int64_t (*act)(env *e);
} fcase;

static void open_f_rdwr(env *e)
{
	e->fd = vfs_open(e->v, "/f", O_RDWR, 0);
	assert_true(e->fd >= 0);
}

static void open_big_rdwr(env *e)
{
	e->fd = vfs_open(e->v, "/big", O_RDWR, 0);
	assert_true(e->fd >= 0);
}

static void open_f_append(env *e)
{
	e->fd = vfs_open(e->v, "/f", O_WRONLY | O_APPEND, 0);
	assert_true(e->fd >= 0);
}

static void open_and_unlink(env *e)
{
	e->fd = vfs_open(e->v, "/h", O_RDWR, 0);
	assert_true(e->fd >= 0);
	assert_int_equal(vfs_unlink(e->v, "/h"), 0);
	assert_int_equal(vfs_unlink(e->v, "/h2"), 0);
}

static int64_t closed(env *e, int fd)
{
	if (fd >= 0) {
		vfs_close(e->v, fd);
		return 0;
	}
	return fd;
}

static int64_t a_creat(env *e)
{
	return closed(e, vfs_open(e->v, "/new", O_WRONLY | O_CREAT, 0640));
}
static int64_t a_creat_excl_exists(env *e)
{
	return closed(e,
	              vfs_open(e->v, "/f", O_WRONLY | O_CREAT | O_EXCL, 0640));
}
static int64_t a_open_trunc(env *e)
{
	return closed(e, vfs_open(e->v, "/big", O_WRONLY | O_TRUNC, 0));
}
static int64_t a_write(env *e)
{
	return vfs_pwrite(e->v, e->fd, blob, 10000, 0);
}
static int64_t a_write_across(env *e)
{
	return vfs_pwrite(e->v, e->fd, blob + 5, 200000, 60000);
}
static int64_t a_write_hole(env *e)
{
	return vfs_pwrite(e->v, e->fd, "far", 3, (int64_t)1 << 33);
}
static int64_t a_append(env *e)
{
	return vfs_write(e->v, e->fd, "tail", 4);
}
static int64_t a_trunc_shrink(env *e)
{
	return vfs_ftruncate(e->v, e->fd, 70001);
}
static int64_t a_trunc_grow(env *e)
{
	return vfs_truncate(e->v, "/f", 1 << 20);
}
static int64_t a_mkdir(env *e)
{
	return vfs_mkdir(e->v, "/d/newdir", 0755);
}
static int64_t a_rmdir(env *e)
{
	return vfs_rmdir(e->v, "/e");
}
static int64_t a_rmdir_nonempty(env *e)
{
	return vfs_rmdir(e->v, "/d");
}
static int64_t a_unlink(env *e)
{
	return vfs_unlink(e->v, "/big");
}
static int64_t a_unlink_hard(env *e)
{
	return vfs_unlink(e->v, "/h2");
}
static int64_t a_unlink_symlink(env *e)
{
	return vfs_unlink(e->v, "/l");
}
static int64_t a_rename(env *e)
{
	return vfs_rename(e->v, "/f", "/d/f2", 0);
}
static int64_t a_rename_over(env *e)
{
	return vfs_rename(e->v, "/f", "/big", 0);
}
static int64_t a_rename_dir(env *e)
{
	return vfs_rename(e->v, "/d/sub", "/e/sub", 0);
}
static int64_t a_rename_dir_over_empty(env *e)
{
	return vfs_rename(e->v, "/d/sub", "/e", 0);
}
static int64_t a_rename_exchange(env *e)
{
	return vfs_rename(e->v, "/d", "/f", VFS_RENAME_EXCHANGE);
}
static int64_t a_rename_noreplace(env *e)
{
	return vfs_rename(e->v, "/f", "/big", VFS_RENAME_NOREPLACE);
}
static int64_t a_link(env *e)
{
	return vfs_link(e->v, "/big", "/d/big3");
}
static int64_t a_symlink(env *e)
{
	return vfs_symlink(e->v, "/d/g", "/e/ln");
}
static int64_t a_mknod(env *e)
{
	return vfs_mknod(e->v, "/fifo", S_IFIFO | 0600, 0);
}
static int64_t a_chmod(env *e)
{
	return vfs_chmod(e->v, "/big", 0600);
}
static int64_t a_chown(env *e)
{
	return vfs_chown(e->v, "/big", 123, 456);
}
static int64_t a_utimens(env *e)
{
	struct timespec ts[2] = {{1000, 5}, {2000, 6}};
	return vfs_utimens(e->v, "/d/g", ts, 0);
}
static int64_t a_close_unlinked(env *e)
{
	int fd = e->fd;
	e->fd = -1;
	return vfs_close(e->v, fd);
}

static const fcase cases[] = {
        {"creat", NULL, a_creat},
        {"creat_excl_exists", NULL, a_creat_excl_exists},
        {"open_trunc", NULL, a_open_trunc},
        {"write", open_f_rdwr, a_write},
        {"write_across_blocks", open_big_rdwr, a_write_across},
        {"write_into_hole", open_f_rdwr, a_write_hole},
        {"append", open_f_append, a_append},
        {"ftruncate_shrink", open_big_rdwr, a_trunc_shrink},
        {"truncate_grow", NULL, a_trunc_grow},
        {"mkdir", NULL, a_mkdir},
        {"rmdir", NULL, a_rmdir},
        {"rmdir_nonempty", NULL, a_rmdir_nonempty},
        {"unlink", NULL, a_unlink},
        {"unlink_hardlink", NULL, a_unlink_hard},
        {"unlink_symlink", NULL, a_unlink_symlink},
        {"rename", NULL, a_rename},
        {"rename_over", NULL, a_rename_over},
        {"rename_dir", NULL, a_rename_dir},
        {"rename_dir_over_empty", NULL, a_rename_dir_over_empty},
        {"rename_exchange", NULL, a_rename_exchange},
        {"rename_noreplace", NULL, a_rename_noreplace},
        {"link", NULL, a_link},
        {"symlink", NULL, a_symlink},
        {"mknod", NULL, a_mknod},
        {"chmod", NULL, a_chmod},
        {"chown", NULL, a_chown},
        {"utimens", NULL, a_utimens},
        {"close_unlinked", open_and_unlink, a_close_unlinked},
};

/* ---- driver ------------------------------------------------------------ */

static void snap(env *e, st_snap *s)
{
	int rc = st_snap_take(e->v, s);

	if (rc < 0)
		fail_msg("snapshot: %s", vfs_strerror(rc));
}

/* Run one case with the fault at n (0: none). Returns the result and
 * whether the fault fired. */
static int64_t run_once(env *e, const fcase *c, long n, int code, bool *fired,
                        st_snap *before, st_snap *after)
{
	int64_t rc;

	env_mount(e, true);
	if (c->setup)
		c->setup(e);
	snap(e, before);
	vfs__sqlite_fail_after(e->store->state, n, code);
	rc = c->act(e);
	*fired = n > 0 && vfs__sqlite_fault_fired(e->store->state);
	vfs__sqlite_fail_after(e->store->state, 0, 0);
	snap(e, after);
	return rc;
}

static void test_sqlite_fault_every_call(void **state)
{
	env *e = *state;
	unsigned total = 0, absorbed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const fcase *c = &cases[i];
		st_snap b, a, b0, a0;
		bool fired;
		int64_t rc0, rc;
		long n;
		char diff[1200];

		rc0 = run_once(e, c, 0, 0, &fired, &b0, &a0);
		env_unmount(e);
		for (n = 1;; n++) {
			rc = run_once(e, c, n, SQLITE_IOERR, &fired, &b, &a);
			if (!fired) {
				if (rc != rc0)
					fail_msg("%s: without fault %lld, "
					         "first %lld",
					         c->name, (long long)rc,
					         (long long)rc0);
				env_unmount(e);
				st_snap_free(&b);
				st_snap_free(&a);
				break;
			}
			total++;
			/* The core may absorb a failed read it only uses as
			 * a hint (the ".." inode of a new handle): then the
			 * operation must have completed normally. */
			if (rc >= 0) {
				absorbed++;
				if (rc != rc0)
					fail_msg("%s: N=%ld: %lld, wanted %lld",
					         c->name, n, (long long)rc,
					         (long long)rc0);
			} else if (!st_snap_equal(&b, &a, diff, sizeof(diff))) {
				fail_msg("%s: N=%ld (rc %lld): tree "
				         "changed:\n%s",
				         c->name, n, (long long)rc, diff);
			}
			env_unmount(e);
			st_snap_free(&a);
			/* The same after reopening. */
			env_mount(e, false);
			snap(e, &a);
			if (rc < 0 &&
			    !st_snap_equal(&b, &a, diff, sizeof(diff)))
				fail_msg("%s: N=%ld: tree changed on disk:\n%s",
				         c->name, n, diff);
			env_unmount(e);
			{
				char rep[2048];
				int f = vfs_sqlite_fsck(e->db, 0, rep,
				                        sizeof(rep));
				if (f != 0)
					fail_msg("%s: N=%ld: fsck %d:\n%s",
					         c->name, n, f, rep);
			}
			st_snap_free(&b);
			st_snap_free(&a);
		}
		/* A busy database is retried: the normal result. */
		for (long m = 1; m < n; m = m < 3 ? m + 1 : m + 5) {
			rc = run_once(e, c, m, SQLITE_BUSY, &fired, &b, &a);
			if (rc != rc0)
				fail_msg("%s: busy at call %ld: %lld, wanted "
				         "%lld",
				         c->name, m, (long long)rc,
				         (long long)rc0);
			env_unmount(e);
			st_snap_free(&b);
			st_snap_free(&a);
		}
		print_message("%-22s %3ld SQLite calls, result %lld\n", c->name,
		              n - 1, (long long)rc0);
		st_snap_free(&b0);
		st_snap_free(&a0);
	}
	print_message("%u injected failures (%u absorbed by the core), all "
	              "clean\n",
	              total, absorbed);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	st_tmpdir(e->dir, sizeof(e->dir), "fault");
	snprintf(e->tmpl, sizeof(e->tmpl), "%s/template.db", e->dir);
	snprintf(e->db, sizeof(e->db), "%s/fault.db", e->dir);
	env_template(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	st_rm_rf(e->dir);
	free(e);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_sqlite_fault_every_call,
	                                        setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
