/* The shell's commands on whole trees: mirror (the engine of the `mirror`
 * verb, ftp_mirror.c, over the shell's session) and delete / rm with -r
 * (ftp_delete in ftp_tree.c). Remote paths are taken from the shell's
 * current directory, as every other shell command does. */
#include "ftp/ftp_shell.h"

#include <string.h>
#include <sys/stat.h>

#include "lib/str.h"

/* path against the remote current directory; "" and "." are it. */
static int remote_abs(const struct shell *sh, const char *path, char *out, size_t outsz)
{
	if (path[0] == '/')
		return str_copy(out, outsz, path);
	if (path[0] == '\0' || strcmp(path, ".") == 0)
		return str_copy(out, outsz, sh->f.cwd);
	return ftp_path_join(out, outsz, sh->f.cwd, path);
}

static const char mirror_usage[] =
	"usage: mirror [-R] [--delete] [-P N] [-v] [-q] SOURCE [TARGET]";

/* Options as the `mirror` verb spells them: -R/--reverse, --delete,
 * -P N/--parallel N, -v/--verbose, -q/--quiet; letters may be grouped.
 * The operands are left in argv[1..]; returns their count, or -1. */
static int mirror_opts(int argc, char **argv, struct ftp_mirror_opts *mo, ik_err *e)
{
	int n = 1;
	bool ended = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!ended && strcmp(a, "--") == 0) {
			ended = true;
		} else if (ended || a[0] != '-' || a[1] == '\0') {
			argv[n++] = argv[i];
		} else if (strcmp(a, "-P") == 0 || strcmp(a, "--parallel") == 0) {
			uint64_t v;
			if (i + 1 >= argc || str_to_u64(argv[i + 1], 64, &v) < 0 || v == 0)
				return ik_err_set(e, "mirror: %s needs a number from 1 to 64", a);
			mo->parallel = (unsigned)v;
			i++;
		} else if (strcmp(a, "--delete") == 0) {
			mo->delete = true;
		} else if (strcmp(a, "--reverse") == 0) {
			mo->reverse = true;
		} else if (strcmp(a, "--verbose") == 0) {
			mo->verbose = true;
		} else if (strcmp(a, "--quiet") == 0) {
			mo->quiet = true;
		} else if (a[1] != '-' && a[strspn(a + 1, "Rvq") + 1] == '\0') {
			mo->reverse |= strchr(a, 'R') != NULL;
			mo->verbose |= strchr(a, 'v') != NULL;
			mo->quiet |= strchr(a, 'q') != NULL;
		} else {
			return ik_err_set(e, "mirror: unknown option '%.40s' (%s)", a, mirror_usage);
		}
	}
	if (n < 2 || n > 3)
		return ik_err_set(e, "%s", mirror_usage);
	return n - 1;
}

int shell_mirror(struct shell *sh, int argc, char **argv, ik_err *e)
{
	struct ftp_mirror_opts mo = {.parallel = 1};
	int nops = mirror_opts(argc, argv, &mo, e);
	if (nops < 0)
		return SH_USAGE;
	const char *src = argv[1];
	/* Without a TARGET, the SOURCE's last name in the current directory
	 * of the other side. */
	const char *dst = nops > 1 ? argv[2] : ftp_path_base(src);
	if (*dst == '\0' || strcmp(dst, "/") == 0)
		dst = ".";
	const char *remote = mo.reverse ? dst : src;
	const char *local = mo.reverse ? src : dst;
	struct stat st;
	if (mo.reverse && (stat(local, &st) < 0 || !S_ISDIR(st.st_mode)))
		return ik_err_set(e, "'%s' is not a local directory", local), SH_USAGE;
	char rabs[FTP_PATH_MAX];
	if (remote_abs(sh, remote, rabs, sizeof rabs) < 0)
		return ik_err_set(e, "remote path too long"), SH_USAGE;
	struct ftp_endpoint_info where;
	memset(&where, 0, sizeof where);
	str_copy(where.host, sizeof where.host, sh->target);
	where.port = sh->port;
	where.implicit_tls = sh->implicit_tls;
	where.cred = sh->cred;	/* for --parallel's extra logins */
	shell_cache_drop(sh);
	int r = ftp_mirror(&sh->f, &where, &mo, rabs, local, e);
	memset(&where.cred, 0, sizeof where.cred);
	return r < 0 ? SH_FAIL : SH_OK;
}

int shell_delete(struct shell *sh, int argc, char **argv, ik_err *e)
{
	unsigned fl;
	if (shell_getopts("rRv", &argc, argv, &fl, e) < 0)
		return SH_USAGE;
	if (argc != 2)
		return ik_err_set(e, "usage: %s [-r] PATH", argv[0]), SH_USAGE;
	bool recursive = (fl & 3u) != 0, verbose = (fl & 4u) != 0;
	shell_cache_drop(sh);
	int r = ftp_delete(&sh->f, argv[1], recursive, verbose, e);
	if (r == 1)
		return ik_err_set(e, "'%s' is a directory: use 'rmdir %s' when it is empty, or "
				  "'rm -r %s' to delete it with everything in it", argv[1], argv[1],
				  argv[1]), SH_FAIL;
	return r < 0 ? SH_FAIL : shell_said(sh);
}
