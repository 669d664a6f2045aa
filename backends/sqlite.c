/*
 * The SQLite store: a whole tree in one database file.
 *
 * This file holds, in order:
 *   1. the schema, the SQL the store runs, and the store's state;
 *   2. small helpers: errors, statements, the fault hook, transactions;
 *   3. the lookup-count table (node ids the core holds, kept in memory);
 *   4. rows: reading and checking inodes, directory entries and blocks;
 *   5. the vtable members (vfs_backend_ops, see vfs/backend.h);
 *   6. opening a database: hardening, schema creation, checks, migration;
 *   7. the SPEC constructor and vfs_sqlite_fsck().
 *
 * Schema (user_version 1, application_id 0x76667331 "vfs1"):
 *   meta(key, value)             block size, sync counter
 *   inodes(ino, mode, nlink, uid, gid, rdev, size, alloc, parent, holder,
 *          atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns, target)
 *   dentries(parent, name, ino, seq)    PRIMARY KEY(parent, name)
 *   blocks(ino, blockno, data)          PRIMARY KEY(ino, blockno)
 *   xattrs(ino, name, value)            PRIMARY KEY(ino, name)
 * Node ids are inode numbers (AUTOINCREMENT: never reused, so an id one
 * process holds never comes to name another file). Names are BLOBs
 * compared bytewise. A directory's `parent` column names its parent, so
 * the "into its own subtree" check of rename walks up without an index on
 * dentries(ino), and renaming a directory rewrites one dentry row and the
 * directory's own inode row (whose ctime changes anyway), whatever its
 * size. `seq` is the readdir cookie: one more than the largest in the
 * directory when the entry is made, so entries present throughout an
 * iteration are returned exactly once in seq order.
 *
 * File data: fixed-size blocks (64 KiB by default, chosen by measurement:
 * see the numbers in README; 4 KiB blocks cost a row per 4 KiB and made
 * sequential I/O 2-3 times slower, 128 KiB and above made 4 KiB random
 * rewrites slower without helping sequential I/O). A block holds the bytes
 * from its start up to the last byte ever written in it and never reaches
 * past the file's size (truncation trims it), so a hole stores nothing and
 * a small file costs its own size. `alloc` is the sum of a file's block
 * lengths (st_blocks).
 *
 * Transactions and durability: every vtable call is one transaction
 * (BEGIN IMMEDIATE when it writes), retried a bounded number of times when
 * another connection holds the database (SQLITE_BUSY and
 * SQLITE_BUSY_SNAPSHOT); a call that still finds it busy fails with
 * -EBUSY and changes nothing. The database is in WAL mode with
 * synchronous=NORMAL: a commit is in the WAL (so it survives the process
 * dying) but not synced; fsync, fdatasync and sync commit one small
 * transaction with synchronous=FULL, which syncs the WAL and so every
 * earlier commit. The option sync=full syncs every commit instead.
 *
 * Hostile files: the connection runs with SQLITE_DBCONFIG_DEFENSIVE, no
 * triggers, views or extension loading, an untrusted schema, cell size
 * checks, no mmap and tight limits; a database is accepted only if its
 * application_id and user_version are ours and its sqlite_schema holds
 * exactly the objects we create (compared with a fresh in-memory copy), and
 * after PRAGMA quick_check passes. Every value read is checked (types,
 * ranges, name bytes); a bad one is -EIO, never a crash.
 *
 * Lookup counts live in memory (section 3). An inode whose last link goes
 * while this process holds it keeps its rows with nlink 0 and `holder` set
 * to this process (pid and start time); forget() at zero deletes them.
 * Opening a store reclaims nlink-0 inodes whose holder is dead.
 *
 * Locking: one mutex per store guards the connection and all state.
 */
#include "vfs/vfs_int.h"
#include "backends/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* ---- 1. Schema, SQL, state ------------------------------------------- */

#define SQLFS_APP_ID      0x76667331 /* "vfs1" */
#define SQLFS_VERSION     1
#define SQLFS_ROOT        1
#define SQLFS_BSIZE_DEF   (64u * 1024)
#define SQLFS_BSIZE_MIN   4096u
#define SQLFS_BSIZE_MAX   (1024u * 1024)
#define SQLFS_LINK_MAX    (UINT32_MAX - 1)
#define SQLFS_RETRIES     8
#define SQLFS_BUSY_MS     5000
#define SQLFS_DIR_BATCH   64
#define SQLFS_MAX_DEPTH   100000 /* parent walk bound (a loop is damage) */
#define SQLFS_UNLIMITED_F ((uint64_t)1 << 32)

/* Schema of version 1, in creation order. */
static const char *const sqlfs_schema_v1[] = {
        "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value INTEGER "
        "NOT NULL) WITHOUT ROWID",
        "CREATE TABLE inodes(ino INTEGER PRIMARY KEY AUTOINCREMENT, "
        "mode INTEGER NOT NULL, nlink INTEGER NOT NULL, uid INTEGER NOT "
        "NULL, gid INTEGER NOT NULL, rdev INTEGER NOT NULL, size INTEGER "
        "NOT NULL, alloc INTEGER NOT NULL, parent INTEGER NOT NULL, holder "
        "INTEGER, atime INTEGER NOT NULL, atime_ns INTEGER NOT NULL, mtime "
        "INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime INTEGER NOT "
        "NULL, ctime_ns INTEGER NOT NULL, target BLOB)",
        "CREATE INDEX inodes_orphans ON inodes(ino) WHERE nlink = 0",
        "CREATE TABLE dentries(parent INTEGER NOT NULL, name BLOB NOT NULL "
        "COLLATE BINARY, ino INTEGER NOT NULL, seq INTEGER NOT NULL, "
        "PRIMARY KEY(parent, name)) WITHOUT ROWID",
        "CREATE UNIQUE INDEX dentries_seq ON dentries(parent, seq)",
        "CREATE TABLE blocks(ino INTEGER NOT NULL, blockno INTEGER NOT "
        "NULL, data BLOB NOT NULL, PRIMARY KEY(ino, blockno)) WITHOUT ROWID",
        "CREATE TABLE xattrs(ino INTEGER NOT NULL, name BLOB NOT NULL, "
        "value BLOB NOT NULL, PRIMARY KEY(ino, name)) WITHOUT ROWID",
};
#define SQLFS_NSCHEMA (sizeof(sqlfs_schema_v1) / sizeof(sqlfs_schema_v1[0]))

/*
 * Migrations: step i turns a version-i database into version i + 1. Version
 * 0 is the layout before xattrs had a table (kept so the hook is tested).
 */
static const char *const sqlfs_migrate_0[] = {
        "CREATE TABLE xattrs(ino INTEGER NOT NULL, name BLOB NOT NULL, "
        "value BLOB NOT NULL, PRIMARY KEY(ino, name)) WITHOUT ROWID",
        NULL,
};
static const char *const *const sqlfs_migrations[SQLFS_VERSION] = {
        sqlfs_migrate_0,
};

#define SQLFS_ICOLS                                                            \
	"mode, nlink, uid, gid, rdev, size, alloc, parent, atime, "            \
	"atime_ns, mtime, mtime_ns, ctime, ctime_ns"

enum sqlfs_sid {
	S_BEGIN_R,
	S_BEGIN_W,
	S_COMMIT,
	S_ROLLBACK,
	S_IGET,
	S_IPUT,
	S_INEW,
	S_IHOLD,
	S_IDEL,
	S_TARGET,
	S_DGET,
	S_DNEW,
	S_DDEL,
	S_DSETINO,
	S_DMOVE,
	S_DSEQ,
	S_DANY,
	S_DLIST,
	S_BGET,
	S_BLEN,
	S_BINS,
	S_BUPD,
	S_BRANGE,
	S_BSUMFROM,
	S_BDELFROM,
	S_BDELALL,
	S_XDELALL,
	S_ORPHANS,
	S_SYNCBUMP,
	S_ICOUNT,
	S_PAGES,
	S_FREEPAGES,
	S_COUNT
};

static const char *const sqlfs_sql[S_COUNT] = {
        [S_BEGIN_R] = "BEGIN",
        [S_BEGIN_W] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_IGET] = "SELECT " SQLFS_ICOLS " FROM inodes WHERE ino = ?1",
        [S_IPUT] = "UPDATE inodes SET mode = ?2, nlink = ?3, uid = ?4, "
                   "gid = ?5, rdev = ?6, size = ?7, alloc = ?8, parent = ?9, "
                   "atime = ?10, atime_ns = ?11, mtime = ?12, mtime_ns = ?13, "
                   "ctime = ?14, ctime_ns = ?15 WHERE ino = ?1",
        [S_INEW] = "INSERT INTO inodes(" SQLFS_ICOLS ", target) VALUES(?2, "
                   "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                   "?16)",
        [S_IHOLD] = "UPDATE inodes SET holder = ?2 WHERE ino = ?1",
        [S_IDEL] = "DELETE FROM inodes WHERE ino = ?1",
        [S_TARGET] = "SELECT target FROM inodes WHERE ino = ?1",
        [S_DGET] = "SELECT ino FROM dentries WHERE parent = ?1 AND name = ?2",
        [S_DNEW] = "INSERT INTO dentries(parent, name, ino, seq) "
                   "VALUES(?1, ?2, ?3, ?4)",
        [S_DDEL] = "DELETE FROM dentries WHERE parent = ?1 AND name = ?2",
        [S_DSETINO] = "UPDATE dentries SET ino = ?3 WHERE parent = ?1 AND "
                      "name = ?2",
        [S_DMOVE] = "UPDATE dentries SET parent = ?3, name = ?4, seq = ?5 "
                    "WHERE parent = ?1 AND name = ?2",
        [S_DSEQ] = "SELECT max(seq) FROM dentries WHERE parent = ?1",
        [S_DANY] = "SELECT 1 FROM dentries WHERE parent = ?1 LIMIT 1",
        [S_DLIST] = "SELECT d.seq, d.name, d.ino, i.mode FROM dentries d "
                    "LEFT JOIN inodes i ON i.ino = d.ino WHERE d.parent = ?1 "
                    "AND d.seq > ?2 ORDER BY d.seq LIMIT ?3",
        [S_BGET] = "SELECT data FROM blocks WHERE ino = ?1 AND blockno = ?2",
        [S_BLEN] = "SELECT length(data) FROM blocks WHERE ino = ?1 AND "
                   "blockno = ?2",
        [S_BINS] = "INSERT INTO blocks(ino, blockno, data) VALUES(?1, ?2, ?3)",
        [S_BUPD] = "UPDATE blocks SET data = ?3 WHERE ino = ?1 AND "
                   "blockno = ?2",
        [S_BRANGE] = "SELECT blockno, data FROM blocks WHERE ino = ?1 AND "
                     "blockno >= ?2 AND blockno <= ?3 ORDER BY blockno",
        [S_BSUMFROM] = "SELECT sum(length(data)) FROM blocks WHERE ino = ?1 "
                       "AND blockno >= ?2",
        [S_BDELFROM] = "DELETE FROM blocks WHERE ino = ?1 AND blockno >= ?2",
        [S_BDELALL] = "DELETE FROM blocks WHERE ino = ?1",
        [S_XDELALL] = "DELETE FROM xattrs WHERE ino = ?1",
        [S_ORPHANS] = "SELECT ino, holder FROM inodes WHERE nlink = 0",
        [S_SYNCBUMP] = "UPDATE meta SET value = value + 1 WHERE key = "
                       "'syncs'",
        [S_ICOUNT] = "SELECT count(*) FROM inodes",
        [S_PAGES] = "PRAGMA page_count",
        [S_FREEPAGES] = "PRAGMA freelist_count",
};

/** One inode row. */
typedef struct sqlfs_inode {
	uint64_t ino;
	uint32_t mode, nlink, uid, gid;
	uint64_t rdev;
	int64_t size;    /* regular: bytes; dir: entries; link: target len */
	int64_t alloc;   /* bytes held in blocks */
	uint64_t parent; /* directories: the parent's ino; else 0 */
	struct timespec atime, mtime, ctime;
} sqlfs_inode;

/** A node id the core holds, with its lookup count. */
typedef struct sqlfs_ref {
	uint64_t ino; /* 0: free slot */
	uint64_t n;
	bool orphan; /* we removed its last link while holding it */
} sqlfs_ref;

typedef struct sqlfs_store {
	pthread_mutex_t lock;
	sqlite3 *db;                 /* protected by lock */
	sqlite3_stmt *stmt[S_COUNT]; /* protected by lock */
	sqlfs_ref *refs;             /* protected by lock; open addressing */
	size_t refcap, nrefs;        /* protected by lock */
	unsigned char *scratch;      /* protected by lock; one block */
	uint64_t *pending;           /* protected by lock; orphans to purge */
	size_t npending, pendcap;    /* protected by lock */
	bool busy;                   /* protected by lock; last error */
	long fail_after;             /* protected by lock; test hook */
	int fail_rc;                 /* protected by lock */
	bool fail_fired;             /* protected by lock */
	uint32_t bsize;              /* fixed after open */
	uint32_t page_size;          /* fixed after open */
	int64_t max_file_size;       /* fixed after open */
	uint64_t max_db;             /* bytes; 0: no limit */
	int busy_ms;
	bool ro, sync_full;
	uint64_t holder; /* this process: start time << 22 | pid */
	char *path;
} sqlfs_store;

/* Options a SPEC may give. */
typedef struct sqlfs_opts {
	uint64_t max_file, max_db, bsize, page_size;
	int busy_ms;
	bool ro, sync_full, fsck;
} sqlfs_opts;

/* ---- 2. Helpers ------------------------------------------------------ */

/* A negative errno for an SQLite result code. */
static int sqlfs_errno(sqlfs_store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		if (st)
			st->busy = true;
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_IOERR:
		if (rc == SQLITE_IOERR_NOMEM)
			return -ENOMEM;
		return -EIO;
	default: /* CORRUPT, NOTADB, CONSTRAINT (a broken invariant) ... */
		return -EIO;
	}
}

