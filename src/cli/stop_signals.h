/*
 * stop_signals.h - what the recording commands share to run until a stop:
 * Ctrl-C, SIGTERM and SIGHUP turned into a flag, and a monotonic clock.
 */
#ifndef MARKERS_CLI_STOP_SIGNALS_H
#define MARKERS_CLI_STOP_SIGNALS_H

#include <signal.h>

/* Set once SIGINT, SIGTERM or SIGHUP arrived after stop_signals_catch(). */
extern volatile sig_atomic_t stop_requested;

/* The handlers stop_signals_catch() replaced, for stop_signals_restore(). */
struct stop_signals {
	struct sigaction old_int, old_term, old_hup;
};

/* Catch SIGINT, SIGTERM and SIGHUP into stop_requested; keep the old handlers in @s. */
void stop_signals_catch(struct stop_signals *s);
/* Put back the handlers that stop_signals_catch() replaced. */
void stop_signals_restore(const struct stop_signals *s);

/* Seconds on CLOCK_MONOTONIC. */
double now_s(void);

#endif /* MARKERS_CLI_STOP_SIGNALS_H */
