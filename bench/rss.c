/*
 * rss.c - the resident memory that instrumentation adds to a process.
 * Built three ways: -DKIND_none (nothing), -DKIND_ours (trace_mark),
 * -DKIND_lttng (an LTTng-UST tracepoint).
 *
 *	rss-KIND [-n EVENTS]	fire EVENTS events (2 ints + 16-byte string)
 *				from each of 2 threads, wait 300 ms, and print
 *				name=rss.KIND[.TAG] rss_kb=... anon_kb=... file_kb=... shmem_kb=...
 *
 * The tag (-t TAG) names the condition the caller set up: idle, recording
 * (MARKERS_RECORD in the environment: the tracer's default buffers).  RSS is
 * VmRSS of /proc/self/status, split as the kernel counts it: anonymous (heap,
 * stacks), file-backed (the program and its libraries' pages), shared memory
 * (our trace buffers live in /dev/shm).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(KIND_ours)
#include <markers.h>
#define POINT(a, b) trace_mark(rss_point, "a %d b %d s %s", a, b, "payload-16bytes")
#define KIND "ours"
#elif defined(KIND_lttng)
#include "bench_tp.h"
#define POINT(a, b) tracepoint(bench, on, a, b, "payload-16bytes")
#define KIND "lttng"
#else
#define POINT(a, b) __asm__ volatile("" : : "r"(a), "r"(b))
#define KIND "none"
#endif

static long events;

static void *fire(void *arg)
{
	for (long i = 0; i < events; i++)
		POINT((int)i, (int)(size_t)arg);
	return NULL;
}

static long status_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? atol(p + strlen(key)) : -1;
}

int main(int argc, char **argv)
{
	const char *tag = "idle";
	char text[8192];
	pthread_t t[2];
	size_t n;
	FILE *f;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:")) != -1)
		if (opt == 'n')
			events = atol(optarg);
		else if (opt == 't')
			tag = optarg;
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, fire, (void *)(size_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	usleep(300000); /* let a consumer thread catch up */
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	printf("name=rss.%s.%s rss_kb=%ld anon_kb=%ld file_kb=%ld shmem_kb=%ld events=%ld\n", KIND,
	       tag, status_kb(text, "VmRSS:"), status_kb(text, "RssAnon:"),
	       status_kb(text, "RssFile:"), status_kb(text, "RssShmem:"), 2 * events);
	return 0;
}
