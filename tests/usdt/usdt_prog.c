/*
 * usdt_prog - the program that tests/usdt.t observes with gdb and bpftrace.
 *
 *	usdt_prog wait N	wait (20 s at most) until a USDT tool is attached to all
 *				four markers, fire each N times with a markers probe
 *				connected to usdt_tick as well, then wait until the tool
 *				has gone and the sites are off again
 *	usdt_prog loop		fire usdt_tick every 10 ms for 20 s (for gdb)
 *
 * It prints what it sees, one line per step, and exits 0 when each step
 * happened in time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>

void usdt_lib_fire(int i);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void fire(int i)
{
	trace_mark(usdt_tick, "i %d s %s neg %d", i, "hello", -i);
	trace_mark_generic(usdt_gen, "u %u", (unsigned)i);
	trace_mark_immediate(usdt_imm, MARK_NOARGS);
	usdt_lib_fire(i);
}

struct look {
	int usdt_on, all_off;
};

/* Counts the markers of this test whose every site is on for USDT; notes if all are off. */
static int look(const struct marker_info *mi, void *arg)
{
	struct look *l = (struct look *)arg;
	int on = mi->nsites > 0;

	if (strncmp(mi->name, "usdt_", 5))
		return 0;
	for (size_t i = 0; i < mi->nsites; i++) {
		unsigned st = mi->sites[i].marker->state;

		on &= !!(st & MARKER_STATE_USDT);
		if (st)
			l->all_off = 0;
	}
	l->usdt_on += on;
	return 0;
}

static struct look look_now(void)
{
	struct look l = {0, 1};

	marker_foreach(look, &l);
	return l;
}

static void count(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	(void)m, (void)fmt, (void)args;
	++*(long *)priv;
}

int main(int argc, char **argv)
{
	long probe_hits = 0, deadline;
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d\n", (int)getpid());
	if (argc > 1 && !strcmp(argv[1], "loop")) {
		for (int i = 0; i < 2000; i++) {
			fire(i);
			usleep(10000);
		}
		return 0;
	}
	n = argc > 2 ? atoi(argv[2]) : 1000;
	for (deadline = now_ms() + 20000; look_now().usdt_on < 4; usleep(5000))
		if (now_ms() > deadline) {
			printf("never on: %d of 4 markers on for USDT\n", look_now().usdt_on);
			return 1;
		}
	printf("on at %lld\n", now_ms());
	marker_probe_register("usdt_tick", NULL, count, &probe_hits);
	for (int i = 0; i < n; i++)
		fire(i);
	marker_probe_unregister("usdt_tick", count, &probe_hits);
	marker_synchronize_unregister();
	printf("fired %d probe %ld\n", n, probe_hits);
	for (deadline = now_ms() + 20000; !look_now().all_off; usleep(5000))
		if (now_ms() > deadline) {
			printf("never off\n");
			return 1;
		}
	printf("off at %lld\n", now_ms());
	return 0;
}
