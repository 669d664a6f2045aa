/*
 * Tests of the disk store's own guarantees, through the public API:
 * confinement (escape attempts through symlinks of every kind, and a race
 * in which another thread swaps a directory for a symlink to "/"), special
 * files, the devices/suid/xdev/ro options, host mount points, bounded
 * descriptors and the SPEC constructor. The conformance suite checks the
 * POSIX behaviour shared with the other stores.
 *
 * Each test gets a fresh base directory holding "tree" (the store's
 * HOSTDIR) and "outside" (a sentinel directory next to it). As root the
 * base is a small tmpfs mounted with strictatime, so that any read of a
 * sentinel moves its atime; otherwise the sentinel's atime is set older
 * than its mtime, which relatime also updates on the next read. An
 * inotify watch on "outside" proves that nothing there was even opened.
 */
#include "vfs/vfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- Fixture ------------------------------------------------------------ */

typedef struct fx {
	char base[256];
	char tree[300];
	char outside[300];
	char secret[340];
	bool tmpfs;
	vfs *v;
	int ifd; /* inotify on outside */
	struct stat sdir, sfile;
} fx;

#define SECRET_TEXT "SECRET CONTENTS\n"

static void host_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static vfs *fx_mount(fx *f, const char *opts)
{
	char spec[512], err[256] = "";
	vfs *v;

	snprintf(spec, sizeof spec, "disk:%s%s", f->tree, opts);
	assert_int_equal(vfs_new(&v, NULL), 0);
	if (vfs_mount_spec(v, "/", spec, err, sizeof err) != 0)
		fail_msg("mount %s: %s", spec, err);
	return v;
}

static int fx_setup_opts(void **state, const char *opts)
{
	fx *f = calloc(1, sizeof(*f));
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};

	assert_non_null(f);
	strcpy(f->base, "/tmp/vfs-disk-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	f->tmpfs = mount("tmpfs", f->base, "tmpfs", MS_STRICTATIME,
	                 "size=64m,nr_inodes=20000,mode=0755") == 0;
	snprintf(f->tree, sizeof f->tree, "%s/tree", f->base);
	snprintf(f->outside, sizeof f->outside, "%s/outside", f->base);
	snprintf(f->secret, sizeof f->secret, "%s/secret", f->outside);
	assert_int_equal(mkdir(f->tree, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	host_write(f->secret, SECRET_TEXT);
	assert_int_equal(utimensat(AT_FDCWD, f->secret, ts, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, f->outside, ts, 0), 0);
	f->ifd = -1;
	f->v = opts ? fx_mount(f, opts) : NULL;
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_opts(state, "");
}

static int fx_setup_nomount(void **state)
{
	return fx_setup_opts(state, NULL);
}

static int fx_teardown(void **state)
{
	fx *f = *state;

	vfs_free(f->v);
	if (f->ifd >= 0)
		close(f->ifd);
	if (f->tmpfs) {
		/* Anything a test mounted below goes with it. */
		umount2(f->base, MNT_DETACH);
	} else {
		rm_rf(f->base);
	}
	rmdir(f->base);
	free(f);
	return 0;
}

/* Start watching the sentinels: from now on nothing may touch them. */
static void sentinel_arm(fx *f)
{
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(f->ifd >= 0);
	assert_true(inotify_add_watch(f->ifd, f->outside, IN_ALL_EVENTS) >= 0);
	assert_int_equal(stat(f->outside, &f->sdir), 0);
	assert_int_equal(stat(f->secret, &f->sfile), 0);
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Assert the sentinels were neither read nor changed since arming. */
static void sentinel_check(fx *f)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t got = read(f->ifd, buf, sizeof buf);
	struct stat sd, sf;
	char text[64] = "";
	int fd;

	if (got > 0) {
		const struct inotify_event *e = (const void *)buf;
		fail_msg("sentinel directory saw event mask 0x%x name \"%s\"",
		         e->mask, e->len ? e->name : "");
	}
	assert_int_equal(got, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(stat(f->outside, &sd), 0);
	assert_int_equal(stat(f->secret, &sf), 0);
	assert_true(ts_eq(sd.st_mtim, f->sdir.st_mtim));
	assert_true(ts_eq(sd.st_ctim, f->sdir.st_ctim));
	assert_true(ts_eq(sd.st_atim, f->sdir.st_atim));
	assert_true(ts_eq(sf.st_atim, f->sfile.st_atim));
	assert_true(ts_eq(sf.st_mtim, f->sfile.st_mtim));
	assert_true(ts_eq(sf.st_ctim, f->sfile.st_ctim));
	assert_int_equal(sf.st_mode, f->sfile.st_mode);
	assert_int_equal(sf.st_nlink, 1);
	assert_int_equal(sd.st_nlink, f->sdir.st_nlink);
	/* Reading the content is the last check: it moves atime. */
	fd = open(f->secret, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, text, sizeof text - 1),
	                 (ssize_t)strlen(SECRET_TEXT));
	close(fd);
	assert_string_equal(text, SECRET_TEXT);
}

static void host_path(const fx *f, char *out, size_t size, const char *rel)
{
	int n = snprintf(out, size, "%s/%s", f->tree, rel);
	assert_true(n > 0 && (size_t)n < size);
}

static void host_symlink(const fx *f, const char *target, const char *rel)
{
	char p[512];

	host_path(f, p, sizeof p, rel);
	assert_int_equal(symlink(target, p), 0);
}

static bool host_exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* ---- SPEC --------------------------------------------------------------- */

static void test_disk_spec_errors(void **state)
{
	fx *f = *state;
	char spec[512], err[256], file[400];
	vfs_store *s = NULL;

	snprintf(spec, sizeof spec, "disk:%s,bogus", f->tree);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	snprintf(spec, sizeof spec, "disk:%s,suid=1", f->tree);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "suid"));
	assert_int_equal(vfs_store_open(&s, "disk", err, sizeof err), -EINVAL);
	assert_int_equal(vfs_store_open(&s, "disk:", err, sizeof err), -EINVAL);
	snprintf(spec, sizeof spec, "disk:%s/missing", f->tree);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	snprintf(file, sizeof file, "%s/file", f->tree);
	host_write(file, "x");
	snprintf(spec, sizeof spec, "disk:%s", file);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof err), -ENOTDIR);
	assert_non_null(strstr(err, "file"));
	/* Every known option together. */
	snprintf(spec, sizeof spec, "disk:%s,ro,devices,suid,xdev,noatime",
	         f->tree);
	assert_int_equal(vfs_store_open(&s, spec, err, sizeof err), 0);
	vfs_store_free(s);
}

