/*
 * tests/diff/run.c: running a sequence on two targets, comparing, shrinking
 * a diverging sequence and printing it as a conformance test case.
 *
 * What is compared, for every operation: the return value or errno (a
 * successful open compares as 0, descriptors being per target), bytes
 * read, readlink text, sorted directory listings, and for stat calls the
 * fields POSIX defines: type and mode bits, nlink, owner, size (regular
 * files and symlinks only: a directory's size is the filesystem's own),
 * mtime when either side holds an explicitly set time, and atime when both
 * do (atime updates on read follow mount options, not POSIX). Explicit
 * times are recognised by their year: the generator only sets times in
 * 2001-2002. st_ino, st_dev, st_blocks and ctime are never compared.
 *
 * The tree walk lists every entry below the root with those fields, the
 * symlink text, and a hash of file data: the whole file up to 2 MiB,
 * otherwise windows at the start, the end and around every offset the
 * generator uses (a sparse file of 2^40 bytes is not read in full).
 *
 * Shrinking is delta debugging: remove chunks of halving size, then single
 * operations, keeping a removal when the shorter sequence still diverges
 * on the same kind of operation (or still in the tree walk).
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_SLOT     DIFF_SLOTS
#define WALK_MAXDEPTH 24
#define EXPLICIT_SEC  1500000000

static bool is_explicit(const struct timespec *ts)
{
	return ts->tv_sec < EXPLICIT_SEC;
}

static const char *err_name(int64_t rc)
{
	static char buf[4][32];
	static unsigned next;
	char *b = buf[next++ % 4];

	if (rc >= 0) {
		snprintf(b, sizeof buf[0], "%" PRId64, rc);
		return b;
	}
	switch (-rc) {
#define E(x)                                                                   \
	case x:                                                                \
		return "-" #x;
		E(EPERM)
		E(ENOENT)
		E(EIO)
		E(EBADF)
		E(ENOMEM)
		E(EACCES)
		E(EBUSY)
		E(EEXIST)
		E(EXDEV)
		E(ENOTDIR)
		E(EISDIR)
		E(EINVAL)
		E(ENFILE)
		E(EMFILE)
		E(EFBIG)
		E(ENOSPC)
		E(ESPIPE)
		E(EROFS)
		E(EMLINK)
		E(ERANGE)
		E(ENAMETOOLONG)
		E(ENOSYS)
		E(ENOTEMPTY)
		E(ELOOP)
		E(ENXIO)
		E(EOVERFLOW)
		E(EOPNOTSUPP)
#undef E
	default:
		snprintf(b, sizeof buf[0], "-%" PRId64, -rc);
		return b;
	}
}

/* Compare two results of op; describe the first difference in what. */
static bool res_equal(const diff_res *a, const diff_res *b, char *what,
                      size_t size)
{
	if (a->rc != b->rc) {
		snprintf(what, size, "result: oracle %s, test %s",
		         err_name(a->rc), err_name(b->rc));
		return false;
	}
	if (a->has_attr != b->has_attr) {
		snprintf(what, size, "attributes present on one side only");
		return false;
	}
	if (a->has_attr) {
		const diff_attr *x = &a->attr, *y = &b->attr;
		uint32_t type = x->mode & S_IFMT;

		if (x->mode != y->mode) {
			snprintf(what, size, "mode: oracle 0%o, test 0%o",
			         x->mode, y->mode);
			return false;
		}
		if (x->nlink != y->nlink) {
			snprintf(what, size, "nlink: oracle %u, test %u",
			         x->nlink, y->nlink);
			return false;
		}
		if (x->uid != y->uid || x->gid != y->gid) {
			snprintf(what, size, "owner: oracle %u:%u, test %u:%u",
			         x->uid, x->gid, y->uid, y->gid);
			return false;
		}
		if ((type == S_IFREG || type == S_IFLNK) &&
		    x->size != y->size) {
			snprintf(what, size,
			         "size: oracle %" PRId64 ", test %" PRId64,
			         x->size, y->size);
			return false;
		}
		if ((is_explicit(&x->mtime) || is_explicit(&y->mtime)) &&
		    (x->mtime.tv_sec != y->mtime.tv_sec ||
		     x->mtime.tv_nsec != y->mtime.tv_nsec)) {
			snprintf(what, size,
			         "mtime: oracle %lld.%09ld, test %lld.%09ld",
			         (long long)x->mtime.tv_sec, x->mtime.tv_nsec,
			         (long long)y->mtime.tv_sec, y->mtime.tv_nsec);
			return false;
		}
		if (is_explicit(&x->atime) && is_explicit(&y->atime) &&
		    (x->atime.tv_sec != y->atime.tv_sec ||
		     x->atime.tv_nsec != y->atime.tv_nsec)) {
			snprintf(what, size,
			         "atime: oracle %lld.%09ld, test %lld.%09ld",
			         (long long)x->atime.tv_sec, x->atime.tv_nsec,
			         (long long)y->atime.tv_sec, y->atime.tv_nsec);
			return false;
		}
	}
	if (a->ndata != b->ndata ||
	    (a->ndata > 0 && memcmp(a->data, b->data, a->ndata) != 0)) {
		uint32_t i = 0;

		while (i < a->ndata && i < b->ndata && a->data[i] == b->data[i])
			i++;
		snprintf(what, size,
		         "data: %u vs %u bytes, first difference at byte %u "
		         "(oracle %02x, test %02x)",
		         a->ndata, b->ndata, i, i < a->ndata ? a->data[i] : 0u,
		         i < b->ndata ? b->data[i] : 0u);
		return false;
	}
	if (a->ntext != b->ntext ||
	    (a->ntext > 0 && memcmp(a->text, b->text, a->ntext) != 0)) {
		snprintf(what, size, "text: oracle \"%.*s\", test \"%.*s\"",
		         (int)(a->ntext > 300 ? 300 : a->ntext), a->text,
		         (int)(b->ntext > 300 ? 300 : b->ntext), b->text);
		for (char *c = what; *c != '\0'; c++)
			if (*c == '\n')
				*c = ' ';
		return false;
	}
	return true;
}

