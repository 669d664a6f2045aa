/*
 * bench/vfsbench.c: the same workloads on tmpfs and on each store, side by
 * side, through the library API and through vfsmount.
 *
 *   vfsbench [--quick] [--scale F] [--repeat N] [--json] [--vfsmount PATH]
 *            [--vfsmount-opt OPTS] [--targets LIST] [--workloads LIST]
 *            [--sqlite-dir DIR] [--no-fuse]
 *
 * The file holds, in order: options and the run's shared state; clocks,
 * CPU accounting (to say when the machine was busy) and small helpers; the
 * two families of targets behind one table of operations (plain syscalls
 * relative to a directory descriptor, for tmpfs and for a vfsmount mount;
 * vfs_* calls, for the library); setting up and tearing down each target
 * (the tmpfs mount, a vfs instance, a vfsmount child); the six workloads;
 * and the report (a table with ratios to tmpfs, or JSON).
 *
 * Every figure of every target is measured in the same run as the tmpfs
 * reference it is compared with. Each repetition runs every target in
 * turn, so a burst of activity on the machine spreads over all of them
 * instead of landing on one; the report gives the median of the
 * repetitions.
 */
#include <vfs/vfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Options and shared state ------------------------------------------- */

#define MIB ((int64_t)1 << 20)

/* Full-size parameters, as issue 8 lists them; --scale multiplies each. */
#define FULL_SEQ_BYTES  (512 * MIB)
#define FULL_RAND_BYTES (256 * MIB)
#define FULL_FILES      10000
#define FULL_EV_SAMPLES 10000
#define FULL_EV_BURST   10000
#define FULL_RAND_SECS  3.0
#define FULL_WALK_SECS  1.0
#define SEQ_BLOCK       ((size_t)MIB)
#define SMALL_SIZE      4096
#define RAND_BLOCK      4096
#define WALK_DEPTH      8 /* directories above the file stat'ed */
#define WALK_COMPONENTS (WALK_DEPTH + 1)
#define LIST_TIMES      5
#define NAME_LEN        40
#define MAX_NOTES       24

enum {
	W_SEQ = 1u << 0,
	W_RAND = 1u << 1,
	W_META = 1u << 2,
	W_SMALL = 1u << 3,
	W_WALK = 1u << 4,
	W_EVENTS = 1u << 5,
	W_ALL = (1u << 6) - 1,
};

static const struct {
	const char *name;
	unsigned bit;
} bench_workload_names[] = {
        {"seq", W_SEQ},     {"rand", W_RAND}, {"meta", W_META},
        {"small", W_SMALL}, {"walk", W_WALK}, {"events", W_EVENTS},
};

/* The figures reported for each target. */
enum {
	M_SEQ_WRITE,
	M_SEQ_READ,
	M_SEQ_READ_COLD,
	M_RAND_READ,
	M_CREATE,
	M_STAT,
	M_LIST,
	M_UNLINK,
	M_SMALL_WRITE,
	M_SMALL_READ,
	M_WALK,
	M_EV_LAT_MEDIAN,
	M_EV_LAT_P99,
	M_EV_BURST,
	M_COUNT
};

static const struct {
	const char *key;   /* JSON */
	const char *label; /* table */
	const char *unit;
	bool lower_better; /* a time: the ratio is tmpfs / value */
} bench_metrics[M_COUNT] = {
        [M_SEQ_WRITE] = {"seq_write", "seq write 1M + fsync", "MiB/s", 0},
        [M_SEQ_READ] = {"seq_read", "seq read, cached", "MiB/s", 0},
        [M_SEQ_READ_COLD] = {"seq_read_cold", "seq read, cold", "MiB/s", 0},
        [M_RAND_READ] = {"rand_read", "random read 4K", "reads/s", 0},
        [M_CREATE] = {"create", "create empty", "files/s", 0},
        [M_STAT] = {"stat", "stat", "stats/s", 0},
        [M_LIST] = {"list", "list directory", "entries/s", 0},
        [M_UNLINK] = {"unlink", "unlink", "files/s", 0},
        [M_SMALL_WRITE] = {"small_write", "small files write 4K", "files/s", 0},
        [M_SMALL_READ] = {"small_read", "small files read 4K", "files/s", 0},
        [M_WALK] = {"path_walk", "stat 8 dirs deep", "ns/call", 1},
        [M_EV_LAT_MEDIAN] = {"event_latency_median", "event latency median",
                             "us", 1},
        [M_EV_LAT_P99] = {"event_latency_p99", "event latency p99", "us", 1},
        [M_EV_BURST] = {"event_burst", "event burst", "events/s", 0},
};

enum { TK_TMPFS, TK_LIB, TK_FUSE };

typedef struct bench_ops bench_ops;

typedef struct bench_target {
	const char *name;  /* "tmpfs", "lib-memory", "fuse-sqlite" ... */
	int kind;          /* TK_* */
	const char *store; /* "memory", "disk", "sqlite"; NULL for tmpfs */
	const bench_ops *ops;
	bool selected;
	char skip[160];        /* why the target is not measured, or "" */
	int dirfd;             /* TK_TMPFS, TK_FUSE: the directory worked in */
	vfs *v;                /* TK_LIB */
	pid_t daemon;          /* TK_FUSE: the vfsmount child */
	bool mounted;          /* TK_FUSE: the mount is up */
	double *runs;          /* [M_COUNT * repeat], NAN where not measured */
	double others_cpu_max; /* CPUs other processes used, worst run */
	bool failed;
} bench_target;

static struct {
	double scale;
	int repeat;
	bool json;
	bool no_fuse;
	bool nice;
	unsigned workloads;
	const char *targets; /* comma list or NULL for all */
	const char *vfsmount;
	const char *vfsmount_opt;
	const char *sqlite_dir;

	/* Derived sizes. */
	int64_t seq_bytes, rand_bytes;
	int files, ev_samples, ev_burst;
	double rand_secs, walk_secs;

	char base[PATH_MAX];        /* the tmpfs (or /dev/shm) directory */
	bool tmpfs_mounted;         /* we mounted a tmpfs on base */
	char fuse_mnt[PATH_MAX];    /* mount point for vfsmount */
	char disk_host[PATH_MAX];   /* HOSTDIR of the disk stores */
	char db_dir[PATH_MAX];      /* where sqlite database files go */
	char db_dir_made[PATH_MAX]; /* a directory we made in --sqlite-dir */
	char db_fs[32];             /* what db_dir lives on */
	char vfsmount_path[PATH_MAX];
	bool can_drop; /* echo 1 > /proc/sys/vm/drop_caches works */

	char *notes[MAX_NOTES];
	int nnotes;
	char command[1024];
	bool any_failed;
} B;

static volatile sig_atomic_t bench_stop;

static bench_target bench_targets[] = {
        {.name = "tmpfs", .kind = TK_TMPFS},
        {.name = "lib-memory", .kind = TK_LIB, .store = "memory"},
        {.name = "lib-disk", .kind = TK_LIB, .store = "disk"},
        {.name = "lib-sqlite", .kind = TK_LIB, .store = "sqlite"},
        {.name = "fuse-memory", .kind = TK_FUSE, .store = "memory"},
        {.name = "fuse-disk", .kind = TK_FUSE, .store = "disk"},
        {.name = "fuse-sqlite", .kind = TK_FUSE, .store = "sqlite"},
};
#define NTARGETS (sizeof bench_targets / sizeof bench_targets[0])

/* ---- Clocks, CPU accounting, helpers ------------------------------------- */

/* snprintf for messages and paths whose cut would only shorten a
 * message or make a call fail with ENOENT later. */
__attribute__((format(printf, 3, 4))) static void bprintf(char *buf, size_t len,
                                                          const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void note(const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (int i = 0; i < B.nnotes; i++)
		if (strcmp(B.notes[i], buf) == 0)
			return;
	if (B.nnotes < MAX_NOTES) {
		B.notes[B.nnotes] = strdup(buf);
		if (B.notes[B.nnotes] != NULL)
			B.nnotes++;
	}
}

/*
 * How busy the machine was. The system-wide busy time from /proc/stat,
 * less the CPU time of this process and of its reaped children (vfsmount,
 * fusermount3), is what everything else used. Kernel work done on our
 * behalf in our own context (tmpfs, FUSE requests) is charged to us, so
 * it does not count as "others".
 */
typedef struct cpu_sample {
	double wall;
	double busy; /* seconds, all CPUs */
	double self; /* seconds, this process and reaped children */
} cpu_sample;

static double tv_secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static void cpu_sample_take(cpu_sample *s)
{
	unsigned long long v[8] = {0};
	struct rusage ru;
	FILE *f;

	s->wall = now();
	s->busy = 0;
	f = fopen("/proc/stat", "r");
	if (f != NULL) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		           &v[7]) == 8) {
			/* user nice system [idle iowait] irq softirq steal */
			double hz = (double)sysconf(_SC_CLK_TCK);

			s->busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] +
			                   v[7]) /
			          hz;
		}
		fclose(f);
	}
	s->self = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		s->self += tv_secs(ru.ru_utime) + tv_secs(ru.ru_stime);
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		s->self += tv_secs(ru.ru_utime) + tv_secs(ru.ru_stime);
}

