/*
 * Concurrency: several threads on one instance creating, writing,
 * renaming, unlinking, listing and reading distinct and shared names at
 * once. Each test ends by checking a state that every interleaving must
 * produce. Loop counts are modest so that the sqlite store, which syncs
 * every operation, stays within the suite's time limit.
 */
#include "conf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define CONF_THREADS 4

typedef struct conf_worker {
	vfs *v;
	int id;
	int iterations;
	int failures; /* unexpected return codes seen */
	char note[160];
	pthread_barrier_t *start;
} conf_worker;

static void conf_worker_fail(conf_worker *w, const char *what, int64_t rc)
{
	if (w->failures++ == 0) {
		snprintf(w->note, sizeof w->note, "thread %d: %s -> %lld",
		         w->id, what, (long long)rc);
	}
}

static void conf_run_workers(vfs *v, void *(*fn)(void *), int iterations)
{
	pthread_t t[CONF_THREADS];
	conf_worker w[CONF_THREADS];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, CONF_THREADS);
	for (int i = 0; i < CONF_THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].v = v;
		w[i].id = i;
		w[i].iterations = iterations;
		w[i].start = &start;
		assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < CONF_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	pthread_barrier_destroy(&start);
	for (int i = 0; i < CONF_THREADS; i++) {
		if (w[i].failures != 0) {
			fail_msg("%s (%d unexpected results)", w[i].note,
			         w[i].failures);
		}
	}
}

/* ---- distinct names ----------------------------------------------------- */

static void *conf_private_files(void *arg)
{
	conf_worker *w = arg;
	char p[64], q[64], data[64], buf[64];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		snprintf(p, sizeof p, "/t%d/f%d", w->id, i);
		snprintf(q, sizeof q, "/t%d/g%d", w->id, i);
		int len = snprintf(data, sizeof data, "thread %d item %d",
		                   w->id, i);
		int fd = vfs_open(w->v, p, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			conf_worker_fail(w, "create", fd);
			continue;
		}
		int64_t rc = vfs_write(w->v, fd, data, (size_t)len);
		if (rc != len) {
			conf_worker_fail(w, "write", rc);
		}
		rc = vfs_pread(w->v, fd, buf, sizeof buf, 0);
		if (rc != len || memcmp(buf, data, (size_t)len) != 0) {
			conf_worker_fail(w, "pread", rc);
		}
		vfs_close(w->v, fd);
		rc = vfs_rename(w->v, p, q, 0);
		if (rc != 0) {
			conf_worker_fail(w, "rename", rc);
		}
		/* Every third file is removed again. */
		if (i % 3 == 0 && (rc = vfs_unlink(w->v, q)) != 0) {
			conf_worker_fail(w, "unlink", rc);
		}
	}
	return NULL;
}

static void test_threads_private_names(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 60;
	char p[64], data[64];

	for (int t = 0; t < CONF_THREADS; t++) {
		snprintf(p, sizeof p, "/t%d", t);
		conf_mkdir(v, p);
	}
	conf_run_workers(v, conf_private_files, n);
	for (int t = 0; t < CONF_THREADS; t++) {
		int count = 0;
		snprintf(p, sizeof p, "/t%d", t);
		char *ls = conf_ls(v, p);
		for (char *c = ls; *c != '\0'; c++) {
			count += *c == '\n';
		}
		free(ls);
		assert_int_equal(count, n - (n + 2) / 3);
		for (int i = 0; i < n; i++) {
			snprintf(p, sizeof p, "/t%d/g%d", t, i);
			if (i % 3 == 0) {
				assert_int_equal(
				        vfs_lstat(v, p, &(vfs_attr){0}),
				        -ENOENT);
				continue;
			}
			snprintf(data, sizeof data, "thread %d item %d", t, i);
			conf_expect_str(v, p, data);
		}
	}
}

/* ---- one shared file ---------------------------------------------------- */

static int conf_shared_fd;