/* ---- the tree walk ------------------------------------------------------ */

typedef struct walk_buf {
	char *s;
	size_t len, cap;
} walk_buf;

static void wb_printf(walk_buf *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#include <stdarg.h>

static void wb_printf(walk_buf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(w->s + w->len, w->cap - w->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < w->cap - w->len) {
			w->len += (size_t)n;
			return;
		}
		w->cap = w->cap * 2 + (size_t)n + 64;
		w->s = realloc(w->s, w->cap);
		if (w->s == NULL)
			abort();
	}
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* Hash [from, to) of the file open in the walk slot. */
static uint64_t walk_hash_range(diff_target *t, uint64_t h, int64_t from,
                                int64_t to)
{
	diff_op op;
	diff_res res;

	memset(&op, 0, sizeof op);
	op.code = OP_PREAD;
	op.slot = WALK_SLOT;
	while (from < to) {
		op.off = from;
		op.len = (uint32_t)(to - from > DIFF_IO_MAX ? DIFF_IO_MAX
		                                            : to - from);
		t->exec(t, &op, &res);
		h = fnv(h, &from, sizeof from);
		if (res.rc <= 0) {
			h = fnv(h, &res.rc, sizeof res.rc);
			break;
		}
		h = fnv(h, res.data, res.ndata);
		from += res.rc;
	}
	return h;
}

static uint64_t walk_hash_file(diff_target *t, const char *path, int64_t size)
{
	diff_op op;
	diff_res res;
	uint64_t h = 0xcbf29ce484222325u;
	const int64_t win = 80 * 1024;

	memset(&op, 0, sizeof op);
	op.code = OP_OPEN;
	op.slot = WALK_SLOT;
	op.flags = O_RDONLY | O_NOFOLLOW;
	snprintf(op.path, sizeof op.path, "%s", path);
	t->exec(t, &op, &res);
	if (res.rc < 0)
		return (uint64_t)res.rc;
	if (size <= 2 * 1024 * 1024) {
		h = walk_hash_range(t, h, 0, size);
	} else {
		h = walk_hash_range(t, h, 0, 256 * 1024);
		for (size_t i = 0; i < diff_noffsets; i++) {
			int64_t a = diff_offsets[i];

			if (a > 256 * 1024 && a < size)
				h = walk_hash_range(t, h, a - 16,
				                    a + win < size ? a + win
				                                   : size);
		}
		h = walk_hash_range(t, h, size - win, size);
	}
	op.code = OP_CLOSE;
	t->exec(t, &op, &res);
	return h;
}

static void walk_dir(diff_target *t, const char *dir, unsigned depth,
                     walk_buf *w)
{
	diff_op op;
	diff_res res;
	char *names;
	size_t n;

	memset(&op, 0, sizeof op);
	op.code = OP_READDIR;
	snprintf(op.path, sizeof op.path, "%s", dir);
	t->exec(t, &op, &res);
	if (res.rc < 0) {
		wb_printf(w, "%s: readdir %s\n", dir, err_name(res.rc));
		return;
	}
	names = malloc(res.ntext + 1);
	if (names == NULL)
		abort();
	memcpy(names, res.text, res.ntext);
	names[res.ntext] = '\0';
	n = res.ntext;
	for (char *name = names; name < names + n;) {
		char *nl = strchr(name, '\n');
		char path[DIFF_PATH];
		diff_attr a;

		*nl = '\0';
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			name = nl + 1;
			continue;
		}
		/* Relative paths: they start at the root on every target,
		 * and never leave it on the plain one. */
		if ((size_t)snprintf(path, sizeof path, "%s%s%s",
		                     strcmp(dir, ".") == 0 ? "" : dir,
		                     strcmp(dir, ".") == 0 ? "" : "/",
		                     name) >= sizeof path) {
			wb_printf(w, "%s/%s: too deep to walk\n", dir, name);
			name = nl + 1;
			continue;
		}
		memset(&op, 0, sizeof op);
		op.code = OP_LSTAT;
		snprintf(op.path, sizeof op.path, "%s", path);
		t->exec(t, &op, &res);
		if (res.rc < 0) {
			wb_printf(w, "%s: lstat %s\n", path, err_name(res.rc));
			name = nl + 1;
			continue;
		}
		a = res.attr;
		wb_printf(w, "%s mode 0%o nlink %u owner %u:%u", path, a.mode,
		          a.nlink, a.uid, a.gid);
		if (is_explicit(&a.mtime))
			wb_printf(w, " mtime %lld.%09ld",
			          (long long)a.mtime.tv_sec, a.mtime.tv_nsec);
		if (S_ISREG(a.mode)) {
			wb_printf(w, " size %" PRId64 " data %016" PRIx64,
			          a.size, walk_hash_file(t, path, a.size));
		} else if (S_ISLNK(a.mode)) {
			op.code = OP_READLINK;
			t->exec(t, &op, &res);
			wb_printf(w, " size %" PRId64 " -> \"%.*s\" (%s)",
			          a.size, (int)res.ntext,
			          res.text != NULL ? res.text : "",
			          err_name(res.rc));
		}
		wb_printf(w, "\n");
		if (S_ISDIR(a.mode) && depth < WALK_MAXDEPTH)
			walk_dir(t, path, depth + 1, w);
		name = nl + 1;
	}
	free(names);
}

