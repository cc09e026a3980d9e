/* record.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers record: not implemented yet\n");
	return 1;
}