/* ---- Escapes through symlinks ------------------------------------------- */

/* Every operation through `path`; none may reach outside. Results are
 * whatever the VFS namespace gives; only the sentinels are judged. */
static void try_everything(vfs *v, const char *path)
{
	char p[1024], buf[64];
	struct timespec ts[2] = {{5, 0}, {5, 0}};
	vfs_attr a;
	vfs_dirent de;
	int fd;

	fd = vfs_open(v, path, O_RDONLY, 0);
	if (fd >= 0) {
		(void)vfs_read(v, fd, buf, sizeof buf);
		vfs_close(v, fd);
	}
	fd = vfs_open(v, path, O_RDWR | O_CREAT, 0644);
	if (fd >= 0) {
		(void)vfs_write(v, fd, "pwned", 5);
		vfs_close(v, fd);
	}
	fd = vfs_open(v, path, O_WRONLY | O_TRUNC | O_APPEND, 0);
	if (fd >= 0) {
		(void)vfs_write(v, fd, "pwned", 5);
		vfs_close(v, fd);
	}
	fd = vfs_opendir(v, path);
	if (fd >= 0) {
		while (vfs_readdir(v, fd, &de) == 1)
			;
		vfs_close(v, fd);
	}
	(void)vfs_stat(v, path, &a);
	(void)vfs_lstat(v, path, &a);
	(void)vfs_chmod(v, path, 0777);
	(void)vfs_chown(v, path, 1234, 1234);
	(void)vfs_utimens(v, path, ts, 0);
	(void)vfs_truncate(v, path, 0);
	(void)vfs_readlink(v, path, buf, sizeof buf);
	(void)vfs_statfs(v, path, &(vfs_statvfs){0});
	snprintf(p, sizeof p, "%s/secret", path);
	fd = vfs_open(v, p, O_RDONLY, 0);
	if (fd >= 0) {
		(void)vfs_read(v, fd, buf, sizeof buf);
		vfs_close(v, fd);
	}
	(void)vfs_chmod(v, p, 0777);
	(void)vfs_truncate(v, p, 0);
	(void)vfs_rename(v, p, "/stolen", 0);
	(void)vfs_link(v, p, "/stolen-link");
	(void)vfs_unlink(v, p);
	snprintf(p, sizeof p, "%s/planted", path);
	fd = vfs_open(v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd >= 0)
		vfs_close(v, fd);
	(void)vfs_mkdir(v, p, 0755);
	(void)vfs_symlink(v, "x", p);
	(void)vfs_mknod(v, p, S_IFIFO | 0644, 0);
	(void)vfs_rename(v, "/victim", p, 0);
	(void)vfs_link(v, "/victim", p);
}