/* The fault hook: true when this call must fail instead of running. */
static bool sqlfs_fault(sqlfs_store *st)
{
	if (st->fail_after > 0 && --st->fail_after == 0) {
		st->fail_fired = true;
		return true;
	}
	return false;
}

static int sqlfs_step(sqlfs_store *st, sqlite3_stmt *s)
{
	int rc;

	if (sqlfs_fault(st))
		return st->fail_rc;
	rc = sqlite3_step(s);
	/* We never store a value above the length limit, so reading one
	 * means damage (EIO), not a request too big (EFBIG). */
	if (rc == SQLITE_TOOBIG && sqlite3_stmt_readonly(s))
		rc = SQLITE_CORRUPT;
	return rc;
}

/* The cached statement id, reset and with no bindings. */
static int sqlfs_get(sqlfs_store *st, enum sqlfs_sid id, sqlite3_stmt **out)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc;

	if (s == NULL) {
		if (id != S_ROLLBACK && sqlfs_fault(st))
			return sqlfs_errno(st, st->fail_rc);
		rc = sqlite3_prepare_v3(st->db, sqlfs_sql[id], -1,
		                        SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK)
			return sqlfs_errno(st, rc);
		st->stmt[id] = s;
	} else {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	*out = s;
	return 0;
}

/* Run a statement that returns no row: 0 or a negative errno. */
static int sqlfs_done(sqlfs_store *st, sqlite3_stmt *s)
{
	int rc = sqlfs_step(st, s);

	if (rc == SQLITE_ROW)
		return -EIO;
	rc = rc == SQLITE_DONE ? 0 : sqlfs_errno(st, rc);
	sqlite3_reset(s);
	return rc;
}

/* Run statement id (bound to ino) that returns no row. */
static int sqlfs_exec_ino(sqlfs_store *st, enum sqlfs_sid id, uint64_t ino)
{
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, id, &s);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ino);
	return sqlfs_done(st, s);
}

/* A single integer from a one-row statement (NULL reads as 0). */
static int sqlfs_scalar(sqlfs_store *st, sqlite3_stmt *s, int64_t *out)
{
	int rc = sqlfs_step(st, s);

	if (rc == SQLITE_ROW) {
		int t = sqlite3_column_type(s, 0);
		if (t == SQLITE_INTEGER)
			*out = sqlite3_column_int64(s, 0);
		else if (t == SQLITE_NULL)
			*out = 0;
		else
			rc = -EIO;
		if (rc != -EIO)
			rc = 0;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = 0;
	} else {
		rc = sqlfs_errno(st, rc);
	}
	sqlite3_reset(s);
	return rc;
}

static void sqlfs_reset_all(sqlfs_store *st)
{
	for (int i = 0; i < S_COUNT; i++)
		if (st->stmt[i])
			sqlite3_reset(st->stmt[i]);
}

static void sqlfs_rollback(sqlfs_store *st)
{
	sqlite3_stmt *s;

	sqlfs_reset_all(st);
	if (sqlite3_get_autocommit(st->db))
		return;
	if (sqlfs_get(st, S_ROLLBACK, &s) == 0) {
		sqlite3_step(s); /* never counted by the fault hook */
		sqlite3_reset(s);
	}
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

typedef int64_t (*sqlfs_txfn)(sqlfs_store *st, void *arg);

/* SQLFS_HINT: a write that is only a hint (an access time): one attempt
 * that never waits for another connection's lock, so a read that records
 * one never blocks. */
enum { SQLFS_READ, SQLFS_WRITE, SQLFS_HINT };

/*
 * Run fn inside one transaction, committing if it returns >= 0 and rolling
 * back otherwise. A busy database is retried a bounded number of times (the
 * busy handler already waited busy_ms for each attempt's lock; a snapshot
 * conflict does not wait, so back off a little). Caller holds st->lock.
 */
static int64_t sqlfs_tx(sqlfs_store *st, int mode, sqlfs_txfn fn, void *arg)
{
	int64_t rc;

	if (mode == SQLFS_HINT)
		sqlite3_busy_timeout(st->db, 0);
	for (int tries = 0;; tries++) {
		sqlite3_stmt *s;

		st->busy = false;
		rc = sqlfs_get(st, mode == SQLFS_READ ? S_BEGIN_R : S_BEGIN_W,
		               &s);
		if (rc == 0)
			rc = sqlfs_done(st, s);
		if (rc == 0) {
			rc = fn(st, arg);
			if (rc >= 0) {
				int64_t keep = rc;
				sqlfs_reset_all(st);
				rc = sqlfs_get(st, S_COMMIT, &s);
				if (rc == 0)
					rc = sqlfs_done(st, s);
				if (rc == 0)
					rc = keep;
			}
		}
		if (rc < 0)
			sqlfs_rollback(st);
		else
			sqlfs_reset_all(st);
		if (rc >= 0 || !st->busy || tries >= SQLFS_RETRIES ||
		    mode == SQLFS_HINT)
			break;
		{
			struct timespec ts = {0, (long)(1 + tries) * 2000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (mode == SQLFS_HINT)
		sqlite3_busy_timeout(st->db, st->busy_ms);
	return rc;
}

static void sqlfs_lock(sqlfs_store *st)
{
	pthread_mutex_lock(&st->lock);
}

static void sqlfs_unlock(sqlfs_store *st)
{
	pthread_mutex_unlock(&st->lock);
}

/* ---- 3. Lookup counts ------------------------------------------------ */

static size_t sqlfs_ref_slot(const sqlfs_store *st, uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 17) & (st->refcap - 1);

	while (st->refs[i].ino != 0 && st->refs[i].ino != ino)
		i = (i + 1) & (st->refcap - 1);
	return i;
}

static sqlfs_ref *sqlfs_ref_find(sqlfs_store *st, uint64_t ino)
{
	size_t i = sqlfs_ref_slot(st, ino);

	return st->refs[i].ino == ino ? &st->refs[i] : NULL;
}

/* Make room for one more entry, so that adding after a commit cannot
 * fail. */
static int sqlfs_ref_reserve(sqlfs_store *st)
{
	sqlfs_ref *old = st->refs, *nr;
	size_t oldcap = st->refcap, cap;

	if ((st->nrefs + 1) * 2 <= st->refcap)
		return 0;
	cap = oldcap ? oldcap * 2 : 64;
	nr = calloc(cap, sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	st->refs = nr;
	st->refcap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].ino)
			st->refs[sqlfs_ref_slot(st, old[i].ino)] = old[i];
	free(old);
	return 0;
}

/* Add n lookups to ino; room was reserved. */
static void sqlfs_ref_add(sqlfs_store *st, uint64_t ino, uint64_t n)
{
	size_t i = sqlfs_ref_slot(st, ino);

	if (st->refs[i].ino == 0) {
		st->refs[i].ino = ino;
		st->refs[i].n = 0;
		st->refs[i].orphan = false;
		st->nrefs++;
	}
	st->refs[i].n += n;
}

/* Remove the entry at slot i (backward-shift deletion). */
static void sqlfs_ref_del(sqlfs_store *st, sqlfs_ref *r)
{
	size_t i = (size_t)(r - st->refs), mask = st->refcap - 1;
	size_t j = i;

	st->refs[i].ino = 0;
	st->nrefs--;
	for (;;) {
		size_t home;
		j = (j + 1) & mask;
		if (st->refs[j].ino == 0)
			return;
		home = (size_t)((st->refs[j].ino * 0x9e3779b97f4a7c15ull) >>
		                17) &
		       mask;
		/* Move j back to i if its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			st->refs[i] = st->refs[j];
			st->refs[j].ino = 0;
			i = j;
		}
	}
}

static uint64_t sqlfs_ref_count(sqlfs_store *st, uint64_t ino)
{
	sqlfs_ref *r = st->refcap ? sqlfs_ref_find(st, ino) : NULL;

	return r ? r->n : 0;
}

/* ---- 4. Rows --------------------------------------------------------- */

static bool sqlfs_col_int(sqlite3_stmt *s, int col, int64_t lo, int64_t hi,
                          int64_t *out)
{
	int64_t v;

	if (sqlite3_column_type(s, col) != SQLITE_INTEGER)
		return false;
	v = sqlite3_column_int64(s, col);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool sqlfs_type_ok(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		return true;
	default:
		return false;
	}
}

/* Read inode ino: 0, -ESTALE (no such row), -EIO (a malformed row). */
static int sqlfs_iget(sqlfs_store *st, uint64_t ino, sqlfs_inode *in)
{
	sqlite3_stmt *s;
	int64_t v[14];
	int rc = sqlfs_get(st, S_IGET, &s);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ino);
	rc = sqlfs_step(st, s);
	if (rc == SQLITE_DONE) {
		rc = -ESTALE;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = sqlfs_errno(st, rc);
		goto out;
	}
	rc = -EIO;
	if (!sqlfs_col_int(s, 0, 0, 0xffffffffll, &v[0]) ||
	    !sqlfs_col_int(s, 1, 0, 0xffffffffll, &v[1]) ||
	    !sqlfs_col_int(s, 2, 0, 0xffffffffll, &v[2]) ||
	    !sqlfs_col_int(s, 3, 0, 0xffffffffll, &v[3]) ||
	    !sqlfs_col_int(s, 4, INT64_MIN, INT64_MAX, &v[4]) ||
	    !sqlfs_col_int(s, 5, 0, VFS_FILE_SIZE_MAX, &v[5]) ||
	    !sqlfs_col_int(s, 6, 0, VFS_FILE_SIZE_MAX, &v[6]) ||
	    !sqlfs_col_int(s, 7, 0, INT64_MAX, &v[7]) ||
	    !sqlfs_col_int(s, 8, INT64_MIN, INT64_MAX, &v[8]) ||
	    !sqlfs_col_int(s, 9, 0, 999999999, &v[9]) ||
	    !sqlfs_col_int(s, 10, INT64_MIN, INT64_MAX, &v[10]) ||
	    !sqlfs_col_int(s, 11, 0, 999999999, &v[11]) ||
	    !sqlfs_col_int(s, 12, INT64_MIN, INT64_MAX, &v[12]) ||
	    !sqlfs_col_int(s, 13, 0, 999999999, &v[13]))
		goto out;
	in->ino = ino;
	in->mode = (uint32_t)v[0];
	if (!sqlfs_type_ok(in->mode))
		goto out;
	in->nlink = (uint32_t)v[1];
	in->uid = (uint32_t)v[2];
	in->gid = (uint32_t)v[3];
	in->rdev = (uint64_t)v[4];
	in->size = v[5];
	in->alloc = v[6];
	in->parent = (uint64_t)v[7];
	in->atime.tv_sec = (time_t)v[8];
	in->atime.tv_nsec = (long)v[9];
	in->mtime.tv_sec = (time_t)v[10];
	in->mtime.tv_nsec = (long)v[11];
	in->ctime.tv_sec = (time_t)v[12];
	in->ctime.tv_nsec = (long)v[13];
	if (S_ISLNK(in->mode) && (in->size < 1 || in->size >= VFS_PATH_MAX))
		goto out;
	rc = 0;
out:
	sqlite3_reset(s);
	return rc;
}

static void sqlfs_bind_inode(sqlite3_stmt *s, const sqlfs_inode *in)
{
	sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
	sqlite3_bind_int64(s, 2, in->mode);
	sqlite3_bind_int64(s, 3, in->nlink);
	sqlite3_bind_int64(s, 4, in->uid);
	sqlite3_bind_int64(s, 5, in->gid);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)in->rdev);
	sqlite3_bind_int64(s, 7, in->size);
	sqlite3_bind_int64(s, 8, in->alloc);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)in->parent);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)in->atime.tv_sec);
	sqlite3_bind_int64(s, 11, in->atime.tv_nsec);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)in->mtime.tv_sec);
	sqlite3_bind_int64(s, 13, in->mtime.tv_nsec);
	sqlite3_bind_int64(s, 14, (sqlite3_int64)in->ctime.tv_sec);
	sqlite3_bind_int64(s, 15, in->ctime.tv_nsec);
}

static int sqlfs_iput(sqlfs_store *st, const sqlfs_inode *in)
{
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, S_IPUT, &s);

	if (rc < 0)
		return rc;
	sqlfs_bind_inode(s, in);
	rc = sqlfs_done(st, s);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = -EIO;
	return rc;
}

/* The directory with this id. */
static int sqlfs_idir(sqlfs_store *st, uint64_t ino, sqlfs_inode *in)
{
	int rc = sqlfs_iget(st, ino, in);

	if (rc == 0 && !S_ISDIR(in->mode))
		rc = -ENOTDIR;
	return rc;
}

static void sqlfs_fill_attr(const sqlfs_store *st, const sqlfs_inode *in,
                            vfs_attr *a)
{
	if (!a)
		return;
	memset(a, 0, sizeof(*a));
	a->ino = in->ino;
	a->mode = in->mode;
	a->nlink = in->nlink;
	a->uid = in->uid;
	a->gid = in->gid;
	a->rdev = in->rdev;
	a->size = in->size;
	a->blocks = (in->alloc + 511) / 512;
	a->blksize = st->bsize;
	a->atime = in->atime;
	a->mtime = in->mtime;
	a->ctime = in->ctime;
}

static void sqlfs_touch_dir(sqlfs_inode *dir, struct timespec now)
{
	dir->mtime = dir->ctime = now;
}

/* Whether a name read from the database is one the core could pass. */
static bool sqlfs_name_ok(const void *p, int len)
{
	const char *n = p;

	if (!p || len < 1 || len > VFS_NAME_MAX)
		return false;
	if (memchr(n, '/', (size_t)len) || memchr(n, '\0', (size_t)len))
		return false;
	if ((len == 1 && n[0] == '.') ||
	    (len == 2 && n[0] == '.' && n[1] == '.'))
		return false;
	return true;
}