/* CPUs' worth of time others used between a and b. */
static double cpu_others(const cpu_sample *a, const cpu_sample *b)
{
	double wall = b->wall - a->wall;
	double o = (b->busy - a->busy) - (b->self - a->self);

	if (wall <= 0)
		return 0;
	return o > 0 ? o / wall : 0;
}

static void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	/* Keep the three averages only. */
	char *p = buf;
	for (int i = 0; i < 3 && p != NULL; i++) {
		p = strchr(p, ' ');
		if (p != NULL && i < 2)
			p++;
	}
	if (p != NULL)
		*p = '\0';
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorted in place); NAN for none. */
static double quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* Median of the measured (non-NAN) values among n. */
static double median_of(const double *runs, int n)
{
	double v[64];
	size_t k = 0;

	for (int i = 0; i < n && k < sizeof v / sizeof v[0]; i++)
		if (!isnan(runs[i]))
			v[k++] = runs[i];
	if (k == 0)
		return NAN;
	qsort(v, k, sizeof *v, cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static int rm_tree_entry(const char *path, const struct stat *st, int flag,
                         struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Remove what is below dir (and dir itself when self). */
static void rm_tree(const char *dir, bool self)
{
	char sub[PATH_MAX + 8];
	DIR *d;
	struct dirent *e;

	if (self) {
		nftw(dir, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
		return;
	}
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		nftw(sub, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

/* Run argv[0] (found in PATH) with stdout to /dev/null; its exit status,
 * or -1. */
static int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* True when path is a mount point listed in /proc/self/mountinfo
 * (reading it never touches the mount, so a stuck daemon cannot hang
 * us). */
static bool is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], mp[PATH_MAX];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
		    strcmp(mp, path) == 0)
			found = true;
	}
	fclose(f);
	return found;
}

/* Drop clean page-cache pages everywhere (root only). */
static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- Targets: one table of operations, two implementations -------------- */

/*
 * Paths handed to the operations are relative ("meta/f00001"). The
 * syscall family resolves them from the target's directory descriptor
 * with the *at() calls, so tmpfs and vfsmount walk exactly the components
 * the library walks, with no host prefix in front. The library resolves
 * a relative path from the VFS root, where the store is mounted.
 * Every operation returns 0, a count, or a negative errno.
 */
struct bench_ops {
	int (*open)(bench_target *t, const char *path, int flags, int mode);
	int (*close)(bench_target *t, int fd);
	int64_t (*read)(bench_target *t, int fd, void *buf, size_t n);
	int64_t (*write)(bench_target *t, int fd, const void *buf, size_t n);
	int64_t (*pread)(bench_target *t, int fd, void *buf, size_t n,
	                 int64_t off);
	int64_t (*pwrite)(bench_target *t, int fd, const void *buf, size_t n,
	                  int64_t off);
	int (*fsync)(bench_target *t, int fd);
	int (*ftruncate)(bench_target *t, int fd, int64_t size);
	int (*stat)(bench_target *t, const char *path);
	int (*mkdir)(bench_target *t, const char *path);
	int (*rmdir)(bench_target *t, const char *path);
	int (*unlink)(bench_target *t, const char *path);
	int64_t (*list)(bench_target *t, const char *path);
};

static int sys_ret(long rc)
{
	return rc < 0 ? -errno : (int)rc;
}

static int sys_open(bench_target *t, const char *path, int flags, int mode)
{
	return sys_ret(openat(t->dirfd, path, flags | O_CLOEXEC, mode));
}

static int sys_close(bench_target *t, int fd)
{
	(void)t;
	return sys_ret(close(fd));
}

static int64_t sys_read(bench_target *t, int fd, void *buf, size_t n)
{
	ssize_t r = read(fd, buf, n);

	(void)t;
	return r < 0 ? -errno : r;
}

static int64_t sys_write(bench_target *t, int fd, const void *buf, size_t n)
{
	ssize_t r = write(fd, buf, n);

	(void)t;
	return r < 0 ? -errno : r;
}

static int64_t sys_pread(bench_target *t, int fd, void *buf, size_t n,
                         int64_t off)
{
	ssize_t r = pread(fd, buf, n, off);

	(void)t;
	return r < 0 ? -errno : r;
}

static int64_t sys_pwrite(bench_target *t, int fd, const void *buf, size_t n,
                          int64_t off)
{
	ssize_t r = pwrite(fd, buf, n, off);

	(void)t;
	return r < 0 ? -errno : r;
}

static int sys_fsync(bench_target *t, int fd)
{
	(void)t;
	return sys_ret(fsync(fd));
}

static int sys_ftruncate(bench_target *t, int fd, int64_t size)
{
	(void)t;
	return sys_ret(ftruncate(fd, size));
}

static int sys_stat(bench_target *t, const char *path)
{
	struct stat st;

	return sys_ret(fstatat(t->dirfd, path, &st, 0));
}

static int sys_mkdir(bench_target *t, const char *path)
{
	return sys_ret(mkdirat(t->dirfd, path, 0755));
}

static int sys_rmdir(bench_target *t, const char *path)
{
	return sys_ret(unlinkat(t->dirfd, path, AT_REMOVEDIR));
}

static int sys_unlink(bench_target *t, const char *path)
{
	return sys_ret(unlinkat(t->dirfd, path, 0));
}

static int64_t sys_list(bench_target *t, const char *path)
{
	int fd = openat(t->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int64_t n = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		int err = -errno;

		close(fd);
		return err;
	}
	errno = 0;
	while ((e = readdir(d)) != NULL)
		n++;
	if (errno != 0)
		n = -errno;
	closedir(d);
	return n;
}

static const bench_ops sys_ops = {
        sys_open,   sys_close,  sys_read,      sys_write, sys_pread,
        sys_pwrite, sys_fsync,  sys_ftruncate, sys_stat,  sys_mkdir,
        sys_rmdir,  sys_unlink, sys_list,
};

static int lib_open(bench_target *t, const char *path, int flags, int mode)
{
	return vfs_open(t->v, path, flags, (uint32_t)mode);
}

static int lib_close(bench_target *t, int fd)
{
	return vfs_close(t->v, fd);
}

static int64_t lib_read(bench_target *t, int fd, void *buf, size_t n)
{
	return vfs_read(t->v, fd, buf, n);
}

static int64_t lib_write(bench_target *t, int fd, const void *buf, size_t n)
{
	return vfs_write(t->v, fd, buf, n);
}

static int64_t lib_pread(bench_target *t, int fd, void *buf, size_t n,
                         int64_t off)
{
	return vfs_pread(t->v, fd, buf, n, off);
}

static int64_t lib_pwrite(bench_target *t, int fd, const void *buf, size_t n,
                          int64_t off)
{
	return vfs_pwrite(t->v, fd, buf, n, off);
}

static int lib_fsync(bench_target *t, int fd)
{
	return vfs_fsync(t->v, fd);
}

static int lib_ftruncate(bench_target *t, int fd, int64_t size)
{
	return vfs_ftruncate(t->v, fd, size);
}

static int lib_stat(bench_target *t, const char *path)
{
	vfs_attr a;

	return vfs_stat(t->v, path, &a);
}

static int lib_mkdir(bench_target *t, const char *path)
{
	return vfs_mkdir(t->v, path, 0755);
}

static int lib_rmdir(bench_target *t, const char *path)
{
	return vfs_rmdir(t->v, path);
}

static int lib_unlink(bench_target *t, const char *path)
{
	return vfs_unlink(t->v, path);
}

static int64_t lib_list(bench_target *t, const char *path)
{
	int fd = vfs_opendir(t->v, path);
	vfs_dirent e;
	int64_t n = 0;
	int rc;

	if (fd < 0)
		return fd;
	while ((rc = vfs_readdir(t->v, fd, &e)) == 1)
		n++;
	vfs_close(t->v, fd);
	return rc < 0 ? rc : n;
}

static const bench_ops lib_ops = {
        lib_open,   lib_close,  lib_read,      lib_write, lib_pread,
        lib_pwrite, lib_fsync,  lib_ftruncate, lib_stat,  lib_mkdir,
        lib_rmdir,  lib_unlink, lib_list,
};

/* ---- Setting targets up and down ---------------------------------------- */

/* A base directory on a tmpfs we mount ourselves, or /dev/shm. */
static int base_setup(void)
{
	bprintf(B.base, sizeof B.base, "/tmp/vfsbench.XXXXXX");
	if (mkdtemp(B.base) == NULL) {
		fprintf(stderr, "vfsbench: mkdtemp /tmp: %s\n",
		        strerror(errno));
		return -1;
	}
	if (mount("vfsbench", B.base, "tmpfs", MS_NOSUID | MS_NODEV,
	          "mode=0700") == 0) {
		B.tmpfs_mounted = true;
		return 0;
	}
	note("could not mount a tmpfs (%s): the reference is /dev/shm "
	     "instead",
	     strerror(errno));
	rmdir(B.base);
	bprintf(B.base, sizeof B.base, "/dev/shm/vfsbench.XXXXXX");
	if (mkdtemp(B.base) == NULL) {
		fprintf(stderr, "vfsbench: mkdtemp /dev/shm: %s\n",
		        strerror(errno));
		return -1;
	}
	return 0;
}

static void base_teardown(void)
{
	if (B.base[0] == '\0')
		return;
	if (B.db_dir_made[0] != '\0')
		rm_tree(B.db_dir_made, true);
	if (B.tmpfs_mounted) {
		if (umount2(B.base, 0) < 0 && umount2(B.base, MNT_DETACH) < 0)
			fprintf(stderr, "vfsbench: umount %s: %s\n", B.base,
			        strerror(errno));
		rmdir(B.base);
	} else {
		rm_tree(B.base, true);
	}
}

static void db_path(bench_target *t, char *buf, size_t len)
{
	bprintf(buf, len, "%s/%s.db", B.db_dir, t->name);
}

static void db_remove(bench_target *t)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[PATH_MAX], q[PATH_MAX + 16];

	db_path(t, p, sizeof p);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		bprintf(q, sizeof q, "%s%s", p, sfx[i]);
		unlink(q);
	}
}

