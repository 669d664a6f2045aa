/*
 * The conformance suite: one set of tests, written only against vfs/vfs.h,
 * run against every store. conf_main.c holds the fixture (a fresh instance
 * with "/" mounted from the store named by argv[1]) and the runner; each
 * conf_<area>.c holds the tests of one area and a conf_run_<area>()
 * function that runs them. The expected values were taken from Linux
 * (tmpfs and ext4) wherever Linux defines them.
 */
#ifndef CONF_H
#define CONF_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <vfs/vfs.h>

/** Per-test state created by conf_setup(). */
typedef struct conf_state {
	vfs *v;
	char tmpdir[1024]; /* host directory holding disk/sqlite data */
	char spec[1200];   /* spec mounted at "/" */
	unsigned nextra;   /* extra stores made by conf_extra_spec() */
} conf_state;

/** The store kind under test: "memory", "disk" or "sqlite". */
extern const char *conf_kind;

bool conf_is(const char *kind);
int conf_setup(void **state);
int conf_teardown(void **state);

#define CONF_TEST(f)                                                           \
	cmocka_unit_test_setup_teardown(f, conf_setup, conf_teardown)

/** A test that applies only to the store kinds named in `kinds` (a
 *  space-separated list, such as "disk sqlite"); the others leave it out
 *  of the run rather than count it as skipped. */
#define CONF_TEST_ON(kinds, f)                                                 \
	{                                                                      \
#f, f, conf_setup, conf_teardown, (void *)(kinds)              \
	}

/** Run a group, leaving out the CONF_TEST_ON tests of other kinds. */
int conf_run_group(const char *name, struct CMUnitTest *tests, size_t n);
#define CONF_RUN_GROUP(name, tests)                                            \
	conf_run_group(name, tests, sizeof(tests) / sizeof((tests)[0]))

static inline vfs *conf_vfs(void **state)
{
	return ((conf_state *)*state)->v;
}

/** Replace the instance by a new one made with opts, mounting the same
 *  spec at "/" (a memory store starts empty again). */
vfs *conf_reopen(void **state, const vfs_options *opts);

/** The host path of the store under test (disk directory or sqlite
 *  database file). */
const char *conf_store_file(void **state);

/** A spec for a second, empty store of the kind under test, for tests
 *  that need to mount one store several times (disk and sqlite only). */
void conf_extra_spec(void **state, char *out, size_t size);

/* ---- helpers that assert success --------------------------------------- */

/** Create or truncate path and write len bytes of data. */
void conf_write_file(vfs *v, const char *path, const void *data, size_t len);
/** conf_write_file with a string. */
void conf_put(vfs *v, const char *path, const char *text);
/** Assert that path holds exactly len bytes equal to data. */
void conf_expect(vfs *v, const char *path, const void *data, size_t len);
/** conf_expect with a string. */
void conf_expect_str(vfs *v, const char *path, const char *text);
void conf_mkdir(vfs *v, const char *path);
void conf_symlink(vfs *v, const char *target, const char *path);
/** lstat that must succeed. */
vfs_attr conf_lstat(vfs *v, const char *path);
vfs_attr conf_stat(vfs *v, const char *path);
/** Assert that every field of two attribute sets is equal. */
void conf_assert_attr_equal(vfs_attr a, vfs_attr b);
/** Names in a directory (without "." and ".."), sorted, each followed by
 *  '\n'; asserts that "." and ".." come first and that no name repeats.
 *  The caller frees the result. */
char *conf_ls(vfs *v, const char *path);
/** Set atime and mtime of path (not following) to 1000 s. */
void conf_age(vfs *v, const char *path);
/** A time no later than any timestamp taken after this call. */
struct timespec conf_now(void);
/** a >= b */
bool conf_ts_ge(struct timespec a, struct timespec b);
void conf_sleep_ms(long ms);
/** A string of n copies of c (caller frees). */
char *conf_repeat(char c, size_t n);

#define CONF_OLD_SEC 1000

/** Timestamp was left at conf_age()'s value. */
#define assert_ts_old(ts)                                                      \
	do {                                                                   \
		assert_int_equal((ts).tv_sec, CONF_OLD_SEC);                   \
		assert_int_equal((ts).tv_nsec, 0);                             \
	} while (0)
/** Timestamp was set at or after `since`. */
#define assert_ts_new(ts, since) assert_true(conf_ts_ge((ts), (since)))

/* ---- area runners ------------------------------------------------------- */

int conf_run_api(void);
int conf_run_paths(void);
int conf_run_files(void);
int conf_run_dirs(void);
int conf_run_rename(void);
int conf_run_links(void);
int conf_run_attrs(void);
int conf_run_perms(void);
int conf_run_mounts(void);
int conf_run_nodes(void);
int conf_run_threads(void);
int conf_run_model(void);
int conf_run_watch(void);

#endif
