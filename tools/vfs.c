/*
 * tools/vfs.c: the vfs command-line tool.
 *
 *   vfs [-m VPATH=SPEC]... COMMAND [ARGS] [';' COMMAND [ARGS]]...
 *
 * It holds, in order: exit statuses and output helpers (standard output
 * may be a closed pipe at any moment), error reporting, small path and
 * directory-listing helpers, the commands (ls, cat, get, put, mkdir, rm,
 * mv, ln, stat, tree, import, export, watch, fsck), the command table with
 * each command's help text, argument parsing, and main().
 *
 * Every VFS path goes through the library's own walk (vfs_* path calls),
 * so a disk store mounted here is exactly as confined as in any runtime:
 * a symlink inside it that points at the host's /etc resolves to the
 * namespace's /etc, never to the host's.
 *
 * Host-side writes (export) start from one descriptor of HOSTDIR and
 * create every entry with *at() calls on directory descriptors, never
 * following a symlink, so no name found in a store can place a file
 * outside HOSTDIR.
 *
 * Internally helpers return 0 or a negative errno; the commands turn
 * that into an exit status and print the message.
 */
#include <vfs/vfs.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2
/* 128 + SIGPIPE: what a shell reports for a reader that went away. */
#define CLI_EXIT_PIPE 141

#define CLI_BUF_SIZE (128 * 1024)

typedef struct cli_cmd cli_cmd;

/* One command of a chain, parsed. */
typedef struct cli_args {
	const cli_cmd *cmd;
	uint64_t flags; /* CLI_FLAG(letter) for each option given */
	char **argv;    /* positional arguments */
	int argc;
} cli_args;

typedef struct cli {
	vfs *v;
	const char *cmd; /* name of the running command, for messages */
	char *buf;       /* CLI_BUF_SIZE bytes for copying data */
	char **mounts;   /* "VPATH=SPEC" strings, in the order given */
	size_t nmounts;
	bool failed; /* a command that goes on after errors saw one */
	const struct cli_args *chain; /* the commands to run, in order */
	int nchain, next;             /* next: index of the next to run */
} cli;

/* A command: its options, argument counts, code and help. */
struct cli_cmd {
	const char *name;
	const char *shortopts; /* option letters accepted */
	const char *longopt;   /* one long option, or NULL */
	char longletter;       /* the letter it sets */
	int min_args, max_args;
	bool needs_vfs; /* false: runs without mounting anything */
	int (*run)(cli *c, const cli_args *a);
	const char *synopsis;
	const char *summary; /* for the list in vfs --help */
	const char *help;
};

#define CLI_FLAG(ch)                                                           \
	((ch) >= 'a' && (ch) <= 'z'   ? UINT64_C(1) << ((ch) - 'a')            \
	 : (ch) >= 'A' && (ch) <= 'Z' ? UINT64_C(1) << ((ch) - 'A' + 26)       \
	                              : UINT64_C(1) << 63)

/* ---- Output ---------------------------------------------------------------
 *
 * SIGPIPE is ignored so that stores are always flushed and closed; a
 * write to a closed pipe then fails with EPIPE, which every command
 * passes up unchanged and main() turns into a quiet exit 141.
 */

static int out_errno(void)
{
	return errno != 0 ? -errno : -EIO;
}

__attribute__((format(printf, 1, 2))) static int out_printf(const char *fmt,
                                                            ...)
{
	va_list ap;
	int rc;

	errno = 0;
	va_start(ap, fmt);
	rc = vprintf(fmt, ap);
	va_end(ap);
	return rc < 0 ? out_errno() : 0;
}

static int out_puts(const char *s)
{
	errno = 0;
	return fputs(s, stdout) < 0 ? out_errno() : 0;
}

static int out_flush(void)
{
	errno = 0;
	return fflush(stdout) != 0 ? out_errno() : 0;
}

/* Raw bytes to standard output, after anything buffered by stdio. */
static int out_write(const void *buf, size_t len)
{
	const char *p = buf;
	int rc = out_flush();

	if (rc < 0)
		return rc;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- Errors --------------------------------------------------------------
 */

/* "vfs: COMMAND PATH: text"; returns the exit status for it. */
static int cli_fail(cli *c, const char *path, int err)
{
	fflush(stdout);
	if (path != NULL)
		fprintf(stderr, "vfs: %s %s: %s\n", c->cmd, path,
		        vfs_strerror(err));
	else
		fprintf(stderr, "vfs: %s: %s\n", c->cmd, vfs_strerror(err));
	c->failed = true;
	return CLI_EXIT_FAIL;
}

/* A failed write to standard output: quiet for a closed pipe. */
static int cli_out_fail(cli *c, int err)
{
	if (err == -EPIPE)
		return CLI_EXIT_PIPE;
	return cli_fail(c, "(standard output)", err);
}

__attribute__((format(printf, 1, 2))) static int cli_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'vfs --help')\n", stderr);
	return CLI_EXIT_USAGE;
}

/* ---- Paths and listings ---------------------------------------------------
 */

/* dir + "/" + name in a new string; -ENAMETOOLONG past VFS_PATH_MAX. */
static int path_join(const char *dir, const char *name, char **out)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	char *p;

	*out = NULL;
	if (dl + nl + 2 > VFS_PATH_MAX)
		return -ENAMETOOLONG;
	p = malloc(dl + nl + 2);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p, dir, dl);
	if (!slash)
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	*out = p;
	return 0;
}

/* The last component of path ("" for "/"), in a new string. */
static char *path_base(const char *path)
{
	size_t end = strlen(path), start;

	while (end > 0 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return strndup(path + start, end - start);
}

/* A store name that is safe to create on the host as one component. */
static bool name_is_safe(const char *name)
{
	return name[0] != '\0' && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strchr(name, '/') == NULL &&
	       strlen(name) <= VFS_NAME_MAX;
}

typedef struct dlist {
	char **names;
	size_t n, cap;
} dlist;

static void dlist_free(dlist *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->n = d->cap = 0;
}

static int dlist_add(dlist *d, const char *name)
{
	if (d->n == d->cap) {
		size_t cap = d->cap == 0 ? 16 : d->cap * 2;
		char **grown = realloc(d->names, cap * sizeof *grown);

		if (grown == NULL)
			return -ENOMEM;
		d->names = grown;
		d->cap = cap;
	}
	d->names[d->n] = strdup(name);
	if (d->names[d->n] == NULL)
		return -ENOMEM;
	d->n++;
	return 0;
}

static int dlist_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a VFS directory, sorted, without "." and "..". The
 * directory is read whole and closed before the caller recurses, so a
 * deep tree holds one descriptor at a time. */
static int vdir_list(vfs *v, const char *path, dlist *out)
{
	vfs_dirent e;
	int fd, rc;

	memset(out, 0, sizeof *out);
	fd = vfs_opendir(v, path);
	if (fd < 0)
		return fd;
	while ((rc = vfs_readdir(v, fd, &e)) == 1) {
		if (strcmp(e.name, ".") == 0 || strcmp(e.name, "..") == 0)
			continue;
		rc = dlist_add(out, e.name);
		if (rc < 0)
			break;
	}
	vfs_close(v, fd);
	if (rc < 0) {
		dlist_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->names, out->n, sizeof *out->names, dlist_cmp);
	return 0;
}

/* The same for a host directory descriptor (left open). */
static int hdir_list(int dirfd, dlist *out)
{
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	memset(out, 0, sizeof *out);
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			rc = -errno;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = dlist_add(out, e->d_name);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc < 0) {
		dlist_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->names, out->n, sizeof *out->names, dlist_cmp);
	return 0;
}

/* "drwxr-xr-x" for a mode, into buf[11]. */
static void mode_string(uint32_t mode, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";
	char t;

	switch (mode & S_IFMT) {
	case S_IFDIR:
		t = 'd';
		break;
	case S_IFLNK:
		t = 'l';
		break;
	case S_IFIFO:
		t = 'p';
		break;
	case S_IFSOCK:
		t = 's';
		break;
	case S_IFCHR:
		t = 'c';
		break;
	case S_IFBLK:
		t = 'b';
		break;
	default:
		t = '-';
	}
	buf[0] = t;
	for (int i = 0; i < 9; i++)
		buf[1 + i] = mode & (0400u >> i) ? rwx[i] : '-';
	if (mode & S_ISUID)
		buf[3] = buf[3] == 'x' ? 's' : 'S';
	if (mode & S_ISGID)
		buf[6] = buf[6] == 'x' ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[9] = buf[9] == 'x' ? 't' : 'T';
	buf[10] = '\0';
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character special file";
	case S_IFBLK:
		return "block special file";
	default:
		return "unknown";
	}
}

/* A symlink's target, NUL-terminated, into buf[VFS_PATH_MAX]. */
static int vlink_read(vfs *v, const char *path, char *buf)
{
	int n = vfs_readlink(v, path, buf, VFS_PATH_MAX - 1);

	if (n < 0)
		return n;
	buf[n] = '\0';
	return 0;
}

/* ---- ls -------------------------------------------------------------------
 */

static int ls_long_line(cli *c, const char *path, const char *shown)
{
	char mode[11], when[32], target[VFS_PATH_MAX], size[48];
	struct tm tm;
	vfs_attr a;
	time_t t;
	int rc;

	rc = vfs_lstat(c->v, path, &a);
	if (rc < 0)
		return cli_fail(c, path, rc);
	mode_string(a.mode, mode);
	t = a.mtime.tv_sec;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof when, "%lld", (long long)t);
	if (S_ISCHR(a.mode) || S_ISBLK(a.mode))
		snprintf(size, sizeof size, "%u, %u", major(a.rdev),
		         minor(a.rdev));
	else
		snprintf(size, sizeof size, "%lld", (long long)a.size);
	rc = out_printf("%s %3u %5u %5u %9s %s %s", mode, a.nlink, a.uid, a.gid,
	                size, when, shown);
	if (rc == 0 && S_ISLNK(a.mode)) {
		rc = vlink_read(c->v, path, target);
		if (rc < 0) {
			out_puts("\n");
			return cli_fail(c, path, rc);
		}
		rc = out_printf(" -> %s", target);
	}
	if (rc == 0)
		rc = out_puts("\n");
	return rc < 0 ? cli_out_fail(c, rc) : CLI_EXIT_OK;
}

