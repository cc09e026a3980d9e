/*
 * patch_attach.c - a debugger that attaches between two switches while
 * threads fire.  gdb takes the SIGTRAP of an int3 it did not put there,
 * stops the program, and by default resumes the thread after the int3
 * byte, inside the instruction: so the patcher must see the tracer that
 * came since its last switch and put its switches off until it leaves.
 *
 * Alone, the program switches while two threads fire and checks the
 * probe counts.  Under tests/patch_attach.t (PA_GDB=1) it waits, spinning
 * between two switches, until gdb has attached and set pa_attached; it
 * switches while traced (each switch must be put off: the code keeps its
 * form and the sites say why), calls pa_detach_here(), where gdb leaves,
 * and then every switch must patch again.  The wait spins, never sleeps:
 * the attach is the only thing that stops this thread between the two
 * switches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "unit/patch_util.h"

static int stop;
static long hits; /* pu_count_probe() counts here */
static unsigned long calls;
volatile int pa_attached; /* set by gdb */

__attribute__((noinline)) static void fire(int x)
{
	trace_mark_immediate(pa_imm, "x %d", x);
	trace_mark_jump(pa_jmp, "x %d", x);
}

static void *firing(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		fire(1);
		__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

/* gdb's breakpoint: it detaches here. */
__attribute__((noinline)) void pa_detach_here(void)
{
	__asm__ volatile("" ::: "memory");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Our TracerPid, or -1. */
static int tracer_pid(void)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nTracerPid:");
	return p ? atoi(p + 11) : -1;
}

/* Both markers on (the probe connected) or off.  Returns the first error. */
static int both(int on)
{
	int a, b;

	if (on) {
		a = marker_probe_register("pa_imm", NULL, pu_count_probe, &hits);
		b = marker_probe_register("pa_jmp", NULL, pu_count_probe, &hits);
	} else {
		a = marker_probe_unregister("pa_imm", pu_count_probe, &hits);
		b = marker_probe_unregister("pa_jmp", pu_count_probe, &hits);
	}
	return a < 0 ? a : b;
}

/* The probe count moves within a second (the threads run the sites). */
static int hits_move(void)
{
	long h0 = __atomic_load_n(&hits, __ATOMIC_RELAXED);
	double end = now_s() + 1;

	while (now_s() < end)
		if (__atomic_load_n(&hits, __ATOMIC_RELAXED) != h0)
			return 1;
	return 0;
}

/* Every site of both markers says a debugger put it off. */
static int says_traced(void)
{
	const char *names[] = {"pa_imm", "pa_jmp"};

	for (int k = 0; k < 2; k++) {
		struct pu_sites s = pu_sites(names[k]);

		for (int i = 0; i < s.n; i++)
			if (!s.reason[i] || !strstr(s.reason[i], "debugger")) {
				printf("# %s: site %d: %s\n", names[k], i,
				       s.reason[i] ? s.reason[i] : "no reason");
				return 0;
			}
	}
	return 1;
}

int main(void)
{
	int gdb = getenv("PA_GDB") != NULL, patched = pu_sites("pa_imm").kind != MARKER_KIND_GENERIC;
	pthread_t th[2];
	int bad = 0, n = 0;
	double end;

	plan(gdb ? 7 : 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, firing, NULL);
	while (__atomic_load_n(&calls, __ATOMIC_RELAXED) < 1000)
		;

	/* Switches while the threads fire: the probes run while on. */
	for (int i = 0; i < 200; i++)
		bad += both(1) != 0 || both(0) != 0;
	is_int(bad, 0, "200 switches while two threads fire, each done at once");
	ok(both(1) == 0 && hits_move(), "on: the probes run");
	ok(both(0) == 0 && (!patched || (!pu_check_sites("pa_imm", 0) &&
					 !pu_check_sites("pa_jmp", 0))),
	   "off: the sites are in their off form");

	if (gdb) {
		double t0 = now_s();

#ifdef PR_SET_PTRACER
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* Yama's ptrace_scope 1 */
#endif
		printf("# pid %d: waiting for gdb\n", (int)getpid());
		fflush(stdout);
		/* Spin: only the attach stops this thread here. */
		while (!__atomic_load_n(&pa_attached, __ATOMIC_RELAXED) && now_s() < t0 + 30)
			;
		ok(pa_attached && tracer_pid() > 0, "gdb attached between two switches");
		/* Traced: each switch on is put off, the code stays off, no trap. */
		bad = 0;
		end = now_s() + 0.3;
		while (now_s() < end) {
			int err = both(1);

			n++;
			bad += err != -EAGAIN && patched;
			bad += patched && (pu_check_sites("pa_imm", 0) || pu_check_sites("pa_jmp", 0));
			both(0);
		}
		is_int(bad, 0, "%d switches under gdb: each put off, the code unchanged", n);
		ok(!patched || (both(1) == -EAGAIN && says_traced()),
		   "the sites say a debugger is attached");
		both(0);
		pa_detach_here();
		end = now_s() + 10;
		while (tracer_pid() != 0 && now_s() < end)
			usleep(1000);
		/* The tracer gone, the switches patch again. */
		ok(both(1) == 0 &&
			   (!patched || (!pu_check_sites("pa_imm", 1) && !pu_check_sites("pa_jmp", 1))) &&
			   hits_move(),
		   "gdb gone: the next switch patches and the probes run");
		ok(both(0) == 0 && (!patched || (!pu_check_sites("pa_imm", 0) &&
						 !pu_check_sites("pa_jmp", 0))),
		   "and off again");
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return done();
}
