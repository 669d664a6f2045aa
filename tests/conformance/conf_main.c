/*
 * Fixture, shared helpers and the runner of the conformance suite.
 *
 * Usage: conformance KIND [FILTER]. KIND is "memory", "disk" or "sqlite";
 * every test gets a fresh instance with "/" mounted from a fresh store of
 * that kind. The exit status is 77 (skipped) when the library was built
 * without KIND. FILTER is a cmocka test-name pattern.
 */
#include "conf.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *conf_kind = "memory";

bool conf_is(const char *kind)
{
	return strcmp(conf_kind, kind) == 0;
}

static bool conf_kind_listed(const char *kinds)
{
	size_t n = strlen(conf_kind);

	for (const char *k = kinds; *k != '\0'; k += strcspn(k, " ")) {
		k += strspn(k, " ");
		if (strncmp(k, conf_kind, n) == 0 &&
		    (k[n] == ' ' || k[n] == '\0')) {
			return true;
		}
	}
	return false;
}

int conf_run_group(const char *name, struct CMUnitTest *tests, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const char *kinds = tests[i].initial_state;

		if (kinds != NULL && !conf_kind_listed(kinds)) {
			continue;
		}
		tests[kept] = tests[i];
		tests[kept].initial_state = NULL;
		kept++;
	}
	return _cmocka_run_group_tests(name, tests, kept, NULL, NULL);
}

/*
 * Disk and sqlite data go to a fresh host directory. tmpfs is preferred
 * because the suite's expectations (sparse files up to VFS_FILE_SIZE_MAX)
 * are those of tmpfs; ext4 would cap file sizes below them.
 */
static const char *conf_tmp_base(void)
{
	const char *t = getenv("VFS_CONF_TMPDIR");
	struct stat st;

	if (t != NULL && *t != '\0') {
		return t;
	}
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0) {
		return "/dev/shm";
	}
	t = getenv("TMPDIR");
	return t != NULL && *t != '\0' ? t : "/tmp";
}

static int conf_rm_one(const char *path, const struct stat *st, int flag,
                       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP) {
		return rmdir(path);
	}
	return unlink(path);
}

