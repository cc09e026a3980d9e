/* export.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers export: not implemented yet\n");
	return 1;
}