static void *conf_appender(void *arg)
{
	conf_worker *w = arg;
	char rec[40];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		/* 16-byte records: "T<id> R<0000>....\n" */
		snprintf(rec, sizeof rec, "T%d R%04d ......\n", w->id, i);
		int64_t rc = vfs_write(w->v, conf_shared_fd, rec, 16);
		if (rc != 16) {
			conf_worker_fail(w, "append", rc);
		}
	}
	return NULL;
}

static void test_threads_append_records_intact(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 200;
	int next[CONF_THREADS] = {0};
	char *buf;
	vfs_attr a;

	conf_shared_fd =
	        vfs_open(v, "/log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_true(conf_shared_fd >= 0);
	conf_run_workers(v, conf_appender, n);
	assert_int_equal(vfs_close(v, conf_shared_fd), 0);
	a = conf_lstat(v, "/log");
	assert_int_equal(a.size, CONF_THREADS * n * 16);
	buf = malloc((size_t)a.size);
	assert_non_null(buf);
	int fd = vfs_open(v, "/log", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_read(v, fd, buf, (size_t)a.size), a.size);
	assert_int_equal(vfs_close(v, fd), 0);
	/* Records never interleave and each thread's are in order. */
	for (int r = 0; r < CONF_THREADS * n; r++) {
		const char *rec = buf + r * 16;
		int t = rec[1] - '0';
		assert_true(t >= 0 && t < CONF_THREADS);
		char want[40];
		snprintf(want, sizeof want, "T%d R%04d ......\n", t, next[t]);
		assert_memory_equal(rec, want, 16);
		next[t]++;
	}
	free(buf);
}

static void *conf_region_writer(void *arg)
{
	conf_worker *w = arg;
	char block[512];

	memset(block, 'a' + w->id, sizeof block);
	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		int64_t off = ((int64_t)i * CONF_THREADS + w->id) * 512;
		int64_t rc = vfs_pwrite(w->v, conf_shared_fd, block, 512, off);
		if (rc != 512) {
			conf_worker_fail(w, "pwrite", rc);
		}
	}
	return NULL;
}

static void test_threads_pwrite_disjoint_regions(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 64;
	char *buf = malloc((size_t)CONF_THREADS * n * 512);

	assert_non_null(buf);
	conf_shared_fd = vfs_open(v, "/blocks", O_RDWR | O_CREAT, 0644);
	assert_true(conf_shared_fd >= 0);
	conf_run_workers(v, conf_region_writer, n);
	assert_int_equal(vfs_pread(v, conf_shared_fd, buf,
	                           (size_t)CONF_THREADS * n * 512, 0),
	                 CONF_THREADS * n * 512);
	assert_int_equal(vfs_close(v, conf_shared_fd), 0);
	for (int b = 0; b < CONF_THREADS * n; b++) {
		for (int k = 0; k < 512; k++) {
			if (buf[b * 512 + k] != 'a' + b % CONF_THREADS) {
				fail_msg("block %d byte %d is %c", b, k,
				         buf[b * 512 + k]);
			}
		}
	}
	free(buf);
}

/* ---- shared names ------------------------------------------------------- */

static void *conf_renamer(void *arg)
{
	conf_worker *w = arg;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		const char *from = (i + w->id) % 2 ? "/s/a" : "/s/b";
		const char *to = (i + w->id) % 2 ? "/s/b" : "/s/a";
		int rc = vfs_rename(w->v, from, to, 0);
		if (rc != 0 && rc != -ENOENT) {
			conf_worker_fail(w, "rename", rc);
		}
		char buf[16];
		int fd = vfs_open(w->v, to, O_RDONLY, 0);
		if (fd >= 0) {
			int64_t n = vfs_read(w->v, fd, buf, sizeof buf);
			if (n != 7 || memcmp(buf, "the one", 7) != 0) {
				conf_worker_fail(w, "read", n);
			}
			vfs_close(w->v, fd);
		} else if (fd != -ENOENT) {
			conf_worker_fail(w, "open", fd);
		}
	}
	return NULL;
}

