/*
 * The SQLite store's own behaviour, beyond the conformance suite: SPEC
 * options, the on-disk layout (schema, sparse blocks, truncation), limits,
 * open-but-unlinked files and orphan reclaim, hostile and damaged database
 * files, schema versions and migration, fsck, and readdir cookies under
 * change.
 *
 * The file holds: fixtures, then one group per area, then the runner.
 */
#include "sqlite_test.h"
#include "backends/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

/* ---- fixtures ---------------------------------------------------------- */

typedef struct fx {
	char dir[512];
	char db[600];
} fx;

static int fx_setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	st_tmpdir(f->dir, sizeof(f->dir), "unit");
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	fx *f = *state;

	st_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Make a store with a little content, then unmount it. */
static void fx_make_store(fx *f)
{
	vfs *v = st_mount_ok(f->db, NULL);

	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	st_put(v, "/d/f", "hello", 5);
	assert_int_equal(vfs_symlink(v, "d/f", "/l"), 0);
	vfs_free(v);
}

/* A copy of the store's file, for damage that must not touch the original. */
static void fx_copy(const char *from, const char *to)
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

static int fx_mount_err(fx *f, const char *db, char *err, size_t len)
{
	vfs *v = NULL;
	int rc = st_mount(&v, db ? db : f->db, NULL, err, len);

	if (rc == 0)
		vfs_free(v);
	return rc;
}

/* ---- SPEC and layout --------------------------------------------------- */

static void test_sqlite_spec_errors(void **state)
{
	fx *f = *state;
	char err[512], spec[700];
	vfs_store *s = NULL;

	assert_int_equal(vfs_store_open(&s, "sqlite", err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "DBFILE"));
	snprintf(spec, sizeof(spec), "sqlite:%s,bogus=1", f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	snprintf(spec, sizeof(spec), "sqlite:%s,maxdb=12Q", f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "maxdb"));
	snprintf(spec, sizeof(spec), "sqlite:%s,sync=sometimes", f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), -EINVAL);
	snprintf(spec, sizeof(spec), "sqlite:%s,blocksize=3000", f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), -EINVAL);
	/* Read-only needs an existing file; nothing was created. */
	snprintf(spec, sizeof(spec), "sqlite:%s,ro", f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), -ENOENT);
	assert_int_equal(access(f->db, F_OK), -1);
	snprintf(spec, sizeof(spec), "sqlite:%s/nodir/x.db", f->dir);
	assert_true(vfs_store_open(&s, spec, err, sizeof(err)) < 0);
	/* Every option at once is accepted. */
	snprintf(spec, sizeof(spec),
	         "sqlite:%s,maxfile=1G,maxdb=1G,busy_timeout=100,sync=full,"
	         "blocksize=16K,pagesize=8192",
	         f->db);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof(err)), 0);
	assert_int_equal(vfs__sqlite_block_size(s->state), 16384);
	vfs_store_free(s);
	assert_int_equal(st_sql_int(f->db, "PRAGMA page_size"), 8192);
}

static void test_sqlite_schema_and_persistence(void **state)
{
	fx *f = *state;
	char buf[64], rep[1024];
	vfs *v;

	fx_make_store(f);
	assert_int_equal(st_sql_int(f->db, "PRAGMA application_id"),
	                 0x76667331);
	assert_int_equal(st_sql_int(f->db, "PRAGMA user_version"), 1);
	assert_int_equal(st_sql_int(f->db,
	                            "SELECT count(*) FROM sqlite_schema WHERE "
	                            "type = 'trigger' OR type = 'view'"),
	                 0);
	/* WAL mode is recorded in the file header. */
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM "
	                                   "pragma_journal_mode WHERE "
	                                   "journal_mode = 'wal'"),
	                 1);
	v = st_mount_ok(f->db, NULL);
	assert_int_equal(st_get(v, "/l", buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, rep, sizeof(rep)), 0);
	assert_string_equal(rep, "");
}