static void test_disk_escape_symlinks(void **state)
{
	fx *f = *state;
	vfs *v = f->v;
	char t[1024], host_fd_link[64];
	int hfd;

	snprintf(t, sizeof t, "%s/victim", f->tree);
	host_write(t, "victim");
	hfd = open(f->outside, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(hfd >= 0);
	snprintf(host_fd_link, sizeof host_fd_link, "/proc/self/fd/%d", hfd);

	/* Symlinks placed by the host, as a hostile tree would have them. */
	host_symlink(f, f->outside, "abs_dir");
	host_symlink(f, f->secret, "abs_file");
	host_symlink(f, "../outside", "rel_dir");
	host_symlink(f, "../outside/secret", "rel_file");
	host_symlink(f, "../../../../../../../../../../", "dotdots");
	snprintf(t, sizeof t, "/proc/self/root%s", f->outside);
	host_symlink(f, t, "proc_root");
	host_symlink(f, host_fd_link, "proc_fd");
	snprintf(t, sizeof t, "%s/%s", host_fd_link, "secret");
	host_symlink(f, t, "proc_fd_secret");
	snprintf(t, sizeof t, "%s/dangling-new", f->outside);
	host_symlink(f, t, "dangling_abs");
	host_symlink(f, "../outside/dangling-new", "dangling_rel");
	host_symlink(f, "/", "slash");

	/* The same made through the VFS. */
	assert_int_equal(vfs_symlink(v, f->outside, "/v_abs_dir"), 0);
	assert_int_equal(vfs_symlink(v, f->secret, "/v_abs_file"), 0);
	assert_int_equal(vfs_symlink(v, "../../../../../../../..", "/v_up"), 0);
	assert_int_equal(vfs_symlink(v, host_fd_link, "/v_proc_fd"), 0);
	snprintf(t, sizeof t, "/proc/self/root%s", f->secret);
	assert_int_equal(vfs_symlink(v, t, "/v_proc_root"), 0);

	sentinel_arm(f);

	/* Host symlinks come back as symlinks with their own text. */
	{
		char buf[512];
		vfs_attr a;
		int n;

		assert_int_equal(vfs_lstat(v, "/abs_file", &a), 0);
		assert_true(S_ISLNK(a.mode));
		n = vfs_readlink(v, "/abs_file", buf, sizeof buf);
		assert_int_equal(n, (int)strlen(f->secret));
		assert_memory_equal(buf, f->secret, (size_t)n);
		/* Followed, they resolve in the VFS: nothing there. */
		assert_int_equal(vfs_stat(v, "/abs_file", &a), -ENOENT);
		assert_int_equal(vfs_stat(v, "/rel_file", &a), -ENOENT);
		/* "/" in the VFS is the tree itself. */
		assert_int_equal(vfs_stat(v, "/slash/victim", &a), 0);
		assert_int_equal(vfs_stat(v, "/dotdots/victim", &a), 0);
	}

	const char *names[] = {
	        "/abs_dir",      "/abs_file",       "/rel_dir",
	        "/rel_file",     "/dotdots",        "/proc_root",
	        "/proc_fd",      "/proc_fd_secret", "/dangling_abs",
	        "/dangling_rel", "/v_abs_dir",      "/v_abs_file",
	        "/v_up",         "/v_proc_fd",      "/v_proc_root",
	        "/slash",        "/abs_dir/",       "/dotdots/outside",
	        "/v_up/outside", "/slash/..",       "/rel_dir/../outside",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		try_everything(v, names[i]);
		/* Move the links around and try again. */
		(void)vfs_rename(v, names[i], "/moved", 0);
		try_everything(v, "/moved");
		(void)vfs_rename(v, "/moved", names[i], 0);
	}

	/* A dangling symlink with O_CREAT creates its target inside the
	 * VFS: "/made" is the tree's, never the host's. */
	assert_int_equal(vfs_symlink(v, "/made", "/to_made"), 0);
	{
		int fd = vfs_open(v, "/to_made", O_WRONLY | O_CREAT, 0644);
		char p[512];

		assert_true(fd >= 0);
		assert_int_equal(vfs_write(v, fd, "in", 2), 2);
		assert_int_equal(vfs_close(v, fd), 0);
		host_path(f, p, sizeof p, "made");
		assert_true(host_exists(p));
		assert_false(host_exists("/made"));
	}
	sentinel_check(f);
	/* Nothing was planted at the host's root either. */
	assert_false(host_exists("/planted"));
	assert_false(host_exists("/stolen"));
	close(hfd);
}

/* A hard link placed in the tree by the host owner reaches its target:
 * no resolver can tell it from any other file. This is the documented
 * limit; the test pins it down. */
static void test_disk_hardlink_placed_by_host_reaches_target(void **state)
{
	fx *f = *state;
	char p[512], buf[64];
	int fd;

	host_path(f, p, sizeof p, "hl");
	assert_int_equal(link(f->secret, p), 0);
	fd = vfs_open(f->v, "/hl", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_read(f->v, fd, buf, sizeof buf),
	                 (int64_t)strlen(SECRET_TEXT));
	assert_int_equal(vfs_close(f->v, fd), 0);
	assert_memory_equal(buf, SECRET_TEXT, strlen(SECRET_TEXT));
}

/* ---- The exchange race --------------------------------------------------- */

#define RACE_WORKERS 4
#define RACE_OPS     25000 /* per worker: 100,000 (and as many on e) */

typedef struct race {
	fx *f;
	atomic_bool stop;
	atomic_long swaps;
	char rel_secret[512]; /* sentinel path relative to "/" */
	char rel_new[512];
	int id;
	long ops;
	long host_names; /* names of the host's "/" seen in listings */
} race;

static void *race_attacker(void *arg)
{
	race *r = arg;
	int tfd = open(r->f->tree, O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(tfd >= 0);
	while (!atomic_load(&r->stop)) {
		if (renameat2(tfd, "d", tfd, "s", RENAME_EXCHANGE) == 0)
			atomic_fetch_add(&r->swaps, 1);
		if (renameat2(tfd, "e", tfd, "s2", RENAME_EXCHANGE) == 0)
			atomic_fetch_add(&r->swaps, 1);
	}
	close(tfd);
	return NULL;
}

static void *race_worker(void *arg)
{
	race *r = arg;
	vfs *v = r->f->v;
	char p[1024], buf[64];
	vfs_attr a;
	vfs_dirent de;
	int fd;

	for (long i = 0; i < RACE_OPS;) {
		switch (i % 8) {
		case 0:
			fd = vfs_open(v, "/d/f", O_RDONLY, 0);
			if (fd >= 0) {
				(void)vfs_read(v, fd, buf, sizeof buf);
				vfs_close(v, fd);
			}
			break;
		case 1:
			snprintf(p, sizeof p, "/d/%s", r->rel_secret);
			fd = vfs_open(v, p, O_RDONLY, 0);
			if (fd >= 0) {
				(void)vfs_read(v, fd, buf, sizeof buf);
				vfs_close(v, fd);
			}
			break;
		case 2:
			snprintf(p, sizeof p, "/d/%s", r->rel_secret);
			(void)vfs_stat(v, p, &a);
			break;
		case 3:
			snprintf(p, sizeof p, "/d/%s", r->rel_new);
			fd = vfs_open(v, p, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0)
				vfs_close(v, fd);
			break;
		case 4:
			snprintf(p, sizeof p, "/d/vfs-escape-%d", r->id);
			fd = vfs_open(v, p, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0) {
				(void)vfs_write(v, fd, "x", 1);
				vfs_close(v, fd);
			}
			(void)vfs_unlink(v, p);
			break;
		case 5:
			fd = vfs_opendir(v, "/d");
			if (fd >= 0) {
				while (vfs_readdir(v, fd, &de) == 1) {
					if (!strcmp(de.name, "proc") ||
					    !strcmp(de.name, "etc") ||
					    !strcmp(de.name, "usr"))
						r->host_names++;
				}
				vfs_close(v, fd);
			}
			break;
		case 6:
			(void)vfs_stat(v, "/d/sub", &a);
			(void)vfs_lstat(v, "/d/sub/inner", &a);
			break;
		case 7:
			snprintf(p, sizeof p, "/d/sub/w%d", r->id);
			if (vfs_mkdir(v, p, 0755) == 0)
				(void)vfs_rmdir(v, p);
			(void)vfs_chmod(v, "/d/f", 0644);
			break;
		}
		/* "e" turns into a symlink to the base directory, on the
		 * tree's own filesystem: no mount boundary helps there. */
		switch (i % 4) {
		case 0:
			fd = vfs_open(v, "/e/outside/secret", O_RDONLY, 0);
			if (fd >= 0) {
				(void)vfs_read(v, fd, buf, sizeof buf);
				vfs_close(v, fd);
			}
			break;
		case 1:
			(void)vfs_stat(v, "/e/outside/secret", &a);
			(void)vfs_chmod(v, "/e/outside/secret", 0777);
			break;
		case 2:
			snprintf(p, sizeof p, "/e/outside/new-%d", r->id);
			fd = vfs_open(v, p, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0)
				vfs_close(v, fd);
			break;
		case 3:
			fd = vfs_opendir(v, "/e/outside");
			if (fd >= 0) {
				while (vfs_readdir(v, fd, &de) == 1)
					;
				vfs_close(v, fd);
			}
			break;
		}
		i++;
		r->ops++;
	}
	return NULL;
}

static void test_disk_race_exchange_with_symlink_to_root(void **state)
{
	fx *f = *state;
	race r[RACE_WORKERS], shared;
	pthread_t att, w[RACE_WORKERS];
	char p[512], esc[64];
	long total = 0, names = 0;
	int rootw;

	host_path(f, p, sizeof p, "d");
	assert_int_equal(mkdir(p, 0755), 0);
	host_path(f, p, sizeof p, "d/sub");
	assert_int_equal(mkdir(p, 0755), 0);
	host_path(f, p, sizeof p, "d/sub/inner");
	host_write(p, "inner");
	host_path(f, p, sizeof p, "d/f");
	host_write(p, "inside");
	host_symlink(f, "/", "s");
	host_path(f, p, sizeof p, "e");
	assert_int_equal(mkdir(p, 0755), 0);
	host_symlink(f, f->base, "s2");

	memset(&shared, 0, sizeof shared);
	shared.f = f;
	atomic_init(&shared.stop, false);
	atomic_init(&shared.swaps, 0);
	/* A watch on the host's root catches files planted there. */
	rootw = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(rootw >= 0);
	assert_true(inotify_add_watch(rootw, "/", IN_CREATE | IN_MOVED_TO) >=
	            0);
	sentinel_arm(f);

	assert_int_equal(pthread_create(&att, NULL, race_attacker, &shared), 0);
	for (int i = 0; i < RACE_WORKERS; i++) {
		r[i] = (race){.f = f, .id = i};
		snprintf(r[i].rel_secret, sizeof r[i].rel_secret, "%s",
		         f->secret + 1);
		snprintf(r[i].rel_new, sizeof r[i].rel_new, "%s/new-%d",
		         f->outside + 1, i);
		assert_int_equal(
		        pthread_create(&w[i], NULL, race_worker, &r[i]), 0);
	}
	for (int i = 0; i < RACE_WORKERS; i++) {
		assert_int_equal(pthread_join(w[i], NULL), 0);
		total += r[i].ops;
		names += r[i].host_names;
	}
	atomic_store(&shared.stop, true);
	assert_int_equal(pthread_join(att, NULL), 0);

	print_message("race: %ld operations, %ld swaps\n", total,
	              (long)atomic_load(&shared.swaps));
	assert_true(total >= 100000);
	assert_true(atomic_load(&shared.swaps) > 1000);
	assert_int_equal(names, 0);
	sentinel_check(f);
	{
		char buf[4096] __attribute__((aligned(8)));
		ssize_t got;

		while ((got = read(rootw, buf, sizeof buf)) > 0) {
			for (ssize_t o = 0; o < got;) {
				const struct inotify_event *e =
				        (const void *)(buf + o);
				if (e->len &&
				    strncmp(e->name, "vfs-escape", 10) == 0)
					fail_msg("planted /%s", e->name);
				o += (ssize_t)(sizeof(*e) + e->len);
			}
		}
	}
	close(rootw);
	for (int i = 0; i < RACE_WORKERS; i++) {
		snprintf(esc, sizeof esc, "/vfs-escape-%d", i);
		assert_false(host_exists(esc));
	}
}

/* ---- Special files ------------------------------------------------------- */

typedef struct opener {
	vfs *v;
	const char *path;
	int flags;
	int rc;
} opener;

static void *open_thread(void *arg)
{
	opener *o = arg;
	o->rc = vfs_open(o->v, o->path, o->flags, 0);
	return NULL;
}

/* Open in another thread and give it at most one second. */
static int open_within_1s(vfs *v, const char *path, int flags)
{
	opener o = {.v = v, .path = path, .flags = flags, .rc = 1};
	struct timespec deadline;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	if (pthread_timedjoin_np(t, NULL, &deadline) != 0)
		fail_msg("open of %s blocked for a second", path);
	return o.rc;
}

static void test_disk_special_files_never_opened(void **state)
{
	fx *f = *state;
	vfs *v = f->v;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char p[512];
	vfs_attr a;
	int sock;

	host_path(f, p, sizeof p, "fifo");
	assert_int_equal(mkfifo(p, 0666), 0);
	assert_int_equal(vfs_mknod(v, "/vfifo", S_IFIFO | 0644, 0), 0);
	host_path(f, p, sizeof p, "vfifo");
	assert_int_equal(lstat(p, &(struct stat){0}), 0);
	host_path(f, sa.sun_path, sizeof sa.sun_path, "sock");
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof sa), 0);

	assert_int_equal(vfs_lstat(v, "/fifo", &a), 0);
	assert_true(S_ISFIFO(a.mode));
	assert_int_equal(vfs_lstat(v, "/sock", &a), 0);
	assert_true(S_ISSOCK(a.mode));
	const int modes[] = {O_RDONLY, O_WRONLY, O_RDWR, O_RDONLY | O_CREAT};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		assert_int_equal(open_within_1s(v, "/fifo", modes[i]), -ENXIO);
		assert_int_equal(open_within_1s(v, "/vfifo", modes[i]), -ENXIO);
		assert_int_equal(open_within_1s(v, "/sock", modes[i]), -ENXIO);
	}
	/* A symlink to a FIFO is followed in the VFS to the same answer. */
	assert_int_equal(vfs_symlink(v, "fifo", "/lfifo"), 0);
	assert_int_equal(open_within_1s(v, "/lfifo", O_RDONLY), -ENXIO);
	assert_int_equal(open_within_1s(v, "/fifo", O_RDONLY | O_DIRECTORY),
	                 -ENOTDIR);
	close(sock);

	if (geteuid() == 0) {
		host_path(f, p, sizeof p, "null");
		assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
		assert_int_equal(vfs_lstat(v, "/null", &a), 0);
		assert_true(S_ISCHR(a.mode));
		assert_int_equal(a.rdev, makedev(1, 3));
		assert_int_equal(open_within_1s(v, "/null", O_RDWR), -ENXIO);
	}
}

