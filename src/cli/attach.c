/* attach.c - markers record -p PID (not yet). */
#include <stdio.h>

#include "attach.h"
#include "commands.h"

int attach_record(pid_t pid, const struct attach_options *o)
{
	(void)pid;
	(void)o;
	fprintf(stderr, "%s record: -p is not implemented yet\n", cli_progname);
	return 1;
}
