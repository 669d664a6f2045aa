/*
 * tests/diff/target_sys.c: the kernel as a target: the oracle on tmpfs,
 * and a vfsmount mount point in the mount mode.
 *
 * Each reset makes a fresh subdirectory of the base directory and holds
 * an O_PATH descriptor on it. Every path is resolved with
 * openat2(RESOLVE_IN_ROOT) from that descriptor, so "/" and ".." stop at
 * the subdirectory and absolute symlink targets start there: the same
 * namespace rules as the library's (an absolute target is the VFS root),
 * with no host path ever reached.
 *
 * Calls on a final component (mkdir, unlink, rename, link, symlink) first
 * resolve the parent that way and then use the *at() call on the last
 * name, trailing slashes kept, so the kernel sees the same final component
 * as the plain call would. Calls that follow the final name (stat,
 * truncate, chmod, utimens) open it with O_PATH and act on the descriptor.
 */
#include "diff.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct sys_priv {
	char base[512];
	char root[600]; /* "" before the first reset */
	unsigned runs;
	bool plain; /* plain *at() calls from the root, no RESOLVE_IN_ROOT */
	int rootfd;
	int fds[DIFF_SLOTS + 1];
	unsigned char *buf;
	char *text;
} sys_priv;

static int sys_rm_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void sys_finish(diff_target *t)
{
	sys_priv *p = t->priv;

	for (int i = 0; i <= DIFF_SLOTS; i++) {
		if (p->fds[i] >= 0)
			close(p->fds[i]);
		p->fds[i] = -1;
	}
	if (p->rootfd >= 0)
		close(p->rootfd);
	p->rootfd = -1;
	if (p->root[0] != '\0') {
		/* Modes set by the sequence (0, 0444) do not stop root. */
		nftw(p->root, sys_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		p->root[0] = '\0';
	}
}

static int sys_reset(diff_target *t)
{
	sys_priv *p = t->priv;

	sys_finish(t);
	snprintf(p->root, sizeof p->root, "%s/r%u", p->base, p->runs++);
	if (mkdir(p->root, 0755) < 0)
		return -errno;
	p->rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return p->rootfd < 0 ? -errno : 0;
}

static int sys_openat2(sys_priv *p, const char *path, int flags, uint32_t mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT;
	/* RESOLVE_IN_ROOT gives EAGAIN when a rename anywhere on the
	 * system races with a ".." step; on a busy machine a path with many
	 * ".." steps (a symlink loop through "..") needs many tries. */
	for (long tries = 0;; tries++) {
		fd = syscall(SYS_openat2, p->rootfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN || tries > 200000)
			break;
		if (tries > 10)
			sched_yield();
	}
	return fd < 0 ? -errno : (int)fd;
}

/* Resolve the parent of path (RESOLVE_IN_ROOT) and point *last at the
 * final component, trailing slashes included. */
static int sys_parent(sys_priv *p, const char *path, char *last, size_t size)
{
	char dir[DIFF_PATH + 4];
	size_t end = strlen(path), start;

	if (end == 0)
		return -ENOENT;
	while (end > 0 && path[end - 1] == '/')
		end--;
	if (end == 0) {
		/* Only slashes: the root itself. */
		snprintf(last, size, ".");
		return sys_openat2(p, "/", O_PATH | O_DIRECTORY, 0);
	}
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	snprintf(last, size, "%s", path + start);
	if (start == 0)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)start, path);
	return sys_openat2(p, dir, O_PATH | O_DIRECTORY, 0);
}

static void sys_attr(const struct stat *st, diff_res *res)
{
	res->has_attr = true;
	res->attr.mode = st->st_mode;
	res->attr.nlink = (uint32_t)st->st_nlink;
	res->attr.uid = st->st_uid;
	res->attr.gid = st->st_gid;
	res->attr.size = st->st_size;
	res->attr.atime = st->st_atim;
	res->attr.mtime = st->st_mtim;
}

