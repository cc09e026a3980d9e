/*
 * usdt.h - USDT tools switch sites on (private; see usdt.c).
 */
#ifndef MARKERS_USDT_H
#define MARKERS_USDT_H

#include "registry.h"

/* A loading object: count its USDT sites, set their state from their semaphores. */
void marker__usdt_adopt_locked(struct marker__object *o);
/* An unloading object: uncount its USDT sites. */
void marker__usdt_forget_locked(struct marker__object *o);

/* 1 if the process has USDT sites, so that polling them is worth a wake-up. */
int marker__usdt_wanted(void);

/*
 * Read every USDT site's semaphore and switch the sites whose tool came or
 * went.  Takes marker__lock; call about once a second, from a library
 * thread.  Returns the number of sites switched.
 */
int marker__usdt_poll(void);

#endif /* MARKERS_USDT_H */
