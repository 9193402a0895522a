/* The command handlers that ftpd_cmd.c's table names; c->proto is the struct ftpd_sess. */
#ifndef INETKIT_FTPD_FTPD_HANDLERS_H
#define INETKIT_FTPD_FTPD_HANDLERS_H

struct ftpd_sess;
struct session_call;

/* ---- ftpd_cmd_session.c ---- */
void ftpd_cmd_noop(struct session_call *c);
void ftpd_cmd_syst(struct session_call *c);
void ftpd_cmd_quit(struct session_call *c);
void ftpd_cmd_abor(struct session_call *c);
void ftpd_cmd_type(struct session_call *c);
void ftpd_cmd_mode(struct session_call *c);
void ftpd_cmd_stru(struct session_call *c);
void ftpd_cmd_rest(struct session_call *c);
void ftpd_cmd_allo(struct session_call *c);
void ftpd_cmd_features(struct session_call *c);
void ftpd_cmd_helptext(struct session_call *c);
void ftpd_cmd_opts(struct session_call *c);
void ftpd_cmd_host(struct session_call *c);
void ftpd_cmd_auth(struct session_call *c);
void ftpd_cmd_pbsz(struct session_call *c);
void ftpd_cmd_prot(struct session_call *c);
void ftpd_cmd_stat(struct session_call *c);

/* ---- ftpd_cmd_login.c ---- */
void ftpd_cmd_user(struct session_call *c);
void ftpd_cmd_pass(struct session_call *c);

/* ---- ftpd_cmd_fs.c ---- */
void ftpd_cmd_cwd(struct session_call *c);
void ftpd_cmd_cdup(struct session_call *c);
void ftpd_cmd_pwd(struct session_call *c);
void ftpd_cmd_mkd(struct session_call *c);
void ftpd_cmd_rmd(struct session_call *c);
void ftpd_cmd_dele(struct session_call *c);
void ftpd_cmd_rnfr(struct session_call *c);
void ftpd_cmd_rnto(struct session_call *c);
void ftpd_cmd_size(struct session_call *c);
void ftpd_cmd_mdtm(struct session_call *c);
void ftpd_cmd_site(struct session_call *c);
void ftpd_cmd_mlst(struct session_call *c);
/* STAT with a path (ftpd_cmd_stat passes it on). */
void ftpd_cmd_stat_path(struct ftpd_sess *fs, struct session_call *c);

/* ---- ftpd_cmd_data.c ---- */
void ftpd_cmd_pasv(struct session_call *c);
void ftpd_cmd_epsv(struct session_call *c);
void ftpd_cmd_port(struct session_call *c);
void ftpd_cmd_eprt(struct session_call *c);

/* ---- ftpd_cmd_xfer.c ---- */
void ftpd_cmd_retr(struct session_call *c);
void ftpd_cmd_stor(struct session_call *c);
void ftpd_cmd_appe(struct session_call *c);
void ftpd_cmd_stou(struct session_call *c);
void ftpd_cmd_list(struct session_call *c);
void ftpd_cmd_nlst(struct session_call *c);
void ftpd_cmd_mlsd(struct session_call *c);

#endif