/* The SPEC for the target's store; fresh host directory or database. */
static int store_spec(bench_target *t, char *spec, size_t len)
{
	char p[PATH_MAX];

	if (strcmp(t->store, "memory") == 0) {
		bprintf(spec, len, "memory");
	} else if (strcmp(t->store, "disk") == 0) {
		rm_tree(B.disk_host, false);
		bprintf(spec, len, "disk:%s", B.disk_host);
	} else {
		db_remove(t);
		db_path(t, p, sizeof p);
		bprintf(spec, len, "sqlite:%s", p);
	}
	return 0;
}

static void store_cleanup(bench_target *t)
{
	if (t->store == NULL)
		return;
	if (strcmp(t->store, "disk") == 0)
		rm_tree(B.disk_host, false);
	else if (strcmp(t->store, "sqlite") == 0)
		db_remove(t);
}

static int fuse_wait_mounted(bench_target *t)
{
	double deadline = now() + 15.0;
	int status;

	while (now() < deadline) {
		if (is_mounted(B.fuse_mnt))
			return 0;
		if (waitpid(t->daemon, &status, WNOHANG) == t->daemon) {
			t->daemon = 0;
			bprintf(t->skip, sizeof t->skip,
			        "vfsmount exited (status %d) before mounting",
			        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -1;
		}
		usleep(5000);
	}
	bprintf(t->skip, sizeof t->skip, "vfsmount did not mount in 15 s");
	return -1;
}

static int fuse_start(bench_target *t, const char *spec)
{
	char mspec[PATH_MAX + 64];
	const char *argv[10];
	int argc = 0;

	bprintf(mspec, sizeof mspec, "/=%s", spec);
	argv[argc++] = B.vfsmount_path;
	argv[argc++] = "-f";
	if (B.vfsmount_opt != NULL) {
		argv[argc++] = "-o";
		argv[argc++] = B.vfsmount_opt;
	}
	argv[argc++] = "-m";
	argv[argc++] = mspec;
	argv[argc++] = B.fuse_mnt;
	argv[argc] = NULL;

	fflush(NULL);
	t->daemon = fork();
	if (t->daemon < 0) {
		t->daemon = 0;
		bprintf(t->skip, sizeof t->skip, "fork: %s", strerror(errno));
		return -1;
	}
	if (t->daemon == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "vfsbench: exec %s: %s\n", argv[0],
		        strerror(errno));
		_exit(127);
	}
	if (fuse_wait_mounted(t) < 0)
		return -1;
	t->mounted = true;
	t->dirfd = open(B.fuse_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		bprintf(t->skip, sizeof t->skip, "open %s: %s", B.fuse_mnt,
		        strerror(errno));
		return -1;
	}
	return 0;
}

/* Unmount and reap the daemon, whatever state it is in. */
static void fuse_stop(bench_target *t)
{
	char *um[] = {"fusermount3", "-u", B.fuse_mnt, NULL};
	double deadline;
	int status;

	if (t->dirfd >= 0) {
		close(t->dirfd);
		t->dirfd = -1;
	}
	if (t->mounted || is_mounted(B.fuse_mnt)) {
		if (run_quiet(um) != 0 && umount2(B.fuse_mnt, 0) < 0 &&
		    t->daemon > 0)
			kill(t->daemon, SIGTERM);
	}
	t->mounted = false;
	if (t->daemon <= 0)
		return;
	deadline = now() + 15.0;
	while (waitpid(t->daemon, &status, WNOHANG) == 0) {
		if (now() > deadline) {
			fprintf(stderr,
			        "vfsbench: %s: vfsmount did not exit; "
			        "killing it\n",
			        t->name);
			kill(t->daemon, SIGKILL);
			waitpid(t->daemon, &status, 0);
			break;
		}
		usleep(5000);
	}
	t->daemon = 0;
	if (is_mounted(B.fuse_mnt))
		umount2(B.fuse_mnt, MNT_DETACH);
}