static void test_disk_devices_refused_by_default(void **state)
{
	fx *f = *state;
	char p[512];
	struct stat sb;
	vfs *v2;

	assert_int_equal(vfs_mknod(f->v, "/chr", S_IFCHR | 0666, makedev(1, 3)),
	                 -EPERM);
	assert_int_equal(vfs_mknod(f->v, "/blk", S_IFBLK | 0600, makedev(7, 0)),
	                 -EPERM);
	host_path(f, p, sizeof p, "chr");
	assert_false(host_exists(p));
	host_path(f, p, sizeof p, "blk");
	assert_false(host_exists(p));
	/* FIFOs and sockets may be created. */
	assert_int_equal(vfs_mknod(f->v, "/fifo", S_IFIFO | 0600, 0), 0);
	assert_int_equal(vfs_mknod(f->v, "/sock", S_IFSOCK | 0600, 0), 0);
	host_path(f, p, sizeof p, "sock");
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));

	if (geteuid() != 0)
		return; /* only root may make device nodes at all */
	v2 = fx_mount(f, ",devices");
	assert_int_equal(vfs_mknod(v2, "/chr", S_IFCHR | 0640, makedev(1, 3)),
	                 0);
	host_path(f, p, sizeof p, "chr");
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(1, 3));
	assert_int_equal(sb.st_mode & 07777, 0640);
	/* Even so, never opened. */
	assert_int_equal(open_within_1s(v2, "/chr", O_RDWR), -ENXIO);
	vfs_free(v2);
}