/* Names are bytes: invalid UTF-8, case and NFC/NFD variants all differ. */
static void test_sqlite_names_are_bytes(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL);
	const char *names[] = {"/a", "/A", "/\xff\xfe", "/caf\xc3\xa9",
	                       "/cafe\xcc\x81"};
	char buf[8];

	for (size_t i = 0; i < 5; i++)
		st_put(v, names[i], &"01234"[i], 1);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(st_get(v, names[i], buf, sizeof(buf)), 1);
		assert_int_equal(buf[0], "01234"[i]);
	}
	vfs_free(v);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM dentries "
	                                   "WHERE typeof(name) = 'blob'"),
	                 5);
}

static void test_sqlite_sparse_and_truncate_blocks(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL);
	const int64_t far = (int64_t)1 << 40;
	unsigned char *data = malloc(200000), *back = malloc(200000);
	int fd;

	for (size_t i = 0; i < 200000; i++)
		data[i] = (unsigned char)(i * 31 + 7);
	fd = vfs_open(v, "/sparse", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, far), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	st_put(v, "/t", data, 200000);
	assert_int_equal(vfs_truncate(v, "/t", 70000), 0);
	assert_int_equal(vfs_truncate(v, "/t", 200000), 0);
	assert_int_equal(st_get(v, "/t", back, 200000), 200000);
	assert_memory_equal(back, data, 70000);
	for (size_t i = 70000; i < 200000; i++)
		assert_int_equal(back[i], 0);
	vfs_free(v);
	/* One block for the far byte, one byte long. */
	assert_int_equal(st_sql_int(f->db,
	                            "SELECT count(*) FROM blocks b JOIN "
	                            "dentries d ON d.ino = b.ino WHERE d.name "
	                            "= CAST('sparse' AS BLOB)"),
	                 1);
	assert_int_equal(st_sql_int(f->db,
	                            "SELECT sum(length(data)) FROM blocks b "
	                            "JOIN dentries d ON d.ino = b.ino WHERE "
	                            "d.name = CAST('sparse' AS BLOB)"),
	                 1);
	/* Truncation kept 70000 bytes and grew a hole after them. */
	assert_int_equal(st_sql_int(f->db,
	                            "SELECT sum(length(data)) FROM blocks b "
	                            "JOIN dentries d ON d.ino = b.ino WHERE "
	                            "d.name = CAST('t' AS BLOB)"),
	                 70000);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
	free(data);
	free(back);
}

static void test_sqlite_limits_before_writing(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, "maxfile=1M,maxdb=1536K");
	char *big = calloc(1, 4 << 20);
	vfs_attr a;
	int fd;

	assert_non_null(big);
	fd = vfs_open(v, "/f", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_pwrite(v, fd, "abc", 3, 0), 3);
	assert_int_equal(vfs_pwrite(v, fd, "x", 1, 1 << 20), -EFBIG);
	assert_int_equal(vfs_ftruncate(v, fd, (1 << 20) + 1), -EFBIG);
	assert_int_equal(vfs_ftruncate(v, fd, 1 << 20), 0);
	assert_int_equal(vfs_ftruncate(v, fd, 3), 0);
	assert_int_equal(vfs_close(v, fd), 0);
	/* The database limit: 3 MiB of data in a 2 MiB database. */
	fd = vfs_open(v, "/g", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	/* A write crossing maxfile writes what fits, as at s_maxbytes. */
	assert_int_equal(vfs_pwrite(v, fd, big, (1 << 20) + 1, 0), 1 << 20);
	assert_int_equal(vfs_ftruncate(v, fd, 0), 0);
	assert_int_equal(vfs_pwrite(v, fd, big, 1000000, 0), 1000000);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_open(v, "/h", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	memset(big, 'h', 1 << 20);
	assert_int_equal(vfs_pwrite(v, fd, big, 1000000, 0), -ENOSPC);
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, 0);
	assert_int_equal(a.blocks, 0);
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
	free(big);
}

/* statfs reports the host filesystem's room after the process changed
 * directory, also for a store opened by a relative name (vfsmount
 * detaches with chdir("/")). */
