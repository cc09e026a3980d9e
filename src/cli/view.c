/* view.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_view(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers view: not implemented yet\n");
	return 1;
}
