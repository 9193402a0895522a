/* The upload side of the transfer engine (ftpd_upload.c), called by ftpd_xfer.c. */
#ifndef INETKIT_FTPD_FTPD_UPLOAD_H
#define INETKIT_FTPD_FTPD_UPLOAD_H

struct ftpd_xfer;

/* Start reading, take what arrived (0, or -1 after finishing), and the
 * client's end of the data. */
void ftpd_upload_run(struct ftpd_xfer *x);
int ftpd_upload_input(struct ftpd_xfer *x);
void ftpd_upload_end(struct ftpd_xfer *x);
/* Refuse a running upload: what it wrote stays as the caller left it; the
 * rest of the data is read and dropped until the client ends it (or sent
 * too much), then code and text are the reply. So the client finishes
 * sending and reads the reply, instead of failing on a reset. */
void ftpd_upload_refuse(struct ftpd_xfer *x, int code, const char *text);

#endif
