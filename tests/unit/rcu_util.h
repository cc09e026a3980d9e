/*
 * rcu_util.h - what the RCU tests share: a published object that readers
 * check and writers retire, and the run of a test in each RCU mode.
 *
 * The tests call the library's RCU directly (src/lib/rcu.h), linked from
 * the static archive, whose hidden symbols a static link resolves.
 */
#ifndef MARKERS_TESTS_RCU_UTIL_H
#define MARKERS_TESTS_RCU_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcu.h"
#include "tap.h"

#define OBJ_LIVE 0x0b1ec7edUL /* fits an unsigned long of 32 bits too */
#define OBJ_DEAD 0xdeadUL

/* A published object: a reader holding it must find it whole and alive. */
struct obj {
	volatile unsigned long magic;
	unsigned long seq, twice; /* twice == 2 * seq */
	unsigned long pad[5];
};

static struct obj *rcu_cur;
static unsigned long rcu_bad; /* reads that found a retired (poisoned or torn) object */

static inline struct obj *obj_new(unsigned long seq)
{
	struct obj *o = malloc(sizeof(*o));

	if (!o)
		abort();
	o->seq = seq;
	o->twice = 2 * seq;
	o->magic = OBJ_LIVE;
	return o;
}

/* Checks @o; @spin: hold it a little while, then check again. */
static inline void obj_check(const struct obj *o, int spin)
{
	if (!o)
		return;
	if (o->magic != OBJ_LIVE || o->twice != 2 * o->seq)
		__atomic_fetch_add(&rcu_bad, 1, __ATOMIC_RELAXED);
	for (volatile int i = 0; i < spin; i++)
		;
	if (o->magic != OBJ_LIVE)
		__atomic_fetch_add(&rcu_bad, 1, __ATOMIC_RELAXED);
}

/* One read-side section: load the object, check it while holding it. */
static inline void read_once(int spin)
{
	struct marker__rcu_reader *r = marker__rcu_reader();

	if (!r)
		abort();
	marker__rcu_read_lock_r(r);
	obj_check(marker__rcu_load(rcu_cur), spin);
	marker__rcu_read_unlock_r(r);
}

/*
 * Retired objects are poisoned, then kept a while before free(): a reader
 * that still holds one finds the poison (ASan builds also see the free).
 */
#define QUARANTINE 256
static struct obj *quarantine[QUARANTINE];
static unsigned quarantine_pos;
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void obj_retire(struct obj *o)
{
	if (!o)
		return;
	o->magic = OBJ_DEAD;
	o->twice = 1;
	pthread_mutex_lock(&quarantine_lock);
	free(quarantine[quarantine_pos % QUARANTINE]);
	quarantine[quarantine_pos++ % QUARANTINE] = o;
	pthread_mutex_unlock(&quarantine_lock);
}

/* Publish a new object, wait for a grace period, retire the old one. */
static inline void write_once(unsigned long seq)
{
	struct obj *old = __atomic_exchange_n(&rcu_cur, obj_new(seq), __ATOMIC_ACQ_REL);

	marker__rcu_synchronize();
	obj_retire(old);
}

/* Writes until *@stop, counting the grace periods in *@grace_periods. */
static inline void write_until(const int *stop, unsigned long *grace_periods)
{
	unsigned long seq = 0;

	while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
		write_once(++seq);
		__atomic_add_fetch(grace_periods, 1, __ATOMIC_RELAXED);
	}
}

static const struct {
	const char *name;
	enum marker__rcu_mode mode;
} rcu_modes[] = {
	{"expedited", MARKER__RCU_EXPEDITED},
	{"global", MARKER__RCU_GLOBAL},
	{"fences", MARKER__RCU_FENCES},
};

/*
 * main() of an RCU test: with no argument, runs itself once per mode (a
 * mode is chosen once per process), each a TAP test of its own whose lines
 * are passed through as comments; with a mode name, runs @body in it.
 */
static inline int rcu_test_main(int argc, char **argv, void (*body)(const char *mode))
{
	int n = (int)(sizeof(rcu_modes) / sizeof(rcu_modes[0]));

	if (argc > 1) {
		for (int i = 0; i < n; i++) {
			if (strcmp(argv[1], rcu_modes[i].name))
				continue;
			int err = marker__rcu_force_mode(rcu_modes[i].mode);

			if (err == -ENOSYS) {
				printf("1..0 # SKIP this kernel has no membarrier for mode %s\n",
				       argv[1]);
				return 0;
			}
			if (err) {
				printf("1..1\nnot ok 1 - mode %s already decided (%d)\n", argv[1], err);
				return 1;
			}
			body(argv[1]);
			return done();
		}
		return 2;
	}
	plan(n);
	for (int i = 0; i < n; i++) {
		int fds[2], status = -1;
		pid_t pid;
		char line[512];
		FILE *f;

		fflush(stdout);
		if (pipe(fds) < 0 || (pid = fork()) < 0)
			abort();
		if (!pid) {
			dup2(fds[1], 1);
			close(fds[0]);
			execl("/proc/self/exe", argv[0], rcu_modes[i].name, (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		f = fdopen(fds[0], "r");
		while (f && fgets(line, sizeof(line), f))
			printf("#   %s", line);
		if (f)
			fclose(f);
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mode %s: every check passed",
		   rcu_modes[i].name);
	}
	return done();
}

#endif /* MARKERS_TESTS_RCU_UTIL_H */
