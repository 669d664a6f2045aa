/*
 * tests/diff/fuzz_diff_driver.c: runs fuzz_diff over pseudo-random inputs
 * from a fixed seed, so that builds without libFuzzer still exercise the
 * target. Usage: fuzz_diff_driver [RUNS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
	static uint8_t buf[2048];
	uint64_t x = 0x243F6A8885A308D3u;

	for (unsigned r = 0; r < runs; r++) {
		size_t n = 64 + (size_t)(x % (sizeof buf - 64));

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%u inputs, no divergence\n", runs);
	return 0;
}