static void test_sqlite_statfs_relative_name(void **state)
{
	fx *f = *state;
	char cwd[1024];
	vfs_statvfs sv;
	vfs *v;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	v = st_mount_ok("store.db", NULL);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(vfs_statfs(v, "/", &sv), 0);
	assert_true(sv.bavail > 0);
	assert_true(sv.blocks >= sv.bavail);
	vfs_free(v);
	assert_int_equal(chdir(cwd), 0);
}

/* A read whose access time is due does not wait for another process's
 * write lock: the time is a hint and is skipped (busy_timeout is 30 s, so
 * waiting for it could not pass unnoticed). */
static void test_sqlite_read_never_waits_for_a_writer(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, "busy_timeout=30000");
	struct timespec t0, t1;
	sqlite3 *other;
	char buf[8];
	int fd;

	st_put(v, "/f", "hello", 5);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	        SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vfs_read(v, fd, buf, sizeof(buf)), 5);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_memory_equal(buf, "hello", 5);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_free(v);
}

/* ---- open-but-unlinked files and orphans ------------------------------- */

static void test_sqlite_unlinked_open_file(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL);
	char buf[16];
	int fd;

	st_put(v, "/f", "payload", 7);
	fd = vfs_open(v, "/f", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_unlink(v, "/f"), 0);
	assert_int_equal(vfs_pwrite(v, fd, "P", 1, 0), 1);
	assert_int_equal(vfs_pread(v, fd, buf, sizeof(buf), 0), 7);
	assert_memory_equal(buf, "Payload", 7);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM inodes WHERE "
	                                   "nlink = 0 AND holder IS NOT NULL"),
	                 1);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM inodes WHERE "
	                                   "nlink = 0"),
	                 0);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM blocks"), 0);
	vfs_free(v);
}

/* A process dies holding an unlinked file: the next open reclaims it. */
static void test_sqlite_orphan_reclaimed_after_crash(void **state)
{
	fx *f = *state;
	char rep[1024];
	pid_t pid;
	int status;
	vfs *v;

	fx_make_store(f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vfs *cv = st_mount_ok(f->db, NULL);
		int fd = vfs_open(cv, "/d/f", O_RDWR, 0);
		if (fd < 0 || vfs_unlink(cv, "/d/f") < 0 ||
		    vfs_pwrite(cv, fd, "more", 4, 100) != 4)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM inodes WHERE "
	                                   "nlink = 0"),
	                 1);
	/* fsck sees the orphan of a dead process; the store reclaims it. */
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, rep, sizeof(rep)), 1);
	assert_non_null(strstr(rep, "orphan"));
	v = st_mount_ok(f->db, NULL);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM inodes WHERE "
	                                   "nlink = 0"),
	                 0);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM blocks"), 0);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, rep, sizeof(rep)), 0);
}

/* Another live process's orphan is left alone. */
static void test_sqlite_live_orphan_kept(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL), *w;
	char buf[8];
	int fd;

	st_put(v, "/f", "keep", 4);
	fd = vfs_open(v, "/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_unlink(v, "/f"), 0);
	w = st_mount_ok(f->db, NULL); /* same process: holder is alive */
	assert_int_equal(vfs_pread(v, fd, buf, 8, 0), 4);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
	vfs_free(w);
	assert_int_equal(vfs_close(v, fd), 0);
	vfs_free(v);
}

/* ---- hostile and damaged files ----------------------------------------- */

static void expect_refused(fx *f, const char *db, int want, const char *msg)
{
	char err[512] = "";
	int rc = fx_mount_err(f, db, err, sizeof(err));

	if (want ? rc != want : rc >= 0)
		fail_msg("mount of %s gave %d (%s), wanted %d", db, rc, err,
		         want);
	if (msg && !strstr(err, msg))
		fail_msg("message \"%s\" lacks \"%s\"", err, msg);
	print_message("refused (%s): %s\n", vfs_strerror(rc), err);
}