static void test_threads_rename_shared_name_never_lost(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_attr a;
	uint64_t ino;

	conf_mkdir(v, "/s");
	conf_put(v, "/s/a", "the one");
	ino = conf_lstat(v, "/s/a").ino;
	conf_run_workers(v, conf_renamer, 150);
	char *ls = conf_ls(v, "/s");
	/* Exactly one of the two names remains, holding the same file. */
	assert_true(strcmp(ls, "a\n") == 0 || strcmp(ls, "b\n") == 0);
	char p[8];
	snprintf(p, sizeof p, "/s/%c", ls[0]);
	free(ls);
	a = conf_lstat(v, p);
	assert_int_equal(a.ino, ino);
	assert_int_equal(a.nlink, 1);
	conf_expect_str(v, p, "the one");
}

static void *conf_creator(void *arg)
{
	conf_worker *w = arg;
	char p[32];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		snprintf(p, sizeof p, "/c/n%d", i);
		int fd = vfs_open(w->v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0) {
			char c = (char)('0' + w->id);
			if (vfs_write(w->v, fd, &c, 1) != 1) {
				conf_worker_fail(w, "write", 0);
			}
			vfs_close(w->v, fd);
		} else if (fd != -EEXIST) {
			conf_worker_fail(w, "create", fd);
		}
		int rc = vfs_mkdir(w->v, "/c/dir", 0755);
		if (rc != 0 && rc != -EEXIST) {
			conf_worker_fail(w, "mkdir", rc);
		}
		rc = vfs_rmdir(w->v, "/c/dir");
		if (rc != 0 && rc != -ENOENT) {
			conf_worker_fail(w, "rmdir", rc);
		}
	}
	return NULL;
}

static void test_threads_exclusive_create_one_winner(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 80;
	char p[32], buf[4];

	conf_mkdir(v, "/c");
	conf_run_workers(v, conf_creator, n);
	assert_int_equal(vfs_lstat(v, "/c/dir", &(vfs_attr){0}), -ENOENT);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "/c/n%d", i);
		int fd = vfs_open(v, p, O_RDONLY, 0);
		assert_true(fd >= 0);
		/* Exactly one writer: one byte. */
		assert_int_equal(vfs_read(v, fd, buf, sizeof buf), 1);
		assert_true(buf[0] >= '0' && buf[0] < '0' + CONF_THREADS);
		assert_int_equal(vfs_close(v, fd), 0);
	}
	assert_int_equal(conf_lstat(v, "/c").nlink, 2);
}

static void *conf_linker(void *arg)
{
	conf_worker *w = arg;
	char p[32];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		snprintf(p, sizeof p, "/h/l%d_%d", w->id, i);
		int rc = vfs_link(w->v, "/h/f", p);
		if (rc != 0) {
			conf_worker_fail(w, "link", rc);
			continue;
		}
		if (i % 2 == 0 && (rc = vfs_unlink(w->v, p)) != 0) {
			conf_worker_fail(w, "unlink", rc);
		}
	}
	return NULL;
}

static void test_threads_link_counts(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 50;

	conf_mkdir(v, "/h");
	conf_put(v, "/h/f", "linked");
	conf_run_workers(v, conf_linker, n);
	assert_int_equal(conf_lstat(v, "/h/f").nlink,
	                 1 + CONF_THREADS * (n / 2));
}

/* ---- readers during mutation ------------------------------------------- */