static int ls_one(cli *c, const char *path, bool lng, bool header)
{
	dlist d;
	vfs_attr a;
	int rc, status = CLI_EXIT_OK;

	rc = vfs_stat(c->v, path, &a);
	if (rc == -ENOENT || rc == -ELOOP) {
		/* A dangling link or a loop is still an entry to show. */
		if (vfs_lstat(c->v, path, &a) == 0)
			rc = 0;
	}
	if (rc < 0)
		return cli_fail(c, path, rc);
	if (!S_ISDIR(a.mode)) {
		if (lng)
			return ls_long_line(c, path, path);
		rc = out_printf("%s\n", path);
		return rc < 0 ? cli_out_fail(c, rc) : CLI_EXIT_OK;
	}
	rc = vdir_list(c->v, path, &d);
	if (rc < 0)
		return cli_fail(c, path, rc);
	if (header) {
		rc = out_printf("%s:\n", path);
		if (rc < 0) {
			status = cli_out_fail(c, rc);
			goto out;
		}
	}
	for (size_t i = 0; i < d.n; i++) {
		char *p;

		if (!lng) {
			rc = out_printf("%s\n", d.names[i]);
			if (rc < 0) {
				status = cli_out_fail(c, rc);
				goto out;
			}
			continue;
		}
		rc = path_join(path, d.names[i], &p);
		if (rc < 0) {
			status = cli_fail(c, path, rc);
			continue;
		}
		rc = ls_long_line(c, p, d.names[i]);
		free(p);
		if (rc == CLI_EXIT_PIPE) {
			status = rc;
			goto out;
		}
		if (rc != CLI_EXIT_OK)
			status = rc;
	}
out:
	dlist_free(&d);
	return status;
}

static int cmd_ls(cli *c, const cli_args *a)
{
	bool lng = (a->flags & CLI_FLAG('l')) != 0;
	int status = CLI_EXIT_OK;

	if (a->argc == 0)
		return ls_one(c, "/", lng, false);
	for (int i = 0; i < a->argc; i++) {
		int rc;

		if (i > 0 && out_puts("\n") < 0)
			return CLI_EXIT_PIPE;
		rc = ls_one(c, a->argv[i], lng, a->argc > 1);
		if (rc == CLI_EXIT_PIPE)
			return rc;
		if (rc != CLI_EXIT_OK)
			status = rc;
	}
	return status;
}

/* ---- cat, get, put --------------------------------------------------------
 */

/* Copy a VFS file to standard output. */
static int copy_out(cli *c, const char *path)
{
	int fd, status = CLI_EXIT_OK;
	int64_t n;

	fd = vfs_open(c->v, path, O_RDONLY, 0);
	if (fd < 0)
		return cli_fail(c, path, fd);
	while ((n = vfs_read(c->v, fd, c->buf, CLI_BUF_SIZE)) > 0) {
		int rc = out_write(c->buf, (size_t)n);

		if (rc < 0) {
			status = cli_out_fail(c, rc);
			goto out;
		}
	}
	if (n < 0)
		status = cli_fail(c, path, (int)n);
out:
	vfs_close(c->v, fd);
	return status;
}

static int cmd_cat(cli *c, const cli_args *a)
{
	int status = CLI_EXIT_OK;

	for (int i = 0; i < a->argc; i++) {
		int rc = copy_out(c, a->argv[i]);

		if (rc == CLI_EXIT_PIPE)
			return rc;
		if (rc != CLI_EXIT_OK)
			status = rc;
	}
	return status;
}

static int cmd_get(cli *c, const cli_args *a)
{
	vfs_attr st;
	int rc = vfs_stat(c->v, a->argv[0], &st);

	if (rc < 0)
		return cli_fail(c, a->argv[0], rc);
	if (S_ISDIR(st.mode))
		return cli_fail(c, a->argv[0], -EISDIR);
	return copy_out(c, a->argv[0]);
}

/* Write all of buf to a VFS descriptor. */
static int vwrite_all(vfs *v, int fd, const char *buf, size_t len)
{
	while (len > 0) {
		int64_t n = vfs_write(v, fd, buf, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cmd_put(cli *c, const cli_args *a)
{
	const char *path = a->argv[0];
	int fd, rc, status = CLI_EXIT_OK;

	fd = vfs_open(c->v, path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		return cli_fail(c, path, fd);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, c->buf, CLI_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			fprintf(stderr,
			        "vfs: put %s: reading standard input: %s\n",
			        path, vfs_strerror(rc));
			status = CLI_EXIT_FAIL;
			break;
		}
		if (n == 0)
			break;
		rc = vwrite_all(c->v, fd, c->buf, (size_t)n);
		if (rc < 0) {
			status = cli_fail(c, path, rc);
			break;
		}
	}
	rc = vfs_close(c->v, fd);
	if (rc < 0 && status == CLI_EXIT_OK)
		status = cli_fail(c, path, rc);
	return status;
}

/* ---- mkdir, rm, mv, ln ----------------------------------------------------
 */

static int mkdir_parents(vfs *v, const char *path)
{
	char buf[VFS_PATH_MAX];
	size_t len = strlen(path);
	vfs_attr a;
	int rc;

	if (len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* repeated slash */
		buf[i] = '\0';
		rc = vfs_mkdir(v, buf, 0777);
		if (rc == -EEXIST) {
			rc = vfs_stat(v, buf, &a);
			if (rc == 0 && !S_ISDIR(a.mode))
				rc = -ENOTDIR;
		}
		if (rc < 0)
			return rc;
		buf[i] = path[i];
	}
	return 0;
}

static int cmd_mkdir(cli *c, const cli_args *a)
{
	bool parents = (a->flags & CLI_FLAG('p')) != 0;
	int status = CLI_EXIT_OK;

	for (int i = 0; i < a->argc; i++) {
		int rc = parents ? mkdir_parents(c->v, a->argv[i])
		                 : vfs_mkdir(c->v, a->argv[i], 0777);

		if (rc < 0)
			status = cli_fail(c, a->argv[i], rc);
	}
	return status;
}

/* Remove path and everything below it, or only what is below it when
 * keep_self is set; reports and goes on. */
static int rm_tree(cli *c, const char *path, bool keep_self)
{
	vfs_attr a;
	dlist d;
	int rc, status = CLI_EXIT_OK;

	rc = vfs_lstat(c->v, path, &a);
	if (rc < 0)
		return cli_fail(c, path, rc);
	if (!S_ISDIR(a.mode)) {
		rc = vfs_unlink(c->v, path);
		return rc < 0 ? cli_fail(c, path, rc) : CLI_EXIT_OK;
	}
	rc = vdir_list(c->v, path, &d);
	if (rc < 0)
		return cli_fail(c, path, rc);
	for (size_t i = 0; i < d.n; i++) {
		char *p;

		rc = path_join(path, d.names[i], &p);
		if (rc < 0) {
			status = cli_fail(c, path, rc);
			continue;
		}
		if (rm_tree(c, p, false) != CLI_EXIT_OK)
			status = CLI_EXIT_FAIL;
		free(p);
	}
	dlist_free(&d);
	if (status != CLI_EXIT_OK || keep_self)
		return status;
	rc = vfs_rmdir(c->v, path);
	return rc < 0 ? cli_fail(c, path, rc) : CLI_EXIT_OK;
}

static int cmd_rm(cli *c, const cli_args *a)
{
	bool recursive = (a->flags & CLI_FLAG('r')) != 0;
	bool force = (a->flags & CLI_FLAG('f')) != 0;
	int status = CLI_EXIT_OK;

	for (int i = 0; i < a->argc; i++) {
		const char *p = a->argv[i];
		vfs_attr st;
		int rc;

		if (force && vfs_lstat(c->v, p, &st) == -ENOENT)
			continue;
		if (recursive) {
			/* The root cannot go; "rm -r /" empties it. */
			char real[VFS_PATH_MAX];
			bool root =
			        vfs_realpath(c->v, p, real, sizeof real) > 0 &&
			        strcmp(real, "/") == 0;

			if (rm_tree(c, p, root) != CLI_EXIT_OK)
				status = CLI_EXIT_FAIL;
			continue;
		}
		rc = vfs_unlink(c->v, p);
		if (rc < 0)
			status = cli_fail(c, p, rc);
	}
	return status;
}

/* For mv and ln: an existing directory as destination means "into it". */
static int dest_into_dir(vfs *v, const char *src, const char *dst, char **out)
{
	vfs_attr a;
	char *base;
	int rc;

	*out = NULL;
	if (vfs_stat(v, dst, &a) < 0 || !S_ISDIR(a.mode))
		return 0;
	base = path_base(src);
	if (base == NULL)
		return -ENOMEM;
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		free(base);
		return 0;
	}
	rc = path_join(dst, base, out);
	free(base);
	return rc;
}

static int cmd_mv(cli *c, const cli_args *a)
{
	const char *from = a->argv[0], *to = a->argv[1];
	char *into;
	int rc;

	rc = dest_into_dir(c->v, from, to, &into);
	if (rc < 0)
		return cli_fail(c, to, rc);
	rc = vfs_rename(c->v, from, into != NULL ? into : to, 0);
	free(into);
	return rc < 0 ? cli_fail(c, from, rc) : CLI_EXIT_OK;
}

static int cmd_ln(cli *c, const cli_args *a)
{
	const char *target = a->argv[0], *path = a->argv[1];
	char *into;
	int rc;

	rc = dest_into_dir(c->v, target, path, &into);
	if (rc < 0)
		return cli_fail(c, path, rc);
	if (into != NULL)
		path = into;
	if (a->flags & CLI_FLAG('s'))
		rc = vfs_symlink(c->v, target, path);
	else
		rc = vfs_link(c->v, target, path);
	if (rc < 0)
		rc = cli_fail(c, path, rc);
	free(into);
	return rc;
}

/* ---- stat, tree -----------------------------------------------------------
 */

static int print_time(const char *label, const struct timespec *ts)
{
	char buf[64], zone[16];
	struct tm tm;
	time_t t = ts->tv_sec;

	if (localtime_r(&t, &tm) == NULL)
		return out_printf("%s: %lld.%09ld\n", label, (long long)t,
		                  ts->tv_nsec);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof zone, "%z", &tm);
	return out_printf("%s: %s.%09ld %s\n", label, buf, ts->tv_nsec, zone);
}

