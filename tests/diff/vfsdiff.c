/*
 * tests/diff/vfsdiff.c: differential testing of libvfs against the kernel.
 *
 *   vfsdiff [--store KIND] [--mode lib|mount|plain] [--seeds A-B]
 *           [--ops N] [--tree-every N] [--fsx-ops N] [--no-diff]
 *           [--no-fsx] [--time-limit SECONDS] [--vfsmount PATH]
 *           [--stop-first] [--trace] [--avoid NAME,...]
 *
 * For each seed it generates a random operation sequence (gen.c) and runs
 * it on the kernel's tmpfs (the oracle: a directory under /dev/shm) and on
 * a store of KIND (memory, disk, sqlite), either through the library
 * (--mode lib) or through a vfsmount mount of it (--mode mount), comparing
 * every result and the whole tree (run.c). A diverging sequence is shrunk
 * and printed twice: as a readable list of operations and as a C test case
 * for tests/conformance whose assertions hold the kernel's results. Then
 * the fsx exerciser (fsx.c) runs with the same seed on the same target.
 * The exit status is 0 when nothing diverged, 1 otherwise, 2 for bad
 * arguments, and 77 (skip) in mount mode without /dev/fuse or fusermount3.
 *
 * meson runs a fixed set of seeds per store and mode (tests/diff/
 * meson.build). To run for hours, for instance:
 *
 *   build/tests/diff/vfsdiff --seeds 1-1000000 --store memory --mode lib
 *   build/tests/diff/vfsdiff --seeds 1-1000000 --store sqlite --mode mount \
 *       --vfsmount build/fusefs/vfsmount
 *
 * (add --stop-first to stop at the first divergence; a single seed
 * reproduces with --seeds N, and --trace prints every operation with both
 * results on stderr). With -Dfuzz=true and clang, fuzz_diff is the
 * same generator as a libFuzzer target over the library's memory store.
 *
 * --mode plain checks the oracle itself: the same sequences (without
 * leading "/", ".." or absolute symlink targets, so they cannot leave the
 * root) as plain *at() system calls on tmpfs. --avoid steers the
 * generator clear of known divergences (--avoid help lists them), so a
 * long run finds new ones.
 *
 * Absolute symlink targets and ".." are kept inside the oracle's directory
 * by resolving every path with openat2(RESOLVE_IN_ROOT) (target_sys.c), so
 * the generator uses them freely.
 */
#include "diff.h"

#include "../fuse/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct vfsdiff_opts {
	const char *store;
	const char *mode;
	const char *vfsmount;
	uint64_t first, last;
	size_t ops;
	size_t tree_every;
	size_t fsx_ops;
	bool diff, fsx, stop_first;
	double time_limit;
} vfsdiff_opts;

static harness_daemon daemon_ = {.pid = -1};
static char scratch[200];