static char *walk(diff_target *t)
{
	walk_buf w = {NULL, 0, 0};
	diff_op op;
	diff_res res;

	w.cap = 4096;
	w.s = malloc(w.cap);
	if (w.s == NULL)
		abort();
	w.s[0] = '\0';
	memset(&op, 0, sizeof op);
	op.code = OP_LSTAT;
	snprintf(op.path, sizeof op.path, ".");
	t->exec(t, &op, &res);
	wb_printf(&w, ". mode 0%o nlink %u (%s)\n", res.attr.mode,
	          res.attr.nlink, err_name(res.rc));
	walk_dir(t, ".", 0, &w);
	return w.s;
}

/* Compare both trees; on a difference describe the first differing line. */
static bool tree_equal(diff_target *a, diff_target *b, char *what, size_t size)
{
	char *x = walk(a), *y = walk(b);
	bool same = strcmp(x, y) == 0;

	if (!same) {
		char *p = x, *q = y;

		/* Skip the lines both share. */
		for (;;) {
			char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');

			if (pe == NULL || qe == NULL || pe - p != qe - q ||
			    memcmp(p, q, (size_t)(pe - p)) != 0)
				break;
			p = pe + 1;
			q = qe + 1;
		}
		snprintf(what, size, "tree: oracle \"%.*s\", test \"%.*s\"",
		         (int)strcspn(p, "\n"), p, (int)strcspn(q, "\n"), q);
	}
	free(x);
	free(y);
	return same;
}

FILE *diff_trace;