static void conf_rm_rf(const char *dir)
{
	if (dir[0] != '\0') {
		nftw(dir, conf_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
}

/* Make the spec for one store of the kind under test in st->tmpdir. */
static void conf_make_spec(conf_state *st, unsigned n, char *out, size_t size)
{
	int len = 0;

	if (conf_is("memory")) {
		len = snprintf(out, size, "memory");
	} else if (conf_is("disk")) {
		char dir[1100];
		snprintf(dir, sizeof dir, "%s/store%u", st->tmpdir, n);
		assert_int_equal(mkdir(dir, 0755), 0);
		len = snprintf(out, size, "disk:%s,suid", dir);
	} else if (conf_is("sqlite")) {
		len = snprintf(out, size, "sqlite:%s/store%u.db", st->tmpdir,
		               n);
	} else {
		fail_msg("unknown store kind %s", conf_kind);
	}
	assert_true(len > 0 && (size_t)len < size);
}

static int conf_mount_root(conf_state *st, const vfs_options *opts)
{
	char err[256] = "";
	int rc = vfs_new(&st->v, opts);

	if (rc != 0) {
		return rc;
	}
	rc = vfs_mount_spec(st->v, "/", st->spec, err, sizeof err);
	if (rc != 0) {
		print_error("mount %s: %s (%s)\n", st->spec, vfs_strerror(rc),
		            err);
		vfs_free(st->v);
		st->v = NULL;
	}
	return rc;
}

int conf_setup(void **state)
{
	conf_state *st = calloc(1, sizeof *st);

	assert_non_null(st);
	if (!conf_is("memory")) {
		int n = snprintf(st->tmpdir, sizeof st->tmpdir,
		                 "%s/vfs-conf-XXXXXX", conf_tmp_base());
		assert_true(n > 0 && (size_t)n < sizeof st->tmpdir);
		assert_non_null(mkdtemp(st->tmpdir));
	}
	conf_make_spec(st, 0, st->spec, sizeof st->spec);
	*state = st;
	assert_int_equal(conf_mount_root(st, NULL), 0);
	return 0;
}

int conf_teardown(void **state)
{
	conf_state *st = *state;

	if (st == NULL) {
		return 0;
	}
	vfs_free(st->v);
	conf_rm_rf(st->tmpdir);
	free(st);
	*state = NULL;
	return 0;
}

vfs *conf_reopen(void **state, const vfs_options *opts)
{
	conf_state *st = *state;

	vfs_free(st->v);
	st->v = NULL;
	assert_int_equal(conf_mount_root(st, opts), 0);
	return st->v;
}

const char *conf_store_file(void **state)
{
	conf_state *st = *state;
	const char *p = strchr(st->spec, ':');

	assert_non_null(p);
	return p + 1;
}

void conf_extra_spec(void **state, char *out, size_t size)
{
	conf_state *st = *state;

	assert_false(conf_is("memory"));
	conf_make_spec(st, ++st->nextra, out, size);
}

/* ---- helpers ------------------------------------------------------------ */

void conf_write_file(vfs *v, const char *path, const void *data, size_t len)
{
	int fd = vfs_open(v, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		fail_msg("create %s: %s", path, vfs_strerror(fd));
	}
	if (len > 0) {
		assert_int_equal(vfs_write(v, fd, data, len), (int64_t)len);
	}
	assert_int_equal(vfs_close(v, fd), 0);
}

void conf_put(vfs *v, const char *path, const char *text)
{
	conf_write_file(v, path, text, strlen(text));
}

void conf_expect(vfs *v, const char *path, const void *data, size_t len)
{
	vfs_attr a;
	char *buf = malloc(len + 16);
	int fd = vfs_open(v, path, O_RDONLY, 0);

	assert_non_null(buf);
	if (fd < 0) {
		fail_msg("open %s: %s", path, vfs_strerror(fd));
	}
	assert_int_equal(vfs_fstat(v, fd, &a), 0);
	assert_int_equal(a.size, (int64_t)len);
	assert_int_equal(vfs_pread(v, fd, buf, len + 16, 0), (int64_t)len);
	if (len > 0) {
		assert_memory_equal(buf, data, len);
	}
	assert_int_equal(vfs_close(v, fd), 0);
	free(buf);
}

void conf_expect_str(vfs *v, const char *path, const char *text)
{
	conf_expect(v, path, text, strlen(text));
}

void conf_mkdir(vfs *v, const char *path)
{
	int rc = vfs_mkdir(v, path, 0755);

	if (rc != 0) {
		fail_msg("mkdir %s: %s", path, vfs_strerror(rc));
	}
}

void conf_symlink(vfs *v, const char *target, const char *path)
{
	int rc = vfs_symlink(v, target, path);

	if (rc != 0) {
		fail_msg("symlink %s: %s", path, vfs_strerror(rc));
	}
}

vfs_attr conf_lstat(vfs *v, const char *path)
{
	vfs_attr a;

	int rc;

	memset(&a, 0, sizeof a);
	rc = vfs_lstat(v, path, &a);
	if (rc != 0) {
		fail_msg("lstat %s: %s", path, vfs_strerror(rc));
	}
	return a;
}

vfs_attr conf_stat(vfs *v, const char *path)
{
	vfs_attr a;

	int rc;

	memset(&a, 0, sizeof a);
	rc = vfs_stat(v, path, &a);
	if (rc != 0) {
		fail_msg("stat %s: %s", path, vfs_strerror(rc));
	}
	return a;
}

void conf_assert_attr_equal(vfs_attr a, vfs_attr b)
{
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(a.dev, b.dev);
	assert_int_equal(a.mode, b.mode);
	assert_int_equal(a.nlink, b.nlink);
	assert_int_equal(a.uid, b.uid);
	assert_int_equal(a.gid, b.gid);
	assert_int_equal(a.rdev, b.rdev);
	assert_int_equal(a.size, b.size);
	assert_int_equal(a.blocks, b.blocks);
	assert_int_equal(a.blksize, b.blksize);
	assert_int_equal(a.atime.tv_sec, b.atime.tv_sec);
	assert_int_equal(a.atime.tv_nsec, b.atime.tv_nsec);
	assert_int_equal(a.mtime.tv_sec, b.mtime.tv_sec);
	assert_int_equal(a.mtime.tv_nsec, b.mtime.tv_nsec);
	assert_int_equal(a.ctime.tv_sec, b.ctime.tv_sec);
	assert_int_equal(a.ctime.tv_nsec, b.ctime.tv_nsec);
}

static int conf_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *conf_ls(vfs *v, const char *path)
{
	size_t n = 0, cap = 64, total = 1;
	char **names = malloc(cap * sizeof *names);
	char *out, *p;
	vfs_dirent de;
	int fd = vfs_opendir(v, path), rc;

	assert_non_null(names);
	assert_true(fd >= 0);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, ".");
	assert_int_equal(de.type, S_IFDIR);
	assert_int_equal(vfs_readdir(v, fd, &de), 1);
	assert_string_equal(de.name, "..");
	assert_int_equal(de.type, S_IFDIR);
	while ((rc = vfs_readdir(v, fd, &de)) == 1) {
		assert_int_equal(de.namelen, strlen(de.name));
		if (n == cap) {
			cap *= 2;
			names = realloc(names, cap * sizeof *names);
			assert_non_null(names);
		}
		names[n] = strdup(de.name);
		assert_non_null(names[n]);
		total += de.namelen + 1;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(vfs_close(v, fd), 0);
	qsort(names, n, sizeof *names, conf_cmp_str);
	out = p = malloc(total);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i - 1], names[i]) == 0) {
			fail_msg("%s listed twice in %s", names[i], path);
		}
		size_t l = strlen(names[i]);
		memcpy(p, names[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	return out;
}

void conf_age(vfs *v, const char *path)
{
	struct timespec ts[2] = {{CONF_OLD_SEC, 0}, {CONF_OLD_SEC, 0}};

	assert_int_equal(vfs_utimens(v, path, ts, VFS_NOFOLLOW), 0);
}

struct timespec conf_now(void)
{
	struct timespec ts;

	/* The coarse clock never runs ahead of the clocks stores use. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts;
}

bool conf_ts_ge(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

void conf_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

char *conf_repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- runner ------------------------------------------------------------- */

/* Whether the library has the store kind at all (77 tells meson to skip). */
static int conf_probe(void)
{
	conf_state st;
	int rc;

	memset(&st, 0, sizeof st);
	if (!conf_is("memory")) {
		snprintf(st.tmpdir, sizeof st.tmpdir, "%s/vfs-conf-XXXXXX",
		         conf_tmp_base());
		if (mkdtemp(st.tmpdir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
	}
	conf_make_spec(&st, 0, st.spec, sizeof st.spec);
	rc = conf_mount_root(&st, NULL);
	vfs_free(st.v);
	conf_rm_rf(st.tmpdir);
	if (rc == -EPROTONOSUPPORT) {
		printf("store kind %s is not built in: skipped\n", conf_kind);
		return 77;
	}
	if (rc != 0) {
		fprintf(stderr, "cannot mount a %s store at /: %s\n", conf_kind,
		        vfs_strerror(rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0, rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s memory|disk|sqlite [FILTER]\n",
		        argv[0]);
		return 2;
	}
	conf_kind = argv[1];
	if (!conf_is("memory") && !conf_is("disk") && !conf_is("sqlite")) {
		fprintf(stderr, "unknown store kind %s\n", conf_kind);
		return 2;
	}
	rc = conf_probe();
	if (rc != 0) {
		return rc;
	}
	if (argc == 3) {
		cmocka_set_test_filter(argv[2]);
	}
	failed += conf_run_api();
	failed += conf_run_paths();
	failed += conf_run_files();
	failed += conf_run_dirs();
	failed += conf_run_rename();
	failed += conf_run_links();
	failed += conf_run_attrs();
	failed += conf_run_perms();
	failed += conf_run_mounts();
	failed += conf_run_nodes();
	failed += conf_run_model();
	failed += conf_run_threads();
#ifdef CONF_HAVE_WATCH
	failed += conf_run_watch();
#endif
	return failed == 0 ? 0 : 1;
}