/* Find name in dir: 0 with *ino, -ENOENT, -EIO. */
static int sqlfs_dget(sqlfs_store *st, uint64_t dir, const char *name,
                      uint64_t *ino)
{
	sqlite3_stmt *s;
	int64_t v;
	int rc = sqlfs_get(st, S_DGET, &s);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)dir);
	sqlite3_bind_blob(s, 2, name, (int)strlen(name), SQLITE_STATIC);
	rc = sqlfs_step(st, s);
	if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else if (rc != SQLITE_ROW)
		rc = sqlfs_errno(st, rc);
	else if (!sqlfs_col_int(s, 0, 1, INT64_MAX, &v))
		rc = -EIO;
	else {
		*ino = (uint64_t)v;
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* Find name in dir and read its inode (a dangling entry is -EIO). */
static int sqlfs_dget_inode(sqlfs_store *st, uint64_t dir, const char *name,
                            sqlfs_inode *in)
{
	uint64_t ino;
	int rc = sqlfs_dget(st, dir, name, &ino);

	if (rc == 0) {
		rc = sqlfs_iget(st, ino, in);
		if (rc == -ESTALE)
			rc = -EIO;
	}
	return rc;
}

/* The next readdir cookie in dir. */
static int sqlfs_next_seq(sqlfs_store *st, uint64_t dir, int64_t *out)
{
	sqlite3_stmt *s;
	int64_t v;
	int rc = sqlfs_get(st, S_DSEQ, &s);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)dir);
	rc = sqlfs_scalar(st, s, &v);
	if (rc < 0)
		return rc;
	if (v < 0 || v >= INT64_MAX - 1)
		return -EIO;
	*out = v + 1;
	return 0;
}

static int sqlfs_dnew(sqlfs_store *st, uint64_t dir, const char *name,
                      uint64_t ino)
{
	sqlite3_stmt *s;
	int64_t seq;
	int rc = sqlfs_next_seq(st, dir, &seq);

	if (rc < 0)
		return rc;
	rc = sqlfs_get(st, S_DNEW, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)dir);
	sqlite3_bind_blob(s, 2, name, (int)strlen(name), SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)ino);
	sqlite3_bind_int64(s, 4, seq);
	return sqlfs_done(st, s);
}

static int sqlfs_dname_op(sqlfs_store *st, enum sqlfs_sid id, uint64_t dir,
                          const char *name, uint64_t ino)
{
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, id, &s);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)dir);
	sqlite3_bind_blob(s, 2, name, (int)strlen(name), SQLITE_STATIC);
	if (id == S_DSETINO)
		sqlite3_bind_int64(s, 3, (sqlite3_int64)ino);
	rc = sqlfs_done(st, s);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = -EIO;
	return rc;
}

/* Delete every row of an inode. */
static int sqlfs_purge(sqlfs_store *st, uint64_t ino)
{
	int rc = sqlfs_exec_ino(st, S_BDELALL, ino);

	if (rc == 0)
		rc = sqlfs_exec_ino(st, S_XDELALL, ino);
	if (rc == 0)
		rc = sqlfs_exec_ino(st, S_IDEL, ino);
	return rc;
}

/*
 * The node lost its last link: delete it now, or, while this process holds
 * it, keep it as an orphan marked with our holder token.
 */
static int sqlfs_release_node(sqlfs_store *st, const sqlfs_inode *in)
{
	sqlite3_stmt *s;
	sqlfs_ref *r;
	int rc;

	if (in->nlink != 0)
		return 0;
	r = st->refcap ? sqlfs_ref_find(st, in->ino) : NULL;
	if (!r || r->n == 0)
		return sqlfs_purge(st, in->ino);
	rc = sqlfs_get(st, S_IHOLD, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)st->holder);
	rc = sqlfs_done(st, s);
	if (rc == 0)
		r->orphan = true; /* a hint only: forget() checks nlink */
	return rc;
}

/* Whether anc is dir or one of its ancestors (walking `parent`). */
static int sqlfs_is_ancestor(sqlfs_store *st, uint64_t anc, uint64_t dir,
                             bool *out)
{
	sqlfs_inode in;

	for (int depth = 0; depth < SQLFS_MAX_DEPTH; depth++) {
		int rc;
		if (dir == anc) {
			*out = true;
			return 0;
		}
		if (dir == SQLFS_ROOT || dir == 0) {
			*out = false;
			return 0;
		}
		rc = sqlfs_idir(st, dir, &in);
		if (rc < 0)
			return rc == -ESTALE || rc == -ENOTDIR ? -EIO : rc;
		if (in.nlink == 0) {
			*out = false; /* a removed directory has no ancestors */
			return 0;
		}
		dir = in.parent;
	}
	return -EIO; /* a loop: the database is damaged */
}

/* ---- 5. Vtable members ----------------------------------------------- */

static void sqlfs_close_db(sqlfs_store *st)
{
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	if (st->db)
		sqlite3_close_v2(st->db);
	st->db = NULL;
}

static int64_t sqlfs_purge_tx(sqlfs_store *st, void *arg)
{
	uint64_t ino = *(uint64_t *)arg;
	sqlfs_inode in;
	int rc = sqlfs_iget(st, ino, &in);

	if (rc == -ESTALE)
		return 0;
	if (rc < 0)
		return rc;
	if (in.nlink != 0 || sqlfs_ref_count(st, ino) != 0)
		return 0; /* linked again, or held again */
	return sqlfs_purge(st, ino);
}

static int64_t sqlfs_sync_tx(sqlfs_store *st, void *arg)
{
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, S_SYNCBUMP, &s);

	if (rc == 0)
		rc = sqlfs_done(st, s);
	return rc;
}

/*
 * Make every commit so far durable: commit a one-row change with
 * synchronous=FULL, which syncs the WAL (and so every frame before it).
 */
static int sqlfs_sync_locked(sqlfs_store *st)
{
	int64_t rc;

	if (st->ro)
		return 0;
	if (st->sync_full)
		return 0; /* every commit was synced */
	sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	rc = sqlfs_tx(st, SQLFS_WRITE, sqlfs_sync_tx, NULL);
	sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	return (int)rc;
}

static void sqlfs_free(sqlfs_store *st)
{
	if (!st)
		return;
	sqlfs_close_db(st);
	free(st->refs);
	free(st->pending);
	free(st->scratch);
	free(st->path);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static void sqlfs_destroy(void *store)
{
	sqlfs_store *st = store;

	if (!st)
		return;
	sqlfs_lock(st);
	st->fail_after = 0;
	for (size_t i = 0; i < st->npending && !st->ro; i++)
		sqlfs_tx(st, SQLFS_WRITE, sqlfs_purge_tx, &st->pending[i]);
	if (!st->ro)
		sqlfs_sync_locked(st);
	sqlfs_unlock(st);
	sqlfs_free(st);
}

static int64_t sqlfs_getattr_tx(sqlfs_store *st, void *arg)
{
	sqlfs_inode *in = arg;

	return sqlfs_iget(st, in->ino, in);
}

static int sqlfs_root(void *store, uint64_t *out, vfs_attr *attr)
{
	sqlfs_store *st = store;
	sqlfs_inode in = {.ino = SQLFS_ROOT};
	int rc;

	sqlfs_lock(st);
	rc = sqlfs_ref_reserve(st);
	if (rc == 0)
		rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_getattr_tx, &in);
	if (rc == 0 && !S_ISDIR(in.mode))
		rc = -EIO;
	if (rc == 0) {
		sqlfs_ref_add(st, SQLFS_ROOT, 1);
		*out = SQLFS_ROOT;
		sqlfs_fill_attr(st, &in, attr);
	}
	sqlfs_unlock(st);
	return rc == -ESTALE ? -EIO : rc;
}

struct sqlfs_lookup_arg {
	uint64_t dir;
	const char *name;
	sqlfs_inode in;
};

static int64_t sqlfs_lookup_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_lookup_arg *a = arg;
	sqlfs_inode dir;
	int rc = sqlfs_idir(st, a->dir, &dir);

	if (rc < 0)
		return rc;
	return sqlfs_dget_inode(st, a->dir, a->name, &a->in);
}

static int sqlfs_lookup(void *store, uint64_t dir, const char *name,
                        uint64_t *out, vfs_attr *attr)
{
	sqlfs_store *st = store;
	struct sqlfs_lookup_arg a = {.dir = dir, .name = name};
	int rc;

	sqlfs_lock(st);
	rc = sqlfs_ref_reserve(st);
	if (rc == 0)
		rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_lookup_tx, &a);
	if (rc == 0) {
		sqlfs_ref_add(st, a.in.ino, 1);
		*out = a.in.ino;
		sqlfs_fill_attr(st, &a.in, attr);
	}
	sqlfs_unlock(st);
	return rc;
}

static void sqlfs_forget(void *store, uint64_t node, uint64_t nlookup)
{
	sqlfs_store *st = store;
	sqlfs_ref *r;
	bool orphan;

	sqlfs_lock(st);
	r = st->refcap ? sqlfs_ref_find(st, node) : NULL;
	if (!r)
		goto out;
	r->n = nlookup < r->n ? r->n - nlookup : 0;
	if (r->n != 0 || node == SQLFS_ROOT)
		goto out;
	orphan = r->orphan;
	sqlfs_ref_del(st, r);
	if (orphan && !st->ro &&
	    sqlfs_tx(st, SQLFS_WRITE, sqlfs_purge_tx, &node) < 0) {
		/* Try again at unmount; the next open reclaims it anyway. */
		if (st->npending == st->pendcap) {
			size_t cap = st->pendcap ? st->pendcap * 2 : 16;
			uint64_t *p = realloc(st->pending, cap * sizeof(*p));
			if (!p)
				goto out;
			st->pending = p;
			st->pendcap = cap;
		}
		st->pending[st->npending++] = node;
	}
out:
	sqlfs_unlock(st);
}

static int sqlfs_getattr(void *store, uint64_t node, vfs_attr *out)
{
	sqlfs_store *st = store;
	sqlfs_inode in = {.ino = node};
	int rc;

	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_getattr_tx, &in);
	if (rc == 0)
		sqlfs_fill_attr(st, &in, out);
	sqlfs_unlock(st);
	return rc;
}

/* Do the 4 KiB pages of a block that hold its first `keep` bytes hold
 * anything but zeros (in the len bytes stored)? */
static bool sqlfs_pages_hold_data(const unsigned char *p, size_t len,
                                  size_t keep)
{
	size_t end = (keep + 4095) & ~(size_t)4095;

	if (end > len)
		end = len;
	for (size_t i = 0; i < end; i++)
		if (p[i] != 0)
			return true;
	return false;
}

/* Cut a file to size: drop blocks past it, trim the one it ends in. That
 * one goes entirely when the 4 KiB pages it keeps held only zeros: they
 * read the same as a hole, and the file then holds data exactly when a
 * tmpfs file would still hold pages (see sqlfs_setattr_tx). */
static int sqlfs_trim(sqlfs_store *st, sqlfs_inode *in, int64_t size)
{
	uint64_t bs = st->bsize;
	uint64_t keep = ((uint64_t)size + bs - 1) / bs; /* blocks kept */
	sqlite3_stmt *s;
	int64_t gone;
	int rc;

	rc = sqlfs_get(st, S_BSUMFROM, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)keep);
	rc = sqlfs_scalar(st, s, &gone);
	if (rc < 0)
		return rc;
	if (gone < 0 || gone > in->alloc)
		return -EIO;
	if (gone > 0) {
		rc = sqlfs_get(st, S_BDELFROM, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)keep);
		rc = sqlfs_done(st, s);
		if (rc < 0)
			return rc;
		in->alloc -= gone;
	}
	if ((uint64_t)size % bs != 0) {
		uint64_t bno = (uint64_t)size / bs;
		size_t in_blk = (size_t)((uint64_t)size % bs);
		const void *p;
		int len;

		rc = sqlfs_get(st, S_BGET, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)bno);
		rc = sqlfs_step(st, s);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(s);
			return 0;
		}
		if (rc != SQLITE_ROW) {
			rc = sqlfs_errno(st, rc);
			sqlite3_reset(s);
			return rc;
		}
		p = sqlite3_column_blob(s, 0);
		len = sqlite3_column_bytes(s, 0);
		if (sqlite3_column_type(s, 0) != SQLITE_BLOB || len < 1 ||
		    (uint32_t)len > st->bsize) {
			sqlite3_reset(s);
			return -EIO;
		}
		if ((size_t)len <= in_blk) {
			sqlite3_reset(s);
			return 0;
		}
		if (!sqlfs_pages_hold_data(p, (size_t)len, in_blk))
			in_blk = 0;
		memcpy(st->scratch, p, in_blk);
		sqlite3_reset(s);
		rc = sqlfs_get(st, in_blk > 0 ? S_BUPD : S_BDELFROM, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)bno);
		if (in_blk > 0)
			sqlite3_bind_blob(s, 3, st->scratch, (int)in_blk,
			                  SQLITE_STATIC);
		rc = sqlfs_done(st, s);
		if (rc < 0)
			return rc;
		in->alloc -= (int64_t)len - (int64_t)in_blk;
	}
	return 0;
}

struct sqlfs_setattr_arg {
	const vfs_setattr *set;
	sqlfs_inode in;
};