static int sys_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the directory open at fd from its start, sorted, into res, and
 * leave it at the start again: where a listing ends is the filesystem's
 * own cookie (S32_MAX on tmpfs, the last entry's offset in the library),
 * so a directory's position is only compared where lseek() set it. */
static int64_t sys_list(sys_priv *p, int fd, diff_res *res)
{
	char raw[16384];
	char *names[512];
	size_t n = 0, at = 0;
	long got;
	char *store = malloc(65536);
	size_t used = 0;

	struct stat st;

	if (store == NULL)
		return -ENOMEM;
	/* getdents on a file is ENOTDIR; do not move its position. */
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
		free(store);
		return -ENOTDIR;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		free(store);
		return -e;
	}
	while ((got = syscall(SYS_getdents64, fd, raw, sizeof raw)) > 0) {
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(raw + off);
			size_t len = strlen(d->d_name);

			if (n < 512 && used + len + 1 <= 65536) {
				memcpy(store + used, d->d_name, len + 1);
				names[n++] = store + used;
				used += len + 1;
			}
			off += d->d_reclen;
		}
	}
	if (got < 0) {
		int e = errno;
		free(store);
		return -e;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		free(store);
		return -e;
	}
	qsort(names, n, sizeof names[0], sys_cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (at + len + 1 < DIFF_TEXT_MAX) {
			memcpy(p->text + at, names[i], len);
			p->text[at + len] = '\n';
			at += len + 1;
		}
	}
	free(store);
	res->text = p->text;
	res->ntext = (uint32_t)at;
	return (int64_t)n;
}

/* A system call's result as a count or -errno (a function, so that the
 * call is evaluated once). */
static int64_t sys_rc(int64_t x)
{
	return x < 0 ? -(int64_t)errno : x;
}

#define SYSRC(x) sys_rc((int64_t)(x))

/* Path operations through openat2(RESOLVE_IN_ROOT), as described at the
 * top of the file. Where a system call checks an argument before its
 * lookup, the same check comes first here, so that errno values keep the
 * kernel's order. */
static int64_t sys_path_in_root(sys_priv *p, const diff_op *op, diff_res *res)
{
	const struct timespec *tp = op->times_null ? NULL : op->times;
	char last[DIFF_PATH + 4], last2[DIFF_PATH + 4];
	char proc[64];
	struct stat st;
	int64_t rc = 0;
	int f, pfd, pfd2;
	bool nofollow;

	switch (op->code) {
	case OP_TRUNCATE:
	case OP_STAT:
	case OP_LSTAT:
	case OP_CHMOD:
	case OP_UTIMENS:
	case OP_READLINK:
	case OP_READDIR:
		/* truncate(2) refuses a negative length before the lookup;
		 * utimensat(2) returns at once when both times are
		 * UTIME_OMIT. */
		if (op->code == OP_TRUNCATE && op->off < 0)
			return -EINVAL;
		if (op->code == OP_UTIMENS && tp != NULL &&
		    tp[0].tv_nsec == UTIME_OMIT && tp[1].tv_nsec == UTIME_OMIT)
			return 0;
		nofollow = op->code == OP_LSTAT || op->code == OP_READLINK ||
		           (op->code == OP_UTIMENS &&
		            (op->flags & AT_SYMLINK_NOFOLLOW));
		f = sys_openat2(p, op->path,
		                op->code == OP_READDIR
		                        ? O_RDONLY | O_DIRECTORY
		                        : O_PATH | (nofollow ? O_NOFOLLOW : 0),
		                0);
		if (f < 0)
			return f;
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", f);
		switch (op->code) {
		case OP_STAT:
		case OP_LSTAT:
			rc = SYSRC(fstat(f, &st));
			if (rc == 0)
				sys_attr(&st, res);
			break;
		case OP_TRUNCATE:
			rc = SYSRC(truncate(proc, op->off));
			break;
		case OP_CHMOD:
			rc = SYSRC(chmod(proc, op->mode));
			break;
		case OP_UTIMENS:
			rc = SYSRC(utimensat(f, "", tp, AT_EMPTY_PATH));
			break;
		case OP_READLINK:
			if (fstat(f, &st) < 0)
				rc = -errno;
			else if (!S_ISLNK(st.st_mode))
				rc = -EINVAL;
			else
				rc = SYSRC(readlinkat(
				        f, "", p->text,
				        op->len > 0 ? op->len : DIFF_TEXT_MAX));
			break;
		default:
			rc = sys_list(p, f, res);
			break;
		}
		close(f);
		return rc;
	case OP_MKDIR:
	case OP_RMDIR:
	case OP_UNLINK:
	case OP_SYMLINK:
		/* symlink(2) copies the target (refusing "") first. */
		if (op->code == OP_SYMLINK && op->path2[0] == '\0')
			return -ENOENT;
		pfd = sys_parent(p, op->path, last, sizeof last);
		if (pfd < 0)
			return pfd;
		if (op->code == OP_MKDIR)
			rc = SYSRC(mkdirat(pfd, last, op->mode));
		else if (op->code == OP_RMDIR)
			rc = SYSRC(unlinkat(pfd, last, AT_REMOVEDIR));
		else if (op->code == OP_UNLINK)
			rc = SYSRC(unlinkat(pfd, last, 0));
		else
			rc = SYSRC(symlinkat(op->path2, pfd, last));
		close(pfd);
		return rc;
	case OP_LINK:
		/* linkat(2) looks up the whole old path (following its last
		 * component only for a trailing slash) before the new
		 * parent; the link is made from that lookup, through its
		 * /proc magic link, so that a symlink it follows resolves
		 * in the root too. */
		f = sys_openat2(p, op->path, O_PATH | O_NOFOLLOW, 0);
		if (f < 0)
			return f;
		pfd2 = sys_parent(p, op->path2, last2, sizeof last2);
		if (pfd2 < 0) {
			close(f);
			return pfd2;
		}
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", f);
		rc = SYSRC(
		        linkat(AT_FDCWD, proc, pfd2, last2, AT_SYMLINK_FOLLOW));
		close(f);
		close(pfd2);
		return rc;
	case OP_RENAME:
		/* renameat2(2) checks its flags first, then looks up both
		 * parents. */
		if ((op->flags & ~3) != 0 || op->flags == 3)
			return -EINVAL;
		pfd = sys_parent(p, op->path, last, sizeof last);
		if (pfd < 0)
			return pfd;
		pfd2 = sys_parent(p, op->path2, last2, sizeof last2);
		if (pfd2 < 0) {
			close(pfd);
			return pfd2;
		}
		rc = SYSRC(syscall(SYS_renameat2, pfd, last, pfd2, last2,
		                   (unsigned)op->flags));
		close(pfd);
		close(pfd2);
		return rc;
	default:
		return -ENOSYS;
	}
}

