/*
 * fusefs/vfsmount.c: the vfsmount program.
 *
 *   vfsmount [FUSE options] [-m VPATH=SPEC]... MOUNTPOINT
 *
 * It holds, in order: option tables and parsing (our -m and -o options
 * first, then libfuse's own), building the namespace from the -m specs,
 * detaching into the background, and main(), which mounts, serves until
 * SIGINT/SIGTERM/SIGHUP or an external unmount, then unmounts and frees
 * the namespace (which flushes and closes every store).
 *
 * Every argument is checked before anything is mounted: a bad one prints
 * one line naming it and exits with status 2. When vfsmount detaches, the
 * parent waits until the child has mounted (or failed) and exits with the
 * child's status, so scripts see errors that only building the stores can
 * find (a missing HOSTDIR, an unreadable database).
 */
#include "fusefs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VFSMOUNT_EXIT_USAGE 2

/* ---- Options ------------------------------------------------------------ */

typedef struct vfsmount_opts {
	double entry_timeout;
	double attr_timeout;
	double negative_timeout;
	int negative_set; /* negative_timeout was given */
	int keep_cache;   /* -1: decide from the stores */
	int host_watch;   /* follow disk stores' host changes */
	int ro;
	char **mounts; /* "VPATH=SPEC" strings, in the order given */
	size_t nmounts;
	char *mountpoint;
	bool failed; /* a message naming the bad argument was printed */
} vfsmount_opts;

enum {
	VFSMOUNT_KEY_MOUNT,
	VFSMOUNT_KEY_RO,
	VFSMOUNT_KEY_RW,
};

#define VFSMOUNT_OPT(t, m, v)                                                  \
	{                                                                      \
		t, offsetof(vfsmount_opts, m), v                               \
	}

static const struct fuse_opt vfsmount_optspec[] = {
        VFSMOUNT_OPT("entry_timeout=%lf", entry_timeout, 0),
        VFSMOUNT_OPT("attr_timeout=%lf", attr_timeout, 0),
        VFSMOUNT_OPT("negative_timeout=%lf", negative_timeout, 0),
        VFSMOUNT_OPT("negative_timeout=", negative_set, 1),
        VFSMOUNT_OPT("keep_cache", keep_cache, 1),
        VFSMOUNT_OPT("no_keep_cache", keep_cache, 0),
        VFSMOUNT_OPT("host_watch", host_watch, 1),
        VFSMOUNT_OPT("no_host_watch", host_watch, 0),
        FUSE_OPT_KEY("-m ", VFSMOUNT_KEY_MOUNT),
        FUSE_OPT_KEY("ro", VFSMOUNT_KEY_RO),
        FUSE_OPT_KEY("rw", VFSMOUNT_KEY_RW),
        FUSE_OPT_END,
};

static void vfsmount_usage(void)
{
	printf("usage: vfsmount [FUSE options] [-m VPATH=SPEC]... MOUNTPOINT\n"
	       "\n"
	       "Mount a libvfs namespace at MOUNTPOINT.\n"
	       "\n"
	       "    -m VPATH=SPEC          mount a store at VPATH "
	       "(repeatable,\n"
	       "                           in order); SPEC is memory,\n"
	       "                           disk:HOSTDIR or sqlite:DBFILE, "
	       "then\n"
	       "                           optional ,ro and ,key=value "
	       "options\n"
	       "                           (memory: size=64M,inodes=100000,\n"
	       "                           maxfile=1G; disk: devices,suid,\n"
	       "                           xdev,noatime; sqlite: sync=full,\n"
	       "                           "
	       "maxfile=1G,maxdb=10G,busy_timeout=MS,\n"
	       "                           blocksize=64K,pagesize=4K).\n"
	       "                           Without a -m for \"/\",\n"
	       "                           the root is a fresh memory store.\n"
	       "    -o ro                  read-only: every store and the "
	       "mount\n"
	       "    -o entry_timeout=T     cache names for T seconds (1)\n"
	       "    -o attr_timeout=T      cache attributes for T seconds (1)\n"
	       "    -o negative_timeout=T  cache absent names for T seconds "
	       "(1; 0\n"
	       "                           with a disk store and host_watch)\n"
	       "    -o [no_]keep_cache     keep file pages across opens (on "
	       "unless\n"
	       "                           a disk store is mounted)\n"
	       "    -o [no_]host_watch     watch disk stores' host "
	       "directories and\n"
	       "                           drop cached names and attributes "
	       "as\n"
	       "                           they change there (on)\n"
	       "\n"
	       "default_permissions is always on: the kernel checks modes for\n"
	       "every caller, also with -o allow_other.\n"
	       "\n");
}

