/*
 * Runs the fuzz target over inputs generated from a fixed seed, so that
 * compilers without libFuzzer still exercise it in every test run. The
 * inputs are built from path fragments that hit the walk's edge cases.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pieces[] = {
        "/",     "//",       ".",   "..",    "a",   "b",   "c",       "f",
        "l1",    "up",       "abs", "loop1", "mnt", "m",   "n",       "d",
        "slash", "dangling", "x",   "new",   "/..", "/./", "a/b/up/", "l1/b",
};

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static size_t add_path(uint8_t *buf, size_t at, size_t cap)
{
	unsigned parts = next() % 8;

	if (next() % 4 == 0 && at + 300 < cap) {
		/* An over-long component now and then. */
		memset(buf + at, 'z', 256 + next() % 3);
		at += 256;
	}
	for (unsigned i = 0; i < parts; i++) {
		const char *s =
		        pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t len = strlen(s);

		if (at + len + 2 >= cap)
			break;
		memcpy(buf + at, s, len);
		at += len;
		if (next() % 2)
			buf[at++] = '/';
	}
	buf[at++] = 0;
	return at;
}

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
	static uint8_t buf[8192];

	for (unsigned r = 0; r < runs; r++) {
		size_t n = 0;
		unsigned ops = 1 + next() % 24;

		for (unsigned i = 0; i < ops && n + 1200 < sizeof(buf); i++) {
			buf[n++] = (uint8_t)next();
			n = add_path(buf, n, sizeof(buf));
			n = add_path(buf, n, sizeof(buf));
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%u inputs run\n", runs);
	return 0;
}
