/* The services `inetkit serve` can run, in the order they start and are
 * listed. A new service is one line here (and its header). */
#include <stddef.h>

#include "tools/serve.h"
#include "tools/tcp.h"
#include "tools/udp.h"
#include "tools/ftpd_tool.h"

const struct service_ops *const serve_registry[] = {
	&service_tcp_echo,
	&service_udp_echo,
	&service_ftp,
	NULL,
};
