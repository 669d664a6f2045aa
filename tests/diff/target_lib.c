/*
 * tests/diff/target_lib.c: a store through the library as a target.
 *
 * Each reset builds a new instance with a fresh, empty store of the kind
 * under test mounted at "/" (a disk store's directory and an SQLite
 * store's database live in a new directory below the scratch directory),
 * so that every run, and every trial while shrinking, starts from nothing.
 * A disk store gets the `suid` option: without it, it drops setuid and
 * setgid bits on purpose (backends/disk.c), where tmpfs keeps them.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vfs/vfs.h>

typedef struct lib_priv {
	char kind[32];
	char scratch[512];
	char dir[600]; /* this run's host directory, "" when none */
	unsigned runs;
	vfs *v;
	int fds[DIFF_SLOTS + 1];
	unsigned char *buf;
	char *text;
} lib_priv;

static int lib_rm_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void lib_finish(diff_target *t)
{
	lib_priv *p = t->priv;

	for (int i = 0; i <= DIFF_SLOTS; i++)
		p->fds[i] = -1;
	vfs_free(p->v); /* closes every descriptor */
	p->v = NULL;
	if (p->dir[0] != '\0') {
		nftw(p->dir, lib_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		p->dir[0] = '\0';
	}
}

static int lib_reset(diff_target *t)
{
	lib_priv *p = t->priv;
	char spec[800], err[256];
	int rc;

	lib_finish(t);
	rc = vfs_new(&p->v, NULL);
	if (rc < 0)
		return rc;
	if (strcmp(p->kind, "memory") == 0) {
		snprintf(spec, sizeof spec, "memory");
	} else {
		snprintf(p->dir, sizeof p->dir, "%s/l%u", p->scratch,
		         p->runs++);
		if (mkdir(p->dir, 0755) < 0)
			return -errno;
		if (strcmp(p->kind, "sqlite") == 0)
			snprintf(spec, sizeof spec, "sqlite:%s/db.sqlite",
			         p->dir);
		else
			snprintf(spec, sizeof spec, "%s:%s%s", p->kind, p->dir,
			         strcmp(p->kind, "disk") == 0 ? ",suid" : "");
	}
	rc = vfs_mount_spec(p->v, "/", spec, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "vfsdiff: mount %s: %s\n", spec, err);
	return rc;
}

static void lib_attr(const vfs_attr *st, diff_res *res)
{
	res->has_attr = true;
	res->attr.mode = st->mode;
	res->attr.nlink = st->nlink;
	res->attr.uid = st->uid;
	res->attr.gid = st->gid;
	res->attr.size = st->size;
	res->attr.atime = st->atime;
	res->attr.mtime = st->mtime;
}

static int lib_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the directory open at fd from its start, sorted, into res. */
static int64_t lib_list(lib_priv *p, int fd, diff_res *res)
{
	static vfs_dirent ents[512];
	char *names[512];
	size_t n = 0, at = 0;
	int rc;

	rc = vfs_dir_seek(p->v, fd, 0);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = vfs_readdir(p->v, fd, &ents[n < 511 ? n : 511]);
		if (rc <= 0)
			break;
		if (n < 511)
			n++;
	}
	if (rc < 0)
		return rc;
	/* Back to the start, as sys_list() leaves it. */
	rc = vfs_dir_seek(p->v, fd, 0);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		names[i] = ents[i].name;
	qsort(names, n, sizeof names[0], lib_cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (at + len + 1 < DIFF_TEXT_MAX) {
			memcpy(p->text + at, names[i], len);
			p->text[at + len] = '\n';
			at += len + 1;
		}
	}
	res->text = p->text;
	res->ntext = (uint32_t)at;
	return (int64_t)n;
}

