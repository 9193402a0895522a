/* TLS on FTP data connections: RFC 4217 section 10.2 recommends that the
 * server make sure a data connection comes from the same client as the
 * control connection; resuming the control connection's TLS session is
 * the proof (vsftpd's require_ssl_reuse). The check is the core's
 * (core/datachan); this file holds FTP's policy: whether it is asked
 * (tls_data_reuse) and the words of a refusal. */
#include "lib/str.h"
#include "ftpd/ftpd_data.h"
#include "ftpd/ftpd_sess.h"

void ftpd_tls_bind_control(struct ftpd_sess *fs)
{
	if (session_ssl(fs->s) == NULL)
		return;
	struct ftpd_data *d = ftpd_data_get(fs);
	if (d != NULL)
		datachan_tls_control(d->dc);
}

void ftpd_tls_unbind_control(struct ftpd_sess *fs)
{
	if (fs->data != NULL)
		datachan_tls_release(fs->data->dc);
}

/* The start of every refusal: the setting that asks for it, so that a
 * client's user (Python's ftplib cannot resume) knows what to look up. */
#define REUSE_REFUSED "TLS session reuse required (tls_data_reuse): "

int ftpd_tls_check_reuse(struct ftpd_sess *fs, struct session *data, char *why, size_t whysz)
{
	if (!fs->srv->conf->tls_reuse)
		return 0;
	switch (datachan_tls_resumed(fs->data->dc, data)) {
	case DATACHAN_RESUMED:
		return 0;
	case DATACHAN_NO_CONTROL_TLS:
		str_copy(why, whysz, REUSE_REFUSED "the control connection has no TLS session to "
			 "resume.");
		return -1;
	case DATACHAN_NOT_RESUMED:
		str_copy(why, whysz, REUSE_REFUSED "the data connection did not resume the control "
			 "connection's TLS session; use a client that resumes it (curl, lftp).");
		return -1;
	case DATACHAN_OTHER_SESSION:
	default:
		str_copy(why, whysz, REUSE_REFUSED "the data connection resumed the TLS session of "
			 "another control connection; use a client that resumes its own (curl, lftp).");
		return -1;
	}
}