/* Path operations as plain *at() calls relative to the root descriptor:
 * the kernel's own argument checks and lookups, with nothing re-ordered.
 * Only for sequences with no way out of the root (no leading "/", no
 * "..", no absolute symlink targets): vfsdiff --mode plain checks the
 * RESOLVE_IN_ROOT oracle against it. */
/* A path that cannot leave the root by itself: relative, no "..". */
static bool sys_plain_safe(const char *path)
{
	if (path[0] == '/')
		return false;
	for (const char *c = path; *c != '\0'; c++)
		if ((c == path || c[-1] == '/') && c[0] == '.' && c[1] == '.' &&
		    (c[2] == '/' || c[2] == '\0'))
			return false;
	return true;
}

static int64_t sys_path_plain(sys_priv *p, const diff_op *op, diff_res *res)
{
	const struct timespec *tp = op->times_null ? NULL : op->times;
	char proc[DIFF_PATH + 64];
	struct stat st;
	int64_t rc;
	int f;

	/* Never touch the host outside the root. */
	if (!sys_plain_safe(op->path) || !sys_plain_safe(op->path2)) {
		fprintf(stderr, "vfsdiff: unsafe path for the plain target\n");
		abort();
	}
	switch (op->code) {
	case OP_STAT:
	case OP_LSTAT:
		rc = SYSRC(fstatat(p->rootfd, op->path, &st,
		                   op->code == OP_LSTAT ? AT_SYMLINK_NOFOLLOW
		                                        : 0));
		if (rc == 0)
			sys_attr(&st, res);
		return rc;
	case OP_TRUNCATE:
		snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", p->rootfd,
		         op->path);
		return SYSRC(
		        truncate(op->path[0] == '\0' ? "" : proc, op->off));
	case OP_CHMOD:
		return SYSRC(fchmodat(p->rootfd, op->path, op->mode, 0));
	case OP_UTIMENS:
		return SYSRC(utimensat(p->rootfd, op->path, tp, op->flags));
	case OP_READLINK:
		return SYSRC(readlinkat(p->rootfd, op->path, p->text,
		                        op->len > 0 ? op->len : DIFF_TEXT_MAX));
	case OP_READDIR:
		f = openat(p->rootfd, op->path,
		           O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (f < 0)
			return -errno;
		rc = sys_list(p, f, res);
		close(f);
		return rc;
	case OP_MKDIR:
		return SYSRC(mkdirat(p->rootfd, op->path, op->mode));
	case OP_RMDIR:
		return SYSRC(unlinkat(p->rootfd, op->path, AT_REMOVEDIR));
	case OP_UNLINK:
		return SYSRC(unlinkat(p->rootfd, op->path, 0));
	case OP_SYMLINK:
		return SYSRC(symlinkat(op->path2, p->rootfd, op->path));
	case OP_RENAME:
		return SYSRC(syscall(SYS_renameat2, p->rootfd, op->path,
		                     p->rootfd, op->path2,
		                     (unsigned)op->flags));
	case OP_LINK:
		return SYSRC(
		        linkat(p->rootfd, op->path, p->rootfd, op->path2, 0));
	default:
		return -ENOSYS;
	}
}

