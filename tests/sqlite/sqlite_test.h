/*
 * Helpers shared by the SQLite store's tests: temporary directories,
 * mounting a database at "/", whole-file I/O, raw SQL on a database file,
 * and a snapshot of a whole tree for before/after comparisons.
 */
#ifndef VFS_TEST_SQLITE_H
#define VFS_TEST_SQLITE_H

#include "vfs/vfs_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh host directory for databases (removed by st_rmdir_all). */
void st_tmpdir(char *out, size_t len, const char *tag);
void st_rm_rf(const char *dir);

/* vfs_new() + mount "sqlite:DB[,opts]" at "/"; returns the error. */
int st_mount(vfs **out, const char *db, const char *opts, char *err,
             size_t errlen);
/* The same, failing the test on error. */
vfs *st_mount_ok(const char *db, const char *opts);

/* Write a whole file (create/truncate) and read one back. */
void st_put(vfs *v, const char *path, const void *data, size_t len);
/* Read up to cap bytes; returns the count or a negative errno. */
int64_t st_get(vfs *v, const char *path, void *buf, size_t cap);

/* Run SQL on a database file with a plain connection (no hardening). */
int st_sql(const char *db, const char *sql);
/* One integer from SQL on a database file (-1 on error). */
int64_t st_sql_int(const char *db, const char *sql);

/* A tree snapshot: one line per entry, sorted. */
typedef struct st_snap {
	char *text;
	size_t len;
} st_snap;
int st_snap_take(vfs *v, st_snap *out);
void st_snap_free(st_snap *s);
/* The first differing line, or NULL when equal. */
bool st_snap_equal(const st_snap *a, const st_snap *b, char *diff, size_t len);

#endif