static int stat_one(cli *c, const char *path, bool follow)
{
	char mode[11], target[VFS_PATH_MAX];
	vfs_attr a;
	int rc;

	rc = follow ? vfs_stat(c->v, path, &a) : vfs_lstat(c->v, path, &a);
	if (rc < 0)
		return cli_fail(c, path, rc);
	rc = out_printf("  File: %s", path);
	if (rc == 0 && S_ISLNK(a.mode)) {
		if (vlink_read(c->v, path, target) == 0)
			rc = out_printf(" -> %s", target);
	}
	if (rc == 0)
		rc = out_printf("\n  Size: %-12lld Blocks: %-10lld IO Block: "
		                "%-6u %s\n",
		                (long long)a.size, (long long)a.blocks,
		                a.blksize, type_name(a.mode));
	if (rc == 0)
		rc = out_printf("Device: %-11llu Inode: %-11llu Links: %u",
		                (unsigned long long)a.dev,
		                (unsigned long long)a.ino, a.nlink);
	if (rc == 0 && (S_ISCHR(a.mode) || S_ISBLK(a.mode)))
		rc = out_printf("  Device type: %u,%u", major(a.rdev),
		                minor(a.rdev));
	mode_string(a.mode, mode);
	if (rc == 0)
		rc = out_printf("\nAccess: (%04o/%s)  Uid: %u  Gid: %u\n",
		                a.mode & 07777, mode, a.uid, a.gid);
	if (rc == 0)
		rc = print_time("Access", &a.atime);
	if (rc == 0)
		rc = print_time("Modify", &a.mtime);
	if (rc == 0)
		rc = print_time("Change", &a.ctime);
	return rc < 0 ? cli_out_fail(c, rc) : CLI_EXIT_OK;
}

static int cmd_stat(cli *c, const cli_args *a)
{
	bool follow = (a->flags & CLI_FLAG('L')) != 0;
	int status = CLI_EXIT_OK;

	for (int i = 0; i < a->argc; i++) {
		int rc = stat_one(c, a->argv[i], follow);

		if (rc == CLI_EXIT_PIPE)
			return rc;
		if (rc != CLI_EXIT_OK)
			status = rc;
	}
	return status;
}

typedef struct tree_state {
	char prefix[4 * (VFS_PATH_MAX / 2) + 8];
	size_t plen;
	uint64_t dirs, files;
	int status;
} tree_state;

/* Print the entries below path; returns a negative errno only for a
 * failed write to standard output (other errors are reported). */
static int tree_walk(cli *c, tree_state *t, const char *path)
{
	char target[VFS_PATH_MAX];
	dlist d;
	int rc;

	rc = vdir_list(c->v, path, &d);
	if (rc < 0) {
		t->status = cli_fail(c, path, rc);
		return 0;
	}
	for (size_t i = 0; i < d.n && rc == 0; i++) {
		bool last = i + 1 == d.n;
		vfs_attr a;
		char *p;

		rc = path_join(path, d.names[i], &p);
		if (rc < 0) {
			t->status = cli_fail(c, path, rc);
			rc = 0;
			continue;
		}
		rc = out_printf("%s%s%s", t->prefix, last ? "`-- " : "|-- ",
		                d.names[i]);
		if (rc < 0)
			goto next;
		if (vfs_lstat(c->v, p, &a) < 0) {
			rc = out_puts("\n");
			goto next;
		}
		if (S_ISLNK(a.mode) && vlink_read(c->v, p, target) == 0)
			rc = out_printf(" -> %s", target);
		if (rc == 0)
			rc = out_puts("\n");
		if (rc < 0)
			goto next;
		if (!S_ISDIR(a.mode)) {
			t->files++;
			goto next;
		}
		t->dirs++;
		if (t->plen + 4 >= sizeof t->prefix) {
			t->status = cli_fail(c, p, -ENAMETOOLONG);
			goto next;
		}
		memcpy(t->prefix + t->plen, last ? "    " : "|   ", 5);
		t->plen += 4;
		rc = tree_walk(c, t, p);
		t->plen -= 4;
		t->prefix[t->plen] = '\0';
	next:
		free(p);
	}
	dlist_free(&d);
	return rc;
}

static int cmd_tree(cli *c, const cli_args *a)
{
	const char *path = a->argc > 0 ? a->argv[0] : "/";
	tree_state *t;
	vfs_attr st;
	int rc, status;

	rc = vfs_stat(c->v, path, &st);
	if (rc < 0)
		return cli_fail(c, path, rc);
	if (!S_ISDIR(st.mode))
		return cli_fail(c, path, -ENOTDIR);
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return cli_fail(c, path, -ENOMEM);
	rc = out_printf("%s\n", path);
	if (rc == 0)
		rc = tree_walk(c, t, path);
	if (rc == 0)
		rc = out_printf(
		        "\n%llu director%s, %llu file%s\n",
		        (unsigned long long)t->dirs, t->dirs == 1 ? "y" : "ies",
		        (unsigned long long)t->files, t->files == 1 ? "" : "s");
	status = rc < 0 ? cli_out_fail(c, rc) : t->status;
	free(t);
	return status;
}

/* ---- import and export: shared parts --------------------------------------
 */

/* Files with more than one link seen so far: (dev, ino) -> the path of
 * the first copy made, so later names become hard links to it. */
typedef struct link_entry {
	uint64_t dev, ino;
	char *path; /* NULL: empty slot */
} link_entry;

typedef struct link_map {
	link_entry *slots;
	size_t cap, used;
} link_map;

static size_t link_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = ino * UINT64_C(0x9e3779b97f4a7c15) ^ dev;

	return (size_t)(h ^ (h >> 29));
}

static const char *link_find(const link_map *m, uint64_t dev, uint64_t ino)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = link_hash(dev, ino) & (m->cap - 1);;
	     i = (i + 1) & (m->cap - 1)) {
		const link_entry *e = &m->slots[i];

		if (e->path == NULL)
			return NULL;
		if (e->dev == dev && e->ino == ino)
			return e->path;
	}
}

static int link_add(link_map *m, uint64_t dev, uint64_t ino, const char *path)
{
	if ((m->used + 1) * 2 > m->cap) {
		size_t cap = m->cap == 0 ? 64 : m->cap * 2;
		link_entry *slots = calloc(cap, sizeof *slots);

		if (slots == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < m->cap; j++) {
			link_entry *e = &m->slots[j];
			size_t i;

			if (e->path == NULL)
				continue;
			for (i = link_hash(e->dev, e->ino) & (cap - 1);
			     slots[i].path != NULL; i = (i + 1) & (cap - 1))
				;
			slots[i] = *e;
		}
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
	}
	for (size_t i = link_hash(dev, ino) & (m->cap - 1);;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].path == NULL) {
			m->slots[i].path = strdup(path);
			if (m->slots[i].path == NULL)
				return -ENOMEM;
			m->slots[i].dev = dev;
			m->slots[i].ino = ino;
			m->used++;
			return 0;
		}
	}
}

static void link_map_free(link_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].path);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* A progress line on a terminal, for copies that take over a second. */
typedef struct progress {
	bool tty, shown;
	struct timespec start, last;
	uint64_t files, bytes;
} progress;

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) +
	       (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static void progress_init(progress *p)
{
	memset(p, 0, sizeof *p);
	p->tty = isatty(STDERR_FILENO) == 1;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

static void progress_show(cli *c, progress *p, bool final)
{
	struct timespec now;

	if (!p->tty)
		return;
	if (!final) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_diff(&now, &p->start) < 1.0)
			return;
		if (p->shown && ts_diff(&now, &p->last) < 0.2)
			return;
		p->last = now;
	} else if (!p->shown) {
		return;
	}
	fprintf(stderr, "\r\033[Kvfs: %s: %llu entries, %.1f MiB%s", c->cmd,
	        (unsigned long long)p->files, (double)p->bytes / 1048576.0,
	        final ? "\n" : "");
	p->shown = true;
}

typedef struct copy_state {
	cli *c;
	progress prog;
	link_map links;
	bool owners; /* keep owners: only root may give files away */
	bool stop;   /* an error every later entry would meet too */
	int rootfd;  /* export: HOSTDIR */
} copy_state;

/* Report a failed entry. A full or read-only destination or a lack of
 * memory fails every entry after it as well: the copy stops there
 * instead of printing one line per remaining entry. */
static void copy_fail(copy_state *s, const char *path, int err)
{
	cli_fail(s->c, path, err);
	if (err == -ENOSPC || err == -EROFS || err == -EDQUOT || err == -ENOMEM)
		s->stop = true;
}

/* ---- import ---------------------------------------------------------------
 */

/* Open a host entry for reading without following a symlink and without
 * touching its access time where the kernel allows that. */
static int host_open_read(int dirfd, const char *name, int flags)
{
	int fd;

	flags |= O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd < 0 ? -errno : fd;
}