static void test_sqlite_hostile_schema_objects(void **state)
{
	fx *f = *state;
	static const char *const evil[] = {
	        /* A trigger that calls a function on every insert. */
	        "CREATE TRIGGER t AFTER INSERT ON inodes BEGIN SELECT "
	        "load_extension('/tmp/evil.so'); END",
	        "CREATE TRIGGER t2 BEFORE UPDATE ON inodes BEGIN SELECT "
	        "randomblob(1000000000); END",
	        "CREATE VIEW v AS SELECT * FROM inodes",
	        "CREATE TABLE extra(x)",
	        "CREATE INDEX extra_idx ON blocks(data)",
	        "DROP TABLE xattrs; CREATE TABLE xattrs(ino INTEGER NOT NULL, "
	        "name BLOB NOT NULL, value BLOB NOT NULL DEFAULT "
	        "(randomblob(10)), PRIMARY KEY(ino, name)) WITHOUT ROWID",
	};
	char copy[700];

	fx_make_store(f);
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		snprintf(copy, sizeof(copy), "%s/evil%zu.db", f->dir, i);
		fx_copy(f->db, copy);
		assert_int_equal(st_sql(copy, evil[i]), SQLITE_OK);
		expect_refused(f, copy, -EINVAL, "schema");
		assert_true(vfs_sqlite_fsck(copy, 0, NULL, 0) < 0);
	}
}

static void test_sqlite_not_a_store(void **state)
{
	fx *f = *state;
	char p[700];
	int fd;

	/* Some other application's SQLite file. */
	snprintf(p, sizeof(p), "%s/other.db", f->dir);
	assert_int_equal(st_sql(p, "CREATE TABLE songs(title TEXT)"),
	                 SQLITE_OK);
	expect_refused(f, p, -EINVAL, "not a libvfs store");
	/* Our application id but nothing else. */
	snprintf(p, sizeof(p), "%s/fake.db", f->dir);
	assert_int_equal(st_sql(p, "PRAGMA application_id=1986425649; "
	                           "PRAGMA user_version=1; CREATE TABLE x(y)"),
	                 SQLITE_OK);
	expect_refused(f, p, -EINVAL, "schema");
	/* Not a database at all. */
	snprintf(p, sizeof(p), "%s/text.db", f->dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(write(fd, "this is not a database\n", 23), 23);
	close(fd);
	expect_refused(f, p, -EIO, "not a usable SQLite database");
	/* A directory. */
	expect_refused(f, f->dir, -EINVAL, "not a regular file");
}

static void test_sqlite_damaged_files(void **state)
{
	fx *f = *state;
	char copy[700];
	unsigned char junk[4096];
	vfs *v = st_mount_ok(f->db, NULL);
	char *data = malloc(1 << 20);
	struct stat sb;
	int fd;

	for (int i = 0; i < (1 << 20); i++)
		data[i] = (char)(i * 13);
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "/f%d", i);
		st_put(v, name, data, (size_t)(1 << 16) + (size_t)i * 1000);
	}
	vfs_free(v);
	free(data);
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(stat(f->db, &sb), 0);

	/* Garbage over b-tree pages: each page of the file in turn. */
	for (off_t pg = 1; pg * 4096 < sb.st_size; pg += 7) {
		vfs *w = NULL;
		char err[512] = "";
		int rc;
		snprintf(copy, sizeof(copy), "%s/bad.db", f->dir);
		fx_copy(f->db, copy);
		fd = open(copy, O_WRONLY);
		assert_int_equal(pwrite(fd, junk, sizeof(junk), pg * 4096),
		                 4096);
		close(fd);
		rc = st_mount(&w, copy, NULL, err, sizeof(err));
		if (rc == 0) {
			/* Overflow pages of data are not checked by
			 * quick_check: reading gives wrong bytes or EIO,
			 * never a crash. */
			st_snap s;
			rc = st_snap_take(w, &s);
			if (rc == 0)
				st_snap_free(&s);
			assert_true(rc == 0 || rc == -EIO);
			vfs_free(w);
		} else {
			assert_int_equal(rc, -EIO);
			assert_non_null(strstr(err, "damaged"));
		}
		rc = vfs_sqlite_fsck(copy, 0, NULL, 0);
		assert_true(rc >= 0 || rc == -EIO);
		unlink(copy);
	}
	/* Truncated to half. */
	snprintf(copy, sizeof(copy), "%s/half.db", f->dir);
	fx_copy(f->db, copy);
	assert_int_equal(truncate(copy, sb.st_size / 2), 0);
	expect_refused(f, copy, -EIO, NULL);
	assert_int_equal(vfs_sqlite_fsck(copy, 0, NULL, 0), -EIO);
}