static int target_setup(bench_target *t)
{
	char spec[PATH_MAX + 16], err[256] = "";
	int rc;

	t->dirfd = -1;
	switch (t->kind) {
	case TK_TMPFS:
		t->ops = &sys_ops;
		{
			char ref[PATH_MAX + 8];

			bprintf(ref, sizeof ref, "%s/ref", B.base);
			rm_tree(ref, true);
			if (mkdir(ref, 0755) < 0) {
				bprintf(t->skip, sizeof t->skip, "mkdir %s: %s",
				        ref, strerror(errno));
				return -1;
			}
			t->dirfd =
			        open(ref, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (t->dirfd < 0)
				return -1;
		}
		return 0;
	case TK_LIB:
		t->ops = &lib_ops;
		store_spec(t, spec, sizeof spec);
		rc = vfs_new(&t->v, NULL);
		if (rc < 0)
			return rc;
		rc = vfs_mount_spec(t->v, "/", spec, err, sizeof err);
		if (rc < 0) {
			bprintf(t->skip, sizeof t->skip, "%s: %s", spec,
			        err[0] ? err : vfs_strerror(rc));
			vfs_free(t->v);
			t->v = NULL;
			return rc;
		}
		return 0;
	default:
		t->ops = &sys_ops;
		store_spec(t, spec, sizeof spec);
		return fuse_start(t, spec);
	}
}

static void target_teardown(bench_target *t)
{
	switch (t->kind) {
	case TK_TMPFS:
		if (t->dirfd >= 0)
			close(t->dirfd);
		t->dirfd = -1;
		break;
	case TK_LIB:
		vfs_free(t->v);
		t->v = NULL;
		break;
	default:
		fuse_stop(t);
		break;
	}
	store_cleanup(t);
}

/* ---- Workloads ----------------------------------------------------------- */

#define RUN(t, rep, m)                                                         \
	((t)->runs[(size_t)(m) * (size_t)B.repeat + (size_t)(rep)])

static void fail(bench_target *t, const char *what, const char *path,
                 int64_t rc)
{
	fprintf(stderr, "\nvfsbench: %s: %s %s: %s\n", t->name, what,
	        path != NULL ? path : "", strerror((int)-rc));
	t->failed = true;
	B.any_failed = true;
}

/* A file set's names, built before the clock starts. */
typedef char bench_name[NAME_LEN];

static bench_name *names_make(const char *dir, int n)
{
	bench_name *names = malloc((size_t)n * sizeof *names);

	if (names == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		bprintf(names[i], sizeof names[i], "%s/f%06d", dir, i);
	return names;
}

/* Read a whole file in SEQ_BLOCK reads; bytes read or a negative errno. */
static int64_t read_all(bench_target *t, const char *path, char *buf)
{
	const bench_ops *o = t->ops;
	int64_t total = 0, r;
	int fd = o->open(t, path, O_RDONLY, 0);

	if (fd < 0)
		return fd;
	while ((r = o->read(t, fd, buf, SEQ_BLOCK)) > 0)
		total += r;
	o->close(t, fd);
	return r < 0 ? r : total;
}

/* Page cache between us and the store can be dropped only for the
 * syscall targets; tmpfs pages cannot be dropped, so its "cold" read is
 * its cached one, as it should be for the reference. */
static bool cold_possible(const bench_target *t)
{
	return B.can_drop && t->kind != TK_LIB;
}

/*
 * (1) Sequential write then fsync, sequential read back; (2) random 4 KiB
 * reads over the first rand_bytes of the same file, which is cut to that
 * size first (writing a second file would only cost time).
 */
static void wl_seq_rand(bench_target *t, int rep, char *buf)
{
	const bench_ops *o = t->ops;
	const char *path = "seq.dat";
	int64_t n = B.seq_bytes / (int64_t)SEQ_BLOCK, r;
	double t0, t1;
	int fd, rc;

	fd = o->open(t, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fail(t, "open", path, fd);
		return;
	}
	t0 = now();
	for (int64_t i = 0; i < n && !bench_stop; i++) {
		buf[0] = (char)i; /* each block differs a little */
		r = o->write(t, fd, buf, SEQ_BLOCK);
		if (r != (int64_t)SEQ_BLOCK) {
			fail(t, "write", path, r < 0 ? r : -EIO);
			o->close(t, fd);
			return;
		}
	}
	rc = o->fsync(t, fd);
	o->close(t, fd);
	t1 = now();
	if (rc < 0) {
		fail(t, "fsync", path, rc);
		return;
	}
	if (B.workloads & W_SEQ)
		RUN(t, rep, M_SEQ_WRITE) =
		        (double)B.seq_bytes / MIB / (t1 - t0);

	/* Cached: the data was just written. */
	t0 = now();
	r = read_all(t, path, buf);
	t1 = now();
	if (r != B.seq_bytes) {
		fail(t, "read", path, r < 0 ? r : -EIO);
		return;
	}
	if (B.workloads & W_SEQ)
		RUN(t, rep, M_SEQ_READ) = (double)B.seq_bytes / MIB / (t1 - t0);

	if (cold_possible(t) && (B.workloads & W_SEQ)) {
		/* The file is clean after fsync; syncfs covers the rest of
		 * this filesystem without waiting on every disk. */
		syncfs(t->dirfd);
		rc = drop_caches();
		if (rc == 0) {
			t0 = now();
			r = read_all(t, path, buf);
			t1 = now();
			if (r != B.seq_bytes) {
				fail(t, "read (cold)", path, r < 0 ? r : -EIO);
				return;
			}
			RUN(t, rep, M_SEQ_READ_COLD) =
			        (double)B.seq_bytes / MIB / (t1 - t0);
		}
	}

	if (B.workloads & W_RAND) {
		uint64_t seed = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)rep;
		uint64_t pages = (uint64_t)(B.rand_bytes / RAND_BLOCK), ops = 0;
		double end;

		fd = o->open(t, path, O_RDWR, 0);
		if (fd < 0) {
			fail(t, "open", path, fd);
			goto out;
		}
		rc = o->ftruncate(t, fd, B.rand_bytes);
		o->close(t, fd);
		if (rc < 0) {
			fail(t, "ftruncate", path, rc);
			goto out;
		}
		/* Start cold where we can: a FUSE mount would otherwise
		 * serve every read from pages left by the writes. */
		if (cold_possible(t)) {
			syncfs(t->dirfd);
			drop_caches();
		}
		fd = o->open(t, path, O_RDONLY, 0);
		if (fd < 0) {
			fail(t, "open", path, fd);
			goto out;
		}
		/* As fio does for random I/O: no readahead. */
		if (t->kind != TK_LIB)
			posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		t0 = now();
		end = t0 + B.rand_secs;
		do {
			for (int i = 0; i < 64; i++) {
				uint64_t p = rng_next(&seed) % pages;

				r = o->pread(t, fd, buf, RAND_BLOCK,
				             (int64_t)(p * RAND_BLOCK));
				if (r != RAND_BLOCK) {
					fail(t, "pread", path,
					     r < 0 ? r : -EIO);
					o->close(t, fd);
					goto out;
				}
			}
			ops += 64;
			t1 = now();
		} while (t1 < end && !bench_stop);
		o->close(t, fd);
		RUN(t, rep, M_RAND_READ) = (double)ops / (t1 - t0);
	}
out:
	rc = o->unlink(t, path);
	if (rc < 0)
		fail(t, "unlink", path, rc);
}

/* (3) Metadata: create, stat, list and unlink files in one directory. */
static void wl_meta(bench_target *t, int rep)
{
	const bench_ops *o = t->ops;
	const char *dir = "meta";
	bench_name *names = names_make(dir, B.files);
	int n = B.files, rc = 0, i;
	int64_t entries;
	double t0, t1;

	if (names == NULL)
		return;
	rc = o->mkdir(t, dir);
	if (rc < 0) {
		fail(t, "mkdir", dir, rc);
		goto out;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		int fd =
		        o->open(t, names[i], O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			fail(t, "create", names[i], fd);
			break;
		}
		o->close(t, fd);
	}
	t1 = now();
	n = i; /* unlink what exists, whatever happened */
	if (n < B.files)
		goto unlink;
	RUN(t, rep, M_CREATE) = n / (t1 - t0);

	t0 = now();
	for (i = 0; i < n; i++) {
		rc = o->stat(t, names[i]);
		if (rc < 0) {
			fail(t, "stat", names[i], rc);
			goto unlink;
		}
	}
	t1 = now();
	RUN(t, rep, M_STAT) = n / (t1 - t0);

	/* One listing of a scaled-down directory takes a few milliseconds,
	 * which one preemption can double: list it five times. */
	t0 = now();
	for (i = 0; i < LIST_TIMES; i++) {
		entries = o->list(t, dir);
		if (entries != n + 2) {
			fail(t, "list", dir, entries < 0 ? entries : -EIO);
			goto unlink;
		}
	}
	t1 = now();
	RUN(t, rep, M_LIST) = (double)entries * LIST_TIMES / (t1 - t0);

unlink:
	t0 = now();
	for (i = 0; i < n; i++) {
		rc = o->unlink(t, names[i]);
		if (rc < 0) {
			fail(t, "unlink", names[i], rc);
			break;
		}
	}
	t1 = now();
	if (i == B.files)
		RUN(t, rep, M_UNLINK) = n / (t1 - t0);
	rc = o->rmdir(t, dir);
	if (rc < 0)
		fail(t, "rmdir", dir, rc);
out:
	free(names);
}

/* (4) Small files: write N files of 4 KiB, read them all back. */
static void wl_small(bench_target *t, int rep, char *buf)
{
	const bench_ops *o = t->ops;
	const char *dir = "small";
	bench_name *names = names_make(dir, B.files);
	int n = B.files, rc, i;
	int64_t r;
	double t0, t1;

	if (names == NULL)
		return;
	rc = o->mkdir(t, dir);
	if (rc < 0) {
		fail(t, "mkdir", dir, rc);
		goto out;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		int fd = o->open(t, names[i], O_WRONLY | O_CREAT | O_TRUNC,
		                 0644);
		if (fd < 0) {
			fail(t, "create", names[i], fd);
			break;
		}
		buf[0] = (char)i;
		r = o->write(t, fd, buf, SMALL_SIZE);
		o->close(t, fd);
		if (r != SMALL_SIZE) {
			fail(t, "write", names[i], r < 0 ? r : -EIO);
			i++;
			break;
		}
	}
	t1 = now();
	if (i == n && !t->failed)
		RUN(t, rep, M_SMALL_WRITE) = n / (t1 - t0);
	n = i;

	t0 = now();
	for (i = 0; i < n; i++) {
		int fd = o->open(t, names[i], O_RDONLY, 0);

		if (fd < 0) {
			fail(t, "open", names[i], fd);
			break;
		}
		r = o->read(t, fd, buf, SMALL_SIZE);
		o->close(t, fd);
		if (r != SMALL_SIZE) {
			fail(t, "read", names[i], r < 0 ? r : -EIO);
			break;
		}
	}
	t1 = now();
	if (i == B.files)
		RUN(t, rep, M_SMALL_READ) = n / (t1 - t0);

	for (i = 0; i < n; i++)
		o->unlink(t, names[i]);
	rc = o->rmdir(t, dir);
	if (rc < 0)
		fail(t, "rmdir", dir, rc);
out:
	free(names);
}

/* (5) Path walk: stat of a file below WALK_DEPTH directories. */
static void wl_walk(bench_target *t, int rep)
{
	const bench_ops *o = t->ops;
	char path[WALK_COMPONENTS * 4 + 1] = "";
	uint64_t calls = 0;
	double t0, t1, end;
	int rc, fd, i;

	for (i = 0; i < WALK_DEPTH; i++) {
		size_t len = strlen(path);

		bprintf(path + len, sizeof path - len, "%sd%d", i ? "/" : "",
		        i);
		rc = o->mkdir(t, path);
		if (rc < 0) {
			fail(t, "mkdir", path, rc);
			goto out;
		}
	}
	strcat(path, "/f");
	fd = o->open(t, path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		fail(t, "create", path, fd);
		goto out;
	}
	o->close(t, fd);

	/* One untimed call brings every name into whatever caches exist. */
	o->stat(t, path);
	t0 = now();
	end = t0 + B.walk_secs;
	do {
		for (i = 0; i < 256; i++) {
			rc = o->stat(t, path);
			if (rc < 0) {
				fail(t, "stat", path, rc);
				goto out;
			}
		}
		calls += 256;
		t1 = now();
	} while (t1 < end && !bench_stop);
	RUN(t, rep, M_WALK) = (t1 - t0) * 1e9 / (double)calls;
out:
	/* Remove from the deepest up, ignoring what never got made. */
	o->unlink(t, path);
	for (i = WALK_DEPTH; i > 0; i--) {
		char *slash = strrchr(path, '/');

		if (slash == NULL)
			break;
		*slash = '\0';
		o->rmdir(t, path);
	}
}

/*
 * (6) Events. A watcher thread blocks in poll() on the watcher's
 * descriptor (vfs_watcher_fd, or an inotify descriptor for tmpfs) and
 * stamps the time when it has read each batch. Latency is from just
 * before the write call to that stamp; the writer waits for the event
 * before the next write, so one sample is one event. The burst creates
 * files as fast as it can and counts events until the last arrives.
 */
typedef struct ev_ctx {
	bench_target *t;
	int fd; /* polled */
	vfs_watcher *w;
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t received; /* protected by mu */
	double last;       /* protected by mu: when the latest batch was read */
	bool overflow;     /* protected by mu */
	int err;           /* protected by mu */
} ev_ctx;

#define EV_BUF_SIZE (64 * 1024)

static void *ev_thread(void *arg)
{
	ev_ctx *c = arg;
	char *buf = malloc(EV_BUF_SIZE);
	struct pollfd p;

	if (buf == NULL)
		return NULL;
	p.fd = c->fd;
	p.events = POLLIN;
	while (!atomic_load(&c->stop)) {
		uint64_t got = 0;
		bool over = false;
		int64_t n;
		double t = 0;

		p.revents = 0;
		if (poll(&p, 1, 50) <= 0)
			continue;
		for (;;) {
			size_t off = 0;

			if (c->w != NULL) {
				n = vfs_watcher_read(c->w, buf, EV_BUF_SIZE);
			} else {
				n = read(c->fd, buf, EV_BUF_SIZE);
				if (n < 0)
					n = errno == EAGAIN ? 0 : -errno;
			}
			if (n <= 0)
				break;
			if (t == 0)
				t = now(); /* the batch reached us */
			/* Both record formats have wd, mask, cookie, len
			 * then the name: vfs_event follows inotify. */
			while (off + sizeof(vfs_event) <= (size_t)n) {
				vfs_event e;

				memcpy(&e, buf + off, sizeof e);
				if (e.mask & (VFS_EV_OVERFLOW | IN_Q_OVERFLOW))
					over = true;
				else if (e.mask &
				         (VFS_EV_MODIFY | VFS_EV_CREATE))
					got++;
				off += sizeof e + e.len;
			}
		}
		if (t == 0 && n == 0)
			continue; /* woken with nothing to read */
		pthread_mutex_lock(&c->mu);
		c->received += got;
		c->last = t;
		if (over)
			c->overflow = true;
		if (n < 0)
			c->err = (int)n;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	free(buf);
	return NULL;
}

/* Wait until received reaches want; false after timeout seconds with no
 * progress. */
static bool ev_wait(ev_ctx *c, uint64_t want, double timeout)
{
	uint64_t seen;
	double idle_since = now();

	pthread_mutex_lock(&c->mu);
	seen = c->received;
	while (c->received < want && !c->overflow && c->err == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (c->received != seen) {
			seen = c->received;
			idle_since = now();
		} else if (now() - idle_since > timeout || bench_stop) {
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return seen >= want;
}

static void wl_events(bench_target *t, int rep)
{
	const bench_ops *o = t->ops;
	const char *dir = "ev", *file = "ev/target";
	bench_name *names = names_make(dir, B.ev_burst);
	double *lat = malloc((size_t)B.ev_samples * sizeof *lat);
	pthread_condattr_t ca;
	pthread_t th;
	bool started = false;
	uint64_t base;
	int inot = -1, fd = -1, rc, i, n = 0;
	ev_ctx c;

	memset(&c, 0, sizeof c);
	c.t = t;
	atomic_init(&c.stop, false);
	pthread_mutex_init(&c.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (names == NULL || lat == NULL)
		goto out;

	rc = o->mkdir(t, dir);
	if (rc < 0) {
		fail(t, "mkdir", dir, rc);
		goto out;
	}
	fd = o->open(t, file, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		fail(t, "create", file, fd);
		goto out;
	}
	if (t->kind == TK_LIB) {
		vfs_watcher_options wo;

		memset(&wo, 0, sizeof wo);
		wo.version = VFS_WATCHER_OPTIONS_VERSION;
		wo.max_events =
		        (uint32_t)(B.ev_burst * 2 > 16384 ? B.ev_burst * 2
		                                          : 16384);
		rc = vfs_watcher_new(t->v, &c.w, &wo);
		if (rc < 0) {
			fail(t, "vfs_watcher_new", NULL, rc);
			goto out;
		}
		rc = vfs_watch_add(c.w, dir, VFS_EV_MODIFY | VFS_EV_CREATE, 0);
		if (rc < 0) {
			fail(t, "vfs_watch_add", dir, rc);
			goto out;
		}
		c.fd = vfs_watcher_fd(c.w);
	} else {
		inot = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (inot < 0) {
			fail(t, "inotify_init1", NULL, -errno);
			goto out;
		}
		/* The directory through our descriptor of the target's
		 * root, so the watch walks no host prefix either. */
		{
			char p[64];

			bprintf(p, sizeof p, "/proc/self/fd/%d/%s", t->dirfd,
			        dir);
			if (inotify_add_watch(inot, p, IN_MODIFY | IN_CREATE) <
			    0) {
				fail(t, "inotify_add_watch", p, -errno);
				goto out;
			}
		}
		c.fd = inot;
	}
	if (pthread_create(&th, NULL, ev_thread, &c) != 0)
		goto out;
	started = true;

	/* Latency: one write, one event. */
	for (i = 0; i < B.ev_samples && !bench_stop; i++) {
		double t0;
		int64_t r;

		pthread_mutex_lock(&c.mu);
		base = c.received;
		pthread_mutex_unlock(&c.mu);
		t0 = now();
		r = o->pwrite(t, fd, "x", 1, 0);
		if (r != 1) {
			fail(t, "pwrite", file, r < 0 ? r : -EIO);
			goto out;
		}
		if (!ev_wait(&c, base + 1, 2.0)) {
			fprintf(stderr,
			        "\nvfsbench: %s: no event 2 s after a write\n",
			        t->name);
			t->failed = B.any_failed = true;
			goto out;
		}
		pthread_mutex_lock(&c.mu);
		lat[n++] = (c.last - t0) * 1e6;
		pthread_mutex_unlock(&c.mu);
	}
	RUN(t, rep, M_EV_LAT_MEDIAN) = quantile(lat, (size_t)n, 0.5);
	RUN(t, rep, M_EV_LAT_P99) = quantile(lat, (size_t)n, 0.99);

	/* Burst: create files as fast as possible. */
	{
		double t0, last;
		uint64_t got;

		pthread_mutex_lock(&c.mu);
		base = c.received;
		pthread_mutex_unlock(&c.mu);
		t0 = now();
		for (i = 0; i < B.ev_burst; i++) {
			int f = o->open(t, names[i], O_WRONLY | O_CREAT, 0644);

			if (f < 0) {
				fail(t, "create", names[i], f);
				break;
			}
			o->close(t, f);
		}
		ev_wait(&c, base + (uint64_t)i, 2.0);
		pthread_mutex_lock(&c.mu);
		got = c.received - base;
		last = c.last;
		if (c.overflow)
			note("%s: the event queue overflowed during the "
			     "burst",
			     t->name);
		pthread_mutex_unlock(&c.mu);
		if (got == (uint64_t)B.ev_burst)
			RUN(t, rep, M_EV_BURST) = (double)got / (last - t0);
		else
			note("%s: %" PRIu64 " of %d burst events arrived",
			     t->name, got, B.ev_burst);
		n = i;
	}
out:
	if (started) {
		atomic_store(&c.stop, true);
		pthread_join(th, NULL);
	}
	vfs_watcher_free(c.w);
	if (inot >= 0)
		close(inot);
	if (fd >= 0)
		o->close(t, fd);
	if (names != NULL)
		for (i = 0; i < B.ev_burst; i++)
			o->unlink(t, names[i]);
	o->unlink(t, file);
	o->rmdir(t, dir);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	free(lat);
	free(names);
}

/* One repetition of every selected workload on one target. */
static void target_run(bench_target *t, int rep, char *buf)
{
	if ((B.workloads & (W_SEQ | W_RAND)) && !bench_stop) {
		progress(" seq");
		wl_seq_rand(t, rep, buf);
	}
	if ((B.workloads & W_META) && !bench_stop) {
		progress(" meta");
		wl_meta(t, rep);
	}
	if ((B.workloads & W_SMALL) && !bench_stop) {
		progress(" small");
		wl_small(t, rep, buf);
	}
	if ((B.workloads & W_WALK) && !bench_stop) {
		progress(" walk");
		wl_walk(t, rep);
	}
	/* Through FUSE, events come from the kernel's inotify on the mount
	 * and say nothing about the library: the library rows cover each
	 * store. */
	if ((B.workloads & W_EVENTS) && t->kind != TK_FUSE && !bench_stop) {
		progress(" events");
		wl_events(t, rep);
	}
}

/* ---- Report -------------------------------------------------------------- */

static double target_value(const bench_target *t, int m)
{
	return median_of(&t->runs[(size_t)m * (size_t)B.repeat], B.repeat);
}

/* Value relative to tmpfs; above 1 is faster whatever the unit. */
static double ratio(const bench_target *t, int m)
{
	double v = target_value(t, m), ref = target_value(&bench_targets[0], m);

	if (isnan(v) || isnan(ref) || v <= 0 || ref <= 0)
		return NAN;
	return bench_metrics[m].lower_better ? ref / v : v / ref;
}

static void fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		bprintf(buf, len, "-");
	else if (v < 10)
		bprintf(buf, len, "%.2f", v);
	else if (v < 100)
		bprintf(buf, len, "%.1f", v);
	else if (v < 10000)
		bprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		bprintf(buf, len, "%.1fk", v / 1e3);
	else
		bprintf(buf, len, "%.2fM", v / 1e6);
}

static bool measured(const bench_target *t)
{
	return t->selected && t->skip[0] == '\0';
}

static void print_cell(const bench_target *t, double v, double r)
{
	char num[32], cell[64];

	if (!measured(t)) {
		printf(" %17s", t->selected ? "skipped" : "not run");
		return;
	}
	fmt_num(num, sizeof num, v);
	if (!isnan(r))
		bprintf(cell, sizeof cell, "%s (%.2fx)", num, r);
	else
		bprintf(cell, sizeof cell, "%s", num);
	printf(" %17s", cell);
}

/* tmpfs, then targets first..last; rows none of them measured are left
 * out (events through FUSE, workloads not selected). */
static void print_section(const char *title, size_t first, size_t last)
{
	bool any = false;

	for (size_t i = first; i <= last; i++)
		any = any || measured(&bench_targets[i]);
	if (!any)
		return;
	printf("\n%s\n%-32s %17s", title, "", "tmpfs");
	for (size_t i = first; i <= last; i++)
		printf(" %17s", bench_targets[i].name);
	printf("\n");
	for (int m = 0; m < M_COUNT; m++) {
		char label[64];
		bool row = false;

		for (size_t i = first; i <= last; i++)
			row = row ||
			      (measured(&bench_targets[i]) &&
			       !isnan(target_value(&bench_targets[i], m)));
		if (!row)
			continue;
		bprintf(label, sizeof label, "%s, %s", bench_metrics[m].label,
		        bench_metrics[m].unit);
		printf("%-32s", label);
		print_cell(&bench_targets[0],
		           target_value(&bench_targets[0], m), NAN);
		for (size_t i = first; i <= last; i++)
			print_cell(&bench_targets[i],
			           target_value(&bench_targets[i], m),
			           ratio(&bench_targets[i], m));
		printf("\n");
		if (m != M_WALK)
			continue;
		printf("%-32s", "  per component, ns");
		print_cell(&bench_targets[0],
		           target_value(&bench_targets[0], m) / WALK_COMPONENTS,
		           NAN);
		for (size_t i = first; i <= last; i++)
			print_cell(&bench_targets[i],
			           target_value(&bench_targets[i], m) /
			                   WALK_COMPONENTS,
			           NAN);
		printf("\n");
	}
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_num(double v)
{
	if (isnan(v) || isinf(v))
		printf("null");
	else
		printf("%.6g", v);
}

/*
 * The goals issue 8 sets, checked against this run. A ratio goal is met
 * at or above its value; an absolute one (time) below it.
 */
static const struct {
	const char *target;
	int metric;
	double goal;
	bool absolute; /* compare the value (per_comp: per component) */
	bool per_comp;
} bench_goals[] = {
        {"lib-memory", M_CREATE, 2.0, false, false},
        {"lib-memory", M_STAT, 2.0, false, false},
        {"lib-memory", M_UNLINK, 2.0, false, false},
        {"lib-memory", M_SEQ_WRITE, 1.0, false, false},
        {"lib-memory", M_SEQ_READ, 1.0, false, false},
        {"lib-memory", M_WALK, 50.0, true, true},
        {"lib-memory", M_EV_LAT_P99, 1000.0, true, false},
        {"fuse-memory", M_SEQ_WRITE, 0.7, false, false},
        {"fuse-memory", M_SEQ_READ_COLD, 0.7, false, false},
        {"fuse-memory", M_RAND_READ, 0.1, false, false},
        {"fuse-memory", M_CREATE, 0.1, false, false},
        {"fuse-memory", M_STAT, 0.5, false, false},
        {"fuse-sqlite", M_SEQ_WRITE, 0.2, false, false},
        {"fuse-sqlite", M_SMALL_WRITE, 0.1, false, false},
        {"fuse-sqlite", M_SMALL_READ, 0.1, false, false},
};
#define NGOALS (sizeof bench_goals / sizeof bench_goals[0])

static const bench_target *target_named(const char *name)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (strcmp(bench_targets[i].name, name) == 0)
			return &bench_targets[i];
	return NULL;
}

/* The figure a goal compares, or NAN when it was not measured. */
static double goal_value(size_t g)
{
	const bench_target *t = target_named(bench_goals[g].target);
	double v;

	if (t == NULL || !t->selected || t->skip[0] != '\0')
		return NAN;
	if (!bench_goals[g].absolute)
		return ratio(t, bench_goals[g].metric);
	v = target_value(t, bench_goals[g].metric);
	return bench_goals[g].per_comp ? v / WALK_COMPONENTS : v;
}

static bool goal_met(size_t g, double v)
{
	return bench_goals[g].absolute ? v < bench_goals[g].goal
	                               : v >= bench_goals[g].goal;
}

static void goal_describe(size_t g, char *buf, size_t len)
{
	int m = bench_goals[g].metric;

	if (bench_goals[g].absolute)
		bprintf(buf, len, "%s %s%s < %g %s", bench_goals[g].target,
		        bench_metrics[m].label,
		        bench_goals[g].per_comp ? " per component" : "",
		        bench_goals[g].goal,
		        bench_goals[g].per_comp ? "ns" : bench_metrics[m].unit);
	else
		bprintf(buf, len, "%s %s >= %gx tmpfs", bench_goals[g].target,
		        bench_metrics[m].label, bench_goals[g].goal);
}

static void print_goals(void)
{
	printf("\ngoals (issue 8):\n");
	for (size_t g = 0; g < NGOALS; g++) {
		char what[160];
		double v = goal_value(g);

		goal_describe(g, what, sizeof what);
		if (isnan(v)) {
			printf("  %-52s not measured\n", what);
		} else if (bench_goals[g].absolute) {
			printf("  %-52s %-6s (%.3g; %.2fx the limit)\n", what,
			       goal_met(g, v) ? "met" : "MISSED", v,
			       v / bench_goals[g].goal);
		} else {
			printf("  %-52s %-6s (%.2fx; %.0f%% of the goal)\n",
			       what, goal_met(g, v) ? "met" : "MISSED", v,
			       100 * v / bench_goals[g].goal);
		}
	}
}

static void json_goals(void)
{
	printf("  \"goals\": [");
	for (size_t g = 0; g < NGOALS; g++) {
		char what[160];
		double v = goal_value(g);

		goal_describe(g, what, sizeof what);
		printf("%s\n    {\"goal\": ", g ? "," : "");
		json_str(what);
		printf(", \"value\": ");
		json_num(v);
		printf(", \"met\": %s}", isnan(v)         ? "null"
		                         : goal_met(g, v) ? "true"
		                                          : "false");
	}
	printf("\n  ],\n");
}

static void report_json(const char *machine, double others, const char *load0,
                        const char *load1)
{
	printf("{\n  \"command\": ");
	json_str(B.command);
	printf(",\n  \"machine\": ");
	json_str(machine);
	printf(",\n  \"scale\": %g,\n  \"repeat\": %d,\n", B.scale, B.repeat);
	printf("  \"sizes\": {\"seq_bytes\": %" PRId64
	       ", \"rand_bytes\": %" PRId64 ", \"files\": %d, "
	       "\"event_samples\": %d, \"event_burst\": %d, "
	       "\"rand_seconds\": %g, \"walk_seconds\": %g, "
	       "\"walk_components\": %d},\n",
	       B.seq_bytes, B.rand_bytes, B.files, B.ev_samples, B.ev_burst,
	       B.rand_secs, B.walk_secs, WALK_COMPONENTS);
	printf("  \"reference\": ");
	json_str(B.tmpfs_mounted ? "tmpfs mounted by vfsbench" : "/dev/shm");
	printf(",\n  \"sqlite_file_on\": ");
	json_str(B.db_fs);
	printf(",\n  \"busy\": {\"others_cpus\": ");
	json_num(others);
	printf(", \"loadavg_before\": ");
	json_str(load0);
	printf(", \"loadavg_after\": ");
	json_str(load1);
	printf("},\n");
	json_goals();
	printf("  \"targets\": {");
	for (size_t i = 0; i < NTARGETS; i++) {
		const bench_target *t = &bench_targets[i];

		printf("%s\n    ", i ? "," : "");
		json_str(t->name);
		printf(": {");
		if (!t->selected || t->skip[0] != '\0') {
			printf("\"skipped\": ");
			json_str(t->skip[0] ? t->skip : "not selected");
			printf("}");
			continue;
		}
		printf("\"others_cpus_max\": ");
		json_num(t->others_cpu_max);
		for (int m = 0; m < M_COUNT; m++) {
			printf(",\n      ");
			json_str(bench_metrics[m].key);
			printf(": {\"unit\": ");
			json_str(bench_metrics[m].unit);
			printf(", \"median\": ");
			json_num(target_value(t, m));
			printf(", \"ratio\": ");
			json_num(ratio(t, m));
			printf(", \"runs\": [");
			for (int r = 0; r < B.repeat; r++) {
				printf("%s", r ? ", " : "");
				json_num(RUN(t, r, m));
			}
			printf("]}");
		}
		printf("}");
	}
	printf("\n  },\n  \"notes\": [");
	for (int i = 0; i < B.nnotes; i++) {
		printf("%s\n    ", i ? "," : "");
		json_str(B.notes[i]);
	}
	printf("\n  ]\n}\n");
}

static void report_table(const char *machine, double others, const char *load0,
                         const char *load1)
{
	printf("vfsbench: %s\n", machine);
	printf("command: %s\n", B.command);
	printf("sizes: seq %" PRId64 " MiB in 1 MiB blocks; random reads over "
	       "%" PRId64 " MiB for %.2g s; %d files; path walk %.2g s; "
	       "%d event samples, burst of %d; median of %d run%s\n",
	       B.seq_bytes / MIB, B.rand_bytes / MIB, B.rand_secs, B.files,
	       B.walk_secs, B.ev_samples, B.ev_burst, B.repeat,
	       B.repeat > 1 ? "s" : "");
	printf("reference: %s at %s; disk stores over %s; sqlite database "
	       "files in %s (%s)\n",
	       B.tmpfs_mounted ? "a tmpfs mounted by vfsbench" : "/dev/shm",
	       B.base, B.disk_host, B.db_dir, B.db_fs);
	printf("load: %.2f CPUs used by other processes on average; "
	       "loadavg before %s, after %s\n",
	       others, load0, load1);
	printf("ratio: value relative to tmpfs in this run, above 1 is "
	       "faster (for times: tmpfs time / time)\n");

	print_section("Library API (vfs_* calls)", 1, 3);
	print_section("vfsmount (FUSE, plain syscalls on the mount)", 4, 6);

	print_goals();
	printf("\nnotes:\n");
	for (size_t i = 0; i < NTARGETS; i++)
		if (bench_targets[i].selected && bench_targets[i].skip[0])
			printf("- %s skipped: %s\n", bench_targets[i].name,
			       bench_targets[i].skip);
	for (int i = 0; i < B.nnotes; i++)
		printf("- %s\n", B.notes[i]);
}

/* ---- Main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vfsbench [options]\n"
	        "\n"
	        "Run the same workloads on tmpfs (plain syscalls, the "
	        "reference), on\n"
	        "each store through the library API, and on each store "
	        "mounted with\n"
	        "vfsmount; print each figure with its ratio to tmpfs.\n"
	        "\n"
	        "  --quick              scaled-down run (--scale 0.01 "
	        "--repeat 1)\n"
	        "  --scale F            multiply sizes, counts and durations "
	        "by F (0 < F <= 1)\n"
	        "  --repeat N           runs of each workload, median "
	        "reported (3)\n"
	        "  --json               JSON on stdout instead of the "
	        "table\n"
	        "  --vfsmount PATH      the vfsmount binary (default: "
	        "../fusefs/vfsmount\n"
	        "                       next to this program's build "
	        "directory)\n"
	        "  --vfsmount-opt OPTS  passed to vfsmount as -o OPTS\n"
	        "  --no-fuse            skip the vfsmount targets\n"
	        "  --nice               run at nice -20 (root), so that other "
	        "processes\n"
	        "                       disturb the figures less\n"
	        "  --targets LIST       comma list among tmpfs, lib-memory, "
	        "lib-disk,\n"
	        "                       lib-sqlite, fuse-memory, fuse-disk, "
	        "fuse-sqlite\n"
	        "                       (all); without tmpfs there are no "
	        "ratios\n"
	        "  --workloads LIST     comma list among seq, rand, meta, "
	        "small, walk, events\n"
	        "  --sqlite-dir DIR     put sqlite databases in DIR instead "
	        "of the tmpfs\n");
}

static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static int parse_args(int argc, char **argv)
{
	size_t off = 0;
	char *end;

	B.scale = 1.0;
	B.repeat = 3;
	B.workloads = W_ALL;
	for (int i = 0; i < argc && off < sizeof B.command; i++) {
		int n = snprintf(B.command + off, sizeof B.command - off,
		                 "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

#define NEED_VAL                                                               \
	do {                                                                   \
		if (val == NULL) {                                             \
			fprintf(stderr, "vfsbench: %s needs a value\n", a);    \
			return -1;                                             \
		}                                                              \
		i++;                                                           \
	} while (0)
		if (strcmp(a, "--quick") == 0) {
			B.scale = 0.01;
			B.repeat = 1;
		} else if (strcmp(a, "--scale") == 0) {
			NEED_VAL;
			B.scale = strtod(val, &end);
			if (*end != '\0' || !(B.scale > 0 && B.scale <= 1)) {
				fprintf(stderr,
				        "vfsbench: --scale %s: expected a "
				        "number in (0, 1]\n",
				        val);
				return -1;
			}
		} else if (strcmp(a, "--repeat") == 0) {
			long r;

			NEED_VAL;
			r = strtol(val, &end, 10);
			if (*end != '\0' || r < 1 || r > 64) {
				fprintf(stderr,
				        "vfsbench: --repeat %s: expected 1 to "
				        "64\n",
				        val);
				return -1;
			}
			B.repeat = (int)r;
		} else if (strcmp(a, "--json") == 0) {
			B.json = true;
		} else if (strcmp(a, "--nice") == 0) {
			B.nice = true;
		} else if (strcmp(a, "--no-fuse") == 0) {
			B.no_fuse = true;
		} else if (strcmp(a, "--vfsmount") == 0) {
			NEED_VAL;
			B.vfsmount = val;
		} else if (strcmp(a, "--vfsmount-opt") == 0) {
			NEED_VAL;
			B.vfsmount_opt = val;
		} else if (strcmp(a, "--sqlite-dir") == 0) {
			NEED_VAL;
			B.sqlite_dir = val;
		} else if (strcmp(a, "--targets") == 0) {
			NEED_VAL;
			B.targets = val;
			for (const char *p = val; *p != '\0';) {
				const char *e = strchr(p, ',');
				size_t len = e ? (size_t)(e - p) : strlen(p);
				bool ok = false;

				for (size_t k = 0; k < NTARGETS; k++)
					if (strlen(bench_targets[k].name) ==
					            len &&
					    strncmp(bench_targets[k].name, p,
					            len) == 0)
						ok = true;
				if (!ok) {
					fprintf(stderr,
					        "vfsbench: --targets: unknown "
					        "target '%.*s'\n",
					        (int)len, p);
					return -1;
				}
				p = e ? e + 1 : p + len;
			}
		} else if (strcmp(a, "--workloads") == 0) {
			NEED_VAL;
			B.workloads = 0;
			for (size_t k = 0;
			     k < sizeof bench_workload_names /
			                 sizeof bench_workload_names[0];
			     k++)
				if (list_has(val, bench_workload_names[k].name))
					B.workloads |=
					        bench_workload_names[k].bit;
			if (B.workloads == 0) {
				fprintf(stderr,
				        "vfsbench: --workloads %s: none of "
				        "seq, "
				        "rand, meta, small, walk, events\n",
				        val);
				return -1;
			}
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "vfsbench: unknown option '%s'\n", a);
			usage(stderr);
			return -1;
		}
#undef NEED_VAL
	}
	return 0;
}

static int scaled(int full, int floor)
{
	int n = (int)(full * B.scale + 0.5);

	return n < floor ? floor : n;
}

static void derive_sizes(void)
{
	B.seq_bytes = (int64_t)(FULL_SEQ_BYTES / MIB * B.scale + 0.5) * MIB;
	if (B.seq_bytes < 2 * MIB)
		B.seq_bytes = 2 * MIB;
	B.rand_bytes = B.seq_bytes / 2;
	B.files = scaled(FULL_FILES, 100);
	B.ev_samples = scaled(FULL_EV_SAMPLES, 100);
	B.ev_burst = scaled(FULL_EV_BURST, 100);
	B.rand_secs = FULL_RAND_SECS * B.scale;
	if (B.rand_secs < 0.2)
		B.rand_secs = 0.2;
	B.walk_secs = FULL_WALK_SECS * B.scale;
	if (B.walk_secs < 0.1)
		B.walk_secs = 0.1;
}

/* What filesystem holds path, for the report. */
static void fs_name(const char *path, char *buf, size_t len)
{
	struct stat st;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	bprintf(buf, len, "unknown");
	if (f == NULL || stat(path, &st) < 0) {
		if (f != NULL)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned maj, mnr;
		char *dash = strstr(line, " - ");
		char type[32];

		if (sscanf(line, "%*s %*s %u:%u", &maj, &mnr) != 2 ||
		    dash == NULL)
			continue;
		if (makedev(maj, mnr) != (dev_t)st.st_dev)
			continue;
		if (sscanf(dash + 3, "%31s", type) == 1)
			bprintf(buf, len, "%s", type);
	}
	fclose(f);
}

static void find_vfsmount(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (B.vfsmount != NULL) {
		bprintf(B.vfsmount_path, sizeof B.vfsmount_path, "%s",
		        B.vfsmount);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		bprintf(B.vfsmount_path, sizeof B.vfsmount_path, "vfsmount");
		return;
	}
	exe[n] = '\0';
	/* BUILD/bench/vfsbench -> BUILD/fusefs/vfsmount */
	for (int k = 0; k < 2; k++) {
		char *slash = strrchr(exe, '/');

		if (slash != NULL)
			*slash = '\0';
	}
	bprintf(B.vfsmount_path, sizeof B.vfsmount_path, "%s/fusefs/vfsmount",
	        exe);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

static void select_targets(void)
{
	bool have_sqlite = false;
	vfs_store *s = NULL;
	char p[PATH_MAX + 16];

	/* Is the sqlite store built in? Open a scratch database once. */
	bprintf(p, sizeof p, "sqlite:%s/probe.db", B.db_dir);
	if (vfs_store_open(&s, p, NULL, 0) == 0) {
		have_sqlite = true;
		vfs_store_free(s);
	}
	bprintf(p, sizeof p, "%s/probe.db", B.db_dir);
	unlink(p);
	strcat(p, "-wal");
	unlink(p);
	p[strlen(p) - 4] = '\0';
	strcat(p, "-shm");
	unlink(p);

	for (size_t i = 0; i < NTARGETS; i++) {
		bench_target *t = &bench_targets[i];

		t->selected = B.targets == NULL || list_has(B.targets, t->name);
		if (!t->selected)
			continue;
		if (t->store != NULL && strcmp(t->store, "sqlite") == 0 &&
		    !have_sqlite)
			bprintf(t->skip, sizeof t->skip,
			        "the sqlite store is not built into this "
			        "library");
		if (t->kind != TK_FUSE || t->skip[0])
			continue;
		if (B.no_fuse)
			bprintf(t->skip, sizeof t->skip, "--no-fuse");
		else if (access(B.vfsmount_path, X_OK) < 0)
			bprintf(t->skip, sizeof t->skip, "no vfsmount at %s",
			        B.vfsmount_path);
		else if (access("/dev/fuse", R_OK | W_OK) < 0)
			bprintf(t->skip, sizeof t->skip,
			        "/dev/fuse is not usable here");
	}
}

int main(int argc, char **argv)
{
	char machine[512], load0[64], load1[64];
	struct utsname un;
	struct sigaction sa;
	cpu_sample c0, c1;
	double others;
	char *buf = NULL;
	int ret = 1;

	if (parse_args(argc, argv) < 0)
		return 2;
	derive_sizes();
	find_vfsmount();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	uname(&un);
	bprintf(machine, sizeof machine, "%s %s %s, %ld CPUs", un.sysname,
	        un.release, un.machine, sysconf(_SC_NPROCESSORS_ONLN));

	if (B.nice) {
		if (setpriority(PRIO_PROCESS, 0, -20) == 0)
			note("ran at nice -20 (--nice); vfsmount inherits it");
		else
			note("--nice: setpriority: %s", strerror(errno));
	}
	if (base_setup() < 0)
		return 1;
	bprintf(B.fuse_mnt, sizeof B.fuse_mnt, "%s/mnt", B.base);
	bprintf(B.disk_host, sizeof B.disk_host, "%s/disk", B.base);
	if (mkdir(B.fuse_mnt, 0755) < 0 || mkdir(B.disk_host, 0755) < 0) {
		fprintf(stderr, "vfsbench: mkdir in %s: %s\n", B.base,
		        strerror(errno));
		goto out;
	}
	if (B.sqlite_dir != NULL) {
		bprintf(B.db_dir, sizeof B.db_dir, "%s/vfsbench.XXXXXX",
		        B.sqlite_dir);
		if (mkdtemp(B.db_dir) == NULL) {
			fprintf(stderr, "vfsbench: mkdtemp in %s: %s\n",
			        B.sqlite_dir, strerror(errno));
			goto out;
		}
		bprintf(B.db_dir_made, sizeof B.db_dir_made, "%s", B.db_dir);
	} else {
		bprintf(B.db_dir, sizeof B.db_dir, "%s/db", B.base);
		if (mkdir(B.db_dir, 0755) < 0) {
			fprintf(stderr, "vfsbench: mkdir %s: %s\n", B.db_dir,
			        strerror(errno));
			goto out;
		}
	}
	fs_name(B.db_dir, B.db_fs, sizeof B.db_fs);
	select_targets();

	/* Opening it for writing is the test; writing would drop every
	 * cache on the machine before the run has even started. */
	{
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

		B.can_drop = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (!B.can_drop)
		note("cold reads not measured: cannot write "
		     "/proc/sys/vm/drop_caches (needs root)");
	else
		note("seq read, cold: page cache dropped (echo 1 > "
		     "/proc/sys/vm/drop_caches) before the read; tmpfs pages "
		     "cannot be dropped, so its cold read is a cached one");
	note("seq read, cold, library rows: no kernel page cache sits "
	     "between the caller and the store, so there is nothing to "
	     "drop");
	note("FUSE rows: random reads start after dropping the page cache, "
	     "with POSIX_FADV_RANDOM (as fio); the library has no readahead "
	     "to turn off");
	note("events: not measured through FUSE (the kernel's inotify on a "
	     "FUSE mount says nothing about the library); library rows use "
	     "vfs_watcher, tmpfs uses inotify; latency runs from just before "
	     "the write call to the watcher thread having read the event");

	for (size_t i = 0; i < NTARGETS; i++) {
		bench_target *t = &bench_targets[i];

		t->runs = malloc((size_t)M_COUNT * (size_t)B.repeat *
		                 sizeof *t->runs);
		if (t->runs == NULL)
			goto out;
		for (size_t k = 0; k < (size_t)M_COUNT * (size_t)B.repeat; k++)
			t->runs[k] = NAN;
		t->dirfd = -1;
	}
	buf = malloc(SEQ_BLOCK);
	if (buf == NULL)
		goto out;
	memset(buf, 'v', SEQ_BLOCK);

	loadavg(load0, sizeof load0);
	cpu_sample_take(&c0);
	for (int rep = 0; rep < B.repeat && !bench_stop; rep++) {
		for (size_t i = 0; i < NTARGETS && !bench_stop; i++) {
			bench_target *t = &bench_targets[i];
			cpu_sample a, b;
			double o;

			if (!t->selected || t->skip[0] != '\0')
				continue;
			progress("vfsbench: run %d/%d %-12s", rep + 1, B.repeat,
			         t->name);
			cpu_sample_take(&a);
			if (target_setup(t) == 0) {
				target_run(t, rep, buf);
			} else if (t->skip[0] == '\0') {
				bprintf(t->skip, sizeof t->skip,
				        "setup failed");
			}
			if (t->skip[0] != '\0') {
				fprintf(stderr, " skipped: %s", t->skip);
				if (t->kind == TK_FUSE && !B.no_fuse) {
					t->failed = B.any_failed = true;
				}
			}
			target_teardown(t);
			cpu_sample_take(&b);
			o = cpu_others(&a, &b);
			if (o > t->others_cpu_max)
				t->others_cpu_max = o;
			progress(" (others: %.2f CPUs)\n", o);
		}
	}
	cpu_sample_take(&c1);
	loadavg(load1, sizeof load1);
	others = cpu_others(&c0, &c1);

	if (others > 0.1 || strtod(load0, NULL) > 0.5) {
		double worst = 0;
		const char *who = "";

		for (size_t i = 0; i < NTARGETS; i++)
			if (bench_targets[i].others_cpu_max > worst) {
				worst = bench_targets[i].others_cpu_max;
				who = bench_targets[i].name;
			}
		note("WARNING: the machine was busy: other processes used "
		     "%.2f CPUs on average (worst during %s: %.2f); loadavg "
		     "before %s, after %s; figures are less reliable",
		     others, who, worst, load0, load1);
		fprintf(stderr,
		        "vfsbench: WARNING: the machine was busy: other "
		        "processes used %.2f CPUs on average\n",
		        others);
	}
	if (bench_stop)
		note("interrupted: the figures are incomplete");

	if (B.json)
		report_json(machine, others, load0, load1);
	else
		report_table(machine, others, load0, load1);
	ret = B.any_failed || bench_stop ? 1 : 0;
out:
	for (size_t i = 0; i < NTARGETS; i++) {
		bench_target *t = &bench_targets[i];

		if (t->kind == TK_FUSE && (t->daemon > 0 || t->mounted))
			fuse_stop(t);
		free(t->runs);
	}
	free(buf);
	base_teardown();
	for (int i = 0; i < B.nnotes; i++)
		free(B.notes[i]);
	return ret;
}