static void sys_exec(diff_target *t, const diff_op *op, diff_res *res)
{
	sys_priv *p = t->priv;
	int fd = p->fds[op->slot];
	struct stat st;
	int f;
	int64_t rc = 0;
	const struct timespec *tp = op->times_null ? NULL : op->times;

	memset(res, 0, sizeof *res);
	switch (op->code) {
	case OP_OPEN:
		if (fd >= 0)
			close(fd);
		p->fds[op->slot] = -1;
		if (p->plain) {
			if (!sys_plain_safe(op->path))
				abort();
			f = openat(p->rootfd, op->path, op->flags | O_CLOEXEC,
			           op->mode);
			if (f < 0)
				f = -errno;
		} else {
			f = sys_openat2(p, op->path, op->flags, op->mode);
		}
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
			rc = SYSRC(close(fd));
			p->fds[op->slot] = -1;
			break;
		case OP_READ:
			rc = SYSRC(read(fd, p->buf, op->len));
			break;
		case OP_PREAD:
			rc = SYSRC(pread(fd, p->buf, op->len, op->off));
			break;
		case OP_WRITE:
			diff_fill(p->buf, op->len, op->fill);
			rc = SYSRC(write(fd, p->buf, op->len));
			break;
		case OP_PWRITE:
			diff_fill(p->buf, op->len, op->fill);
			rc = SYSRC(pwrite(fd, p->buf, op->len, op->off));
			break;
		case OP_LSEEK:
			rc = SYSRC(lseek(fd, op->off, op->flags));
			break;
		case OP_FTRUNCATE:
			rc = SYSRC(ftruncate(fd, op->off));
			break;
		case OP_FSTAT:
			rc = SYSRC(fstat(fd, &st));
			if (rc == 0)
				sys_attr(&st, res);
			break;
		case OP_FCHMOD:
			rc = SYSRC(fchmod(fd, op->mode));
			break;
		case OP_FUTIMENS:
			rc = SYSRC(futimens(fd, tp));
			break;
		case OP_FREADDIR:
			rc = sys_list(p, fd, res);
			break;
		default:
			rc = SYSRC(fsync(fd));
			break;
		}
		if ((op->code == OP_READ || op->code == OP_PREAD) && rc > 0) {
			res->data = p->buf;
			res->ndata = (uint32_t)rc;
		}
		break;
	default:
		rc = p->plain ? sys_path_plain(p, op, res)
		              : sys_path_in_root(p, op, res);
		if (op->code == OP_READLINK && rc > 0) {
			res->text = p->text;
			res->ntext = (uint32_t)rc;
		}
		break;
	}
	res->rc = rc;
}

static void sys_destroy(diff_target *t)
{
	sys_priv *p;

	if (t == NULL)
		return;
	p = t->priv;
	sys_finish(t);
	free(p->buf);
	free(p->text);
	free(p);
	free(t);
}

diff_target *diff_sys_new(const char *name, const char *base, bool plain)
{
	diff_target *t = calloc(1, sizeof *t);
	sys_priv *p = calloc(1, sizeof *p);

	if (t == NULL || p == NULL)
		goto fail;
	p->buf = malloc(DIFF_IO_MAX);
	p->text = malloc(DIFF_TEXT_MAX);
	if (p->buf == NULL || p->text == NULL)
		goto fail;
	snprintf(p->base, sizeof p->base, "%s", base);
	p->plain = plain;
	p->rootfd = -1;
	for (int i = 0; i <= DIFF_SLOTS; i++)
		p->fds[i] = -1;
	t->name = name;
	t->reset = sys_reset;
	t->exec = sys_exec;
	t->finish = sys_finish;
	t->destroy = sys_destroy;
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
