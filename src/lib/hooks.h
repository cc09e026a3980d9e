/*
 * hooks.h - what init.c calls in the library's subsystems: their start-up,
 * once, after the core is ready, and the one fork path (private).
 */
#ifndef MARKERS_HOOKS_H
#define MARKERS_HOOKS_H

/* Start recording if the environment asks for it (MARKERS_RECORD...). */
void marker__tracer_init_from_env(void);

/* Open this process's control channel (markers list -p, enable, disable). */
void marker__control_init(void);

/*
 * fork(): init.c registers the one triple of pthread_atfork handlers and
 * calls these in the lock order (registry.h): before fork, control, then
 * tracer, then the registry take their locks; after it, in the parent and
 * in the child, the registry, then the tracer, then control let go (the
 * child's tracer and control may then take the registry's lock again, to
 * start the child's own recording and listener).
 */
void marker__control_before_fork(void);
void marker__control_after_fork_parent(void);
void marker__control_after_fork_child(void);
void marker__tracer_before_fork(void);
void marker__tracer_after_fork_parent(void);
void marker__tracer_after_fork_child(void);

#endif /* MARKERS_HOOKS_H */
