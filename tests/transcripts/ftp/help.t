# HELP lists every verb of the command table and marks the unimplemented ones
S: 220 {*}
C: HELP
S: 214-The following commands are recognized (* = not implemented):
S:  ABOR   ACCT*  ALLO   APPE   AUTH   CDUP   CWD    DELE
S:  EPRT   EPSV   FEAT   HELP   HOST   LIST   MDTM   MKD
S:  MLSD   MLST   MODE   NLST   NOOP   OPTS   PASS   PASV
S:  PBSZ   PORT   PROT   PWD    QUIT   REIN*  REST   RETR
S:  RMD    RNFR   RNTO   SITE   SIZE   SMNT*  STAT   STOR
S:  STOU   STRU   SYST   TYPE   USER   XCUP   XCWD   XMKD
S:  XPWD   XRMD
S: 214 HELP <command> shows its syntax.
C: ACCT x
S: 502 ACCT not implemented.
C: REIN
S: 502 REIN not implemented.
C: QUIT
S: 221 Goodbye.