static int vfsdiff_rm_one(const char *path, const struct stat *st, int flag,
                          struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* A killed test must not leave a mount behind. */
static void vfsdiff_on_signal(int sig)
{
	if (daemon_.pid > 0)
		kill(daemon_.pid, SIGKILL);
	_exit(128 + sig);
}

static void vfsdiff_usage(void)
{
	fprintf(stderr,
	        "usage: vfsdiff [--store memory|disk|sqlite] [--mode "
	        "lib|mount|plain]\n"
	        "               [--seeds A-B] [--ops N] [--tree-every N] "
	        "[--fsx-ops N]\n"
	        "               [--no-diff] [--no-fsx] [--time-limit S] "
	        "[--stop-first]\n"
	        "               [--trace] [--avoid NAME,...]\n"
	        "               [--vfsmount PATH]\n");
	exit(2);
}

static uint64_t vfsdiff_num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "vfsdiff: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void vfsdiff_parse(int argc, char **argv, vfsdiff_opts *o)
{
	o->store = "memory";
	o->mode = "lib";
	o->vfsmount = "fusefs/vfsmount";
	o->first = 1;
	o->last = 20;
	o->ops = 300;
	o->tree_every = 100;
	o->fsx_ops = 1000;
	o->diff = true;
	o->fsx = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--no-diff") == 0) {
			o->diff = false;
			continue;
		}
		if (strcmp(a, "--no-fsx") == 0) {
			o->fsx = false;
			continue;
		}
		if (strcmp(a, "--trace") == 0) {
			diff_trace = stderr;
			continue;
		}
		if (strcmp(a, "--stop-first") == 0) {
			o->stop_first = true;
			continue;
		}
		if (val == NULL)
			vfsdiff_usage();
		i++;
		if (strcmp(a, "--store") == 0) {
			o->store = val;
		} else if (strcmp(a, "--mode") == 0) {
			o->mode = val;
			if (strcmp(val, "lib") != 0 &&
			    strcmp(val, "mount") != 0 &&
			    strcmp(val, "plain") != 0)
				vfsdiff_usage();
		} else if (strcmp(a, "--avoid") == 0) {
			char buf[512];

			snprintf(buf, sizeof buf, "%s", val);
			for (char *tok = strtok(buf, ","); tok != NULL;
			     tok = strtok(NULL, ",")) {
				if (diff_avoid(tok) < 0) {
					fprintf(stderr,
					        "vfsdiff: unknown divergence "
					        "'%s'; known ones:\n",
					        tok);
					diff_avoid_list(stderr);
					exit(2);
				}
			}
		} else if (strcmp(a, "--vfsmount") == 0) {
			o->vfsmount = val;
		} else if (strcmp(a, "--seeds") == 0) {
			char buf[64];
			char *dash;

			snprintf(buf, sizeof buf, "%s", val);
			dash = strchr(buf, '-');
			if (dash != NULL) {
				*dash = '\0';
				o->first = vfsdiff_num(buf);
				o->last = vfsdiff_num(dash + 1);
			} else {
				o->first = o->last = vfsdiff_num(buf);
			}
		} else if (strcmp(a, "--ops") == 0) {
			o->ops = vfsdiff_num(val);
		} else if (strcmp(a, "--tree-every") == 0) {
			o->tree_every = vfsdiff_num(val);
		} else if (strcmp(a, "--fsx-ops") == 0) {
			o->fsx_ops = vfsdiff_num(val);
		} else if (strcmp(a, "--time-limit") == 0) {
			o->time_limit = (double)vfsdiff_num(val);
		} else {
			vfsdiff_usage();
		}
	}
	if (strcmp(o->store, "memory") != 0 && strcmp(o->store, "disk") != 0 &&
	    strcmp(o->store, "sqlite") != 0) {
		fprintf(stderr, "vfsdiff: unknown store '%s'\n", o->store);
		exit(2);
	}
	if (o->ops == 0 || o->ops > 100000 || o->first > o->last)
		vfsdiff_usage();
}

static double vfsdiff_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start vfsmount with a fresh store of the kind under test at "/". */
static int vfsdiff_mount(const vfsdiff_opts *o)
{
	char spec[700];
	const char *argv[8];
	size_t n = 0;

	snprintf(daemon_.store, sizeof daemon_.store, "%s/mount-store",
	         scratch);
	if (mkdir(daemon_.store, 0755) < 0)
		return -1;
	argv[n++] = o->vfsmount;
	argv[n++] = "-f";
	if (strcmp(o->store, "memory") != 0) {
		if (strcmp(o->store, "sqlite") == 0)
			snprintf(spec, sizeof spec, "/=sqlite:%s/db.sqlite",
			         daemon_.store);
		else
			snprintf(spec, sizeof spec, "/=%s:%s%s", o->store,
			         daemon_.store,
			         strcmp(o->store, "disk") == 0 ? ",suid" : "");
		argv[n++] = "-m";
		argv[n++] = spec;
	}
	argv[n] = NULL;
	return harness_start(&daemon_, argv, -1);
}

