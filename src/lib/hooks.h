/*
 * hooks.h - start-up of the library's subsystems, called by marker__init()
 * once, after the core is ready (private).
 */
#ifndef MARKERS_HOOKS_H
#define MARKERS_HOOKS_H

/* Start recording if the environment asks for it (MARKERS_RECORD...). */
void marker__tracer_init_from_env(void);

/* Open this process's control channel (markers list -p, enable, disable). */
void marker__control_init(void);

#endif /* MARKERS_HOOKS_H */
