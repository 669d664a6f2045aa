/*
 * Helpers shared by the SQLite store's tests (see sqlite_test.h).
 */
#include "sqlite_test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

void st_tmpdir(char *out, size_t len, const char *tag)
{
	const char *base = getenv("VFS_TEST_TMPDIR");
	struct stat sb;

	if (!base || !*base)
		base = stat("/dev/shm", &sb) == 0 &&
		                       access("/dev/shm", W_OK) == 0
		               ? "/dev/shm"
		               : "/tmp";
	snprintf(out, len, "%s/vfs-sqlite-%s-XXXXXX", base, tag);
	assert_non_null(mkdtemp(out));
}

static int st_rm_one(const char *path, const struct stat *sb, int flag,
                     struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void st_rm_rf(const char *dir)
{
	if (dir && *dir)
		nftw(dir, st_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int st_mount(vfs **out, const char *db, const char *opts, char *err,
             size_t errlen)
{
	char spec[2048];
	vfs *v;
	int rc = vfs_new(&v, NULL);

	if (rc < 0)
		return rc;
	snprintf(spec, sizeof(spec), "sqlite:%s%s%s", db, opts ? "," : "",
	         opts ? opts : "");
	rc = vfs_mount_spec(v, "/", spec, err, errlen);
	if (rc < 0) {
		vfs_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

vfs *st_mount_ok(const char *db, const char *opts)
{
	char err[512] = "";
	vfs *v = NULL;
	int rc = st_mount(&v, db, opts, err, sizeof(err));

	if (rc < 0)
		fail_msg("mount %s: %s (%s)", db, vfs_strerror(rc), err);
	return v;
}

void st_put(vfs *v, const char *path, const void *data, size_t len)
{
	int fd = vfs_open(v, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(vfs_write(v, fd, data, len), (int64_t)len);
	assert_int_equal(vfs_close(v, fd), 0);
}

int64_t st_get(vfs *v, const char *path, void *buf, size_t cap)
{
	int fd = vfs_open(v, path, O_RDONLY, 0);
	int64_t n = 0, total = 0;

	if (fd < 0)
		return fd;
	while ((size_t)total < cap && (n = vfs_read(v, fd, (char *)buf + total,
	                                            cap - (size_t)total)) > 0)
		total += n;
	vfs_close(v, fd);
	return n < 0 && total == 0 ? n : total;
}

int st_sql(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc = sqlite3_open(db, &h);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		print_message("sql %s: %s\n", sql,
		              msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc;
}

int64_t st_sql_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_open(db, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* ---- snapshots --------------------------------------------------------- */

typedef struct st_buf {
	char *p;
	size_t len, cap;
} st_buf;

static void st_addf(st_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->len += (size_t)n;
}

static uint64_t st_hash(const unsigned char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static int st_snap_dir(vfs *v, const char *dir, st_buf *b)
{
	vfs_dirent de;
	int fd = vfs_opendir(v, dir), rc;
	char **names = NULL;
	size_t n = 0;

	if (fd < 0)
		return fd;
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		if (!strcmp(de.name, ".") || !strcmp(de.name, ".."))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		assert_non_null(names);
		names[n++] = strdup(de.name);
	}
	vfs_close(v, fd);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[4096];
		vfs_attr a;
		snprintf(path, sizeof(path), "%s/%s",
		         strcmp(dir, "/") ? dir : "", names[i]);
		rc = vfs_lstat(v, path, &a);
		if (rc < 0)
			break;
		st_addf(b,
		        "%s mode=%o nlink=%u uid=%u size=%lld mtime=%lld.%ld",
		        path, a.mode, a.nlink, a.uid, (long long)a.size,
		        (long long)a.mtime.tv_sec, a.mtime.tv_nsec);
		if (S_ISREG(a.mode)) {
			static unsigned char buf[1 << 16];
			uint64_t h = 1469598103934665603ull;
			int64_t off = 0, got;
			int f = vfs_open(v, path, O_RDONLY, 0);
			if (f < 0) {
				rc = f;
				break;
			}
			while ((got = vfs_pread(v, f, buf, sizeof(buf), off)) >
			       0) {
				h = st_hash(buf, (size_t)got, h);
				off += got;
			}
			vfs_close(v, f);
			if (got < 0) {
				rc = (int)got;
				break;
			}
			st_addf(b, " data=%016llx", (unsigned long long)h);
		} else if (S_ISLNK(a.mode)) {
			char t[4096];
			int l = vfs_readlink(v, path, t, sizeof(t));
			if (l < 0) {
				rc = l;
				break;
			}
			st_addf(b, " -> %.*s", l, t);
		}
		st_addf(b, "\n");
		if (S_ISDIR(a.mode))
			rc = st_snap_dir(v, path, b);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc < 0 ? rc : 0;
}

static int st_line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int st_snap_take(vfs *v, st_snap *out)
{
	st_buf b = {0};
	char **lines = NULL;
	size_t n = 0;
	st_buf sorted = {0};
	int rc;

	b.cap = 1024;
	b.p = malloc(b.cap);
	assert_non_null(b.p);
	b.p[0] = '\0';
	rc = st_snap_dir(v, "/", &b);
	if (rc < 0) {
		free(b.p);
		return rc;
	}
	for (char *p = b.p, *e; *p; p = e + 1) {
		e = strchr(p, '\n');
		*e = '\0';
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		assert_non_null(lines);
		lines[n++] = p;
	}
	qsort(lines, n, sizeof(*lines), st_line_cmp);
	sorted.cap = b.len + 16;
	sorted.p = malloc(sorted.cap);
	assert_non_null(sorted.p);
	sorted.p[0] = '\0';
	for (size_t i = 0; i < n; i++)
		st_addf(&sorted, "%s\n", lines[i]);
	free(lines);
	free(b.p);
	out->text = sorted.p;
	out->len = sorted.len;
	return 0;
}

void st_snap_free(st_snap *s)
{
	free(s->text);
	s->text = NULL;
}

bool st_snap_equal(const st_snap *a, const st_snap *b, char *diff, size_t len)
{
	const char *x = a->text, *y = b->text;

	if (a->len == b->len && !memcmp(x, y, a->len))
		return true;
	while (*x && *y) {
		const char *ex = strchr(x, '\n'), *ey = strchr(y, '\n');
		if (ex - x != ey - y || memcmp(x, y, (size_t)(ex - x))) {
			snprintf(diff, len, "before: %.*s\nafter:  %.*s",
			         (int)(ex - x), x, (int)(ey - y), y);
			return false;
		}
		x = ex + 1;
		y = ey + 1;
	}
	snprintf(diff, len, "before: %.200s\nafter:  %.200s", *x ? x : "(end)",
	         *y ? y : "(end)");
	return false;
}