static int import_file(copy_state *s, int dirfd, const char *name,
                       const struct stat *st, const char *vpath)
{
	vfs *v = s->c->v;
	struct stat now;
	int hfd, vfd = -1, rc;

	hfd = host_open_read(dirfd, name, O_NONBLOCK);
	if (hfd < 0)
		return hfd;
	/* The name may have been replaced since it was listed. */
	if (fstat(hfd, &now) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino ||
	    now.st_dev != st->st_dev) {
		rc = -EAGAIN;
		goto out;
	}
	vfd = vfs_open(v, vpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
	               0600);
	if (vfd < 0) {
		rc = vfd;
		goto out;
	}
	for (;;) {
		ssize_t n = read(hfd, s->c->buf, CLI_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		rc = vwrite_all(v, vfd, s->c->buf, (size_t)n);
		if (rc < 0)
			goto out;
		s->prog.bytes += (uint64_t)n;
		progress_show(s->c, &s->prog, false);
	}
	rc = 0;
out:
	if (vfd >= 0) {
		int crc = vfs_close(v, vfd);

		if (rc == 0)
			rc = crc;
	}
	close(hfd);
	return rc;
}

/* Owner, mode and times of a new VFS entry from its host original. */
static int import_meta(copy_state *s, const char *vpath, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	vfs *v = s->c->v;
	int rc;

	if (s->owners) {
		rc = vfs_lchown(v, vpath, st->st_uid, st->st_gid);
		if (rc < 0)
			return rc;
	}
	if (!S_ISLNK(st->st_mode)) {
		rc = vfs_chmod(v, vpath, st->st_mode & 07777);
		if (rc < 0)
			return rc;
	}
	return vfs_utimens(v, vpath, ts, VFS_NOFOLLOW);
}

static int import_dir(copy_state *s, int dirfd, const char *vpath);

/* Copy one host entry (dirfd, name) to vpath; errors are reported here. */
static void import_entry(copy_state *s, int dirfd, const char *name,
                         const char *vpath)
{
	char target[VFS_PATH_MAX];
	const char *first;
	vfs *v = s->c->v;
	struct stat st;
	ssize_t n;
	int rc, fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto fail;
	}
	s->prog.files++;
	progress_show(s->c, &s->prog, false);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		first = link_find(&s->links, st.st_dev, st.st_ino);
		if (first != NULL) {
			rc = vfs_link(v, first, vpath);
			goto done;
		}
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		rc = vfs_mkdir(v, vpath, 0700);
		if (rc < 0)
			goto fail;
		fd = host_open_read(dirfd, name, O_DIRECTORY);
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		rc = import_dir(s, fd, vpath);
		close(fd);
		if (rc < 0)
			goto fail;
		break;
	case S_IFREG:
		rc = import_file(s, dirfd, name, &st, vpath);
		break;
	case S_IFLNK:
		n = readlinkat(dirfd, name, target, sizeof target);
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		if ((size_t)n >= sizeof target) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		target[n] = '\0';
		rc = vfs_symlink(v, target, vpath);
		break;
	default:
		rc = vfs_mknod(v, vpath, st.st_mode, st.st_rdev);
		break;
	}
	if (rc < 0)
		goto fail;
	rc = import_meta(s, vpath, &st);
	if (rc < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		rc = link_add(&s->links, st.st_dev, st.st_ino, vpath);
done:
	if (rc == 0)
		return;
fail:
	copy_fail(s, vpath, rc);
}

/* Copy the contents of a host directory into the VFS directory vpath.
 * Returns a negative errno only when the directory cannot be read. */
static int import_dir(copy_state *s, int dirfd, const char *vpath)
{
	dlist d;
	int rc;

	rc = hdir_list(dirfd, &d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d.n && !s->stop; i++) {
		char *p;

		rc = path_join(vpath, d.names[i], &p);
		if (rc < 0) {
			copy_fail(s, vpath, rc);
			continue;
		}
		import_entry(s, dirfd, d.names[i], p);
		free(p);
	}
	dlist_free(&d);
	return 0;
}

/* True when a VFS directory has no entries. */
static int vdir_empty(vfs *v, const char *path)
{
	dlist d;
	int rc = vdir_list(v, path, &d);

	if (rc < 0)
		return rc;
	rc = d.n == 0;
	dlist_free(&d);
	return rc;
}

static int cmd_import(cli *c, const cli_args *a)
{
	const char *host = a->argv[0], *vpath = a->argv[1];
	uint32_t old_umask;
	copy_state s;
	struct stat st;
	vfs_attr va;
	int fd, rc;

	memset(&s, 0, sizeof s);
	s.c = c;
	s.owners = geteuid() == 0;
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cli_fail(c, host, -errno);
	if (fstat(fd, &st) < 0) {
		rc = cli_fail(c, host, -errno);
		close(fd);
		return rc;
	}
	old_umask = vfs_umask(c->v, 0);
	rc = vfs_stat(c->v, vpath, &va);
	if (rc == -ENOENT) {
		rc = vfs_mkdir(c->v, vpath, 0700);
	} else if (rc == 0 && !S_ISDIR(va.mode)) {
		rc = -ENOTDIR;
	} else if (rc == 0) {
		rc = vdir_empty(c->v, vpath);
		rc = rc < 0 ? rc : rc == 1 ? 0 : -ENOTEMPTY;
	}
	if (rc < 0) {
		rc = cli_fail(c, vpath, rc);
		goto out;
	}
	progress_init(&s.prog);
	rc = import_dir(&s, fd, vpath);
	if (rc < 0)
		cli_fail(c, host, rc);
	rc = import_meta(&s, vpath, &st);
	if (rc < 0)
		cli_fail(c, vpath, rc);
	progress_show(c, &s.prog, true);
	rc = c->failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	vfs_umask(c->v, old_umask);
	link_map_free(&s.links);
	close(fd);
	return rc;
}

/* ---- export ---------------------------------------------------------------
 */

/* Open the directory holding relpath's final component, walking from
 * rootfd one component at a time without following symlinks. */