static void *conf_lister_or_mutator(void *arg)
{
	conf_worker *w = arg;
	char p[32];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		if (w->id == 0) {
			/* Exchange two directories under the readers' feet. */
			int rc = vfs_rename(w->v, "/x/d1", "/x/d2",
			                    VFS_RENAME_EXCHANGE);
			if (rc != 0) {
				conf_worker_fail(w, "exchange", rc);
			}
		} else if (w->id == 1) {
			snprintf(p, sizeof p, "/x/tmp%d", i % 7);
			int fd = vfs_open(w->v, p, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0) {
				vfs_close(w->v, fd);
			}
			snprintf(p, sizeof p, "/x/tmp%d", (i + 3) % 7);
			vfs_unlink(w->v, p);
		} else {
			/* Readers: a path through a moving directory reads
			 * either file or nothing, never garbage. */
			char buf[8];
			int fd = vfs_open(w->v, "/x/d1/f", O_RDONLY, 0);
			if (fd >= 0) {
				int64_t n = vfs_read(w->v, fd, buf, sizeof buf);
				if (n != 2 || (memcmp(buf, "d1", 2) != 0 &&
				               memcmp(buf, "d2", 2) != 0)) {
					conf_worker_fail(w, "read", n);
				}
				vfs_close(w->v, fd);
			} else if (fd != -ENOENT) {
				conf_worker_fail(w, "open", fd);
			}
			int dfd = vfs_opendir(w->v, "/x");
			if (dfd < 0) {
				conf_worker_fail(w, "opendir", dfd);
				continue;
			}
			vfs_dirent de;
			int seen_d1 = 0, seen_d2 = 0, rc;
			while ((rc = vfs_readdir(w->v, dfd, &de)) == 1) {
				seen_d1 += strcmp(de.name, "d1") == 0;
				seen_d2 += strcmp(de.name, "d2") == 0;
			}
			if (rc != 0 || seen_d1 != 1 || seen_d2 != 1) {
				conf_worker_fail(w, "readdir", rc);
			}
			vfs_close(w->v, dfd);
		}
	}
	return NULL;
}

static void test_threads_readers_during_renames(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/x");
	conf_mkdir(v, "/x/d1");
	conf_mkdir(v, "/x/d2");
	conf_put(v, "/x/d1/f", "d1");
	conf_put(v, "/x/d2/f", "d2");
	conf_run_workers(v, conf_lister_or_mutator, 100);
	/* 100 exchanges: back where we started. */
	conf_expect_str(v, "/x/d1/f", "d1");
	conf_expect_str(v, "/x/d2/f", "d2");
	assert_int_equal(conf_lstat(v, "/x").nlink, 4);
}

static void *conf_unlinked_reader(void *arg)
{
	conf_worker *w = arg;
	char buf[4096];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		int64_t rc = vfs_pread(w->v, conf_shared_fd, buf, sizeof buf,
		                       (int64_t)(i % 16) * 4096);
		if (rc != 4096) {
			conf_worker_fail(w, "pread", rc);
			continue;
		}
		for (int k = 0; k < 4096; k++) {
			if (buf[k] != (char)('A' + i % 16)) {
				conf_worker_fail(w, "content", k);
				break;
			}
		}
		if (w->id == 0 && i == w->iterations / 2) {
			int r = vfs_unlink(w->v, "/u");
			if (r != 0) {
				conf_worker_fail(w, "unlink", r);
			}
		}
	}
	return NULL;
}

static void test_threads_read_while_unlinked(void **state)
{
	vfs *v = conf_vfs(state);
	char block[4096];
	int fd;

	fd = vfs_open(v, "/u", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 16; i++) {
		memset(block, 'A' + i, sizeof block);
		assert_int_equal(vfs_write(v, fd, block, sizeof block), 4096);
	}
	conf_shared_fd = fd;
	conf_run_workers(v, conf_unlinked_reader, 200);
	assert_int_equal(vfs_lstat(v, "/u", &(vfs_attr){0}), -ENOENT);
	vfs_attr a;
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(a.size, 16 * 4096);
	assert_int_equal(vfs_close(v, fd), 0);
}

static atomic_int conf_stop_flag;

static void *conf_fd_churner(void *arg)
{
	conf_worker *w = arg;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		int fd = (i % 3 == 0) ? vfs_opendir(w->v, "/dd")
		                      : vfs_open(w->v, "/dd/f", O_RDONLY, 0);
		if (fd < 0) {
			conf_worker_fail(w, "open", fd);
			continue;
		}
		int rc = vfs_close(w->v, fd);
		if (rc != 0) {
			conf_worker_fail(w, "close", rc);
		}
	}
	atomic_store(&conf_stop_flag, 1);
	return NULL;
}

