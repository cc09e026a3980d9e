/*
 * commands.h - the subcommands of `markers`, one file each.
 *
 * Each takes the arguments after its name (argv[0] is the subcommand) and
 * returns the process exit status: 0 success, 1 failure (the command has
 * printed one clear line to stderr), 2 bad usage.
 */
#ifndef MARKERS_CLI_COMMANDS_H
#define MARKERS_CLI_COMMANDS_H

int cmd_list(int argc, char **argv);    /* list.c: offline (ELF) and live (-p PID) */
int cmd_enable(int argc, char **argv);  /* switch.c: markers enable -p PID GLOB... */
int cmd_disable(int argc, char **argv); /* switch.c */
int cmd_record(int argc, char **argv);  /* record.c: -- CMD, or -p PID */
int cmd_view(int argc, char **argv);    /* view.c */
int cmd_stats(int argc, char **argv);   /* stats.c */
int cmd_export(int argc, char **argv);  /* export.c */
int cmd_snapshot(int argc, char **argv); /* snapshot.c: markers snapshot -p PID */
int cmd_recover(int argc, char **argv);  /* recover.c: markers recover DIR */
int cmd_ps(int argc, char **argv);      /* ps.c: this user's processes with libmarkers */

/* The program name of @pid (/proc/PID/comm), or "?" (ps.c). */
void proc_comm(int pid, char *out, unsigned long cap);

/* The program name for messages ("markers"). */
extern const char *cli_progname;

#endif