static uint32_t host_mode(const fx *f, const char *rel)
{
	char p[512];
	struct stat sb;

	host_path(f, p, sizeof p, rel);
	assert_int_equal(lstat(p, &sb), 0);
	return sb.st_mode & 07777;
}

static void test_disk_suid_stripped_by_default(void **state)
{
	fx *f = *state;
	vfs *v = f->v, *v2;
	int fd;

	vfs_umask(v, 0);
	fd = vfs_open(v, "/f", O_WRONLY | O_CREAT, 06755);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_int_equal(host_mode(f, "f"), 0755);
	assert_int_equal(vfs_chmod(v, "/f", 04711), 0);
	assert_int_equal(host_mode(f, "f"), 0711);
	assert_int_equal(vfs_chmod(v, "/f", 02755), 0);
	assert_int_equal(host_mode(f, "f"), 0755);
	assert_int_equal(vfs_chmod(v, "/f", 01777), 0);
	assert_int_equal(host_mode(f, "f"), 01777);
	assert_int_equal(vfs_mknod(v, "/p", S_IFIFO | 06644, 0), 0);
	assert_int_equal(host_mode(f, "p"), 0644);
	/* setgid on a directory only passes its group on: kept. */
	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	assert_int_equal(vfs_chmod(v, "/d", 06755), 0);
	assert_int_equal(host_mode(f, "d"), 02755);
	assert_int_equal(vfs_chmod(v, "/d", 04755), 0);
	assert_int_equal(host_mode(f, "d"), 0755);

	v2 = fx_mount(f, ",suid");
	vfs_umask(v2, 0);
	assert_int_equal(vfs_chmod(v2, "/f", 06755), 0);
	assert_int_equal(host_mode(f, "f"), 06755);
	fd = vfs_open(v2, "/g", O_WRONLY | O_CREAT, 04700);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v2, fd), 0);
	assert_int_equal(host_mode(f, "g"), 04700);
	vfs_free(v2);
}