static int vfsmount_opt_proc(void *data, const char *arg, int key,
                             struct fuse_args *outargs)
{
	vfsmount_opts *o = data;
	char **grown;

	switch (key) {
	case VFSMOUNT_KEY_MOUNT:
		/* fuse_opt hands us "-m" glued to its parameter. */
		grown = realloc(o->mounts, (o->nmounts + 1) * sizeof *grown);
		if (grown == NULL)
			return -1;
		o->mounts = grown;
		o->mounts[o->nmounts] = strdup(arg + 2);
		if (o->mounts[o->nmounts] == NULL)
			return -1;
		o->nmounts++;
		return 0;
	case VFSMOUNT_KEY_RO:
		o->ro = 1;
		return 1; /* keep it: the kernel mount is read-only too */
	case VFSMOUNT_KEY_RW:
		o->ro = 0;
		return 1;
	case FUSE_OPT_KEY_NONOPT:
		if (o->mountpoint == NULL) {
			o->mountpoint = strdup(arg);
			return o->mountpoint == NULL ? -1 : 0;
		}
		fprintf(stderr, "vfsmount: unexpected argument '%s'\n", arg);
		o->failed = true;
		return -1;
	default:
		return 1; /* libfuse's, parsed later */
	}
}

/*
 * libfuse prints its own complaints ("fuse: unknown option(s): ...") in
 * pieces; give each line our program's name instead of "fuse:".
 */
static bool vfsmount_log_bol = true;

static void vfsmount_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static const char prefix[] = "fuse: ";
	size_t len;

	if (fmt == NULL)
		return;
	if (vfsmount_log_bol) {
		fputs("vfsmount: ", stderr);
		if (strncmp(fmt, prefix, sizeof prefix - 1) == 0)
			fmt += sizeof prefix - 1;
	}
	vfprintf(stderr, fmt, ap);
	len = strlen(fmt);
	vfsmount_log_bol = len > 0 && fmt[len - 1] == '\n';
}

static int vfsmount_check_timeout(const char *name, double t)
{
	/* Negative or NaN: the kernel takes the seconds unsigned. */
	if (!(t >= 0 && t <= 1e9)) {
		fprintf(stderr,
		        "vfsmount: -o %s=%g: must be between 0 and 1e9 "
		        "seconds\n",
		        name, t);
		return -1;
	}
	return 0;
}

/* True for a VPATH that names the namespace root ("/", "//", "/.", "."). */
static bool vfsmount_is_root(const char *path)
{
	const char *p = path;

	while (*p != '\0') {
		if (*p == '/')
			p++;
		else if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p++;
		else
			return false;
	}
	return true;
}

/* Split each "VPATH=SPEC" in place (the '=' becomes a NUL; specs[i]
 * points after it) and report the first malformed one. */
static int vfsmount_split_mounts(vfsmount_opts *o, const char **specs,
                                 bool *has_root)
{
	*has_root = false;
	for (size_t i = 0; i < o->nmounts; i++) {
		char *m = o->mounts[i];
		char *eq = strchr(m, '=');

		if (eq == NULL || eq == m || eq[1] == '\0') {
			fprintf(stderr,
			        "vfsmount: -m %s: expected VPATH=SPEC "
			        "(e.g. -m /=memory)\n",
			        m);
			return -1;
		}
		*eq = '\0';
		specs[i] = eq + 1;
		if (vfsmount_is_root(m))
			*has_root = true;
	}
	return 0;
}