static int host_open_parent(int rootfd, const char *relpath, const char **name)
{
	char comp[VFS_NAME_MAX + 1];
	const char *p = relpath, *slash;
	int fd = dup(rootfd), next;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t len = (size_t)(slash - p);

		if (len == 0 || len > VFS_NAME_MAX) {
			close(fd);
			return -EINVAL;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		next = openat(fd, comp,
		              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		p = slash + 1;
	}
	*name = p;
	return fd;
}

static int export_file(copy_state *s, const char *vpath, int dirfd,
                       const char *name, int *out)
{
	vfs *v = s->c->v;
	int vfd, hfd = -1, rc;
	int64_t n;

	*out = -1;
	vfd = vfs_open(v, vpath, O_RDONLY | O_NOFOLLOW, 0);
	if (vfd < 0)
		return vfd;
	/* O_EXCL never follows a symlink and never reuses an entry. */
	hfd = openat(dirfd, name,
	             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	             0600);
	if (hfd < 0) {
		rc = -errno;
		goto out;
	}
	while ((n = vfs_read(v, vfd, s->c->buf, CLI_BUF_SIZE)) > 0) {
		const char *p = s->c->buf;

		s->prog.bytes += (uint64_t)n;
		while (n > 0) {
			ssize_t w = write(hfd, p, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = -errno;
				goto out;
			}
			p += w;
			n -= w;
		}
		progress_show(s->c, &s->prog, false);
	}
	rc = n < 0 ? (int)n : 0;
out:
	vfs_close(v, vfd);
	if (rc < 0 && hfd >= 0) {
		close(hfd);
		hfd = -1;
	}
	*out = hfd;
	return rc;
}

/* Owner, mode and times for a new host entry: through fd when one is
 * open, else on (dirfd, name) without following a symlink. */
static int export_meta(copy_state *s, int fd, int dirfd, const char *name,
                       const vfs_attr *a)
{
	struct timespec ts[2] = {a->atime, a->mtime};

	if (fd >= 0) {
		if (s->owners && fchown(fd, a->uid, a->gid) < 0)
			return -errno;
		if (fchmod(fd, a->mode & 07777) < 0)
			return -errno;
		if (futimens(fd, ts) < 0)
			return -errno;
		return 0;
	}
	if (s->owners &&
	    fchownat(dirfd, name, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* A FIFO, socket or device was made with its exact mode (umask 0);
	 * a symlink has none. Neither needs a chmod that could follow. */
	if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int export_dir(copy_state *s, const char *vpath, int dirfd,
                      const char *hrel);

static void export_entry(copy_state *s, const char *vpath, int dirfd,
                         const char *name, const char *hrel)
{
	char target[VFS_PATH_MAX];
	vfs *v = s->c->v;
	const char *first, *lname = NULL;
	int rc, fd = -1, lfd;
	vfs_attr a;

	if (!name_is_safe(name)) {
		rc = -EINVAL;
		goto out;
	}
	rc = vfs_lstat(v, vpath, &a);
	if (rc < 0)
		goto out;
	s->prog.files++;
	progress_show(s->c, &s->prog, false);
	if (!S_ISDIR(a.mode) && a.nlink > 1) {
		first = link_find(&s->links, a.dev, a.ino);
		if (first != NULL) {
			lfd = host_open_parent(s->rootfd, first, &lname);
			if (lfd < 0) {
				rc = lfd;
				goto out;
			}
			rc = linkat(lfd, lname, dirfd, name, 0) < 0 ? -errno
			                                            : 0;
			close(lfd);
			goto out;
		}
	}
	switch (a.mode & S_IFMT) {
	case S_IFDIR:
		if (mkdirat(dirfd, name, 0700) < 0) {
			rc = -errno;
			goto out;
		}
		fd = openat(dirfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
		rc = export_dir(s, vpath, fd, hrel);
		break;
	case S_IFREG:
		rc = export_file(s, vpath, dirfd, name, &fd);
		break;
	case S_IFLNK:
		rc = vlink_read(v, vpath, target);
		if (rc == 0 && symlinkat(target, dirfd, name) < 0)
			rc = -errno;
		break;
	default:
		if (mknodat(dirfd, name, a.mode, a.rdev) < 0)
			rc = -errno;
		break;
	}
	if (rc < 0)
		goto out;
	rc = export_meta(s, fd, dirfd, name, &a);
	if (rc == 0 && !S_ISDIR(a.mode) && a.nlink > 1)
		rc = link_add(&s->links, a.dev, a.ino, hrel);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		copy_fail(s, vpath, rc);
}

/* Copy the contents of VFS directory vpath into the host directory dirfd,
 * whose path relative to HOSTDIR is hrel ("" for HOSTDIR itself). */
static int export_dir(copy_state *s, const char *vpath, int dirfd,
                      const char *hrel)
{
	dlist d;
	int rc;

	rc = vdir_list(s->c->v, vpath, &d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d.n && !s->stop; i++) {
		char *vp = NULL, *hp = NULL;

		rc = path_join(vpath, d.names[i], &vp);
		if (rc == 0 && hrel[0] == '\0')
			hp = strdup(d.names[i]);
		else if (rc == 0)
			rc = path_join(hrel, d.names[i], &hp);
		if (rc == 0 && hp == NULL)
			rc = -ENOMEM;
		if (rc < 0)
			copy_fail(s, vpath, rc);
		else
			export_entry(s, vp, dirfd, d.names[i], hp);
		free(vp);
		free(hp);
	}
	dlist_free(&d);
	return 0;
}

/* True when a host directory descriptor lists nothing. */
static int hdir_empty(int fd)
{
	dlist d;
	int rc = hdir_list(fd, &d);

	if (rc < 0)
		return rc;
	rc = d.n == 0;
	dlist_free(&d);
	return rc;
}

static int cmd_export(cli *c, const cli_args *a)
{
	const char *vpath = a->argv[0], *host = a->argv[1];
	bool created = false;
	mode_t old_umask;
	copy_state s;
	vfs_attr va;
	int fd = -1, rc;

	memset(&s, 0, sizeof s);
	s.c = c;
	s.owners = geteuid() == 0;
	rc = vfs_stat(c->v, vpath, &va);
	if (rc == 0 && !S_ISDIR(va.mode))
		rc = -ENOTDIR;
	if (rc < 0)
		return cli_fail(c, vpath, rc);
	old_umask = umask(0);
	if (mkdir(host, 0700) == 0)
		created = true;
	else if (errno != EEXIST) {
		rc = cli_fail(c, host, -errno);
		goto out;
	}
	/* HOSTDIR itself may be a symlink the user chose; what we just
	 * created must not have been swapped for one. */
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	                        (created ? O_NOFOLLOW : 0));
	if (fd < 0) {
		rc = cli_fail(c, host, -errno);
		goto out;
	}
	if (!created) {
		rc = hdir_empty(fd);
		if (rc != 1) {
			rc = cli_fail(c, host, rc < 0 ? rc : -ENOTEMPTY);
			goto out;
		}
	}
	progress_init(&s.prog);
	s.rootfd = fd;
	rc = export_dir(&s, vpath, fd, "");
	if (rc < 0)
		cli_fail(c, vpath, rc);
	rc = export_meta(&s, fd, -1, NULL, &va);
	if (rc < 0)
		cli_fail(c, host, rc);
	progress_show(c, &s.prog, true);
	rc = c->failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	umask(old_umask);
	link_map_free(&s.links);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- watch ----------------------------------------------------------------
 */

static volatile sig_atomic_t watch_stop;

static void watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static const char *event_kind(uint32_t mask)
{
	switch (mask & ~VFS_EV_ISDIR) {
	case VFS_EV_ACCESS:
		return "ACCESS";
	case VFS_EV_MODIFY:
		return "MODIFY";
	case VFS_EV_ATTRIB:
		return "ATTRIB";
	case VFS_EV_CLOSE_WRITE:
		return "CLOSE_WRITE";
	case VFS_EV_MOVED_FROM:
		return "MOVED_FROM";
	case VFS_EV_MOVED_TO:
		return "MOVED_TO";
	case VFS_EV_CREATE:
		return "CREATE";
	case VFS_EV_DELETE:
		return "DELETE";
	case VFS_EV_DELETE_SELF:
		return "DELETE_SELF";
	case VFS_EV_MOVE_SELF:
		return "MOVE_SELF";
	case VFS_EV_OVERFLOW:
		return "OVERFLOW";
	case VFS_EV_IGNORED:
		return "IGNORED";
	default:
		return "UNKNOWN";
	}
}

/* A JSON string: valid UTF-8 is kept, control characters are escaped,
 * and each byte that is not part of valid UTF-8 becomes U+FFFD. */
static int json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = out_puts("\"");

	while (rc == 0 && *p != '\0') {
		size_t len = 0;

		if (*p == '"' || *p == '\\') {
			rc = out_printf("\\%c", *p++);
			continue;
		}
		if (*p < 0x20) {
			rc = out_printf("\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80)
			len = 1;
		else if (*p >= 0xc2 && *p <= 0xdf)
			len = 2;
		else if (*p >= 0xe0 && *p <= 0xef)
			len = 3;
		else if (*p >= 0xf0 && *p <= 0xf4)
			len = 4;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				len = 0;
		/* Overlong forms and surrogates are not valid either. */
		if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
		                 (p[0] == 0xed && p[1] >= 0xa0)))
			len = 0;
		if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) ||
		                 (p[0] == 0xf4 && p[1] >= 0x90)))
			len = 0;
		if (len == 0) {
			rc = out_puts("\\ufffd");
			p++;
			continue;
		}
		errno = 0;
		if (fwrite(p, 1, len, stdout) != len)
			rc = out_errno();
		p += len;
	}
	return rc == 0 ? out_puts("\"") : rc;
}

typedef struct watch_state {
	bool json;
	char base[VFS_PATH_MAX];
	int root_wd;
	bool pending; /* a MOVED_FROM waiting for its MOVED_TO */
	uint32_t pending_cookie, pending_mask;
	char pending_path[2 * VFS_PATH_MAX + 2];
} watch_state;

#define WATCH_PATH_MAX (2 * VFS_PATH_MAX + 2)

static void watch_path(const watch_state *w, const char *name, char *out)
{
	if (name[0] == '\0')
		snprintf(out, WATCH_PATH_MAX, "%s", w->base);
	else if (strcmp(w->base, "/") == 0)
		snprintf(out, WATCH_PATH_MAX, "/%s", name);
	else
		snprintf(out, WATCH_PATH_MAX, "%s/%s", w->base, name);
}

static int watch_print(const watch_state *w, const char *kind, const char *path,
                       const char *to, uint32_t mask)
{
	int rc;

	if (!w->json) {
		if (to != NULL)
			rc = out_printf("%s %s -> %s\n", kind, path, to);
		else if (path != NULL)
			rc = out_printf("%s %s\n", kind, path);
		else
			rc = out_printf("%s\n", kind);
		return rc == 0 ? out_flush() : rc;
	}
	rc = out_printf("{\"event\":\"%s\"", kind);
	if (rc == 0 && path != NULL) {
		rc = out_puts(to != NULL ? ",\"from\":" : ",\"path\":");
		if (rc == 0)
			rc = json_string(path);
	}
	if (rc == 0 && to != NULL) {
		rc = out_puts(",\"to\":");
		if (rc == 0)
			rc = json_string(to);
	}
	if (rc == 0 && path != NULL)
		rc = out_printf(",\"dir\":%s",
		                mask & VFS_EV_ISDIR ? "true" : "false");
	if (rc == 0)
		rc = out_puts("}\n");
	return rc == 0 ? out_flush() : rc;
}

static int watch_flush_pending(watch_state *w)
{
	if (!w->pending)
		return 0;
	w->pending = false;
	return watch_print(w, "MOVED_FROM", w->pending_path, NULL,
	                   w->pending_mask);
}

/* Handle one record; returns 1 when the watched path went away. */
static int watch_event(watch_state *w, const vfs_event *ev, const char *name)
{
	char path[2 * VFS_PATH_MAX + 2];
	uint32_t kind = ev->mask & ~VFS_EV_ISDIR;
	int rc;

	if (kind == VFS_EV_OVERFLOW) {
		rc = watch_flush_pending(w);
		return rc < 0 ? rc : watch_print(w, "OVERFLOW", NULL, NULL, 0);
	}
	watch_path(w, name, path);
	if (kind == VFS_EV_MOVED_TO && w->pending &&
	    w->pending_cookie == ev->cookie && ev->cookie != 0) {
		w->pending = false;
		return watch_print(w, "MOVED", w->pending_path, path, ev->mask);
	}
	rc = watch_flush_pending(w);
	if (rc < 0)
		return rc;
	if (kind == VFS_EV_MOVED_FROM && ev->cookie != 0) {
		w->pending = true;
		w->pending_cookie = ev->cookie;
		w->pending_mask = ev->mask;
		memcpy(w->pending_path, path, sizeof path);
		return 0;
	}
	if (kind == VFS_EV_IGNORED)
		return ev->wd == w->root_wd ? 1 : 0;
	return watch_print(w, event_kind(ev->mask), path, NULL, ev->mask);
}

/* Read and print every pending record. Returns 0, 1 when the watched
 * path went away, or an exit status after reporting a failure. */
static int watch_drain(cli *c, watch_state *w, vfs_watcher *wt, char *buf,
                       size_t size)
{
	int64_t n;
	int rc, gone = 0;

	while ((n = vfs_watcher_read(wt, buf, size)) > 0) {
		for (int64_t off = 0; off + (int64_t)sizeof(vfs_event) <= n;) {
			char name[VFS_PATH_MAX];
			vfs_event ev;
			size_t len;

			/* Copied out: records need not be aligned. */
			memcpy(&ev, buf + off, sizeof ev);
			len = ev.len < sizeof name ? ev.len : sizeof name - 1;
			memcpy(name, buf + off + sizeof ev, len);
			name[len] = '\0';
			off += (int64_t)(sizeof ev + ev.len);
			rc = watch_event(w, &ev, name);
			if (rc < 0)
				return cli_out_fail(c, rc);
			if (rc == 1)
				gone = 1;
		}
	}
	if (n < 0)
		return cli_fail(c, w->base, (int)n);
	return gone;
}

static int cmd_watch(cli *c, const cli_args *a)
{
	const size_t bufsize = 64 * 1024;
	const char *path = a->argv[0];
	struct sigaction sa;
	sigset_t block, orig;
	vfs_watcher *wt = NULL;
	watch_state *w = NULL;
	char *buf = NULL;
	int rc, status = CLI_EXIT_OK, chain_status = CLI_EXIT_OK;

	w = calloc(1, sizeof *w);
	buf = malloc(bufsize);
	if (w == NULL || buf == NULL) {
		status = cli_fail(c, path, -ENOMEM);
		goto out;
	}
	w->json = (a->flags & CLI_FLAG('J')) != 0;
	rc = vfs_realpath(c->v, path, w->base, sizeof w->base);
	if (rc < 0) {
		status = cli_fail(c, path, rc);
		goto out;
	}

	/* The signals stay blocked except inside ppoll, so one that
	 * arrives between the check of watch_stop and the wait is not
	 * missed. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rc = vfs_watcher_new(c->v, &wt, NULL);
	if (rc < 0) {
		status = cli_fail(c, path, rc);
		goto restore;
	}
	rc = vfs_watch_add(wt, path, VFS_EV_ALL,
	                   a->flags & CLI_FLAG('r') ? VFS_WATCH_RECURSIVE : 0);
	if (rc < 0) {
		status = cli_fail(c, path, rc);
		goto restore;
	}
	w->root_wd = rc;

	/*
	 * The rest of a chain runs now, with the watch in place, and the
	 * events of each command are printed after it. This is what makes
	 * watch useful on a memory store, which no other process can see.
	 * A failing command ends the chain, not the watch; its status
	 * becomes watch's.
	 */
	while (c->next < c->nchain && chain_status == CLI_EXIT_OK &&
	       !watch_stop) {
		const cli_args *next = &c->chain[c->next++];

		c->cmd = next->cmd->name;
		c->failed = false;
		chain_status = next->cmd->run(c, next);
		c->cmd = "watch";
		if (chain_status == CLI_EXIT_PIPE) {
			status = chain_status;
			goto restore;
		}
		rc = watch_drain(c, w, wt, buf, bufsize);
		if (rc > 1) {
			status = rc;
			goto restore;
		}
		if (rc == 1)
			watch_stop = 1;
	}
	c->next = c->nchain;

	while (!watch_stop) {
		struct pollfd pfd = {.fd = vfs_watcher_fd(wt),
		                     .events = POLLIN};
		/* A MOVED_FROM waits briefly for its MOVED_TO. */
		struct timespec brief = {0, 100 * 1000 * 1000};

		rc = ppoll(&pfd, 1, w->pending ? &brief : NULL, &orig);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			status = cli_fail(c, path, -errno);
			break;
		}
		if (rc == 0) {
			rc = watch_flush_pending(w);
			if (rc < 0) {
				status = cli_out_fail(c, rc);
				break;
			}
			continue;
		}
		rc = watch_drain(c, w, wt, buf, bufsize);
		if (rc > 1) {
			status = rc;
			goto restore;
		}
		if (rc == 1)
			break;
	}
	rc = watch_flush_pending(w);
	if (rc < 0 && status == CLI_EXIT_OK)
		status = cli_out_fail(c, rc);
	if (status == CLI_EXIT_OK)
		status = chain_status;
restore:
	if (wt != NULL)
		vfs_watcher_free(wt);
	sigprocmask(SIG_SETMASK, &orig, NULL);
out:
	free(buf);
	free(w);
	return status;
}

