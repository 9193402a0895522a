/* Entry points of the subcommands, called by src/main.c's dispatch table.
 * Each takes its own argv (argv[0] is the subcommand name) and returns the
 * process exit code (see core/cli.h). */
#ifndef INETKIT_COMMANDS_H
#define INETKIT_COMMANDS_H

int cmd_addr(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_tcp(int argc, char **argv);
int cmd_udp(int argc, char **argv);
int cmd_ftp(int argc, char **argv);
int cmd_ftpd(int argc, char **argv);
int cmd_smtpd(int argc, char **argv);
int cmd_pop3d(int argc, char **argv);
int cmd_imapd(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_dkim(int argc, char **argv);
int cmd_mail(int argc, char **argv);

#endif