static void *conf_fd_prober(void *arg)
{
	conf_worker *w = arg;
	vfs_dirent de;
	vfs_attr a;
	char buf[8];

	pthread_barrier_wait(w->start);
	while (!atomic_load(&conf_stop_flag)) {
		for (int fd = 0; fd < 16; fd++) {
			/* Descriptors come and go under us: any of these
			 * answers is fine, a crash or a wrong type is not. */
			int rc = vfs_readdir(w->v, fd, &de);
			if (rc != 1 && rc != 0 && rc != -EBADF &&
			    rc != -ENOTDIR) {
				conf_worker_fail(w, "readdir", rc);
			}
			int64_t n = vfs_pread(w->v, fd, buf, sizeof buf, 0);
			if (n != 4 && n != -EBADF && n != -EISDIR) {
				conf_worker_fail(w, "pread", n);
			}
			rc = vfs_fstat(w->v, fd, &a);
			if (rc != 0 && rc != -EBADF) {
				conf_worker_fail(w, "fstat", rc);
			}
		}
	}
	return NULL;
}

static void *conf_fd_mixed(void *arg)
{
	conf_worker *w = arg;

	return w->id < 2 ? conf_fd_churner(arg) : conf_fd_prober(arg);
}

/* Descriptor calls racing with opens and closes of other descriptors. */
static void test_threads_descriptor_table_races(void **state)
{
	vfs *v = conf_vfs(state);

	conf_mkdir(v, "/dd");
	conf_put(v, "/dd/f", "four");
	atomic_store(&conf_stop_flag, 0);
	conf_run_workers(v, conf_fd_mixed, 2000);
	conf_expect_str(v, "/dd/f", "four");
}

static void *conf_same_name_opener(void *arg)
{
	conf_worker *w = arg;
	char p[32];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iterations; i++) {
		snprintf(p, sizeof p, "/cc/n%d", i);
		/* Without O_EXCL, O_CREAT opens what another thread made. */
		int fd = vfs_open(w->v, p, O_RDWR | O_CREAT, 0644);
		if (fd < 0) {
			conf_worker_fail(w, "open O_CREAT", fd);
			continue;
		}
		vfs_close(w->v, fd);
		snprintf(p, sizeof p, "/cc/d%d", i);
		int rc = vfs_mkdir(w->v, p, 0755);
		if (rc != 0 && rc != -EEXIST) {
			conf_worker_fail(w, "mkdir", rc);
		}
	}
	return NULL;
}

static void test_threads_creat_same_name_never_eexist(void **state)
{
	vfs *v = conf_vfs(state);
	const int n = 150;
	char p[32];

	conf_mkdir(v, "/cc");
	conf_run_workers(v, conf_same_name_opener, n);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "/cc/n%d", i);
		assert_int_equal(conf_lstat(v, p).mode, S_IFREG | 0644);
		snprintf(p, sizeof p, "/cc/d%d", i);
		assert_int_equal(conf_lstat(v, p).mode, S_IFDIR | 0755);
	}
	assert_int_equal(conf_lstat(v, "/cc").nlink, 2 + n);
}

int conf_run_threads(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_threads_private_names),
	        CONF_TEST(test_threads_append_records_intact),
	        CONF_TEST(test_threads_pwrite_disjoint_regions),
	        CONF_TEST(test_threads_rename_shared_name_never_lost),
	        CONF_TEST(test_threads_exclusive_create_one_winner),
	        CONF_TEST(test_threads_creat_same_name_never_eexist),
	        CONF_TEST(test_threads_link_counts),
	        CONF_TEST(test_threads_readers_during_renames),
	        CONF_TEST(test_threads_read_while_unlinked),
	        CONF_TEST(test_threads_descriptor_table_races),
	};
	return CONF_RUN_GROUP("threads", tests);
}
