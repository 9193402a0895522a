/* `inetkit ftpd` and the [ftp] service of `inetkit serve`: one server
 * (src/ftp/ftpd*.c) on one runner (tools/runner.h), configured from the
 * [ftp] section of a config file or, for a quick start, from options
 * turned into such a section (ftpd.c). */
#ifndef INETKIT_FTPD_FTPD_TOOL_H
#define INETKIT_FTPD_FTPD_TOOL_H

#include "core/service.h"

extern const struct service_ops service_ftp;

#endif