static void lib_exec(diff_target *t, const diff_op *op, diff_res *res)
{
	lib_priv *p = t->priv;
	vfs *v = p->v;
	int fd = p->fds[op->slot];
	vfs_attr st;
	int64_t rc = 0;
	int f;
	const struct timespec *tp = op->times_null ? NULL : op->times;

	memset(res, 0, sizeof *res);
	switch (op->code) {
	case OP_OPEN:
		if (fd >= 0)
			vfs_close(v, fd);
		p->fds[op->slot] = -1;
		f = vfs_open(v, op->path, op->flags, op->mode);
		if (f >= 0)
			p->fds[op->slot] = f;
		rc = f < 0 ? f : 0;
		break;
	case OP_CLOSE:
	case OP_READ:
	case OP_PREAD:
	case OP_WRITE:
	case OP_PWRITE:
	case OP_LSEEK:
	case OP_FTRUNCATE:
	case OP_FSTAT:
	case OP_FCHMOD:
	case OP_FUTIMENS:
	case OP_FREADDIR:
	case OP_FSYNC:
		if (fd < 0) {
			rc = -EBADF;
			break;
		}
		switch (op->code) {
		case OP_CLOSE:
			rc = vfs_close(v, fd);
			p->fds[op->slot] = -1;
			break;
		case OP_READ:
			rc = vfs_read(v, fd, p->buf, op->len);
			break;
		case OP_PREAD:
			rc = vfs_pread(v, fd, p->buf, op->len, op->off);
			break;
		case OP_WRITE:
			diff_fill(p->buf, op->len, op->fill);
			rc = vfs_write(v, fd, p->buf, op->len);
			break;
		case OP_PWRITE:
			diff_fill(p->buf, op->len, op->fill);
			rc = vfs_pwrite(v, fd, p->buf, op->len, op->off);
			break;
		case OP_LSEEK:
			rc = vfs_lseek(v, fd, op->off, op->flags);
			break;
		case OP_FTRUNCATE:
			rc = vfs_ftruncate(v, fd, op->off);
			break;
		case OP_FSTAT:
			rc = vfs_fstat(v, fd, &st);
			if (rc == 0)
				lib_attr(&st, res);
			break;
		case OP_FCHMOD:
			rc = vfs_fchmod(v, fd, op->mode);
			break;
		case OP_FUTIMENS:
			rc = vfs_futimens(v, fd, tp);
			break;
		case OP_FREADDIR:
			rc = lib_list(p, fd, res);
			break;
		default:
			rc = vfs_fsync(v, fd);
			break;
		}
		if ((op->code == OP_READ || op->code == OP_PREAD) && rc > 0) {
			res->data = p->buf;
			res->ndata = (uint32_t)rc;
		}
		break;
	case OP_STAT:
		rc = vfs_stat(v, op->path, &st);
		if (rc == 0)
			lib_attr(&st, res);
		break;
	case OP_LSTAT:
		rc = vfs_lstat(v, op->path, &st);
		if (rc == 0)
			lib_attr(&st, res);
		break;
	case OP_TRUNCATE:
		rc = vfs_truncate(v, op->path, op->off);
		break;
	case OP_CHMOD:
		rc = vfs_chmod(v, op->path, op->mode);
		break;
	case OP_UTIMENS:
		rc = vfs_utimens(
		        v, op->path, tp,
		        (op->flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0);
		break;
	case OP_READLINK:
		rc = vfs_readlink(v, op->path, p->text,
		                  op->len > 0 ? op->len : DIFF_TEXT_MAX);
		if (rc > 0) {
			res->text = p->text;
			res->ntext = (uint32_t)rc;
		}
		break;
	case OP_READDIR:
		f = vfs_opendir(v, op->path);
		if (f < 0) {
			rc = f;
			break;
		}
		rc = lib_list(p, f, res);
		vfs_close(v, f);
		break;
	case OP_MKDIR:
		rc = vfs_mkdir(v, op->path, op->mode);
		break;
	case OP_RMDIR:
		rc = vfs_rmdir(v, op->path);
		break;
	case OP_UNLINK:
		rc = vfs_unlink(v, op->path);
		break;
	case OP_SYMLINK:
		rc = vfs_symlink(v, op->path2, op->path);
		break;
	case OP_RENAME:
		rc = vfs_rename(v, op->path, op->path2, (unsigned)op->flags);
		break;
	case OP_LINK:
		rc = vfs_link(v, op->path, op->path2);
		break;
	default:
		rc = -ENOSYS;
		break;
	}
	res->rc = rc;
}

static void lib_destroy(diff_target *t)
{
	lib_priv *p;

	if (t == NULL)
		return;
	p = t->priv;
	lib_finish(t);
	free(p->buf);
	free(p->text);
	free(p);
	free(t);
}

diff_target *diff_lib_new(const char *kind, const char *scratch)
{
	diff_target *t = calloc(1, sizeof *t);
	lib_priv *p = calloc(1, sizeof *p);

	if (t == NULL || p == NULL)
		goto fail;
	p->buf = malloc(DIFF_IO_MAX);
	p->text = malloc(DIFF_TEXT_MAX);
	if (p->buf == NULL || p->text == NULL)
		goto fail;
	snprintf(p->kind, sizeof p->kind, "%s", kind);
	snprintf(p->scratch, sizeof p->scratch, "%s", scratch);
	for (int i = 0; i <= DIFF_SLOTS; i++)
		p->fds[i] = -1;
	t->name = "lib";
	t->reset = lib_reset;
	t->exec = lib_exec;
	t->finish = lib_finish;
	t->destroy = lib_destroy;
	t->priv = p;
	return t;
fail:
	if (p != NULL) {
		free(p->buf);
		free(p->text);
	}
	free(p);
	free(t);
	return NULL;
}
