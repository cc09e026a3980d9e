/* control.c - the per-process control channel (not yet). */
#include "hooks.h"

void marker__control_init(void)
{
}