void diff_run(diff_target *oracle, diff_target *test, const diff_op *ops,
              size_t n, size_t tree_every, diff_report *rep)
{
	diff_res ra, rb;
	int rc;

	memset(rep, 0, sizeof *rep);
	if ((rc = oracle->reset(oracle)) < 0 || (rc = test->reset(test)) < 0) {
		rep->diverged = true;
		rep->tree = true;
		snprintf(rep->what, sizeof rep->what, "reset failed: %s",
		         err_name(rc));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (diff_known_skip(oracle, &ops[i]))
			continue;
		oracle->exec(oracle, &ops[i], &ra);
		test->exec(test, &ops[i], &rb);
		if (ra.rc != rb.rc && diff_known_pair(&ops[i], ra.rc, rb.rc))
			continue;
		if (diff_trace != NULL) {
			fprintf(diff_trace, "%4zu ", i);
			diff_print_op(diff_trace, &ops[i]);
			fprintf(diff_trace, " = %s / %s\n", err_name(ra.rc),
			        err_name(rb.rc));
		}
		if (!res_equal(&ra, &rb, rep->what, sizeof rep->what)) {
			rep->diverged = true;
			rep->at = i;
			rep->code = ops[i].code;
			break;
		}
		if ((tree_every > 0 && (i + 1) % tree_every == 0) ||
		    i + 1 == n) {
			if (!tree_equal(oracle, test, rep->what,
			                sizeof rep->what)) {
				rep->diverged = true;
				rep->tree = true;
				rep->at = i + 1;
				break;
			}
		}
	}
	if (n == 0 && !tree_equal(oracle, test, rep->what, sizeof rep->what)) {
		rep->diverged = true;
		rep->tree = true;
	}
	oracle->finish(oracle);
	test->finish(test);
}

static bool same_failure(const diff_report *a, const diff_report *b)
{
	if (!b->diverged || a->tree != b->tree)
		return false;
	if (a->tree)
		return true;
	/* The same operation kind, failing in the same way. */
	return a->code == b->code &&
	       strncmp(a->what, b->what, strcspn(a->what, ":")) == 0;
}

size_t diff_shrink(diff_target *oracle, diff_target *test, diff_op *ops,
                   size_t n, size_t tree_every, diff_report *rep)
{
	diff_op *trial = malloc((n + 1) * sizeof *trial);
	diff_report r;

	if (trial == NULL)
		return n;
	/* Everything after the divergence is noise. */
	n = rep->tree ? rep->at : rep->at + 1;
	for (size_t chunk = n / 2 > 0 ? n / 2 : 1;; chunk /= 2) {
		for (size_t i = 0; i < n;) {
			size_t cut = chunk < n - i ? chunk : n - i, m = 0;

			memcpy(trial, ops, i * sizeof *ops);
			memcpy(trial + i, ops + i + cut,
			       (n - i - cut) * sizeof *ops);
			m = n - cut;
			diff_run(oracle, test, trial, m, tree_every, &r);
			if (same_failure(rep, &r)) {
				size_t keep = r.tree ? r.at : r.at + 1;

				memcpy(ops, trial, keep * sizeof *ops);
				n = keep;
				*rep = r;
			} else {
				i += cut;
			}
		}
		if (chunk <= 1)
			break;
	}
	free(trial);
	return n;
}

/* ---- printing ----------------------------------------------------------- */

static void print_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 32 || c > 126)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_oflags(FILE *f, int flags)
{
	static const struct {
		int bit;
		const char *name;
	} bits[] = {{O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},
	            {O_TRUNC, "O_TRUNC"},         {O_APPEND, "O_APPEND"},
	            {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}};
	int acc = flags & O_ACCMODE;

	fputs(acc == O_RDONLY   ? "O_RDONLY"
	      : acc == O_WRONLY ? "O_WRONLY"
	                        : "O_RDWR",
	      f);
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (flags & bits[i].bit)
			fprintf(f, " | %s", bits[i].name);
}

static void print_time(FILE *f, const struct timespec *ts)
{
	if (ts->tv_nsec == UTIME_NOW)
		fputs("{0, VFS_UTIME_NOW}", f);
	else if (ts->tv_nsec == UTIME_OMIT)
		fputs("{0, VFS_UTIME_OMIT}", f);
	else
		fprintf(f, "{%lld, %ld}", (long long)ts->tv_sec, ts->tv_nsec);
}

