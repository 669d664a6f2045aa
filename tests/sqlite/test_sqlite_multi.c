/*
 * Two processes on one SQLite store at once, 10,000 operations in all.
 *
 * Each child mounts the same database and runs a deterministic workload:
 * operations on files and directories in its own directory (/p0 or /p1)
 * and O_APPEND writes of numbered records to one shared file, and it lists
 * the other child's directory now and then. The only error allowed is the
 * store's documented busy errno (-EBUSY), after which the child repeats the
 * operation (a failed operation changed nothing). Afterwards the parent
 * checks each directory against the workload's model, that the shared
 * file holds every record of both children whole and in each child's
 * order, and that fsck is clean. The run is done with the default busy
 * timeout and again with a 1 ms one, which makes busy failures likely.
 */
#include "sqlite_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#define OPS    5000 /* per child */
#define NFILE  12
#define FMAX   9000
#define RECLEN 16

typedef struct wmodel {
	bool exists[NFILE];
	uint32_t size[NFILE];
	unsigned char data[NFILE][FMAX];
	bool subdir;
	uint64_t rng;
	unsigned appends;
} wmodel;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Busy failures seen by each child (shared memory). */
static unsigned *busy_counts;

/* Repeat op while the store reports busy; any other error ends the child. */
#define RETRY(call, ok_cond, code)                                             \
	do {                                                                   \
		int64_t r_;                                                    \
		int n_ = 0;                                                    \
		while ((r_ = (call)) == -EBUSY && n_++ < 1000)                 \
			busy_counts[who]++;                                    \
		if (!(ok_cond)) {                                              \
			fprintf(stderr, "child %d op %d: %s: %s\n", who, i,    \
			        #call, vfs_strerror((int)r_));                 \
			_exit(code);                                           \
		}                                                              \
	} while (0)

/*
 * The workload of child `who`: on v when v is not NULL, and always on the
 * model.
 */
static void workload(int who, vfs *v, wmodel *m)
{
	unsigned char buf[FMAX];
	char p[64], q[64];

	memset(m, 0, sizeof(*m));
	m->rng = 0x1234567ull + (uint64_t)who * 7919;
	if (v) {
		snprintf(p, sizeof(p), "/p%d", who);
		int i = -1;
		RETRY(vfs_mkdir(v, p, 0755), r_ == 0, 3);
	}
	for (int i = 0; i < OPS; i++) {
		unsigned r = (unsigned)(rnd(&m->rng) % 100);
		int f = (int)(rnd(&m->rng) % NFILE);
		uint64_t x = rnd(&m->rng);

		snprintf(p, sizeof(p), "/p%d/f%d", who, f);
		if (r < 30) {
			char rec[RECLEN + 1];
			/* Fixed width: one digit, eight digits. */
			snprintf(rec, sizeof(rec), "c%u:%08u....\n",
			         (unsigned)who % 10u,
			         (unsigned)m->appends % 100000000u);
			if (v) {
				int fd;
				RETRY(fd = vfs_open(v, "/shared",
				                    O_WRONLY | O_APPEND |
				                            O_CREAT,
				                    0644),
				      r_ >= 0, 4);
				RETRY(vfs_write(v, fd, rec, RECLEN),
				      r_ == RECLEN, 5);
				vfs_close(v, fd);
			}
			m->appends++;
		} else if (r < 35) {
			if (v) {
				int fd, rc;
				vfs_dirent de;
				snprintf(q, sizeof(q), "/p%d", 1 - who);
				fd = vfs_opendir(v, q);
				if (fd >= 0) {
					while ((rc = vfs_readdir(v, fd, &de)) ==
					       1)
						;
					if (rc < 0 && rc != -EBUSY)
						_exit(6);
					if (rc == -EBUSY)
						busy_counts[who]++;
					vfs_close(v, fd);
				} else if (fd != -ENOENT && fd != -EBUSY) {
					_exit(7);
				}
			}
		} else if (!m->exists[f] || r < 60) {
			uint32_t off = (uint32_t)(x % (FMAX / 2));
			uint32_t len = 1 + (uint32_t)((x >> 20) % (FMAX / 2));
			for (uint32_t k = 0; k < len; k++)
				buf[k] = (unsigned char)(x >> (k % 7 * 8)) +
				         (unsigned char)k;
			if (v) {
				int fd;
				RETRY(fd = vfs_open(v, p, O_WRONLY | O_CREAT,
				                    0644),
				      r_ >= 0, 8);
				RETRY(vfs_pwrite(v, fd, buf, len, off),
				      r_ == (int64_t)len, 9);
				vfs_close(v, fd);
			}
			m->exists[f] = true;
			memcpy(m->data[f] + off, buf, len);
			if (off + len > m->size[f])
				m->size[f] = off + len;
		} else if (r < 70) {
			uint32_t sz = (uint32_t)(x % FMAX);
			if (v)
				RETRY(vfs_truncate(v, p, sz), r_ == 0, 10);
			if (sz < m->size[f])
				memset(m->data[f] + sz, 0, m->size[f] - sz);
			m->size[f] = sz;
		} else if (r < 80) {
			if (v)
				RETRY(vfs_unlink(v, p), r_ == 0, 11);
			m->exists[f] = false;
			memset(m->data[f], 0, m->size[f]);
			m->size[f] = 0;
		} else if (r < 92) {
			int g = (f + 1 + (int)(x % (NFILE - 1))) % NFILE;
			snprintf(q, sizeof(q), "/p%d/f%d", who, g);
			if (v)
				RETRY(vfs_rename(v, p, q, 0), r_ == 0, 12);
			memcpy(m->data[g], m->data[f], FMAX);
			memset(m->data[f], 0, FMAX);
			m->size[g] = m->size[f];
			m->exists[g] = true;
			m->size[f] = 0;
			m->exists[f] = false;
		} else {
			snprintf(q, sizeof(q), "/p%d/sub", who);
			if (v && m->subdir)
				RETRY(vfs_rmdir(v, q), r_ == 0, 13);
			else if (v)
				RETRY(vfs_mkdir(v, q, 0700), r_ == 0, 14);
			m->subdir = !m->subdir;
		}
	}
}

static void run(const char *opts)
{
	char dir[512], db[600], rep[2048];
	static wmodel m[2];
	unsigned char *buf = malloc(FMAX);
	char *log;
	vfs *v;
	pid_t pid[2];
	int64_t n;

	assert_non_null(buf);
	st_tmpdir(dir, sizeof(dir), "multi");
	snprintf(db, sizeof(db), "%s/multi.db", dir);
	v = st_mount_ok(db, opts);
	vfs_free(v);
	busy_counts[0] = busy_counts[1] = 0;
	for (int who = 0; who < 2; who++) {
		pid[who] = fork();
		assert_true(pid[who] >= 0);
		if (pid[who] == 0) {
			wmodel *cm = malloc(sizeof(*cm));
			if (!cm)
				_exit(1);
			v = NULL;
			if (st_mount(&v, db, opts, rep, sizeof(rep)) < 0) {
				fprintf(stderr, "child %d: %s\n", who, rep);
				_exit(2);
			}
			workload(who, v, cm);
			vfs_free(v);
			_exit(0);
		}
	}
	for (int who = 0; who < 2; who++) {
		int status;
		assert_int_equal(waitpid(pid[who], &status, 0), pid[who]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d failed (status %#x)", who, status);
	}
	print_message("%s: busy failures retried: %u and %u\n",
	              opts ? opts : "defaults", busy_counts[0], busy_counts[1]);

	v = st_mount_ok(db, NULL);
	for (int who = 0; who < 2; who++) {
		workload(who, NULL, &m[who]);
		for (int f = 0; f < NFILE; f++) {
			char p[64];
			vfs_attr a;
			int rc;
			snprintf(p, sizeof(p), "/p%d/f%d", who, f);
			rc = vfs_lstat(v, p, &a);
			if (!m[who].exists[f]) {
				assert_int_equal(rc, -ENOENT);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(a.size, m[who].size[f]);
			assert_int_equal(st_get(v, p, buf, FMAX), a.size);
			assert_memory_equal(buf, m[who].data[f],
			                    m[who].size[f]);
		}
	}
	n = (int64_t)(m[0].appends + m[1].appends) * RECLEN;
	log = malloc((size_t)n + 1);
	assert_non_null(log);
	assert_int_equal(st_get(v, "/shared", log, (size_t)n + 1), n);
	{
		unsigned next[2] = {0, 0};
		for (int64_t off = 0; off < n; off += RECLEN) {
			unsigned who, seq;
			assert_int_equal(
			        sscanf(log + off, "c%u:%8u", &who, &seq), 2);
			assert_true(who < 2);
			assert_int_equal(seq, next[who]);
			next[who]++;
			assert_int_equal(log[off + RECLEN - 1], '\n');
		}
		assert_int_equal(next[0], m[0].appends);
		assert_int_equal(next[1], m[1].appends);
	}
	vfs_free(v);
	assert_int_equal(vfs_sqlite_fsck(db, 0, rep, sizeof(rep)), 0);
	free(log);
	free(buf);
	st_rm_rf(dir);
}

static void test_sqlite_two_processes(void **state)
{
	(void)state;
	run(NULL);
}

static void test_sqlite_two_processes_short_timeout(void **state)
{
	(void)state;
	run("busy_timeout=1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sqlite_two_processes),
	        cmocka_unit_test(test_sqlite_two_processes_short_timeout),
	};
	busy_counts = mmap(NULL, 2 * sizeof(unsigned), PROT_READ | PROT_WRITE,
	                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (busy_counts == MAP_FAILED)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
