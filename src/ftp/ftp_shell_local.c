/* The shell's local side: !COMMAND (run by /bin/sh, as in ftp(1) and
 * lftp: the user's own command on the user's own machine, never anything a
 * server sent), lcd and lpwd. */
#include "ftp/ftp_shell.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/str.h"

/* Run argv[1] with /bin/sh -c, or an interactive $SHELL when there is
 * none. Like system(3): while it runs, the terminal's interrupt and quit
 * keys are for it, not for us. */
int shell_bang(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)sh;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *shell = getenv("SHELL");
	if (shell == NULL || *shell == '\0')
		shell = "/bin/sh";
	fflush(stdout);
	fflush(stderr);
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid_t pid = fork();
	if (pid == 0) {
		/* What we ignore (SIGPIPE included) the command must not. */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (cmd != NULL)
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		else
			execl(shell, shell, (char *)NULL);
		_exit(127);
	}
	int status = 0, err = errno;
	pid_t w = -1;
	if (pid > 0) {
		while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		err = errno;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	const char *what = cmd != NULL ? cmd : shell;
	if (pid < 0 || w < 0)
		return ik_err_errno(e, err, "cannot run '%s'", what), SH_FAIL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SH_OK;
	if (WIFEXITED(status))
		return ik_err_set(e, "'%s' exited with status %d", what, WEXITSTATUS(status)),
		       SH_FAIL;
	return ik_err_set(e, "'%s' was ended by signal %d", what, WTERMSIG(status)), SH_FAIL;
}

static int show_cwd(const char *prefix, ik_err *e)
{
	char cwd[FTP_PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return ik_err_errno(e, errno, "cannot tell the local directory"), SH_FAIL;
	printf("%s%s\n", prefix, cwd);
	return SH_OK;
}

int shell_lcd(struct shell *sh, int argc, char **argv, ik_err *e)
{
	const char *dir = argc > 1 ? argv[1] : getenv("HOME");
	if (dir == NULL)
		dir = "/";
	if (chdir(dir) < 0)
		return ik_err_errno(e, errno, "lcd %s", dir), SH_FAIL;
	return sh->interactive ? show_cwd("Local directory now ", e) : SH_OK;
}

int shell_lpwd(struct shell *sh, int argc, char **argv, ik_err *e)
{
	(void)sh, (void)argc, (void)argv;
	return show_cwd("", e);
}