/*
 * The daemon must never reach its own mount point (it would wait on
 * itself): a disk HOSTDIR or sqlite DBFILE inside MOUNTPOINT is refused.
 * The disk store holds a descriptor opened before the mount, but SQLite
 * opens its -wal and -shm files by name later, and both may be reopened.
 * Paths are compared after realpath(); a DBFILE that does not exist yet
 * is judged by its directory.
 */
static bool vfsmount_inside(const char *real_mnt, const char *path)
{
	size_t n = strlen(real_mnt);

	if (strcmp(real_mnt, "/") == 0)
		return true;
	return strncmp(path, real_mnt, n) == 0 &&
	       (path[n] == '/' || path[n] == '\0');
}

static int vfsmount_check_self(const vfsmount_opts *o, const char **specs)
{
	char *real_mnt = realpath(o->mountpoint, NULL);
	int rc = 0;

	if (real_mnt == NULL)
		return 0; /* the mount call will judge it */
	for (size_t i = 0; i < o->nmounts && rc == 0; i++) {
		const char *colon = strchr(specs[i], ':');
		char *arg, *real, *slash;
		bool sqlite;

		if (colon == NULL)
			continue;
		sqlite = strncmp(specs[i], "sqlite:", 7) == 0;
		if (!sqlite && strncmp(specs[i], "disk:", 5) != 0)
			continue;
		arg = strndup(colon + 1, strcspn(colon + 1, ","));
		if (arg == NULL)
			break;
		real = realpath(arg, NULL);
		if (real == NULL && sqlite) {
			/* Not created yet: look at its directory. */
			slash = strrchr(arg, '/');
			if (slash == arg)
				real = realpath("/", NULL);
			else if (slash != NULL) {
				*slash = '\0';
				real = realpath(arg, NULL);
			} else {
				real = realpath(".", NULL);
			}
		}
		if (real != NULL && vfsmount_inside(real_mnt, real)) {
			fprintf(stderr,
			        "vfsmount: -m %s=%s: %s is inside the mount "
			        "point %s\n",
			        o->mounts[i], specs[i], real, real_mnt);
			rc = -1;
		}
		free(real);
		free(arg);
	}
	free(real_mnt);
	return rc;
}

/* ---- Building the namespace --------------------------------------------- */

static int vfsmount_add(vfs *v, const char *path, const char *spec,
                        unsigned flags)
{
	char err[256] = "";
	vfs_store *s = NULL;
	int rc;

	rc = vfs_store_open(&s, spec, err, sizeof err);
	if (rc == 0) {
		rc = vfs_mount_add(v, path, s, flags);
		if (rc < 0) {
			vfs_store_free(s);
			snprintf(err, sizeof err, "cannot mount at %s: %s",
			         path, vfs_strerror(rc));
		}
	}
	if (rc < 0) {
		if (err[0] == '\0' && rc == -EPROTONOSUPPORT)
			snprintf(err, sizeof err,
			         "store kind not built into this vfsmount");
		else if (err[0] == '\0')
			snprintf(err, sizeof err, "%s", vfs_strerror(rc));
		fprintf(stderr, "vfsmount: -m %s=%s: %s\n", path, spec, err);
	}
	return rc;
}

/* The namespace: a memory root unless a -m names "/", then each -m in
 * the order given. */
static int vfsmount_build(vfs **out, const vfsmount_opts *o, const char **specs,
                          bool has_root)
{
	unsigned flags = o->ro ? VFS_MOUNT_RDONLY : 0;
	vfs_options vo;
	vfs *v = NULL;
	int rc;

	memset(&vo, 0, sizeof vo);
	vo.version = VFS_OPTIONS_VERSION;
	/* default_permissions: the kernel checks modes, not the core. */
	vo.flags = 0;
	rc = vfs_new(&v, &vo);
	if (rc < 0) {
		fprintf(stderr, "vfsmount: %s\n", vfs_strerror(rc));
		return rc;
	}
	if (!has_root) {
		rc = vfsmount_add(v, "/", "memory", flags);
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < o->nmounts; i++) {
		rc = vfsmount_add(v, o->mounts[i], specs[i], flags);
		if (rc < 0)
			goto fail;
	}
	*out = v;
	return 0;
fail:
	vfs_free(v);
	return rc;
}