/* ---- fsck -----------------------------------------------------------------
 */

/* The DBFILE of a "sqlite:DBFILE[,opt]..." spec, unescaped as the
 * library's SPEC parser does; *ro tells whether ",ro" was given. */
static char *spec_sqlite_file(const char *spec, bool *ro)
{
	const char *prefix = "sqlite:";
	const char *r;
	char *file, *w;

	*ro = false;
	if (strncmp(spec, prefix, strlen(prefix)) != 0)
		return NULL;
	file = malloc(strlen(spec) + 1);
	if (file == NULL)
		return NULL;
	w = file;
	for (r = spec + strlen(prefix); *r != '\0' && *r != ','; r++) {
		if (*r == '\\' && r[1] != '\0')
			r++;
		*w++ = *r;
	}
	*w = '\0';
	while (*r == ',') {
		const char *opt = ++r;

		while (*r != '\0' && *r != ',') {
			if (*r == '\\' && r[1] != '\0')
				r++;
			r++;
		}
		if ((size_t)(r - opt) == 2 && strncmp(opt, "ro", 2) == 0)
			*ro = true;
		else if ((size_t)(r - opt) == 2 && strncmp(opt, "rw", 2) == 0)
			*ro = false;
	}
	return file;
}

/* Print a report with each line prefixed by the database file. */
static int fsck_print_report(const char *file, const char *report)
{
	const char *p = report;
	int rc = 0;

	while (rc == 0 && *p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		rc = out_printf("%s: %.*s\n", file, len, p);
		p += len + (nl != NULL);
	}
	return rc;
}

static int cmd_fsck(cli *c, const cli_args *a)
{
	const size_t replen = 256 * 1024;
	bool repair = (a->flags & CLI_FLAG('r')) != 0;
	int status = CLI_EXIT_OK, stores = 0, rc;
	char *report = malloc(replen);

	if (report == NULL)
		return cli_fail(c, NULL, -ENOMEM);
	for (size_t i = 0; i < c->nmounts; i++) {
		const char *spec = strchr(c->mounts[i], '=') + 1;
		bool ro;
		char *file = spec_sqlite_file(spec, &ro);
		int found;

		if (file == NULL)
			continue;
		stores++;
		report[0] = '\0';
		found = vfs_sqlite_fsck(file,
		                        repair && !ro ? VFS_FSCK_REPAIR : 0,
		                        report, replen);
		if (found < 0) {
			status = cli_fail(c, file, found);
			free(file);
			continue;
		}
		rc = fsck_print_report(file, report);
		if (rc == 0 && strlen(report) + 1 >= replen)
			rc = out_printf("%s: (report cut short)\n", file);
		if (rc == 0 && found == 0) {
			rc = out_printf("%s: clean\n", file);
		} else if (rc == 0 && repair && !ro) {
			/* Check again: integrity errors are not repaired. */
			int left = vfs_sqlite_fsck(file, 0, NULL, 0);

			if (left == 0)
				rc = out_printf("%s: %d problem%s repaired\n",
				                file, found,
				                found == 1 ? "" : "s");
			else
				rc = out_printf("%s: %d problem%s found, %d "
				                "left after repair\n",
				                file, found,
				                found == 1 ? "" : "s",
				                left < 0 ? found : left);
			if (left != 0)
				status = CLI_EXIT_FAIL;
		} else if (rc == 0) {
			rc = out_printf("%s: %d problem%s found%s\n", file,
			                found, found == 1 ? "" : "s",
			                repair ? " (read-only, not repaired)"
			                       : "");
			status = CLI_EXIT_FAIL;
		}
		free(file);
		if (rc < 0) {
			status = cli_out_fail(c, rc);
			break;
		}
	}
	free(report);
	if (stores == 0 && status == CLI_EXIT_OK)
		return cli_usage("fsck: no sqlite store given with -m");
	return status;
}

/* ---- The command table and help -------------------------------------------
 */

static int cmd_help(cli *c, const cli_args *a);