static int64_t sqlfs_setattr_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_setattr_arg *a = arg;
	const vfs_setattr *set = a->set;
	sqlfs_inode *in = &a->in;
	struct timespec now = vfs__now();
	bool cut = false;
	int rc = sqlfs_iget(st, in->ino, in);

	if (rc < 0)
		return rc;
	if (set->valid & VFS_SET_SIZE) {
		if (S_ISDIR(in->mode))
			return -EISDIR;
		if (!S_ISREG(in->mode) || set->size < 0)
			return -EINVAL;
		if (set->size > st->max_file_size)
			return -EFBIG;
		/* As tmpfs: a new size, or a cut that finds data to trim
		 * (even to the same size), stamps mtime and ctime; an empty
		 * or all-hole file cut to its own size stays as it is. */
		cut = set->size != in->size || in->alloc > 0;
		if (!cut && set->valid == VFS_SET_SIZE)
			return 0;
		if (set->size < in->size) {
			rc = sqlfs_trim(st, in, set->size);
			if (rc < 0)
				return rc;
		}
		in->size = set->size;
	}
	if (set->valid & VFS_SET_MODE)
		in->mode = (in->mode & S_IFMT) | (set->mode & 07777);
	if (set->valid & VFS_SET_UID)
		in->uid = set->uid;
	if (set->valid & VFS_SET_GID)
		in->gid = set->gid;
	if (set->valid & VFS_SET_ATIME_NOW)
		in->atime = now;
	else if (set->valid & VFS_SET_ATIME)
		in->atime = set->atime;
	if ((set->valid & VFS_SET_MTIME_NOW) || cut)
		in->mtime = now;
	else if (set->valid & VFS_SET_MTIME)
		in->mtime = set->mtime;
	in->ctime = now;
	if (in->atime.tv_nsec < 0 || in->atime.tv_nsec > 999999999 ||
	    in->mtime.tv_nsec < 0 || in->mtime.tv_nsec > 999999999)
		return -EINVAL;
	return sqlfs_iput(st, in);
}

static int sqlfs_setattr(void *store, uint64_t node, const vfs_setattr *set,
                         vfs_attr *out)
{
	sqlfs_store *st = store;
	struct sqlfs_setattr_arg a = {.set = set, .in = {.ino = node}};
	int rc;

	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_setattr_tx, &a);
	if (rc == 0)
		sqlfs_fill_attr(st, &a.in, out);
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_mknod_arg {
	uint64_t dir;
	const char *name;
	const vfs_newnode *nn;
	sqlfs_inode in;
};

static int64_t sqlfs_mknod_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_mknod_arg *a = arg;
	const vfs_newnode *nn = a->nn;
	uint32_t type = nn->mode & S_IFMT;
	sqlfs_inode dir, *in = &a->in;
	struct timespec now = vfs__now();
	sqlite3_stmt *s;
	uint64_t ino;
	int rc = sqlfs_idir(st, a->dir, &dir);

	if (rc < 0)
		return rc;
	rc = sqlfs_dget(st, a->dir, a->name, &ino);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (dir.nlink == 0)
		return -ENOENT; /* the directory was removed */
	if (type == S_IFDIR && dir.nlink >= SQLFS_LINK_MAX)
		return -EMLINK;

	memset(in, 0, sizeof(*in));
	in->mode = type | (nn->mode & 07777);
	in->nlink = type == S_IFDIR ? 2 : 1;
	in->uid = nn->uid;
	in->gid = nn->gid;
	in->rdev = (type == S_IFCHR || type == S_IFBLK) ? nn->rdev : 0;
	in->size = type == S_IFLNK ? (int64_t)nn->target_len : 0;
	in->parent = type == S_IFDIR ? a->dir : 0;
	in->atime = in->mtime = in->ctime = now;
	rc = sqlfs_get(st, S_INEW, &s);
	if (rc < 0)
		return rc;
	sqlfs_bind_inode(s, in);
	if (type == S_IFLNK)
		sqlite3_bind_blob(s, 16, nn->target, (int)nn->target_len,
		                  SQLITE_STATIC);
	rc = sqlfs_done(st, s);
	if (rc < 0)
		return rc;
	in->ino = (uint64_t)sqlite3_last_insert_rowid(st->db);
	rc = sqlfs_dnew(st, a->dir, a->name, in->ino);
	if (rc < 0)
		return rc;
	if (type == S_IFDIR)
		dir.nlink++;
	dir.size++;
	sqlfs_touch_dir(&dir, now);
	return sqlfs_iput(st, &dir);
}

static int sqlfs_mknod(void *store, uint64_t dir, const char *name,
                       const vfs_newnode *nn, uint64_t *out, vfs_attr *attr)
{
	sqlfs_store *st = store;
	struct sqlfs_mknod_arg a = {.dir = dir, .name = name, .nn = nn};
	uint32_t type = nn->mode & S_IFMT;
	int rc;

	if (!sqlfs_type_ok(type))
		return -EINVAL;
	if (type == S_IFLNK && (!nn->target || nn->target_len == 0 ||
	                        nn->target_len >= VFS_PATH_MAX))
		return -EINVAL;
	sqlfs_lock(st);
	rc = sqlfs_ref_reserve(st);
	if (rc == 0)
		rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_mknod_tx, &a);
	if (rc == 0) {
		sqlfs_ref_add(st, a.in.ino, 1);
		*out = a.in.ino;
		sqlfs_fill_attr(st, &a.in, attr);
	}
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_link_arg {
	uint64_t dir;
	const char *name;
	sqlfs_inode in;
};

static int64_t sqlfs_link_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_link_arg *a = arg;
	sqlfs_inode dir, *in = &a->in;
	struct timespec now = vfs__now();
	uint64_t ino;
	int rc = sqlfs_idir(st, a->dir, &dir);

	if (rc < 0)
		return rc;
	rc = sqlfs_iget(st, in->ino, in);
	if (rc < 0)
		return rc;
	rc = sqlfs_dget(st, a->dir, a->name, &ino);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (S_ISDIR(in->mode))
		return -EPERM;
	if (in->nlink == 0 || dir.nlink == 0)
		return -ENOENT;
	if (in->nlink >= SQLFS_LINK_MAX)
		return -EMLINK;
	rc = sqlfs_dnew(st, a->dir, a->name, in->ino);
	if (rc < 0)
		return rc;
	in->nlink++;
	in->ctime = now;
	rc = sqlfs_iput(st, in);
	if (rc < 0)
		return rc;
	dir.size++;
	sqlfs_touch_dir(&dir, now);
	return sqlfs_iput(st, &dir);
}

static int sqlfs_link(void *store, uint64_t node, uint64_t dir,
                      const char *name, vfs_attr *attr)
{
	sqlfs_store *st = store;
	struct sqlfs_link_arg a = {
	        .dir = dir, .name = name, .in = {.ino = node}};
	int rc;

	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_link_tx, &a);
	if (rc == 0)
		sqlfs_fill_attr(st, &a.in, attr);
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_unlink_arg {
	uint64_t dir;
	const char *name;
	bool rmdir;
};

static int64_t sqlfs_unlink_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_unlink_arg *a = arg;
	sqlfs_inode dir, in;
	struct timespec now = vfs__now();
	int rc = sqlfs_idir(st, a->dir, &dir);

	if (rc < 0)
		return rc;
	rc = sqlfs_dget_inode(st, a->dir, a->name, &in);
	if (rc < 0)
		return rc;
	if (in.ino == dir.ino)
		return -EIO;
	if (a->rmdir) {
		sqlite3_stmt *s;
		int64_t any;
		if (!S_ISDIR(in.mode))
			return -ENOTDIR;
		rc = sqlfs_get(st, S_DANY, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in.ino);
		rc = sqlfs_scalar(st, s, &any);
		if (rc < 0)
			return rc;
		if (any)
			return -ENOTEMPTY;
		in.nlink = 0;
		in.parent = 0;
		if (dir.nlink > 2)
			dir.nlink--;
	} else {
		if (S_ISDIR(in.mode))
			return -EISDIR;
		if (in.nlink == 0)
			return -EIO;
		in.nlink--;
	}
	rc = sqlfs_dname_op(st, S_DDEL, a->dir, a->name, 0);
	if (rc < 0)
		return rc;
	in.ctime = now;
	rc = sqlfs_iput(st, &in);
	if (rc < 0)
		return rc;
	if (dir.size > 0)
		dir.size--;
	sqlfs_touch_dir(&dir, now);
	rc = sqlfs_iput(st, &dir);
	if (rc < 0)
		return rc;
	return sqlfs_release_node(st, &in);
}

static int sqlfs_unlink_common(void *store, uint64_t dir, const char *name,
                               bool rmdir)
{
	sqlfs_store *st = store;
	struct sqlfs_unlink_arg a = {.dir = dir, .name = name, .rmdir = rmdir};
	int rc;

	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_unlink_tx, &a);
	sqlfs_unlock(st);
	return rc;
}

static int sqlfs_unlink(void *store, uint64_t dir, const char *name)
{
	return sqlfs_unlink_common(store, dir, name, false);
}

static int sqlfs_rmdir(void *store, uint64_t dir, const char *name)
{
	return sqlfs_unlink_common(store, dir, name, true);
}

struct sqlfs_rename_arg {
	uint64_t olddir, newdir;
	const char *oldname, *newname;
	unsigned flags;
};

/* Directory d moves from parent `from` to parent `to`. */
static void sqlfs_reparent(sqlfs_inode *d, sqlfs_inode *from, sqlfs_inode *to)
{
	if (!S_ISDIR(d->mode) || from == to)
		return;
	d->parent = to->ino;
	if (from->nlink > 2)
		from->nlink--;
	to->nlink++;
}

static int64_t sqlfs_rename_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_rename_arg *a = arg;
	sqlfs_inode od, nd_buf, *nd, src, dst;
	struct timespec now = vfs__now();
	bool have_dst, anc;
	uint64_t dino;
	int rc;

	rc = sqlfs_idir(st, a->olddir, &od);
	if (rc < 0)
		return rc;
	nd = &nd_buf;
	if (a->newdir == a->olddir)
		nd = &od;
	else if ((rc = sqlfs_idir(st, a->newdir, nd)) < 0)
		return rc;
	rc = sqlfs_dget_inode(st, a->olddir, a->oldname, &src);
	if (rc < 0)
		return rc;
	rc = sqlfs_dget(st, a->newdir, a->newname, &dino);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	have_dst = rc == 0;
	if (have_dst) {
		rc = sqlfs_iget(st, dino, &dst);
		if (rc < 0)
			return rc == -ESTALE ? -EIO : rc;
	}
	if (!have_dst && nd->nlink == 0)
		return -ENOENT; /* the target directory was removed */
	if ((a->flags & VFS_RENAME_NOREPLACE) && have_dst)
		return -EEXIST;
	if ((a->flags & VFS_RENAME_EXCHANGE) && !have_dst)
		return -ENOENT;
	if (have_dst && dst.ino == src.ino)
		return 0; /* the same node: nothing changes */
	if (src.ino == od.ino || src.ino == nd->ino)
		return S_ISDIR(src.mode) && src.ino == nd->ino ? -EINVAL : -EIO;
	if (S_ISDIR(src.mode) && od.ino != nd->ino) {
		rc = sqlfs_is_ancestor(st, src.ino, nd->ino, &anc);
		if (rc < 0)
			return rc;
		if (anc)
			return -EINVAL;
	}
	/* The target may not be an ancestor of the source either (Linux
	 * checks both before comparing types). */
	if (have_dst && S_ISDIR(dst.mode) && od.ino != nd->ino) {
		rc = sqlfs_is_ancestor(st, dst.ino, od.ino, &anc);
		if (rc < 0)
			return rc;
		if (anc)
			return (a->flags & VFS_RENAME_EXCHANGE) ? -EINVAL
			                                        : -ENOTEMPTY;
	}

	if (a->flags & VFS_RENAME_EXCHANGE) {
		if (dst.ino == od.ino || dst.ino == nd->ino)
			return -EIO;
		rc = sqlfs_dname_op(st, S_DSETINO, a->olddir, a->oldname,
		                    dst.ino);
		if (rc == 0)
			rc = sqlfs_dname_op(st, S_DSETINO, a->newdir,
			                    a->newname, src.ino);
		if (rc < 0)
			return rc;
		sqlfs_reparent(&src, &od, nd);
		sqlfs_reparent(&dst, nd, &od);
		src.ctime = dst.ctime = now;
		sqlfs_touch_dir(&od, now);
		sqlfs_touch_dir(nd, now);
		rc = sqlfs_iput(st, &src);
		if (rc == 0)
			rc = sqlfs_iput(st, &dst);
		if (rc == 0)
			rc = sqlfs_iput(st, &od);
		if (rc == 0 && nd != &od)
			rc = sqlfs_iput(st, nd);
		return rc;
	}

	if (have_dst) {
		sqlite3_stmt *s;
		int64_t any = 0;
		if (dst.ino == od.ino || dst.ino == nd->ino)
			return S_ISDIR(dst.mode) ? -ENOTEMPTY : -EIO;
		if (S_ISDIR(src.mode) && !S_ISDIR(dst.mode))
			return -ENOTDIR;
		if (!S_ISDIR(src.mode) && S_ISDIR(dst.mode))
			return -EISDIR;
		if (S_ISDIR(dst.mode)) {
			rc = sqlfs_get(st, S_DANY, &s);
			if (rc < 0)
				return rc;
			sqlite3_bind_int64(s, 1, (sqlite3_int64)dst.ino);
			rc = sqlfs_scalar(st, s, &any);
			if (rc < 0)
				return rc;
			if (any)
				return -ENOTEMPTY;
		}
		/* Keep the target entry (and its readdir cookie). */
		rc = sqlfs_dname_op(st, S_DSETINO, a->newdir, a->newname,
		                    src.ino);
		if (rc == 0)
			rc = sqlfs_dname_op(st, S_DDEL, a->olddir, a->oldname,
			                    0);
		if (rc < 0)
			return rc;
		if (S_ISDIR(dst.mode)) {
			dst.nlink = 0;
			dst.parent = 0;
			if (nd->nlink > 2)
				nd->nlink--;
		} else if (dst.nlink > 0) {
			dst.nlink--;
		}
		dst.ctime = now;
		if (od.size > 0)
			od.size--;
	} else {
		sqlite3_stmt *s;
		int64_t seq;
		if (S_ISDIR(src.mode) && od.ino != nd->ino &&
		    nd->nlink >= SQLFS_LINK_MAX)
			return -EMLINK;
		rc = sqlfs_next_seq(st, a->newdir, &seq);
		if (rc < 0)
			return rc;
		rc = sqlfs_get(st, S_DMOVE, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)a->olddir);
		sqlite3_bind_blob(s, 2, a->oldname, (int)strlen(a->oldname),
		                  SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)a->newdir);
		sqlite3_bind_blob(s, 4, a->newname, (int)strlen(a->newname),
		                  SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, seq);
		rc = sqlfs_done(st, s);
		if (rc == 0 && sqlite3_changes(st->db) != 1)
			rc = -EIO;
		if (rc < 0)
			return rc;
		if (od.size > 0)
			od.size--;
		nd->size++;
	}
	sqlfs_reparent(&src, &od, nd);
	src.ctime = now;
	sqlfs_touch_dir(&od, now);
	sqlfs_touch_dir(nd, now);
	rc = sqlfs_iput(st, &src);
	if (rc == 0)
		rc = sqlfs_iput(st, &od);
	if (rc == 0 && nd != &od)
		rc = sqlfs_iput(st, nd);
	if (rc == 0 && have_dst) {
		rc = sqlfs_iput(st, &dst);
		if (rc == 0)
			rc = sqlfs_release_node(st, &dst);
	}
	return rc;
}