/* ---- Host mount points --------------------------------------------------- */

static void test_disk_host_mount_point_not_crossed(void **state)
{
	fx *f = *state;
	char mnt[512], p[600];
	vfs_attr a, b, c;
	vfs *v2;
	int fd, n = 0;
	vfs_dirent de;

	host_path(f, mnt, sizeof mnt, "mnt");
	assert_int_equal(mkdir(mnt, 0755), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0777") != 0) {
		print_message("cannot mount a tmpfs (%s): skipped\n",
		              strerror(errno));
		skip();
	}
	snprintf(p, sizeof p, "%s/inner", mnt);
	host_write(p, "other filesystem");
	/* The store was mounted before: its lookups see the mount now. */
	assert_int_equal(vfs_lstat(f->v, "/mnt", &a), 0);
	assert_int_equal(a.mode, S_IFDIR | 0555);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(vfs_lstat(f->v, "/mnt/inner", &b), -ENOENT);
	fd = vfs_opendir(f->v, "/mnt");
	assert_true(fd >= 0);
	while (vfs_readdir(f->v, fd, &de) == 1)
		n++;
	assert_int_equal(n, 2); /* "." and ".." only */
	assert_int_equal(vfs_close(f->v, fd), 0);
	fd = vfs_open(f->v, "/mnt/new", O_WRONLY | O_CREAT, 0644);
	assert_int_equal(fd, -EROFS);
	assert_int_equal(vfs_mkdir(f->v, "/mnt/dir", 0755), -EROFS);
	assert_int_equal(vfs_chmod(f->v, "/mnt", 0777), -EROFS);
	/* Moving or removing it is the host's call: busy. */
	assert_int_equal(vfs_rename(f->v, "/mnt", "/mnt2", 0), -EBUSY);
	assert_int_equal(vfs_rmdir(f->v, "/mnt"), -EBUSY);
	assert_int_equal(vfs_stat(f->v, "/", &c), 0);
	assert_true(a.ino != c.ino);
	snprintf(p, sizeof p, "%s/new", mnt);
	assert_false(host_exists(p));

	/* With xdev it is crossed; inode numbers stay unique. */
	v2 = fx_mount(f, ",xdev");
	assert_int_equal(vfs_lstat(v2, "/mnt/inner", &b), 0);
	assert_true(S_ISREG(b.mode));
	assert_int_equal(vfs_lstat(v2, "/mnt", &a), 0);
	assert_int_equal(a.mode & 0777, 0777);
	assert_true(a.ino != b.ino);
	assert_true(a.ino != c.ino);
	fd = vfs_open(v2, "/mnt/new", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v2, fd), 0);
	assert_true(host_exists(p));
	/* Stable across lookups (the node is forgotten in between). */
	assert_int_equal(vfs_lstat(v2, "/mnt/inner", &c), 0);
	assert_int_equal(b.ino, c.ino);
	vfs_free(v2);
	assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

