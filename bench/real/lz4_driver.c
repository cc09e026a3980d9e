/*
 * lz4_driver.c - drive lz4's compressor and decompressor over the same
 * 4 MiB of generated text, for the real-program rows of `make bench`.
 *
 *	lz4-KIND -r ROUNDS	print the median ns per input byte of each direction
 *				(the thread's CPU time: a busy machine's waits left out)
 *	lz4-KIND -c		one round of each (for callgrind: the instructions of
 *				LZ4_compress_default and LZ4_decompress_safe)
 *
 * The text: words and numbers drawn by a fixed generator, so that every
 * build compresses the same bytes into the same sequences (about 1.7:1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lz4.h"

#ifdef KIND_flag
int real_flag;
__attribute__((noinline)) void real_flag_probe(unsigned v)
{
	__asm__ volatile("" : : "r"(v));
}
#endif

#define SIZE (4u << 20)

static void text(char *p, size_t n)
{
	static const char *const words[] = {
		"the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for",
		"on", "are", "as", "with", "his", "they", "at", "be", "this", "have", "from", "or",
		"one", "had", "by", "word", "but", "not", "what", "all", "were", "we", "when", "your",
		"can", "said", "there", "use", "an", "each", "which", "she", "do", "how", "their",
		"if", "will", "up", "other", "about", "out", "many", "then", "them", "these", "so",
		"some", "her", "would", "make", "like"};
	uint64_t x = 88172645463325252ull;
	size_t i = 0;

	while (i < n) {
		char w[32];
		int len;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (x % 11 == 0)
			len = snprintf(w, sizeof(w), "%u ", (unsigned)(x >> 40) % 100000);
		else
			len = snprintf(w, sizeof(w), "%s%s", words[(x >> 20) % 64],
				       x % 13 == 0 ? ".\n" : " ");
		for (int k = 0; k < len && i < n; k++)
			p[i++] = w[k];
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#if defined(KIND_markers) || defined(KIND_call)
#include "bench_markers.h"
#endif

int main(int argc, char **argv)
{
	int rounds = 1, opt, cg = 0, bound = LZ4_compressBound(SIZE);
	char *in = malloc(SIZE), *z = malloc(bound), *out = malloc(SIZE);
	double *tc, *td;
	int zlen = 0;

	while ((opt = getopt(argc, argv, "r:c")) != -1)
		if (opt == 'r')
			rounds = atoi(optarg);
		else
			cg = 1;
	if (!in || !z || !out || rounds < 1)
		return 1;
	tc = calloc(rounds, sizeof(*tc));
	td = calloc(rounds, sizeof(*td));
	text(in, SIZE);
#if defined(KIND_markers) || defined(KIND_call)
	bench_settle_sites(); /* (bench_markers.h says why) */
#endif
	for (int r = 0; r < rounds; r++) {
		double t0 = now(), t1, t2;

		zlen = LZ4_compress_default(in, z, SIZE, bound);
		t1 = now();
		if (LZ4_decompress_safe(z, out, zlen, SIZE) != (int)SIZE || memcmp(in, out, SIZE)) {
			fprintf(stderr, "lz4 round trip failed\n");
			return 1;
		}
		t2 = now();
		tc[r] = (t1 - t0) / SIZE;
		td[r] = (t2 - t1) / SIZE;
	}
	if (cg)
		return 0;
	qsort(tc, rounds, sizeof(*tc), cmp);
	qsort(td, rounds, sizeof(*td), cmp);
	printf("compress ns_per_byte=%.4f ratio=%.2f\n", tc[rounds / 2], (double)SIZE / zlen);
	printf("decompress ns_per_byte=%.4f\n", td[rounds / 2]);
	return 0;
}
