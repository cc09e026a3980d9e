/* switch.c - not yet. */
#include <stdio.h>
#include "commands.h"

int cmd_enable(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers enable: not implemented yet\n");
	return 1;
}

int cmd_disable(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "markers disable: not implemented yet\n");
	return 1;
}