/* ---- Descriptors ----------------------------------------------------------
 */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_disk_descriptors_bounded(void **state)
{
	fx *f = *state;
	vfs *v = f->v;
	char p[64];
	vfs_attr a;
	int before, after;

	assert_int_equal(vfs_mkdir(v, "/many", 0755), 0);
	before = count_fds();
	for (int i = 0; i < 5000; i++) {
		snprintf(p, sizeof p, "/many/f%d", i);
		int fd = vfs_open(v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(vfs_close(v, fd), 0);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(p, sizeof p, "/many/f%d", i);
		assert_int_equal(vfs_stat(v, p, &a), 0);
	}
	after = count_fds();
	print_message("descriptors: %d before, %d after\n", before, after);
	assert_true(after - before < 16);
}

/* ---- Read-only ------------------------------------------------------------
 */

static void test_disk_readonly_writes_nothing(void **state)
{
	fx *f = *state;
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	char p[512], buf[64];
	struct stat before[3], after[3];
	const char *rel[3] = {"file", "dir", "dir/inner"};
	vfs_dirent de;
	vfs_attr a;
	vfs *v;
	int fd;

	host_path(f, p, sizeof p, "file");
	host_write(p, "read me");
	host_path(f, p, sizeof p, "dir");
	assert_int_equal(mkdir(p, 0755), 0);
	host_path(f, p, sizeof p, "dir/inner");
	host_write(p, "inner");
	/* atime older than mtime: relatime and strictatime both update it
	 * on the next read. */
	for (int i = 2; i >= 0; i--) {
		host_path(f, p, sizeof p, rel[i]);
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
		assert_int_equal(lstat(p, &before[i]), 0);
	}

	v = fx_mount(f, ",ro");
	for (int round = 0; round < 3; round++) {
		fd = vfs_open(v, "/file", O_RDONLY, 0);
		assert_true(fd >= 0);
		assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 7);
		assert_int_equal(vfs_close(v, fd), 0);
		fd = vfs_opendir(v, "/dir");
		assert_true(fd >= 0);
		while (vfs_readdir(v, fd, &de) == 1)
			;
		assert_int_equal(vfs_close(v, fd), 0);
		fd = vfs_open(v, "/dir/inner", O_RDONLY, 0);
		assert_true(fd >= 0);
		assert_int_equal(vfs_pread(v, fd, buf, sizeof buf, 0), 5);
		assert_int_equal(vfs_close(v, fd), 0);
		assert_int_equal(vfs_stat(v, "/dir/inner", &a), 0);
	}
	/* Every mutation is refused. */
	assert_int_equal(vfs_open(v, "/file", O_WRONLY, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/file", O_RDONLY | O_TRUNC, 0), -EROFS);
	assert_int_equal(vfs_open(v, "/new", O_RDONLY | O_CREAT, 0644), -EROFS);
	assert_int_equal(vfs_chmod(v, "/file", 0600), -EROFS);
	assert_int_equal(vfs_utimens(v, "/file", NULL, 0), -EROFS);
	assert_int_equal(vfs_unlink(v, "/file"), -EROFS);
	assert_int_equal(vfs_rename(v, "/file", "/f2", 0), -EROFS);
	assert_int_equal(vfs_mkdir(v, "/dir2", 0755), -EROFS);
	vfs_free(v);

	for (int i = 0; i < 3; i++) {
		host_path(f, p, sizeof p, rel[i]);
		assert_int_equal(lstat(p, &after[i]), 0);
		assert_true(ts_eq(after[i].st_atim, before[i].st_atim));
		assert_true(ts_eq(after[i].st_mtim, before[i].st_mtim));
		assert_true(ts_eq(after[i].st_ctim, before[i].st_ctim));
	}
	host_path(f, p, sizeof p, "new");
	assert_false(host_exists(p));

	/* The check has teeth: a writable store does move atime. */
	if (f->tmpfs) {
		v = fx_mount(f, "");
		fd = vfs_open(v, "/file", O_RDONLY, 0);
		assert_true(fd >= 0);
		assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 7);
		assert_int_equal(vfs_close(v, fd), 0);
		vfs_free(v);
		host_path(f, p, sizeof p, "file");
		assert_int_equal(lstat(p, &after[0]), 0);
		assert_false(ts_eq(after[0].st_atim, before[0].st_atim));
	}
}

/* ---- readdir ------------------------------------------------------------- */

static void test_disk_readdir_cookies_resume(void **state)
{
	fx *f = *state;
	vfs *v = f->v;
	enum { N = 300 };
	char p[64];
	unsigned char seen[N];
	vfs_dirent de;
	uint64_t resume = 0;
	int fd, got = 0;

	assert_int_equal(vfs_mkdir(v, "/d", 0755), 0);
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof p, "/d/entry-%d", i);
		int h = vfs_open(v, p, O_WRONLY | O_CREAT, 0644);
		assert_true(h >= 0);
		vfs_close(v, h);
	}
	memset(seen, 0, sizeof seen);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	/* Read half, then resume from the recorded offset on a new fd. */
	while (got < N / 2 + 2 && vfs_readdir(v, fd, &de) == 1) {
		got++;
		resume = de.off;
		if (strncmp(de.name, "entry-", 6) == 0) {
			int i = atoi(de.name + 6);
			assert_int_equal(seen[i], 0);
			seen[i] = 1;
			assert_true(S_ISREG(de.type));
		}
	}
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_opendir(v, "/d");
	assert_true(fd >= 0);
	assert_int_equal(vfs_dir_seek(v, fd, resume), 0);
	while (vfs_readdir(v, fd, &de) == 1) {
		int i;
		assert_true(strcmp(de.name, ".") && strcmp(de.name, ".."));
		i = atoi(de.name + 6);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
	}
	assert_int_equal(vfs_close(v, fd), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
}

