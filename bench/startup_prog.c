/*
 * startup_prog.c - the program whose start and exit bench/startup.c times:
 * one instrumentation point, not reached (main returns at once), built four
 * ways: -DKIND_none (nothing), -DKIND_ours (one trace_mark), -DKIND_sdt
 * (one sys/sdt.h probe), -DKIND_lttng (one LTTng-UST tracepoint).
 */
#if defined(KIND_ours)
#include <markers.h>
#define POINT(a) trace_mark(startup_point, "a %d", a)
#elif defined(KIND_sdt)
#include <sys/sdt.h>
#define POINT(a) DTRACE_PROBE1(bench, startup_point, a)
#elif defined(KIND_lttng)
#include "bench_tp.h" /* the probes: bench_tp.o */
#define POINT(a) tracepoint(bench, on, a, a, "")
#else
#define POINT(a) ((void)(a))
#endif

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 99)
		POINT(argc);
	return 0;
}