static int sqlfs_rename(void *store, uint64_t olddir, const char *oldname,
                        uint64_t newdir, const char *newname, unsigned flags)
{
	sqlfs_store *st = store;
	struct sqlfs_rename_arg a = {.olddir = olddir,
	                             .newdir = newdir,
	                             .oldname = oldname,
	                             .newname = newname,
	                             .flags = flags};
	int rc;

	if ((flags & ~(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE)) ||
	    flags == (VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE))
		return -EINVAL;
	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_rename_tx, &a);
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_readlink_arg {
	uint64_t ino;
	char *buf;
	size_t size;
};

static int64_t sqlfs_readlink_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_readlink_arg *a = arg;
	sqlfs_inode in;
	sqlite3_stmt *s;
	const void *p;
	int rc = sqlfs_iget(st, a->ino, &in), len;

	if (rc < 0)
		return rc;
	if (!S_ISLNK(in.mode))
		return -EINVAL;
	rc = sqlfs_get(st, S_TARGET, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a->ino);
	rc = sqlfs_step(st, s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? -ESTALE : sqlfs_errno(st, rc);
		sqlite3_reset(s);
		return rc;
	}
	p = sqlite3_column_blob(s, 0);
	len = sqlite3_column_bytes(s, 0);
	if (sqlite3_column_type(s, 0) != SQLITE_BLOB || !p || len < 1 ||
	    len >= VFS_PATH_MAX || len != in.size ||
	    memchr(p, '\0', (size_t)len)) {
		sqlite3_reset(s);
		return -EIO;
	}
	memcpy(a->buf, p, (size_t)len < a->size ? (size_t)len : a->size);
	sqlite3_reset(s);
	return len;
}

static int sqlfs_readlink(void *store, uint64_t node, char *buf, size_t size)
{
	sqlfs_store *st = store;
	struct sqlfs_readlink_arg a = {.ino = node, .buf = buf, .size = size};
	int rc;

	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_readlink_tx, &a);
	sqlfs_unlock(st);
	return rc;
}

/* One directory entry copied out of the database for fill(). */
typedef struct sqlfs_dent {
	uint64_t seq, ino;
	uint32_t type;
	size_t len;
	char name[VFS_NAME_MAX + 1];
} sqlfs_dent;

struct sqlfs_readdir_arg {
	uint64_t dir, cookie;
	sqlfs_dent *ents;
	size_t n;
};

static int64_t sqlfs_readdir_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_readdir_arg *a = arg;
	sqlfs_inode dir;
	sqlite3_stmt *s;
	int rc = sqlfs_idir(st, a->dir, &dir);

	a->n = 0;
	if (rc < 0)
		return rc;
	if (dir.nlink == 0)
		return -ENOENT; /* as getdents on a removed directory */
	rc = sqlfs_get(st, S_DLIST, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a->dir);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)a->cookie);
	sqlite3_bind_int64(s, 3, SQLFS_DIR_BATCH);
	while ((rc = sqlfs_step(st, s)) == SQLITE_ROW) {
		sqlfs_dent *e = &a->ents[a->n];
		int64_t seq, ino, mode;
		const void *p = sqlite3_column_blob(s, 1);
		int len = sqlite3_column_bytes(s, 1);

		if (a->n >= SQLFS_DIR_BATCH ||
		    !sqlfs_col_int(s, 0, 1, INT64_MAX - 1, &seq) ||
		    !sqlfs_col_int(s, 2, 1, INT64_MAX, &ino) ||
		    !sqlfs_col_int(s, 3, 0, 0xffffffffll, &mode) ||
		    sqlite3_column_type(s, 1) != SQLITE_BLOB ||
		    !sqlfs_name_ok(p, len) || !sqlfs_type_ok((uint32_t)mode)) {
			sqlite3_reset(s);
			return -EIO;
		}
		e->seq = (uint64_t)seq;
		e->ino = (uint64_t)ino;
		e->type = (uint32_t)mode & S_IFMT;
		e->len = (size_t)len;
		memcpy(e->name, p, (size_t)len);
		e->name[len] = '\0';
		a->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sqlfs_errno(st, rc);
	return 0;
}

static int sqlfs_readdir(void *store, uint64_t dir, uint64_t cookie,
                         vfs_fill_fn fill, void *ctx)
{
	sqlfs_store *st = store;
	struct sqlfs_readdir_arg a = {.dir = dir, .cookie = cookie};
	int rc = 0;

	a.ents = malloc(SQLFS_DIR_BATCH * sizeof(*a.ents));
	if (!a.ents)
		return -ENOMEM;
	for (;;) {
		size_t i;
		sqlfs_lock(st);
		rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_readdir_tx, &a);
		sqlfs_unlock(st);
		if (rc < 0 || a.n == 0)
			break;
		/* fill() runs without the lock: it may call back into us. */
		for (i = 0; i < a.n; i++) {
			sqlfs_dent *e = &a.ents[i];
			if (fill(ctx, e->name, e->len, e->ino, e->type, e->seq))
				break;
		}
		if (i < a.n || a.n < SQLFS_DIR_BATCH)
			break;
		a.cookie = a.ents[a.n - 1].seq;
	}
	free(a.ents);
	return rc;
}

static int64_t sqlfs_open_tx(sqlfs_store *st, void *arg)
{
	sqlfs_inode *in = arg;
	int rc = sqlfs_iget(st, in->ino, in);

	if (rc < 0)
		return rc;
	if (S_ISLNK(in->mode))
		return -ELOOP;
	if (!S_ISREG(in->mode) && !S_ISDIR(in->mode))
		return -ENXIO; /* FIFOs, sockets and devices are metadata */
	return 0;
}

static int sqlfs_open(void *store, uint64_t node, int flags, void **fh)
{
	sqlfs_store *st = store;
	sqlfs_inode in = {.ino = node};
	int rc;

	*fh = NULL;
	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_open_tx, &in);
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_read_arg {
	uint64_t ino;
	unsigned char *buf;
	size_t size;
	int64_t off;
	bool touch; /* out: atime needs a write (relatime) */
};

static bool sqlfs_ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* relatime: record an access only when it tells something new. */
static bool sqlfs_atime_due(const sqlfs_inode *in, struct timespec now)
{
	return sqlfs_ts_le(in->atime, in->mtime) ||
	       sqlfs_ts_le(in->atime, in->ctime) ||
	       now.tv_sec - in->atime.tv_sec >= 24 * 3600;
}

static int64_t sqlfs_read_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_read_arg *a = arg;
	uint64_t bs = st->bsize, first, last;
	sqlfs_inode in;
	sqlite3_stmt *s;
	size_t count;
	int rc = sqlfs_iget(st, a->ino, &in);

	if (rc < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EISDIR;
	if (!S_ISREG(in.mode))
		return -EINVAL;
	if (a->off >= in.size || a->size == 0)
		return 0;
	count = (uint64_t)(in.size - a->off) < a->size
	                ? (size_t)(in.size - a->off)
	                : a->size;
	memset(a->buf, 0, count);
	first = (uint64_t)a->off / bs;
	last = ((uint64_t)a->off + count - 1) / bs;
	rc = sqlfs_get(st, S_BRANGE, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a->ino);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)first);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)last);
	while ((rc = sqlfs_step(st, s)) == SQLITE_ROW) {
		int64_t bno;
		const unsigned char *p = sqlite3_column_blob(s, 1);
		int len = sqlite3_column_bytes(s, 1);
		uint64_t bstart, from, to;

		if (!sqlfs_col_int(s, 0, (int64_t)first, (int64_t)last, &bno) ||
		    sqlite3_column_type(s, 1) != SQLITE_BLOB || len < 1 ||
		    (uint64_t)len > bs) {
			sqlite3_reset(s);
			return -EIO;
		}
		bstart = (uint64_t)bno * bs;
		from = bstart > (uint64_t)a->off ? bstart : (uint64_t)a->off;
		to = bstart + (uint64_t)len;
		if (to > (uint64_t)a->off + count)
			to = (uint64_t)a->off + count;
		if (to > from)
			memcpy(a->buf + (from - (uint64_t)a->off),
			       p + (from - bstart), (size_t)(to - from));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sqlfs_errno(st, rc);
	a->touch = !st->ro && sqlfs_atime_due(&in, vfs__now());
	return (int64_t)count;
}

static int64_t sqlfs_atime_tx(sqlfs_store *st, void *arg)
{
	sqlfs_inode in;
	int rc = sqlfs_iget(st, *(uint64_t *)arg, &in);
	struct timespec now = vfs__now();

	if (rc < 0 || !sqlfs_atime_due(&in, now))
		return rc;
	in.atime = now;
	return sqlfs_iput(st, &in);
}

static int64_t sqlfs_read(void *store, uint64_t node, void *fh, void *buf,
                          size_t size, int64_t off)
{
	sqlfs_store *st = store;
	struct sqlfs_read_arg a = {
	        .ino = node, .buf = buf, .size = size, .off = off};
	int64_t rc;

	if (off < 0)
		return -EINVAL;
	if (size > INT32_MAX)
		a.size = INT32_MAX;
	sqlfs_lock(st);
	rc = sqlfs_tx(st, SQLFS_READ, sqlfs_read_tx, &a);
	/* The access time is a hint: failing to record it fails nothing,
	 * and another process's write lock makes it wait for nothing. */
	if (rc > 0 && a.touch)
		sqlfs_tx(st, SQLFS_HINT, sqlfs_atime_tx, &node);
	sqlfs_unlock(st);
	return rc;
}

struct sqlfs_write_arg {
	uint64_t ino;
	const unsigned char *buf;
	size_t size;
	int64_t off;
	unsigned flags;
};

/* Write [from, to) of block bno (relative offsets) from src. */
static int sqlfs_write_block(sqlfs_store *st, sqlfs_inode *in, uint64_t bno,
                             size_t from, size_t to, const unsigned char *src)
{
	sqlite3_stmt *s;
	const void *data = src;
	int64_t oldlen = -1;
	size_t newlen = to;
	int rc;

	if (from == 0 && to == st->bsize) {
		rc = sqlfs_get(st, S_BLEN, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)bno);
		rc = sqlfs_step(st, s);
		if (rc == SQLITE_ROW) {
			if (!sqlfs_col_int(s, 0, 1, st->bsize, &oldlen))
				rc = -EIO;
		} else if (rc != SQLITE_DONE) {
			rc = sqlfs_errno(st, rc);
		}
		sqlite3_reset(s);
		if (rc < 0)
			return rc;
	} else {
		rc = sqlfs_get(st, S_BGET, &s);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)bno);
		rc = sqlfs_step(st, s);
		if (rc == SQLITE_ROW) {
			const void *p = sqlite3_column_blob(s, 0);
			int len = sqlite3_column_bytes(s, 0);
			if (sqlite3_column_type(s, 0) != SQLITE_BLOB ||
			    len < 1 || (uint32_t)len > st->bsize) {
				rc = -EIO;
			} else {
				oldlen = len;
				memcpy(st->scratch, p, (size_t)len);
			}
		} else if (rc != SQLITE_DONE) {
			rc = sqlfs_errno(st, rc);
		}
		sqlite3_reset(s);
		if (rc < 0)
			return rc;
		if (oldlen < 0)
			oldlen = 0; /* sentinel below: no row yet */
		if ((size_t)oldlen < from)
			memset(st->scratch + oldlen, 0, from - (size_t)oldlen);
		memcpy(st->scratch + from, src, to - from);
		if ((size_t)oldlen > newlen)
			newlen = (size_t)oldlen;
		data = st->scratch;
		if (oldlen == 0)
			oldlen = -1;
	}
	rc = sqlfs_get(st, oldlen < 0 ? S_BINS : S_BUPD, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)in->ino);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)bno);
	sqlite3_bind_blob(s, 3, data, (int)newlen, SQLITE_STATIC);
	rc = sqlfs_done(st, s);
	if (rc < 0)
		return rc;
	in->alloc += (int64_t)newlen - (oldlen < 0 ? 0 : oldlen);
	return 0;
}