void diff_print_op(FILE *f, const diff_op *op)
{
	fprintf(f, "%s", diff_code_name(op->code));
	switch (op->code) {
	case OP_OPEN:
		fprintf(f, " [%d] \"%s\" ", op->slot, op->path);
		print_oflags(f, op->flags);
		fprintf(f, " 0%o", op->mode);
		break;
	case OP_CLOSE:
	case OP_FSTAT:
	case OP_FSYNC:
	case OP_FREADDIR:
		fprintf(f, " [%d]", op->slot);
		break;
	case OP_READ:
	case OP_WRITE:
		fprintf(f, " [%d] len %u", op->slot, op->len);
		break;
	case OP_PREAD:
	case OP_PWRITE:
		fprintf(f, " [%d] len %u off %" PRId64, op->slot, op->len,
		        op->off);
		break;
	case OP_LSEEK:
		fprintf(f, " [%d] %" PRId64 " whence %d", op->slot, op->off,
		        op->flags);
		break;
	case OP_FTRUNCATE:
		fprintf(f, " [%d] %" PRId64, op->slot, op->off);
		break;
	case OP_TRUNCATE:
		fprintf(f, " \"%s\" %" PRId64, op->path, op->off);
		break;
	case OP_FCHMOD:
		fprintf(f, " [%d] 0%o", op->slot, op->mode);
		break;
	case OP_MKDIR:
	case OP_CHMOD:
		fprintf(f, " \"%s\" 0%o", op->path, op->mode);
		break;
	case OP_RENAME:
	case OP_LINK:
	case OP_SYMLINK:
		fprintf(f, " \"%s\" \"%s\"", op->path, op->path2);
		if (op->code == OP_RENAME)
			fprintf(f, " flags %d", op->flags);
		break;
	case OP_UTIMENS:
	case OP_FUTIMENS:
		if (op->code == OP_UTIMENS)
			fprintf(f, " \"%s\" flags %#x ", op->path, op->flags);
		else
			fprintf(f, " [%d] ", op->slot);
		if (op->times_null) {
			fputs("NULL", f);
		} else {
			print_time(f, &op->times[0]);
			print_time(f, &op->times[1]);
		}
		break;
	default:
		fprintf(f, " \"%s\"", op->path);
		if (op->code == OP_READLINK && op->len > 0)
			fprintf(f, " size %u", op->len);
		break;
	}
}

static void print_attr_checks(FILE *f, const diff_res *r)
{
	uint32_t type = r->attr.mode & S_IFMT;

	fprintf(f, "\tassert_int_equal(st.mode, 0%o);\n", r->attr.mode);
	fprintf(f, "\tassert_int_equal(st.nlink, %u);\n", r->attr.nlink);
	if (type == S_IFREG || type == S_IFLNK)
		fprintf(f, "\tassert_int_equal(st.size, %" PRId64 ");\n",
		        r->attr.size);
	if (is_explicit(&r->attr.mtime))
		fprintf(f,
		        "\tassert_int_equal(st.mtime.tv_sec, %lld);\n"
		        "\tassert_int_equal(st.mtime.tv_nsec, %ld);\n",
		        (long long)r->attr.mtime.tv_sec, r->attr.mtime.tv_nsec);
}

static void print_data_check(FILE *f, const diff_res *r)
{
	if (r->ndata == 0)
		return;
	fprintf(f,
	        "\tassert_int_equal(diff_hash(buf, %u), 0x%016" PRIx64 "u);\n",
	        r->ndata, fnv(0xcbf29ce484222325u, r->data, r->ndata));
}