/* ---- Append -------------------------------------------------------------- */

/* The host appends atomically; the position afterwards is where the data
 * ended, even when another writer grew the file meanwhile. */
static void test_disk_append_position(void **state)
{
	fx *f = *state;
	vfs *v = f->v;
	char p[512], buf[32];
	int fd;

	host_path(f, p, sizeof p, "log");
	host_write(p, "0123456789");
	fd = vfs_open(v, "/log", O_WRONLY | O_APPEND, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "abcde", 5), 5);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 15);
	/* Someone else appends on the host. */
	{
		int h = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
		assert_true(h >= 0);
		assert_int_equal(write(h, "XYZ", 3), 3);
		close(h);
	}
	assert_int_equal(vfs_pwrite(v, fd, "!", 1, 0), 1);
	assert_int_equal(vfs_write(v, fd, "end", 3), 3);
	assert_int_equal(vfs_lseek(v, fd, 0, SEEK_CUR), 22);
	assert_int_equal(vfs_close(v, fd), 0);
	fd = vfs_open(v, "/log", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 22);
	assert_memory_equal(buf, "0123456789abcdeXYZ!end", 22);
	assert_int_equal(vfs_close(v, fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_disk_spec_errors,
	                                        fx_setup_nomount, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_disk_escape_symlinks,
	                                        fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_hardlink_placed_by_host_reaches_target,
	                fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_race_exchange_with_symlink_to_root, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_special_files_never_opened, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_devices_refused_by_default, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_suid_stripped_by_default, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_host_mount_point_not_crossed, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(test_disk_descriptors_bounded,
	                                        fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_readonly_writes_nothing, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_disk_readdir_cookies_resume, fx_setup,
	                fx_teardown),
	        cmocka_unit_test_setup_teardown(test_disk_append_position,
	                                        fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests_name("disk", tests, NULL, NULL);
}
