/*
 * tests/diff/fuzz_diff.c: the differential generator as a libFuzzer target.
 *
 * The input bytes are the generator's choices (diff_rand in byte mode), so
 * libFuzzer mutates operation sequences. Each input runs on tmpfs (the
 * oracle, under /dev/shm) and on the library's memory store; a divergence
 * prints the sequence and the difference and aborts, which libFuzzer
 * records as a crash with its input. Set VFSDIFF_FUZZ_STORE=disk or sqlite
 * to fuzz another store, and VFSDIFF_AVOID=NAME,... to step around known
 * divergences (as vfsdiff --avoid).
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
 *   build-fuzz/tests/diff/fuzz_diff -max_len=4096 -max_total_time=3600
 */
#include "diff.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_MAX_OPS 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static diff_target *fuzz_oracle, *fuzz_test;
static char fuzz_scratch[] = "/dev/shm/vfsdiff-fuzz-XXXXXX";

static int fuzz_rm_one(const char *path, const struct stat *st, int flag,
                       struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* libFuzzer ends with exit(): drop the scratch trees then. */
static void fuzz_cleanup(void)
{
	if (fuzz_test != NULL)
		fuzz_test->destroy(fuzz_test);
	if (fuzz_oracle != NULL)
		fuzz_oracle->destroy(fuzz_oracle);
	fuzz_test = fuzz_oracle = NULL;
	nftw(fuzz_scratch, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_init(void)
{
	char *scratch = fuzz_scratch;
	char base[sizeof fuzz_scratch + 16];
	const char *kind = getenv("VFSDIFF_FUZZ_STORE");
	const char *avoid = getenv("VFSDIFF_AVOID");

	umask(022);
	if (avoid != NULL) {
		char buf[512];

		snprintf(buf, sizeof buf, "%s", avoid);
		for (char *tok = strtok(buf, ","); tok != NULL;
		     tok = strtok(NULL, ","))
			if (diff_avoid(tok) < 0) {
				fprintf(stderr, "unknown divergence '%s'\n",
				        tok);
				abort();
			}
	}
	if (mkdtemp(scratch) == NULL)
		abort();
	atexit(fuzz_cleanup);
	snprintf(base, sizeof base, "%s/o", scratch);
	if (mkdir(base, 0755) < 0)
		abort();
	fuzz_oracle = diff_sys_new("tmpfs", base, false);
	snprintf(base, sizeof base, "%s/l", scratch);
	if (mkdir(base, 0755) < 0)
		abort();
	fuzz_test = diff_lib_new(kind != NULL ? kind : "memory", base);
	if (fuzz_oracle == NULL || fuzz_test == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static diff_op ops[FUZZ_MAX_OPS];
	diff_rand r;
	diff_report rep;
	size_t n;

	if (fuzz_oracle == NULL)
		fuzz_init();
	memset(&r, 0, sizeof r);
	r.bytes = data;
	r.nbytes = size;
	n = diff_gen(&r, ops, FUZZ_MAX_OPS);
	diff_run(fuzz_oracle, fuzz_test, ops, n, 50, &rep);
	if (rep.diverged) {
		fprintf(stderr, "divergence at operation %zu: %s\n", rep.at,
		        rep.what);
		for (size_t i = 0; i < n && i <= rep.at; i++) {
			fprintf(stderr, "  %zu: ", i);
			diff_print_op(stderr, &ops[i]);
			fputc('\n', stderr);
		}
		abort();
	}
	return 0;
}