static const char case_helpers[] =
        "/* Helpers for the cases vfsdiff prints (tests/diff/gen.c and\n"
        " * run.c hold the originals). */\n"
        "static inline void diff_fill(unsigned char *buf, size_t len,\n"
        "                             uint32_t fill)\n"
        "{\n"
        "\tuint32_t x = fill * 2654435761u + 1;\n"
        "\n"
        "\tfor (size_t i = 0; i < len; i++) {\n"
        "\t\tx ^= x << 13;\n"
        "\t\tx ^= x >> 17;\n"
        "\t\tx ^= x << 5;\n"
        "\t\tbuf[i] = (unsigned char)x;\n"
        "\t}\n"
        "}\n"
        "\n"
        "static inline uint64_t diff_hash(const unsigned char *p, size_t n)\n"
        "{\n"
        "\tuint64_t h = 0xcbf29ce484222325u;\n"
        "\n"
        "\tfor (size_t i = 0; i < n; i++) {\n"
        "\t\th ^= p[i];\n"
        "\t\th *= 0x100000001b3u;\n"
        "\t}\n"
        "\treturn h;\n"
        "}\n"
        "\n"
        "/* Names in the directory open at fd, sorted, each ending in "
        "'\\n'. */\n"
        "static inline int diff_cmp(const void *a, const void *b)\n"
        "{\n"
        "\treturn strcmp(*(char *const *)a, *(char *const *)b);\n"
        "}\n"
        "\n"
        "static inline const char *diff_flist(vfs *v, int fd)\n"
        "{\n"
        "\tstatic vfs_dirent e[64];\n"
        "\tstatic char out[4096];\n"
        "\tchar *names[64];\n"
        "\tsize_t n = 0;\n"
        "\n"
        "\tout[0] = '\\0';\n"
        "\tassert_int_equal(vfs_dir_seek(v, fd, 0), 0);\n"
        "\twhile (n < 64 && vfs_readdir(v, fd, &e[n]) == 1) {\n"
        "\t\tnames[n] = e[n].name;\n"
        "\t\tn++;\n"
        "\t}\n"
        "\tassert_int_equal(vfs_dir_seek(v, fd, 0), 0);\n"
        "\tqsort(names, n, sizeof names[0], diff_cmp);\n"
        "\tfor (size_t i = 0; i < n; i++) {\n"
        "\t\tstrcat(out, names[i]);\n"
        "\t\tstrcat(out, \"\\n\");\n"
        "\t}\n"
        "\treturn out;\n"
        "}\n"
        "\n"
        "static inline const char *diff_list(vfs *v, const char *path)\n"
        "{\n"
        "\tint fd = vfs_opendir(v, path);\n"
        "\tconst char *out;\n"
        "\n"
        "\tassert_true(fd >= 0);\n"
        "\tout = diff_flist(v, fd);\n"
        "\tassert_int_equal(vfs_close(v, fd), 0);\n"
        "\treturn out;\n"
        "}\n";