/* Rows no store writes: each gives -EIO from the operation touching it. */
static void test_sqlite_malformed_rows(void **state)
{
	fx *f = *state;
	char buf[64];
	vfs_attr a;
	vfs *v = st_mount_ok(f->db, "blocksize=4K");

	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	st_put(v, "/textmode", "x", 1);
	st_put(v, "/bigblock", "x", 1);
	st_put(v, "/negsize", "x", 1);
	assert_int_equal(vfs_symlink(v, "abc", "/nul"), 0);
	assert_int_equal(vfs_symlink(v, "abc", "/nulltarget"), 0);
	vfs_free(v);
#define INO(n)                                                                 \
	"(SELECT ino FROM dentries WHERE parent = 1 AND name = CAST('" n       \
	"' AS BLOB))"
	assert_int_equal(st_sql(f->db, "UPDATE inodes SET mode = 'text' "
	                               "WHERE ino = " INO("textmode")),
	                 SQLITE_OK);
	assert_int_equal(
	        st_sql(f->db, "UPDATE blocks SET data = "
	                      "zeroblob(100000) WHERE ino = " INO("bigblock")),
	        SQLITE_OK);
	assert_int_equal(st_sql(f->db, "UPDATE inodes SET size = -5 WHERE "
	                               "ino = " INO("negsize")),
	                 SQLITE_OK);
	assert_int_equal(st_sql(f->db, "UPDATE inodes SET target = x'610062' "
	                               "WHERE ino = " INO("nul")),
	                 SQLITE_OK);
	assert_int_equal(st_sql(f->db, "UPDATE inodes SET target = NULL "
	                               "WHERE ino = " INO("nulltarget")),
	                 SQLITE_OK);
	/* Names no directory may hold, in /d. */
	assert_int_equal(st_sql(f->db, "INSERT INTO dentries SELECT ino, "
	                               "x'612f62', 1, 100 FROM inodes WHERE "
	                               "ino = " INO("d")),
	                 SQLITE_OK);
	v = st_mount_ok(f->db, NULL);
	assert_int_equal(vfs_lstat(v, "/textmode", &a), -EIO);
	assert_int_equal(vfs_lstat(v, "/negsize", &a), -EIO);
	assert_int_equal(st_get(v, "/bigblock", buf, sizeof(buf)), -EIO);
	assert_int_equal(vfs_readlink(v, "/nul", buf, sizeof(buf)), -EIO);
	assert_int_equal(vfs_readlink(v, "/nulltarget", buf, sizeof(buf)),
	                 -EIO);
	{
		vfs_dirent de;
		int fd = vfs_opendir(v, "/d"), rc;
		assert_true(fd >= 0);
		while ((rc = vfs_readdir(v, fd, &de)) == 1)
			;
		assert_int_equal(rc, -EIO);
		vfs_close(v, fd);
	}
	vfs_free(v);
	assert_true(vfs_sqlite_fsck(f->db, 0, NULL, 0) >= 4);
#undef INO
}

/* ---- versions ----------------------------------------------------------- */

static void test_sqlite_newer_version_refused(void **state)
{
	fx *f = *state;

	fx_make_store(f);
	assert_int_equal(st_sql(f->db, "PRAGMA user_version=2"), SQLITE_OK);
	expect_refused(f, NULL, -ENOTSUP, "version 2");
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), -ENOTSUP);
}

