/*
 * Crash test: a child process runs a random workload on an SQLite store and
 * is killed with SIGKILL at a random moment, over and over (at least 200
 * times), each child continuing where the store was left.
 *
 * The workload is a deterministic sequence of operations on eight file
 * slots (/s0 ... /s7): create, write (with holes), truncate, unlink, rename
 * over, fsync, and "orphan" (open, unlink, keep writing to the open file).
 * Each operation is one store transaction that changes the tree (or none).
 * Before starting operation j the child writes "S j" into a pipe, and after
 * vfs_fsync() returns for operation j it writes "Y j". The parent keeps the
 * same model: after a kill the store must open (reclaiming the dead child's
 * orphans), fsck must be clean, and the tree must equal the model after
 * every operation before the last one started, or after that one too (it
 * may have committed). In particular every operation up to the last
 * synced one is there: every synced byte survives.
 *
 * A kill is not a power cut: committed but unsynced transactions survive it
 * too (they are in the WAL file, in the kernel's page cache), which is why
 * the check can be this exact.
 */
#include "sqlite_test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#define NSLOT  8
#define MAXSZ  (512 * 1024)
#define KILLS  220
#define MAXOPS 100000

enum {
	OP_CREATE,
	OP_WRITE,
	OP_TRUNC,
	OP_UNLINK,
	OP_RENAME,
	OP_FSYNC,
	OP_ORPHAN
};

typedef struct op {
	int kind, a, b;
	uint32_t off, len;
	uint64_t seed;
} op;

typedef struct model {
	bool exists[NSLOT];
	uint32_t size[NSLOT];
	unsigned char *data[NSLOT];
	uint64_t rng;
	uint64_t n; /* operations applied */
} model;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t s = seed | 1;

	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0)
			rnd(&s);
		p[i] = (unsigned char)(s >> ((i & 7) * 8));
	}
}

static void model_init(model *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < NSLOT; i++) {
		m->data[i] = calloc(1, MAXSZ);
		assert_non_null(m->data[i]);
	}
	m->rng = 0x9e3779b97f4a7c15ull;
}

static void model_copy(model *dst, const model *src)
{
	for (int i = 0; i < NSLOT; i++) {
		dst->exists[i] = src->exists[i];
		dst->size[i] = src->size[i];
		memcpy(dst->data[i], src->data[i], MAXSZ);
	}
	dst->rng = src->rng;
	dst->n = src->n;
}

static void model_free(model *m)
{
	for (int i = 0; i < NSLOT; i++)
		free(m->data[i]);
}

/* The next operation (advances the model's generator). */
static op gen(model *m)
{
	op o = {0};
	int s = (int)(rnd(&m->rng) % NSLOT);
	unsigned r = (unsigned)(rnd(&m->rng) % 100);

	o.a = s;
	o.seed = rnd(&m->rng);
	if (!m->exists[s]) {
		o.kind = OP_CREATE;
	} else if (r < 40) {
		o.kind = OP_WRITE;
		o.off = (uint32_t)(rnd(&m->rng) % 300000);
		o.len = 1 + (uint32_t)(rnd(&m->rng) % 100000);
	} else if (r < 52) {
		o.kind = OP_TRUNC;
		o.off = (uint32_t)(rnd(&m->rng) % 400000);
	} else if (r < 60) {
		o.kind = OP_UNLINK;
	} else if (r < 70) {
		o.kind = OP_RENAME;
		o.b = (int)(rnd(&m->rng) % NSLOT);
		if (o.b == o.a)
			o.b = (o.a + 1) % NSLOT;
	} else if (r < 88) {
		o.kind = OP_FSYNC;
	} else {
		o.kind = OP_ORPHAN;
		o.len = 1 + (uint32_t)(rnd(&m->rng) % 20000);
	}
	return o;
}