static const cli_cmd cli_cmds[] = {
        {"ls", "l", NULL, 0, 0, 64, true, cmd_ls, "ls [-l] [PATH]...",
         "list directory entries",
         "List a directory's entries, sorted by name, one per line; \".\"\n"
         "and \"..\" are left out, names starting with a dot are shown.\n"
         "A PATH that is not a directory is shown itself. Mount points\n"
         "appear as directories. Without PATH, lists \"/\". With several\n"
         "PATHs each listing starts with a \"PATH:\" line.\n"
         "\n"
         "  -l  long format: type and permissions, links, owner and group\n"
         "      (as numbers: a store's ids need not be this host's\n"
         "      users), size (\"major, minor\" for devices), modification\n"
         "      time in local time, name, and \" -> TARGET\" for symlinks.\n"},
        {"cat", "", NULL, 0, 1, 64, true, cmd_cat, "cat PATH...", "print files",
         "Write the contents of each file to standard output, in order.\n"
         "Symlinks are followed inside the namespace. FIFOs, sockets and\n"
         "device nodes are never opened (\"No such device or address\").\n"
         "A file that fails is reported and the others are still shown.\n"},
        {"get", "", NULL, 0, 1, 1, true, cmd_get, "get PATH",
         "copy one file to standard output",
         "Copy one file, byte for byte, to standard output, for use in a\n"
         "redirection or a pipe: vfs -m /=sqlite:t.db get /a.png >a.png\n"
         "A directory is refused (\"Is a directory\").\n"},
        {"put", "", NULL, 0, 1, 1, true, cmd_put, "put PATH",
         "copy standard input into a file",
         "Copy standard input into the file PATH, created if missing (mode\n"
         "0666 less this process's umask) or truncated, as a shell's \">\"\n"
         "redirection does: an existing file keeps its mode, owner and\n"
         "other links. The parent directory must exist.\n"},
        {"mkdir", "p", NULL, 0, 1, 64, true, cmd_mkdir, "mkdir [-p] PATH...",
         "create directories",
         "Create each directory with mode 0777 less this process's umask.\n"
         "\n"
         "  -p  create missing parents as well, and accept a directory\n"
         "      that exists already.\n"},
        {"rm", "rf", NULL, 0, 1, 64, true, cmd_rm, "rm [-r] [-f] PATH...",
         "remove names (-r: whole trees)",
         "Remove each name. A symlink is removed itself, never its target.\n"
         "An open file in another process of a shared store stays readable\n"
         "there until closed.\n"
         "\n"
         "  -r  remove directories and everything below them. Mount points\n"
         "      are crossed (their contents go) but cannot be removed\n"
         "      themselves (\"Device or resource busy\"), so their parents\n"
         "      stay. \"rm -r /\" empties the root, which itself stays.\n"
         "  -f  say nothing about names that do not exist.\n"},
        {"mv", "", NULL, 0, 2, 2, true, cmd_mv, "mv FROM TO",
         "rename, or move into a directory",
         "Rename FROM to TO, replacing TO if it is a file or an empty\n"
         "directory. When TO is an existing directory, FROM moves into it\n"
         "under its own name. Moving across mounts is refused\n"
         "(\"Invalid cross-device link\"), as is moving a mount point.\n"},
        {"ln", "s", NULL, 0, 2, 2, true, cmd_ln, "ln [-s] TARGET PATH",
         "make a hard link (-s: a symbolic link)",
         "Create PATH as a hard link to the file TARGET. When PATH is an\n"
         "existing directory, the link is made inside it under TARGET's\n"
         "last component.\n"
         "\n"
         "  -s  make a symbolic link holding the text TARGET instead.\n"
         "      When followed, it resolves inside the namespace: an\n"
         "      absolute TARGET starts at the namespace's \"/\" and \"..\"\n"
         "      never leaves it, whatever store holds the link.\n"},
        {"stat", "L", NULL, 0, 1, 64, true, cmd_stat, "stat [-L] PATH...",
         "show attributes",
         "Show each entry's attributes: size, blocks, type, device (the\n"
         "mount), inode number (unique in the namespace), links, mode,\n"
         "owner, and access, modification and change times with\n"
         "nanoseconds in local time. A symlink is shown itself.\n"
         "\n"
         "  -L  follow a final symlink and show its target's attributes.\n"},
        {"tree", "", NULL, 0, 0, 1, true, cmd_tree, "tree [PATH]",
         "draw a directory tree",
         "Draw the tree below PATH (\"/\" by default) with ASCII lines,\n"
         "entries sorted by name, symlinks as \"NAME -> TARGET\" (never\n"
         "followed), then a count of directories and other entries.\n"},
        {"import", "", NULL, 0, 2, 2, true, cmd_import, "import HOSTDIR PATH",
         "copy a host directory in",
         "Copy the host directory HOSTDIR into the namespace at PATH, which\n"
         "must be missing (it is created; its parent must exist) or an\n"
         "empty directory: nothing is merged or overwritten. PATH then\n"
         "takes HOSTDIR's mode and times.\n"
         "\n"
         "Copied: regular files, directories, symlinks (as symlinks, never\n"
         "followed), FIFOs, sockets and device nodes (as nodes; a disk\n"
         "store refuses devices unless mounted with \",devices\"), and hard\n"
         "links (files sharing one host inode share one inode in the\n"
         "store). Kept: permission bits including setuid, setgid and\n"
         "sticky (a disk store drops setuid/setgid unless \",suid\"),\n"
         "access and modification times to the nanosecond, and owners\n"
         "when run as root. The host tree is read without changing its\n"
         "access times where the kernel allows (O_NOATIME).\n"
         "\n"
         "An entry that cannot be copied is reported and the rest goes on;\n"
         "the exit status is then 1. On a terminal, copies that run over a\n"
         "second show a progress line on standard error.\n"},
        {"export", "", NULL, 0, 2, 2, true, cmd_export, "export PATH HOSTDIR",
         "copy a directory out to the host",
         "Copy the namespace directory PATH to the host directory HOSTDIR,\n"
         "keeping what import keeps (file kinds, hard links, modes, access\n"
         "and modification times, and owners when run as root). HOSTDIR\n"
         "must be missing (it is created) or an empty directory; it then\n"
         "takes PATH's mode and times. Nothing is merged or overwritten.\n"
         "\n"
         "Nothing is written outside HOSTDIR, whatever names the store\n"
         "holds: HOSTDIR is opened once and every entry is created\n"
         "relative to the descriptor of its directory (mkdirat, openat\n"
         "with O_CREAT|O_EXCL|O_NOFOLLOW, symlinkat, mknodat, linkat),\n"
         "never through a path string and never following a host symlink;\n"
         "a name that is empty, \".\", \"..\" or holds a '/' is refused\n"
         "(\"Invalid argument\"). Symlinks are copied as symlinks with the\n"
         "same target text, which the host then resolves its own way.\n"
         "\n"
         "Errors, the exit status and the progress line are as for import.\n"},
        {"watch", "r", "json", 'J', 1, 1, true, cmd_watch,
         "watch [-r] [--json] PATH", "print changes as they happen",
         "Print one line per change at or below PATH until interrupted by\n"
         "SIGINT, SIGTERM or SIGHUP (exit status 0). Each line is\n"
         "\"KIND PATH\" with PATH absolute in the namespace; a rename seen\n"
         "from both sides is one line \"MOVED FROM -> TO\". KIND is one of\n"
         "CREATE, DELETE, MODIFY, ATTRIB, CLOSE_WRITE, MOVED_FROM (moved\n"
         "out of sight), MOVED_TO (moved in), DELETE_SELF, MOVE_SELF, and\n"
         "OVERFLOW (events were lost; rescan what you track). The watch\n"
         "ends by itself when PATH is deleted. Lines are flushed as they\n"
         "are printed.\n"
         "\n"
         "Memory and SQLite stores report the changes made through this\n"
         "process's namespace; a disk store also reports changes made by\n"
         "other host processes (through inotify, once the disk store has\n"
         "it). In a chain, the commands after watch run once the watch is\n"
         "in place, and the events of each are printed after its output;\n"
         "then watch goes on until interrupted. If one of them fails, the\n"
         "rest of the chain is skipped and watch, when interrupted, exits\n"
         "with its status. This is how a memory store is watched:\n"
         "  vfs -m /=memory mkdir /w \\; watch -r /w \\; mkdir /w/a \\; \\\n"
         "      mv /w/a /w/b\n"
         "prints \"CREATE /w/a\" and \"MOVED /w/a -> /w/b\", then waits.\n"
         "\n"
         "  -r      watch every directory below PATH too, including ones\n"
         "          created later.\n"
         "  --json  print one JSON object per line instead:\n"
         "          {\"event\":\"CREATE\",\"path\":\"/a\",\"dir\":false}\n"
         "          {\"event\":\"MOVED\",\"from\":\"/a\",\"to\":\"/b\","
         "\"dir\":false}\n"
         "          {\"event\":\"OVERFLOW\"}\n"
         "          Bytes of a name that are not valid UTF-8 become\n"
         "          U+FFFD.\n"},
        {"fsck", "r", "repair", 'r', 0, 0, false, cmd_fsck,
         "fsck [-r|--repair]", "check and repair SQLite stores",
         "Check every SQLite store given with -m (other stores are skipped;\n"
         "nothing is mounted, so a store too damaged to mount can still be\n"
         "checked): SQLite's integrity check, the schema, inodes, names,\n"
         "dangling entries, link counts, blocks against sizes, and orphaned\n"
         "inodes. Each problem is printed as \"DBFILE: problem\", then a\n"
         "summary line \"DBFILE: clean\", \"DBFILE: N problems found\" or\n"
         "\"DBFILE: N problems repaired\". Other processes may use the store\n"
         "meanwhile.\n"
         "\n"
         "  -r, --repair  fix what can be fixed (dangling entries, stray\n"
         "                blocks, link counts, sizes, orphans), then check\n"
         "                again. Stores given with \",ro\" are only\n"
         "                checked.\n"
         "\n"
         "Exit status: 0 when every store is clean (or fully repaired), 1\n"
         "when problems remain or a store cannot be checked.\n"},
        {"help", "", NULL, 0, 0, 1, false, cmd_help, "help [COMMAND]",
         "show help", "Show the help for COMMAND, or for vfs itself.\n"},
};

#define CLI_NCMDS (sizeof cli_cmds / sizeof cli_cmds[0])

static const char cli_help_text[] =
        "usage: vfs [-m VPATH=SPEC]... COMMAND [ARGS] [';' COMMAND "
        "[ARGS]]...\n"
        "       vfs COMMAND --help | vfs --help | vfs --version\n"
        "\n"
        "Use a libvfs namespace from the shell, without FUSE: list, read,\n"
        "write, copy in and out, watch and check stores. Every path is\n"
        "resolved by the library's own walk, so a disk store is as confined\n"
        "here as in any program using libvfs: symlinks and \"..\" never lead\n"
        "out of the namespace.\n"
        "\n"
        "Options (before COMMAND):\n"
        "  -m VPATH=SPEC  mount a store at VPATH; repeatable, mounted in the\n"
        "                 order given. SPEC is one of\n"
        "                   memory            a tree in RAM, gone when vfs "
        "exits\n"
        "                   disk:HOSTDIR      a host directory, confined\n"
        "                   sqlite:DBFILE     an SQLite database file,\n"
        "                                     created if missing\n"
        "                 followed by \",ro\" (read-only) and \",key=value\"\n"
        "                 options (memory: size=64M, inodes=100000,\n"
        "                 maxfile=1G; disk: devices, suid, xdev, noatime;\n"
        "                 sqlite: sync=full, maxfile=1G, maxdb=10G,\n"
        "                 busy_timeout=MS, blocksize=64K, pagesize=4K).\n"
        "                 A ',' or '\\' in a file name is escaped with '\\'.\n"
        "  -h, --help     show this help (\"vfs COMMAND --help\" and\n"
        "                 \"vfs help COMMAND\" show a command's)\n"
        "  --version      show the version\n"
        "\n"
        "At least one -m is required (fsck reads its stores from -m as\n"
        "well): each run of vfs is a new process, so an implicit memory root\n"
        "would silently lose whatever a command wrote. Without a -m for \"/\"\n"
        "the root is an empty read-only directory holding the mount points.\n"
        "\n"
        "Commands (\"vfs COMMAND --help\" for each):\n"
        "%s"
        "\n"
        "Chains: several commands separated by a ';' argument (quote it\n"
        "from the shell: ';' or \\;) run in order on one namespace and stop\n"
        "at the first that fails. This is how a memory store is used for\n"
        "more than one command:\n"
        "  vfs -m /=memory import ./fixture /t \\; ls -l /t \\; export /t out\n"
        "watch runs the commands after it with its watch in place (see\n"
        "vfs watch --help).\n"
        "\n"
        "Paths: absolute or relative, both start at the namespace root.\n"
        "Host paths (HOSTDIR) are ordinary paths of this process.\n"
        "\n"
        "Output: when standard output is a pipe whose reader has gone away\n"
        "(vfs cat /big | head -1), vfs stops quietly, closes every store\n"
        "cleanly and exits with status 141 (128 + SIGPIPE, what a shell\n"
        "reports for a program killed by SIGPIPE), so pipelines behave as\n"
        "with cat(1), also under \"set -o pipefail\".\n"
        "\n"
        "Exit status:\n"
        "  0    success\n"
        "  1    an operation failed; each failure is reported on standard\n"
        "       error as \"vfs: COMMAND PATH: error text\"\n"
        "  2    usage error (bad option, argument count or -m): one line\n"
        "  141  standard output was closed early\n"
        "\n"
        "Examples:\n"
        "  vfs -m /=sqlite:tree.db mkdir -p /docs\n"
        "  echo hello | vfs -m /=sqlite:tree.db put /docs/hello.txt\n"
        "  vfs -m /=sqlite:tree.db ls -l /docs\n"
        "  vfs -m /=sqlite:tree.db import ~/project /project\n"
        "  vfs -m /=sqlite:tree.db -m /host=disk:/srv/data,ro tree /\n"
        "  vfs -m /=sqlite:tree.db fsck --repair\n";