static void test_sqlite_older_version_migrated(void **state)
{
	fx *f = *state;
	char buf[16];
	vfs *v;

	fx_make_store(f);
	/* Version 0 had no xattrs table. */
	assert_int_equal(st_sql(f->db, "DROP TABLE xattrs; PRAGMA "
	                               "user_version=0"),
	                 SQLITE_OK);
	/* Read-only cannot migrate. */
	{
		char err[512] = "";
		vfs *w = NULL;
		assert_int_equal(st_mount(&w, f->db, "ro", err, sizeof(err)),
		                 -EROFS);
		assert_non_null(strstr(err, "old store version"));
	}
	v = st_mount_ok(f->db, NULL);
	assert_int_equal(st_get(v, "/d/f", buf, sizeof(buf)), 5);
	vfs_free(v);
	assert_int_equal(st_sql_int(f->db, "PRAGMA user_version"), 1);
	assert_int_equal(st_sql_int(f->db, "SELECT count(*) FROM sqlite_schema "
	                                   "WHERE name = 'xattrs'"),
	                 1);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
}

/* ---- fsck --------------------------------------------------------------- */

static void test_sqlite_fsck_finds_and_repairs(void **state)
{
	fx *f = *state;
	char rep[4096];
	vfs *v = st_mount_ok(f->db, NULL);
	char *data = malloc(300000);
	int rc;

	memset(data, 'z', 300000);
	st_put(v, "/a", "aaaa", 4);
	st_put(v, "/b", data, 300000);
	assert_int_equal(vfs_link(v, "/a", "/a2"), 0);
	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	vfs_free(v);
	free(data);
	/* A lost name, a block past the end, a dangling entry, a wrong
	 * allocation total, a stray xattr. */
	assert_int_equal(
	        st_sql(f->db, "DELETE FROM dentries WHERE name = CAST('a2' AS "
	                      "BLOB); UPDATE inodes SET size = 100000 WHERE "
	                      "ino = (SELECT ino FROM dentries WHERE name = "
	                      "CAST('b' AS BLOB)); INSERT INTO dentries "
	                      "VALUES(1, CAST('ghost' AS BLOB), 99999, 500); "
	                      "INSERT INTO xattrs VALUES(88888, x'01', x'02'); "
	                      "UPDATE inodes SET nlink = 7 WHERE ino = (SELECT "
	                      "ino FROM dentries WHERE name = CAST('d' AS "
	                      "BLOB))"),
	        SQLITE_OK);
	rc = vfs_sqlite_fsck(f->db, 0, rep, sizeof(rep));
	print_message("%s", rep);
	assert_true(rc >= 5);
	assert_non_null(strstr(rep, "link count"));
	assert_non_null(strstr(rep, "dangling"));
	assert_non_null(strstr(rep, "block outside"));
	rc = vfs_sqlite_fsck(f->db, VFS_FSCK_REPAIR, rep, sizeof(rep));
	assert_true(rc >= 5);
	rc = vfs_sqlite_fsck(f->db, 0, rep, sizeof(rep));
	if (rc != 0)
		fail_msg("after repair: %d problems:\n%s", rc, rep);
	v = st_mount_ok(f->db, NULL);
	{
		vfs_attr a;
		assert_int_equal(vfs_lstat(v, "/a", &a), 0);
		assert_int_equal(a.nlink, 1);
		assert_int_equal(vfs_lstat(v, "/ghost", &a), -ENOENT);
		assert_int_equal(vfs_lstat(v, "/b", &a), 0);
		assert_int_equal(a.size, 100000);
	}
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
	assert_int_equal(vfs_sqlite_fsck(f->db, 99, NULL, 0), -EINVAL);
	assert_int_equal(vfs_sqlite_fsck("/nonexistent/x.db", 0, NULL, 0),
	                 -ENOENT);
}

/* ---- readdir ------------------------------------------------------------ */

