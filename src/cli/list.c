/* list.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers list: not implemented yet\n");
	return 1;
}
