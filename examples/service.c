/*
 * service - a small request-serving workload with markers on its paths.
 *
 *	service [-n REQUESTS] [-t THREADS] [-w WORKERS]
 *
 * Worker threads take requests from a queue, look keys up in a cache,
 * "query a database" on a miss, and answer.  Each step has a marker; all are
 * off unless something switches them on (MARKERS_PRINT=*, markers record).
 *
 * With -w, a prefork server (as nginx or PostgreSQL are): the master process
 * forks WORKERS worker processes, each serving its share of the requests
 * with its own THREADS threads, and waits for them.  `markers record`
 * records the master and every worker, a trace each.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>

#define CACHE_SLOTS 64

struct request {
	unsigned id;
	unsigned key;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned next_id, total;
static unsigned cache[CACHE_SLOTS];

__attribute__((constructor)) static void service_init(void)
{
	/* Fires before main(): markers work from the first instruction. */
	trace_mark(service_init, "pid %d", (int)getpid());
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int take(struct request *r, unsigned *seed)
{
	int have;

	pthread_mutex_lock(&queue_lock);
	have = next_id < total;
	if (have) {
		r->id = next_id++;
		r->key = rand_r(seed) % (CACHE_SLOTS * 2);
	}
	pthread_mutex_unlock(&queue_lock);
	return have;
}

static unsigned query_db(unsigned key)
{
	unsigned v = key;

	for (int i = 0; i < 2000; i++) /* the "database" works a little */
		v = v * 1103515245u + 12345u;
	trace_mark(db_query, "key %u rows %d", key, (int)(v % 5) + 1);
	return v;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
	struct request r;

	while (take(&r, &seed)) {
		unsigned long long t0 = now_ns();
		unsigned slot = r.key % CACHE_SLOTS;
		int hit = __atomic_load_n(&cache[slot], __ATOMIC_RELAXED) == r.key + 1;

		trace_mark(request_start, "id %u key %u", r.id, r.key);
		trace_mark(cache_lookup, "key %u hit %d", r.key, hit);
		if (!hit) {
			query_db(r.key);
			__atomic_store_n(&cache[slot], r.key + 1, __ATOMIC_RELAXED);
		}
		trace_mark(request_done, "id %u status %s latency_ns %llu", r.id,
			   hit ? "cached" : "fetched", now_ns() - t0);
	}
	return NULL;
}

/* Serve requests [first, last) with @nthreads threads. */
static void serve(unsigned first, unsigned last, unsigned nthreads)
{
	pthread_t th[64];

	next_id = first;
	total = last;
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(size_t)(i + first));
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
}

/* The master: fork @workers processes, each its share of @n requests; reap them. */
static int prefork(unsigned n, unsigned workers, unsigned nthreads)
{
	pid_t pids[64];
	int failed = 0;

	for (unsigned k = 0; k < workers; k++) {
		unsigned first = n / workers * k, last = k + 1 == workers ? n : n / workers * (k + 1);

		pids[k] = fork();
		if (pids[k] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[k] == 0) {
			trace_mark(worker_start, "worker %u first %u last %u", k, first, last);
			serve(first, last, nthreads);
			trace_mark(worker_stop, "worker %u served %u", k, last - first);
			exit(0);
		}
		trace_mark(worker_forked, "worker %u pid %d", k, (int)pids[k]);
	}
	for (unsigned k = 0; k < workers; k++) {
		int status = 0;

		waitpid(pids[k], &status, 0);
		trace_mark(worker_reaped, "worker %u pid %d status %d", k, (int)pids[k], status);
		failed |= status != 0;
	}
	return failed;
}

int main(int argc, char **argv)
{
	unsigned nthreads = 2, workers = 0, n = 1000;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:t:w:")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			if (nthreads < 1 || nthreads > 64)
				nthreads = 2;
			break;
		case 'w':
			workers = (unsigned)strtoul(optarg, NULL, 10);
			if (workers < 1 || workers > 64)
				workers = 2;
			break;
		default:
			fprintf(stderr, "usage: %s [-n REQUESTS] [-t THREADS] [-w WORKERS]\n", argv[0]);
			return 2;
		}
	}
	trace_mark(service_start, "threads %u requests %u", nthreads, n);
	if (workers)
		rc = prefork(n, workers, nthreads);
	else
		serve(0, n, nthreads);
	trace_mark(service_stop, "served %u", n);
	if (workers)
		printf("served %u requests with %u worker processes of %u threads\n", n, workers,
		       nthreads);
	else
		printf("served %u requests with %u threads\n", n, nthreads);
	return rc;
}
