/* The services `inetkit serve` can run, in the order they start and are
 * listed. A new service is one line here (and its header). */
#include <stddef.h>

#include "serve/serve.h"
#include "tcp/tcp.h"
#include "udp/udp.h"
#include "ftpd/ftpd_tool.h"
#include "smtp/smtp.h"
#include "pop3/pop3.h"
#include "imap/imap.h"
#include "metrics/metrics.h"

const struct service_ops *const serve_registry[] = {
	&service_tcp_echo,
	&service_udp_echo,
	&service_ftp,
	&service_smtp,
	&service_pop3,
	&service_imap,
	&service_metrics,
	NULL,
};
