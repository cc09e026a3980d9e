/* bench_tp.c - the LTTng-UST provider's probes, compiled into each benchmark. */
#define TRACEPOINT_CREATE_PROBES
#define TRACEPOINT_DEFINE
#include "bench_tp.h"