static int vfsdiff_one(const vfsdiff_opts *o, diff_target *oracle,
                       diff_target *test, uint64_t seed, diff_op *ops)
{
	diff_rand r;
	diff_report rep;
	size_t n;
	char name[64];

	diff_rand_seed(&r, seed);
	n = diff_gen(&r, ops, o->ops);
	diff_run(oracle, test, ops, n, o->tree_every, &rep);
	if (!rep.diverged)
		return 0;
	printf("seed %" PRIu64 " (%s, %s): divergence at operation %zu: %s\n",
	       seed, o->store, o->mode, rep.at, rep.what);
	diff_trace = NULL;
	n = diff_shrink(oracle, test, ops, n, o->tree_every, &rep);
	printf("shrunk to %zu operations (%s):\n", n,
	       rep.tree ? "then the tree walk" : "the last one diverges");
	for (size_t i = 0; i < n; i++) {
		printf("  %zu: ", i);
		diff_print_op(stdout, &ops[i]);
		putchar('\n');
	}
	printf("  => %s\n", rep.what);
	printf("conformance test case (expected values from the kernel):\n");
	printf("/* vfsdiff --seeds %" PRIu64 " --store %s --mode %s: %s */\n",
	       seed, o->store, o->mode, rep.what);
	snprintf(name, sizeof name, "test_diff_seed%" PRIu64, seed);
	diff_print_case(stdout, oracle, ops, n, name);
	printf("\n");
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv)
{
	vfsdiff_opts o;
	diff_target *oracle = NULL, *test = NULL;
	diff_op *ops;
	char base[600];
	const char *shm;
	unsigned failed = 0, seeds = 0, fsx_failed = 0;
	double start = vfsdiff_now();
	int status;

	memset(&o, 0, sizeof o);
	vfsdiff_parse(argc, argv, &o);
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.mode, "mount") == 0)
		harness_require_fuse();
	signal(SIGTERM, vfsdiff_on_signal);
	signal(SIGINT, vfsdiff_on_signal);
	signal(SIGALRM, vfsdiff_on_signal);

	/* tmpfs is the oracle; every other host directory goes there too,
	 * so that the disk store also sits on tmpfs. */
	shm = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(scratch, sizeof scratch, "%s/vfsdiff-XXXXXX",
	         shm != NULL ? shm : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("vfsdiff: mkdtemp");
		return 1;
	}
	ops = calloc(o.ops, sizeof *ops);
	snprintf(base, sizeof base, "%s/oracle", scratch);
	if (ops == NULL || mkdir(base, 0755) < 0)
		goto fail;
	oracle = diff_sys_new("tmpfs", base, false);
	if (strcmp(o.mode, "plain") == 0) {
		/* The oracle's self-check: plain system calls on tmpfs, on
		 * sequences that cannot leave the root. */
		diff_gen_flags |= DIFF_GEN_NO_ESCAPE;
		snprintf(base, sizeof base, "%s/plain", scratch);
		if (mkdir(base, 0755) < 0)
			goto fail;
		test = diff_sys_new("plain", base, true);
	} else if (strcmp(o.mode, "mount") == 0) {
		if (vfsdiff_mount(&o) < 0) {
			fprintf(stderr, "vfsdiff: could not start %s\n",
			        o.vfsmount);
			goto fail;
		}
		test = diff_sys_new("mount", daemon_.mnt, false);
	} else {
		snprintf(base, sizeof base, "%s/lib", scratch);
		if (mkdir(base, 0755) < 0)
			goto fail;
		test = diff_lib_new(o.store, base);
	}
	if (oracle == NULL || test == NULL)
		goto fail;

	for (uint64_t seed = o.first; seed <= o.last; seed++) {
		if (o.time_limit > 0 && vfsdiff_now() - start > o.time_limit) {
			printf("time limit reached after %u seeds\n", seeds);
			break;
		}
		seeds++;
		if (o.diff)
			failed += (unsigned)vfsdiff_one(&o, oracle, test, seed,
			                                ops);
		if (o.fsx && diff_fsx(test, seed, o.fsx_ops, stdout) < 0) {
			printf("fsx: seed %" PRIu64 " (%s, %s) failed; "
			       "reproduce with --no-diff --seeds %" PRIu64 "\n",
			       seed, o.store, o.mode, seed);
			fsx_failed++;
		}
		if ((failed > 0 || fsx_failed > 0) && o.stop_first)
			break;
		if (seed == UINT64_MAX)
			break;
	}
	printf("vfsdiff: %s store, %s mode: %u seeds in %.1f s, %u diverged, "
	       "%u fsx failures\n",
	       o.store, o.mode, seeds, vfsdiff_now() - start, failed,
	       fsx_failed);
	oracle->destroy(oracle);
	test->destroy(test);
	free(ops);
	if (daemon_.pid > 0) {
		status = harness_stop(&daemon_);
		if (status < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			printf("vfsmount did not exit cleanly (status %#x)\n",
			       (unsigned)status);
			failed++;
		}
	}
	nftw(scratch, vfsdiff_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed > 0 || fsx_failed > 0 ? 1 : 0;
fail:
	if (oracle != NULL)
		oracle->destroy(oracle);
	if (test != NULL)
		test->destroy(test);
	free(ops);
	if (daemon_.pid > 0)
		harness_stop(&daemon_);
	nftw(scratch, vfsdiff_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 1;
}
