/* `inetkit ftpd` and the [ftp] service of `inetkit serve`: one server
 * (src/ftp/ftpd*.c), configured from the [ftp] section of a config file
 * or, for a quick start, from command-line options. */
#ifndef INETKIT_TOOLS_FTPD_TOOL_H
#define INETKIT_TOOLS_FTPD_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/error.h"
#include "core/service.h"

extern const struct service_ops service_ftp;

/* The [tls] certificate and key for the FTP server. With standalone set,
 * a self-signed pair that serve has not made yet (STATE/tls/) gives ""
 * for both: a certificate is then made in memory at start. */
int ftpd_tls_paths(struct cfg *cfg, bool standalone, char *cert, size_t certsz, char *key,
		   size_t keysz, ik_err *e);

#endif