/* -ENOSPC now if the store's size limit cannot take about `bytes` more. */
static int sqlfs_check_room(sqlfs_store *st, uint64_t bytes)
{
	sqlite3_stmt *s;
	int64_t pages, freep;
	uint64_t limit_pages;
	int rc;

	if (!st->max_db)
		return 0;
	rc = sqlfs_get(st, S_PAGES, &s);
	if (rc == 0)
		rc = sqlfs_scalar(st, s, &pages);
	if (rc == 0)
		rc = sqlfs_get(st, S_FREEPAGES, &s);
	if (rc == 0)
		rc = sqlfs_scalar(st, s, &freep);
	if (rc < 0)
		return rc;
	limit_pages = st->max_db / st->page_size;
	if ((uint64_t)pages - (uint64_t)freep + bytes / st->page_size >
	    limit_pages)
		return -ENOSPC;
	return 0;
}

static int64_t sqlfs_write_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_write_arg *a = arg;
	uint64_t bs = st->bsize, bno, pos, end;
	sqlfs_inode in;
	size_t done = 0;
	int rc = sqlfs_iget(st, a->ino, &in);

	if (rc < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EISDIR;
	if (!S_ISREG(in.mode))
		return -EINVAL;
	if (a->flags & VFS_WRITE_APPEND)
		a->off = in.size;
	if (a->off < 0)
		return -EINVAL;
	if (a->size == 0)
		return 0;
	/* As Linux at s_maxbytes: a write that starts at the size limit
	 * fails, one that crosses it writes what fits. */
	if (a->off >= st->max_file_size)
		return -EFBIG;
	if (a->size > (uint64_t)(st->max_file_size - a->off))
		a->size = (size_t)(st->max_file_size - a->off);
	rc = sqlfs_check_room(st, a->size);
	if (rc < 0)
		return rc;
	pos = (uint64_t)a->off;
	end = pos + a->size;
	for (bno = pos / bs; bno * bs < end; bno++) {
		uint64_t bstart = bno * bs;
		size_t from = (size_t)(pos > bstart ? pos - bstart : 0);
		size_t to = (size_t)(end < bstart + bs ? end - bstart : bs);

		rc = sqlfs_write_block(st, &in, bno, from, to, a->buf + done);
		if (rc < 0)
			return rc;
		done += to - from;
	}
	if ((int64_t)end > in.size)
		in.size = (int64_t)end;
	in.mtime = in.ctime = vfs__now();
	rc = sqlfs_iput(st, &in);
	if (rc < 0)
		return rc;
	return (int64_t)a->size;
}

static int64_t sqlfs_write(void *store, uint64_t node, void *fh,
                           const void *buf, size_t size, int64_t *off,
                           unsigned flags)
{
	sqlfs_store *st = store;
	struct sqlfs_write_arg a = {.ino = node,
	                            .buf = buf,
	                            .size = size,
	                            .off = *off,
	                            .flags = flags};
	int64_t rc;

	if (size > INT32_MAX)
		a.size = size = INT32_MAX;
	sqlfs_lock(st);
	rc = sqlfs_tx(st, SQLFS_WRITE, sqlfs_write_tx, &a);
	sqlfs_unlock(st);
	if (rc >= 0)
		*off = a.off;
	return rc;
}

static int sqlfs_fsync(void *store, uint64_t node, void *fh, int datasync)
{
	sqlfs_store *st = store;
	int rc;

	sqlfs_lock(st);
	rc = sqlfs_sync_locked(st);
	sqlfs_unlock(st);
	return rc;
}

static int sqlfs_sync(void *store)
{
	return sqlfs_fsync(store, 0, NULL, 0);
}

struct sqlfs_statfs_arg {
	int64_t pages, freep, inodes;
};

static int64_t sqlfs_statfs_tx(sqlfs_store *st, void *arg)
{
	struct sqlfs_statfs_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, S_PAGES, &s);

	if (rc == 0)
		rc = sqlfs_scalar(st, s, &a->pages);
	if (rc == 0)
		rc = sqlfs_get(st, S_FREEPAGES, &s);
	if (rc == 0)
		rc = sqlfs_scalar(st, s, &a->freep);
	if (rc == 0)
		rc = sqlfs_get(st, S_ICOUNT, &s);
	if (rc == 0)
		rc = sqlfs_scalar(st, s, &a->inodes);
	return rc;
}

/* The database file's absolute path (SQLite keeps one), so that a store
 * opened by a relative name still finds its filesystem after the process
 * changes directory (vfsmount does when it detaches). */
static const char *sqlfs_host_path(sqlfs_store *st)
{
	const char *p = sqlite3_db_filename(st->db, "main");

	return p != NULL && p[0] == '/' ? p : st->path;
}

static int sqlfs_statfs(void *store, vfs_statvfs *out)
{
	sqlfs_store *st = store;
	struct sqlfs_statfs_arg a = {0};
	uint64_t used, total, avail;
	struct statvfs hv;
	int rc;

	memset(out, 0, sizeof(*out));
	sqlfs_lock(st);
	rc = (int)sqlfs_tx(st, SQLFS_READ, sqlfs_statfs_tx, &a);
	sqlfs_unlock(st);
	if (rc < 0)
		return rc;
	used = ((uint64_t)a.pages - (uint64_t)a.freep) * st->page_size;
	if (st->max_db) {
		total = st->max_db;
		avail = total > used ? total - used : 0;
	} else if (statvfs(sqlfs_host_path(st), &hv) == 0) {
		avail = (uint64_t)hv.f_bavail * hv.f_frsize;
		total = used + avail;
	} else {
		total = used;
		avail = 0;
	}
	out->bsize = st->bsize;
	out->blocks = total / st->bsize;
	out->bfree = avail / st->bsize;
	out->bavail = out->bfree;
	out->files = SQLFS_UNLIMITED_F;
	out->ffree = SQLFS_UNLIMITED_F > (uint64_t)a.inodes
	                     ? SQLFS_UNLIMITED_F - (uint64_t)a.inodes
	                     : 0;
	out->namemax = VFS_NAME_MAX;
	return 0;
}

static const vfs_backend_ops sqlfs_ops = {
        .version = VFS_BACKEND_VERSION,
        .size = sizeof(vfs_backend_ops),
        .name = "sqlite",
        .destroy = sqlfs_destroy,
        .root = sqlfs_root,
        .lookup = sqlfs_lookup,
        .forget = sqlfs_forget,
        .getattr = sqlfs_getattr,
        .setattr = sqlfs_setattr,
        .mknod = sqlfs_mknod,
        .link = sqlfs_link,
        .unlink = sqlfs_unlink,
        .rmdir = sqlfs_rmdir,
        .rename = sqlfs_rename,
        .readlink = sqlfs_readlink,
        .readdir = sqlfs_readdir,
        .open = sqlfs_open,
        .read = sqlfs_read,
        .write = sqlfs_write,
        .fsync = sqlfs_fsync,
        .statfs = sqlfs_statfs,
        .sync = sqlfs_sync,
};

/* ---- 6. Opening a database ------------------------------------------- */

/* Field 22 of /proc/PID/stat (start time in clock ticks), or 0. */
static uint64_t sqlfs_proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* After ") " come fields 3 (state) ... 22 (starttime). */
	if (sscanf(p + 1,
	           " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
	           "%*u %*d %*d %*d %*d %*d %*d %llu",
	           &start) != 1)
		return 0;
	return start;
}

static uint64_t sqlfs_holder_self(void)
{
	long pid = (long)getpid();

	return (sqlfs_proc_start(pid) << 22) | ((uint64_t)pid & 0x3fffff);
}

/* Whether the process that left an orphan may still hold it. */
static bool sqlfs_holder_alive(uint64_t holder)
{
	long pid = (long)(holder & 0x3fffff);
	char path[64];

	if (holder == 0 || pid == 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld", pid);
	if (access("/proc/self/stat", R_OK) != 0)
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	if (access(path, F_OK) != 0)
		return false;
	return (sqlfs_proc_start(pid) << 22 | (uint64_t)pid) == holder;
}

/* Run one SQL statement that yields at most rows we ignore. */
static int sqlfs_exec(sqlfs_store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : sqlfs_errno(st, rc);
}

/* A single integer from SQL run outside the statement cache. */
static int sqlfs_query_int(sqlfs_store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return sqlfs_errno(st, rc);
	rc = sqlfs_scalar(st, s, out);
	sqlite3_finalize(s);
	return rc;
}

/* Harden a fresh connection before it reads anything. */
static int sqlfs_harden(sqlite3 *db, uint32_t bsize)
{
	static const int off[] = {
	        SQLITE_DBCONFIG_ENABLE_TRIGGER,
	        SQLITE_DBCONFIG_ENABLE_VIEW,
	        SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
	        SQLITE_DBCONFIG_TRUSTED_SCHEMA,
	        SQLITE_DBCONFIG_DQS_DML,
	        SQLITE_DBCONFIG_DQS_DDL,
	};
	int rc, v;

	rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &v);
	for (size_t i = 0; rc == SQLITE_OK && i < sizeof(off) / sizeof(off[0]);
	     i++)
		rc = sqlite3_db_config(db, off[i], 0, &v);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH,
	              (int)(bsize * 2 > (1u << 20) ? bsize * 2 : (1u << 20)));
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 100000);
	sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 100);
	sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
	sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 10);
	sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 100000);
	sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 8);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100);
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 32);
	sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
	sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
	return sqlite3_exec(db,
	                    "PRAGMA trusted_schema=OFF; PRAGMA mmap_size=0; "
	                    "PRAGMA cell_size_check=ON",
	                    NULL, NULL, NULL);
}

/*
 * Compare sqlite_schema with what our own DDL produces in a fresh
 * in-memory database: the same objects, types, tables and SQL text, and
 * nothing else (no triggers, views or extra indexes).
 */
static int sqlfs_schema_check(sqlite3 *db, char *err, size_t errlen)
{
	static const char q[] = "SELECT type, name, tbl_name, sql FROM "
	                        "sqlite_schema ORDER BY name";
	sqlite3 *ref = NULL;
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc, ra, rb;

	rc = sqlite3_open_v2(":memory:", &ref,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < SQLFS_NSCHEMA; i++)
		rc = sqlite3_exec(ref, sqlfs_schema_v1[i], NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ref, q, -1, &b, NULL);
	if (rc != SQLITE_OK) {
		rc = vfs__err(err, errlen, -ENOMEM,
		              "sqlite: cannot build the reference schema");
		goto out;
	}
	rc = sqlite3_prepare_v2(db, q, -1, &a, NULL);
	if (rc != SQLITE_OK) {
		rc = vfs__err(err, errlen, sqlfs_errno(NULL, rc),
		              "sqlite: cannot read the schema: %s",
		              sqlite3_errmsg(db));
		goto out;
	}
	for (;;) {
		ra = sqlite3_step(a);
		rb = sqlite3_step(b);
		if (ra != SQLITE_ROW && ra != SQLITE_DONE) {
			rc = vfs__err(err, errlen, sqlfs_errno(NULL, ra),
			              "sqlite: cannot read the schema: %s",
			              sqlite3_errmsg(db));
			goto out;
		}
		if (ra == SQLITE_DONE && rb == SQLITE_DONE)
			break;
		if (ra != rb) {
			rc = vfs__err(err, errlen, -EINVAL,
			              "sqlite: schema is not a libvfs schema "
			              "(%s objects)",
			              ra == SQLITE_ROW ? "extra" : "missing");
			goto out;
		}
		for (int c = 0; c < 4; c++) {
			const unsigned char *x = sqlite3_column_text(a, c);
			const unsigned char *y = sqlite3_column_text(b, c);
			if ((x == NULL) != (y == NULL) ||
			    (x && strcmp((const char *)x, (const char *)y))) {
				const unsigned char *nm =
				        sqlite3_column_text(a, 1);
				rc = vfs__err(
				        err, errlen, -EINVAL,
				        "sqlite: schema object \"%.64s\" is "
				        "not what libvfs creates",
				        nm ? (const char *)nm : "?");
				goto out;
			}
		}
	}
	rc = 0;
out:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_close(ref);
	return rc;
}

/* Check the whole database structure: quick or full. */
static int sqlfs_check_integrity(sqlfs_store *st, bool full, char *err,
                                 size_t errlen, char *report, size_t replen,
                                 unsigned *problems)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db,
	                            full ? "PRAGMA integrity_check(100)"
	                                 : "PRAGMA quick_check(1)",
	                            -1, &s, NULL);
	bool ok = true;

	if (rc != SQLITE_OK)
		return vfs__err(err, errlen, sqlfs_errno(st, rc),
		                "sqlite: %s: the database is damaged: %s",
		                st->path, sqlite3_errmsg(st->db));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (t && strcmp((const char *)t, "ok") == 0)
			continue;
		if (ok)
			vfs__err(err, errlen, -EIO,
			         "sqlite: %s: the database is damaged: %.200s",
			         st->path, t ? (const char *)t : "?");
		ok = false;
		if (problems)
			(*problems)++;
		if (report) {
			size_t l = strlen(report);
			if (l < replen)
				snprintf(report + l, replen - l,
				         "integrity: %.200s\n",
				         t ? (const char *)t : "?");
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return vfs__err(err, errlen,
		                sqlfs_errno(st, rc) == -EBUSY ? -EBUSY : -EIO,
		                "sqlite: %s: the database is damaged: %s",
		                st->path, sqlite3_errstr(rc));
	return ok ? 0 : -EIO;
}