/* Entries present throughout come exactly once while others churn. */
static void test_sqlite_readdir_under_change(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL);
	static unsigned char seen[600];
	vfs_dirent de;
	int fd, rc, k = 0;

	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	for (int i = 0; i < 600; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/d/keep%03d", i);
		st_put(v, p, "", 0);
	}
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		char p[64];
		int i;
		if (sscanf(de.name, "keep%d", &i) == 1) {
			assert_true(i >= 0 && i < 600);
			seen[i]++;
		}
		/* Churn (bounded: new entries may be read too): add new
		 * names, rename new ones around, remove some. */
		if (k >= 300)
			continue;
		snprintf(p, sizeof(p), "/d/new%d", k);
		st_put(v, p, "", 0);
		if (k > 0) {
			char q[64];
			snprintf(q, sizeof(q), "/d/new%d", k - 1);
			snprintf(p, sizeof(p), "/d/moved%d", k - 1);
			assert_int_equal(vfs_rename(v, q, p, 0), 0);
		}
		if (k > 10 && k % 3 == 0) {
			snprintf(p, sizeof(p), "/d/moved%d", k - 10);
			assert_int_equal(vfs_unlink(v, p), 0);
		}
		k++;
	}
	assert_int_equal(rc, 0);
	vfs_close(v, fd);
	for (int i = 0; i < 600; i++)
		assert_int_equal(seen[i], 1);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
}

static void test_sqlite_rename_directory_is_cheap(void **state)
{
	fx *f = *state;
	vfs *v = st_mount_ok(f->db, NULL);
	int64_t before, after;

	assert_int_equal(vfs_mkdir(v, "/big", 0755), 0);
	for (int i = 0; i < 300; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/big/f%d", i);
		st_put(v, p, "x", 1);
	}
	assert_int_equal(vfs_mkdir(v, "/to", 0755), 0);
	before = st_sql_int(f->db, "SELECT count(*) FROM dentries WHERE "
	                           "parent = (SELECT ino FROM dentries WHERE "
	                           "name = CAST('big' AS BLOB))");
	assert_int_equal(vfs_rename(v, "/big", "/to/moved", 0), 0);
	after = st_sql_int(f->db, "SELECT count(*) FROM dentries WHERE parent "
	                          "= (SELECT ino FROM dentries WHERE name = "
	                          "CAST('moved' AS BLOB))");
	assert_int_equal(before, 300);
	assert_int_equal(after, 300);
	assert_int_equal(vfs_rename(v, "/to", "/to/moved/x", 0), -EINVAL);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
}

static void test_sqlite_read_only(void **state)
{
	fx *f = *state;
	char buf[8];
	vfs *v;

	fx_make_store(f);
	v = st_mount_ok(f->db, "ro");
	assert_int_equal(st_get(v, "/d/f", buf, sizeof(buf)), 5);
	assert_int_equal(vfs_mkdir(v, "/x", 0755), -EROFS);
	assert_int_equal(vfs_open(v, "/d/f", O_WRONLY, 0), -EROFS);
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(f->db, 0, NULL, 0), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_sqlite_spec_errors),
	        T(test_sqlite_schema_and_persistence),
	        T(test_sqlite_names_are_bytes),
	        T(test_sqlite_sparse_and_truncate_blocks),
	        T(test_sqlite_limits_before_writing),
	        T(test_sqlite_statfs_relative_name),
	        T(test_sqlite_read_never_waits_for_a_writer),
	        T(test_sqlite_unlinked_open_file),
	        T(test_sqlite_orphan_reclaimed_after_crash),
	        T(test_sqlite_live_orphan_kept),
	        T(test_sqlite_hostile_schema_objects),
	        T(test_sqlite_not_a_store),
	        T(test_sqlite_damaged_files),
	        T(test_sqlite_malformed_rows),
	        T(test_sqlite_newer_version_refused),
	        T(test_sqlite_older_version_migrated),
	        T(test_sqlite_fsck_finds_and_repairs),
	        T(test_sqlite_readdir_under_change),
	        T(test_sqlite_rename_directory_is_cheap),
	        T(test_sqlite_read_only),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