static void apply(model *m, const op *o)
{
	int a = o->a;

	switch (o->kind) {
	case OP_CREATE:
		m->exists[a] = true;
		m->size[a] = 0;
		break;
	case OP_WRITE:
		fill(m->data[a] + o->off, o->len, o->seed);
		if (o->off + o->len > m->size[a])
			m->size[a] = o->off + o->len;
		break;
	case OP_TRUNC:
		if (o->off < m->size[a])
			memset(m->data[a] + o->off, 0, m->size[a] - o->off);
		m->size[a] = o->off;
		break;
	case OP_UNLINK:
	case OP_ORPHAN:
		m->exists[a] = false;
		memset(m->data[a], 0, m->size[a]);
		m->size[a] = 0;
		break;
	case OP_RENAME:
		if (m->exists[o->b])
			memset(m->data[o->b], 0, m->size[o->b]);
		memcpy(m->data[o->b], m->data[a], m->size[a]);
		memset(m->data[a], 0, m->size[a]);
		m->size[o->b] = m->size[a];
		m->exists[o->b] = true;
		m->exists[a] = false;
		m->size[a] = 0;
		break;
	default:
		break;
	}
	m->n++;
}

static void slot_path(char *p, size_t len, int s)
{
	snprintf(p, len, "/s%d", s);
}

/* Do one operation on the store; the child exits on any error. */
static void run_op(vfs *v, const op *o, int *orphans, int *norphans,
                   unsigned char *buf)
{
	char pa[16], pb[16];
	int fd;

	slot_path(pa, sizeof(pa), o->a);
	slot_path(pb, sizeof(pb), o->b);
	switch (o->kind) {
	case OP_CREATE:
		fd = vfs_open(v, pa, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || vfs_close(v, fd) < 0)
			_exit(10);
		break;
	case OP_WRITE:
		fill(buf, o->len, o->seed);
		fd = vfs_open(v, pa, O_WRONLY, 0);
		if (fd < 0 ||
		    vfs_pwrite(v, fd, buf, o->len, o->off) != (int64_t)o->len)
			_exit(11);
		vfs_close(v, fd);
		break;
	case OP_TRUNC:
		if (vfs_truncate(v, pa, o->off) < 0)
			_exit(12);
		break;
	case OP_UNLINK:
		if (vfs_unlink(v, pa) < 0)
			_exit(13);
		break;
	case OP_RENAME:
		if (vfs_rename(v, pa, pb, 0) < 0)
			_exit(14);
		break;
	case OP_FSYNC:
		fd = vfs_open(v, pa, O_RDONLY, 0);
		if (fd < 0 || vfs_fsync(v, fd) < 0)
			_exit(15);
		vfs_close(v, fd);
		break;
	case OP_ORPHAN:
		fd = vfs_open(v, pa, O_RDWR, 0);
		if (fd < 0 || vfs_unlink(v, pa) < 0)
			_exit(16);
		fill(buf, o->len, o->seed);
		if (vfs_pwrite(v, fd, buf, o->len, 0) != (int64_t)o->len)
			_exit(17);
		if (*norphans == 4) {
			vfs_close(v, orphans[0]);
			memmove(orphans, orphans + 1, 3 * sizeof(int));
			(*norphans)--;
		}
		orphans[(*norphans)++] = fd;
		break;
	default:
		break;
	}
}

static void rec(int pfd, char tag, uint64_t j)
{
	char r[9];

	r[0] = tag;
	memcpy(r + 1, &j, 8);
	if (write(pfd, r, 9) != 9)
		_exit(20);
}

static void child(const char *db, model *m, int pfd)
{
	unsigned char *buf = malloc(MAXSZ);
	int orphans[4], norphans = 0;
	vfs *v = NULL;
	char err[256];

	if (!buf || st_mount(&v, db, NULL, err, sizeof(err)) < 0)
		_exit(2);
	for (int i = 0; i < MAXOPS; i++) {
		op o = gen(m);
		uint64_t j = m->n;
		rec(pfd, 'S', j);
		run_op(v, &o, orphans, &norphans, buf);
		apply(m, &o);
		if (o.kind == OP_FSYNC)
			rec(pfd, 'Y', j);
	}
	_exit(0);
}