/* Create the schema and the root directory in an empty database. */
static int sqlfs_create_schema(sqlfs_store *st, uint32_t bsize, char *err,
                               size_t errlen)
{
	char sql[256];
	struct timespec now = vfs__now();
	int64_t n;
	int rc;

	rc = sqlfs_exec(st, "BEGIN IMMEDIATE");
	if (rc < 0)
		return vfs__err(err, errlen, rc, "sqlite: %s: cannot lock: %s",
		                st->path, sqlite3_errmsg(st->db));
	/* Another process may have created it meanwhile. */
	rc = sqlfs_query_int(st, "SELECT count(*) FROM sqlite_schema", &n);
	if (rc == 0 && n != 0) {
		sqlfs_exec(st, "ROLLBACK");
		return 1;
	}
	for (size_t i = 0; rc == 0 && i < SQLFS_NSCHEMA; i++)
		rc = sqlfs_exec(st, sqlfs_schema_v1[i]);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO meta VALUES('blocksize', %u), ('syncs', 0)",
	         (unsigned)bsize);
	if (rc == 0)
		rc = sqlfs_exec(st, sql);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO inodes(ino, " SQLFS_ICOLS ") VALUES(1, %u, 2, "
	         "%u, %u, 0, 0, 0, 1, %lld, %ld, %lld, %ld, %lld, %ld)",
	         (unsigned)(S_IFDIR | 0755), (unsigned)getuid(),
	         (unsigned)getgid(), (long long)now.tv_sec, now.tv_nsec,
	         (long long)now.tv_sec, now.tv_nsec, (long long)now.tv_sec,
	         now.tv_nsec);
	if (rc == 0)
		rc = sqlfs_exec(st, sql);
	snprintf(sql, sizeof(sql),
	         "PRAGMA application_id=%d; PRAGMA user_version=%d",
	         SQLFS_APP_ID, SQLFS_VERSION);
	if (rc == 0)
		rc = sqlfs_exec(st, sql);
	if (rc == 0)
		rc = sqlfs_exec(st, "COMMIT");
	if (rc < 0) {
		int e = vfs__err(err, errlen, rc,
		                 "sqlite: %s: cannot create the schema: %s",
		                 st->path, sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			sqlfs_exec(st, "ROLLBACK");
		return e;
	}
	return 0;
}

/* Bring a database of an older version up to SQLFS_VERSION. */
static int sqlfs_migrate(sqlfs_store *st, char *err, size_t errlen)
{
	char sql[64];
	int64_t ver;
	int rc = sqlfs_exec(st, "BEGIN IMMEDIATE");

	if (rc == 0)
		rc = sqlfs_query_int(st, "PRAGMA user_version", &ver);
	for (; rc == 0 && ver < SQLFS_VERSION; ver++) {
		if (ver < 0) {
			rc = -EINVAL;
			break;
		}
		for (const char *const *q = sqlfs_migrations[ver];
		     rc == 0 && *q; q++)
			rc = sqlfs_exec(st, *q);
	}
	if (rc == 0)
		rc = sqlfs_schema_check(st->db, err, errlen);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SQLFS_VERSION);
	if (rc == 0)
		rc = sqlfs_exec(st, sql);
	if (rc == 0)
		rc = sqlfs_exec(st, "COMMIT");
	if (rc < 0) {
		if (!sqlite3_get_autocommit(st->db))
			sqlfs_exec(st, "ROLLBACK");
		if (err && errlen && err[0] == '\0')
			vfs__err(err, errlen, rc,
			         "sqlite: %s: cannot migrate to version %d: %s",
			         st->path, SQLFS_VERSION, vfs_strerror(rc));
	}
	return rc;
}