static void print_help(void)
{
	char list[4096];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < CLI_NCMDS && used < sizeof list; i++) {
		int n = snprintf(list + used, sizeof list - used,
		                 "  %-26s %s\n", cli_cmds[i].synopsis,
		                 cli_cmds[i].summary);

		if (n > 0)
			used += (size_t)n;
	}
	printf(cli_help_text, list);
}

static void print_cmd_help(const cli_cmd *cmd)
{
	printf("usage: vfs [-m VPATH=SPEC]... %s\n\n%s\n"
	       "Errors are reported as \"vfs: %s PATH: error text\" with exit\n"
	       "status 1; usage errors exit with status 2 (see vfs --help).\n",
	       cmd->synopsis, cmd->help, cmd->name);
}

static const cli_cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < CLI_NCMDS; i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

static int cmd_help(cli *c, const cli_args *a)
{
	const cli_cmd *cmd;

	(void)c;
	if (a->argc == 0) {
		print_help();
		return CLI_EXIT_OK;
	}
	cmd = cmd_find(a->argv[0]);
	if (cmd == NULL)
		return cli_usage("help: unknown command '%s'", a->argv[0]);
	print_cmd_help(cmd);
	return CLI_EXIT_OK;
}

/* ---- Argument parsing -----------------------------------------------------
 */

/* Parse one command's words; 1 when --help was asked for (printed), 0
 * when parsed, or CLI_EXIT_USAGE after printing a message. */
static int parse_cmd(char **words, int n, cli_args *out)
{
	const cli_cmd *cmd;
	bool opts = true;

	memset(out, 0, sizeof *out);
	cmd = cmd_find(words[0]);
	if (cmd == NULL)
		return -cli_usage("unknown command '%s'", words[0]);
	out->cmd = cmd;
	out->argv = words + 1;
	for (int i = 1; i < n; i++) {
		const char *w = words[i];

		if (opts && strcmp(w, "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && w[0] == '-' && w[1] == '-') {
			if (strcmp(w, "--help") == 0) {
				print_cmd_help(cmd);
				return 1;
			}
			if (cmd->longopt != NULL &&
			    strcmp(w + 2, cmd->longopt) == 0) {
				out->flags |= CLI_FLAG(cmd->longletter);
				continue;
			}
			return -cli_usage("%s: unknown option '%s'", cmd->name,
			                  w);
		}
		if (opts && w[0] == '-' && w[1] != '\0') {
			for (const char *f = w + 1; *f != '\0'; f++) {
				if (*f == 'h') {
					print_cmd_help(cmd);
					return 1;
				}
				if (strchr(cmd->shortopts, *f) == NULL)
					return -cli_usage("%s: unknown option "
					                  "'-%c'",
					                  cmd->name, *f);
				out->flags |= CLI_FLAG(*f);
			}
			continue;
		}
		out->argv[out->argc++] = words[i];
	}
	if (out->argc < cmd->min_args)
		return -cli_usage("%s: missing argument (usage: vfs %s)",
		                  cmd->name, cmd->synopsis);
	if (out->argc > cmd->max_args)
		return -cli_usage("%s: too many arguments (usage: vfs %s)",
		                  cmd->name, cmd->synopsis);
	return 0;
}

/* Mount each -m; returns an exit status. */
static int mount_all(cli *c)
{
	char err[512];

	for (size_t i = 0; i < c->nmounts; i++) {
		char *m = c->mounts[i], *eq = strchr(m, '=');
		int rc;

		*eq = '\0';
		rc = vfs_mount_spec(c->v, m, eq + 1, err, sizeof err);
		*eq = '=';
		if (rc == 0)
			continue;
		if (rc == -EINVAL || rc == -EPROTONOSUPPORT)
			return cli_usage("-m %s: %s", m,
			                 err[0] != '\0' ? err
			                                : vfs_strerror(rc));
		/* The store's message may end with the errno text already. */
		if (err[0] != '\0' && strstr(err, vfs_strerror(rc)) != NULL)
			fprintf(stderr, "vfs: -m %s: %s\n", m, err);
		else if (err[0] != '\0')
			fprintf(stderr, "vfs: -m %s: %s: %s\n", m, err,
			        vfs_strerror(rc));
		else
			fprintf(stderr, "vfs: -m %s: %s\n", m,
			        vfs_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	cli c = {0};
	cli_args *chain = NULL;
	int nchain = 0, i, status = CLI_EXIT_OK, rc;
	bool needs_vfs = false;
	mode_t mask;

	signal(SIGPIPE, SIG_IGN);
	c.mounts = calloc((size_t)argc, sizeof *c.mounts);
	chain = calloc((size_t)argc, sizeof *chain);
	if (c.mounts == NULL || chain == NULL) {
		fprintf(stderr, "vfs: %s\n", vfs_strerror(-ENOMEM));
		status = CLI_EXIT_FAIL;
		goto out;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *m = NULL;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help();
			goto out;
		}
		if (strcmp(a, "--version") == 0) {
			printf("vfs (libvfs) %s\n", VFS_VERSION_STRING);
			goto out;
		}
		if (strcmp(a, "-m") == 0) {
			if (i + 1 == argc) {
				status = cli_usage("-m needs VPATH=SPEC");
				goto out;
			}
			m = argv[++i];
		} else if (strncmp(a, "-m", 2) == 0) {
			m = a + 2;
		} else if (a[0] == '-' && a[1] != '\0') {
			status = cli_usage("unknown option '%s'", a);
			goto out;
		} else {
			break;
		}
		if (m[0] == '=' || strchr(m, '=') == NULL ||
		    strchr(m, '=')[1] == '\0') {
			status = cli_usage("-m %s: expected VPATH=SPEC", m);
			goto out;
		}
		c.mounts[c.nmounts++] = (char *)m;
	}
	if (i == argc) {
		status = cli_usage("no command given");
		goto out;
	}

	/* Parse the whole chain before running any of it. */
	while (i < argc) {
		int start = i;

		while (i < argc && strcmp(argv[i], ";") != 0)
			i++;
		if (i == start) {
			status = cli_usage("empty command in a chain");
			goto out;
		}
		rc = parse_cmd(argv + start, i - start, &chain[nchain]);
		if (rc == 1)
			goto out; /* --help */
		if (rc < 0) {
			status = -rc;
			goto out;
		}
		if (chain[nchain].cmd->needs_vfs)
			needs_vfs = true;
		nchain++;
		if (i < argc && i + 1 == argc) {
			status = cli_usage("empty command in a chain");
			goto out;
		}
		i++; /* the ';' */
	}
	if (nchain == 1 && chain[0].cmd->run == cmd_help) {
		c.cmd = "help";
		status = cmd_help(&c, &chain[0]);
		goto out;
	}
	if (c.nmounts == 0) {
		status = cli_usage("no store mounted: give -m VPATH=SPEC, "
		                   "for example -m /=sqlite:tree.db");
		goto out;
	}

	c.buf = malloc(CLI_BUF_SIZE);
	if (c.buf == NULL) {
		fprintf(stderr, "vfs: %s\n", vfs_strerror(-ENOMEM));
		status = CLI_EXIT_FAIL;
		goto out;
	}
	if (needs_vfs) {
		rc = vfs_new(&c.v, NULL);
		if (rc < 0) {
			fprintf(stderr, "vfs: %s\n", vfs_strerror(rc));
			status = CLI_EXIT_FAIL;
			goto out;
		}
		status = mount_all(&c);
		if (status != CLI_EXIT_OK)
			goto out;
		mask = umask(0);
		umask(mask);
		vfs_umask(c.v, mask);
	}

	/* watch runs the commands after it itself (c.next moves on). */
	c.chain = chain;
	c.nchain = nchain;
	while (c.next < nchain && status == CLI_EXIT_OK) {
		const cli_args *k = &chain[c.next++];

		c.cmd = k->cmd->name;
		c.failed = false;
		status = k->cmd->run(&c, k);
	}
	if (status != CLI_EXIT_PIPE) {
		rc = out_flush();
		if (rc < 0)
			status = cli_out_fail(&c, rc);
	}
out:
	if (status == CLI_EXIT_PIPE)
		fclose(stdout); /* drop what is buffered, quietly */
	vfs_free(c.v);
	free(c.buf);
	free(c.mounts);
	free(chain);
	return status;
}
