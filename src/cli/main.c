/*
 * main.c - `markers`: the table of subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

const char *cli_progname = "markers";

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"list", cmd_list, "list markers of ELF files, or of a live process (-p PID)"},
	{"enable", cmd_enable, "switch markers of a live process on"},
	{"disable", cmd_disable, "switch markers of a live process off"},
	{"ps", cmd_ps, "your processes that use libmarkers: markers, on, recording, memory"},
	{"record", cmd_record, "record a trace of a command, or of a live process"},
	{"view", cmd_view, "print the events of a trace as text"},
	{"stats", cmd_stats, "per-marker counts, rates, losses and a histogram of a trace"},
	{"export", cmd_export, "convert a trace for other viewers (--format=chrome)"},
	{"snapshot", cmd_snapshot, "write what a flight recorder (--overwrite) holds now, as a trace"},
	{"recover", cmd_recover, "finish the traces of processes that died while recording"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: markers COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'markers COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("markers 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "markers: unknown command '%s' (see 'markers --help')\n", argv[1]);
	return 2;
}