/* Reclaim inodes left without links by processes that are gone. */
static int64_t sqlfs_reclaim_tx(sqlfs_store *st, void *arg)
{
	uint64_t *victims = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc = sqlfs_get(st, S_ORPHANS, &s);

	if (rc < 0)
		return rc;
	while ((rc = sqlfs_step(st, s)) == SQLITE_ROW) {
		int64_t ino, holder = 0;
		if (!sqlfs_col_int(s, 0, 1, INT64_MAX, &ino))
			continue;
		if (sqlite3_column_type(s, 1) == SQLITE_INTEGER)
			holder = sqlite3_column_int64(s, 1);
		if ((uint64_t)ino == SQLFS_ROOT ||
		    sqlfs_holder_alive((uint64_t)holder))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *p = realloc(victims, nc * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			victims = p;
			cap = nc;
		}
		victims[n++] = (uint64_t)ino;
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : sqlfs_errno(st, rc);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = sqlfs_purge(st, victims[i]);
	free(victims);
	if (rc == 0 && arg)
		*(size_t *)arg = n;
	return rc;
}

/*
 * Open (or create) the database of st->path and check it. Writes a
 * message to err on failure.
 */
static int sqlfs_open_db(sqlfs_store *st, const sqlfs_opts *o, char *err,
                         size_t errlen)
{
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int64_t appid, ver, n, bs;
	struct stat sb;
	int rc;

	if (o->ro || o->fsck)
		flags |= o->ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	else
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if ((o->ro || o->fsck) && stat(st->path, &sb) != 0)
		return vfs__err(err, errlen, -errno, "sqlite: %s: %s", st->path,
		                strerror(errno));
	if (stat(st->path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return vfs__err(err, errlen, -EINVAL,
		                "sqlite: %s: not a regular file", st->path);
	rc = sqlite3_open_v2(st->path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		int e = sqlite3_system_errno(st->db);
		rc = e ? -e : sqlfs_errno(st, rc);
		return vfs__err(err, errlen, rc, "sqlite: cannot open %s: %s",
		                st->path,
		                st->db ? sqlite3_errmsg(st->db) : "no memory");
	}
	sqlite3_extended_result_codes(st->db, 1);
	rc = sqlfs_harden(st->db, SQLFS_BSIZE_MAX);
	if (rc != SQLITE_OK)
		return vfs__err(err, errlen, sqlfs_errno(st, rc),
		                "sqlite: %s: cannot configure: %s", st->path,
		                sqlite3_errmsg(st->db));
	if (!o->ro && sqlite3_db_readonly(st->db, "main") == 1)
		return vfs__err(err, errlen, -EROFS,
		                "sqlite: %s is read-only (mount it with ,ro)",
		                st->path);
	sqlite3_busy_timeout(st->db, st->busy_ms);

	rc = sqlfs_query_int(st, "PRAGMA application_id", &appid);
	if (rc == 0)
		rc = sqlfs_query_int(st, "PRAGMA user_version", &ver);
	if (rc == 0)
		rc = sqlfs_query_int(st, "SELECT count(*) FROM sqlite_schema",
		                     &n);
	if (rc < 0)
		return vfs__err(
		        err, errlen, rc == -EBUSY ? -EBUSY : -EIO,
		        "sqlite: %s is not a usable SQLite database: %s",
		        st->path, sqlite3_errmsg(st->db));
	if (appid == 0 && ver == 0 && n == 0) {
		if (o->ro || o->fsck)
			return vfs__err(
			        err, errlen, -EINVAL,
			        "sqlite: %s is an empty database, not a "
			        "libvfs store",
			        st->path);
		if (o->page_size) {
			char sql[64];
			snprintf(sql, sizeof(sql), "PRAGMA page_size=%u",
			         (unsigned)o->page_size);
			sqlfs_exec(st, sql);
		}
		rc = sqlfs_exec(st, "PRAGMA journal_mode=WAL");
		if (rc < 0)
			return vfs__err(err, errlen, rc,
			                "sqlite: %s: cannot use WAL mode: %s",
			                st->path, sqlite3_errmsg(st->db));
		rc = sqlfs_create_schema(st, (uint32_t)o->bsize, err, errlen);
		if (rc < 0)
			return rc;
		rc = sqlfs_query_int(st, "PRAGMA user_version", &ver);
		if (rc == 0)
			rc = sqlfs_query_int(st, "PRAGMA application_id",
			                     &appid);
		if (rc < 0)
			return vfs__err(err, errlen, rc, "sqlite: %s: %s",
			                st->path, sqlite3_errmsg(st->db));
	}
	if (appid != SQLFS_APP_ID)
		return vfs__err(err, errlen, -EINVAL,
		                "sqlite: %s is an SQLite database but not a "
		                "libvfs store (application_id %#llx)",
		                st->path, (unsigned long long)appid);
	if (ver > SQLFS_VERSION)
		return vfs__err(err, errlen, -ENOTSUP,
		                "sqlite: %s has store version %lld; this "
		                "library reads up to version %d",
		                st->path, (long long)ver, SQLFS_VERSION);
	if (ver < SQLFS_VERSION) {
		if (o->ro || o->fsck)
			return vfs__err(
			        err, errlen, o->ro ? -EROFS : -EINVAL,
			        "sqlite: %s has old store version %lld; "
			        "open it read-write once to migrate it",
			        st->path, (long long)ver);
		rc = sqlfs_migrate(st, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = sqlfs_schema_check(st->db, err, errlen);
	if (rc < 0)
		return rc;
	if (!o->fsck) {
		rc = sqlfs_check_integrity(st, false, err, errlen, NULL, 0,
		                           NULL);
		if (rc < 0)
			return rc;
	}
	rc = sqlfs_query_int(st,
	                     "SELECT value FROM meta WHERE key = "
	                     "'blocksize'",
	                     &bs);
	if (rc < 0 || bs < SQLFS_BSIZE_MIN || bs > SQLFS_BSIZE_MAX ||
	    (bs & (bs - 1)) != 0)
		return vfs__err(err, errlen, -EIO,
		                "sqlite: %s: bad block size in meta", st->path);
	st->bsize = (uint32_t)bs;
	rc = sqlfs_query_int(st, "PRAGMA page_size", &n);
	if (rc < 0 || n < 512 || n > 65536)
		return vfs__err(err, errlen, -EIO, "sqlite: %s: bad page size",
		                st->path);
	st->page_size = (uint32_t)n;
	sqlite3_limit(st->db, SQLITE_LIMIT_LENGTH,
	              (int)(st->bsize + 65536 > VFS_PATH_MAX * 2
	                            ? st->bsize + 65536
	                            : VFS_PATH_MAX * 2));
	if (!o->ro) {
		rc = sqlfs_exec(st, "PRAGMA journal_mode=WAL");
		if (rc == 0)
			rc = sqlfs_exec(st,
			                st->sync_full
			                        ? "PRAGMA synchronous=FULL"
			                        : "PRAGMA synchronous=NORMAL");
		if (rc == 0 && st->max_db) {
			char sql[64];
			snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu",
			         (unsigned long long)(st->max_db /
			                              st->page_size));
			rc = sqlfs_exec(st, sql);
		}
		if (rc < 0)
			return vfs__err(err, errlen, rc,
			                "sqlite: %s: cannot configure: %s",
			                st->path, sqlite3_errmsg(st->db));
	}
	return 0;
}

static int sqlfs_parse_opts(const vfs__kv *kv, size_t nkv, sqlfs_opts *o,
                            char *err, size_t errlen)
{
	for (size_t i = 0; i < nkv; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint64_t x;
		int rc;

		if (strcmp(k, "sync") == 0) {
			if (strcmp(v, "full") == 0)
				o->sync_full = true;
			else if (strcmp(v, "normal") == 0)
				o->sync_full = false;
			else
				return vfs__err(err, errlen, -EINVAL,
				                "sqlite: bad value \"%s\" for "
				                "option sync (full or normal)",
				                v);
			continue;
		}
		if (strcmp(k, "maxfile") != 0 && strcmp(k, "maxdb") != 0 &&
		    strcmp(k, "busy_timeout") != 0 &&
		    strcmp(k, "blocksize") != 0 && strcmp(k, "pagesize") != 0)
			return vfs__err(err, errlen, -EINVAL,
			                "sqlite: unknown option \"%s\"", k);
		rc = vfs__parse_size(v, &x);
		if (rc < 0)
			return vfs__err(
			        err, errlen, -EINVAL,
			        "sqlite: bad value \"%s\" for option %s", v, k);
		if (strcmp(k, "maxfile") == 0) {
			o->max_file = x;
		} else if (strcmp(k, "maxdb") == 0) {
			o->max_db = x;
		} else if (strcmp(k, "busy_timeout") == 0) {
			if (x > INT_MAX)
				return vfs__err(
				        err, errlen, -EINVAL,
				        "sqlite: busy_timeout too large");
			o->busy_ms = (int)x;
		} else if (strcmp(k, "blocksize") == 0) {
			if (x < SQLFS_BSIZE_MIN || x > SQLFS_BSIZE_MAX ||
			    (x & (x - 1)) != 0)
				return vfs__err(
				        err, errlen, -EINVAL,
				        "sqlite: blocksize must be a power "
				        "of two from 4K to 1M");
			o->bsize = x;
		} else {
			if (x < 512 || x > 65536 || (x & (x - 1)) != 0)
				return vfs__err(
				        err, errlen, -EINVAL,
				        "sqlite: pagesize must be a power "
				        "of two from 512 to 64K");
			o->page_size = x;
		}
	}
	return 0;
}

static int sqlfs_new(sqlfs_store **out, const char *path, const sqlfs_opts *o,
                     char *err, size_t errlen)
{
	sqlfs_store *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return -ENOMEM;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return -ENOMEM;
	}
	st->path = strdup(path);
	st->ro = o->ro;
	st->sync_full = o->sync_full;
	st->max_db = o->max_db;
	st->busy_ms = o->busy_ms;
	st->max_file_size = VFS_FILE_SIZE_MAX;
	if (o->max_file && o->max_file < (uint64_t)VFS_FILE_SIZE_MAX)
		st->max_file_size = (int64_t)o->max_file;
	st->holder = sqlfs_holder_self();
	if (!st->path) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = sqlfs_open_db(st, o, err, errlen);
	if (rc < 0)
		goto fail;
	st->scratch = malloc(st->bsize);
	if (!st->scratch) {
		rc = -ENOMEM;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	sqlfs_free(st);
	return rc;
}

/* ---- 7. SPEC constructor and fsck ------------------------------------ */

int vfs__sqlite_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                     size_t nkv, unsigned mount_flags, char *err, size_t errlen)
{
	sqlfs_opts o = {.bsize = SQLFS_BSIZE_DEF, .busy_ms = SQLFS_BUSY_MS};
	sqlfs_store *st = NULL;
	size_t nreclaimed = 0;
	int rc;

	*out = NULL;
	if (!arg || !*arg)
		return vfs__err(err, errlen, -EINVAL,
		                "sqlite: needs a database file: "
		                "\"sqlite:DBFILE\"");
	rc = sqlfs_parse_opts(kv, nkv, &o, err, errlen);
	if (rc < 0)
		return rc;
	o.ro = (mount_flags & VFS_MOUNT_RDONLY) != 0;
	rc = sqlfs_new(&st, arg, &o, err, errlen);
	if (rc < 0)
		return rc;
	if (!st->ro) {
		sqlfs_lock(st);
		rc = (int)sqlfs_tx(st, SQLFS_WRITE, sqlfs_reclaim_tx,
		                   &nreclaimed);
		sqlfs_unlock(st);
		if (rc < 0) {
			vfs__err(err, errlen, rc,
			         "sqlite: %s: cannot reclaim orphaned inodes: "
			         "%s",
			         arg, vfs_strerror(rc));
			goto fail;
		}
	}
	rc = vfs_store_new(out, &sqlfs_ops, st, mount_flags);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	sqlfs_free(st);
	return rc;
}

void vfs__sqlite_fail_after(void *state, long n, int rc)
{
	sqlfs_store *st = state;

	sqlfs_lock(st);
	st->fail_after = n;
	st->fail_rc = rc;
	st->fail_fired = false;
	sqlfs_unlock(st);
}

int vfs__sqlite_fault_fired(void *state)
{
	sqlfs_store *st = state;
	int fired;

	sqlfs_lock(st);
	fired = st->fail_fired;
	sqlfs_unlock(st);
	return fired;
}

uint32_t vfs__sqlite_block_size(void *state)
{
	return ((sqlfs_store *)state)->bsize;
}

/* fsck: a report buffer and a problem count. */
typedef struct sqlfs_fsck {
	sqlfs_store *st;
	char *report;
	size_t len;
	unsigned problems;
	bool repair;
	int err; /* first SQLite failure (negative errno) */
} sqlfs_fsck;

static void sqlfs_note(sqlfs_fsck *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void sqlfs_note(sqlfs_fsck *f, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	f->problems++;
	if (!f->report || f->len == 0)
		return;
	l = strnlen(f->report, f->len);
	if (l + 1 >= f->len)
		return;
	va_start(ap, fmt);
	vsnprintf(f->report + l, f->len - l, fmt, ap);
	va_end(ap);
	l = strnlen(f->report, f->len);
	if (l + 1 < f->len) {
		f->report[l] = '\n';
		f->report[l + 1] = '\0';
	}
}

/* Run a query whose rows are problems; fix each with `fix` (bound to the
 * row's first two columns) when repairing. */
static void sqlfs_fsck_query(sqlfs_fsck *f, const char *what, const char *q,
                             const char *fix)
{
	sqlite3_stmt *s = NULL, *x = NULL;
	int rc = sqlite3_prepare_v2(f->st->db, q, -1, &s, NULL);

	if (rc == SQLITE_OK && fix && f->repair)
		rc = sqlite3_prepare_v2(f->st->db, fix, -1, &x, NULL);
	if (rc != SQLITE_OK) {
		if (!f->err)
			f->err = sqlfs_errno(NULL, rc);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char row[200];
		int l = 0;
		row[0] = '\0';
		for (int c = 0; c < sqlite3_column_count(s) && l < 150; c++) {
			const unsigned char *t;
			if (sqlite3_column_type(s, c) == SQLITE_BLOB) {
				l += snprintf(row + l, sizeof(row) - (size_t)l,
				              "%s<blob %d>", c ? " " : "",
				              sqlite3_column_bytes(s, c));
				continue;
			}
			t = sqlite3_column_text(s, c);
			l += snprintf(row + l, sizeof(row) - (size_t)l,
			              "%s%.40s", c ? " " : "",
			              t ? (const char *)t : "NULL");
		}
		sqlfs_note(f, "%s: %s%s", what, row, x ? " (repaired)" : "");
		if (x) {
			sqlite3_reset(x);
			sqlite3_bind_value(x, 1, sqlite3_column_value(s, 0));
			if (sqlite3_bind_parameter_count(x) >= 2)
				sqlite3_bind_value(x, 2,
				                   sqlite3_column_value(s, 1));
			rc = sqlite3_step(x);
			if (rc != SQLITE_DONE && !f->err)
				f->err = sqlfs_errno(NULL, rc);
		}
	}
	if (rc != SQLITE_DONE && !f->err)
		f->err = sqlfs_errno(NULL, rc);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(x);
}

int vfs_sqlite_fsck(const char *dbfile, unsigned flags, char *report,
                    size_t len)
{
	sqlfs_opts o = {.bsize = SQLFS_BSIZE_DEF,
	                .busy_ms = SQLFS_BUSY_MS,
	                .fsck = true};
	sqlfs_fsck f = {.report = report, .len = len};
	sqlfs_store *st = NULL;
	char bs[32], msg[512] = "";
	int rc;

	if (report && len)
		report[0] = '\0';
	if (!dbfile || (flags & ~VFS_FSCK_REPAIR))
		return -EINVAL;
	f.repair = (flags & VFS_FSCK_REPAIR) != 0;
	rc = sqlfs_new(&st, dbfile, &o, msg, sizeof(msg));
	if (rc < 0) {
		if (report && len)
			snprintf(report, len, "%s\n", msg);
		return rc;
	}
	f.st = st;
	rc = sqlfs_check_integrity(st, true, NULL, 0, report, len, &f.problems);
	if (rc < 0) {
		if (f.problems == 0)
			sqlfs_note(&f, "integrity: the check itself failed");
		rc = -EIO;
		goto out;
	}
	rc = sqlfs_exec(st, f.repair ? "BEGIN IMMEDIATE" : "BEGIN");
	if (rc < 0)
		goto out;
	snprintf(bs, sizeof(bs), "%u", st->bsize);

	/* Rows that are not what the store writes. */
	sqlfs_fsck_query(
	        &f, "bad inode row",
	        "SELECT ino FROM inodes WHERE typeof(mode) != 'integer' OR "
	        "typeof(nlink) != 'integer' OR typeof(size) != 'integer' OR "
	        "typeof(alloc) != 'integer' OR typeof(parent) != 'integer' OR "
	        "mode & 61440 NOT IN (32768, 16384, 40960, 4096, 49152, 8192, "
	        "24576) OR nlink < 0 OR size < 0 OR alloc < 0 OR atime_ns NOT "
	        "BETWEEN 0 AND 999999999 OR mtime_ns NOT BETWEEN 0 AND "
	        "999999999 OR ctime_ns NOT BETWEEN 0 AND 999999999 OR "
	        "(mode & 61440 = 40960 AND (typeof(target) != 'blob' OR "
	        "length(target) != size OR size < 1 OR size > 4095 OR "
	        "instr(target, x'00') > 0))",
	        NULL);
	sqlfs_fsck_query(&f, "root is not a directory",
	                 "SELECT ino FROM inodes WHERE ino = 1 AND mode & "
	                 "61440 != 16384 UNION ALL SELECT 1 WHERE NOT EXISTS "
	                 "(SELECT 1 FROM inodes WHERE ino = 1)",
	                 NULL);
	sqlfs_fsck_query(&f, "bad name",
	                 "SELECT parent, name FROM dentries WHERE "
	                 "typeof(name) != 'blob' OR length(name) NOT BETWEEN "
	                 "1 AND 255 OR instr(name, x'2f') > 0 OR instr(name, "
	                 "x'00') > 0 OR name IN (x'2e', x'2e2e')",
	                 NULL);
	/* Directory entries naming nothing, or in something not a dir. */
	sqlfs_fsck_query(
	        &f, "dangling entry",
	        "SELECT parent, name FROM dentries d WHERE NOT EXISTS (SELECT "
	        "1 FROM inodes i WHERE i.ino = d.ino AND i.nlink > 0) OR NOT "
	        "EXISTS (SELECT 1 FROM inodes p WHERE p.ino = d.parent AND "
	        "p.mode & 61440 = 16384 AND p.nlink > 0)",
	        "DELETE FROM dentries WHERE parent = ?1 AND name = ?2");
	/* Link counts against entries. */
	sqlfs_fsck_query(
	        &f, "link count (ino nlink entries)",
	        "SELECT i.ino, i.nlink, coalesce(r.n, 0) FROM inodes i LEFT "
	        "JOIN (SELECT ino, count(*) n FROM dentries GROUP BY ino) r ON "
	        "r.ino = i.ino WHERE i.nlink > 0 AND i.mode & 61440 != 16384 "
	        "AND i.nlink != coalesce(r.n, 0)",
	        "UPDATE inodes SET nlink = ?2 * 0 + (SELECT count(*) FROM "
	        "dentries WHERE ino = ?1) WHERE ino = ?1");
	sqlfs_fsck_query(
	        &f, "directory link count (ino nlink subdirs)",
	        "SELECT i.ino, i.nlink, 2 + coalesce(s.n, 0) FROM inodes i "
	        "LEFT "
	        "JOIN (SELECT d.parent p, count(*) n FROM dentries d JOIN "
	        "inodes c ON c.ino = d.ino WHERE c.mode & 61440 = 16384 GROUP "
	        "BY d.parent) s ON s.p = i.ino WHERE i.nlink > 0 AND i.mode & "
	        "61440 = 16384 AND i.nlink != 2 + coalesce(s.n, 0)",
	        "UPDATE inodes SET nlink = ?2 * 0 + 2 + (SELECT count(*) FROM "
	        "dentries d JOIN inodes c ON c.ino = d.ino WHERE d.parent = ?1 "
	        "AND c.mode & 61440 = 16384) WHERE ino = ?1");
	sqlfs_fsck_query(
	        &f, "directory names (ino entries)",
	        "SELECT i.ino, coalesce(r.n, 0) FROM inodes i LEFT JOIN "
	        "(SELECT ino, count(*) n FROM dentries GROUP BY ino) r ON "
	        "r.ino "
	        "= i.ino WHERE i.nlink > 0 AND i.mode & 61440 = 16384 AND "
	        "coalesce(r.n, 0) != (i.ino != 1)",
	        NULL);
	sqlfs_fsck_query(
	        &f, "directory parent (ino parent)",
	        "SELECT i.ino, d.parent FROM inodes i JOIN dentries d ON d.ino "
	        "= i.ino WHERE i.mode & 61440 = 16384 AND i.parent != d.parent",
	        "UPDATE inodes SET parent = ?2 WHERE ino = ?1");
	sqlfs_fsck_query(&f, "directory size (ino entries)",
	                 "SELECT i.ino, coalesce(r.n, 0) FROM inodes i LEFT "
	                 "JOIN (SELECT "
	                 "parent, count(*) n FROM dentries GROUP BY parent) r "
	                 "ON r.parent "
	                 "= i.ino WHERE i.mode & 61440 = 16384 AND i.size != "
	                 "coalesce(r.n, "
	                 "0)",
	                 "UPDATE inodes SET size = ?2 WHERE ino = ?1");
	/* Orphans: linked nowhere; a live holder still uses its own. */
	{
		sqlite3_stmt *s = NULL;
		int r = sqlite3_prepare_v2(
		        st->db,
		        "SELECT ino, holder FROM inodes WHERE nlink = 0", -1,
		        &s, NULL);
		while (r == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
			int64_t ino = sqlite3_column_int64(s, 0);
			int64_t h = sqlite3_column_int64(s, 1);
			if (sqlfs_holder_alive((uint64_t)h))
				continue;
			sqlfs_note(&f, "orphaned inode: %lld%s", (long long)ino,
			           f.repair ? " (reclaimed)" : "");
			if (f.repair) {
				st->fail_after = 0;
				r = sqlfs_purge(st, (uint64_t)ino) < 0
				            ? SQLITE_ERROR
				            : SQLITE_OK;
			}
		}
		sqlite3_finalize(s);
	}
	/* Blocks: of a regular file, inside its size, at most a block. */
	{
		char q[512], fix[256];
		snprintf(q, sizeof(q),
		         "SELECT b.ino, b.blockno FROM blocks b LEFT JOIN "
		         "inodes "
		         "i ON i.ino = b.ino WHERE i.ino IS NULL OR i.mode & "
		         "61440 != 32768 OR typeof(b.data) != 'blob' OR "
		         "length(b.data) NOT BETWEEN 1 AND %s OR b.blockno < 0 "
		         "OR b.blockno * %s + length(b.data) > i.size",
		         bs, bs);
		snprintf(fix, sizeof(fix),
		         "DELETE FROM blocks WHERE ino = ?1 AND blockno = ?2");
		sqlfs_fsck_query(&f, "block outside its file (ino blockno)", q,
		                 fix);
	}
	sqlfs_fsck_query(
	        &f, "allocated bytes (ino alloc blocks)",
	        "SELECT i.ino, i.alloc, coalesce(b.n, 0) FROM inodes i LEFT "
	        "JOIN (SELECT ino, sum(length(data)) n FROM blocks GROUP BY "
	        "ino) b ON b.ino = i.ino WHERE i.alloc != coalesce(b.n, 0)",
	        "UPDATE inodes SET alloc = ?2 * 0 + coalesce((SELECT "
	        "sum(length(data)) FROM blocks WHERE ino = ?1), 0) WHERE ino "
	        "= ?1");
	sqlfs_fsck_query(&f, "xattr of no inode (ino name)",
	                 "SELECT ino, name FROM xattrs x WHERE NOT EXISTS "
	                 "(SELECT 1 FROM inodes i WHERE i.ino = x.ino)",
	                 "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2");
	if (f.err) {
		sqlfs_exec(st, "ROLLBACK");
		rc = f.err;
		goto out;
	}
	rc = sqlfs_exec(st, "COMMIT");
	if (rc < 0) {
		sqlfs_exec(st, "ROLLBACK");
		goto out;
	}
	rc = (int)(f.problems > INT_MAX ? INT_MAX : f.problems);
out:
	sqlfs_free(st);
	return rc;
}
