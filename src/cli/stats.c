/* stats.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_stats(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers stats: not implemented yet\n");
	return 1;
}