/* ---- Detaching ---------------------------------------------------------- */

/*
 * Fork before the stores exist (so no store thread or lock is lost in the
 * fork). The parent waits for one status byte from the child: 0 once the
 * mount is up; on EOF the child failed and its exit status is ours.
 * Returns the write end of the pipe in the child.
 */
static int vfsmount_detach(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0) {
		perror("vfsmount: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("vfsmount: fork");
		return -1;
	}
	if (pid > 0) {
		unsigned char b;
		ssize_t n;
		int status;

		close(p[1]);
		do {
			n = read(p[0], &b, 1);
		} while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(b);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		_exit(1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

/* In the detached child, once mounted: release the parent and the
 * terminal. */
static void vfsmount_detached(int fd)
{
	unsigned char ok = 0;
	int null;

	if (chdir("/") < 0) {
		/* stores were opened already; the cwd is not needed */
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, &ok, 1) < 0) {
		/* the parent is gone: nobody to tell */
	}
	close(fd);
}

/* Follow the host directories of the disk stores (see inval.c). */
static int vfsmount_watch_host(fusefs *fs, const vfsmount_opts *o,
                               const char **specs, fusefs_inval **out)
{
	const char **paths = calloc(o->nmounts + 1, sizeof *paths);
	size_t n = 0;
	int rc;

	*out = NULL;
	if (paths == NULL)
		return -1;
	for (size_t i = 0; i < o->nmounts; i++)
		if (strncmp(specs[i], "disk:", 5) == 0)
			paths[n++] = o->mounts[i];
	rc = n > 0 ? fusefs_inval_new(fs, paths, n, out) : 0;
	free(paths);
	if (rc < 0)
		fprintf(stderr, "vfsmount: watching the host: %s\n",
		        vfs_strerror(rc));
	return rc;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cl;
	struct fuse_session *se = NULL;
	const char **specs = NULL;
	bool has_root = false, mounted = false, handlers = false;
	fusefs_inval *inval = NULL;
	vfsmount_opts o;
	fusefs fs;
	struct stat st;
	int status_fd = -1;
	int ret = VFSMOUNT_EXIT_USAGE;
	int rc;

	memset(&o, 0, sizeof o);
	memset(&cl, 0, sizeof cl);
	memset(&fs, 0, sizeof fs);
	o.entry_timeout = 1.0;
	o.attr_timeout = 1.0;
	o.negative_timeout = 1.0;
	o.keep_cache = -1;
	o.host_watch = 1;
	fuse_set_log_func(vfsmount_log);

	if (fuse_opt_parse(&args, &o, vfsmount_optspec, vfsmount_opt_proc) < 0)
		goto out;
	if (fuse_parse_cmdline(&args, &cl) != 0)
		goto out;
	if (cl.show_help) {
		vfsmount_usage();
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (cl.show_version) {
		printf("vfsmount %s (libvfs %s)\n", VFS_VERSION_STRING,
		       VFS_VERSION_STRING);
		printf("libfuse %s\n", fuse_pkgversion());
		fflush(stdout);
		fuse_lowlevel_version();
		ret = 0;
		goto out;
	}
	if (o.mountpoint == NULL) {
		fprintf(stderr, "vfsmount: no MOUNTPOINT given (see "
		                "vfsmount --help)\n");
		goto out;
	}
	if (vfsmount_check_timeout("entry_timeout", o.entry_timeout) < 0 ||
	    vfsmount_check_timeout("attr_timeout", o.attr_timeout) < 0 ||
	    vfsmount_check_timeout("negative_timeout", o.negative_timeout) < 0)
		goto out;
	specs = calloc(o.nmounts + 1, sizeof *specs);
	if (specs == NULL) {
		fprintf(stderr, "vfsmount: out of memory\n");
		goto out;
	}
	if (vfsmount_split_mounts(&o, specs, &has_root) < 0)
		goto out;
	if (stat(o.mountpoint, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			fprintf(stderr, "vfsmount: %s: %s\n", o.mountpoint,
			        strerror(errno));
			goto out;
		}
		/* Anything else (a stale mount: ENOTCONN) is for the mount
		 * call to judge. */
	} else if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vfsmount: %s: %s\n", o.mountpoint,
		        strerror(ENOTDIR));
		goto out;
	}
	if (vfsmount_check_self(&o, specs) < 0)
		goto out;
	for (size_t i = 0; i < o.nmounts; i++) {
		if (strncmp(specs[i], "disk", 4) != 0)
			continue;
		/* The host may change a disk store: no pages kept across
		 * opens, and with host_watch no absent names cached, so
		 * that a name created on the host needs no notification
		 * (one for each name made through the mount would cost a
		 * lookup each time; see inval.c). */
		if (o.keep_cache < 0)
			o.keep_cache = 0;
		if (o.host_watch && !o.negative_set)
			o.negative_timeout = 0;
	}
	if (o.keep_cache < 0)
		o.keep_cache = 1;

	/* Always on: the kernel checks modes with the caller's full
	 * credentials (all supplementary groups, which the daemon does not
	 * see), so allow_other never lets one user past another's
	 * permissions. */
	if (fuse_opt_add_arg(&args, "-odefault_permissions") < 0)
		goto out;
	/* Checks the remaining (libfuse) options; nothing is mounted yet. */
	se = fuse_session_new(&args, &fusefs_ll_ops, sizeof fusefs_ll_ops, &fs);
	if (se == NULL)
		goto out;

	if (!cl.foreground) {
		status_fd = vfsmount_detach();
		if (status_fd < 0) {
			ret = 1;
			goto out;
		}
	}
	if (vfsmount_build(&fs.v, &o, specs, has_root) < 0)
		goto out;
	rc = vfs_node_root(fs.v, &fs.root);
	if (rc < 0) {
		fprintf(stderr, "vfsmount: root: %s\n", vfs_strerror(rc));
		ret = 1;
		goto out;
	}
	fs.entry_timeout = o.entry_timeout;
	fs.attr_timeout = o.attr_timeout;
	fs.negative_timeout = o.negative_timeout;
	fs.keep_cache = o.keep_cache;

	ret = 1;
	if (o.host_watch && vfsmount_watch_host(&fs, &o, specs, &inval) < 0)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	handlers = true;
	if (fuse_session_mount(se, o.mountpoint) != 0)
		goto out;
	mounted = true;
	if (status_fd >= 0) {
		vfsmount_detached(status_fd);
		status_fd = -1;
	}
	if (inval != NULL && fusefs_inval_run(inval, se) < 0) {
		fprintf(stderr,
		        "vfsmount: cannot start the host watch thread\n");
		goto out;
	}

	if (cl.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		struct fuse_loop_config lc;

		memset(&lc, 0, sizeof lc);
		lc.clone_fd = cl.clone_fd;
		/* libfuse 3.14 reports "unset" (UINT_MAX) as invalid when
		 * it converts this older structure; pass its own default. */
		lc.max_idle_threads = cl.max_idle_threads <= 100000
		                              ? cl.max_idle_threads
		                              : 10;
		rc = fuse_session_loop_mt(se, &lc);
	}
	/* An unmount from outside (fusermount3 -u) ends the loop with 0,
	 * SIGINT/SIGTERM/SIGHUP with the signal's number: both are a
	 * clean shutdown. Only a negative value is an error. */
	ret = rc >= 0 ? 0 : 1;

out:
	fusefs_inval_stop(inval);
	if (mounted)
		fuse_session_unmount(se);
	fusefs_inval_free(inval);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se != NULL)
		fuse_session_destroy(se);
	/* Every store is flushed and closed here, after the kernel has let
	 * go of the mount. */
	if (fs.v != NULL) {
		vfs_node_put(fs.v, fs.root, 1);
		vfs_free(fs.v);
	}
	if (status_fd >= 0) {
		/* Failed in the detached child before mounting: EOF tells
		 * the parent to take our exit status. */
		close(status_fd);
	}
	for (size_t i = 0; i < o.nmounts; i++)
		free(o.mounts[i]);
	free(o.mounts);
	free(specs);
	free(o.mountpoint);
	free(cl.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
