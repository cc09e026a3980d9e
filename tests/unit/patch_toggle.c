/*
 * The patching protocol without its third barrier (arch/x86_patch.c, step
 * 3): threads run an immediate and a jump site in a tight loop while the
 * main thread switches them, one after the other, 1,000 times (100,000 in
 * the long tier), with two CPU-bound processes beside us so that threads
 * are preempted anywhere, in the middle of a site or of a trap too.
 *
 * Every call is checked, not a total: the main thread publishes an odd
 * epoch before each switch and the next even one after it returns; a
 * firing thread reads the epoch before and after each call.  The same even
 * epoch on both sides means no switch ran during the call (a switch's int3
 * is written after the odd epoch, and a trap or a barrier that made a new
 * byte visible to the thread also orders its later load of the epoch), so
 * the call must have run the probe of each marker exactly as often as the
 * state of that epoch says: 1 or 0.  Calls that overlap a switch may go
 * either way, and count only as "no crash".  (Without the protocol's int3
 * step, this test dies of SIGSEGV within its first few hundred switches.)  A core that ran the old first
 * byte with the new tail (or the reverse) would jump into the middle of an
 * instruction or set the wrong value; a thread resumed at the wrong place
 * by a stale trap would crash or fire wrongly.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "patch_util.h"
#include "tap.h"

#define NTHREADS 2
#define NHOGS 2

static const char *const names[2] = {"tg_imm", "tg_jmp"};
static int epoch; /* 2k: switch k done; 2k+1: switch k+1 running */
static int stop;
static __thread int fired[2];

static __attribute__((noinline)) void fire(int e)
{
	trace_mark_immediate(tg_imm, "e %d", e);
	trace_mark_jump(tg_jmp, "e %d", e);
}

static void probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	(void)m, (void)fmt, (void)args;
	fired[(long)priv]++;
}

/*
 * Switch k (k = 1, 2, ...) toggles tg_imm when odd, tg_jmp when even:
 * after switch k, tg_imm is on for k = 1, 2 (mod 4), tg_jmp for k = 2, 3.
 */
static int state_after(long k, int m)
{
	return m == 0 ? (int)(((k + 1) >> 1) & 1) : (int)((k >> 1) & 1);
}

struct counts {
	long checked, checked_off, fired, straddled, wrong;
	long first_k, first_m, first_got;
};
static struct counts counts[NTHREADS];
static long checked_total; /* the main thread waits for one check a window */

static void *firing(void *arg)
{
	struct counts *c = &counts[(long)arg];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		int e0 = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE), e1;

		fired[0] = fired[1] = 0;
		fire(e0);
		e1 = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
		if (e0 != e1 || (e0 & 1)) {
			c->straddled++;
			continue;
		}
		for (int m = 0; m < 2; m++) {
			int want = state_after(e0 / 2, m);

			c->fired += fired[m];
			if (fired[m] != want && c->wrong++ == 0) {
				c->first_k = e0 / 2;
				c->first_m = m;
				c->first_got = fired[m];
			}
		}
		c->checked++;
		c->checked_off += !state_after(e0 / 2, 0) && !state_after(e0 / 2, 1);
		__atomic_fetch_add(&checked_total, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pid_t hog(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (volatile unsigned long i = 0;; i++)
			;
	}
	return pid;
}

int main(void)
{
	long n = scale(1) > 1 ? 100000 : 1000, wrong = 0, checked = 0, checked_off = 0;
	long fired_calls = 0, straddled = 0;
	long errs = 0, windows_seen = 0;
	pthread_t th[NTHREADS];
	pid_t hogs[NHOGS];
	uint64_t t0, t1;

	plan(5);
	fire(0); /* both off */
	ok(pu_check_sites("tg_imm", 0) == 0 && pu_check_sites("tg_jmp", 0) == 0,
	   "both sites patched, off");
	for (int i = 0; i < NHOGS; i++)
		hogs[i] = hog();
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, firing, (void *)t);
	t0 = now_ns();
	for (long k = 1; k <= n; k++) {
		int m = (int)((k + 1) & 1), on = state_after(k, m), err;
		long c0;
		uint64_t w0;

		__atomic_store_n(&epoch, (int)(2 * k - 1), __ATOMIC_RELEASE);
		err = on ? marker_probe_register(names[m], NULL, probe, (void *)(long)m)
			 : marker_probe_unregister(names[m], probe, (void *)(long)m);
		if (err && errs++ == 0)
			diag("switch %ld of %s: %d", k, names[m], err);
		c0 = __atomic_load_n(&checked_total, __ATOMIC_RELAXED);
		__atomic_store_n(&epoch, (int)(2 * k), __ATOMIC_RELEASE);
		/* Let a call run whole in this state (100 us at most). */
		w0 = now_ns();
		while (__atomic_load_n(&checked_total, __ATOMIC_RELAXED) == c0 &&
		       now_ns() - w0 < 100000)
			;
		windows_seen += __atomic_load_n(&checked_total, __ATOMIC_RELAXED) != c0;
	}
	t1 = now_ns();
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < NHOGS; i++)
		if (hogs[i] > 0) {
			kill(hogs[i], SIGKILL);
			waitpid(hogs[i], NULL, 0);
		}
	for (int t = 0; t < NTHREADS; t++) {
		struct counts *c = &counts[t];

		if (c->wrong)
			diag("thread %d: %ld wrong calls; first after switch %ld: %s fired %ld times, "
			     "want %d",
			     t, c->wrong, c->first_k, names[c->first_m], c->first_got,
			     state_after(c->first_k, (int)c->first_m));
		wrong += c->wrong;
		checked += c->checked;
		checked_off += c->checked_off;
		fired_calls += c->fired;
		straddled += c->straddled;
	}
	ok(errs == 0, "%ld switches, every one returned 0", n);
	ok(wrong == 0, "%ld calls between switches, each fired exactly as its state says (%ld probe "
		       "calls); %ld calls overlapped a switch",
	   checked, fired_calls, straddled);
	ok(fired_calls > 0 && checked_off > 0,
	   "calls ran whole in on and in off states (%ld with both off; %ld of %ld states had one)",
	   checked_off, windows_seen, n);
	ok(pu_check_sites("tg_imm", state_after(n, 0)) == 0 &&
		   pu_check_sites("tg_jmp", state_after(n, 1)) == 0,
	   "sites still patched, in the form of their last state");
	diag("%ld switches in %.2f s beside %d CPU hogs", n, (t1 - t0) / 1e9, NHOGS);
	return done();
}
