/* Directory listings as servers send them: MLSD (RFC 3659 7, the one with a
 * defined format) and LIST, which RFC 959 leaves free-form; we read the two
 * forms real servers use, Unix "ls -l" and DOS/IIS. One line at a time, no
 * I/O: unit-tested and fuzzed. */
#ifndef INETKIT_FTP_LIST_H
#define INETKIT_FTP_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FTP_NAME_MAX 1024

enum ftp_ftype { FTP_FT_FILE, FTP_FT_DIR, FTP_FT_LINK, FTP_FT_OTHER };

struct ftp_entry {
	char name[FTP_NAME_MAX];
	char target[FTP_NAME_MAX];	/* symbolic link target, "" if unknown */
	enum ftp_ftype type;
	bool has_size;
	uint64_t size;
	/* mtime is UTC; prec is how exact it is in seconds: 1 from MLSD,
	 * 60 for a Unix LIST "Mon DD HH:MM", 86400 for "Mon DD YYYY"; 0 when
	 * there is no time. */
	time_t mtime;
	int prec;
	char perm[12];			/* "drwxr-xr-x" or "" */
};

/* Results of one line. */
enum { FTP_LINE_SKIP = 0, FTP_LINE_ENTRY = 1, FTP_LINE_BAD = -1 };

/* A LIST line in Unix or DOS/IIS form. now (UTC) settles the year of
 * "Mon DD HH:MM" dates. SKIP for "total N", blank lines, "." and "..". */
int ftp_list_parse_line(const char *line, size_t len, time_t now, struct ftp_entry *out);
/* An MLSD line: "fact=value;fact=value; name". SKIP for cdir/pdir. */
int ftp_mlsd_parse_line(const char *line, size_t len, struct ftp_entry *out);

const char *ftp_ftype_name(enum ftp_ftype t);

#endif