void diff_print_case(FILE *f, diff_target *oracle, const diff_op *ops, size_t n,
                     const char *name)
{
	bool open[DIFF_SLOTS] = {false};
	diff_res r;

	static bool helpers_printed;

	if (!helpers_printed)
		fprintf(f, "%s\n", case_helpers);
	helpers_printed = true;
	fprintf(f, "static void %s(void **state)\n{\n", name);
	fprintf(f,
	        "\tvfs *v = conf_vfs(state);\n"
	        "\tint fd[%d] = {-1, -1, -1, -1, -1, -1};\n"
	        "\tstatic unsigned char buf[%u];\n"
	        "\tvfs_attr st;\n\n"
	        "\t(void)fd;\n\t(void)buf;\n\t(void)st;\n",
	        DIFF_SLOTS, DIFF_IO_MAX);
	if (oracle->reset(oracle) < 0) {
		fprintf(f, "\t/* (the oracle could not be reset) */\n}\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const diff_op *op = &ops[i];
		int s = op->slot;
		const char *fdx;
		char fdbuf[16];

		if (diff_known_skip(oracle, op))
			continue;
		oracle->exec(oracle, op, &r);
		snprintf(fdbuf, sizeof fdbuf, "fd[%d]", s);
		fdx = fdbuf;
		if (op->code != OP_OPEN && op->code != OP_FREADDIR &&
		    op->code < OP_NCODES && r.rc == -EBADF && !open[s] &&
		    (op->code == OP_CLOSE || op->code == OP_READ ||
		     op->code == OP_PREAD || op->code == OP_WRITE ||
		     op->code == OP_PWRITE || op->code == OP_LSEEK ||
		     op->code == OP_FTRUNCATE || op->code == OP_FSTAT ||
		     op->code == OP_FCHMOD || op->code == OP_FUTIMENS ||
		     op->code == OP_FSYNC))
			continue; /* an empty slot: nothing to do */
		if (op->code == OP_FREADDIR && !open[s])
			continue;
		switch (op->code) {
		case OP_OPEN:
			if (open[s])
				fprintf(f,
				        "\tassert_int_equal(vfs_close(v, %s), "
				        "0);\n",
				        fdx);
			open[s] = false;
			if (r.rc == 0) {
				fprintf(f, "\t%s = vfs_open(v, ", fdx);
				print_str(f, op->path, strlen(op->path));
				fputs(", ", f);
				print_oflags(f, op->flags);
				fprintf(f, ", 0%o);\n\tassert_true(%s >= 0);\n",
				        op->mode, fdx);
				open[s] = true;
			} else {
				fputs("\tassert_int_equal(vfs_open(v, ", f);
				print_str(f, op->path, strlen(op->path));
				fputs(", ", f);
				print_oflags(f, op->flags);
				fprintf(f, ", 0%o), %s);\n", op->mode,
				        err_name(r.rc));
			}
			break;
		case OP_CLOSE:
			fprintf(f,
			        "\tassert_int_equal(vfs_close(v, %s), %s);\n",
			        fdx, err_name(r.rc));
			open[s] = false;
			break;
		case OP_READ:
			fprintf(f,
			        "\tassert_int_equal(vfs_read(v, %s, buf, %u), "
			        "%s);\n",
			        fdx, op->len, err_name(r.rc));
			print_data_check(f, &r);
			break;
		case OP_PREAD:
			fprintf(f,
			        "\tassert_int_equal(vfs_pread(v, %s, buf, %u, "
			        "%" PRId64 "), %s);\n",
			        fdx, op->len, op->off, err_name(r.rc));
			print_data_check(f, &r);
			break;
		case OP_WRITE:
		case OP_PWRITE:
			fprintf(f, "\tdiff_fill(buf, %u, %uu);\n", op->len,
			        op->fill);
			if (op->code == OP_WRITE)
				fprintf(f,
				        "\tassert_int_equal(vfs_write(v, %s, "
				        "buf, "
				        "%u), %s);\n",
				        fdx, op->len, err_name(r.rc));
			else
				fprintf(f,
				        "\tassert_int_equal(vfs_pwrite(v, %s, "
				        "buf, "
				        "%u, %" PRId64 "), %s);\n",
				        fdx, op->len, op->off, err_name(r.rc));
			break;
		case OP_LSEEK:
			fprintf(f,
			        "\tassert_int_equal(vfs_lseek(v, %s, %" PRId64
			        ", %s), %s);\n",
			        fdx, op->off,
			        op->flags == SEEK_SET   ? "SEEK_SET"
			        : op->flags == SEEK_CUR ? "SEEK_CUR"
			                                : "SEEK_END",
			        err_name(r.rc));
			break;
		case OP_FTRUNCATE:
			fprintf(f,
			        "\tassert_int_equal(vfs_ftruncate(v, %s, "
			        "%" PRId64 "), %s);\n",
			        fdx, op->off, err_name(r.rc));
			break;
		case OP_FSYNC:
			fprintf(f,
			        "\tassert_int_equal(vfs_fsync(v, %s), %s);\n",
			        fdx, err_name(r.rc));
			break;
		case OP_FSTAT:
			fprintf(f,
			        "\tassert_int_equal(vfs_fstat(v, %s, &st), "
			        "%s);\n",
			        fdx, err_name(r.rc));
			if (r.rc == 0)
				print_attr_checks(f, &r);
			break;
		case OP_FCHMOD:
			fprintf(f,
			        "\tassert_int_equal(vfs_fchmod(v, %s, 0%o), "
			        "%s);\n",
			        fdx, op->mode, err_name(r.rc));
			break;
		case OP_STAT:
		case OP_LSTAT:
			fprintf(f, "\tassert_int_equal(vfs_%s(v, ",
			        op->code == OP_STAT ? "stat" : "lstat");
			print_str(f, op->path, strlen(op->path));
			fprintf(f, ", &st), %s);\n", err_name(r.rc));
			if (r.rc == 0)
				print_attr_checks(f, &r);
			break;
		case OP_TRUNCATE:
			fputs("\tassert_int_equal(vfs_truncate(v, ", f);
			print_str(f, op->path, strlen(op->path));
			fprintf(f, ", %" PRId64 "), %s);\n", op->off,
			        err_name(r.rc));
			break;
		case OP_CHMOD:
		case OP_MKDIR:
			fprintf(f, "\tassert_int_equal(vfs_%s(v, ",
			        op->code == OP_CHMOD ? "chmod" : "mkdir");
			print_str(f, op->path, strlen(op->path));
			fprintf(f, ", 0%o), %s);\n", op->mode, err_name(r.rc));
			break;
		case OP_RMDIR:
		case OP_UNLINK:
			fprintf(f, "\tassert_int_equal(vfs_%s(v, ",
			        op->code == OP_RMDIR ? "rmdir" : "unlink");
			print_str(f, op->path, strlen(op->path));
			fprintf(f, "), %s);\n", err_name(r.rc));
			break;
		case OP_RENAME:
		case OP_LINK:
		case OP_SYMLINK:
			fprintf(f, "\tassert_int_equal(vfs_%s(v, ",
			        op->code == OP_RENAME ? "rename"
			        : op->code == OP_LINK ? "link"
			                              : "symlink");
			if (op->code == OP_SYMLINK) {
				print_str(f, op->path2, strlen(op->path2));
				fputs(", ", f);
				print_str(f, op->path, strlen(op->path));
			} else {
				print_str(f, op->path, strlen(op->path));
				fputs(", ", f);
				print_str(f, op->path2, strlen(op->path2));
			}
			if (op->code == OP_RENAME)
				fprintf(f, ", %s",
				        op->flags == 0 ? "0"
				        : op->flags == 1
				                ? "VFS_RENAME_NOREPLACE"
				        : op->flags == 2
				                ? "VFS_RENAME_EXCHANGE"
				                : "VFS_RENAME_NOREPLACE | "
				                  "VFS_RENAME_EXCHANGE");
			fprintf(f, "), %s);\n", err_name(r.rc));
			break;
		case OP_READLINK:
			fputs("\tassert_int_equal(vfs_readlink(v, ", f);
			print_str(f, op->path, strlen(op->path));
			if (op->len > 0)
				fprintf(f, ", (char *)buf, %u), %s);\n",
				        op->len, err_name(r.rc));
			else
				fprintf(f, ", (char *)buf, sizeof buf), %s);\n",
				        err_name(r.rc));
			if (r.rc > 0) {
				fputs("\tassert_memory_equal(buf, ", f);
				print_str(f, r.text, r.ntext);
				fprintf(f, ", %u);\n", r.ntext);
			}
			break;
		case OP_UTIMENS:
		case OP_FUTIMENS:
			fputs("\t{\n\t\tconst struct timespec ts[2] = {", f);
			print_time(f, &op->times[0]);
			fputs(", ", f);
			print_time(f, &op->times[1]);
			fputs("};\n\n", f);
			if (op->code == OP_UTIMENS) {
				fputs("\t\tassert_int_equal(vfs_utimens(v, ",
				      f);
				print_str(f, op->path, strlen(op->path));
				fprintf(f, ", %s, %s), %s);\n",
				        op->times_null ? "NULL" : "ts",
				        op->flags ? "VFS_NOFOLLOW" : "0",
				        err_name(r.rc));
			} else {
				fprintf(f,
				        "\t\tassert_int_equal(vfs_futimens(v, "
				        "%s, "
				        "%s), %s);\n",
				        fdx, op->times_null ? "NULL" : "ts",
				        err_name(r.rc));
			}
			fputs("\t}\n", f);
			break;
		case OP_READDIR:
			if (r.rc < 0) {
				fputs("\tassert_int_equal(vfs_opendir(v, ", f);
				print_str(f, op->path, strlen(op->path));
				fprintf(f, "), %s);\n", err_name(r.rc));
			} else {
				fputs("\tassert_string_equal(diff_list(v, ", f);
				print_str(f, op->path, strlen(op->path));
				fputs("), ", f);
				print_str(f, r.text, r.ntext);
				fputs(");\n", f);
			}
			break;
		case OP_FREADDIR:
			if (r.rc < 0) {
				fprintf(f, "\t/* vfs_readdir on %s: %s */\n",
				        fdx, err_name(r.rc));
			} else {
				fprintf(f,
				        "\tassert_string_equal(diff_flist(v, "
				        "%s), ",
				        fdx);
				print_str(f, r.text, r.ntext);
				fputs(");\n", f);
			}
			break;
		default:
			break;
		}
	}
	for (int s = 0; s < DIFF_SLOTS; s++)
		if (open[s])
			fprintf(f,
			        "\tassert_int_equal(vfs_close(v, fd[%d]), "
			        "0);\n",
			        s);
	fputs("}\n", f);
	oracle->finish(oracle);
}