/* Compare the store with the model; 0 when equal. */
static int compare(vfs *v, const model *m, unsigned char *buf, char *why,
                   size_t len)
{
	for (int s = 0; s < NSLOT; s++) {
		char p[16];
		vfs_attr a;
		int rc;
		slot_path(p, sizeof(p), s);
		rc = vfs_lstat(v, p, &a);
		if (rc == -ENOENT && !m->exists[s])
			continue;
		if (rc < 0 || !m->exists[s]) {
			snprintf(why, len, "%s: %s, model %s", p,
			         rc < 0 ? vfs_strerror(rc) : "exists",
			         m->exists[s] ? "exists" : "absent");
			return -1;
		}
		if (a.size != m->size[s]) {
			snprintf(why, len, "%s: size %lld, model %u", p,
			         (long long)a.size, m->size[s]);
			return -1;
		}
		if (st_get(v, p, buf, MAXSZ) != a.size ||
		    memcmp(buf, m->data[s], m->size[s]) != 0) {
			snprintf(why, len, "%s: contents differ", p);
			return -1;
		}
	}
	return 0;
}

static void test_sqlite_crash_kill_loop(void **state)
{
	char dir[512], db[600], why[256], rep[2048];
	unsigned char *buf = malloc(MAXSZ);
	model m, cand;
	uint64_t seed = (uint64_t)time(NULL), rs;
	unsigned with_ops = 0, total_ops = 0, synced_kills = 0;
	struct timespec t0, t1;
	vfs *v;

	(void)state;
	assert_non_null(buf);
	st_tmpdir(dir, sizeof(dir), "crash");
	snprintf(db, sizeof(db), "%s/crash.db", dir);
	model_init(&m);
	model_init(&cand);
	if (getenv("VFS_CRASH_SEED"))
		seed = strtoull(getenv("VFS_CRASH_SEED"), NULL, 0);
	m.rng ^= seed * 0x2545f4914f6cdd1dull;
	rs = seed | 1;
	print_message("seed %llu\n", (unsigned long long)seed);
	v = st_mount_ok(db, NULL);
	vfs_free(v);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (int k = 0; k < KILLS; k++) {
		int pfd[2], status;
		uint64_t last_s = UINT64_MAX, last_y = UINT64_MAX, start = m.n;
		char r[9];
		pid_t pid;
		struct timespec d;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child(db, &m, pfd[1]);
		}
		close(pfd[1]);
		d.tv_sec = 0;
		d.tv_nsec = (long)(2 + rnd(&rs) % 40) * 1000000L;
		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		/* Drain the pipe (the child may be blocked on it). */
		while (read(pfd[0], r, 9) == 9) {
			uint64_t j;
			memcpy(&j, r + 1, 8);
			if (r[0] == 'S')
				last_s = j;
			else
				last_y = j;
		}
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("kill %d: child exited with %d", k,
			         WEXITSTATUS(status));

		/* The state before the last started operation... */
		model_copy(&cand, &m);
		if (last_s != UINT64_MAX) {
			while (cand.n < last_s) {
				op o = gen(&cand);
				apply(&cand, &o);
			}
		}
		v = st_mount_ok(db, NULL);
		assert_int_equal(st_sql_int(db, "SELECT count(*) FROM inodes "
		                                "WHERE nlink = 0"),
		                 0);
		if (compare(v, &cand, buf, why, sizeof(why)) != 0) {
			/* ... or after it. */
			char why2[256];
			op o;
			if (last_s == UINT64_MAX)
				fail_msg("kill %d (no op started): %s", k, why);
			o = gen(&cand);
			apply(&cand, &o);
			if (compare(v, &cand, buf, why2, sizeof(why2)) != 0)
				fail_msg(
				        "kill %d after op %llu: before it: %s; "
				        "after it: %s",
				        k, (unsigned long long)last_s, why,
				        why2);
		}
		if (last_y != UINT64_MAX) {
			assert_true(cand.n > last_y);
			synced_kills++;
		}
		vfs_free(v);
		{
			int rc = vfs_sqlite_fsck(db, 0, rep, sizeof(rep));
			if (rc != 0)
				fail_msg("kill %d: fsck %d:\n%s", k, rc, rep);
		}
		if (cand.n > start)
			with_ops++;
		total_ops += (unsigned)(cand.n - start);
		model_copy(&m, &cand);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%d kills (%u during a workload, %u after an fsync), "
	              "%u operations kept, %.1f s\n",
	              KILLS, with_ops, synced_kills, total_ops,
	              (double)(t1.tv_sec - t0.tv_sec) +
	                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_true(with_ops > KILLS / 4);
	model_free(&m);
	model_free(&cand);
	free(buf);
	st_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sqlite_crash_kill_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
